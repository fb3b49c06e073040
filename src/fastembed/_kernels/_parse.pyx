"""Compiled parsers and writers for embedding files: text (word2vec / GloVe) and word2vec binary.

The Python layer (fastembed/io/) streams a file in chunks and calls these on the bytes; no Python
object is made per number, and every function here releases the GIL for its loop. Keys come back as
byte spans for the caller to decode. Assumes validated input: the callers check shapes and sizes.
Numbers are read and written without the C locale (csrc/fe_parse.h, csrc/fe_format.h).
"""
from libc.stdint cimport int64_t, uint32_t
from libc.string cimport memchr

import numpy as np

cdef extern from "fe_parse.h" nogil:
    int FE_LINE_OK, FE_LINE_BLANK, FE_LINE_TOO_FEW, FE_LINE_BAD_NUMBER, FE_LINE_AMBIGUOUS
    int FE_MAX_NUMBER_BYTES
    int fe_parse_line(const char *p, const char *end, int64_t d, float *row, int64_t *ks, int64_t *ke,
                      int64_t *ntok, int64_t *bad_s, int64_t *bad_e, const char *base) noexcept
    int fe_parse_float(const char *p, const char *end, float *out) noexcept
    void fe_line_shape(const char *p, const char *end, int64_t *ntok, int64_t *ntail) noexcept
    int fe_parse_binary(const char *buf, int64_t n, int64_t d, int newline_mode, int64_t max_key,
                        float *out, int64_t max_rows, int64_t *spans, int64_t *rows,
                        int64_t *consumed, int64_t *where) noexcept

cdef extern from "fe_format.h" nogil:
    int FE_FORMAT_MAX
    int fe_format_float(float x, char *o) noexcept
    int64_t fe_format_lines(const float *W, int64_t d, int64_t r0, int64_t r1, const char *keys,
                            const int64_t *off, char *out, int64_t *bad) noexcept

LINE_OK = FE_LINE_OK
LINE_TOO_FEW = FE_LINE_TOO_FEW
LINE_BAD_NUMBER = FE_LINE_BAD_NUMBER
LINE_AMBIGUOUS = FE_LINE_AMBIGUOUS
MAX_NUMBER_BYTES = FE_MAX_NUMBER_BYTES
FORMAT_MAX = FE_FORMAT_MAX


def parse_text_lines(const unsigned char[::1] buf not None, bint final, float[:, ::1] out not None,
                     int64_t row0, int64_t max_rows, int64_t[:, ::1] spans not None):
    """Parse complete lines of ``buf`` into ``out[row0:]`` (at most ``max_rows`` rows).

    A line is ended by b"\\n" (and by the end of ``buf`` when ``final``). The last D tokens of a
    line are its numbers, the rest its key (a key of several tokens must not end in a number);
    blank lines are skipped. ``spans`` needs ``min(max_rows, lines) `` rows.

    Returns ``(rows, consumed, lines, status, a, b)``: rows written; bytes consumed (whole lines);
    lines consumed (blank ones included); status 0 = ok, 1 = stopped at max_rows, or on the line
    after the ``lines`` consumed: LINE_TOO_FEW (a = tokens found), LINE_BAD_NUMBER (the token is
    buf[a:b]), LINE_AMBIGUOUS (a = tokens). ``spans[i] = (key start, key end)`` in ``buf`` for
    row row0 + i.
    """
    cdef int64_t n = buf.shape[0], D = out.shape[1]
    cdef int64_t pos = 0, rows = 0, lines = 0, ks = 0, ke = 0, ntok = 0, bs = 0, be = 0
    cdef const char *base
    cdef const char *p
    cdef const char *nl
    cdef const char *end
    cdef float *dst
    cdef int r = 0
    if n == 0:
        return 0, 0, 0, 0, 0, 0
    base = <const char *>&buf[0]
    with nogil:
        while pos < n:
            if rows >= max_rows:
                r = 1
                break
            p = base + pos
            nl = <const char *>memchr(p, b'\n', n - pos)
            if nl == NULL:
                if not final:
                    r = 0
                    break
                end = base + n
            else:
                end = nl
            dst = &out[row0 + rows, 0] if D > 0 else NULL
            r = fe_parse_line(p, end, D, dst, &ks, &ke, &ntok, &bs, &be, base)
            if r < 0:
                break
            if r == FE_LINE_OK:
                spans[rows, 0] = ks
                spans[rows, 1] = ke
                rows += 1
            r = 0
            lines += 1
            pos = (end - base) + (1 if nl != NULL else 0)
    if r == FE_LINE_TOO_FEW or r == FE_LINE_AMBIGUOUS:
        return rows, pos, lines, r, ntok, 0
    if r == FE_LINE_BAD_NUMBER:
        return rows, pos, lines, r, bs, be
    return rows, pos, lines, (1 if rows >= max_rows and pos < n else 0), 0, 0


def line_shapes(const unsigned char[::1] buf not None, int64_t max_lines):
    """For the first ``max_lines`` non-blank complete lines of ``buf``: (tokens, trailing numeric
    tokens) as an (n, 2) int64 array, and the line numbers (0-based) they are on."""
    cdef int64_t n = buf.shape[0], pos = 0, got = 0, line = 0, ntok = 0, ntail = 0
    cdef const char *base
    cdef const char *nl
    shapes = np.zeros((max(max_lines, 0), 2), np.int64)
    where = np.zeros(max(max_lines, 0), np.int64)
    cdef int64_t[:, ::1] s = shapes
    cdef int64_t[::1] w = where
    if n == 0 or max_lines <= 0:
        return shapes[:0], where[:0]
    base = <const char *>&buf[0]
    with nogil:
        while pos < n and got < max_lines:
            nl = <const char *>memchr(base + pos, b'\n', n - pos)
            if nl == NULL:
                break
            fe_line_shape(base + pos, nl, &ntok, &ntail)
            if ntok:
                s[got, 0] = ntok
                s[got, 1] = ntail
                w[got] = line
                got += 1
            line += 1
            pos = nl - base + 1
    return shapes[:got], where[:got]


def count_lines(const unsigned char[::1] buf not None):
    """Number of b"\\n" in buf (memchr: a few GB/s)."""
    cdef int64_t n = buf.shape[0], pos = 0, c = 0
    cdef const char *base
    cdef const char *nl
    if n == 0:
        return 0
    base = <const char *>&buf[0]
    with nogil:
        while pos < n:
            nl = <const char *>memchr(base + pos, b'\n', n - pos)
            if nl == NULL:
                break
            c += 1
            pos = nl - base + 1
    return c


def parse_binary_records(const unsigned char[::1] buf not None, float[:, ::1] out not None,
                         int64_t row0, int64_t max_rows, int64_t[:, ::1] spans not None,
                         bint newline_mode, int64_t max_key):
    """Parse word2vec binary records ``key b" " <D little-endian float32>`` (each followed by b"\\n"
    in ``newline_mode``) from ``buf`` into ``out[row0:]``; ``spans`` needs ``max_rows`` rows.

    Returns ``(rows, consumed, status, where)``: only whole records are consumed (the caller keeps
    the rest for the next chunk); status 0 = ok, -1 = no b" " within ``max_key`` bytes, -2 = a key
    holding b"\\n" or empty, -3 = a record not followed by b"\\n" in newline mode; ``where`` is the
    offending byte's offset in buf. Assumes a little-endian machine (checked by the caller).
    """
    cdef int64_t n = buf.shape[0], D = out.shape[1], rows = 0, consumed = 0, where = 0
    cdef int status = 0
    cdef float *dst
    if n == 0 or max_rows <= 0:
        return 0, 0, 0, 0
    if spans.shape[0] < max_rows:
        raise ValueError("spans is too small")
    dst = &out[row0, 0] if D > 0 else NULL
    with nogil:
        status = fe_parse_binary(<const char *>&buf[0], n, D, newline_mode, max_key, dst,
                                 max_rows, &spans[0, 0], &rows, &consumed, &where)
    return rows, consumed, status, where


def parse_floats(const unsigned char[::1] token not None):
    """One number as float32 (the parser's grammar); ValueError if it is not one."""
    cdef float f = 0
    cdef const char *p
    if token.shape[0] == 0:
        raise ValueError("empty token")
    p = <const char *>&token[0]
    if fe_parse_float(p, p + token.shape[0], &f) != 0:
        raise ValueError(f"not a number: {bytes(token)!r}")
    return np.float32(f)


def format_float(float x):
    """The shortest spelling of one float32 that reads back to the same bits (bytes)."""
    cdef char tmp[32]
    cdef int n = fe_format_float(x, tmp)
    return tmp[:n]


def format_lines(const float[:, ::1] W not None, int64_t r0, int64_t r1,
                 const unsigned char[::1] keys not None, const int64_t[::1] offsets not None,
                 unsigned char[::1] out not None):
    """Lines ``key v1 ... vD\\n`` for rows r0..r1-1 of W into ``out``; values in their shortest
    round-trip spelling (``format_float``).

    Key i is ``keys[offsets[i]:offsets[i + 1] - 1]`` (one separator byte after each key).
    ``out`` must hold ``offsets[r1] - offsets[r0] + (r1 - r0) * (16 * D + 2)`` bytes.
    Returns ``(nbytes, bad)``: bytes written and -1, or the flat index ``i * D + j`` of a NaN whose
    bits are not the canonical quiet NaN (text can only spell ``nan`` / ``-nan``); writing stops
    there.
    """
    cdef int64_t D = W.shape[1], n = 0, bad = -1, need
    cdef const float *w
    cdef const char *k
    cdef float zero = 0
    if r1 <= r0:
        return 0, -1
    need = offsets[r1] - offsets[r0] + (r1 - r0) * (16 * D + 2)
    if out.shape[0] < need:
        raise ValueError(f"out holds {out.shape[0]} bytes, {need} are needed")
    w = &W[0, 0] if D > 0 else &zero
    k = <const char *>&keys[0] if keys.shape[0] > 0 else <const char *>&out[0]
    with nogil:
        n = fe_format_lines(w, D, r0, r1, k, &offsets[0], <char *>&out[0], &bad)
    return n, bad
