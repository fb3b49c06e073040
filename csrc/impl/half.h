/* fastembed kernels over half-precision rows (float16, bfloat16), instantiated once per SIMD level
 * and once per storage dtype (impl/half_kind.h, included twice). See csrc/fe_half.h for the
 * conversions and impl/dot.h, impl/norms.h, impl/rows.h, impl/topk.h for the float32 kernels these
 * mirror.
 *
 * The contract: a half row is first converted exactly to float32 (FV_LOADU_F16 / FV_LOADU_BF16),
 * then every kernel does the float32 kernel's arithmetic in the float32 kernel's order. So a half
 * table's lookups, embeddings, norms and scores equal, bit for bit, those of its float32 upcast
 * (`table.astype("float32")`) at every level; only the bytes read from memory are halved.
 */

/* The half scans' software prefetch: into L2 (locality 2) at the AVX2 and AVX-512 levels. With the
 * float32 scans' non-temporal hint the AVX2 float16 scan of a 400000x300 table ran no faster than
 * the float32 one (one thread, standalone C: 28 ms against 12-14 ms), and the AVX-512 one reached
 * 1.26-1.8x the float32 scan with two threads; with locality 2, 1.9-2.2x at both levels (paired
 * medians through Python, 1000000x100 and 400000x300). */
#if FV_W >= 8
#define FH_PREFETCH(p) __builtin_prefetch((p), 0, 2)
#else
#define FH_PREFETCH(p) FE_PREFETCH(p)
#endif

#define FH_KIND f16
#define FH_LOADU FV_LOADU_F16
#define FH_SCALAR fe_f16_to_f32
#include "impl/half_kind.h"
#undef FH_KIND
#undef FH_LOADU
#undef FH_SCALAR

#define FH_KIND bf16
#define FH_LOADU FV_LOADU_BF16
#define FH_SCALAR fe_bf16_to_f32
#include "impl/half_kind.h"
#undef FH_KIND
#undef FH_LOADU
#undef FH_SCALAR

#undef FH_PREFETCH
