/* fastembed: the storage kinds of a table's rows, one code each, shared by C, Cython and Python.
 *
 * A table stores its (V, D) rows as one kind and every kernel computes in float32: a stored value
 * becomes a float32 exactly as fastembed._dtypes (and fastembed.reference) says, then the float32
 * kernel's arithmetic runs in its order. So a table's lookups, embeddings, norms, scores and bags
 * equal, bit for bit, those of its float32 dequantisation (`table.astype("float32")`), at every SIMD
 * level.
 *
 *   kind   code  element    a value is                       notes
 *   f32    0     float      itself
 *   f16    1     uint16_t   IEEE binary16, upcast exactly     NaNs come out quiet (F16C's rule)
 *   bf16   2     uint16_t   the top 16 bits of a float32      upcast by a 16-bit shift
 *   i8     3     int8_t     (float)code * scale[row]          one float32 scale per row (row-scaled)
 *
 * The kernels of each kind are instantiated from one template (csrc/impl/kind.h) and reached as
 * `ops->kind[code].<operation>` (csrc/fe_ops.h). Adding a kind: an entry here, its loader in
 * csrc/impl/kinds.h, its vector load where a level has one (simd/vec_*.h, else the template's
 * scalar fallback), and its StorageDType in fastembed/_dtypes.py.
 */
#ifndef FE_KINDS_H
#define FE_KINDS_H

typedef enum {
    FE_KIND_F32 = 0,
    FE_KIND_F16 = 1,
    FE_KIND_BF16 = 2,
    FE_KIND_I8 = 3,
    FE_KIND_COUNT = 4
} fe_kind;

/* the names fastembed._dtypes uses, the bytes of one stored value, and whether rows carry a scale */
static const char *const fe_kind_names[FE_KIND_COUNT] = {"float32", "float16", "bfloat16", "int8"};
static const int fe_kind_itemsize[FE_KIND_COUNT] = {4, 2, 2, 1};
static const int fe_kind_scaled[FE_KIND_COUNT] = {0, 0, 0, 1};

#endif /* FE_KINDS_H */
