"""Print fastembed's ratio tables against numpy (and torch / faiss when installed).

    python bench/compare.py                 # every section, full sizes
    python bench/compare.py --quick lookup  # one section, fewer cases
"""
import argparse

from fastembed import benchmarks

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sections", nargs="*", help=f"any of {sorted(benchmarks.SECTIONS)} (default: all)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    benchmarks.run(a.sections or None, quick=a.quick, n_threads=a.threads)
