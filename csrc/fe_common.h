/* fastembed: types and portable helpers shared by every C header in csrc/.
 *
 * No Python.h, no numpy headers: these functions see pointers and 64-bit sizes only.
 * All sizes and index products are int64_t / ptrdiff_t so tables with more than 2**31 elements work.
 *
 * The hot loops (row copies, dot products, scans, norms, word2vec) are compiled once per SIMD level
 * (csrc/fe_simd.h) and called through the dispatch table of csrc/fe_ops.h. What stays here is
 * level-independent: typedefs, inlining and prefetch hints, alignment-safe scalar loads.
 *
 * Alignment: tables, ids and out= buffers come from users and may be unaligned views (a float32
 * array at an odd byte offset is legal numpy). Scalar code reads and writes such memory through
 * fe_ldf / fe_stf (memcpy: one plain load or store on every compiler, and no undefined behaviour).
 */
#ifndef FE_COMMON_H
#define FE_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <math.h>

#ifndef FE_BUILD_FLAGS
#define FE_BUILD_FLAGS ""
#endif

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF  /* the arithmetic order is part of the results: no fused multiply-add */
#endif

typedef ptrdiff_t fe_intp;

/* Small hot helpers that must be inlined into their (per-SIMD-level) callers, so accumulator arrays
 * indexed by constants stay in registers. */
#if defined(__GNUC__) || defined(__clang__)
#define FE_ALWAYS_INLINE static inline __attribute__((always_inline))
#else
#define FE_ALWAYS_INLINE static inline
#endif

/* A read prefetch hint (no fault even past the end of an array; nothing where the compiler has none) */
#if defined(__GNUC__) || defined(__clang__)
#define FE_PREFETCH(p) __builtin_prefetch((p), 0, 0)
#else
#define FE_PREFETCH(p) ((void)(p))
#endif

/* Prefetch one row of d floats (every cache line of it). Gathers of random rows are bound by memory
 * latency: asking for the rows a few ids ahead keeps several rows in flight (measured on a
 * (64, 512) gather from 50257 x 768, 2 threads: 12-16 ms -> 8 ms for embed, lookup alike). */
static inline void fe_prefetch_row(const float *row, fe_intp d)
{
    const char *p = (const char *)row, *end = (const char *)(row + d);
    for (; p < end; p += 64)
        FE_PREFETCH(p);
}

/* How many rows ahead a gather prefetches: about 4 KB of rows in flight, 1 to 64 rows. */
static inline fe_intp fe_prefetch_ahead(fe_intp d)
{
    fe_intp rows = d > 0 ? (4096 / 4 + d - 1) / d : 64;
    return rows < 1 ? 1 : (rows > 64 ? 64 : rows);
}

/* Alignment-safe scalar access to floats that may sit at any byte address. */
static inline float fe_ldf(const float *p)
{
    float v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void fe_stf(float *p, float v)
{
    memcpy(p, &v, sizeof v);
}

#endif /* FE_COMMON_H */
