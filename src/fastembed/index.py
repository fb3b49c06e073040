"""Exact compressed search indexes: int8 codes (or float16 / bfloat16 copies) of the rows, scanned
with rigorous score bounds, and the few rows the bounds cannot decide re-scored in full precision.

``EmbeddingTable.build_index("int8")`` builds one (:class:`Int8Index`) and attaches it; ``topk``
and ``most_similar`` use it while it is valid (every write through the table invalidates it).
The answers are *identical* to ``topk(..., strategy="scan")`` -- ids, score bits and tie order --
by construction, not by probability:

The bound
---------
Row ``x`` (float32, D values) is stored as int8 codes ``c`` with a scale ``s = max|x| / 127``
(float32) and ``E = x - s c`` its exact quantisation error (exact in float64). A query ``q`` (the
float32 vector the scan uses: unit length for cosine) is quantised the same way: ``q = t p + F``.
In exact arithmetic

    x . q  =  s t (c . p)  +  s (c . F)  +  E . q

and ``c . p`` is an integer computed exactly in int32 (``D * 127**2 < 2**31``: D <= 133143).
By Cauchy-Schwarz ``|s (c . F)| <= s ||c|| ||F||`` and ``|E . q| <= ||E|| ||q||``. The scan's
float32 score differs from the exact one by at most ``gamma_m ||x|| ||q||`` (its fixed-order dot
product: 16 lanes of ceil(D/16) terms then a 4-level tree, ``gamma_m = m u / (1 - m u)``,
``u = 2**-24``, ``m = ceil(D/16) + 6`` with margin), plus one rounding of the product with the
inverse norm for cosine (then everything is multiplied by ``inv = 1/||x||`` as the scan does). So
with per-row coefficients (float64 sums rounded *up* to float32, times ``K = 1 + 2**-16``)

    cosine:  cent = s inv,  ra = K s ||c|| inv,  rb = K (||E|| inv + (gamma_m + 2u) ||x|| inv)
    dot:     cent = s,      ra = K s ||c||,      rb = K (||E|| + gamma_m ||x||)

and per-query ``fn >= K ||F||``, ``qn >= K ||q||``, the scan's score lies in

    A +/- (ra fn + rb qn + |A| 2**-20 + abs),      A = cent * (t * float(c . p))

computed in float32 by the kernel: ``2**-20 |A|`` (16 ulps) covers the roundings of ``A``
(int -> float, two products) and of the final sum; ``K`` (256 ulps) the roundings of the radius
products and of the float64 sums; ``abs = (D + 16) 2**-149`` (dot) or ``(D + 16) 2**-59`` (cosine,
whose rows have ``inv <= 2**90``) the absolute errors of products that underflow. Rows that are
not finite, or (cosine) have a norm below ``2**-90`` or beyond float32, get ``cent = 0`` and
infinite radius: always re-scored. A query whose ``max row norm * ||q||`` reaches ``2**120`` (the
scan's sums could overflow) or whose scale is below ``2**-60`` gets an infinite radius for every
row: the search then re-scores every row (exact, as slow as a scan).

The search
----------
One pass over the codes: for each row its lower and upper bound; the k best lower bounds of the
*eligible* rows (restrict, exclusions) give ``tau_k``. Every row of the true top-k scores at least
the k-th best score, which is at least ``tau_k`` (k eligible rows score at least their lower
bounds), so its upper bound reaches ``tau_k``: every eligible row with ``upper >= tau_k`` is
re-scored with the scan's own arithmetic (``fe_dot`` then ``* inv``) into the scan's heap (same
order: score descending, then id ascending). The heap's result is the top-k of the re-scored set,
which holds the whole top-k: the answer is the scan's. ``k`` at least the number of eligible rows
makes ``tau_k = -inf``: every row is re-scored. :attr:`Int8Index.last_stats` reports how many.

The half index
--------------
``build_index("float16")`` / ``"bfloat16"``: the same search over half-precision copies of the
rows, 2 bytes a value (11 / 8 significant bits: fewer rows re-scored than int8 for float16, about
int8's for bfloat16; every value of any magnitude representable). Row ``x`` is scaled by the power
of two ``2^shift`` that brings ``max|x|`` into [1, 2) (exact; float16 neither overflows nor
loses the row to its subnormal range) and rounded to ``h``; ``E = x - h 2^-shift`` is its exact
rounding error (float64). The query is not quantised: the kernel computes ``d``, the fixed-order
float32 dot product of ``h`` and ``q`` (``fe_dot`` of the upcast row, error at most
``gamma_m ||h|| ||q||``), and with ``A = cent * d``

    x . q  =  2^-shift (h . q)  +  E . q,      |E . q| <= ||E|| ||q||

so with ``cent = 2^-shift inv`` (cosine) or ``2^-shift`` (dot), ``ra = 0`` and

    cosine:  rb = K (||E|| inv + (gamma_m + 2u) (||x|| + ||h 2^-shift||) inv)
    dot:     rb = K (||E|| + gamma_m (||x|| + ||h 2^-shift||))

the scan's score lies in ``A +/- (rb qn + |A| 2**-20 + abs)`` (``tau = 1``, ``fn = 0``): the
terms are those of the int8 bound with the integer dot product replaced by a float32 one whose
rounding error is bounded like the scan's own. ``abs`` covers underflow in both dot products:
``2 (D + 16) 2**-59`` (cosine: ``cent <= 1 + 2u`` since ``2^-shift <= max|x| <= ||x||``) or
``(D + 16) 2**-149 (1 + 2 max cent)`` (dot). Rows that are not finite get infinite radius; a query
whose norm could overflow a sum gets ``qn = inf`` (every row re-scored), as above.

Memory: ``V * D`` bytes of codes (rows padded to a multiple of 16, columns to a multiple of 4)
plus 32 bytes per row (code sum, scale, 3 float32 coefficients per metric); a half index ``2 V D``
bytes plus 28 per row. Beside the float32 rows, which may stay on disk (``np.memmap``): only the
re-scored rows are read.
"""
from __future__ import annotations

from typing import NamedTuple, Optional, Tuple

import numpy as np

from fastembed import search
from fastembed._kernels import _index, _topk
from fastembed._threads import GRAIN_DOT_FLOPS, GRAIN_ROWS_BYTES, team_size

__all__ = ["Int8Index", "HalfIndex", "IndexStats", "KINDS", "MAX_DIM", "BLOCK_ROWS", "build", "save", "load"]

KINDS = ("int8", "float16", "bfloat16")
MAX_DIM = (2 ** 31 - 1) // (127 * 127)  # int32 dot products of codes in [-127, 127] stay exact
BLOCK_ROWS = 16                          # rows per block of the codes' layout (csrc/fe_int8.h)

_U = 2.0 ** -24                          # float32 unit roundoff
_K = 1.0 + 2.0 ** -16                    # slack on the float64-derived coefficients
_OVERFLOW = 2.0 ** 120                   # max row norm * query norm from which sums could overflow
_TINY_SCALE = 2.0 ** -60                 # query scales below this: no bounds (underflow)


class IndexStats(NamedTuple):
    """What the last search through an index did: ``rescored`` (Q,) int64 rows scored exactly per
    query, ``thresholds`` (Q,) float32 the k-th best lower bound per query, ``rows`` the rows
    scanned (``row_hi``)."""
    rescored: np.ndarray
    thresholds: np.ndarray
    rows: int


def _up32(x: np.ndarray) -> np.ndarray:
    """float64 -> float32 values >= x for x >= 0 (NaN -> inf): x (1 + 2^-21) + 2^-149 rounds to a
    float32 no smaller than x (rounding moves it by at most 2^-24 relatively or 2^-150)."""
    with np.errstate(over="ignore", invalid="ignore"):
        f = (x * (1.0 + 2.0 ** -21) + 2.0 ** -149).astype(np.float32)
    f[np.isnan(f)] = np.inf
    return f


def _gamma(D: int) -> float:
    m = -(-D // 16) + 6
    return m * _U / (1.0 - m * _U)


def quantize_queries(queries: np.ndarray, metric: str, max_norm: float):
    """Int8 codes of (Q, D) float32 queries: ``(codes (Q, D) int8, params (Q, 4) float32 =
    (tau, fn, qn, abs))``. A query whose bounds could not be rigorous (see the module docstring)
    gets fn = inf."""
    Q, D = queries.shape
    q = queries.astype(np.float64)
    mq = np.abs(q).max(axis=1) if D else np.zeros(Q)
    safe = np.where(mq > 0, mq, 1.0)
    tau = (mq / 127.0).astype(np.float32)
    t = q * (127.0 / safe)[:, None]
    p = np.clip(np.trunc(np.where(t >= 0, t + 0.5, t - 0.5)), -127, 127)
    p[mq == 0] = 0
    F = q - tau.astype(np.float64)[:, None] * p  # exact in float64
    qnorm = np.sqrt((q * q).sum(axis=1))
    params = np.empty((Q, 4), np.float32)
    params[:, 0] = tau
    params[:, 1] = _up32(np.sqrt((F * F).sum(axis=1)) * _K)
    params[:, 2] = _up32(qnorm * _K)
    params[:, 3] = np.float32((D + 16) * (2.0 ** -59 if metric == "cosine" else 2.0 ** -149))
    risky = (max_norm * qnorm >= _OVERFLOW) | ((mq > 0) & (tau < _TINY_SCALE))
    params[risky, 1] = np.inf
    return p.astype(np.int8), params


def half_query_params(queries: np.ndarray, metric: str, max_norm: float, max_cent_dot: float) -> np.ndarray:
    """(Q, 4) float32 (tau, fn, qn, abs) of (Q, D) float32 queries for a half index: tau = 1 and
    fn = 0 (the query is not quantised), qn >= K ||q||, abs the underflow slack of both dot
    products (2 (D + 16) 2^-59 cosine, (D + 16) 2^-149 (1 + 2 max cent) dot). qn = inf (every row
    re-scored) where a sum could overflow."""
    Q, D = queries.shape
    q = queries.astype(np.float64)
    qnorm = np.sqrt((q * q).sum(axis=1))
    par = np.empty((Q, 4), np.float32)
    par[:, 0] = 1.0
    par[:, 1] = 0.0
    par[:, 2] = _up32(qnorm * _K)
    ab = 2 * (D + 16) * 2.0 ** -59 if metric == "cosine" else (D + 16) * 2.0 ** -149 * (1 + 2 * max_cent_dot)
    par[:, 3] = _up32(np.full(Q, ab))
    risky = (max_norm + 2 * np.sqrt(D) + 1) * qnorm >= _OVERFLOW
    par[risky, 2] = np.inf
    return par


def _packed(codes: np.ndarray):
    """(Q, D) int8 query codes -> the kernels' operands (Q, G) int32, four codes each (zero past
    D): the codes, their magnitudes, and codes + 128 as unsigned bytes."""
    Q, D = codes.shape
    G = -(-D // 4)
    p = np.zeros((Q, 4 * G), np.int8)
    p[:, :D] = codes
    pu = (p.astype(np.int16) + 128).astype(np.uint8)
    return (p.view(np.int32), np.abs(p).view(np.int32), pu.view(np.int32))


class _BoundedIndex:
    """What every exact compressed index shares: per-row (cent, ra, rb) coefficients of each
    metric blocked 16 rows at a time, the bounded scan + exact re-scoring (csrc/impl/int8.h's
    FE_I8_SCAN_BODY, one engine for every kind) and the statistics of the last search. A kind
    supplies its rows (``_buf``), its kernel number and its queries' operands."""

    kind = ""
    _kernel = 0  # _index.search's kind: 0 int8, 1 float16, 2 bfloat16

    shape: Tuple[int, int]
    max_norm: float
    last_stats: Optional[IndexStats]

    @property
    def nbytes(self) -> int:
        """Bytes held: the compressed rows and every per-row array."""
        return int(sum(a.nbytes for a in self._arrays()))

    def _arrays(self):
        return [self._buf, *self._coef.values()]

    def __repr__(self) -> str:
        V, D = self.shape
        return f"{type(self).__name__}(num_embeddings={V}, dim={D}, nbytes={self.nbytes})"

    def coefficients(self, metric: str = "cosine") -> np.ndarray:
        """(3, V) float32 (cent, ra, rb) of ``metric`` (see the module docstring; a copy)."""
        c = self._coef[metric].reshape(-1, 3, BLOCK_ROWS)
        return np.ascontiguousarray(c.transpose(1, 0, 2).reshape(3, -1)[:, : self.shape[0]])

    def _operands(self, queries: np.ndarray, metric: str):
        """The kernel's query operands (p4, pabs4, pu4 (Q, G) int32, par (Q, 4) float32)."""
        raise NotImplementedError

    def search(self, weights: np.ndarray, inv: Optional[np.ndarray], queries: np.ndarray, k: int,
               cand: "search.Candidates", n_threads=None) -> Tuple[np.ndarray, np.ndarray]:
        """The k best rows of ``weights`` (V, D) float32 for (Q, D) float32 ``queries`` (unit rows
        and ``inv`` (V,) float32 for cosine; ``inv=None`` for dot): ``(scores (Q, k) float32,
        ids (Q, k) int64)`` identical to ``search.run(..., strategy="scan")``. Assumes validated
        queries, k >= 1 and candidates, and a table this index was built from (unchanged). ``k``
        is clipped to the number of rows, as in :func:`fastembed.search.run`."""
        V, D = weights.shape
        k = min(k, V)
        if (V, D) != self.shape:
            raise ValueError(f"the index is for a ({self.shape[0]}, {self.shape[1]}) table, got ({V}, {D})")
        Q = queries.shape[0]
        kk = min(k, V)
        scores = np.empty((Q, max(kk, 1)), np.float32)
        ids = np.empty((Q, max(kk, 1)), np.int64)
        rescored = np.zeros(Q, np.int64)
        thr = np.full(Q, -np.inf, np.float32)
        if kk == 0 or Q == 0 or cand.row_hi == 0:
            _topk.init_heaps(scores, ids)
        else:
            metric = "cosine" if inv is not None else "dot"
            p4, pabs4, pu4, par = self._operands(queries, metric)
            nt = team_size(cand.row_hi * D * Q, GRAIN_DOT_FLOPS, n_threads, items=cand.row_hi)
            _index.search(weights, inv, self._buf.view(np.int8), self._rowsum, self._coef[metric], queries,
                          p4, pabs4, pu4, par, cand.row_hi, cand.mask, cand.excl_ptr, cand.excl, scores, ids,
                          rescored, thr, nt, self._kernel)
        self.last_stats = IndexStats(rescored, thr, int(cand.row_hi))
        return search.finish(scores[:, :kk], ids[:, :kk], k)


class Int8Index(_BoundedIndex):
    """Exact int8 search index of a (V, D) float32 table; build with
    :meth:`fastembed.EmbeddingTable.build_index` (or :func:`build`).

    Attributes
    ----------
    kind : "int8"
    shape : (V, D)
    codes : ndarray (V, D) int8, read-only; row r is ``round(row_r * 127 / max|row_r|)``
    scales : ndarray (V,) float32, ``max|row_r| / 127``
    nbytes : int, bytes held (codes and per-row coefficients)
    last_stats : IndexStats or None, the last search's (from any thread)
    """

    kind = "int8"
    _kernel = 0

    def __init__(self, buf: np.ndarray, rowsum: np.ndarray, shape: Tuple[int, int], scales: np.ndarray,
                 coef: dict, max_norm: float):
        V, D = shape
        self._buf = buf        # blocked codes (csrc/fe_int8.h)
        self._rowsum = rowsum  # (ceil(V/16) * 16,) int32
        self.shape = (V, D)
        self.scales = scales
        self.scales.flags.writeable = False
        # per metric, blocked as the codes: (ceil(V/16) * 48,) float32, (cent, ra, rb) of 16 rows
        # per block: one stream of 192-byte blocks beside the codes instead of three (V,) streams
        self._coef = coef
        self.max_norm = max_norm
        self.last_stats: Optional[IndexStats] = None

    def _arrays(self):
        return [self._buf, self._rowsum, self.scales, *self._coef.values()]

    @property
    def codes(self) -> np.ndarray:
        """(V, D) int8 codes in row order (a copy out of the blocked layout)."""
        V, D = self.shape
        G = -(-D // 4)
        nb = self._rowsum.shape[0] // BLOCK_ROWS
        c = self._buf.reshape(nb, G, BLOCK_ROWS, 4).transpose(0, 2, 1, 3).reshape(nb * BLOCK_ROWS, 4 * G)
        return np.ascontiguousarray(c[:V, :D])

    def _operands(self, queries, metric):
        codes, par = quantize_queries(queries, metric, self.max_norm)
        return (*_packed(codes), par)


class HalfIndex(_BoundedIndex):
    """Exact float16 / bfloat16 search index of a (V, D) float32 table (see "The half index" in
    the module docstring); build with ``table.build_index("float16")`` (or "bfloat16").

    Attributes
    ----------
    kind : "float16" or "bfloat16"
    shape : (V, D)
    rows : ndarray (V, D) uint16, the stored bits of ``row_r * 2**shift[r]`` (a copy)
    shift : ndarray (V,) int32, the power of two bringing each row's max |value| into [1, 2)
    nbytes : int, bytes held (half rows and per-row coefficients)
    last_stats : IndexStats or None, the last search's (from any thread)
    """

    def __init__(self, kind: str, buf: np.ndarray, shape: Tuple[int, int], shift: np.ndarray, coef: dict,
                 max_norm: float, max_cent_dot: float):
        self.kind = kind
        self._kernel = 1 if kind == "float16" else 2
        self._buf = buf                                # ((V rounded up to 16) * D,) uint16
        self._rowsum = np.zeros(BLOCK_ROWS, np.int32)  # (unused by the half kernels)
        self.shape = shape
        self.shift = shift
        self.shift.flags.writeable = False
        self._coef = coef
        self.max_norm = max_norm
        self._max_cent_dot = max_cent_dot
        self.last_stats: Optional[IndexStats] = None

    def _arrays(self):
        return [self._buf, self.shift, *self._coef.values()]

    @property
    def rows(self) -> np.ndarray:
        V, D = self.shape
        return self._buf[: V * D].reshape(V, D).copy()

    def _operands(self, queries, metric):
        par = half_query_params(queries, metric, self.max_norm, self._max_cent_dot)
        z = np.zeros((queries.shape[0], 1), np.int32)
        return z, z, z, par


def build(weights: np.ndarray, kind: str = "int8", n_threads=None, inv: Optional[np.ndarray] = None):
    """Build an index of ``kind`` ("int8", "float16" or "bfloat16") over a (V, D) float32
    C-contiguous table (any storage: read-only, memory-mapped); ``inv`` (V,) float32, the table's
    inverse norms (a half index needs them; computed when None). Raises ValueError for an unknown
    kind, an unsupported dim or an ``inv`` of the wrong shape or dtype, TypeError for a table that
    is not float32."""
    if kind not in KINDS:
        raise ValueError(f"unknown index kind {kind!r}; choose from {KINDS}")
    if weights.dtype != np.float32 or weights.ndim != 2 or not weights.flags.c_contiguous:
        # (the re-scoring reuses the float32 scan's arithmetic: other storage needs its own path)
        raise TypeError(f"an {kind} index is built from a C-contiguous (V, D) float32 table, got "
                        f"{weights.dtype} with shape {weights.shape}")
    V, D = weights.shape
    if D == 0:
        raise ValueError(f"cannot build an {kind} index of a table with dim 0")
    if inv is not None:
        inv = np.asarray(inv)
        if inv.shape != (V,) or inv.dtype != np.float32:
            raise ValueError(f"inv must be the table's (V,) = ({V},) float32 inverse norms, got {inv.dtype} "
                             f"with shape {inv.shape}")
    if kind != "int8":
        return _build_half(weights, kind, n_threads, inv)
    if D > MAX_DIM:
        raise ValueError(f"an int8 index supports dim <= {MAX_DIM} (exact int32 dot products), got dim {D}")
    nt = team_size(V * D * 4, GRAIN_ROWS_BYTES, n_threads, items=max(V, 1))
    nb = -(-V // BLOCK_ROWS)
    buf = np.zeros(nb * BLOCK_ROWS * 4 * -(-D // 4), np.int8)
    rowsum = np.zeros(nb * BLOCK_ROWS, np.int32)
    scales = np.zeros(V, np.float32)
    st = np.zeros((V, 3), np.float64)
    _index.quantize(weights, buf, rowsum, scales, st, nt)
    coef = {m: np.zeros(nb * 3 * BLOCK_ROWS, np.float32) for m in ("cosine", "dot")}
    _index.coefficients(scales, st, _gamma(D), coef["cosine"], coef["dot"], nt)
    return Int8Index(buf, rowsum, (V, D), scales, coef, _max_norm(st))


def _max_norm(st: np.ndarray) -> float:
    """K times the largest finite row norm (non-finite rows have st[:, 2] = inf)."""
    s2 = st[:, 2]
    m = s2.max() if s2.size else 0.0
    if not np.isfinite(m):
        m = np.max(s2, where=np.isfinite(s2), initial=0.0)
    return float(np.sqrt(m)) * _K


def _build_half(weights: np.ndarray, kind: str, n_threads, inv: Optional[np.ndarray]) -> HalfIndex:
    V, D = weights.shape
    nt = team_size(V * D * 4, GRAIN_ROWS_BYTES, n_threads, items=max(V, 1))
    nb = -(-V // BLOCK_ROWS)
    buf = np.zeros(nb * BLOCK_ROWS * D, np.uint16)
    shift = np.zeros(V, np.int32)
    st = np.zeros((V, 3), np.float64)
    _index.hx_build(weights, buf, shift, st, kind == "bfloat16", nt)
    if inv is None:
        inv = np.empty(V, np.float32)
        _topk.row_norms(weights, 0, None, inv, nt, True)
    coef = {m: np.zeros(nb * 3 * BLOCK_ROWS, np.float32) for m in ("cosine", "dot")}
    _index.hx_coefficients(shift, st, np.ascontiguousarray(inv, np.float32), _gamma(D), coef["cosine"],
                           coef["dot"], nt)
    cd = coef["dot"].reshape(-1, 3, BLOCK_ROWS)[:, 0]
    max_cent = float(cd[np.isfinite(cd)].max()) if V else 0.0
    return HalfIndex(kind, buf, (V, D), shift, coef, _max_norm(st), max_cent)


def kernel_name() -> str:
    """The integer kernel the active SIMD level runs (for show_config)."""
    return _index.kernel_name()


# ------------------------------------------------------------------ on disk

_SAVED_FORMAT = 1


def save(idx: "Int8Index", path) -> None:
    """Write an int8 index to ``path`` (an uncompressed ``.npz``: its arrays as built, so
    :func:`load` gives back the same index, answers bit for bit)."""
    if not isinstance(idx, Int8Index):
        raise TypeError(f"only an Int8Index can be saved, got {type(idx).__name__}")
    V, D = idx.shape
    np.savez(path, format=np.int64(_SAVED_FORMAT), shape=np.array([V, D], np.int64), buf=idx._buf,
             rowsum=idx._rowsum, scales=idx.scales, coef_cosine=idx._coef["cosine"], coef_dot=idx._coef["dot"],
             max_norm=np.float64(idx.max_norm))


def load(path) -> "Int8Index":
    """An index written by :func:`save`; ValueError naming the file if it is not one (or is
    damaged: every array's size is checked against the shape)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            a = {k: z[k] for k in z.files}
    except (OSError, ValueError) as e:
        raise ValueError(f"{path} is not a saved fastembed index: {e}") from None
    need = ("format", "shape", "buf", "rowsum", "scales", "coef_cosine", "coef_dot", "max_norm")
    missing = [k for k in need if k not in a]
    if missing:
        raise ValueError(f"{path} is not a saved fastembed index (missing {', '.join(missing)})")
    if int(a["format"]) != _SAVED_FORMAT:
        raise ValueError(f"{path}: index format {int(a['format'])}, this fastembed reads {_SAVED_FORMAT}")
    V, D = (int(x) for x in a["shape"])
    nb = -(-V // BLOCK_ROWS)
    want = {"buf": (nb * BLOCK_ROWS * 4 * -(-D // 4), np.int8), "rowsum": (nb * BLOCK_ROWS, np.int32),
            "scales": (V, np.float32), "coef_cosine": (nb * 3 * BLOCK_ROWS, np.float32),
            "coef_dot": (nb * 3 * BLOCK_ROWS, np.float32)}
    for k, (n, dt) in want.items():
        if a[k].shape != (n,) or a[k].dtype != dt:
            raise ValueError(f"{path}: {k} has {a[k].dtype} shape {a[k].shape}, expected {np.dtype(dt)} ({n},) "
                             f"for a ({V}, {D}) table (damaged file)")
    return Int8Index(a["buf"], a["rowsum"], (V, D), a["scales"], {"cosine": a["coef_cosine"], "dot": a["coef_dot"]},
                     float(a["max_norm"]))
