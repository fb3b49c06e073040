"""docs/ is part of the product: every Python block runs, every fence says what it holds, every page is
in mkdocs.yml's navigation, every relative link resolves, every command line parses, and every public
module has its page (see tests/_docblocks.py for the markers)."""
import importlib
import pathlib
import pkgutil
import re
import shlex

import pytest

import fastembed
from _docblocks import DOCS, LANGS, ROOT, blocks, pages, run_python

DOC_PAGES = sorted(DOCS.rglob("*.md"))
IDS = [str(p.relative_to(DOCS)) for p in DOC_PAGES]


def test_the_docs_tree_exists():
    assert len(DOC_PAGES) >= 20
    assert (ROOT / "mkdocs.yml").is_file()


@pytest.mark.parametrize("page", DOC_PAGES, ids=IDS)
def test_docs_python_blocks_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_python(page)
    python = [b for b in blocks(page) if b.lang == "python"]
    assert len(result["ran"]) + len(result["skipped"]) == len(python)
    if result["skipped"]:
        pytest.skip(f"ran {len(result['ran'])} python blocks; skipped "
                    + "; ".join(f"{b.where} ({why})" for b, why in result["skipped"]))


def test_docs_have_python_examples():
    """The runner finds blocks (a broken fence regex would make every page 'pass' with nothing run)."""
    counts = {str(p.relative_to(DOCS)): sum(b.lang == "python" for b in blocks(p)) for p in DOC_PAGES}
    assert sum(counts.values()) >= 40, counts
    for page in ("getting-started.md", "api/table.md", "api/io.md", "api/words.md", "api/pooling.md",
                 "api/search.md", "api/training.md", "api/text.md", "api/torch.md", "api/gensim.md",
                 "api/spacy.md", "api/distributed.md", "api/interop.md", "simd.md"):
        assert counts[page] >= 1, f"{page} has no python example"


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_fence_names_its_language(page):
    text = page.read_text(encoding="utf-8")
    found = blocks(page)
    assert text.count("```") == 2 * len(found), f"{page}: an unbalanced or unparsed fence"
    for b in found:
        assert b.lang in LANGS, f"{b.where}: fence language {b.lang!r}; use one of {sorted(LANGS)}"
        assert b.lang == "python" or not (b.skip or b.requires), f"{b.where}: markers are for python blocks"


def _nav_pages():
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    return re.findall(r":\s*([\w./-]+\.md)\s*$", text, flags=re.M)


def test_mkdocs_nav_lists_every_page_once():
    nav = _nav_pages()
    assert len(nav) == len(set(nav))
    assert sorted(nav) == sorted(IDS), "mkdocs.yml's nav and docs/ differ"
    assert re.search(r"^docs_dir:\s*docs\s*$", (ROOT / "mkdocs.yml").read_text(), flags=re.M)


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page):
    text = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.S | re.M)
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        file, _, anchor = target.partition("#")
        path = (page.parent / file).resolve()
        assert path.exists(), f"{page.relative_to(ROOT)}: the link {target!r} goes nowhere"
        if anchor:
            assert anchor in _anchors(path), f"{page.relative_to(ROOT)}: {target!r}: no such heading"


def _anchors(path):
    """The heading ids mkdocs (toc's slugify) and GitHub give a page's headings."""
    text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.S | re.M)
    out = set()
    for h in re.findall(r"^#+ (.*)$", text, flags=re.M):
        h = re.sub(r"[^\w\s-]", "", h).strip().lower()
        out.add(re.sub(r"[-\s]+", "-", h))
    return out


def _command_lines():
    for page in pages():
        for b in blocks(page):
            if b.lang not in ("bash", "text"):
                continue
            for line in b.code.splitlines():
                line = line.split(" # ")[0].strip()
                if line.startswith("fastembed ") and "<" not in line and "|" not in line:
                    yield b.where, line


def test_command_lines_parse():
    """As fastembed.cli.main parses them (search takes queries after its options)."""
    from fastembed.cli import build_parser, cmd_search

    parser = build_parser()
    lines = list(_command_lines())
    assert len(lines) >= 20
    for where, line in lines:
        try:
            args, extra = parser.parse_known_args(shlex.split(line)[1:])
        except SystemExit:  # pragma: no cover - the message says which line
            pytest.fail(f"{where}: `{line}` does not parse")
        assert not extra or (args.func is cmd_search and not any(x.startswith("-") for x in extra)), \
            f"{where}: `{line}`: unrecognized arguments {extra}"


def test_every_public_module_has_a_page():
    text = "\n".join(p.read_text(encoding="utf-8") for p in DOC_PAGES)
    modules = [m.name for m in pkgutil.walk_packages(fastembed.__path__, "fastembed.")
               if not any(part.startswith("_") for part in m.name.split("."))
               and not m.name.startswith(("fastembed.io.", "fastembed.text."))]
    assert "fastembed.torch" in modules and "fastembed.compat.gensim" in modules
    tooling = ("fastembed.reference", "fastembed.bench")  # named where the layout is described
    missing = [m for m in modules if f"`{m}" not in text and not m.startswith(tooling)]
    assert not missing, f"modules no docs page names: {missing}"
    layout = (DOCS / "layout.md").read_text(encoding="utf-8")
    assert "reference.py" in layout and "bench/" in layout
    importlib.import_module("fastembed.io")


def test_mkdocs_builds_the_site_strictly(tmp_path):
    """The README's `pip install mkdocs && mkdocs build`, with warnings as errors (skipped where
    mkdocs is not installed: it is a documentation tool, not a test requirement)."""
    pytest.importorskip("mkdocs", reason="mkdocs is not installed (pip install mkdocs)")
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (tmp_path / "site" / "api" / "table" / "index.html").is_file()
