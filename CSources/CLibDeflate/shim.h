// libdeflate: gzip request bodies for flusher_otlp (Content-Encoding: gzip) and flusher_clickhouse, in one
// call per body (whole-buffer DEFLATE; at level 1 about 2.6 times zlib's speed on log lines).
#include <libdeflate.h>
