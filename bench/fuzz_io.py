"""Mutation fuzzing of fastembed's file loaders, on demand.

    python bench/fuzz_io.py                    # 100000 mutated files on all cores
    python bench/fuzz_io.py -n 1000000 --seed 7 --keep /tmp/fuzz-failures

Each case is a seed file written by fastembed (word2vec text / binary / packed binary, GloVe, .gz,
.bz2, native directories, safetensors, hand-written variants) with 1-4 byte mutations, loaded with
fastembed.load and judged by the reference readers (see tests/fuzz_io_harness.py). Batches run in worker
processes, so a crash (a segfault included) is counted and the crashing case found by replaying its
batch. Prints the counts; exits 1 if any load crashed or was silently different.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from fuzz_io_harness import OUTCOMES, Tally, run_cases  # noqa: E402  (the harness lives with the tests)

BATCH = 2000


def _batch(args):
    seed, n = args
    chunk = _chunk(seed)
    with tempfile.TemporaryDirectory(dir="/dev/shm" if os.path.isdir("/dev/shm") else None) as d:
        return run_cases(d, seed, n, keep_failures=KEEP, chunk=chunk)


KEEP = None


def _chunk(seed: int):
    """One batch in two reads its files in small chunks (7, 64 or 4096 bytes) or whole (2 MB) with
    every chunk parsed in parallel parts, so chunk and part boundaries fall everywhere in the
    small seed files."""
    return (7, 64, 4096, 1 << 21)[(seed // 2) % 4] if seed % 2 else None


def _init(keep):
    global KEEP
    KEEP = keep


def _replay(seed: int, n: int) -> int:
    """Run a batch that killed its worker in a child printing each case index: the last one printed
    is the crashing case."""
    code = ("import sys, tempfile\nfrom fastembed.io._fuzz import run_cases\n"
            "with tempfile.TemporaryDirectory() as d:\n"
            f"    run_cases(d, {seed}, {n}, on_case=lambda i: print(i, flush=True),\n"
            f"              chunk={_chunk(seed)!r})\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    lines = r.stdout.split()
    return int(lines[-1]) if lines else -1


def _run_pool(batches, workers, keep):
    """Run batches on a pool; returns the merged tally and the batches lost to a dead worker."""
    tally, lost = Tally(), []
    with ProcessPoolExecutor(workers, initializer=_init, initargs=(keep,)) as pool:
        futs = [(pool.submit(_batch, b), b) for b in batches]
        for f, b in futs:
            try:
                tally.add(f.result())
            except BrokenProcessPool:
                lost.append(b)
    return tally, lost


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=100000, help="mutated files (default 100000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--keep", help="copy failing cases to this directory")
    a = ap.parse_args()
    batches = [(a.seed * 1000003 + i, min(BATCH, a.n - i * BATCH)) for i in range(-(-a.n // BATCH))]
    t0 = time.perf_counter()
    total, lost = _run_pool(batches, a.workers, a.keep)
    crashed = []
    for b in lost:  # one at a time: a batch that breaks its own pool holds a crashing case
        t, again = _run_pool([b], 1, a.keep)
        total.add(t)
        if again:
            crashed.append((b, _replay(*b)))
    secs = time.perf_counter() - t0
    total.counts["crash"] += len(crashed)
    loads = sum(total.counts.values())
    print(f"\n### fuzzing fastembed.load: {loads} mutated files in {secs:.0f} s ({loads / secs:.0f}/s, "
          f"{a.workers} workers, seed {a.seed})\n")
    print("| seed kind | " + " | ".join(OUTCOMES) + " |")
    print("|---|" + "---|" * len(OUTCOMES))
    for k in sorted(total.by_kind):
        print(f"| {k} | " + " | ".join(str(total.by_kind[k][o]) for o in OUTCOMES) + " |")
    print("| **total** | " + " | ".join(f"**{total.counts[o]}**" for o in OUTCOMES) + " |")
    print("\nsame: loaded, equal to the reference reader's result (the mutation left a valid file); "
          "error: a clean FileFormatError naming the file; stricter: refused a file the reference accepts; "
          "silent: loaded something the reference does not; crash: any other exception or a dead process.")
    for b, i in crashed:
        print(f"crash: batch seed {b[0]}, case {i} killed its process (the rest of that batch was not run)")
    for ex in total.examples[:20]:
        print(ex)
    sys.exit(1 if total.counts["silent"] or total.counts["crash"] else 0)


if __name__ == "__main__":
    main()
