// zstd: request compression for the SLS flusher.
#include <zstd.h>
