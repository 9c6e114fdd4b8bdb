// OpenSSL libcrypto: MD5, SHA-1/SHA-256 and HMAC for request signing. Never hand-rolled.
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/md5.h>
#include <openssl/sha.h>
