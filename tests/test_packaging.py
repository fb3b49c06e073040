"""Packaging metadata (issue 27): every extra is what some module really imports, every optional
import has an extra, [all] is the union of the user-facing extras, and the metadata names the
authors and the project's pages."""
import ast
import pathlib
import re

import pytest

tomllib = pytest.importorskip("tomllib", reason="tomllib needs Python 3.11")

ROOT = pathlib.Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "fastembed"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
EXTRAS = PROJECT["optional-dependencies"]
TOOLING = {"test", "bench", "all"}  # not features of the package
# distribution -> the modules fastembed imports from it (dask[distributed] installs both)
IMPORT_NAMES = {"dask": {"dask", "distributed"}, "pot": {"ot"}}
# imports of the tooling shipped in the package (benchmarks, the io fuzzer) and of packages that
# come with another extra's package (srsly with spaCy)
NOT_FEATURES = {"faiss", "safetensors", "srsly", "tqdm", "threadpoolctl", "numpy"}


def _dist(requirement: str) -> str:
    return re.match(r"[A-Za-z0-9_.-]+", requirement).group(0).lower()


def _optional_imports():
    """Top-level names of the third-party packages imported inside functions or try blocks."""
    found = {}
    for p in SRC.rglob("*.py"):
        if p.parent.name == "bench" or p.name == "_fuzz.py":
            continue
        tree = ast.parse(p.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.Try)):
                for sub in ast.walk(node):
                    if isinstance(sub, ast.Import):
                        names = [a.name for a in sub.names]
                    elif isinstance(sub, ast.ImportFrom) and sub.level == 0 and sub.module:
                        names = [sub.module]
                    else:
                        continue
                    for n in names:
                        top = n.split(".")[0]
                        if top != "fastembed" and top not in NOT_FEATURES and top not in _STDLIB:
                            found.setdefault(top, set()).add(p.name)
    return found


_STDLIB = {"os", "sys", "re", "json", "io", "struct", "zlib", "ast", "time", "threading", "weakref",
           "tempfile", "shutil", "subprocess", "signal", "math", "itertools", "functools", "tomllib",
           "importlib", "warnings", "logging", "contextlib", "dataclasses", "typing", "collections",
           "concurrent", "multiprocessing", "mmap", "hashlib", "uuid", "gzip", "bz2", "pickle", "errno",
           "stat", "platform", "glob", "pathlib", "queue", "textwrap", "shlex", "argparse", "numbers"}


def test_every_extra_is_imported_and_every_optional_import_has_an_extra():
    imported = _optional_imports()
    features = {name: reqs for name, reqs in EXTRAS.items() if name not in TOOLING}
    provided = {}
    for extra, reqs in features.items():
        for r in reqs:
            mods = IMPORT_NAMES.get(_dist(r), {_dist(r)})
            provided.update(dict.fromkeys(mods, extra))
            assert mods & set(imported), f"extra [{extra}] installs {r}, which no module of fastembed imports"
    missing = {m: sorted(files) for m, files in imported.items() if m not in provided}
    assert not missing, f"optional imports without an extra: {missing}"


def test_all_is_every_user_facing_extra():
    (req,) = EXTRAS["all"]
    listed = set(re.search(r"\[(.*)\]", req).group(1).split(","))
    assert req.startswith(PROJECT["name"] + "[")
    assert listed == set(EXTRAS) - TOOLING


def test_metadata_names_authors_and_pages():
    assert PROJECT["authors"] and all(a.get("name") for a in PROJECT["authors"])
    urls = PROJECT["urls"]
    assert {"Homepage", "Documentation", "Changelog"} <= set(urls)
    assert (ROOT / "CHANGELOG.md").is_file()
