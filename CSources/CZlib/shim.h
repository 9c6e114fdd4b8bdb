// zlib: gzip request bodies for flusher_otlp (Content-Encoding: gzip) and flusher_clickhouse.
#include <zlib.h>

// deflateInit2 and inflateInit2 are macros; Swift sees these functions instead.
static inline int tailcar_deflate_init_gzip(z_streamp stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}

static inline int tailcar_inflate_init_gzip(z_streamp stream) {
    return inflateInit2(stream, 15 + 16);
}
