"""GloVe kernels: co-occurrence counting into per-thread hash maps, sorting a map into a run, the merge
of runs and the record shuffle (csrc/fe_glove.h), and the AdaGrad training pass (csrc/impl/glove.h,
at the process' SIMD level: the fe_ops table's glove_train).

A map or a run is a (n, 2) uint64 array of slots: column 0 the key ``(a << 32) | b`` (``EMPTY`` in a
free map slot), column 1 the bits of the float64 sum. A record is a row of a (n, 4) int32 array:
i, j and the bits of the float32 ``log X_ij`` and ``f(X_ij)``.

Assumes validated input (fastembed/glove.py sizes the maps and the calls, checks ids against the
vocabulary and allocates every array with the shapes and dtypes above). numpy equivalents:
:func:`fastembed.reference.glove_cooccurrence`, :func:`fastembed.reference.glove_epoch`,
:func:`fastembed.reference.glove_shuffle`.
"""
from cython.parallel cimport prange
from libc.stdint cimport int32_t, int64_t, uint64_t
from libc.stdlib cimport malloc, free


from fastembed._kernels._csrc cimport (fe_ops, fe_glove_slot, fe_glove_map, fe_glove_rec, fe_glove_model,
                                       FE_GLOVE_EMPTY, FE_GLOVE_MAX_WINDOW, FE_GLOVE_RADIX, fe_glove_count,
                                       fe_glove_map_move, fe_glove_map_sort, fe_glove_merge, fe_glove_shuffle)
from fastembed._kernels._simd cimport ops

EMPTY = FE_GLOVE_EMPTY
MAX_WINDOW = FE_GLOVE_MAX_WINDOW


cdef fe_glove_slot *_slots(uint64_t[:, ::1] a):
    return <fe_glove_slot *>&a[0, 0] if a.shape[0] > 0 else NULL


def cooc_count(list maps not None, int64_t[::1] used not None, const int64_t[::1] hard not None,
               const int32_t[::1] words not None, const int64_t[::1] starts not None,
               const int64_t[::1] bounds not None, int window, const double[::1] weight not None,
               bint symmetric):
    """Add the pairs of sentences bounds[t]:bounds[t+1] of (words, starts) into maps[t].

    maps[t] is a (cap_t, 2) uint64 slot array with used[t] slots in use (updated); it never fills
    more than hard[t] slots. ``weight[d]`` is the increment at distance d (1 <= d <= window). One
    thread a map. Raises RuntimeError if a map reached its hard limit (the caller sizes the calls so
    that it cannot).
    """
    cdef int nt = len(maps), t
    cdef int64_t full = 0
    cdef fe_glove_map *m
    cdef uint64_t[:, ::1] a
    if words.shape[0] == 0 or starts.shape[0] < 2 or nt == 0:
        return
    m = <fe_glove_map *>malloc(nt * sizeof(fe_glove_map))
    if m == NULL:
        raise MemoryError("cannot allocate the map descriptors")
    try:
        for t in range(nt):
            a = maps[t]
            m[t].slots = _slots(a)
            m[t].cap = a.shape[0]
            m[t].n = used[t]
            m[t].hard = hard[t]
        with nogil:
            for t in prange(nt, num_threads=nt, schedule='static', chunksize=1, use_threads_if=nt > 1):
                if bounds[t] < bounds[t + 1]:
                    if fe_glove_count(&m[t], &words[0], &starts[0], bounds[t], bounds[t + 1], window,
                                      &weight[0], symmetric) != 0:
                        full += 1
        for t in range(nt):
            used[t] = m[t].n
    finally:
        free(m)
    if full:
        raise RuntimeError("a co-occurrence map filled up during a call (the calls are sized so that "
                           "this cannot happen: please report it)")


def map_move(uint64_t[:, ::1] src not None, uint64_t[:, ::1] dst not None):
    """Insert every entry of map src into the empty map dst (a larger one); returns dst's count."""
    cdef fe_glove_map s, d
    s.slots = _slots(src)
    s.cap = src.shape[0]
    s.n = 0
    d.slots = _slots(dst)
    d.cap = dst.shape[0]
    d.n = 0
    with nogil:
        fe_glove_map_move(&s, &d)
    return d.n


def map_sort(uint64_t[:, ::1] slots not None, uint64_t[:, ::1] tmp not None):
    """Sort the map's entries by key into slots[:n] and mark the rest free; returns n.
    tmp: scratch of at least n slots."""
    cdef fe_glove_map m
    cdef int64_t n
    cdef fe_glove_slot *tp = _slots(tmp)
    cdef int64_t *count = <int64_t *>malloc(FE_GLOVE_RADIX * sizeof(int64_t))
    if count == NULL:
        raise MemoryError("cannot allocate the radix sort's counters")
    m.slots = _slots(slots)
    m.cap = slots.shape[0]
    with nogil:
        n = fe_glove_map_sort(&m, tp, count)
    free(count)
    return n


cdef class Merger:
    """k-way merge of sorted runs ((n, 2) uint64 slot arrays, possibly read-only memory maps),
    summing equal keys in run order. ``fill(out)`` writes up to len(out) merged slots and returns
    how many (0 when every run is consumed). The runs stay referenced while the merger lives."""
    cdef list _runs
    cdef const fe_glove_slot **run
    cdef int64_t *rn
    cdef int64_t *pos
    cdef int64_t *heap
    cdef int64_t hn, R

    def __cinit__(self, list runs not None):
        cdef int64_t r, n = max(len(runs), 1)
        cdef const uint64_t[:, ::1] a
        self.R = len(runs)
        self._runs = runs
        self.hn = -1
        self.run = <const fe_glove_slot **>malloc(n * sizeof(fe_glove_slot *))
        self.rn = <int64_t *>malloc(n * sizeof(int64_t))
        self.pos = <int64_t *>malloc(n * sizeof(int64_t))
        self.heap = <int64_t *>malloc(n * sizeof(int64_t))
        if not (self.run and self.rn and self.pos and self.heap):
            raise MemoryError("cannot allocate the merge state")
        for r in range(self.R):
            a = runs[r]
            self.rn[r] = a.shape[0]
            self.run[r] = <const fe_glove_slot *>&a[0, 0] if a.shape[0] else NULL
            self.pos[r] = 0

    def __dealloc__(self):
        free(self.run)
        free(self.rn)
        free(self.pos)
        free(self.heap)

    def fill(self, uint64_t[:, ::1] out not None):
        cdef int64_t n
        if out.shape[0] == 0 or self.hn == 0:
            return 0
        with nogil:
            n = fe_glove_merge(self.run, self.rn, self.R, self.pos, self.heap, &self.hn,
                               <fe_glove_slot *>&out[0, 0], out.shape[0])
        return n


def train(float[:, ::1] W not None, float[:, ::1] G not None, const int32_t[:, ::1] rec not None,
          int64_t r0, int64_t r1, float eta, float clip, bint symmetric, int n_threads, float bias_eta):
    """One AdaGrad pass over records r0:r1.

    W and G are (2V, D + 1): word rows, then context rows, the bias in the last column. ``eta`` is
    the step of the vector components, ``bias_eta`` that of the biases (glove.c since its gradient
    clipping: 1.0; GloVe 1.2: eta). The range
    is split into n_threads contiguous slices trained at once without locks (Hogwild); one thread
    trains the records in order, reproducibly. Returns (summed cost, pairs skipped as non-finite).
    """
    cdef fe_glove_model m
    cdef int nt = n_threads if n_threads > 0 else 1, t
    cdef int64_t n = r1 - r0, skipped = 0, sk
    cdef double cost = 0.0, c
    cdef const fe_glove_rec *rp
    cdef const fe_ops *o = ops()
    if n <= 0:
        return 0.0, 0
    if nt > n:
        nt = <int>n
    m.W = &W[0, 0]
    m.G = &G[0, 0]
    m.V = W.shape[0] // 2
    m.D = W.shape[1] - 1
    m.eta = eta
    m.bias_eta = bias_eta
    m.clip = clip
    m.symmetric = symmetric
    rp = <const fe_glove_rec *>&rec[0, 0]
    with nogil:
        for t in prange(nt, num_threads=nt, schedule='static', chunksize=1, use_threads_if=nt > 1):
            sk = 0
            c = o.glove_train(&m, rp, r0 + n * t // nt, r0 + n * (t + 1) // nt, &sk)
            cost += c
            skipped += sk
    return cost, skipped


def shuffle(int32_t[:, ::1] rec not None, uint64_t state, int64_t k_hi=-1, int64_t k_lo=0):
    """Fisher-Yates steps k = k_hi .. k_lo + 1 of the shuffle of the records in place (k_hi = -1:
    from the last record; the defaults shuffle everything), drawing from the splitmix64 stream
    whose state is ``state``; returns the state after them, for the next call."""
    cdef int64_t n = rec.shape[0]
    if k_hi < 0 or k_hi > n - 1:
        k_hi = n - 1
    if n < 2 or k_hi <= k_lo:
        return state
    with nogil:
        fe_glove_shuffle(<fe_glove_rec *>&rec[0, 0], k_hi, k_lo, &state)
    return state
