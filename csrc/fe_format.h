/* fastembed: the shortest decimal spelling of a float32 that reads back to the same bits, written
 * without the C library's locale-dependent printf (plain C11, no Python).
 *
 * For a finite nonzero x, the p-digit decimals near x are the integers near x * 10^(p-1-k)
 * (computed in double). Candidates inside x's rounding interval are *verified* by converting them
 * back with the parser's correctly rounded fe_decimal_fast / fe_decimal_slow (fe_parse.h), so the
 * result always round-trips; the search starts at the shortest precision whose interval surely
 * holds a decimal and walks down while a shorter one reads back, so it has the fewest significant
 * digits (9 always suffice for float32). The spelling is the shorter of positional ("0.001", "123")
 * and scientific ("1e-05" style with the minimal exponent: "1e-5", "3.4028235e38"); "-0", "inf",
 * "-inf", "nan" and "-nan" are written as such.
 */
#ifndef FE_FORMAT_H
#define FE_FORMAT_H

#include <stdint.h>
#include <string.h>
#include <math.h>

#include "fe_parse.h"

/* Longest spelling written, bytes ("-1.23456789e-45"); a value plus its separator fits in 16. */
#define FE_FORMAT_MAX 15

static const double fe_p10_tab[129] = {
    1e-64, 1e-63, 1e-62, 1e-61, 1e-60, 1e-59, 1e-58, 1e-57, 1e-56, 1e-55,
    1e-54, 1e-53, 1e-52, 1e-51, 1e-50, 1e-49, 1e-48, 1e-47, 1e-46, 1e-45,
    1e-44, 1e-43, 1e-42, 1e-41, 1e-40, 1e-39, 1e-38, 1e-37, 1e-36, 1e-35,
    1e-34, 1e-33, 1e-32, 1e-31, 1e-30, 1e-29, 1e-28, 1e-27, 1e-26, 1e-25,
    1e-24, 1e-23, 1e-22, 1e-21, 1e-20, 1e-19, 1e-18, 1e-17, 1e-16, 1e-15,
    1e-14, 1e-13, 1e-12, 1e-11, 1e-10, 1e-9, 1e-8, 1e-7, 1e-6, 1e-5,
    1e-4, 1e-3, 1e-2, 1e-1, 1e0, 1e1, 1e2, 1e3, 1e4, 1e5,
    1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22, 1e23, 1e24, 1e25,
    1e26, 1e27, 1e28, 1e29, 1e30, 1e31, 1e32, 1e33, 1e34, 1e35,
    1e36, 1e37, 1e38, 1e39, 1e40, 1e41, 1e42, 1e43, 1e44, 1e45,
    1e46, 1e47, 1e48, 1e49, 1e50, 1e51, 1e52, 1e53, 1e54, 1e55,
    1e56, 1e57, 1e58, 1e59, 1e60, 1e61, 1e62, 1e63, 1e64
};

/* 10^n for n in [-64, 64] (correctly rounded literals). */
static inline double fe_p10(int n) { return fe_p10_tab[n + 64]; }

static const char fe_digit_pairs[201] =
    "0001020304050607080910111213141516171819202122232425262728293031323334353637383940414243444546474849"
    "5051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";

/* Decimal digits of v (v < 10^10) into o; returns the count. */
static inline int fe_write_u32(uint32_t v, char *o)
{
    char tmp[12];
    int n = 0;
    while (v >= 100) {
        uint32_t q = v / 100, r = v - q * 100;
        tmp[n++] = fe_digit_pairs[2 * r + 1];
        tmp[n++] = fe_digit_pairs[2 * r];
        v = q;
    }
    if (v >= 10) {
        tmp[n++] = fe_digit_pairs[2 * v + 1];
        tmp[n++] = fe_digit_pairs[2 * v];
    } else {
        tmp[n++] = (char)('0' + v);
    }
    for (int i = 0; i < n; i++) o[i] = tmp[n - 1 - i];
    return n;
}

/* Does c * 10^e10 (c > 0, at most 10 digits) read back as the float with bits `want`? */
static inline int fe_reads_back(uint64_t c, int e10, uint32_t want)
{
    float f;
    if (!fe_decimal_fast(c, e10, 0, &f)) {
        char digits[24];
        int nd = fe_write_u32((uint32_t)c, digits);
        f = fe_decimal_slow(digits, nd, e10, 0);
    }
    return fe_f32_bits(f) == want;
}

/* At precision p (t = v * 10^(p-1-k) has p digits before the point), the decimals of p digits
 * are the integers; x's rounding interval is [t - dn, t + up] in those units. Try the integer
 * nearest to t that lies in it (and its neighbours near the boundary, where t's rounding error
 * of ~2^-52 relative, at most 3e-7 units at p = 9, could mislead): the first that reads back to
 * x exactly wins. Returns 1 and writes *c on success. */
static inline int fe_try_precision(double t, double up, double dn, int e10, uint32_t want, uint32_t *c)
{
    const double eps = 1e-6, lo = t - dn - eps, hi = t + up + eps;
    double r = (double)(uint64_t)(t + 0.5);  /* nearest integer (t >= 0.5 here) */
    const double other = r < t ? r + 1 : r - 1;
    if (fabs(fabs(r - t) - 0.5) < eps && other > 0 && other >= lo && other <= hi
            && fe_reads_back((uint64_t)other, e10, want)) {
        /* t within eps of halfway: both neighbours may read back; the nearer wins, an exact tie
           goes to the even one (as Dragon4 and Ryu do) */
        const int r_ok = r >= lo && r <= hi && fe_reads_back((uint64_t)r, e10, want);
        const double dr = fabs(r - t), dother = fabs(other - t);
        if (!r_ok || dother < dr || (dother == dr && ((uint64_t)other & 1) == 0))
            r = other;
        *c = (uint32_t)r;
        return 1;
    }
    if (r < lo) r += 1;
    if (r > hi) r -= 1;
    if (r < lo || r > hi) return 0;
    const double order[3] = {r, r < t ? r + 1 : r - 1, r < t ? r - 1 : r + 1};
    for (int i = 0; i < 3; i++) {
        const double cand = order[i];
        if (cand <= 0 || cand < lo || cand > hi) continue;
        if (fe_reads_back((uint64_t)cand, e10, want)) { *c = (uint32_t)cand; return 1; }
    }
    return 0;
}

/* The shortest decimal c * 10^(*e10) reading back to the finite, positive float with bits b
 * (the nearest such decimal at that length). Returns c (no trailing zeros). */
static inline uint32_t fe_shortest(uint32_t b, int *e10)
{
    const uint32_t E = b >> 23, mant = b & 0x7fffffu;
    const double v = (double)fe_f32_from_bits(b);
    /* ulp = 2^(E-150) for normal floats, 2^-149 for subnormal ones (built from bits) */
    const int ue = E ? (int)E - 150 : -149;
    const uint64_t ub = (uint64_t)(ue + 1023) << 52;
    double ulp;
    memcpy(&ulp, &ub, 8);
    /* rounding interval: half the gap above, half the gap below (a quarter ulp below a power of 2) */
    const double up = 0.5 * ulp, dn = (mant == 0 && E > 1) ? 0.25 * ulp : 0.5 * ulp;
    int e2;  /* floor(log2 v) */
    if (E) {
        e2 = (int)E - 127;
    } else {
        int hb = 22;
        while (!(mant >> hb)) hb--;
        e2 = hb - 149;
    }
    int k = (e2 * 78913) >> 18;  /* floor(e2 * log10(2)) <= floor(log10 v) */
    if (v >= fe_p10(k + 1)) k++; /* now 10^k <= v < 10^(k+1) */
    /* While the interval spans more than one unit, a decimal of that many digits certainly lies
       inside it: start at the shortest such precision, then try shorter ones while one reads back
       (if a p-digit decimal reads back, so does a (p+1)-digit one: the same with a trailing zero). */
    const double w9 = (up + dn) * fe_p10(8 - k);
    int p = 9;
    double w = w9;
    while (p > 1 && w >= 10.0 * (1.0 + 1e-5)) { w *= 0.1; p--; }
    uint32_t c = 0, best = 0;
    int best_p = 0;
    for (; p <= 9; p++) {  /* normally succeeds at once; the loop only guards the slack */
        const double sc = fe_p10(p - 1 - k);
        if (fe_try_precision(v * sc, up * sc, dn * sc, -(p - 1 - k), b, &c)) { best = c; best_p = p; break; }
    }
    if (!best) {  /* unreachable for IEEE float32: 9 digits always read back */
        const double sc = fe_p10(8 - k);
        best = (uint32_t)(uint64_t)(v * sc + 0.5);
        best_p = 9;
    }
    for (p = best_p - 1; p >= 1; p--) {
        const double sc = fe_p10(p - 1 - k);
        if (!fe_try_precision(v * sc, up * sc, dn * sc, -(p - 1 - k), b, &c)) break;
        best = c;
        best_p = p;
    }
    int e = -(best_p - 1 - k);
    while (best % 10 == 0) { best /= 10; e++; }
    *e10 = e;
    return best;
}

/* Write x's spelling to o (room for FE_FORMAT_MAX bytes); returns the length. NaN is written as
 * "nan" / "-nan" whatever its payload (the caller decides whether a payload may be dropped). */
static inline int fe_format_float(float x, char *o)
{
    const uint32_t bits = fe_f32_bits(x);
    const uint32_t ab = bits & 0x7fffffffu;
    int n = 0;
    if (bits >> 31) o[n++] = '-';
    if (ab >= 0x7f800000u) {
        memcpy(o + n, ab == 0x7f800000u ? "inf" : "nan", 3);
        return n + 3;
    }
    if (ab == 0) {
        o[n++] = '0';
        return n;
    }
    int e;
    const uint32_t c = fe_shortest(ab, &e);
    char dg[12];
    const int nd = fe_write_u32(c, dg);
    const int K = e + nd - 1;  /* exponent of the first digit */
    const int ak = K < 0 ? -K : K;
    const int len_sci = nd + (nd > 1) + 1 + (K < 0) + (ak >= 10 ? 2 : 1);
    const int len_pos = K >= 0 ? (nd <= K + 1 ? K + 1 : nd + 1) : 1 + 1 + (-K - 1) + nd;
    if (len_pos <= len_sci) {
        if (K >= 0) {
            if (nd <= K + 1) {
                memcpy(o + n, dg, (size_t)nd);
                memset(o + n + nd, '0', (size_t)(K + 1 - nd));
                n += K + 1;
            } else {
                memcpy(o + n, dg, (size_t)(K + 1));
                o[n + K + 1] = '.';
                memcpy(o + n + K + 2, dg + K + 1, (size_t)(nd - K - 1));
                n += nd + 1;
            }
        } else {
            o[n++] = '0';
            o[n++] = '.';
            memset(o + n, '0', (size_t)(-K - 1));
            n += -K - 1;
            memcpy(o + n, dg, (size_t)nd);
            n += nd;
        }
        return n;
    }
    o[n++] = dg[0];
    if (nd > 1) {
        o[n++] = '.';
        memcpy(o + n, dg + 1, (size_t)(nd - 1));
        n += nd - 1;
    }
    o[n++] = 'e';
    if (K < 0) o[n++] = '-';
    if (ak >= 10) {
        o[n++] = (char)('0' + ak / 10);
        o[n++] = (char)('0' + ak % 10);
    } else {
        o[n++] = (char)('0' + ak);
    }
    return n;
}

/* Text lines "key v1 ... vD\n" for rows [r0, r1) of the (V, d) matrix W into out (which must hold
 * sum of the keys' bytes + (r1 - r0) * (16 * d + 2) bytes). Key i is keys[off[i], off[i+1] - 1)
 * (one separator byte between keys). A NaN other than the canonical quiet NaNs 0x7fc00000 /
 * 0xffc00000 cannot be spelled: the function then stops and stores its flat index in *bad.
 * Returns the number of bytes written. */
static inline int64_t fe_format_lines(const float *W, int64_t d, int64_t r0, int64_t r1,
                                      const char *keys, const int64_t *off, char *out, int64_t *bad)
{
    char *o = out;
    *bad = -1;
    for (int64_t i = r0; i < r1; i++) {
        const int64_t kl = off[i + 1] - 1 - off[i];
        memcpy(o, keys + off[i], (size_t)kl);
        o += kl;
        const float *row = W + i * d;
        for (int64_t j = 0; j < d; j++) {
            const uint32_t ab = fe_f32_bits(row[j]) & 0x7fffffffu;
            if (ab > 0x7f800000u && ab != FE_NAN_BITS) {
                *bad = i * d + j;
                return o - out;
            }
            *o++ = ' ';
            o += fe_format_float(row[j], o);
        }
        *o++ = '\n';
    }
    return o - out;
}

#endif /* FE_FORMAT_H */
