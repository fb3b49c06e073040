"""The ``fastembed`` command line."""
from __future__ import annotations

import argparse
import sys

import numpy as np


class UserError(Exception):
    """A mistake in the command line or its inputs: one line on stderr, exit code 2."""


def _fmt_vec(v, n=6):
    items = ", ".join(f"{x:+.3f}" for x in v[:n])
    return f"[{items}{', ...' if len(v) > n else ''}]"


def cmd_demo(args) -> None:
    import fastembed as fe
    words = ["cat", "dog", "airplane", "king", "queen"]
    V = len(words)
    print("== one-hot vectors: every word its own axis ==")
    oh = fe.one_hot(np.arange(V), V)
    for w, row in zip(words, oh):
        print(f"  {w:>9} {row.astype(int).tolist()}")
    print("  cosine(cat, dog) = cosine(cat, airplane) = 0: one-hot vectors say nothing about meaning.\n")
    table = fe.EmbeddingTable.random(V, args.dim, seed=0)
    print(f"== a dense table: {V} rows x EMBED_DIM={args.dim} columns ==")
    ids = np.array([0, 3, 0])
    rows = table.lookup(ids)
    for i, r in zip(ids, rows):
        print(f"  id {i} ({words[i]:>5}) -> {_fmt_vec(r)}")
    print("  a lookup copies row `id`: the same as one_hot(ids) @ table, without the zeros.")
    assert np.array_equal(fe.one_hot(ids, V) @ table.weights, rows)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fastembed", description="Embedding tables: lookup, search, I/O, training.")
    sub = p.add_subparsers(dest="command", required=True)
    d = sub.add_parser("demo", help="a guided tour of embeddings on the real engine")
    d.add_argument("--dim", type=int, default=16, help="EMBED_DIM: columns of the table (default 16)")
    d.set_defaults(func=cmd_demo)
    return p


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except UserError as e:
        print(f"fastembed: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
