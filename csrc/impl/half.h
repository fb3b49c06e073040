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

/* The half scans' software prefetch: AVX2 prefetches into L2 (locality 2). With the float32
 * scans' non-temporal hint the AVX2 float16 scan of a 400000x300 table ran no faster than the
 * float32 one (one thread, standalone C: 28 ms against 12-14 ms with locality 1 or 2); the
 * AVX-512 level measured best with the non-temporal hint (13 ms against 16-17 ms). */
#if FV_W == 8
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
