"""Print fastembed's ratio tables against numpy (and torch / faiss when installed).

    python bench/compare.py                 # every section, full sizes
    python bench/compare.py --quick lookup  # one section, fewer cases
    python bench/compare.py --simd avx2 topk  # at one SIMD level (the `simd` section compares them all)
"""
import argparse

from fastembed import bench as benchmarks  # the fastembed.bench package (was fastembed/benchmarks.py)

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sections", nargs="*", help=f"any of {sorted(benchmarks.SECTIONS)} (default: all)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--simd", metavar="LEVEL", default=None, help="SIMD level (default: the best supported)")
    a = ap.parse_args()
    benchmarks.run(a.sections or None, quick=a.quick, n_threads=a.threads, simd=a.simd)
