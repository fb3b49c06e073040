/* fastembed SIMD layer "neon": AArch64's baseline (every 64-bit Arm CPU: Apple Silicon, Graviton,
 * Ampere), 4 floats per vector, 32 registers: reductions transposed over four rows. No streaming
 * stores (plain stores; memcpy for copies). */
#define FE_LEVEL neon
#define FE_LEVEL_NAME "neon"
#define FV float32x4_t
#define FV_W 4
#define FV_ROWS 4
#define FV_PAIR_ROWS 2  /* rows per pass of the two-query kernel (2 x this accumulator sets) */
#define FV_TILE_R 2  /* the tiled kernel (impl/tile.h): rows x queries of 16-lane accumulators */
#define FV_TILE_C 3  /* in registers (24 vectors) */
#define FV_HAVE_STREAM 0

#ifndef FE_VEC_NEON_HELPERS
#define FE_VEC_NEON_HELPERS
static inline float32x4_t fe_neon_load_part(const float *p, int n)
{
    float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    memcpy(t, p, (size_t)n * sizeof(float));
    return vld1q_f32(t);
}
#endif

/* keep v in a register: stops the compiler from folding one load into several instructions
 * as memory operands (a row read once per query instead of once) */
#define FV_PIN(v) __asm__("" : "+w"(v))
#define FV_ZERO() vdupq_n_f32(0.0f)
#define FV_SET1(x) vdupq_n_f32(x)
#define FV_LOADU(p) vld1q_f32(p)
#define FV_STOREU(p, v) vst1q_f32((p), (v))
/* m floats for any int m (m <= 0: zeros, m >= FV_W: a full load); lanes past m read as +0.0 */
#define FV_LOAD_UPTO(p, m) ((m) >= 4 ? vld1q_f32(p) : (m) <= 0 ? vdupq_n_f32(0.0f) : fe_neon_load_part((p), (m)))
#define FV_ADD(a, b) vaddq_f32((a), (b))
#define FV_MUL(a, b) vmulq_f32((a), (b))
#define FV_STREAM(p, v) vst1q_f32((p), (v))
#define FV_STREAM4(p, v) vst1q_f32((p), (v))
#define FV_FENCE() ((void)0)

FE_ALWAYS_INLINE float FE_FN(fv_reduce16)(const FV *acc)
{
    float32x4_t c = vaddq_f32(vaddq_f32(acc[0], acc[2]), vaddq_f32(acc[1], acc[3]));   /* +8, +4 */
    float32x2_t d = vadd_f32(vget_low_f32(c), vget_high_f32(c));                        /* +2 */
    return vget_lane_f32(d, 0) + vget_lane_f32(d, 1);                                   /* +1 */
}

FE_ALWAYS_INLINE void FE_FN(fv_reduce16_rows)(const FV *acc, float *out)
{
    float32x4_t c[4];
    for (int r = 0; r < 4; r++)
        c[r] = vaddq_f32(vaddq_f32(acc[4 * r], acc[4 * r + 2]), vaddq_f32(acc[4 * r + 1], acc[4 * r + 3]));
    /* [a0 a1 b0 b1] + [a2 a3 b2 b3] (+2), then pairwise adds (+1): [a b c d] */
    float32x4_t zab = vaddq_f32(vcombine_f32(vget_low_f32(c[0]), vget_low_f32(c[1])),
                                vcombine_f32(vget_high_f32(c[0]), vget_high_f32(c[1])));
    float32x4_t zcd = vaddq_f32(vcombine_f32(vget_low_f32(c[2]), vget_low_f32(c[3])),
                                vcombine_f32(vget_high_f32(c[2]), vget_high_f32(c[3])));
    vst1q_f32(out, vpaddq_f32(zab, zcd));
}

/* Half-precision rows (csrc/fe_half.h): 4 stored halves -> 4 floats through the exact scalar
 * conversions (portable: the same bits on every compiler). */
#ifndef FE_VEC_NEON_HALF
#define FE_VEC_NEON_HALF
static inline FV fe_neon_load_f16(const uint16_t *p)
{
    float t[4];
    for (int l = 0; l < 4; l++)
        t[l] = fe_f16_to_f32(fe_ldh(p + l));
    return vld1q_f32(t);
}
static inline FV fe_neon_load_bf16(const uint16_t *p)
{
    float t[4];
    for (int l = 0; l < 4; l++)
        t[l] = fe_bf16_to_f32(fe_ldh(p + l));
    return vld1q_f32(t);
}
#endif
#define FV_LOADU_F16(p) fe_neon_load_f16(p)
#define FV_LOADU_BF16(p) fe_neon_load_bf16(p)
#ifndef FE_VEC_NEON_KEEP
#define FE_VEC_NEON_KEEP
static inline FV fe_neon_keep_upto(FV v, int m)
{
    float t[4];
    vst1q_f32(t, v);
    for (int l = 0; l < 4; l++)
        if (l >= m)
            t[l] = 0.0f;
    return vld1q_f32(t);
}
#endif
/* v with lanes m.. set to +0.0 (any int m) */
#define FV_KEEP_UPTO(v, m) fe_neon_keep_upto((v), (m))
/* 4 int8 values -> 4 floats, exact (widen twice, convert); the 4 bytes copied first (no read past them) */
#ifndef FE_VEC_NEON_I8
#define FE_VEC_NEON_I8
static inline float32x4_t fe_neon_load_i8(const int8_t *p)
{
    int8_t t[8] = {0};
    memcpy(t, p, 4);
    return vcvtq_f32_s32(vmovl_s16(vget_low_s16(vmovl_s8(vld1_s8(t)))));
}
#endif
#define FV_LOADU_I8(p) fe_neon_load_i8((const int8_t *)(p))
