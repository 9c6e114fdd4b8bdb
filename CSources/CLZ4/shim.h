// lz4 raw block compression: the SLS SDK's default wire compression.
#include <lz4.h>
