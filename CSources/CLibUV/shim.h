// libuv, linked statically through the libuv-static pkg-config name (Debian ships libuv_a.a).
#include <uv.h>
