"""The README's Python examples run as written (they are the first code users copy)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks() -> list[str]:
    """The README's Python blocks, each padded with blank lines so that its line numbers are
    the README's (tracebacks, and hypothesis reading a test's source, point at real lines)."""
    text = README.read_text(encoding="utf-8")
    return [
        "\n" * text.count("\n", 0, m.start(1)) + m[1]
        for m in re.finditer(r"```python\n(.*?)```", text, re.S)
    ]


def test_the_readme_has_examples():
    assert len(_python_blocks()) >= 5


def test_every_python_block_runs_in_order(tmp_path, monkeypatch):
    # Blocks build on each other (the viz block reuses the neuron), so they share one
    # namespace; each runs in a scratch directory because some write pictures.
    if shutil.which("dot") is None:
        pytest.skip("the viz example renders SVG with Graphviz's dot")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "readme"}
    for block in _python_blocks():
        exec(compile(block, str(README), "exec"), namespace)  # noqa: S102 - our own README
        for name, value in list(namespace.items()):
            if name.startswith("test_") and callable(value):
                value()  # the property tests written with our strategies must pass
                del namespace[name]
    assert (tmp_path / "neuron.svg").read_text().startswith(("<?xml", "<svg"))
