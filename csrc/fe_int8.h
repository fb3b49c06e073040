/* fastembed: the exact int8 search index (fastembed.index): its arguments, the per-query state of a
 * bounded scan and the level-independent helpers. The scans themselves are compiled per SIMD level
 * (impl/int8.h).
 *
 * The index holds, per row r, int8 codes c_r (D values in [-127, 127]) and three float32
 * coefficients of the metric (cent, ra, rb) such that for every query q with int8 codes p, scale
 * tau and quantisation-error norm fn, and norm bound qn, the score the float32 scan computes lies in
 *
 *     A  +/-  (ra * fn + rb * qn + |A| * 2^-20 + abs_q),     A = cent * (tau * (float)(c_r . p))
 *
 * (fastembed/index.py derives it). The integer dot product c_r . p is exact in int32
 * (D * 127 * 127 < 2^31 is checked in Python).
 */
#ifndef FE_INT8_H
#define FE_INT8_H

#include <stdlib.h>
#include "fe_common.h"
#include "fe_topk.h"

/* bytes a code or query row may be read past its end (the index allocates them, zero-filled
 * queries make them contribute nothing): whole 64-byte vectors, no masked byte loads */
#define FE_I8_PAD 64

typedef struct {
    const int8_t *codes;   /* (V, D) int8 row-major, followed by >= FE_I8_PAD readable bytes */
    const float *cent;     /* (V,) A = cent[r] * (tau * dot) */
    const float *ra;       /* (V,) radius coefficient of the query's quantisation error */
    const float *rb;       /* (V,) radius coefficient of the query's norm */
    fe_topk_args t;        /* mask, exclusions and k of the search (t.table/t.inv: the float rows) */
} fe_i8_args;

typedef struct {
    const int8_t *p;       /* (Dp,) the query's int8 codes, zero past D (Dp: D rounded up to 64) */
    const uint8_t *pabs;   /* (Dp,) |p| (the AVX2 kernel's unsigned operand) */
    int32_t psum;          /* sum of p (the VNNI kernel reads codes as unsigned: c + 128) */
    float tau;             /* the query's scale: q ~ tau * p */
    float fn;              /* >= ||q - tau * p|| */
    float qn;              /* >= ||q|| */
    float abs_err;         /* absolute slack for underflow: (D + 16) * 2^-149 */
    int64_t q;             /* the query's index (exclusion lists) */
} fe_i8_query;

/* One query's state in one thread: the k best lower bounds of eligible rows (a min-heap: lb[0] is
 * the k-th best, the threshold) and the rows whose upper bound reached the threshold when seen. */
typedef struct {
    float *lb;             /* (k,) min-heap, -inf when empty */
    int64_t *ids;          /* candidates, increasing */
    float *ub;             /* their upper bounds */
    int64_t n, cap;
    int failed;            /* an allocation failed */
} fe_i8_state;

static inline void fe_i8_lb_push(float *lb, int64_t k, float v)
{
    /* v > lb[0]: replace the root and sift down (min-heap of k floats) */
    int64_t i = 0;
    for (;;) {
        int64_t l = 2 * i + 1, r = l + 1, m = i;
        float mv = v;
        if (l < k && lb[l] < mv) { m = l; mv = lb[l]; }
        if (r < k && lb[r] < mv) { m = r; }
        if (m == i) break;
        lb[i] = lb[m];
        i = m;
    }
    lb[i] = v;
}

/* Keep only candidates with ub >= thr. */
static inline void fe_i8_compact(fe_i8_state *s, float thr)
{
    int64_t w = 0;
    for (int64_t j = 0; j < s->n; j++)
        if (s->ub[j] >= thr) {
            s->ids[w] = s->ids[j];
            s->ub[w] = s->ub[j];
            w++;
        }
    s->n = w;
}

static inline void fe_i8_add(fe_i8_state *s, int64_t id, float ub)
{
    if (s->n == s->cap) {
        fe_i8_compact(s, s->lb[0]);  /* the threshold only rises: most early candidates drop out */
        if (s->n * 2 >= s->cap) {  /* still over half full (or never allocated): grow */
            int64_t cap = s->cap * 2 + 64;
            int64_t *ni = (int64_t *)realloc(s->ids, (size_t)cap * sizeof(int64_t));
            if (ni == NULL) { s->failed = 1; return; }
            s->ids = ni;
            float *nu = (float *)realloc(s->ub, (size_t)cap * sizeof(float));
            if (nu == NULL) { s->failed = 1; return; }
            s->ub = nu;
            s->cap = cap;
        }
    }
    s->ids[s->n] = id;
    s->ub[s->n] = ub;
    s->n++;
}

/* Would fe_offer ever admit row id for query q (mask and exclusions)? */
static inline int fe_i8_eligible(const fe_topk_args *a, int64_t q, int64_t id)
{
    if (a->mask != NULL && !a->mask[id])
        return 0;
    return !fe_is_excluded(a, q, id);
}

/* Fold thread state o's lower bounds into s's heap (both k). */
static inline void fe_i8_merge_lb(float *lb, const float *o, int64_t k)
{
    for (int64_t j = 0; j < k; j++)
        if (o[j] > lb[0])
            fe_i8_lb_push(lb, k, o[j]);
}

#endif /* FE_INT8_H */
