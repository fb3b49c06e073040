"""Compiled parsers for embedding files: text (word2vec / GloVe) and word2vec binary.

The Python layer (fastembed/io.py) streams a file in chunks and calls these on the bytes; no
Python object is made per number. Keys come back as byte spans for the caller to decode.
"""
from libc.stdint cimport int64_t
from libc.string cimport memchr, memcpy

import numpy as np

cdef extern from "fe_parse.h" nogil:
    int fe_parse_line(const char *p, const char *end, int64_t d, float *row, int64_t *ks, int64_t *ke,
                      int64_t *ntok, int64_t *bad_s, int64_t *bad_e, const char *base)
    int fe_parse_float(const char *p, const char *end, float *out)


def parse_text_lines(const unsigned char[::1] buf not None, bint final, float[:, ::1] out not None,
                     int64_t row0, int64_t max_rows, int64_t[:, ::1] spans not None):
    """Parse complete lines of ``buf`` into ``out[row0:]`` (at most ``max_rows`` rows).

    A line is ended by b"\\n" (and by the end of ``buf`` when ``final``). The last D tokens of a
    line are its numbers, the rest its key (so keys may contain spaces); blank lines are skipped.

    Returns ``(rows, consumed, lines, status, a, b)``: rows written; bytes consumed (whole lines);
    lines consumed (blank ones included); status 0 = ok, 1 = stopped at max_rows, -1 = too few
    tokens on line ``lines`` (a = tokens found), -2 = a bad number on that line (token at
    buf[a:b]). ``spans[i] = (key start, key end)`` in ``buf`` for row row0 + i.
    """
    cdef int64_t n = buf.shape[0], D = out.shape[1]
    cdef int64_t pos = 0, rows = 0, lines = 0, ks = 0, ke = 0, ntok = 0, bs = 0, be = 0
    cdef const char *base
    cdef const char *p
    cdef const char *nl
    cdef const char *end
    cdef int r
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
            r = fe_parse_line(p, end, D, &out[row0 + rows, 0], &ks, &ke, &ntok, &bs, &be, base)
            if r < 0:
                break
            if r == 0:
                spans[rows, 0] = ks
                spans[rows, 1] = ke
                rows += 1
            r = 0
            lines += 1
            pos = (end - base) + (1 if nl != NULL else 0)
    if r == -1:
        return rows, pos, lines, -1, ntok, 0
    if r == -2:
        return rows, pos, lines, -2, bs, be
    return rows, pos, lines, (1 if rows >= max_rows and pos < n else 0), 0, 0


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
                         int64_t row0, int64_t max_rows, int64_t[:, ::1] spans not None):
    """Parse word2vec binary records ``key b" " <D little-endian float32>`` (an optional b"\\n" before
    a key is skipped) from ``buf`` into ``out[row0:]``.

    Returns ``(rows, consumed)``: only whole records are consumed; the caller keeps the rest for
    the next chunk. ``spans[i]`` = key span in buf. Assumes a little-endian machine (checked by the
    caller).
    """
    cdef int64_t n = buf.shape[0], D = out.shape[1], pos = 0, rows = 0, ks, nb = D * 4
    cdef const char *base
    cdef const char *sp
    if n == 0:
        return 0, 0
    base = <const char *>&buf[0]
    with nogil:
        while rows < max_rows and pos < n:
            ks = pos
            while ks < n and (base[ks] == b'\n' or base[ks] == b'\r'):
                ks += 1
            sp = <const char *>memchr(base + ks, b' ', n - ks)
            if sp == NULL:
                break
            if (sp - base) + 1 + nb > n:
                break
            spans[rows, 0] = ks
            spans[rows, 1] = sp - base
            memcpy(&out[row0 + rows, 0], sp + 1, nb)
            rows += 1
            pos = (sp - base) + 1 + nb
    return rows, pos


def parse_floats(const unsigned char[::1] token not None):
    """One number as float32 (for tests of the number parser); ValueError if it is not one."""
    cdef float f = 0
    cdef const char *p
    if token.shape[0] == 0:
        raise ValueError("empty token")
    p = <const char *>&token[0]
    if fe_parse_float(p, p + token.shape[0], &f) != 0:
        raise ValueError(f"not a number: {bytes(token)!r}")
    return np.float32(f)


cdef extern from *:
    """
    #include <stdio.h>
    #include <math.h>
    /* Shortest %.{6..9}g spelling of x that strtof reads back to x exactly (%.9g always does).
       Returns the number of bytes written to buf (room for 32). */
    static int fe_format_float(float x, char *buf)
    {
        int n = 0;
        if (x != x) { memcpy(buf, "nan", 3); return 3; }
        if (isinf(x)) { if (x < 0) { memcpy(buf, "-inf", 4); return 4; } memcpy(buf, "inf", 3); return 3; }
        for (int p = 6; p <= 9; p++) {
            n = snprintf(buf, 32, "%.*g", p, (double)x);
            if (p == 9 || strtof(buf, NULL) == x) break;
        }
        if (x == 0 && signbit(x)) { memcpy(buf, "-0", 2); return 2; }
        return n;
    }
    """
    int fe_format_float(float x, char *buf) nogil


def format_rows(const float[:, ::1] W not None, int64_t r0, int64_t r1):
    """Rows r0..r1-1 as text: per row the values separated by spaces, shortest round-trip spelling
    (see fe_format_float). Returns (bytes, ends) with ends[i] the end offset of row r0+i."""
    cdef int64_t D = W.shape[1], i, j, pos = 0
    cdef int n
    cdef char tmp[32]
    cdef bytearray out = bytearray((r1 - r0) * D * 16 + 16)
    cdef char *o = out
    cdef int64_t cap = len(out)
    ends = np.empty(r1 - r0, np.int64)
    cdef int64_t[::1] e = ends
    for i in range(r0, r1):
        if pos + D * 34 + 2 > cap:  # rare: long spellings; grow
            out.extend(bytearray(cap))
            o = out
            cap = len(out)
        with nogil:
            for j in range(D):
                n = fe_format_float(W[i, j], tmp)
                if j:
                    o[pos] = b' '
                    pos += 1
                memcpy(o + pos, tmp, n)
                pos += n
        e[i - r0] = pos
    return bytes(out[:pos]), ends
