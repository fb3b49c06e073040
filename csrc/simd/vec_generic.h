/* fastembed SIMD layer "generic": portable C, 4 floats per vector (GCC/Clang vector extensions where
 * available, a plain struct elsewhere). Compiled on every architecture: it is what CPUs without a
 * dedicated level run, and the tests run it everywhere. No streaming stores.
 *
 * Every layer defines the same names (listed with their meaning in vec_undef.h); csrc/impl/ headers are written
 * against them. Lane order and reduction trees are those of impl/dot.h, whatever the width. */
#define FE_LEVEL generic
#define FE_LEVEL_NAME "generic"
#define FV_W 4
#define FV_ROWS 2
#define FV_PAIR_ROWS 1  /* rows per pass of the two-query kernel (2 x this accumulator sets) */
#define FV_TILE_R 1  /* the tiled kernel (impl/tile.h): rows x queries of 16-lane accumulators */
#define FV_TILE_C 2  /* in registers (8 vectors) */
#define FV_HAVE_STREAM 0

#ifndef FE_VEC_GENERIC_TYPES
#define FE_VEC_GENERIC_TYPES
#if defined(__GNUC__) || defined(__clang__)
typedef float fe_v4g __attribute__((vector_size(16)));
static inline fe_v4g fe_g_zero(void) { fe_v4g z = {0.0f, 0.0f, 0.0f, 0.0f}; return z; }
static inline fe_v4g fe_g_set1(float x) { fe_v4g v = {x, x, x, x}; return v; }
static inline fe_v4g fe_g_load(const float *p) { fe_v4g v; memcpy(&v, p, sizeof v); return v; }
static inline void fe_g_store(float *p, fe_v4g v) { memcpy(p, &v, sizeof v); }
static inline fe_v4g fe_g_add(fe_v4g a, fe_v4g b) { return a + b; }
static inline fe_v4g fe_g_mul(fe_v4g a, fe_v4g b) { return a * b; }
static inline float fe_g_lane(fe_v4g v, int l) { return v[l]; }
#else
typedef struct { float f[4]; } fe_v4g;
static inline fe_v4g fe_g_zero(void) { fe_v4g z = {{0.0f, 0.0f, 0.0f, 0.0f}}; return z; }
static inline fe_v4g fe_g_set1(float x) { fe_v4g v = {{x, x, x, x}}; return v; }
static inline fe_v4g fe_g_load(const float *p) { fe_v4g v; memcpy(v.f, p, sizeof v.f); return v; }
static inline void fe_g_store(float *p, fe_v4g v) { memcpy(p, v.f, sizeof v.f); }
static inline fe_v4g fe_g_add(fe_v4g a, fe_v4g b) { for (int l = 0; l < 4; l++) a.f[l] += b.f[l]; return a; }
static inline fe_v4g fe_g_mul(fe_v4g a, fe_v4g b) { for (int l = 0; l < 4; l++) a.f[l] *= b.f[l]; return a; }
static inline float fe_g_lane(fe_v4g v, int l) { return v.f[l]; }
#endif
/* n < 4 floats, the other lanes +0.0 */
static inline fe_v4g fe_g_load_part(const float *p, int n)
{
    float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    memcpy(t, p, (size_t)n * sizeof(float));
    return fe_g_load(t);
}
#endif

#define FV fe_v4g
/* keep v in a register: stops the compiler from folding one load into several instructions
 * as memory operands (a row read once per query instead of once) */
#define FV_PIN(v) ((void)0)
#define FV_ZERO() fe_g_zero()
#define FV_SET1(x) fe_g_set1(x)
#define FV_LOADU(p) fe_g_load(p)
#define FV_STOREU(p, v) fe_g_store((p), (v))
/* m floats for any int m (m <= 0: zeros, m >= FV_W: a full load); lanes past m read as +0.0 */
#define FV_LOAD_UPTO(p, m) ((m) >= 4 ? fe_g_load(p) : (m) <= 0 ? fe_g_zero() : fe_g_load_part((p), (m)))
#define FV_ADD(a, b) fe_g_add((a), (b))
#define FV_MUL(a, b) fe_g_mul((a), (b))
#define FV_STREAM(p, v) fe_g_store((p), (v))
#define FV_STREAM4(p, v) fe_g_store((p), (v))
#define FV_FENCE() ((void)0)

/* The 16-lane tree of impl/dot.h on one row held in four vectors (lanes 0-3, 4-7, 8-11, 12-15). */
FE_ALWAYS_INLINE float FE_FN(fv_reduce16)(const FV *acc)
{
    FV b0 = FV_ADD(acc[0], acc[2]), b1 = FV_ADD(acc[1], acc[3]);   /* l += l + 8 */
    FV c = FV_ADD(b0, b1);                                          /* l += l + 4 */
    float c0 = fe_g_lane(c, 0) + fe_g_lane(c, 2);                   /* l += l + 2 */
    float c1 = fe_g_lane(c, 1) + fe_g_lane(c, 3);
    return c0 + c1;                                                 /* l += l + 1 */
}

/* FV_ROWS rows at once (acc[r * 4 + j]): each row's tree, the same additions. */
FE_ALWAYS_INLINE void FE_FN(fv_reduce16_rows)(const FV *acc, float *out)
{
    for (int r = 0; r < FV_ROWS; r++)
        out[r] = FE_FN(fv_reduce16)(acc + r * 4);
}

/* Half-precision rows (csrc/fe_half.h): 4 stored halves -> 4 floats through the exact scalar
 * conversions (portable: the same bits on every compiler). */
#ifndef FE_VEC_G_HALF
#define FE_VEC_G_HALF
static inline FV fe_g_load_f16(const uint16_t *p)
{
    float t[4];
    for (int l = 0; l < 4; l++)
        t[l] = fe_f16_to_f32(fe_ldh(p + l));
    return fe_g_load(t);
}
static inline FV fe_g_load_bf16(const uint16_t *p)
{
    float t[4];
    for (int l = 0; l < 4; l++)
        t[l] = fe_bf16_to_f32(fe_ldh(p + l));
    return fe_g_load(t);
}
#endif
#define FV_LOADU_F16(p) fe_g_load_f16(p)
#define FV_LOADU_BF16(p) fe_g_load_bf16(p)
#ifndef FE_VEC_G_KEEP
#define FE_VEC_G_KEEP
static inline FV fe_g_keep_upto(FV v, int m)
{
    float t[4];
    fe_g_store(t, v);
    for (int l = 0; l < 4; l++)
        if (l >= m)
            t[l] = 0.0f;
    return fe_g_load(t);
}
#endif
/* v with lanes m.. set to +0.0 (any int m) */
#define FV_KEEP_UPTO(v, m) fe_g_keep_upto((v), (m))
