/* fastembed: fastText subword kernels -- the dictionary scan of a .bin model, character n-gram
 * hashing and the mean vectors of words.
 *
 * Plain C11: no Python.h, no numpy headers; pointers and 64-bit sizes only.
 *
 * The n-grams are fastText's (Dictionary::computeSubwords): the word is wrapped as "<" word ">",
 * an n-gram starts at every byte that is not a UTF-8 continuation byte (10xxxxxx) and takes n
 * "characters" (a character being a byte plus the continuation bytes after it), for n in
 * [minn, maxn]; the 1-grams "<" and ">" are left out. Each n-gram is hashed with fastText's
 * FNV-1a variant, which reads every byte as a *signed* char and sign-extends it to 32 bits before
 * the xor (bytes >= 0x80 xor 0xFFFFFFxx), and goes to row ``hash % bucket`` of the n-gram matrix.
 * The order of the n-grams (start byte ascending, then length ascending) and repeated n-grams are
 * kept: a word's vector averages over the same list fastText builds.
 *
 * Summation order (the mean vectors): element j of word i is
 *     acc = word_row[j] (in-vocabulary word) or +0.0f (unknown word);
 *     for each n-gram row r, in n-gram order:  acc = acc + r[j];
 *     out[j] = acc / (float)count          (count = n-grams + 1 for the word row; no count: zeros)
 * in float32 (the build has -ffp-contract=off). This is gensim's order (its adjust_vectors and
 * get_vector), so the results are bit-identical to gensim's; fastText itself multiplies by
 * (float)(1.0 / count) instead of dividing (at most one rounding apart).
 *
 * The mean vectors and the training steps are compiled once per SIMD level (csrc/impl/fasttext.h,
 * reached through the fe_ops table); this header holds the scalar parts (hashing, n-grams, the
 * dictionary scan) and the structures the kernels take.
 */
#ifndef FE_FASTTEXT_H
#define FE_FASTTEXT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fe_common.h"
#include "fe_w2v.h"

#define FE_FT_FNV_OFFSET 2166136261u
#define FE_FT_FNV_PRIME 16777619u

/* One step of fastText's hash: the byte as int8_t, sign-extended to 32 bits. */
static inline uint32_t fe_ft_hash_step(uint32_t h, unsigned char b)
{
    h ^= (uint32_t)(int32_t)(int8_t)b;
    return h * FE_FT_FNV_PRIME;
}

/* fastText's Dictionary::hash of n bytes. */
static inline uint32_t fe_ft_hash(const unsigned char *s, int64_t n)
{
    uint32_t h = FE_FT_FNV_OFFSET;
    for (int64_t i = 0; i < n; i++)
        h = fe_ft_hash_step(h, s[i]);
    return h;
}

/* Byte p of "<" word ">" (p in [0, len + 2)). */
static inline unsigned char fe_ft_at(const unsigned char *w, int64_t len, int64_t p)
{
    return p == 0 ? (unsigned char)'<' : p == len + 1 ? (unsigned char)'>' : w[p - 1];
}

static inline int fe_ft_is_eos(const unsigned char *w, int64_t len)
{
    return len == 4 && memcmp(w, "</s>", 4) == 0;
}

/* The bucket ids (hash % bucket) of the n-grams of "<" w ">", in fastText's order. Writes the
 * first min(count, cap) ids to out (out may be NULL when cap is 0) and returns count, so a caller
 * with too small a buffer calls again with count. Assumes bucket > 0, 0 <= minn, 0 <= maxn.
 * Each n-gram's hash continues the hash of the n-gram one character shorter at the same start. */
static inline int64_t fe_ft_ngrams(const unsigned char *w, int64_t len, int64_t minn, int64_t maxn,
                                   uint32_t bucket, int64_t *out, int64_t cap)
{
    const int64_t L = len + 2;
    int64_t count = 0;
    for (int64_t i = 0; i < L; i++) {
        if ((fe_ft_at(w, len, i) & 0xC0u) == 0x80u)
            continue;
        uint32_t h = FE_FT_FNV_OFFSET;
        int64_t j = i;
        for (int64_t n = 1; j < L && n <= maxn; n++) {
            h = fe_ft_hash_step(h, fe_ft_at(w, len, j++));
            while (j < L && (fe_ft_at(w, len, j) & 0xC0u) == 0x80u)
                h = fe_ft_hash_step(h, fe_ft_at(w, len, j++));
            if (n >= minn && !(n == 1 && (i == 0 || j == L))) {
                if (count < cap)
                    out[count] = (int64_t)(h % bucket);
                count++;
            }
        }
    }
    return count;
}

/* ---------------------------------------------------------------- the dictionary of a .bin file */

/* Scans dictionary entries -- word bytes, a NUL, an int64 count, an int8 type (little-endian,
 * unaligned) -- from buf[0:n], at most max_entries complete ones. Word bytes are packed into
 * words (room for n bytes); ends[k] is the end of entry k's word in words (its start is
 * ends[k - 1], or 0); counts[k], types[k]. *consumed is the bytes of the complete entries.
 * *status: 0, or 1 when the next entry's word has no NUL within its first max_word + 1 bytes
 * (it starts at buf + *consumed). Stops at an incomplete entry (the caller reads more). Assumes a
 * little-endian machine (checked by the caller). */
static inline int64_t fe_ft_scan_dict(const unsigned char *buf, int64_t n, int64_t max_entries, int64_t max_word,
                                      unsigned char *words, int64_t *ends, int64_t *counts, int8_t *types,
                                      int64_t *consumed, int *status)
{
    int64_t pos = 0, wpos = 0, k = 0;
    *status = 0;
    while (k < max_entries) {
        int64_t rest = n - pos;
        int64_t lim = rest < max_word + 1 ? rest : max_word + 1;
        const unsigned char *z = lim > 0 ? (const unsigned char *)memchr(buf + pos, 0, (size_t)lim) : NULL;
        if (z == NULL) {
            if (rest > max_word)
                *status = 1;
            break;
        }
        int64_t wl = (int64_t)(z - (buf + pos));
        if (rest < wl + 10)
            break;
        memcpy(words + wpos, buf + pos, (size_t)wl);
        wpos += wl;
        ends[k] = wpos;
        memcpy(&counts[k], z + 1, 8);
        types[k] = (int8_t)z[9];
        pos += wl + 10;
        k++;
    }
    *consumed = pos;
    return k;
}

/* ---------------------------------------------------------------- mean vectors */

typedef struct {
    const float *words;          /* (n_rows, D) word rows, or NULL (unknown words only) */
    const int64_t *rows;         /* per word: its row in `words`, or -1 for none; NULL: word i is row i */
    const float *ngrams;         /* (bucket, D) n-gram rows */
    int64_t bucket, D;           /* bucket 0: no n-grams at all */
    const unsigned char *blob;   /* word i is blob[offsets[i]:offsets[i + 1]] */
    const int64_t *offsets;
    int64_t minn, maxn;
    int skip_eos;                /* "</s>" gets no n-grams (fastText since file version 12) */
} fe_ft_args;

/* fastText training (impl/fasttext.h): word2vec's model (w.syn0 is the (V + bucket, D) input matrix
 * -- the word rows, then the n-gram buckets; w.syn1neg the (V, D) output rows; w.V the words, among
 * which noise words are drawn) and each word's input rows, fastText's Dictionary::getSubwords. */
typedef struct {
    fe_w2v_model w;
    const int64_t *sub_starts;   /* (V + 1,): word i's input rows are sub_rows[sub_starts[i]:sub_starts[i + 1]] */
    const int64_t *sub_rows;     /* the word's own row i first, then V + the bucket of each n-gram */
    int per_pair;                /* skip-gram: 1 recomputes the hidden vector and updates the input rows
                                    after every (word, context) pair, as fastText; 0 once per position */
} fe_ft_model;

#endif /* FE_FASTTEXT_H */
