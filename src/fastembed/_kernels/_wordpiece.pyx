"""The native WordPiece tokenizer (csrc/fe_wordpiece.h): texts to ragged ids, OpenMP over texts.

Layer 2 of 3: fastembed.text.tokenizer reads the tokenizer.json, checks that its configuration is
exactly the one csrc/fe_wordpiece.h implements, and builds a :class:`WordPiece` from the vocabulary.
``encode`` takes the UTF-8 bytes of every text (ASCII strings are read in place, others encoded once),
releases the GIL and encodes contiguous runs of texts on each thread into that thread's growable
buffer; the buffers are then copied into one flat int64 array with (B + 1,) offsets.
"""
cimport cython
from cython.parallel cimport prange
from libc.stdint cimport int32_t, int64_t, uint8_t
from libc.stdlib cimport malloc, calloc, free
from libc.string cimport memcpy, memset

cimport numpy as cnp
import numpy as np

cnp.import_array()

from fastembed._kernels._common cimport team

cdef extern from "Python.h":
    bint PyUnicode_IS_ASCII(object o)
    const char *PyUnicode_AsUTF8AndSize(object o, Py_ssize_t *size) except NULL
    char *PyBytes_AS_STRING(object o)
    Py_ssize_t PyBytes_GET_SIZE(object o)

cdef extern from "fe_wordpiece.h" nogil:
    int FE_UNI_MAX_CP_PER_BYTE
    int FE_WP_MAX_SPECIAL
    ctypedef struct fe_wp_model:
        int32_t n_nodes
        int64_t unk_id
        int64_t max_chars
        int clean, chinese, strip, lower
        int32_t n_prefix, n_suffix
        int64_t prefix[8]
        int64_t suffix[8]
    ctypedef struct fe_wp_opts:
        int add_special
        int64_t trunc
        int trunc_left
        int64_t max_cps
        int64_t skip_id
    ctypedef struct fe_wp_buf:
        int64_t *ids
        int64_t n
    fe_wp_model *fe_wp_build(const char *blob, const int64_t *off, const int64_t *id, int64_t n,
                             const char *cont, int64_t cont_len) noexcept
    int fe_wp_set_added(fe_wp_model *m, const char *blob, const int64_t *off, const int64_t *id,
                        int32_t n) noexcept
    void fe_wp_free(fe_wp_model *m) noexcept
    void fe_wp_buf_free(fe_wp_buf *w) noexcept
    int fe_wp_encode_range(const fe_wp_model *m, const fe_wp_opts *o, const char *const *texts,
                           const int64_t *lens, int64_t lo, int64_t hi, int64_t *counts, fe_wp_buf *w) noexcept
    int64_t fe_wp_pretokenize(const fe_wp_model *m, const uint8_t *s, int64_t n, uint8_t *out,
                              int64_t *ends, fe_wp_buf *w) noexcept


@cython.auto_pickle(False)
cdef class WordPiece:
    """A WordPiece vocabulary as a trie, with the normalizer's flags, the added tokens and the
    template's special ids. Assumes validated input: ``tokens`` sorted bytewise and distinct,
    ``token_offsets`` (n + 1,) into ``blob``; at most 8 prefix and 8 suffix special ids."""
    cdef fe_wp_model *m

    def __cinit__(self, bytes blob not None, const int64_t[::1] token_offsets not None,
                  const int64_t[::1] token_ids not None, bytes continuing_prefix not None,
                  int64_t unk_id, int64_t max_input_chars_per_word, bint clean_text,
                  bint handle_chinese_chars, bint strip_accents, bint lowercase,
                  bytes added_blob not None, const int64_t[::1] added_offsets not None,
                  const int64_t[::1] added_ids not None, const int64_t[::1] prefix not None,
                  const int64_t[::1] suffix not None):
        cdef int64_t n = token_ids.shape[0]
        cdef int i
        if token_offsets.shape[0] != n + 1 or added_offsets.shape[0] != added_ids.shape[0] + 1:
            raise ValueError("offsets must have one entry more than ids")
        if prefix.shape[0] > FE_WP_MAX_SPECIAL or suffix.shape[0] > FE_WP_MAX_SPECIAL:
            raise ValueError(f"at most {FE_WP_MAX_SPECIAL} special tokens before and after the text")
        self.m = fe_wp_build(PyBytes_AS_STRING(blob), &token_offsets[0],
                             &token_ids[0] if n else NULL, n,
                             PyBytes_AS_STRING(continuing_prefix), len(continuing_prefix))
        if self.m == NULL:
            raise MemoryError()
        if fe_wp_set_added(self.m, PyBytes_AS_STRING(added_blob), &added_offsets[0],
                           &added_ids[0] if added_ids.shape[0] else NULL, <int32_t>added_ids.shape[0]):
            raise MemoryError()
        self.m.unk_id = unk_id
        self.m.max_chars = max_input_chars_per_word
        self.m.clean = clean_text
        self.m.chinese = handle_chinese_chars
        self.m.strip = strip_accents
        self.m.lower = lowercase
        self.m.n_prefix = <int32_t>prefix.shape[0]
        self.m.n_suffix = <int32_t>suffix.shape[0]
        for i in range(prefix.shape[0]):
            self.m.prefix[i] = prefix[i]
        for i in range(suffix.shape[0]):
            self.m.suffix[i] = suffix[i]

    def __dealloc__(self):
        fe_wp_free(self.m)

    @property
    def n_nodes(self):
        """Nodes of the vocabulary trie."""
        return self.m.n_nodes

    def encode(self, list texts not None, bint add_special_tokens, int64_t truncate, bint truncate_left,
               int64_t max_chars, int64_t skip_id, int n_threads):
        """Encode ``texts`` (a list of str) to ``(ids, offsets)``: text b's ids are
        ``ids[offsets[b]:offsets[b + 1]]``, both int64.

        ``truncate``: keep at most this many ids, specials included (-1: no limit; assumes it is at
        least the number of special tokens); ``truncate_left``: keep the last ones;
        ``max_chars``: encode only each text's first code points (-1: all); ``skip_id``: leave this id
        out (-1: none). TypeError for an item that is not a str, ValueError for a str that is not
        valid Unicode (a lone surrogate), naming its index.
        """
        cdef Py_ssize_t B = len(texts), i, size
        cdef int64_t total = 0, bytes_total = 0, acc
        cdef int nt = 0, t
        cdef object s
        cdef list keep = []
        cdef fe_wp_opts o
        o.add_special = add_special_tokens
        o.trunc = truncate
        o.trunc_left = truncate_left
        o.max_cps = max_chars
        o.skip_id = skip_id
        cdef const char **ptrs = <const char **>malloc((B if B else 1) * sizeof(char *))
        cdef int64_t *lens = <int64_t *>malloc((B if B else 1) * sizeof(int64_t))
        cdef int64_t *counts = <int64_t *>malloc((B if B else 1) * sizeof(int64_t))
        cdef int64_t *starts = NULL
        cdef fe_wp_buf *bufs = NULL
        cdef int *status = NULL
        cdef int64_t[::1] ov
        cdef int64_t *op
        cdef int64_t *idp
        try:
            if ptrs == NULL or lens == NULL or counts == NULL:
                raise MemoryError()
            for i in range(B):
                s = texts[i]
                if type(s) is not str:
                    if not isinstance(s, str):
                        raise TypeError(f"texts[{i}] is {type(s).__name__}, not str")
                if PyUnicode_IS_ASCII(s):
                    ptrs[i] = PyUnicode_AsUTF8AndSize(s, &size)  # the string's own bytes: no copy
                else:
                    try:
                        b = (<str>s).encode("utf-8")
                    except UnicodeEncodeError as e:
                        raise ValueError(f"texts[{i}] is not valid Unicode: {e.reason} at character "
                                         f"{e.start} (U+{ord(s[e.start]):04X})") from None
                    keep.append(b)
                    ptrs[i] = PyBytes_AS_STRING(b)
                    size = PyBytes_GET_SIZE(b)
                lens[i] = size
                bytes_total += size
            nt = team(B, n_threads)
            starts = <int64_t *>malloc((nt + 1) * sizeof(int64_t))
            bufs = <fe_wp_buf *>calloc(nt, sizeof(fe_wp_buf))
            status = <int *>calloc(nt, sizeof(int))
            if starts == NULL or bufs == NULL or status == NULL:
                raise MemoryError()
            # contiguous runs of texts with about the same number of bytes per thread
            starts[0] = 0
            t = 1
            acc = 0
            for i in range(B):
                while t < nt and acc * nt >= bytes_total * t:
                    starts[t] = i
                    t += 1
                acc += lens[i]
            while t <= nt:
                starts[t] = B
                t += 1
            with nogil:
                for t in prange(nt, num_threads=nt, schedule='static', chunksize=1, use_threads_if=nt > 1):
                    status[t] = fe_wp_encode_range(self.m, &o, ptrs, lens, starts[t], starts[t + 1], counts,
                                                   &bufs[t])
            for t in range(nt):
                if status[t]:
                    raise MemoryError("out of memory while tokenizing")
                total += bufs[t].n
            offsets = np.empty(B + 1, np.int64)
            ov = offsets
            ov[0] = 0
            for i in range(B):
                ov[i + 1] = ov[i] + counts[i]
            ids = np.empty(total, np.int64)
            if total:
                idp = <int64_t *>cnp.PyArray_DATA(ids)
                op = &ov[0]
                with nogil:
                    for t in prange(nt, num_threads=nt, schedule='static', chunksize=1, use_threads_if=nt > 1):
                        if bufs[t].n:
                            memcpy(idp + op[starts[t]], bufs[t].ids, bufs[t].n * sizeof(int64_t))
            return ids, offsets
        finally:
            if bufs != NULL:
                for t in range(nt):
                    fe_wp_buf_free(&bufs[t])
            free(bufs)
            free(status)
            free(starts)
            free(ptrs)
            free(lens)
            free(counts)

    def pretokenize(self, str text not None):
        """The normalized, pre-tokenized words of ``text`` (no added tokens, no WordPiece): what
        ``normalizer.normalize_str`` then ``pre_tokenizer.pre_tokenize_str`` give in tokenizers."""
        cdef bytes b = text.encode("utf-8")
        cdef int64_t n = len(b), k, i, at = 0
        cdef fe_wp_buf w
        cdef bytearray out = bytearray(4 * FE_UNI_MAX_CP_PER_BYTE * n + 8)
        cdef int64_t[::1] ends = np.empty(FE_UNI_MAX_CP_PER_BYTE * n + 1, np.int64)
        memset(&w, 0, sizeof(w))
        k = fe_wp_pretokenize(self.m, <const uint8_t *>PyBytes_AS_STRING(b), n, <uint8_t *><char *>out,
                              &ends[0], &w)
        fe_wp_buf_free(&w)
        if k < 0:
            raise MemoryError()
        words = []
        for i in range(k):
            words.append(bytes(out[at:ends[i]]).decode("utf-8"))
            at = ends[i]
        return words
