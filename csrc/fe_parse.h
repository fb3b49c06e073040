/* fastembed: parsing embedding text and binary files from raw bytes (plain C11, no Python).
 *
 * Numbers follow one grammar, independent of the C locale:
 *     [+-]? ( digits [ "." digits? ] | "." digits ) ( [eE] [+-]? digits )?
 *     [+-]? ( "nan" | "inf" | "infinity" )            (case-insensitive)
 * and are rounded correctly to float32 (ties to even), so files written with the shortest
 * round-trip spelling read back bit for bit. NaN reads as the canonical quiet NaN with the
 * written sign (0x7fc00000 / 0xffc00000).
 *
 * Rounding: a decimal m * 10^e with m <= 2^53 and |e| <= 22 is computed as one IEEE double
 * operation on exact operands (correctly rounded double d), then rounded to float. That double
 * rounding equals the direct rounding unless d lies exactly on a float32 midpoint (a midpoint is a
 * double, so the exact value and d cannot straddle one otherwise); midpoints, subnormal and
 * overflowing results and long mantissas go to strtof on a string of digits and an exponent
 * *without a decimal point*, which no locale changes (LC_NUMERIC only changes the radix character).
 */
#ifndef FE_PARSE_H
#define FE_PARSE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* space, \t, \r, \v, \f (newlines end lines before tokens are split) */
static const unsigned char fe_space_tab[256] = {[' '] = 1, ['\t'] = 1, ['\r'] = 1, ['\v'] = 1, ['\f'] = 1};

static inline int fe_is_space(char c) { return fe_space_tab[(unsigned char)c]; }

/* Longest number token accepted (bytes); longer tokens are reported as "not a number". */
#define FE_MAX_NUMBER_BYTES 160

static const double fe_pow10d[23] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
                                     1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static inline float fe_f32_from_bits(uint32_t b) { float f; memcpy(&f, &b, 4); return f; }
static inline uint32_t fe_f32_bits(float f) { uint32_t b; memcpy(&b, &f, 4); return b; }

#define FE_NAN_BITS 0x7fc00000u

/* Fast path: (-1)^neg * m * 10^e10 as float32 when one double operation decides it exactly.
 * Returns 1 and writes *out on success, 0 when the slow path must decide. */
static inline int fe_decimal_fast(uint64_t m, int64_t e10, int neg, float *out)
{
    if (m == 0) { *out = fe_f32_from_bits(neg ? 0x80000000u : 0u); return 1; }
    if (m > (UINT64_C(1) << 53) || e10 < -22 || e10 > 22)
        return 0;
    double d = e10 < 0 ? (double)m / fe_pow10d[-e10] : (double)m * fe_pow10d[e10];
    /* normal float32 range only: [2^-126, FLT_MAX] */
    if (!(d >= 1.1754943508222875e-38 && d <= 3.4028234663852886e+38))
        return 0;
    uint64_t bits;
    memcpy(&bits, &d, 8);
    if ((bits & UINT64_C(0x1fffffff)) == UINT64_C(0x10000000))
        return 0;  /* d sits exactly on a float32 midpoint: the exact value may not */
    float f = (float)d;
    *out = neg ? -f : f;
    return 1;
}

/* Slow path: strtof on "[-]<digits>e<e10>" (no radix character, so no locale dependence).
 * digits: nd ASCII digits (leading zeros allowed), at most FE_MAX_NUMBER_BYTES. */
static inline float fe_decimal_slow(const char *digits, int64_t nd, int64_t e10, int neg)
{
    char buf[FE_MAX_NUMBER_BYTES + 32];
    char *o = buf;
    if (neg) *o++ = '-';
    if (nd == 0) *o++ = '0';
    memcpy(o, digits, (size_t)nd);
    o += nd;
    /* |e10| beyond 100000 rounds to 0 or inf either way; keep the string short */
    if (e10 > 100000) e10 = 100000;
    if (e10 < -100000) e10 = -100000;
    *o++ = 'e';
    if (e10 < 0) { *o++ = '-'; e10 = -e10; }
    char tmp[24];
    int n = 0;
    do { tmp[n++] = (char)('0' + e10 % 10); e10 /= 10; } while (e10);
    while (n) *o++ = tmp[--n];
    *o = 0;
    return strtof(buf, NULL);  /* correctly rounded; overflow gives +-inf, underflow 0 or subnormal */
}

static inline int fe_lower(char c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

static inline int fe_word_is(const char *s, const char *end, const char *word, size_t n)
{
    if ((size_t)(end - s) != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (fe_lower(s[i]) != word[i]) return 0;
    return 1;
}

/* Parse the token [p, end) as a float32; 0 on success, -1 if it is not a number. */
static inline int fe_parse_float(const char *p, const char *end, float *out)
{
    const char *s = p;
    int neg = 0;
    unsigned dg;
    if (end - p > FE_MAX_NUMBER_BYTES) return -1;
    if (s < end && (*s == '-' || *s == '+')) { neg = (*s == '-'); s++; }
    if (s < end && (*s | 32) >= 'a' && (*s | 32) <= 'z') {
        if (fe_word_is(s, end, "nan", 3)) {
            *out = fe_f32_from_bits(FE_NAN_BITS | (neg ? 0x80000000u : 0u));
            return 0;
        }
        if (fe_word_is(s, end, "inf", 3) || fe_word_is(s, end, "infinity", 8)) {
            *out = fe_f32_from_bits(0x7f800000u | (neg ? 0x80000000u : 0u));
            return 0;
        }
        return -1;
    }
    const char *mant = s;
    uint64_t m = 0;
    int64_t sig = 0, ndig = 0, frac = 0;   /* significant digits (after leading zeros), all digits */
    while (s < end && (dg = (unsigned)(*s - '0')) < 10) {
        if (sig || dg) { if (sig < 19) m = m * 10 + dg; sig++; }
        s++;
        ndig++;
    }
    int64_t int_sig_dropped = sig > 19 ? sig - 19 : 0;  /* integer digits not in m */
    if (s < end && *s == '.') {
        const char *f0 = ++s;
        while (s < end && (dg = (unsigned)(*s - '0')) < 10) {
            if (sig || dg) { if (sig < 19) { m = m * 10 + dg; frac++; } sig++; }
            else frac++;
            s++;
        }
        ndig += s - f0;
    }
    if (ndig == 0) return -1;
    int64_t e = 0;
    if (s < end && (*s == 'e' || *s == 'E')) {
        const char *t = s + 1;
        int eneg = 0;
        if (t < end && (*t == '-' || *t == '+')) { eneg = (*t == '-'); t++; }
        const char *e0 = t;
        while (t < end && (dg = (unsigned)(*t - '0')) < 10) { if (e < 1000000) e = e * 10 + dg; t++; }
        if (t == e0) return -1;
        if (eneg) e = -e;
        s = t;
    }
    if (s != end) return -1;
    if (sig <= 19 && fe_decimal_fast(m, e - frac, neg, out))
        return 0;
    /* every digit of the mantissa, the radix point dropped: value = digits * 10^(e - nfrac) */
    char digits[FE_MAX_NUMBER_BYTES];
    int64_t nd = 0, nfrac = 0;
    int seen_point = 0;
    for (const char *c = mant; c < end && *c != 'e' && *c != 'E'; c++) {
        if (*c == '.') { seen_point = 1; continue; }
        digits[nd++] = *c;
        nfrac += seen_point;
    }
    (void)int_sig_dropped;
    *out = fe_decimal_slow(digits, nd, e - nfrac, neg);
    return 0;
}

/* Status codes of fe_parse_line */
#define FE_LINE_OK 0
#define FE_LINE_BLANK 1
#define FE_LINE_TOO_FEW (-1)     /* fewer than d numbers after a key; *ntok = tokens found */
#define FE_LINE_BAD_NUMBER (-2)  /* [*bad_s, *bad_e) is not a number */
#define FE_LINE_AMBIGUOUS (-3)   /* a key of several tokens ends in a number; *ntok = tokens */

/* The line [p, end) (no newline) split from the right: the last d whitespace-separated tokens are
 * the numbers, the rest (trimmed) the key. A key of several tokens (GloVe keys may hold spaces)
 * must not end in a number: such a line would read differently with another dimension, so it is
 * refused rather than guessed. */
static inline int fe_parse_line_split(const char *p, const char *end, int64_t d, float *row,
                                      int64_t *ks, int64_t *ke, int64_t *ntok, int64_t *bad_s,
                                      int64_t *bad_e, const char *base)
{
    while (end > p && fe_is_space(end[-1])) end--;
    const char *q = p;
    while (q < end && fe_is_space(*q)) q++;
    if (q == end) return FE_LINE_BLANK;
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
        int64_t n = 0;
        const char *c = q;
        while (c < end) {
            while (c < end && fe_is_space(*c)) c++;
            if (c < end) n++;
            while (c < end && !fe_is_space(*c)) c++;
        }
        *ntok = n;
        return FE_LINE_TOO_FEW;
    }
    const char *c = t;
    for (int64_t j = 0; j < d; j++) {
        while (fe_is_space(*c)) c++;
        const char *s = c;
        while (c < end && !fe_is_space(*c)) c++;
        if (fe_parse_float(s, c, row + j) != 0) {
            *bad_s = s - base;
            *bad_e = c - base;
            return FE_LINE_BAD_NUMBER;
        }
    }
    /* the key's last token */
    const char *lt = kend;
    while (lt > q && !fe_is_space(lt[-1])) lt--;
    if (lt > q) {  /* several tokens */
        float dummy;
        if (fe_parse_float(lt, kend, &dummy) == 0) {
            int64_t n = 0;
            const char *c2 = q;
            while (c2 < end) {
                while (c2 < end && fe_is_space(*c2)) c2++;
                if (c2 < end) n++;
                while (c2 < end && !fe_is_space(*c2)) c2++;
            }
            *ntok = n;
            return FE_LINE_AMBIGUOUS;
        }
    }
    *ks = q - base;
    *ke = kend - base;
    return FE_LINE_OK;
}

/* The common case in one forward pass: the key is the first token and exactly d numbers follow.
 * Anything else is handed to fe_parse_line_split, which reads from the right and reports errors.
 * Returns an FE_LINE_* status. */
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
    if (c != end)  /* more tokens than d + 1: a key with spaces, or a malformed line */
        return fe_parse_line_split(p, end, d, row, ks, ke, ntok, bad_s, bad_e, base);
    *ks = k0 - base;
    *ke = k1 - base;
    return FE_LINE_OK;
}

/* Tokens of [p, end) and how many trailing ones are numbers (for inferring a GloVe file's
 * dimension: a valid line has min(numeric tail, tokens - 1) == d). */
static inline void fe_line_shape(const char *p, const char *end, int64_t *ntok, int64_t *ntail)
{
    int64_t n = 0, tail = 0;
    const char *c = p;
    while (c < end) {
        while (c < end && fe_is_space(*c)) c++;
        if (c == end) break;
        const char *s = c;
        while (c < end && !fe_is_space(*c)) c++;
        float f;
        n++;
        tail = fe_parse_float(s, c, &f) == 0 ? tail + 1 : 0;
    }
    *ntok = n;
    *ntail = tail;
}

/* word2vec binary records: key b' ' <4*d bytes little-endian float32>, either each followed by
 * b'\n' (word2vec.c; newline mode) or packed (gensim). Newlines before a key are skipped, as
 * word2vec.c's reader (fscanf "%s") and gensim's do (files mixing the two layouts have them).
 * Status codes: */
#define FE_BIN_OK 0            /* stopped at max_rows or at a record not yet complete in the buffer */
#define FE_BIN_KEY_TOO_LONG (-1)  /* no b' ' within max_key bytes */
#define FE_BIN_BAD_KEY (-2)       /* a key holding b'\n', or empty */
#define FE_BIN_NO_NEWLINE (-3)    /* newline mode: the byte after a record is not b'\n' */

/* Parse whole records of buf[0:n] into rows (row i at out + i * d), at most max_rows.
 * final: no more bytes will come (a partial record is then left for the caller to report).
 * Returns the status; *rows = records parsed, *consumed = bytes of those records,
 * *where = offset of the offending byte for an error status. */
static inline int fe_parse_binary(const char *buf, int64_t n, int64_t d, int newline_mode, int64_t max_key,
                                  float *out, int64_t max_rows, int64_t *spans, int64_t *rows,
                                  int64_t *consumed, int64_t *where)
{
    int64_t pos = 0, r = 0, nb = d * 4;
    int status = FE_BIN_OK;
    while (r < max_rows && pos < n) {
        int64_t ks = pos;
        while (ks < n && buf[ks] == '\n') ks++;
        if (ks == n) { pos = ks; break; }  /* only newlines left: consumed, the next record follows */
        int64_t lim = n - ks < max_key + 1 ? n - ks : max_key + 1;
        const char *sp = (const char *)memchr(buf + ks, ' ', (size_t)lim);
        if (sp == NULL) {
            if (lim == max_key + 1) { status = FE_BIN_KEY_TOO_LONG; *where = ks; }
            else {
                const char *nl = (const char *)memchr(buf + ks, '\n', (size_t)lim);
                if (nl != NULL) { status = FE_BIN_BAD_KEY; *where = nl - buf; }
            }
            break;
        }
        int64_t ke = sp - buf;
        if (ke == ks) { status = FE_BIN_BAD_KEY; *where = ks; break; }
        const char *nl = (const char *)memchr(buf + ks, '\n', (size_t)(ke - ks));
        if (nl != NULL) { status = FE_BIN_BAD_KEY; *where = nl - buf; break; }
        int64_t rec_end = ke + 1 + nb + (newline_mode ? 1 : 0);
        if (rec_end > n) break;
        if (newline_mode && buf[rec_end - 1] != '\n') {
            status = FE_BIN_NO_NEWLINE;
            *where = rec_end - 1;
            break;
        }
        spans[2 * r] = ks;
        spans[2 * r + 1] = ke;
        if (nb) memcpy(out + r * d, buf + ke + 1, (size_t)nb);
        r++;
        pos = rec_end;
    }
    *rows = r;
    *consumed = pos;
    return status;
}

#endif /* FE_PARSE_H */
