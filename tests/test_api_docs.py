"""docs/api.md, the API reference in the repository, names every public name of autograd, nn
and viz (each package's ``__all__``), and the README links it. A name added to a package
without a word in the reference fails here, by name."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
API = ROOT / "docs" / "api.md"


def documented_names() -> set[str]:
    """Every identifier inside code in the reference: `inline` spans and fenced blocks."""
    text = API.read_text(encoding="utf-8")
    code = re.findall(r"```.*?```", text, re.S)
    code += re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S))
    return {name for piece in code for name in re.findall(r"[A-Za-z_]\w*", piece)}


@pytest.mark.parametrize("package", ["autograd", "nn", "viz"])
def test_every_public_name_is_in_the_reference(package):
    public = importlib.import_module(package).__all__
    missing = sorted(set(public) - documented_names())
    assert not missing, f"docs/api.md does not document {package}: {', '.join(missing)}"


def test_the_readme_links_the_reference_in_the_repository():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "](docs/api.md)" in readme
    assert "shared/API.md" not in readme  # outside the repository: broken in a clone


def python_blocks() -> list[str]:
    """The reference's ```python blocks, in order."""
    return re.findall(r"```python\n(.*?)```", API.read_text(encoding="utf-8"), re.S)


def block_under(heading: str) -> str:
    """The first python block after a heading of the reference."""
    text = API.read_text(encoding="utf-8")
    start = text.index(f"\n{heading}\n")
    return re.search(r"```python\n(.*?)```", text[start:], re.S).group(1)


def test_the_autograd_import_block_runs_and_imports_every_public_name():
    """A reader copies the import block first: it must run, and bring every name the page
    describes (trace, Program, TraceError, explain, Explanation were missing once, so the
    trace example failed with NameError)."""
    block = block_under("## autograd")
    namespace: dict = {}
    exec(compile(block, str(API), "exec"), namespace)  # noqa: S102 - our own reference
    import autograd

    missing = sorted(set(autograd.__all__) - set(namespace))
    assert not missing, f"docs/api.md's import block does not import {', '.join(missing)}"


def test_the_trace_example_runs_after_the_import_block(capsys):
    """The import block then the trace example, as a reader runs them: no NameError, and
    the program's numbers are f's (closed forms here, not the engine's)."""
    import math

    namespace: dict = {}
    for block in (
        block_under("## autograd"),
        block_under("### Traces: `trace`, `Program`, `TraceError`"),
    ):
        exec(compile(block, str(API), "exec"), namespace)  # noqa: S102 - our own reference
    prog = namespace["prog"]
    t = math.tanh(1.0 * 0.5 + 1.0)
    value, (d0, d1) = prog.value_and_grad(1.0, 0.5)
    assert value == pytest.approx(t, rel=1e-15)
    assert (d0, d1) == pytest.approx(((1 - t * t) * 0.5, (1 - t * t) * 1.0), rel=1e-14)
    printed = capsys.readouterr().out
    assert "tanh" in printed and "return" in printed  # the listing and the source printed


def test_no_stray_fragment_ends_a_section():
    """Every line of the reference's prose that starts in lower case continues a sentence
    (a list item's or a paragraph's): a fragment left over from an edit ("derivatives as a
    nested list of floats." after the explain section) has no sentence to continue."""
    text = re.sub(r"```.*?```", "", API.read_text(encoding="utf-8"), flags=re.S)
    lines = text.splitlines()
    for before, line in zip(lines, lines[1:]):
        if line.strip() and line.strip()[0].islower() and before.rstrip().endswith("."):
            assert not line.strip().endswith("."), f"a stray fragment: {line.strip()!r}"
