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

/* Codes are stored in blocks of FE_I8_ROWS rows: block b holds rows 16 b .. 16 b + 15, and in it
 * group g (columns 4 g .. 4 g + 3) is 64 contiguous bytes, row u's four codes at 4 u. One 64-byte
 * load then holds four columns of sixteen rows, so an integer multiply-add against the query's
 * four codes (broadcast) yields sixteen rows' partial dot products in sixteen int32 lanes: no
 * horizontal sums. Padding (columns past D, rows past V) is code 0. */
#define FE_I8_ROWS 16

typedef struct {
    const int8_t *codes;   /* blocked codes, ceil(V / 16) blocks of 16 * 4 * G bytes (a half index:
                              its (ceil(V / 16) * 16, D) half rows, 16 rows a block) */
    int64_t block_bytes;   /* bytes of one block of 16 rows */
    const int32_t *rowsum; /* (ceil(V / 16) * 16,) sum of each row's codes (0 for padding) */
    int64_t G;             /* groups of four columns: ceil(D / 4) */
    const float *coef;     /* per block of 16 rows: 16 cent (A = cent * (tau * dot)), 16 ra (radius
                              per unit of the query's quantisation error), 16 rb (per unit of its norm) */
    fe_topk_args t;        /* mask, exclusions and k of the search (t.table/t.inv: the float rows) */
} fe_i8_args;

typedef struct {
    const int32_t *p4;     /* (G,) the query's int8 codes, four per int32 (zero past D) */
    const int32_t *pabs4;  /* (G,) |codes|, four per int32 (AVX2's unsigned operand) */
    const int32_t *pu4;    /* (G,) codes + 128 as unsigned bytes, four per int32 (VNNI's operand) */
    float tau;             /* the query's scale: q ~ tau * p */
    float fn;              /* >= ||q - tau * p|| */
    float qn;              /* >= ||q|| */
    float abs_err;         /* absolute slack for underflow */
    const float *qf;       /* (D,) the float32 query itself (a half index's scan) */
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
