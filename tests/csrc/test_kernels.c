/* Plain-C tests of csrc/ (no Python): every SIMD level this CPU supports against scalar references
 * written here from the definitions (impl/dot.h, impl/norms.h), bit for bit, on random and
 * adversarial inputs. Built and run by tests/test_csrc.py natively and, cross-compiled, under
 * qemu-aarch64 (the neon level).
 *
 *   cc -O2 -std=c11 -ffp-contract=off -Icsrc tests/csrc/test_kernels.c -lm -o test_kernels && ./test_kernels
 *
 * Output: one line per level ("level avx2: 123 checks ok"), then "checksum <hex>": a hash of every
 * output of the generic level, so runs on two architectures can be compared for identical bits.
 * Exit status 0 when every check passed.
 *
 * Half-precision rows (float16, bfloat16): the scalar conversions against their definitions (every
 * float16), and every half kernel against the float32 kernel on the exactly upcast rows.
 *
 * NaN/inf semantics under test: NaN and inf propagate through dot products and norms as IEEE
 * arithmetic says (compared as "both NaN", payloads unspecified); top-k never keeps a NaN score;
 * word2vec never indexes its sigmoid tables with a non-finite or out-of-range dot product.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include "fe_simd.h"

static int failures = 0;
static long checks = 0;
static uint64_t checksum = 1469598103934665603ULL;  /* FNV-1a over the generic level's outputs */
static int hashing = 0;

#define CHECK(cond, ...) do { checks++; if (!(cond)) { failures++; if (failures < 40) { \
    printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); } } } while (0)

static void hash_bytes(const void *p, size_t n)
{
    if (!hashing)
        return;
    const unsigned char *c = (const unsigned char *)p;
    for (size_t i = 0; i < n; i++) {
        checksum ^= c[i];
        checksum *= 1099511628211ULL;
    }
}

/* floats with every NaN hashed as one pattern: the NaN an operation makes differs by architecture
 * (x86's default NaN has the sign bit set, Arm's does not) and payloads are unspecified */
static void hash_floats(const float *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        float v = x[i] != x[i] ? NAN : x[i];
        if (v != v) {
            uint32_t canon = 0x7fc00000u;
            hash_bytes(&canon, sizeof canon);
        } else {
            hash_bytes(&v, sizeof v);
        }
    }
}

/* ---------------------------------------------------------------- deterministic inputs */

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}
/* uniform in [-1, 1) with 24 random bits: the same floats on every platform */
static float rndf(void) { return (float)((int64_t)(rnd() >> 40) - (1 << 23)) / (float)(1 << 23); }

static void fill(float *x, int64_t n, int kind)
{
    for (int64_t i = 0; i < n; i++) {
        float v = rndf();
        switch (kind) {
        case 1: v = v * 1e-20f; break;                                  /* products underflow */
        case 2: v = (rnd() & 1) ? -0.0f : 0.0f; break;                 /* signed zeros only */
        case 3: v = v * 3e18f; break;                                   /* sums overflow to inf */
        case 4: v = (float)((int)(v * 4)) * 0.5f; break;               /* few values: exact ties */
        default: break;
        }
        x[i] = v;
    }
}

static int same_float(float a, float b)
{
    if (a != a || b != b)
        return a != a && b != b;
    return memcmp(&a, &b, sizeof a) == 0;  /* bits: +0.0 and -0.0 differ */
}

static int same_floats(const float *a, const float *b, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (!same_float(a[i], b[i]))
            return 0;
    return 1;
}

/* ---------------------------------------------------------------- scalar references */

/* The definition of impl/dot.h, one element at a time. */
static float ref_dot(const float *a, const float *b, int64_t d)
{
    float acc[16];
    for (int l = 0; l < 16; l++)
        acc[l] = 0.0f;
    for (int64_t i = 0; i < d; i++)
        acc[i % 16] = acc[i % 16] + a[i] * b[i];
    for (int w = 8; w >= 1; w >>= 1)
        for (int l = 0; l < w; l++)
            acc[l] = acc[l] + acc[l + w];
    return acc[0];
}

static double ref_sumsq(const float *x, int64_t d)
{
    double acc[16];
    for (int l = 0; l < 16; l++)
        acc[l] = 0.0;
    for (int64_t i = 0; i < d; i++)
        acc[i % 16] = acc[i % 16] + (double)x[i] * (double)x[i];
    for (int w = 8; w >= 1; w >>= 1)
        for (int l = 0; l < w; l++)
            acc[l] = acc[l] + acc[l + w];
    return acc[0];
}

/* top-k by brute force: candidates sorted by (score desc, id asc), NaN never kept */
typedef struct { float s; int64_t id; } cand;
static int cand_cmp(const void *x, const void *y)
{
    const cand *a = (const cand *)x, *b = (const cand *)y;
    if (a->s != b->s)
        return a->s > b->s ? -1 : 1;
    return a->id < b->id ? -1 : (a->id > b->id);
}

static void ref_topk(const fe_topk_args *a, const float *scores_of_rows, int64_t r0, int64_t r1, int64_t q,
                     float *out_s, int64_t *out_i)
{
    cand *c = (cand *)malloc(sizeof(cand) * (size_t)(r1 - r0 + 1));
    int64_t n = 0;
    for (int64_t r = r0; r < r1; r++) {
        float s = scores_of_rows[r - r0];
        if (s != s)
            continue;
        if (a->mask && !a->mask[r])
            continue;
        if (fe_is_excluded(a, q, r))
            continue;
        c[n].s = s;
        c[n].id = r;
        n++;
    }
    qsort(c, (size_t)n, sizeof(cand), cand_cmp);
    for (int64_t j = 0; j < a->k; j++) {
        out_s[j] = j < n ? c[j].s : -INFINITY;
        out_i[j] = j < n ? c[j].id : FE_EMPTY_ID;
    }
    free(c);
}

/* ---------------------------------------------------------------- the checks of one level */

static const int DIMS[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 23, 31, 32, 33, 48, 63, 100, 129, 300, 768};
#define NDIMS ((int)(sizeof DIMS / sizeof DIMS[0]))

static void check_dot_norms(const fe_ops *o)
{
    float a[800], b[800], rows[9 * 800];
    for (int t = 0; t < NDIMS; t++) {
        int64_t d = DIMS[t];
        for (int kind = 0; kind < 5; kind++) {
            fill(a, d, kind);
            fill(b, d, kind == 2 ? 2 : (kind == 3 ? 3 : 0));
            float got = o->dot(a, b, d), want = ref_dot(a, b, d);
            CHECK(same_float(got, want), "%s dot d=%lld kind=%d: %a vs %a", o->name, (long long)d, kind, got, want);
            hash_floats(&got, 1);
            double ss = o->sumsq(a, d), rss = ref_sumsq(a, d);
            CHECK(memcmp(&ss, &rss, sizeof ss) == 0, "%s sumsq d=%lld kind=%d", o->name, (long long)d, kind);
            hash_bytes(&ss, sizeof ss);
        }
        /* NaN and inf in the input propagate */
        if (d > 0) {
            fill(a, d, 0);
            fill(b, d, 0);
            a[d - 1] = NAN;
            CHECK(o->dot(a, b, d) != o->dot(a, b, d), "%s dot with NaN d=%lld", o->name, (long long)d);
            a[d - 1] = INFINITY;
            b[d - 1] = 1.0f;
            CHECK(same_float(o->dot(a, b, d), ref_dot(a, b, d)), "%s dot with inf d=%lld", o->name, (long long)d);
        }
        /* norms of several rows, inverse and plain; a zero row */
        fill(rows, 9 * d, 0);
        if (d > 0)
            memset(rows + 4 * d, 0, sizeof(float) * (size_t)d);
        float out[9], want[9];
        for (int inv = 0; inv < 2; inv++) {
            o->kind[FE_KIND_F32].row_norms(rows, NULL, d, 0, 9, out, !inv);
            for (int r = 0; r < 9; r++) {
                double ss = ref_sumsq(rows + r * d, d);
                want[r] = inv ? (ss > 0 ? (float)(1.0 / sqrt(ss)) : 0.0f) : (float)sqrt(ss);
            }
            CHECK(same_floats(out, want, 9), "%s row_norms d=%lld inverse=%d", o->name, (long long)d, inv);
            hash_floats(out, 9);
        }
    }
}

static void check_rows(const fe_ops *o)
{
    /* unaligned sources and destinations: offsets of 1..3 floats, and of 1 byte */
    static float buf_src[4 * 800 + 64], buf_pos[800 + 64], buf_typ[800 + 64], out[800 + 64], want[800 + 64];
    for (int t = 0; t < NDIMS; t++) {
        int64_t d = DIMS[t];
        for (int off = 0; off < 4; off++) {
            for (int stream = 0; stream < 2; stream++) {
                float *src = buf_src + off, *pos = buf_pos + (off + 1) % 4, *typ = buf_typ + (off + 2) % 4;
                float *dst = out + off;
                fill(src, d, off == 3 ? 1 : 0);
                fill(pos, d, 0);
                fill(typ, d, 0);
                const float scale = 27.712812921102035f;
                for (int with_types = 0; with_types < 2; with_types++) {
                    for (int64_t i = 0; i < d; i++)
                        want[i] = with_types ? (src[i] * scale + pos[i]) + typ[i] : src[i] * scale + pos[i];
                    o->kind[FE_KIND_F32].embed_row(dst, src, 1.0f, scale, pos, with_types ? typ : NULL, d, stream);
                    o->stream_fence();
                    CHECK(same_floats(dst, want, d), "%s embed_row d=%lld off=%d stream=%d types=%d", o->name,
                          (long long)d, off, stream, with_types);
                    hash_floats(dst, d);
                }
                o->kind[FE_KIND_F32].copy_row(dst, src, 1.0f, d, stream);
                o->stream_fence();
                CHECK(same_floats(dst, src, d), "%s copy_row d=%lld off=%d stream=%d", o->name, (long long)d, off, stream);
                memcpy(want, dst, sizeof(float) * (size_t)d);
                for (int64_t i = 0; i < d; i++)
                    want[i] = want[i] + 0.375f * pos[i];
                o->axpy(dst, 0.375f, pos, d);
                CHECK(same_floats(dst, want, d), "%s axpy d=%lld", o->name, (long long)d);
                for (int64_t i = 0; i < d; i++)
                    want[i] = want[i] + typ[i];
                o->acc_row(dst, typ, d);
                CHECK(same_floats(dst, want, d), "%s acc_row d=%lld", o->name, (long long)d);
                hash_floats(dst, d);
            }
        }
        /* a destination at an odd byte address: no vector alignment is possible */
        if (d > 0) {
            unsigned char raw[4 * 800 + 16];
            float *dst = (float *)(void *)(raw + 1);
            fill(buf_src, d, 0);
            o->kind[FE_KIND_F32].copy_row(dst, buf_src, 1.0f, d, 1);
            o->stream_fence();
            CHECK(memcmp(raw + 1, buf_src, sizeof(float) * (size_t)d) == 0, "%s copy_row to an odd address", o->name);
        }
    }
}

static void check_segment(const fe_ops *o)
{
    enum { N = 40, U = 7, D = 19 };
    float grad[N * D], out[U * D], want[U * D], scale[U];
    int64_t order[N], starts[U + 1];
    fill(grad, N * D, 0);
    for (int i = 0; i < N; i++)
        order[i] = (i * 17) % N;
    for (int u = 0; u <= U; u++)
        starts[u] = u * N / U;
    for (int u = 0; u < U; u++)
        scale[u] = 1.0f / (float)(u + 1);
    for (int sc = 0; sc < 2; sc++) {
        for (int u = 0; u < U; u++)
            for (int d = 0; d < D; d++) {
                float s = sc ? grad[order[starts[u]] * D + d] * scale[u] : grad[order[starts[u]] * D + d];
                for (int64_t j = starts[u] + 1; j < starts[u + 1]; j++)
                    s = sc ? s + scale[u] * grad[order[j] * D + d] : s + grad[order[j] * D + d];
                want[u * D + d] = s;
            }
        o->segment_sum(grad, order, starts, 0, U, D, sc ? scale : NULL, out);
        CHECK(same_floats(out, want, U * D), "%s segment_sum scale=%d", o->name, sc);
        hash_floats(out, U * D);
    }
}

static void check_topk(const fe_ops *o)
{
    enum { V = 203, QMAX = 5, KMAX = 250 };
    static float table[V * 800], queries[QMAX * 800], inv[V], dots[V], hs[QMAX * KMAX], ws[KMAX], rdots[QMAX][V];
    static int64_t hi[QMAX * KMAX], wi[KMAX];
    static uint8_t mask[V];
    const int64_t excl_ptr[QMAX + 1] = {0, 2, 2, 5, 5, 6}, excl[6] = {3, 150, 0, 1, 202, 7};
    const int64_t ks[] = {1, 10, 203, 250};
    static const int TOPK_DIMS[] = {0, 1, 3, 4, 8, 15, 16, 17, 31, 33, 100, 300};
    for (int t = 0; t < (int)(sizeof TOPK_DIMS / sizeof TOPK_DIMS[0]); t++) {
        int64_t D = TOPK_DIMS[t];
        for (int kind = 0; kind < 5; kind += 4) {  /* random, and few distinct values (ties) */
            fill(table, V * D, kind);
            for (int r = 0; r < 8; r++)  /* duplicate rows: exact ties, broken by the smaller id */
                memcpy(table + (V - 1 - r) * D, table + r * D, sizeof(float) * (size_t)D);
            if (D > 1)
                table[5 * D + 1] = NAN;  /* row 5 scores NaN: never kept */
            fill(queries, QMAX * D, 0);
            o->kind[FE_KIND_F32].row_norms(table, NULL, D, 0, V, inv, 0);
            for (int r = 0; r < V; r++)
                mask[r] = (uint8_t)((r % 3) != 1);
            for (int j = 0; j < QMAX; j++)
                for (int r = 0; r < V; r++)
                    rdots[j][r] = ref_dot(table + r * D, queries + j * D, D);
            for (int variant = 0; variant < 4; variant++) {
                for (int ki = 0; ki < 4; ki++) {
                    fe_topk_args a = {.table = table, .rows = table, .scales = NULL, .D = D,
                                      .inv = (variant & 1) ? inv : NULL, .mask = (variant & 2) ? mask : NULL,
                                      .excl_ptr = variant == 3 ? excl_ptr : NULL, .excl = variant == 3 ? excl : NULL,
                                      .k = ks[ki]};
                    const int64_t k = ks[ki];
                    for (int nq = 1; nq <= QMAX; nq += 4) {
                        for (int64_t j = 0; j < nq * k; j++)
                            fe_heap_init(hs + j, hi + j, 1);
                        for (int j = 0; j < nq; j++)
                            fe_heap_init(hs + j * k, hi + j * k, k);
                        /* two ranges, as two threads would: the heaps are merged as they come */
                        o->kind[FE_KIND_F32].scan_rows(&a, queries, 0, nq, 0, 77, hs, hi);
                        o->kind[FE_KIND_F32].scan_rows(&a, queries, 0, nq, 77, V, hs, hi);
                        for (int j = 0; j < nq; j++) {
                            fe_heap_sort(hs + j * k, hi + j * k, k);
                            for (int r = 0; r < V; r++)
                                dots[r] = a.inv ? rdots[j][r] * inv[r] : rdots[j][r];
                            ref_topk(&a, dots, 0, V, j, ws, wi);
                            CHECK(same_floats(hs + j * k, ws, k) && memcmp(hi + j * k, wi, sizeof(int64_t) * (size_t)k) == 0,
                                  "%s scan_rows D=%lld kind=%d variant=%d k=%lld nq=%d q=%d", o->name, (long long)D,
                                  kind, variant, (long long)k, nq, j);
                            hash_floats(hs + j * k, k);
                            hash_bytes(hi + j * k, sizeof(int64_t) * (size_t)k);
                        }
                    }
                    /* merging precomputed dot products (the GEMM path) gives the same answer */
                    for (int r = 0; r < V; r++)
                        dots[r] = rdots[0][r];
                    fe_heap_init(hs, hi, k);
                    o->merge_scores(&a, dots, 100, 0, 0, hs, hi);
                    o->merge_scores(&a, dots + 100, V - 100, 100, 0, hs, hi);
                    fe_heap_sort(hs, hi, k);
                    for (int r = 0; r < V; r++)
                        dots[r] = a.inv ? dots[r] * inv[r] : dots[r];
                    ref_topk(&a, dots, 0, V, 0, ws, wi);
                    CHECK(same_floats(hs, ws, k) && memcmp(hi, wi, sizeof(int64_t) * (size_t)k) == 0,
                          "%s merge_scores D=%lld variant=%d k=%lld", o->name, (long long)D, variant, (long long)k);
                }
            }
        }
    }
    /* analogies from per-word dot products */
    {
        enum { N = 97 };
        float Sa[N], Sb[N], Sc[N], comb[N], buf[N];
        fill(Sa, N, 0);
        fill(Sb, N, 0);
        fill(Sc, N, 4);
        for (int i = 0; i < N; i++)
            comb[i] = ((Sb[i] - Sa[i]) + Sc[i]) * 1.25f;
        fe_topk_args a = {.table = table, .rows = table, .D = 1, .k = 7};
        fe_heap_init(hs, hi, 7);
        o->merge_combined(&a, Sa, Sb, Sc, 1.25f, N, 0, 0, hs, hi, buf);
        fe_heap_sort(hs, hi, 7);
        ref_topk(&a, comb, 0, N, 0, ws, wi);
        CHECK(same_floats(hs, ws, 7) && memcmp(hi, wi, sizeof(int64_t) * 7) == 0, "%s merge_combined", o->name);
        hash_floats(hs, 7);
    }
}

/* ---------------------------------------------------------------- half-precision rows */

/* float16 -> float from the definition: (-1)^s * 2^(e-15) * (1 + m/1024), subnormals 2^-14 * m/1024;
 * NaNs come out quiet with the payload kept (F16C's rule) */
static float ref_f16(uint16_t h)
{
    int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
    float v;
    if (e == 31) {
        uint32_t b = ((uint32_t)s << 31) | 0x7f800000u | ((uint32_t)m << 13) | (m ? 0x00400000u : 0u);
        memcpy(&v, &b, sizeof v);
        return v;
    }
    v = e ? ldexpf(1.0f + (float)m / 1024.0f, e - 15) : ldexpf((float)m / 1024.0f, -14);
    return s ? -v : v;
}

/* random half bits: mostly values near [-1, 1], with zeros, subnormals, infinities and NaNs */
static void fill_half(uint16_t *x, int64_t n, int bf)
{
    for (int64_t i = 0; i < n; i++) {
        uint16_t h = (uint16_t)rnd();
        int c = (int)(rnd() % 16);
        if (c < 12)  /* exponent near 1: the usual values */
            h = bf ? (uint16_t)((h & 0x807fu) | ((uint16_t)(120 + rnd() % 10) << 7))
                   : (uint16_t)((h & 0x83ffu) | ((uint16_t)(10 + rnd() % 8) << 10));
        else if (c == 12)
            h &= bf ? 0x807fu : 0x83ffu;  /* zero or subnormal */
        x[i] = h;
    }
}

static void check_half(const fe_ops *o)
{
    /* the scalar conversions: every float16 against the definition; bfloat16 rounding */
    for (uint32_t h = 0; h < 65536; h++) {
        float a = fe_f16_to_f32((uint16_t)h), b = ref_f16((uint16_t)h);
        checks++;
        if (memcmp(&a, &b, sizeof a) != 0)
            CHECK(0, "fe_f16_to_f32(0x%04x)", (unsigned)h);
    }
    CHECK(fe_f32_to_bf16(1.0f + 0x1p-8f) == 0x3f80, "bf16 tie rounds to even (down)");
    CHECK(fe_f32_to_bf16(1.0f + 3 * 0x1p-8f) == 0x3f82, "bf16 tie rounds to even (up)");
    CHECK(fe_f32_to_bf16(3.4e38f) == 0x7f80, "bf16 overflow rounds to inf");
    CHECK((fe_f32_to_bf16(NAN) & 0x7fc0) == 0x7fc0, "bf16 keeps NaN");
    {
        uint32_t b = 0x7f800001u;  /* a NaN whose payload would round into the exponent */
        float f;
        memcpy(&f, &b, sizeof f);
        CHECK(fe_f32_to_bf16(f) == 0x7fc0, "bf16 NaN with a low payload stays NaN: 0x%04x", fe_f32_to_bf16(f));
    }

    enum { V = 61, DMAX = 300, QN = 3, K = 10 };
    static uint16_t hb[V * DMAX + 8];
    static float up[V * DMAX], got[DMAX + 8], want[DMAX + 8], pos[DMAX], typ[DMAX], q[QN * DMAX];
    static float inv[V], n1[V], n2[V], hs1[QN * K], hs2[QN * K];
    static int64_t hi1[QN * K], hi2[QN * K];
    static uint8_t mask[V];
    static const int dims[] = {1, 3, 7, 8, 15, 16, 17, 33, 100, 300};
    for (int bf = 0; bf < 2; bf++) {
        for (int t = 0; t < (int)(sizeof dims / sizeof dims[0]); t++) {
            const int64_t D = dims[t];
            fill_half(hb, V * D + 8, bf);
            for (int64_t i = 0; i < V * D; i++)
                up[i] = bf ? fe_bf16_to_f32(hb[i]) : fe_f16_to_f32(hb[i]);
            fill(pos, D, 0);
            fill(typ, D, 0);
            fill(q, QN * D, 0);
            /* copies and embeddings at odd source offsets and unaligned destinations, streamed or not */
            for (int off = 0; off < 3; off++)
                for (int stream = 0; stream < 2; stream++) {
                    const uint16_t *src = hb + off;
                    float ref[DMAX];
                    for (int64_t i = 0; i < D; i++)
                        ref[i] = bf ? fe_bf16_to_f32(src[i]) : fe_f16_to_f32(src[i]);
                    o->kind[bf ? FE_KIND_BF16 : FE_KIND_F16].copy_row(got + off, src, 1.0f, D, stream);
                    o->stream_fence();
                    CHECK(same_floats(got + off, ref, D), "%s copy_row_%s D=%lld off=%d stream=%d", o->name,
                          bf ? "bf16" : "f16", (long long)D, off, stream);
                    hash_floats(got + off, D);
                    for (int ty = 0; ty < 2; ty++) {
                        o->kind[bf ? FE_KIND_BF16 : FE_KIND_F16].embed_row(got + off, src, 1.0f, 1.5f, pos, ty ? typ : NULL, D, stream);
                        o->kind[FE_KIND_F32].embed_row(want, ref, 1.0f, 1.5f, pos, ty ? typ : NULL, D, 0);
                        o->stream_fence();
                        CHECK(same_floats(got + off, want, D), "%s embed_row_%s D=%lld off=%d", o->name,
                              bf ? "bf16" : "f16", (long long)D, off);
                        hash_floats(got + off, D);
                    }
                }
            /* dot products, norms and scans equal the float32 kernels on the upcast rows */
            for (int r = 0; r < V; r++) {
                float a = o->kind[bf ? FE_KIND_BF16 : FE_KIND_F16].dot(hb + r * D, 1.0f, q, D), b = ref_dot(up + r * D, q, D);
                CHECK(same_float(a, b), "%s dot_%s D=%lld row %d", o->name, bf ? "bf16" : "f16", (long long)D, r);
            }
            for (int want_norm = 0; want_norm < 2; want_norm++) {
                o->kind[bf ? FE_KIND_BF16 : FE_KIND_F16].row_norms(hb, NULL, D, 0, V, n1, want_norm);
                o->kind[FE_KIND_F32].row_norms(up, NULL, D, 0, V, n2, want_norm);
                CHECK(same_floats(n1, n2, V), "%s row_norms_%s D=%lld", o->name, bf ? "bf16" : "f16", (long long)D);
                hash_floats(n1, V);
            }
            o->kind[FE_KIND_F32].row_norms(up, NULL, D, 0, V, inv, 0);
            for (int r = 0; r < V; r++)
                mask[r] = (uint8_t)(r % 5 != 2);
            for (int variant = 0; variant < 2; variant++)
                for (int nq = 1; nq <= QN; nq += 2) {
                    fe_topk_args a = {.table = up, .rows = hb, .D = D, .inv = inv, .mask = variant ? mask : NULL, .k = K};
                    fe_topk_args a32 = a;
                    a32.rows = up;
                    for (int j = 0; j < nq; j++) {
                        fe_heap_init(hs1 + j * K, hi1 + j * K, K);
                        fe_heap_init(hs2 + j * K, hi2 + j * K, K);
                    }
                    o->kind[bf ? FE_KIND_BF16 : FE_KIND_F16].scan_rows(&a, q, 0, nq, 0, 29, hs1, hi1);
                    o->kind[bf ? FE_KIND_BF16 : FE_KIND_F16].scan_rows(&a, q, 0, nq, 29, V, hs1, hi1);
                    o->kind[FE_KIND_F32].scan_rows(&a32, q, 0, nq, 0, V, hs2, hi2);
                    for (int j = 0; j < nq; j++) {
                        fe_heap_sort(hs1 + j * K, hi1 + j * K, K);
                        fe_heap_sort(hs2 + j * K, hi2 + j * K, K);
                    }
                    CHECK(same_floats(hs1, hs2, nq * K) && memcmp(hi1, hi2, sizeof(int64_t) * (size_t)(nq * K)) == 0,
                          "%s scan_rows_%s D=%lld nq=%d variant=%d", o->name, bf ? "bf16" : "f16", (long long)D, nq,
                          variant);
                    hash_floats(hs1, nq * K);
                    hash_bytes(hi1, sizeof(int64_t) * (size_t)(nq * K));
                }
        }
    }
}

/* ---------------------------------------------------------------- word2vec */

#define W2V_V 50
typedef struct {
    float syn0[W2V_V * 64], syn1[W2V_V * 64];
    int64_t kept, nonfinite;
    double loss;
} w2v_result;

/* sigmoid tables with one NaN guard entry past the end: reading entry SIZE would poison the model */
static float exp_t[FE_EXP_TABLE_SIZE + 1], logsig_t[FE_EXP_TABLE_SIZE + 1];

static void run_w2v(const fe_ops *o, int64_t D, float alpha, float init, int planted, w2v_result *res)
{
    static uint32_t prob[W2V_V];
    static int32_t alias[W2V_V], words[400], buf[401];
    static float neu1e[65];
    uint64_t saved = rng_state;
    rng_state = 0x1234567ULL + (uint64_t)D;
    for (int i = 0; i < W2V_V; i++) {
        prob[i] = 0xFFFFFFFFu;
        alias[i] = i;
    }
    for (int i = 0; i < 400; i++)
        words[i] = (int32_t)(rnd() % W2V_V);
    fill(res->syn0, W2V_V * D, 0);
    fill(res->syn1, W2V_V * D, 0);
    for (int64_t i = 0; i < W2V_V * D; i++) {
        res->syn0[i] *= init;
        res->syn1[i] *= init;
    }
    if (planted && D > 0) {
        /* dot(syn0[w], syn1[w]) just below MAX_EXP: (f + 6) * (1000 / 12) rounds to 1000.0f */
        for (int w = 0; w < W2V_V; w++) {
            memset(res->syn0 + w * D, 0, sizeof(float) * (size_t)D);
            memset(res->syn1 + w * D, 0, sizeof(float) * (size_t)D);
            res->syn0[w * D] = 5.9999995f;
            res->syn1[w * D] = 1.0f;
        }
    }
    fe_w2v_model m = {res->syn0, res->syn1, D, W2V_V, NULL, prob, alias, 3, 4, exp_t, logsig_t, 0};
    res->kept = 0;
    res->nonfinite = 0;
    res->loss = 0.0;
    for (int s = 0; s < 8; s++)
        res->kept += o->w2v_sentence(&m, words + s * 50, 50, alpha, fe_mix(77 + (uint64_t)s), buf, neu1e,
                                     &res->loss, &res->nonfinite);
    rng_state = saved;
}

static void check_w2v(const fe_ops *o, const fe_ops *base)
{
    static w2v_result got, want;
    static const int64_t dims[] = {1, 7, 16, 19, 32, 64};
    for (int t = 0; t < 6; t++) {
        int64_t D = dims[t];
        for (int c = 0; c < 3; c++) {
            float alpha = c == 2 ? 1e30f : 0.5f, init = c == 1 ? 8.0f : 0.5f;  /* |f| past 6; diverging */
            run_w2v(o, D, alpha, init, 0, &got);
            run_w2v(base, D, alpha, init, 0, &want);
            CHECK(got.kept == want.kept && got.nonfinite == want.nonfinite &&
                  same_floats(got.syn0, want.syn0, W2V_V * D) && same_floats(got.syn1, want.syn1, W2V_V * D) &&
                  (got.loss == want.loss || (got.loss != got.loss && want.loss != want.loss)),
                  "%s w2v_sentence D=%lld case=%d differs from %s", o->name, (long long)D, c, base->name);
            if (c == 2)
                CHECK(got.nonfinite > 0, "%s w2v: a diverging run reports non-finite dot products", o->name);
            else
                CHECK(got.nonfinite == 0, "%s w2v: no non-finite dot product expected", o->name);
            hash_floats(got.syn0, W2V_V * D);
            hash_floats(got.syn1, W2V_V * D);
        }
        /* the dot product just below MAX_EXP must not read the guard entry (index SIZE) */
        run_w2v(o, D, 0.025f, 1.0f, 1, &got);
        int finite = 1;
        for (int64_t i = 0; i < W2V_V * D; i++)
            finite &= isfinite(got.syn0[i]) && isfinite(got.syn1[i]);
        CHECK(finite && isfinite(got.loss), "%s w2v: a dot product just below MAX_EXP read past the sigmoid table (D=%lld)",
              o->name, (long long)D);
    }
    /* the index itself, at the edge */
    CHECK(fe_sig_index(5.9999995f) == FE_EXP_TABLE_SIZE - 1, "fe_sig_index(5.9999995) = %d", fe_sig_index(5.9999995f));
    CHECK(fe_sig_index(-5.9999995f) == 0, "fe_sig_index(-5.9999995) = %d", fe_sig_index(-5.9999995f));
}

/* int8 index quantisation (impl/int8.h): codes, code sums, scales and the float64 sums equal the
 * generic level's bit for bit (every level keeps the scalar loop's 16-lane order), and the codes
 * are rint(x * 127 / max|x|); zero, NaN and inf rows get zero codes. */
static void check_i8_quantize(const fe_ops *o, const fe_ops *base)
{
    enum { R = 19 };
    static const int QD[] = {1, 3, 4, 15, 16, 17, 31, 45, 100, 300, 1100};
    for (int t = 0; t < (int)(sizeof QD / sizeof QD[0]); t++) {
        int64_t d = QD[t], G = (d + 3) / 4, nbytes = 2 * 16 * 4 * G;  /* two blocks of 16 rows */
        float *x = malloc(sizeof(float) * (size_t)(R * d));
        int8_t *c1 = calloc((size_t)nbytes, 1), *c2 = calloc((size_t)nbytes, 1);
        int32_t s1[32] = {0}, s2[32] = {0};
        float sc1[R], sc2[R];
        double st1[3 * R], st2[3 * R];
        for (int r = 0; r < R; r++) {
            fill(x + r * d, d, r % 4);
            for (int64_t i = 0; i < d; i++)
                x[r * d + i] *= (float)(1 << (r % 7)) * 0.37f;
        }
        memset(x + 2 * d, 0, sizeof(float) * (size_t)d);  /* a zero row */
        x[3 * d + d / 2] = NAN;                             /* NaN among finite values */
        x[4 * d] = INFINITY;
        x[5 * d + d - 1] = -INFINITY;
        o->i8_quantize(x, d, 0, R, c1, s1, sc1, st1);
        base->i8_quantize(x, d, 0, R, c2, s2, sc2, st2);
        CHECK(memcmp(c1, c2, (size_t)nbytes) == 0 && memcmp(s1, s2, sizeof s1) == 0 &&
              memcmp(sc1, sc2, sizeof sc1) == 0 && memcmp(st1, st2, sizeof st1) == 0,
              "%s i8_quantize d=%lld differs from %s", o->name, (long long)d, base->name);
        for (int r = 0; r < R; r++) {
            float mx = 0.0f;
            int finite = 1;
            for (int64_t i = 0; i < d; i++) {
                float a = fabsf(x[r * d + i]);
                finite &= isfinite(a) != 0;
                mx = a > mx ? a : mx;
            }
            int32_t sum = 0;
            for (int64_t i = 0; i < d; i++) {
                int want = finite && mx > 0 ? (int)rint((double)x[r * d + i] * (127.0 / mx)) : 0;
                int got = c1[(r / 16) * 16 * 4 * G + (i / 4) * 64 + (r % 16) * 4 + i % 4];
                sum += want;
                CHECK(got == want, "%s i8_quantize d=%lld row %d col %lld: %d vs %d", o->name, (long long)d,
                      r, (long long)i, got, want);
            }
            CHECK(s1[r] == sum, "%s i8_quantize d=%lld row %d code sum", o->name, (long long)d, r);
        }
        if (hashing) {
            hash_bytes(c1, (size_t)nbytes);
            hash_bytes(st1, sizeof st1);
        }
        free(x);
        free(c1);
        free(c2);
    }
}

/* float32 -> float16 (fe_f32_to_f16): every finite float16 converts back to itself, every midpoint
 * between neighbours rounds to the even one, just past it to the nearer one; 65520 and beyond
 * round to inf. Then the half index's rows (impl/int8.h fe_hx_build) at every level equal the
 * generic level's bit for bit (the vector conversions F16C / AVX-512 against this scalar one). */
static void check_hx_build(const fe_ops *o, const fe_ops *base)
{
    if (o == base) {
        for (uint32_t hb = 0; hb < 0x7c00u; hb++)
            for (uint32_t sgn = 0; sgn <= 0x8000u; sgn += 0x8000u) {
                const uint16_t hv = (uint16_t)(hb | sgn);
                const float f = fe_f16_to_f32(hv);
                CHECK(fe_f32_to_f16(f) == hv, "f32_to_f16 round trip %04x", hv);
                if (hb + 1 < 0x7c00u) {
                    const float g = fe_f16_to_f32((uint16_t)((hb + 1) | sgn));
                    const float mid = (float)(((double)f + (double)g) / 2);  /* exact: 12 bits */
                    const uint16_t even = (hb & 1u) ? (uint16_t)((hb + 1) | sgn) : hv;
                    CHECK(fe_f32_to_f16(mid) == even, "f32_to_f16 tie %04x", hv);
                    CHECK(fe_f32_to_f16(nextafterf(mid, f)) == hv, "f32_to_f16 below the midpoint %04x", hv);
                }
            }
        CHECK(fe_f32_to_f16(65519.0f) == 0x7bffu && fe_f32_to_f16(65520.0f) == 0x7c00u &&
              fe_f32_to_f16(-1e30f) == 0xfc00u, "f32_to_f16 overflow");
    }
    enum { R = 21 };
    static const int HD[] = {1, 5, 15, 16, 17, 33, 100, 301};
    for (int t = 0; t < (int)(sizeof HD / sizeof HD[0]); t++) {
        const int64_t d = HD[t];
        float *x = malloc(sizeof(float) * (size_t)(R * d));
        uint16_t *h1 = calloc((size_t)(R * d), 2), *h2 = calloc((size_t)(R * d), 2);
        int32_t s1[R], s2[R];
        double st1[3 * R], st2[3 * R];
        for (int r = 0; r < R; r++) {
            fill(x + r * d, d, r % 4);
            for (int64_t i = 0; i < d; i++)
                x[r * d + i] *= (float)(1 << (r % 9)) * 0.013f;
        }
        for (int64_t i = 1; i < d; i++)
            x[6 * d + i] *= 1e-7f;                          /* float16 subnormals after scaling */
        for (int64_t i = 0; i < d; i++) {
            x[2 * d + i] = 0.0f;                            /* a zero row */
            x[7 * d + i] = (float)(i + 1) * 1e-44f;         /* denormals: 2^shift beyond float32 */
            x[8 * d + i] *= 1e36f;                          /* huge */
        }
        x[3 * d + d / 2] = NAN;
        x[4 * d] = INFINITY;
        for (int bf = 0; bf < 2; bf++) {
            memset(h1, 0, (size_t)(R * d) * 2);
            memset(h2, 0, (size_t)(R * d) * 2);
            o->hx_build(x, d, 0, R, bf, h1, s1, st1);
            base->hx_build(x, d, 0, R, bf, h2, s2, st2);
            CHECK(memcmp(h1, h2, (size_t)(R * d) * 2) == 0 && memcmp(s1, s2, sizeof s1) == 0 &&
                  memcmp(st1, st2, sizeof st1) == 0, "%s hx_build d=%lld bf=%d differs from %s", o->name,
                  (long long)d, bf, base->name);
            CHECK(st1[9] == INFINITY && st1[12] == INFINITY && st1[6] == 0.0 && s1[7] > 126,
                  "%s hx_build special rows d=%lld", o->name, (long long)d);
            if (hashing) {
                hash_bytes(h1, (size_t)(R * d) * 2);
                hash_bytes(st1, sizeof st1);
            }
        }
        free(x);
        free(h1);
        free(h2);
    }
}

/* ---------------------------------------------------------------- the int8 storage kind and the tiled kernel */

/* int8 rows (codes times a row scale) through every kind kernel equal the float32 kernels on the
 * dequantised rows (float32(code) * scale, one multiply), at odd offsets; the tiled dot products
 * (dots_block) equal ref_dot for every tile shape and edge. */
static void check_i8_kind_and_tiles(const fe_ops *o)
{
    enum { V = 61, DMAX = 300, QN = 9, K = 6 };
    static int8_t codes[V * DMAX + 16];
    static float sc[V], up[V * DMAX], q[QN * DMAX], got[DMAX + 4], want[DMAX], pos[DMAX], typ[DMAX];
    static float n1[V], n2[V], hs1[QN * K], hs2[QN * K], tile[QN * V];
    static int64_t hi1[QN * K], hi2[QN * K];
    static const int dims[] = {1, 3, 7, 8, 15, 16, 17, 33, 100, 300};
    const fe_kind_ops *k8 = &o->kind[FE_KIND_I8], *k32 = &o->kind[FE_KIND_F32];
    for (int t = 0; t < (int)(sizeof dims / sizeof dims[0]); t++) {
        const int64_t D = dims[t];
        for (int64_t i = 0; i < V * D + 16; i++)
            codes[i] = (int8_t)((int)(rnd() % 255) - 127);
        for (int r = 0; r < V; r++)
            sc[r] = r == 4 ? 0.0f : fabsf(rndf()) * 0.01f + 1e-6f;
        for (int r = 0; r < V; r++)
            for (int64_t i = 0; i < D; i++)
                up[r * D + i] = (float)codes[r * D + i] * sc[r];
        fill(q, QN * D, 0);
        fill(pos, D, 0);
        fill(typ, D, 0);
        for (int r = 0; r < V; r += 7)
            for (int stream = 0; stream < 2; stream++) {
                k8->copy_row(got + 1, codes + r * D, sc[r], D, stream);
                o->stream_fence();
                CHECK(same_floats(got + 1, up + r * D, D), "%s copy_row_i8 D=%lld r=%d", o->name, (long long)D, r);
                k8->embed_row(got + 1, codes + r * D, sc[r], 1.5f, pos, typ, D, stream);
                k32->embed_row(want, up + r * D, 1.0f, 1.5f, pos, typ, D, 0);
                o->stream_fence();
                CHECK(same_floats(got + 1, want, D), "%s embed_row_i8 D=%lld r=%d", o->name, (long long)D, r);
                CHECK(same_float(k8->dot(codes + r * D, sc[r], q, D), ref_dot(up + r * D, q, D)),
                      "%s dot_i8 D=%lld r=%d", o->name, (long long)D, r);
            }
        k8->row_norms(codes, sc, D, 0, V, n1, 0);
        k32->row_norms(up, NULL, D, 0, V, n2, 0);
        CHECK(same_floats(n1, n2, V), "%s row_norms_i8 D=%lld", o->name, (long long)D);
        hash_floats(n1, V);
        for (int nq = 1; nq <= QN; nq += 4) {
            fe_topk_args a = {.table = NULL, .rows = codes, .scales = sc, .D = D, .inv = n2, .k = K};
            fe_topk_args b = {.table = up, .rows = up, .D = D, .inv = n2, .k = K};
            for (int j = 0; j < nq; j++) {
                fe_heap_init(hs1 + j * K, hi1 + j * K, K);
                fe_heap_init(hs2 + j * K, hi2 + j * K, K);
            }
            k8->scan_rows(&a, q, 0, nq, 0, 23, hs1, hi1);
            k8->scan_rows(&a, q, 0, nq, 23, V, hs1, hi1);
            k32->scan_rows(&b, q, 0, nq, 0, V, hs2, hi2);
            for (int j = 0; j < nq; j++) {
                fe_heap_sort(hs1 + j * K, hi1 + j * K, K);
                fe_heap_sort(hs2 + j * K, hi2 + j * K, K);
            }
            CHECK(same_floats(hs1, hs2, nq * K) && memcmp(hi1, hi2, sizeof(int64_t) * (size_t)(nq * K)) == 0,
                  "%s scan_rows_i8 D=%lld nq=%d", o->name, (long long)D, nq);
            hash_floats(hs1, nq * K);
        }
        /* tiles of every shape: nq queries x n rows, each score ref_dot's bits */
        for (int nq = 1; nq <= QN; nq++)
            for (int n = 1; n <= V; n += (n < 9 ? 1 : 13)) {
                o->dots_block(up, D, n, q, nq, tile, V);
                for (int c = 0; c < nq; c++)
                    for (int r = 0; r < n; r++)
                        CHECK(same_float(tile[c * V + r], ref_dot(up + r * D, q + c * D, D)),
                              "%s dots_block D=%lld nq=%d n=%d (%d, %d)", o->name, (long long)D, nq, n, c, r);
            }
        hash_floats(tile, QN * V);
    }
}

int main(void)
{
    for (int i = 0; i < FE_EXP_TABLE_SIZE; i++) {
        double x = (i / (double)FE_EXP_TABLE_SIZE * 2 - 1) * FE_MAX_EXP;
        exp_t[i] = (float)(1.0 / (1.0 + exp(-x)));
        logsig_t[i] = (float)log(1.0 / (1.0 + exp(-x)));
    }
    exp_t[FE_EXP_TABLE_SIZE] = logsig_t[FE_EXP_TABLE_SIZE] = NAN;

    const fe_ops *generic = fe_simd_ops_at(0);
    int tested = 0;
    for (int li = 0; li < fe_simd_count(); li++) {
        const fe_ops *o = fe_simd_ops_at(li);
        if (!fe_simd_supported_at(li)) {
            printf("level %s: not supported by this CPU, skipped\n", o->name);
            continue;
        }
        int f0 = failures;
        long c0 = checks;
        rng_state = 0x9E3779B97F4A7C15ULL;
        hashing = li == 0;
        check_dot_norms(o);
        if (hashing) printf("checksum after dot/norms %016llx\n", (unsigned long long)checksum);
        check_rows(o);
        if (hashing) printf("checksum after rows %016llx\n", (unsigned long long)checksum);
        check_segment(o);
        check_topk(o);
        if (hashing) printf("checksum after topk %016llx\n", (unsigned long long)checksum);
        check_half(o);
        if (hashing) printf("checksum after half %016llx\n", (unsigned long long)checksum);
        check_w2v(o, generic);
        check_i8_quantize(o, generic);
        check_hx_build(o, generic);
        check_i8_kind_and_tiles(o);
        printf("level %s: %ld checks %s\n", o->name, checks - c0, failures == f0 ? "ok" : "FAILED");
        tested++;
    }
    printf("checksum %016llx\n", (unsigned long long)checksum);
    printf("%s: %d levels, %ld checks, %d failures\n", failures ? "FAILED" : "OK", tested, checks, failures);
    return failures ? 1 : 0;
}
