"""fastText subword kernels: the dictionary scan of a ``.bin`` model, character n-gram bucket ids
and the mean vectors of words (their row plus their n-gram rows).

Layer 2 of 3: ``def`` wrappers over typed memoryviews that the Python layer
(``fastembed.io.fasttext``) has validated. The loops are the plain C of ``csrc/fe_fasttext.h``;
``mean_vectors`` splits the words into contiguous ranges holding about the same number of bytes,
one per OpenMP thread (each word is written by one thread, so the result does not depend on the
team), and runs the SIMD level's ``ft_mean_range`` (``csrc/impl/fasttext.h``, the fe_ops table).
"""
from cython.parallel cimport prange

from fastembed._kernels._common cimport lower_bound
from libc.stdint cimport int8_t, int64_t, uint32_t
from libc.stdlib cimport free, malloc

import numpy as np

from fastembed._kernels._csrc cimport (fe_ops, fe_ft_args, fe_ft_hash, fe_ft_ngrams, fe_ft_is_eos,
                                       fe_ft_scan_dict)
from fastembed._kernels._simd cimport ops


def hash_bytes(const unsigned char[::1] s not None):
    """fastText's hash (FNV-1a over signed chars) of the bytes ``s``, as an int in [0, 2**32)."""
    cdef int64_t n = s.shape[0]
    cdef uint32_t h
    with nogil:
        h = fe_ft_hash(&s[0] if n > 0 else NULL, n)
    return h


def ngram_ids(const unsigned char[::1] blob not None, const int64_t[::1] offsets not None, int64_t minn,
              int64_t maxn, int64_t bucket, bint skip_eos):
    """The n-gram bucket ids of words ``blob[offsets[i]:offsets[i+1]]``, in fastText's order.

    Assumes validated input: ``offsets`` (n + 1,) non-decreasing from 0 to at most len(blob);
    ``0 <= minn``, ``0 <= maxn``, ``0 <= bucket < 2**32`` (0: no n-grams).

    Returns ``(ids, bounds)``: int64 arrays, word i's ids are ``ids[bounds[i]:bounds[i+1]]``.
    """
    cdef int64_t n = offsets.shape[0] - 1, i, total = 0, m
    cdef const unsigned char *b = &blob[0] if blob.shape[0] > 0 else <const unsigned char *>""
    bounds = np.zeros(max(n, 0) + 1, np.int64)
    cdef int64_t[::1] bv = bounds
    if bucket > 0:
        with nogil:
            for i in range(n):
                if not (skip_eos and fe_ft_is_eos(b + offsets[i], offsets[i + 1] - offsets[i])):
                    total += fe_ft_ngrams(b + offsets[i], offsets[i + 1] - offsets[i], minn, maxn,
                                          <uint32_t>bucket, NULL, 0)
                bv[i + 1] = total
    ids = np.empty(total, np.int64)
    cdef int64_t[::1] iv = ids
    if total > 0:
        with nogil:
            for i in range(n):
                m = bv[i + 1] - bv[i]
                if m > 0:
                    fe_ft_ngrams(b + offsets[i], offsets[i + 1] - offsets[i], minn, maxn, <uint32_t>bucket,
                                 &iv[bv[i]], m)
    return ids, bounds


def scan_dictionary(const unsigned char[::1] buf not None, int64_t max_entries, int64_t max_word,
                    unsigned char[::1] words not None, int64_t[::1] ends not None, int64_t[::1] counts not None,
                    int8_t[::1] types not None):
    """Scan up to ``max_entries`` complete dictionary entries (word, NUL, int64 count, int8 type)
    from ``buf``.

    Assumes validated input: ``words`` has room for len(buf) bytes; ``ends``, ``counts`` and
    ``types`` for ``max_entries``; a little-endian machine.

    Returns ``(entries, consumed, status)``: status 0, or 1 when the entry at ``consumed`` has no
    NUL within its first ``max_word + 1`` bytes.
    """
    cdef int64_t n = buf.shape[0], k, consumed = 0
    cdef int status = 0
    if max_entries <= 0 or n == 0:
        return 0, 0, 0
    with nogil:
        k = fe_ft_scan_dict(&buf[0], n, max_entries, max_word, &words[0], &ends[0], &counts[0], &types[0],
                            &consumed, &status)
    return k, consumed, status


def mean_vectors(const float[:, ::1] words, const int64_t[::1] rows, const float[:, ::1] ngrams not None,
                 const unsigned char[::1] blob not None, const int64_t[::1] offsets not None, int64_t minn,
                 int64_t maxn, bint skip_eos, float[:, ::1] out not None, int n_threads):
    """out[i] = the mean of word i's row (if any) and its n-gram rows (fastText's word vectors).

    Assumes validated input: ``ngrams`` (bucket, D) float32 (bucket 0: no n-grams); ``words``
    (R, D) float32 or None (no word rows); ``rows`` (n,) int64 in [-1, R) or None (word i is row i
    of ``words``, which then has at least n rows); ``offsets`` (n + 1,) non-decreasing from 0 to at
    most len(blob); ``out`` (n, D) float32, D > 0, not overlapping the inputs; ``n_threads`` >= 1,
    the exact team. The summation order is the one of ``csrc/fe_fasttext.h``.

    numpy: ``out[i] = (words[rows[i]] + sum(ngrams[ngram_ids(word i)])) / count``, adding in
    order (see :func:`fastembed.reference.fasttext_vectors`).
    """
    cdef int64_t n = out.shape[0], D = out.shape[1], N = offsets[offsets.shape[0] - 1]
    cdef fe_ft_args a
    cdef int64_t *cuts
    cdef int *bad
    cdef int t, nt, res = 0
    cdef const fe_ops *o = ops()
    if n == 0 or D == 0:
        return
    a.words = &words[0, 0] if words is not None and words.shape[0] > 0 else NULL
    a.rows = &rows[0] if rows is not None else NULL
    a.ngrams = &ngrams[0, 0] if ngrams.shape[0] > 0 else NULL
    a.bucket = ngrams.shape[0]
    a.D = D
    a.blob = &blob[0] if blob.shape[0] > 0 else <const unsigned char *>""
    a.offsets = &offsets[0]
    a.minn = minn
    a.maxn = maxn
    a.skip_eos = skip_eos
    nt = n_threads if n_threads < n else <int>n
    if nt < 1:
        nt = 1
    cuts = <int64_t *>malloc((nt + 1) * sizeof(int64_t))
    bad = <int *>malloc(nt * sizeof(int))
    if cuts == NULL or bad == NULL:
        free(cuts)
        free(bad)
        raise MemoryError()
    # ranges of words holding about N / nt bytes each (the n-gram work grows with the word length)
    cuts[0] = 0
    cuts[nt] = n
    for t in range(1, nt):
        cuts[t] = lower_bound(a.offsets, n, N * t // nt)
        if cuts[t] < cuts[t - 1]:
            cuts[t] = cuts[t - 1]
    with nogil:
        for t in prange(nt, num_threads=nt, schedule='static', chunksize=1, use_threads_if=nt > 1):
            bad[t] = o.ft_mean_range(&a, cuts[t], cuts[t + 1], &out[0, 0] + cuts[t] * D)
        for t in range(nt):
            if bad[t] != 0:
                res = bad[t]
    free(cuts)
    free(bad)
    if res != 0:
        raise MemoryError("no memory for the n-gram ids of a word")
