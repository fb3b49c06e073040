"""The training page (docs/api/training.md) is part of the product: its Python runs, says what it
claims, and its command lines parse."""
import pathlib
import re

import pytest

PAGE = pathlib.Path(__file__).resolve().parents[1] / "docs" / "api" / "training.md"


def _section() -> str:
    text = PAGE.read_text(encoding="utf-8")
    start = text.index("## word2vec")
    end = text.index("\n## Corpora", start + 1)
    return text[start:end]


def test_training_doc_python_blocks_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", _section(), flags=re.S)
    assert len(blocks) == 4  # word2vec, fastText, GloVe, corpus
    ns = {}
    for i, code in enumerate(blocks):
        try:
            exec(compile(code, f"docs/api/training.md python block {i}", "exec"), ns)
        except Exception as exc:  # pragma: no cover - the message says which block
            pytest.fail(f"docs/api/training.md python block {i} failed: {exc!r}\n{code}")
    animals = {"dog", "kitten", "puppy", "hamster", "rabbit", "cat"}
    assert {k for k, _ in ns["model"].wv.words.most_similar("lion", topn=3)} <= animals
    assert ns["table"].words.most_similar(positive=["king", "woman"], negative=["man"], topn=1)[0][0] == "queen"
    assert ns["vectors"].vocab.keys == ns["model"].wv.vocab.keys


def test_cli_lines_name_real_options():
    from fastembed.cli import build_parser
    text = _section()
    parser = build_parser()
    lines = re.findall(r"^fastembed train .*$", text, flags=re.M)
    assert lines, "the README's training section shows no `fastembed train` command line"
    for line in lines:
        args = parser.parse_args(line.split()[1:])  # SystemExit on an unknown option
        assert args.func.__name__ == "cmd_train", line
