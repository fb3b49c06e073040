"""The package's import structure, checked: imports go one way.

* no import circles among fastembed's modules (module-level imports form a DAG);
* no module imports the package face (``import fastembed`` / ``from fastembed import Name`` of a
  name that is not a submodule), except ``__init__`` and ``__main__``;
* no function-level imports of the package's own modules (optional dependencies may be imported
  lazily), except the CLI's ``bench`` command importing the benchmark package ``fastembed.bench``:
  tooling is loaded when that command runs, never at start-up;
* the validation layer imports no kernel module; the file openers import nothing of the package.
"""
import ast
import os
import pathlib
import subprocess
import sys

import pytest

PKG = pathlib.Path(__file__).resolve().parents[1] / "src" / "fastembed"
FACE_ALLOWED = {"fastembed.__init__", "fastembed.__main__"}
# tooling that product modules may load only lazily, and which of them may: the benchmarks (the CLI's
# `bench` command). Everything else under TOOLING is never imported by a product module.
LAZY_TOOLING = {"fastembed.bench": {"fastembed.cli"}}


def _modules():
    mods = {}
    for p in PKG.rglob("*.py"):
        rel = p.relative_to(PKG.parent).with_suffix("")
        name = ".".join(rel.parts)
        if name.endswith(".__init__"):
            name = name[: -len(".__init__")]
        mods[name] = p
    return mods


MODULES = _modules()


def _child_env():
    """The environment for a child interpreter that imports the fastembed these tests import (the
    installed one in CI, whose compiled kernels the checkout's src/ does not hold)."""
    import fastembed
    env = dict(os.environ)
    here = str(pathlib.Path(fastembed.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([here] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    return env


def _resolve(node, current: str):
    """Package modules an import node refers to, and whether it names the package face."""
    out, face = [], False
    if isinstance(node, ast.Import):
        for a in node.names:
            if a.name == "fastembed":
                face = True
            elif a.name.startswith("fastembed."):
                out.append(a.name)
        return out, face
    base = node.module or ""
    if node.level:
        parts = current.split(".")
        pkg = parts if (MODULES.get(current, pathlib.Path()).name == "__init__.py") else parts[:-1]
        pkg = pkg[: len(pkg) - (node.level - 1)]
        base = ".".join(pkg + ([base] if base else []))
    if base == "fastembed":
        for a in node.names:
            sub = f"fastembed.{a.name}"
            if sub in MODULES or (PKG / a.name).is_dir() or list(PKG.glob(f"_kernels/{a.name}.*")):
                out.append(sub)
            else:
                face = True
    elif base.startswith("fastembed"):
        out.append(base)
    return out, face


def _is_type_checking(test) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(name: str):
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    top, nested, face = set(), [], False

    def visit(node, in_function):
        nonlocal face
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                continue  # imports for the type checker only: no run-time edge
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                mods, f = _resolve(child, name)
                if in_function:
                    nested.extend((m, child.lineno) for m in mods)
                    if f:
                        nested.append(("fastembed", child.lineno))
                else:
                    top.update(mods)
                    face = face or f
            fn = isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            visit(child, in_function or fn)

    visit(tree, False)
    return top, nested, face


def _graph():
    g = {}
    for name in MODULES:
        top, _, _ = _imports(name)
        g[name] = {m for m in top if m in MODULES and m != name}
    return g


def find_cycle(g):
    """One import circle of the graph {module: {imported modules}} as a list, or None."""
    state, stack = {}, []

    def dfs(u):
        state[u] = 1
        stack.append(u)
        for v in sorted(g.get(u, ())):
            if state.get(v) == 1:
                return stack[stack.index(v):] + [v]
            if v not in state:
                c = dfs(v)
                if c:
                    return c
        stack.pop()
        state[u] = 2
        return None

    for u in sorted(g):
        if u not in state:
            c = dfs(u)
            if c:
                return c
    return None


def test_no_import_cycles():
    cycle = find_cycle(_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_the_cycle_finder_finds_circles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_no_module_imports_the_package_face():
    bad = []
    for name in MODULES:
        if name in FACE_ALLOWED or name == "fastembed":
            continue
        top, nested, face = _imports(name)
        if face or any(m == "fastembed" for m, _ in nested):
            bad.append(name)
    assert not bad, f"these modules import the package face `fastembed` (import the module instead): {bad}"


def test_no_function_level_imports_of_own_modules():
    bad = []
    for name in MODULES:
        _, nested, _ = _imports(name)
        bad += [f"{name}:{line} imports {m}" for m, line in nested if name not in LAZY_TOOLING.get(_package(m), ())]
    assert not bad, "function-level imports of fastembed's own modules:\n" + "\n".join(bad)


def test_layering_rules():
    top, _, _ = _imports("fastembed._validate")
    assert top <= {"fastembed._kernels._argcheck"}, f"_validate imports {top}"
    top, _, _ = _imports("fastembed._files")
    assert not any(m.startswith("fastembed") for m in top), f"_files imports {top}"
    top, _, _ = _imports("fastembed.reference")
    assert not any(m.startswith("fastembed") for m in top), f"reference imports {top}"
    # the word questions, the engine and evaluation use the table through its public API only
    for low in ("fastembed.words", "fastembed.search", "fastembed.evaluate", "fastembed.optim",
                "fastembed.pooling", "fastembed.rows"):
        top, _, _ = _imports(low)
        assert "fastembed.table" not in top, f"{low} imports fastembed.table"
    # the table is the storage core: imports point toward it, never from it to a feature
    top, _, _ = _imports("fastembed.table")
    features = {"fastembed.words", "fastembed.evaluate", "fastembed.pooling", "fastembed.optim",
                "fastembed.accessors", "fastembed.interop", "fastembed.io", "fastembed.training",
                "fastembed.glove", "fastembed.distributed", "fastembed.corpus", "fastembed.cli"}
    assert not top & features, f"fastembed.table imports features {sorted(top & features)}"


def _package(module: str) -> str:
    """The tooling package a module belongs to (fastembed.bench.kernels -> fastembed.bench)."""
    return "fastembed.bench" if module.startswith("fastembed.bench.") else module


TOOLING = {"fastembed.reference", "fastembed.testing", "fastembed.bench"}


def test_tooling_stays_out_of_the_product():
    """fastembed.reference, fastembed.testing and the benchmarks (fastembed.bench) serve the tests
    and bench/: no product module imports them at module level, and in a function only the CLI's
    ``bench`` command imports fastembed.bench; the fuzz harness lives with the tests."""
    bad = []
    for name in MODULES:
        if _package(name) in TOOLING:
            continue
        top, nested, _ = _imports(name)
        bad += [f"{name} imports {m}" for m in top if _package(m) in TOOLING]
        bad += [f"{name}:{line} imports {m} in a function" for m, line in nested
                if _package(m) in TOOLING and name not in LAZY_TOOLING.get(_package(m), ())]
    assert not bad, bad
    assert not (PKG / "io" / "_fuzz.py").exists()
    assert not (PKG / "benchmarks.py").exists(), "the benchmarks are the package fastembed.bench"


def test_the_checker_sees_the_cli_import_the_benchmarks_lazily():
    """The allowance above is used, and used from inside the bench command (not vacuous)."""
    top, nested, _ = _imports("fastembed.cli")
    assert not any(_package(m) == "fastembed.bench" for m in top)
    lines = [line for m, line in nested if m == "fastembed.bench"]
    assert lines, "fastembed.cli no longer imports fastembed.bench in its bench command"
    tree = ast.parse(MODULES["fastembed.cli"].read_text(encoding="utf-8"))
    cmd = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "cmd_bench")
    assert all(cmd.lineno <= line <= cmd.end_lineno for line in lines), lines


@pytest.mark.parametrize("statement", ["import fastembed", "import fastembed, fastembed.cli",
                                       "import fastembed.cli; fastembed.cli.build_parser()"])
def test_start_up_imports_no_tooling(statement):
    """Importing the package or the CLI (and building its parser) loads neither the benchmarks nor
    the numpy reference, checked in a fresh interpreter."""
    code = (f"{statement}\nimport sys\n"
            "bad = sorted(m for m in sys.modules if m.startswith(('fastembed.bench', 'fastembed.reference')))\n"
            "assert 'fastembed' in sys.modules and not bad, bad\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_child_env(), timeout=300)
    assert r.returncode == 0, r.stderr


def test_the_table_is_a_storage_core():
    """Issue 25's budget: at most 35 public names and 500 lines of code (docstrings and comments
    not counted) on EmbeddingTable; features are modules and accessors."""
    import fastembed as fe
    names = [n for n in dir(fe.EmbeddingTable) if not n.startswith("_")]
    assert len(names) <= 35, names
    src = (PKG / "table.py").read_text(encoding="utf-8")
    tree = ast.parse(src)
    doc_lines = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and ast.get_docstring(node):
            d = node.body[0]
            doc_lines.update(range(d.lineno, d.end_lineno + 1))
    code = [ln for i, ln in enumerate(src.splitlines(), 1)
            if i not in doc_lines and ln.strip() and not ln.strip().startswith("#")]
    assert len(code) <= 500, f"table.py has {len(code)} lines of code"
