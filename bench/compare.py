"""Print fastembed's ratio tables against numpy (and torch / faiss when installed), each next to the
machine's limits measured in the same run (issue 28).

    python bench/compare.py                 # every section, full sizes
    python bench/compare.py --quick lookup  # one section, fewer cases
    python bench/compare.py --simd avx2 topk  # at one SIMD level (the `simd` section compares them all)
    python bench/compare.py multiquery      # issue 28's multi-query targets (bench/multiquery.py)
    python bench/compare.py --no-limits topk  # without the limit columns

Limits (bench/limits.py), measured first: a two-thread read of a large float32 array (np.max over
each half in its own thread), a two-thread copy, and numpy's SGEMM GFLOP/s on a large square
product. Every table that reports a bandwidth gets "limit frac" columns next to its peer ratios
(lookup: output bytes read + written against the copy rate; bags: rows read against the read rate;
top-k: the larger of the table read and 2 Q V D flops at the SGEMM rate). Candidates are timed
interleaved with a pause before each (fastembed.bench.best_time; 0.25 s here), so no one pays
for another library's spinning BLAS threads.
"""
import argparse
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import limits as L  # noqa: E402
import multiquery  # noqa: E402

from fastembed import bench as benchmarks  # noqa: E402  (the fastembed.bench package)

_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0}


def _secs(cell):
    m = re.fullmatch(r"([0-9.]+)(us|ms|s)", str(cell).strip())
    return float(m.group(1)) * _UNITS[m.group(2)] if m else None


def _with_limits(lim: L.Limits, print_table):
    """benchmarks.print_table, with limit columns appended to the tables that report a bandwidth."""

    def patched(title, header, rows, notes=None):
        header, rows, notes = list(header), [list(r) for r in rows], list(notes or [])
        if "Q" in header and "ours" in header and "table" in header:  # top-k: read or flops bound
            it, iq, io = header.index("table"), header.index("Q"), header.index("ours")
            header += ["limit", "ours frac"]
            for r in rows:
                V, D = (int(x) for x in str(r[it]).split("x"))
                Q, t = int(r[iq]), _secs(r[io])
                lt = lim.limit_time(read_bytes=4.0 * V * D, flops=2.0 * Q * V * D)
                r += [benchmarks.timing._fmt_time(lt), L.frac(lt, t)]
        elif "GB/s" in header or "GB/s read" in header:
            ig = header.index("GB/s") if "GB/s" in header else header.index("GB/s read")
            is_lookup = title.startswith("lookup")
            header += ["limit GB/s", "limit frac"]
            for r in rows:
                try:
                    g = float(r[ig])
                except ValueError:
                    r += ["-", "-"]
                    continue
                # lookup: GB/s of output written; it also reads as many bytes (copy = read + write)
                cap = lim.copy_gbs / 2 if is_lookup else lim.read_gbs
                r += [f"{cap:.1f}", f"{g / cap:.2f}"]
        notes.append(f"limits measured in this run: two-thread read {lim.read_gbs:.1f} GB/s, two-thread "
                     f"copy {lim.copy_gbs:.1f} GB/s (read + write), numpy SGEMM {lim.sgemm_gflops:.0f} "
                     f"GFLOP/s (n={lim.sgemm_n}).")
        print_table(title, header, rows, notes)

    return patched


def _patch_bench(name, value):
    """Set ``name`` in the fastembed.bench package and in each of its modules that imported it."""
    import fastembed.bench.distributed, fastembed.bench.files, fastembed.bench.kernels, fastembed.bench.timing  # noqa: E401,F401
    import fastembed.bench.training  # noqa: F401
    for mod in (benchmarks, benchmarks.timing, benchmarks.kernels, benchmarks.files, benchmarks.training,
                benchmarks.distributed):
        if hasattr(mod, name):
            setattr(mod, name, value)

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sections", nargs="*",
                    help=f"any of {sorted(benchmarks.SECTIONS) + ['multiquery']} (default: all)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--simd", metavar="LEVEL", default=None, help="SIMD level (default: the best supported)")
    ap.add_argument("--no-limits", action="store_true", help="skip measuring the limits (no limit columns)")
    a = ap.parse_args()
    _patch_bench("SETTLE_SECONDS", L.SETTLE)
    sections = a.sections or list(benchmarks.SECTIONS) + ["multiquery"]
    lim = None
    if not a.no_limits:
        from fastembed._kernels import _simd
        previous = _simd.set_level(a.simd) if a.simd else None
        lim = L.measure(a.threads, quick=a.quick)
        print(f"limits: {lim}")
        _patch_bench("print_table", _with_limits(lim, benchmarks.print_table))
        if previous is not None:
            _simd.set_level(previous)
    rest = [s for s in sections if s != "multiquery"]
    if rest:
        benchmarks.run(rest, quick=a.quick, n_threads=a.threads, simd=a.simd)
    if "multiquery" in sections:
        from fastembed._kernels import _simd
        previous = _simd.set_level(a.simd) if a.simd else None
        try:
            lim = lim or L.measure(a.threads, quick=a.quick)
            hdr, rows = multiquery.table(lim, a.threads, a.quick)
            multiquery.show(hdr, rows, f"multi-query cosine top-10 (n_threads={a.threads}; limit = max(table "
                                       f"read at {lim.read_gbs:.1f} GB/s, 2QVD flops at {lim.sgemm_gflops:.0f} "
                                       "GFLOP/s))")
        finally:
            if previous is not None:
                _simd.set_level(previous)
