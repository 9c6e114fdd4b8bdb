// libdeflate: gzip request bodies for flusher_otlp (Content-Encoding: gzip) and flusher_clickhouse, in one
// call per body (whole-buffer DEFLATE, about twice zlib's speed at level 1).
#include <libdeflate.h>
