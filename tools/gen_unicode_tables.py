"""Generate csrc/fe_unicode_tables.h: the per-code-point tables of the native WordPiece tokenizer.

    python tools/gen_unicode_tables.py            # writes csrc/fe_unicode_tables.h
    python tools/gen_unicode_tables.py --check    # exits 1 if the committed header is stale

What the tables hold (for every code point, U+0000 .. U+10FFFF):

* flags: removed by BertNormalizer's clean_text (control / format / private-use characters, NUL,
  U+FFFD), whitespace (mapped to ' ' by clean_text, a split point for BertPreTokenizer),
  punctuation (an isolated piece for BertPreTokenizer), CJK ideograph (spaced by
  handle_chinese_chars), nonspacing mark (dropped by strip_accents after NFD);
* the canonical combining class (NFD's canonical reordering);
* the full canonical decomposition (NFD; Hangul syllables are decomposed arithmetically in C);
* the full lowercase mapping (one code point, or several: U+0130 -> "i" U+0307).

Source: Python's ``unicodedata`` (the Unicode version of this interpreter). The reference the native
tokenizer must equal is Hugging Face ``tokenizers``, whose Rust crates carry their own Unicode
tables of other versions (an older general-category table for marks and punctuation, a newer one
for lowercase mappings). This script probes ``tokenizers`` on every code point, prints where it
differs from ``unicodedata`` and takes the ``tokenizers`` answer there (the differences are listed
in the header's comment and tested in tests/test_text_unicode.py). Without ``tokenizers`` installed
it refuses to run: the tables would silently follow another Unicode version than the reference.
"""
from __future__ import annotations

import argparse
import os
import sys
import unicodedata as ud

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "csrc", "fe_unicode_tables.h")

FL_CTRL, FL_WS, FL_PUNCT, FL_CJK, FL_MN = 1, 2, 4, 8, 16
BLOCK = 128
N_CP = 0x110000

# The White_Space property (PropList.txt; unchanged since Unicode 6.0): Rust's char::is_whitespace.
WHITE_SPACE = set(range(0x09, 0x0E)) | {0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000} | set(
    range(0x2000, 0x200B))
# BertNormalizer's CJK ideograph blocks (the same list as BERT's original tokenization.py).
CJK_RANGES = [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F), (0x2B740, 0x2B81F),
              (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)]


def code_points():
    return [c for c in range(N_CP) if not 0xD800 <= c <= 0xDFFF]


def python_tables():
    """Per-code-point flags, ccc, decomposition and lowercase from unicodedata alone."""
    flags = [0] * N_CP
    ccc = [0] * N_CP
    decomp = {}
    lower = {}
    for c in code_points():
        ch = chr(c)
        cat = ud.category(ch)
        f = 0
        if c in (0, 0xFFFD) or (cat in ("Cc", "Cf", "Co", "Cs") and ch not in "\t\n\r"):
            f |= FL_CTRL
        if c in WHITE_SPACE:
            f |= FL_WS
        if (c < 128 and chr(c) in "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~") or cat.startswith("P"):
            f |= FL_PUNCT
        if any(a <= c <= b for a, b in CJK_RANGES):
            f |= FL_CJK
        if cat == "Mn":
            f |= FL_MN
        flags[c] = f
        ccc[c] = ud.combining(ch)
        if not 0xAC00 <= c <= 0xD7A3:
            d = ud.normalize("NFD", ch)
            if d != ch:
                decomp[c] = [ord(x) for x in d]
        lo = ch.lower()
        if lo != ch:
            lower[c] = [ord(x) for x in lo]
    return flags, ccc, decomp, lower


def probe_tokenizers(flags, ccc, decomp, lower):
    """Take Hugging Face tokenizers' answer wherever it differs from unicodedata; return the list of
    differences (property, code point, unicodedata's answer, tokenizers' answer)."""
    try:
        from tokenizers import normalizers, pre_tokenizers
    except ImportError:
        sys.exit("gen_unicode_tables.py needs Hugging Face `tokenizers` (the reference the tables must match)")

    def bn(**kw):
        base = dict(clean_text=False, handle_chinese_chars=False, strip_accents=False, lowercase=False)
        base.update(kw)
        return normalizers.BertNormalizer(**base)

    clean, cjk, low = bn(clean_text=True), bn(handle_chinese_chars=True), bn(lowercase=True)
    strip, nfd, pre = bn(strip_accents=True), normalizers.NFD(), pre_tokenizers.BertPreTokenizer()
    diffs = []

    def setflag(c, bit, value, what):
        if bool(flags[c] & bit) != value:
            diffs.append((what, c, bool(flags[c] & bit), value))
            flags[c] = (flags[c] | bit) if value else (flags[c] & ~bit)

    for c in code_points():
        ch = chr(c)
        r = clean.normalize_str(ch)
        setflag(c, FL_CTRL, r == "", "removed by clean_text")
        setflag(c, FL_CJK, cjk.normalize_str(ch) == " " + ch + " ", "CJK ideograph")
        # decomposition: tokenizers' NFD of the lone character
        d = nfd.normalize_str(ch)
        if not 0xAC00 <= c <= 0xD7A3:
            mine = decomp.get(c, [c])
            theirs = [ord(x) for x in d]
            if mine != theirs:
                diffs.append(("NFD", c, mine, theirs))
                if theirs == [c]:
                    decomp.pop(c, None)
                else:
                    decomp[c] = theirs
        if d == ch:  # a character NFD leaves alone: strip_accents drops it iff it is a nonspacing mark
            setflag(c, FL_MN, strip.normalize_str(ch) == "", "nonspacing mark")
        lo = [ord(x) for x in low.normalize_str(ch)]
        if lo != lower.get(c, [c]):
            diffs.append(("lowercase", c, lower.get(c, [c]), lo))
            if lo == [c]:
                lower.pop(c, None)
            else:
                lower[c] = lo
        # BertPreTokenizer: whitespace splits, punctuation is isolated
        words = [w for w, _ in pre.pre_tokenize_str("a" + ch + "b")]
        ws = words == ["a", "b"]
        punct = words == ["a", ch, "b"]
        if not ws and not punct and words != ["a" + ch + "b"]:
            sys.exit(f"unexpected pre-tokenization of U+{c:04X}: {words}")
        setflag(c, FL_WS, ws, "whitespace")
        setflag(c, FL_PUNCT, punct, "punctuation")
        # clean_text maps whitespace to ' ' with the same test (after dropping control characters)
        if r != ("" if flags[c] & FL_CTRL else " " if flags[c] & FL_WS else ch):
            sys.exit(f"clean_text of U+{c:04X} gives {r!r}: not explained by the flags")
    # canonical combining classes: a class never changes once assigned, so tokenizers' class of a
    # character is unicodedata's, or 0 where its older tables do not know the character. Only the
    # non-starters strip_accents keeps matter (it drops the marks after reordering).
    for c in code_points():
        if not ccc[c] or flags[c] & FL_MN or c in decomp:
            continue
        ref = 0x0334 if ccc[c] > 1 else 0x0301  # classes 1 and 230, known to every version
        pair = chr(c) + chr(ref) if ref == 0x0334 else chr(ref) + chr(c)
        if nfd.normalize_str(pair) == pair:  # not reordered: a starter to tokenizers
            diffs.append(("combining class", c, ccc[c], 0))
            ccc[c] = 0
    keep = [c for c in code_points() if ccc[c] and not flags[c] & FL_MN and c not in decomp]
    for a in keep:
        for b in keep:
            got = [ord(x) for x in nfd.normalize_str(chr(a) + chr(b))]
            if got != ([a, b] if ccc[a] <= ccc[b] else [b, a]):
                sys.exit(f"canonical order of U+{a:04X} U+{b:04X}: tokenizers gives {got}")
    return diffs


def two_stage(values, name, ctype):
    """values: a list of N_CP ints -> C text of a two-stage table (blocks of BLOCK deduplicated)."""
    blocks, index, stage1 = [], {}, []
    for start in range(0, N_CP, BLOCK):
        blk = tuple(values[start:start + BLOCK])
        if blk not in index:
            index[blk] = len(blocks)
            blocks.append(blk)
        stage1.append(index[blk])
    assert len(blocks) < 65536
    out = [f"static const uint16_t {name}_stage1[{len(stage1)}] = {{"]
    out += _rows(stage1)
    out.append("};")
    out.append(f"static const {ctype} {name}_stage2[{len(blocks) * BLOCK}] = {{")
    out += _rows([v for b in blocks for v in b])
    out.append("};")
    return out, len(stage1) * 2 + len(blocks) * BLOCK * (2 if "16" in ctype else 4)


def _rows(vals, per=24):
    return ["    " + ", ".join(str(v) for v in vals[i:i + per]) + "," for i in range(0, len(vals), per)]


def pooled(mapping, name):
    """{cp: [cps]} -> (per-cp index into a pool, C text of the pool: len, cps..., index 0 = none)."""
    pool, where, idx = [0], {}, [0] * N_CP
    for c in sorted(mapping):
        seq = tuple(mapping[c])
        if seq not in where:
            where[seq] = len(pool)
            pool += [len(seq)] + list(seq)
        idx[c] = where[seq]
    assert len(pool) < 65536
    text = [f"static const uint32_t {name}_pool[{len(pool)}] = {{"] + _rows(pool) + ["};"]
    return idx, text, len(pool) * 4


def max_expansion(flags, decomp, lower):
    """Most code points one input code point can become (NFD then lowercase), and the most
    non-removed code points per UTF-8 byte of input: the native tokenizer sizes its buffers by these."""
    worst_n, worst_ratio = 1, 1.0
    for c in code_points():
        if 0xAC00 <= c <= 0xD7A3:
            seq = [c, c, c]  # L V T
        else:
            seq = decomp.get(c, [c])
        out = []
        for x in seq:
            out += lower.get(x, [x])
        out_nfd_only = seq
        worst_n = max(worst_n, len(out), len(lower.get(c, [c])), len(out_nfd_only))
        utf8 = len(chr(c).encode("utf-8"))
        for variant in (out, lower.get(c, [c]), seq):
            worst_ratio = max(worst_ratio, len(variant) / utf8)
    return worst_n, worst_ratio


def generate():
    flags, ccc, decomp, lower = python_tables()
    diffs = probe_tokenizers(flags, ccc, decomp, lower)
    import tokenizers
    props = [flags[c] | (ccc[c] << 8) for c in range(N_CP)]
    dec_idx, dec_pool, dec_bytes = pooled(decomp, "fe_uni_decomp")
    low_idx, low_pool, low_bytes = pooled(lower, "fe_uni_lower")
    worst_n, worst_ratio = max_expansion(flags, decomp, lower)
    summary = {}
    for d in diffs:
        summary[d[0]] = summary.get(d[0], 0) + 1
    lines = [
        "/* fastembed: Unicode tables of the native WordPiece tokenizer (csrc/fe_wordpiece.h).",
        " *",
        " * GENERATED by tools/gen_unicode_tables.py: do not edit; regenerate and commit both.",
        f" * Source: Python {sys.version.split()[0]}'s unicodedata (Unicode {ud.unidata_version}), with the answers",
        f" * of Hugging Face tokenizers {tokenizers.__version__} where its own Unicode tables differ "
        "(probed on every code point):",
    ]
    for k, v in sorted(summary.items()):
        lines.append(f" *   {k}: {v} code points")
    lines += [
        " * (tests/test_text_unicode.py checks every code point against tokenizers again.)",
        " *",
        " * props: bits 0-4 flags (FE_UNI_CTRL, _WS, _PUNCT, _CJK, _MN), bits 8-15 the canonical",
        " * combining class. decomp / lower: index into the pool (0: maps to itself); pool[i] is the",
        " * length, pool[i + 1 ..] the code points.",
        " */",
        "#ifndef FE_UNICODE_TABLES_H",
        "#define FE_UNICODE_TABLES_H",
        "#include <stdint.h>",
        "",
        f"#define FE_UNI_BLOCK_SHIFT {BLOCK.bit_length() - 1}",
        f"#define FE_UNI_CTRL {FL_CTRL}",
        f"#define FE_UNI_WS {FL_WS}",
        f"#define FE_UNI_PUNCT {FL_PUNCT}",
        f"#define FE_UNI_CJK {FL_CJK}",
        f"#define FE_UNI_MN {FL_MN}",
        "/* the most code points one input code point becomes (NFD, then lowercase) */",
        f"#define FE_UNI_MAX_EXPANSION {worst_n}",
        "/* the most code points per UTF-8 byte of input after normalization (buffer sizing) */",
        f"#define FE_UNI_MAX_CP_PER_BYTE {int(-(-worst_ratio // 1))}",
        "",
    ]
    total = dec_bytes + low_bytes
    for vals, name, ctype in ((props, "fe_uni_props", "uint16_t"), (dec_idx, "fe_uni_decomp", "uint16_t"),
                              (low_idx, "fe_uni_lower", "uint16_t")):
        text, nbytes = two_stage(vals, name, ctype)
        lines += text
        total += nbytes
    lines += dec_pool + low_pool
    lines += ["", f"/* {total} bytes of tables */", "#endif /* FE_UNICODE_TABLES_H */", ""]
    return "\n".join(lines), diffs, total


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="fail if the committed header differs")
    ap.add_argument("--show", action="store_true", help="print every difference from unicodedata")
    args = ap.parse_args()
    text, diffs, total = generate()
    if args.show:
        for d in diffs:
            print(d)
    print(f"{len(diffs)} differences from unicodedata taken from tokenizers; {total} bytes of tables",
          file=sys.stderr)
    if args.check:
        with open(OUT) as f:
            if f.read() != text:
                sys.exit("csrc/fe_unicode_tables.h is stale: run tools/gen_unicode_tables.py")
        return
    with open(OUT, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
