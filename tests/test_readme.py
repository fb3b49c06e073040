"""The README's commands and examples are part of the product: run them."""
import pathlib
import re

import pytest

from _docblocks import run_python

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
    result = run_python(ROOT / "README.md")
    assert len(result["ran"]) >= 5, "the README's python blocks were not found"
    if result["skipped"]:
        pytest.skip(f"ran {len(result['ran'])} README python blocks; skipped "
                    + "; ".join(f"{b.where} ({why})" for b, why in result["skipped"]))


def test_readme_is_short():
    """Issue 27: at most 300 lines; the long material lives in docs/."""
    assert len(README.splitlines()) <= 300


def test_readme_states_the_float64_rule():
    from fastembed._validate import CONVERT_WARN_BYTES
    assert CONVERT_WARN_BYTES == 256 * 2**20 and "256 MiB" in README and "ConversionWarning" in README
