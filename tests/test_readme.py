"""The README's Python examples run as written (they are the first code users copy)."""

from __future__ import annotations

import contextlib
import io
import re
import shlex
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


def test_every_python_block_runs_in_order(tmp_path, monkeypatch, request):
    # Blocks build on each other (the viz block reuses the neuron), so they share one
    # namespace; each runs in a scratch directory because some write pictures.
    if shutil.which("dot") is None:
        pytest.skip("the viz example renders SVG with Graphviz's dot")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "readme"}
    without_torch = None
    for block in _python_blocks():
        if "import torch" in block:
            try:  # the torch fixture: skips here without PyTorch, fails in CI
                request.getfixturevalue("torch")
            except pytest.skip.Exception as skip:
                without_torch = skip  # run every other block, then say what was left out
                continue
        exec(compile(block, str(README), "exec"), namespace)  # noqa: S102 - our own README
        for name, value in list(namespace.items()):
            if name.startswith("test_") and callable(value):
                value()  # the property tests written with our strategies must pass
                del namespace[name]
    assert (tmp_path / "neuron.svg").read_text().startswith(("<?xml", "<svg"))
    if without_torch is not None:
        pytest.skip(f"every block ran but the PyTorch one: {without_torch}")


def test_the_command_line_session_prints_what_the_readme_shows(tmp_path, monkeypatch, dot_program):
    """Each `$ tracegrad ...` of the README's console block, run in a scratch directory
    (they write pictures), prints exactly the lines shown under it."""
    from tracegrad import cli

    (block,) = re.findall(r"```console\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    sessions = re.split(r"^\$ ", block, flags=re.M)[1:]
    assert [s.split()[:2] for s in sessions] == [
        ["tracegrad", "graph"],
        ["tracegrad", "check"],
        ["tracegrad", "demo"],
        ["tracegrad", "--version"],
    ]
    monkeypatch.chdir(tmp_path)
    for session in sessions:
        command, _, shown = session.partition("\n")
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            code = cli.main(shlex.split(command)[1:])
        assert (code, as_a_terminal_shows(out.getvalue())) == (0, timeless(shown)), command


def as_a_terminal_shows(text: str) -> str:
    """What stays on screen: a line redrawn after carriage returns (the progress bar) shows
    its last state; its elapsed time and rate vary from run to run and are left out."""
    return timeless("\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n")))


def timeless(text: str) -> str:
    return re.sub(r"\[\d\d:\d\d<\d\d:\d\d, +[\d.]+epoch/s", "[<time>", text)


def _block_after(marker: str) -> str:
    text = README.read_text(encoding="utf-8")
    return re.search(re.escape(marker) + r"\n```\n(.*?)```", text, re.S)[1]


def test_the_traced_neuron_is_what_the_readme_shows():
    from autograd import trace

    def neuron(x1, x2, w1, w2, b):
        n = x1 * w1 + x2 * w2 + b
        n.label = "n"
        o = n.tanh()
        o.label = "o"
        return o

    prog = trace(neuron, 2.0, 0.0, -3.0, 1.0, 6.8813735870195432)
    assert _block_after("<!-- the neuron's listing -->") == str(prog) + "\n"
    assert _block_after("<!-- the neuron's source -->") == prog.source
