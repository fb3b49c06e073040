/* fastembed SIMD layer "avx512vnni": the avx512 layer plus AVX-512 VNNI (Ice Lake, Sapphire Rapids,
 * AMD Zen 4 and later): the int8 index's integer dot products by vpdpbusd (impl/int8.h) instead of
 * vpmaddubsw. Everything else is the avx512 layer's code, so every float kernel gives the avx512
 * level's bits, and the integer sums are exact either way. A level of its own (not a run-time
 * check inside the avx512 level), so FASTEMBED_SIMD can force either and the tests run both. */
#define FE_LEVEL avx512vnni
#define FE_LEVEL_NAME "avx512vnni"
#define FV_I8_VNNI 1
#include "simd/vec_avx512.h"
