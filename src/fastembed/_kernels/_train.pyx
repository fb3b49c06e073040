"""Learning kernels: sparse gradient reduction and updates, word2vec batches (skip-gram, CBOW) and
fastText batches (the same, with character n-grams on the input side).

Assumes validated input (fastembed/training.py and EmbeddingTable.backward/apply_sparse check ids,
shapes, dtypes and read-only tables).
"""
from cython.parallel cimport prange, parallel, threadid
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from libc.stdlib cimport malloc, free

import numpy as np

from fastembed._kernels._common cimport intp_t as fe_intp, team
from fastembed._kernels._csrc cimport (fe_ops, fe_w2v_model, fe_ft_model, fe_mix, FE_EXP_TABLE_SIZE, FE_MAX_EXP,
                                       FE_MAX_NEGATIVE)
from fastembed._kernels._simd cimport ops

EXP_TABLE_SIZE = FE_EXP_TABLE_SIZE
MAX_EXP = FE_MAX_EXP
MAX_NEGATIVE = FE_MAX_NEGATIVE


def alias_table(const double[::1] weights not None):
    """Vose's alias method for sampling index i with probability weights[i] / sum(weights).

    Returns (prob uint32, alias int32): draw i uniformly, keep i if a uniform u32 < prob[i], else
    take alias[i]. O(V) to build, O(1) per draw.
    """
    cdef fe_intp n = weights.shape[0], i, s, l, ns = 0, nl = 0
    cdef double total = 0
    for i in range(n):
        total += weights[i]
    if n == 0 or not total > 0:
        raise ValueError("alias_table needs positive weights")
    scaled = np.empty(n, np.float64)
    cdef double[::1] p = scaled
    prob = np.empty(n, np.uint32)
    alias = np.empty(n, np.int32)
    cdef uint32_t[::1] pr = prob
    cdef int32_t[::1] al = alias
    small_a = np.empty(n, np.int64)
    large_a = np.empty(n, np.int64)
    cdef int64_t[::1] small = small_a
    cdef int64_t[::1] large = large_a
    for i in range(n):
        p[i] = weights[i] * n / total
        if p[i] < 1.0:
            small[ns] = i
            ns += 1
        else:
            large[nl] = i
            nl += 1
    while ns > 0 and nl > 0:
        ns -= 1
        s = small[ns]
        l = large[nl - 1]
        pr[s] = <uint32_t>min(p[s] * 4294967296.0, 4294967295.0)
        al[s] = <int32_t>l
        p[l] = (p[l] + p[s]) - 1.0
        if p[l] < 1.0:
            nl -= 1
            small[ns] = l
            ns += 1
    while nl > 0:
        nl -= 1
        pr[large[nl]] = 4294967295u
        al[large[nl]] = <int32_t>large[nl]
    while ns > 0:  # rounding leftovers: probability ~1
        ns -= 1
        pr[small[ns]] = 4294967295u
        al[small[ns]] = <int32_t>small[ns]
    return prob, alias


def segment_sum(const float[:, ::1] grad not None, const int64_t[::1] order not None,
                const int64_t[::1] starts not None, const float[::1] scale, float[:, ::1] out not None,
                int n_threads):
    """out[u] = sum of grad[order[j]] for j in starts[u]:starts[u+1], in j order (times scale[u]).

    numpy: ``np.add.at(dense, ids, grad)`` restricted to the unique ids, when order is a stable
    argsort of ids and starts the boundaries of equal ids. Parallel over u: no two threads write
    the same row, and each row's sum order is fixed, so any thread count gives the same bits.
    """
    cdef fe_intp U = out.shape[0], D = out.shape[1], t
    cdef int nt = team(out.shape[0], n_threads)
    cdef const float *sp = &scale[0] if scale is not None and scale.shape[0] > 0 else NULL
    cdef const fe_ops *o = ops()
    if U == 0 or D == 0:
        return
    with nogil:
        for t in prange(nt, num_threads=nt, schedule='static', chunksize=1, use_threads_if=nt > 1):
            o.segment_sum(&grad[0, 0], &order[0], &starts[0], U * t // nt, U * (t + 1) // nt, D, sp,
                           &out[0, 0])


def sparse_update(float[:, ::1] table not None, const int64_t[::1] ids not None,
                  const float[:, ::1] rows not None, float lr, const float[::1] steps, int n_threads):
    """table[ids[i]] -= step_i * rows[i] for unique ids, step_i = steps[i] if given else lr.

    numpy: ``table[ids] -= lr * rows`` (or ``steps[:, None] * rows``). Unique ids: no two threads
    touch the same row.
    """
    cdef fe_intp n = ids.shape[0], D = table.shape[1], i
    cdef int nt = team(n, n_threads)
    cdef const float *sp = &steps[0] if steps is not None and steps.shape[0] > 0 else NULL
    cdef const fe_ops *o = ops()
    if n == 0 or D == 0:
        return
    with nogil:
        for i in prange(n, num_threads=nt, schedule='static', use_threads_if=nt > 1):
            o.axpy(&table[ids[i], 0], -(sp[i] if sp != NULL else lr), &rows[i, 0], D)


cdef int _w2v_model(fe_w2v_model *m, float[:, ::1] syn0, float[:, ::1] syn1neg, const uint32_t[::1] keep,
                    const uint32_t[::1] alias_prob, const int32_t[::1] alias, int window, int negative,
                    const float[::1] exp_table, const float[::1] logsig_table, bint shrink_windows) except -1:
    m.syn0 = &syn0[0, 0]
    m.syn1neg = &syn1neg[0, 0]
    m.D = syn0.shape[1]
    m.V = syn1neg.shape[0]
    m.keep = &keep[0] if keep is not None else NULL
    m.alias_prob = &alias_prob[0]
    m.alias = &alias[0]
    m.window = window
    m.negative = negative
    m.fixed_window = 0 if shrink_windows else 1
    m.exp_table = &exp_table[0]
    m.logsig_table = &logsig_table[0]
    return 0


def w2v_batch(float[:, ::1] syn0 not None, float[:, ::1] syn1neg not None,
              const int32_t[::1] words not None, const int64_t[::1] starts not None,
              const uint32_t[::1] keep, const uint32_t[::1] alias_prob not None,
              const int32_t[::1] alias not None, int window, int negative,
              float alpha0, float alpha1, uint64_t seed, const float[::1] exp_table not None,
              const float[::1] logsig_table not None, bint compute_loss, int n_threads,
              bint sg=True, bint cbow_mean=True, bint shrink_windows=True):
    """Negative-sampling updates for the sentences words[starts[s]:starts[s+1]]: skip-gram
    (``sg``) or CBOW (mean of the context vectors with ``cbow_mean``, else their sum). Each
    position's window is shrunk by a random 0..window-1 (``shrink_windows``, word2vec.c's and
    gensim's default) or used whole.

    The learning rate falls linearly from alpha0 (first sentence) to alpha1 (last). Sentence s
    draws random numbers from its own seed mix(seed + s) (the caller passes seed = its epoch key
    plus the batch's first sentence number, so every sentence of an epoch has its own stream), so
    a single thread is reproducible bit for bit (at every SIMD level); several threads share the
    weights without locks (Hogwild), as word2vec.c does. numpy: :func:`fastembed.reference.w2v_batch`.

    Returns (words kept after subsampling, summed loss).

    Raises
    ------
    MemoryError : the per-thread scratch buffers cannot be allocated.
    FloatingPointError : a dot product was NaN or infinite (training diverged: the learning rate is
        far too large). Such pairs never index the sigmoid tables (inf saturates, NaN pairs are
        skipped); the batch is finished, then this is raised.
    """
    cdef fe_intp S = starts.shape[0] - 1, s, maxlen = 0, D = syn0.shape[1], per_buf, per_vec
    cdef fe_w2v_model m
    cdef int nt = n_threads if n_threads > 0 else 1
    cdef int64_t kept = 0, nonfinite = 0, bad
    cdef double loss = 0.0, lloc
    cdef int32_t *bufs
    cdef float *vecs
    cdef float alpha
    cdef int tid
    cdef const fe_ops *o = ops()
    if S <= 0 or words.shape[0] == 0:
        return 0, 0.0
    for s in range(S):
        if starts[s + 1] - starts[s] > maxlen:
            maxlen = starts[s + 1] - starts[s]
    _w2v_model(&m, syn0, syn1neg, keep, alias_prob, alias, window, negative, exp_table, logsig_table,
               shrink_windows)
    if S < nt:
        nt = <int>S
    # every thread's scratch is allocated here, with the GIL, so a failure is a MemoryError and not
    # a NULL pointer inside the parallel region
    per_buf = maxlen + 1
    per_vec = 2 * (D + 1)  # neu1e, and CBOW's neu1
    bufs = <int32_t *>malloc(nt * per_buf * sizeof(int32_t))
    vecs = <float *>malloc(nt * per_vec * sizeof(float))
    if bufs == NULL or vecs == NULL:
        free(bufs)
        free(vecs)
        raise MemoryError(f"word2vec: cannot allocate scratch for {nt} threads (sentences of up to "
                          f"{maxlen} words, dim {D})")
    try:
        with nogil, parallel(num_threads=nt):
            for s in prange(S, schedule='dynamic', chunksize=8):
                tid = threadid()
                alpha = alpha0 + (alpha1 - alpha0) * (<float>s / <float>S)
                lloc = 0.0
                bad = 0
                if sg:
                    kept += o.w2v_sentence(&m, &words[starts[s]], starts[s + 1] - starts[s], alpha,
                                           fe_mix(seed + <uint64_t>s), bufs + tid * per_buf,
                                           vecs + tid * per_vec, &lloc if compute_loss else NULL, &bad)
                else:
                    kept += o.w2v_cbow_sentence(&m, &words[starts[s]], starts[s + 1] - starts[s], alpha,
                                                fe_mix(seed + <uint64_t>s), cbow_mean, bufs + tid * per_buf,
                                                vecs + tid * per_vec, vecs + tid * per_vec + D + 1,
                                                &lloc if compute_loss else NULL, &bad)
                loss += lloc
                nonfinite += bad
    finally:
        free(bufs)
        free(vecs)
    if nonfinite:
        raise FloatingPointError(
            f"word2vec training diverged: {nonfinite} dot products were NaN or infinite in this batch "
            f"(learning rate {alpha0:g}); lower alpha")
    return kept, loss


def ft_batch(float[:, ::1] syn0 not None, float[:, ::1] syn1neg not None, const int64_t[::1] sub_starts not None,
             const int64_t[::1] sub_rows not None, const int32_t[::1] words not None,
             const int64_t[::1] starts not None, const uint32_t[::1] keep, const uint32_t[::1] alias_prob not None,
             const int32_t[::1] alias not None, int window, int negative, float alpha0, float alpha1, uint64_t seed,
             const float[::1] exp_table not None, const float[::1] logsig_table not None, bint compute_loss,
             int n_threads, bint sg=True, bint per_pair=True, bint shrink_windows=True):
    """fastText's updates for the sentences words[starts[s]:starts[s+1]]: skip-gram (``sg``) or
    CBOW, the input side of a word being the mean of its rows ``syn0[sub_rows[sub_starts[w]:
    sub_starts[w+1]]]`` (its own row, then its n-gram buckets), the output side word2vec's
    negative-sampling step on ``syn1neg`` (V, D) (noise words among the V words).

    Assumes validated input: ``syn0`` (V + bucket, D), ``sub_starts`` (V + 1,) non-decreasing with
    at least one row per word, ``sub_rows`` in [0, V + bucket), words in [0, V), ``negative`` <=
    MAX_NEGATIVE. The learning rate and the random streams are :func:`w2v_batch`'s (sentence s
    seeded with mix(seed + s)); ``per_pair`` (skip-gram) recomputes the hidden vector after every
    pair as fastText (else once per position). numpy: :func:`fastembed.reference.fasttext_batch`.

    Returns (words kept after subsampling, summed loss).

    Raises
    ------
    MemoryError : the per-thread scratch buffers cannot be allocated.
    FloatingPointError : a dot product was NaN or infinite (training diverged).
    """
    cdef fe_intp S = starts.shape[0] - 1, s, maxlen = 0, D = syn0.shape[1], per_buf, per_vec
    cdef fe_ft_model f
    cdef int nt = n_threads if n_threads > 0 else 1
    cdef int64_t kept = 0, nonfinite = 0, bad
    cdef double loss = 0.0, lloc
    cdef int32_t *bufs
    cdef float *vecs
    cdef float *v
    cdef float alpha
    cdef int tid
    cdef const fe_ops *o = ops()
    if S <= 0 or words.shape[0] == 0:
        return 0, 0.0
    for s in range(S):
        if starts[s + 1] - starts[s] > maxlen:
            maxlen = starts[s + 1] - starts[s]
    _w2v_model(&f.w, syn0, syn1neg, keep, alias_prob, alias, window, negative, exp_table, logsig_table,
               shrink_windows)
    f.sub_starts = &sub_starts[0]
    f.sub_rows = &sub_rows[0]
    f.per_pair = 1 if per_pair else 0
    if S < nt:
        nt = <int>S
    per_buf = maxlen + 1
    per_vec = 3 * (D + 16)  # hidden, neu1e, grad
    bufs = <int32_t *>malloc(nt * per_buf * sizeof(int32_t))
    vecs = <float *>malloc(nt * per_vec * sizeof(float))
    if bufs == NULL or vecs == NULL:
        free(bufs)
        free(vecs)
        raise MemoryError(f"fastText: cannot allocate scratch for {nt} threads (sentences of up to "
                          f"{maxlen} words, dim {D})")
    try:
        with nogil, parallel(num_threads=nt):
            for s in prange(S, schedule='dynamic', chunksize=8):
                tid = threadid()
                v = vecs + tid * per_vec
                alpha = alpha0 + (alpha1 - alpha0) * (<float>s / <float>S)
                lloc = 0.0
                bad = 0
                if sg:
                    kept += o.ft_sg_sentence(&f, &words[starts[s]], starts[s + 1] - starts[s], alpha,
                                             fe_mix(seed + <uint64_t>s), bufs + tid * per_buf, v, v + D + 16,
                                             v + 2 * (D + 16), &lloc if compute_loss else NULL, &bad)
                else:
                    kept += o.ft_cbow_sentence(&f, &words[starts[s]], starts[s + 1] - starts[s], alpha,
                                               fe_mix(seed + <uint64_t>s), bufs + tid * per_buf, v, v + D + 16,
                                               &lloc if compute_loss else NULL, &bad)
                loss += lloc
                nonfinite += bad
    finally:
        free(bufs)
        free(vecs)
    if nonfinite:
        raise FloatingPointError(
            f"fastText training diverged: {nonfinite} dot products were NaN or infinite in this batch "
            f"(learning rate {alpha0:g}); lower alpha")
    return kept, loss
