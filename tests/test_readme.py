"""The README's commands and examples are part of the product: run them."""
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _blocks(lang):
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def test_ci_runs_the_readme_test_command():
    bash = [b.strip() for b in _blocks("bash")]
    test_cmd = next(b for b in bash if "pytest" in b)
    demo_cmd = next(b for b in bash if "fastembed demo" in b)
    assert "pip install" in demo_cmd and "pip install" in test_cmd
    ci = (ROOT / ".ci" / "run").read_text()
    install = re.search(r"^README_INSTALL='(.*)'$", ci, flags=re.M).group(1)
    test = re.search(r"^README_TEST='(.*)'$", ci, flags=re.M).group(1)
    assert f"{install} && {test}" == test_cmd, "the .ci/run command differs from the README's test command"
    lines = ci.splitlines()
    i, j = lines.index('eval "$README_INSTALL"'), lines.index('eval "$README_TEST"')
    assert i < j and all("pytest" not in ln for ln in lines[i + 1: j]), ".ci/run must run the README's steps"


def test_readme_python_blocks_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ns = {}
    blocks = _blocks("python")
    assert blocks
    for i, code in enumerate(blocks):
        try:
            exec(compile(code, f"README.md python block {i}", "exec"), ns)
        except Exception as exc:  # pragma: no cover - the message says which block
            pytest.fail(f"README python block {i} failed: {exc!r}\n{code}")
