"""Code blocks of the README and docs/*.md, for the tests that run them (test_readme.py, test_docs.py).

Every fenced block names its language. ``python`` blocks run, in page order, in one namespace per page
(so a page reads as one session). A marker comment on the line before a fence changes that:

    <!-- requires: torch, gensim -->   the block runs only when these modules import (else: skipped,
                                       with the reason); such a block defines nothing later blocks use
    <!-- skip: why -->                 the block is shown, never run (the reason is required)

Non-Python blocks are ``bash`` (commands), ``text`` (output, sketches, formulas) or ``yaml``.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import pathlib
import re
from typing import Dict, List, Optional, Tuple

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
LANGS = {"python", "bash", "text", "yaml"}

_FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.S | re.M)
_MARK = re.compile(r"<!--\s*(skip|requires):\s*([^>]*?)\s*-->\s*\Z", re.S)


@dataclasses.dataclass
class Block:
    path: pathlib.Path
    line: int
    lang: str
    code: str
    skip: Optional[str] = None           # the reason the block is never run
    requires: Tuple[str, ...] = ()       # modules the block needs

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def pages() -> List[pathlib.Path]:
    """README.md and every Markdown page under docs/."""
    return [ROOT / "README.md"] + sorted(DOCS.rglob("*.md"))


def blocks(path: pathlib.Path) -> List[Block]:
    text = path.read_text(encoding="utf-8")
    out = []
    for m in _FENCE.finditer(text):
        b = Block(path, text.count("\n", 0, m.start()) + 1, m.group(1).strip(), m.group(2))
        mark = _MARK.search(text[max(0, m.start() - 300):m.start()])
        if mark:
            kind, value = mark.group(1), mark.group(2)
            if kind == "skip":
                if not value:
                    raise ValueError(f"{b.where}: a skip marker must give its reason")
                b.skip = value
            else:
                b.requires = tuple(v.strip() for v in value.split(",") if v.strip())
        out.append(b)
    return out


def missing(modules) -> List[str]:
    return [m for m in modules if importlib.util.find_spec(m) is None]


def run_python(path: pathlib.Path) -> Dict[str, list]:
    """Run the page's python blocks in order (the caller has chdir'ed to a scratch directory).

    Returns {"ran": [...], "skipped": [(block, reason), ...]}; raises AssertionError naming the block
    and showing its code when one fails."""
    ns: dict = {"__name__": "__docs__"}
    ran, skipped = [], []
    for b in blocks(path):
        if b.lang != "python":
            continue
        if b.skip:
            skipped.append((b, f"marked skip: {b.skip}"))
            continue
        absent = missing(b.requires)
        if absent:
            skipped.append((b, f"needs {', '.join(absent)}"))
            continue
        try:
            exec(compile(b.code, b.where, "exec"), ns)
        except Exception as exc:
            raise AssertionError(f"{b.where}: python block failed: {exc!r}\n{b.code}") from exc
        ran.append(b)
    return {"ran": ran, "skipped": skipped, "ns": ns}
