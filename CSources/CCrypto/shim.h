// OpenSSL (libssl + libcrypto): MD5, SHA-1/SHA-256 and HMAC for request signing, and the TLS client
// used by the HTTP transport. Never hand-rolled. The static inline adapters below exist because the
// OpenSSL names they wrap are function-like macros (or casted constants) that Swift cannot import.
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/md5.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

/// SSL_CTX_set_min_proto_version is a macro over SSL_CTX_ctrl.
static inline int ccrypto_ctx_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}

/// SSL_CTX_set_max_proto_version is a macro over SSL_CTX_ctrl (tests pin servers to one version).
static inline int ccrypto_ctx_set_max_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_max_proto_version(ctx, version);
}

/// SSL_set_tlsext_host_name (SNI) is a macro over SSL_ctrl with a casted pointer argument.
static inline int ccrypto_set_sni_host_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

/// BIO_set_mem_eof_return is a macro over BIO_ctrl; -1 makes an empty memory BIO mean "retry later".
static inline int ccrypto_bio_set_mem_eof_return(BIO *bio, int value) {
    return (int)BIO_set_mem_eof_return(bio, value);
}

/// SSL_OP_NO_RENEGOTIATION is built with a cast macro (SSL_OP_BIT) that Swift does not import.
static inline uint64_t ccrypto_op_no_renegotiation(void) {
    return SSL_OP_NO_RENEGOTIATION;
}
