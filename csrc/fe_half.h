/* fastembed: scalar conversions of the half-precision storage dtypes (float16, bfloat16) to and from
 * float32. Level-independent plain C; the SIMD layers (csrc/simd/vec_*.h: FV_LOADU_F16 /
 * FV_LOADU_BF16) convert FV_W elements at once and must give these bits.
 *
 * float16 -> float32 is exact (every half is a float). A NaN keeps its sign and payload and comes
 * out quiet (the quiet bit set), which is what the x86 F16C / AVX-512 conversion instructions do;
 * fastembed._dtypes does the same in numpy so that every level and the reference agree bit for bit.
 * bfloat16 -> float32 is a 16-bit shift of the bits (exact, NaN payloads kept as they are).
 * float32 -> bfloat16 rounds to nearest even; a NaN stays a (quiet) NaN of the same sign.
 */
#ifndef FE_HALF_H
#define FE_HALF_H

#include <stdlib.h>

#include "fe_common.h"

static inline float fe_bits_to_f32(uint32_t b)
{
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}

static inline uint32_t fe_f32_to_bits(float f)
{
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    return b;
}

static inline float fe_f16_to_f32(uint16_t h)
{
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
    if (exp == 0x1fu)  /* inf, or NaN made quiet (F16C's rule) */
        return fe_bits_to_f32(sign | 0x7f800000u | (mant << 13) | (mant ? 0x00400000u : 0u));
    if (exp == 0) {    /* zero or subnormal: mant * 2^-24, exact in float32 */
        float v = (float)mant * 5.9604644775390625e-08f;
        return fe_bits_to_f32(sign | fe_f32_to_bits(v));
    }
    return fe_bits_to_f32(sign | ((exp + 112u) << 23) | (mant << 13));
}

static inline float fe_bf16_to_f32(uint16_t h)
{
    return fe_bits_to_f32((uint32_t)h << 16);
}

static inline uint16_t fe_f32_to_bf16(float f)
{
    uint32_t b = fe_f32_to_bits(f);
    if ((b & 0x7fffffffu) > 0x7f800000u)  /* NaN: keep it NaN (a payload in the low bits could round to inf) */
        return (uint16_t)((b >> 16) | 0x0040u);
    b += 0x7fffu + ((b >> 16) & 1u);        /* round to nearest, ties to even; overflow carries to inf */
    return (uint16_t)(b >> 16);
}

/* float32 -> float16 bits, to nearest even (IEEE binary16: subnormals below 2^-14, inf from 65520
 * on, NaN kept NaN and made quiet) */
static inline uint16_t fe_f32_to_f16(float f)
{
    const uint32_t b = fe_f32_to_bits(f), sign = (b >> 16) & 0x8000u, ax = b & 0x7fffffffu;
    if (ax > 0x7f800000u)
        return (uint16_t)(sign | 0x7e00u | ((ax >> 13) & 0x3ffu));
    if (ax >= 0x477ff000u)  /* >= 65520 (65504 + half an ulp): inf */
        return (uint16_t)(sign | 0x7c00u);
    if (ax < 0x38800000u) {  /* below 2^-14: a multiple of 2^-24 (exact scaling, then rint to even) */
        const float v = fe_bits_to_f32(ax) * 16777216.0f;
        return (uint16_t)(sign | (uint32_t)rintf(v));
    }
    const uint32_t m = ax - 0x38000000u;  /* rebias the exponent 127 -> 15 */
    return (uint16_t)(sign | ((m + 0x0fffu + ((m >> 13) & 1u)) >> 13));
}

/* Alignment-safe load of one stored half (rows may sit at any even or odd byte address). */
static inline uint16_t fe_ldh(const uint16_t *p)
{
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

#endif /* FE_HALF_H */
