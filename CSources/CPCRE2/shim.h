// PCRE2 (8-bit): the reference the regex engine is tested and benchmarked against. Tests and bench only.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
