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
