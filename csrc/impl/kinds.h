/* fastembed: every storage kind's kernels at one SIMD level (see csrc/fe_kinds.h): the template
 * csrc/impl/kind.h instantiated once per kind, and the per-kind table the level's fe_ops holds.
 * Adding a kind: a block below (its element type and exact conversion) and a line in FE_KIND_TABLE. */

/* Half and int8 rows are prefetched into L2 (locality 2) at the AVX2 and AVX-512 levels: with the
 * float32 scans' non-temporal hint the AVX2 float16 scan of a 400000x300 table ran no faster than
 * the float32 one (one thread, standalone C: 28 ms against 12-14 ms); with locality 2, 1.9-2.2x
 * faster than float32 at both levels (paired medians, 1000000x100 and 400000x300). */
#if FV_W >= 8
#define FK_NARROW_PREFETCH(p) __builtin_prefetch((p), 0, 2)
#else
#define FK_NARROW_PREFETCH(p) FE_PREFETCH(p)
#endif

/* int8 -> float for levels whose layer has no vector conversion: exact, one element at a time. */
#ifndef FV_LOADU_I8
FE_ALWAYS_INLINE FV FE_FN(fk_load_i8)(const int8_t *p)
{
    float t[FV_W];
    for (int l = 0; l < FV_W; l++)
        t[l] = (float)p[l];
    return FV_LOADU(t);
}
#define FV_LOADU_I8(p) FE_FN(fk_load_i8)(p)
#endif

#define FK_KIND f32
#define FK_T float
#define FK_IS_F32 1
#define FK_SCALED 0
#define FK_LOADV(p) FV_LOADU(p)
#define FK_SCALAR(p) fe_ldf(p)
#define FK_PREFETCH(p) FE_PREFETCH(p)
#include "impl/kind.h"
#undef FK_KIND
#undef FK_T
#undef FK_IS_F32
#undef FK_SCALED
#undef FK_LOADV
#undef FK_SCALAR
#undef FK_PREFETCH

#define FK_KIND f16
#define FK_T uint16_t
#define FK_IS_F32 0
#define FK_SCALED 0
#define FK_LOADV(p) FV_LOADU_F16(p)
#define FK_SCALAR(p) fe_f16_to_f32(fe_ldh(p))
#define FK_PREFETCH(p) FK_NARROW_PREFETCH(p)
#include "impl/kind.h"
#undef FK_KIND
#undef FK_T
#undef FK_IS_F32
#undef FK_SCALED
#undef FK_LOADV
#undef FK_SCALAR
#undef FK_PREFETCH

#define FK_KIND bf16
#define FK_T uint16_t
#define FK_IS_F32 0
#define FK_SCALED 0
#define FK_LOADV(p) FV_LOADU_BF16(p)
#define FK_SCALAR(p) fe_bf16_to_f32(fe_ldh(p))
#define FK_PREFETCH(p) FK_NARROW_PREFETCH(p)
#include "impl/kind.h"
#undef FK_KIND
#undef FK_T
#undef FK_IS_F32
#undef FK_SCALED
#undef FK_LOADV
#undef FK_SCALAR
#undef FK_PREFETCH

/* int8, row-scaled: value = (float)code * scale[row] (one float32 multiply) */
#define FK_KIND i8
#define FK_T int8_t
#define FK_IS_F32 0
#define FK_SCALED 1
#define FK_LOADV(p) FV_LOADU_I8(p)
#define FK_SCALAR(p) ((float)*(p))
#define FK_PREFETCH(p) FK_NARROW_PREFETCH(p)
#include "impl/kind.h"
#undef FK_KIND
#undef FK_T
#undef FK_IS_F32
#undef FK_SCALED
#undef FK_LOADV
#undef FK_SCALAR
#undef FK_PREFETCH

#undef FK_NARROW_PREFETCH

#define FE_KIND_OPS(k) {                                   \
    .copy_row = FE_FN(FE_CAT(fe_kcopy_row, k)),            \
    .embed_row = FE_FN(FE_CAT(fe_kembed_row, k)),          \
    .dot = FE_FN(FE_CAT(fe_kdot, k)),                      \
    .row_norms = FE_FN(FE_CAT(fe_krow_norms, k)),          \
    .scan_rows = FE_FN(FE_CAT(fe_kscan_rows, k)) }
/* indexed by fe_kind (csrc/fe_kinds.h) */
#define FE_KIND_TABLE { FE_KIND_OPS(f32), FE_KIND_OPS(f16), FE_KIND_OPS(bf16), FE_KIND_OPS(i8) }
