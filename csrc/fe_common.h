/* fastembed: plain C11 inner loops shared by the Cython kernels.
 *
 * No Python.h, no numpy headers: these functions see pointers and 64-bit sizes only.
 * All sizes and index products are int64_t / ptrdiff_t so tables with more than 2**31 elements work.
 *
 * Floating-point order is fixed in the source (and the build uses -ffp-contract=off), so every
 * function returns the same bits on every x86-64 CPU whichever SIMD clone runs.
 */
#ifndef FE_COMMON_H
#define FE_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <math.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#define FE_HAVE_STREAM 1
#else
#define FE_HAVE_STREAM 0
#endif

#if defined(FE_TARGET_CLONES) && defined(__GNUC__)
/* Runtime dispatch: the loader picks the widest clone the CPU supports. */
#define FE_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define FE_CLONES
#endif

#ifndef FE_BUILD_FLAGS
#define FE_BUILD_FLAGS ""
#endif

typedef ptrdiff_t fe_intp;

/* ---------------------------------------------------------------- row copies */

/* Copy d floats; with stream != 0 and a 16-byte aligned destination, non-temporal stores skip the
 * read-for-ownership of output lines that will not be read again soon (large gathers). */
static inline void fe_copy_row(float *restrict dst, const float *restrict src, fe_intp d, int stream)
{
#if FE_HAVE_STREAM
    if (stream && (((uintptr_t)dst & 15u) == 0)) {
        fe_intp i = 0;
        for (; i + 16 <= d; i += 16) {
            __m128 a = _mm_loadu_ps(src + i), b = _mm_loadu_ps(src + i + 4);
            __m128 c = _mm_loadu_ps(src + i + 8), e = _mm_loadu_ps(src + i + 12);
            _mm_stream_ps(dst + i, a);
            _mm_stream_ps(dst + i + 4, b);
            _mm_stream_ps(dst + i + 8, c);
            _mm_stream_ps(dst + i + 12, e);
        }
        for (; i + 4 <= d; i += 4)
            _mm_stream_ps(dst + i, _mm_loadu_ps(src + i));
        for (; i < d; i++)
            dst[i] = src[i];
        return;
    }
#endif
    (void)stream;
    memcpy(dst, src, (size_t)d * sizeof(float));
}

/* Make streaming stores visible to other threads before the kernel returns. */
static inline void fe_stream_fence(void)
{
#if FE_HAVE_STREAM
    _mm_sfence();
#endif
}

static inline int fe_stream_supported(void) { return FE_HAVE_STREAM; }

#if FE_HAVE_STREAM && defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#include <immintrin.h>
#define FE_HAVE_AVX512_PATH 1
/* The streaming embed row with 512-bit registers, for CPUs that have them (checked at run time):
 * elementwise multiply then add, so every element is rounded exactly as in the scalar loop. */
__attribute__((target("avx512f")))
static void fe_embed_row_avx512(float *restrict dst, const float *restrict src, float scale,
                                const float *restrict pos, const float *restrict types, fe_intp d)
{
    fe_intp i = 0;
    for (; i < d && (((uintptr_t)(dst + i)) & 63u); i++)
        dst[i] = types ? (src[i] * scale + pos[i]) + types[i] : src[i] * scale + pos[i];
    const __m512 s16 = _mm512_set1_ps(scale);
    if (types != NULL) {
        for (; i + 16 <= d; i += 16) {
            __m512 v = _mm512_add_ps(_mm512_mul_ps(_mm512_loadu_ps(src + i), s16), _mm512_loadu_ps(pos + i));
            _mm512_stream_ps(dst + i, _mm512_add_ps(v, _mm512_loadu_ps(types + i)));
        }
    } else {
        for (; i + 16 <= d; i += 16)
            _mm512_stream_ps(dst + i, _mm512_add_ps(_mm512_mul_ps(_mm512_loadu_ps(src + i), s16),
                                                    _mm512_loadu_ps(pos + i)));
    }
    for (; i < d; i++)
        dst[i] = types ? (src[i] * scale + pos[i]) + types[i] : src[i] * scale + pos[i];
}

static inline int fe_cpu_avx512(void)
{
    static int known = -1;  /* benign race: every thread computes the same answer */
    if (known < 0) {
        __builtin_cpu_init();
        known = __builtin_cpu_supports("avx512f") ? 1 : 0;
    }
    return known;
}
#else
#define FE_HAVE_AVX512_PATH 0
#endif

/* dst = (src * scale + pos) (+ types): the embed row in one pass. With stream != 0 and a 16-byte
 * aligned destination, results go out with non-temporal stores (no read-for-ownership of output
 * lines). SSE multiply then add: the same two roundings, in the same order, as the scalar loop. */
static inline void fe_embed_row(float *restrict dst, const float *restrict src, float scale,
                                const float *restrict pos, const float *restrict types, fe_intp d,
                                int stream)
{
#if FE_HAVE_AVX512_PATH
    if (stream && fe_cpu_avx512()) {
        fe_embed_row_avx512(dst, src, scale, pos, types, d);
        return;
    }
#endif
#if FE_HAVE_STREAM
    if (stream && (((uintptr_t)dst & 15u) == 0)) {
        const __m128 s4 = _mm_set1_ps(scale);
        fe_intp i = 0;
        if (types != NULL) {
            for (; i + 4 <= d; i += 4) {
                __m128 v = _mm_add_ps(_mm_mul_ps(_mm_loadu_ps(src + i), s4), _mm_loadu_ps(pos + i));
                _mm_stream_ps(dst + i, _mm_add_ps(v, _mm_loadu_ps(types + i)));
            }
            for (; i < d; i++)
                dst[i] = (src[i] * scale + pos[i]) + types[i];
        } else {
            for (; i + 4 <= d; i += 4)
                _mm_stream_ps(dst + i, _mm_add_ps(_mm_mul_ps(_mm_loadu_ps(src + i), s4), _mm_loadu_ps(pos + i)));
            for (; i < d; i++)
                dst[i] = src[i] * scale + pos[i];
        }
        return;
    }
#endif
    (void)stream;
    if (types != NULL)
        for (fe_intp i = 0; i < d; i++)
            dst[i] = (src[i] * scale + pos[i]) + types[i];
    else
        for (fe_intp i = 0; i < d; i++)
            dst[i] = src[i] * scale + pos[i];
}

/* dst += src */
static inline void fe_acc_row(float *restrict dst, const float *restrict src, fe_intp d)
{
    for (fe_intp i = 0; i < d; i++)
        dst[i] += src[i];
}

/* dst += a * x */
static inline void fe_axpy(float *restrict dst, float a, const float *restrict x, fe_intp d)
{
    for (fe_intp i = 0; i < d; i++)
        dst[i] += a * x[i];
}

/* ---------------------------------------------------------------- dot products */

#define FE_LANES 16

/* Sum 16 lanes in a fixed tree: (l, l+8), (l, l+4), (l, l+2), (l, l+1). */
static inline float fe_reduce16(float *acc)
{
    for (int w = 8; w >= 1; w >>= 1)
        for (int l = 0; l < w; l++)
            acc[l] += acc[l + w];
    return acc[0];
}

/* Dot product with 16 independent lanes (element i goes to lane i % 16): the compiler vectorises it
 * without reassociation, and the result does not depend on the vector width. */
static inline float fe_dot(const float *restrict a, const float *restrict b, fe_intp d)
{
    float acc[FE_LANES] = {0};
    fe_intp i = 0;
    for (; i + FE_LANES <= d; i += FE_LANES)
        for (int l = 0; l < FE_LANES; l++)
            acc[l] += a[i + l] * b[i + l];
    for (int l = 0; i + l < d; l++)
        acc[l] += a[i + l] * b[i + l];
    return fe_reduce16(acc);
}

/* Four dot products of one row x against q0..q3 sharing the loads of x; each equals fe_dot. */
static inline void fe_dot4(const float *restrict x, const float *restrict q0, const float *restrict q1,
                           const float *restrict q2, const float *restrict q3, fe_intp d, float *out)
{
    float a0[FE_LANES] = {0}, a1[FE_LANES] = {0}, a2[FE_LANES] = {0}, a3[FE_LANES] = {0};
    fe_intp i = 0;
    for (; i + FE_LANES <= d; i += FE_LANES) {
        for (int l = 0; l < FE_LANES; l++) {
            float v = x[i + l];
            a0[l] += q0[i + l] * v;
            a1[l] += q1[i + l] * v;
            a2[l] += q2[i + l] * v;
            a3[l] += q3[i + l] * v;
        }
    }
    for (int l = 0; i + l < d; l++) {
        float v = x[i + l];
        a0[l] += q0[i + l] * v;
        a1[l] += q1[i + l] * v;
        a2[l] += q2[i + l] * v;
        a3[l] += q3[i + l] * v;
    }
    out[0] = fe_reduce16(a0);
    out[1] = fe_reduce16(a1);
    out[2] = fe_reduce16(a2);
    out[3] = fe_reduce16(a3);
}

/* Sum of squares in double: the inverse norm is then exact to float32 rounding. */
static inline double fe_sumsq_f64(const float *x, fe_intp d)
{
    double acc[4] = {0, 0, 0, 0};
    fe_intp i = 0;
    for (; i + 4 <= d; i += 4)
        for (int l = 0; l < 4; l++)
            acc[l] += (double)x[i + l] * (double)x[i + l];
    for (int l = 0; i + l < d; l++)
        acc[l] += (double)x[i + l] * (double)x[i + l];
    return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

#endif /* FE_COMMON_H */
