/* fastembed: parsing embedding text and binary files from raw bytes.
 *
 * Numbers: a fast path for plain decimals whose digits fit in 24 bits and whose power of ten is
 * within 10^10 (both exact in float32, so one IEEE multiply or divide is correctly rounded); every
 * other spelling (more digits, nan, inf, hex...) goes to strtof. Either way the result is the
 * correctly rounded float32, so repr-exact files round-trip bit for bit.
 */
#ifndef FE_PARSE_H
#define FE_PARSE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

static const float fe_pow10f[11] = {1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f, 1e6f, 1e7f, 1e8f, 1e9f, 1e10f};

/* space, \t, \r, \v, \f (newlines end lines before tokens are split) */
static const unsigned char fe_space_tab[256] = {[' '] = 1, ['\t'] = 1, ['\r'] = 1, ['\v'] = 1, ['\f'] = 1};

static inline int fe_is_space(char c) { return fe_space_tab[(unsigned char)c]; }

/* Parse the token [p, end) as a float32; 0 on success, -1 if it is not a number. */
static inline int fe_parse_float(const char *p, const char *end, float *out)
{
    const char *s = p;
    int neg = 0;
    unsigned dg;
    if (s < end && (*s == '-' || *s == '+')) { neg = (*s == '-'); s++; }
    uint64_t m = 0;
    const char *d0 = s;
    while (s < end && (dg = (unsigned)(*s - '0')) < 10) { m = m * 10 + dg; s++; }
    int64_t ndig = s - d0, frac = 0;
    if (s < end && *s == '.') {
        const char *f0 = ++s;
        while (s < end && (dg = (unsigned)(*s - '0')) < 10) { m = m * 10 + dg; s++; }
        frac = s - f0;
        ndig += frac;
    }
    if (ndig == 0 || ndig > 19)
        goto slow;  /* not a plain decimal, or the mantissa could overflow */
    int64_t e = 0;
    if (s < end && (*s == 'e' || *s == 'E')) {
        const char *t = s + 1;
        int eneg = 0, ed = 0;
        if (t < end && (*t == '-' || *t == '+')) { eneg = (*t == '-'); t++; }
        while (t < end && (dg = (unsigned)(*t - '0')) < 10 && ed < 6) { e = e * 10 + dg; t++; ed++; }
        if (ed == 0 || ed >= 6) goto slow;
        if (eneg) e = -e;
        s = t;
    }
    if (s == end && m <= (1u << 24)) {
        int64_t p10 = e - frac;
        if (p10 >= -10 && p10 <= 10) {
            float f = (float)m;  /* exact: m <= 2^24 */
            f = p10 < 0 ? f / fe_pow10f[-p10] : f * fe_pow10f[p10];  /* one correctly rounded op */
            *out = neg ? -f : f;
            return 0;
        }
    }
slow:
    {
        char buf[64];
        size_t n = (size_t)(end - p);
        if (n == 0 || n >= sizeof buf) return -1;
        memcpy(buf, p, n);
        buf[n] = 0;
        char *stop;
        float f = strtof(buf, &stop);
        if (stop != buf + n) return -1;
        *out = f;  /* overflow gives +-inf and underflow 0/denormal, as numpy's float32() does */
        return 0;
    }
}

/* One text line [p, end) (no newline): the last d whitespace-separated tokens are the numbers, the
 * rest (trimmed) is the key. Writes the numbers to row and the key span to *ks/*ke.
 * Returns 0, or -1 for too few tokens (*ntok = tokens found), or -2 for a bad number
 * (*bad_s/*bad_e = the token). A blank line returns 1. */
static inline int fe_parse_line_split(const char *p, const char *end, int64_t d, float *row,
                                int64_t *ks, int64_t *ke, int64_t *ntok, int64_t *bad_s, int64_t *bad_e,
                                const char *base)
{
    while (end > p && fe_is_space(end[-1])) end--;
    const char *q = p;
    while (q < end && fe_is_space(*q)) q++;
    if (q == end) return 1;
    /* find the start of the numbers: d tokens from the right */
    const char *t = end;
    int64_t found = 0;
    while (found < d) {
        while (t > q && fe_is_space(t[-1])) t--;
        if (t == q) break;
        while (t > q && !fe_is_space(t[-1])) t--;
        found++;
    }
    const char *kend = t;
    while (kend > q && fe_is_space(kend[-1])) kend--;
    if (found < d || kend == q) {
        /* count all tokens for the message */
        int64_t n = 0;
        const char *c = q;
        while (c < end) {
            while (c < end && fe_is_space(*c)) c++;
            if (c < end) n++;
            while (c < end && !fe_is_space(*c)) c++;
        }
        *ntok = n;
        return -1;
    }
    *ks = q - base;
    *ke = kend - base;
    const char *c = t;
    for (int64_t j = 0; j < d; j++) {
        while (fe_is_space(*c)) c++;
        const char *s = c;
        while (c < end && !fe_is_space(*c)) c++;
        if (fe_parse_float(s, c, row + j) != 0) {
            *bad_s = s - base;
            *bad_e = c - base;
            return -2;
        }
    }
    return 0;
}

/* The common case in one forward pass: the key is the first token and exactly d numbers follow.
 * Anything else (a key with spaces, a bad or missing number) is handed to fe_parse_line_split,
 * which finds the numbers from the right and reports errors. Same contract as that function. */
static inline int fe_parse_line(const char *p, const char *end, int64_t d, float *row,
                                int64_t *ks, int64_t *ke, int64_t *ntok, int64_t *bad_s, int64_t *bad_e,
                                const char *base)
{
    const char *c = p;
    while (c < end && fe_is_space(*c)) c++;
    const char *k0 = c;
    while (c < end && !fe_is_space(*c)) c++;
    const char *k1 = c;
    if (k1 == k0)
        return fe_parse_line_split(p, end, d, row, ks, ke, ntok, bad_s, bad_e, base);
    for (int64_t j = 0; j < d; j++) {
        while (c < end && fe_is_space(*c)) c++;
        const char *s = c;
        while (c < end && !fe_is_space(*c)) c++;
        if (s == c || fe_parse_float(s, c, row + j) != 0)
            return fe_parse_line_split(p, end, d, row, ks, ke, ntok, bad_s, bad_e, base);
    }
    while (c < end && fe_is_space(*c)) c++;
    if (c != end)  /* more tokens than d + 1: the key has spaces (or the line is malformed) */
        return fe_parse_line_split(p, end, d, row, ks, ke, ntok, bad_s, bad_e, base);
    *ks = k0 - base;
    *ke = k1 - base;
    return 0;
}

#endif /* FE_PARSE_H */
