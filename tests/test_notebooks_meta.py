"""The committed notebooks: built from scripts/build_notebooks.py, run top to bottom, with
their outputs (at least one picture each), an opening paragraph and no error.

Executing them is nbmake's job (``make test`` runs ``pytest --nbmake notebooks``); these tests
check what a reader sees on a code host without running anything.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NAMES = [
    "01_chain_rule",
    "02_step_through_a_neuron",
    "03_xor",
    "04_property_testing_gradients",
    "05_from_scalars_to_tensors",
]


def load(name: str):
    path = NOTEBOOK_DIR / f"{name}.ipynb"
    assert path.exists(), f"{path} is missing: run scripts/build_notebooks.py"
    return nbformat.read(path, as_version=4)


def outputs(nb):
    for cell in nb.cells:
        if cell.cell_type == "code":
            yield from cell.get("outputs", [])


def builder():
    spec = importlib.util.spec_from_file_location(
        "build_notebooks", ROOT / "scripts" / "build_notebooks.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_builder_makes_exactly_the_five_notebooks():
    assert sorted(builder().NOTEBOOKS) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_committed_cells_are_the_builders(name):
    # The .ipynb files are generated: a hand edit would be lost at the next build.
    nb = load(name)
    built = builder().NOTEBOOKS[name]
    assert [(c.cell_type, c.source) for c in nb.cells] == [(c.cell_type, c.source) for c in built]


@pytest.mark.parametrize("name", NAMES)
def test_ran_top_to_bottom_in_one_fresh_kernel(name):
    counts = [c.execution_count for c in load(name).cells if c.cell_type == "code"]
    assert counts, "no code cells"
    assert counts == list(range(1, len(counts) + 1)), counts


@pytest.mark.parametrize("name", NAMES)
def test_has_outputs_and_a_picture(name):
    nb = load(name)
    outs = list(outputs(nb))
    assert outs, "no outputs committed"

    def is_picture(out) -> bool:
        data = out.get("data", {})
        return "image/svg+xml" in data or "image/png" in data or "<svg" in data.get("text/html", "")

    assert any(is_picture(out) for out in outs), "no rendered graph or plot"


@pytest.mark.parametrize("name", NAMES)
def test_begins_with_what_the_reader_will_learn(name):
    first = load(name).cells[0]
    assert first.cell_type == "markdown"
    lines = first.source.splitlines()
    assert lines[0].startswith("# "), "the first line should be the notebook's title"
    paragraph = " ".join(line for line in lines[1:] if line.strip())
    assert len(paragraph.split()) >= 30, "the opening paragraph is missing or too short"
    assert re.search(r"\blearn\b", paragraph), "the opening paragraph should say what is learnt"


@pytest.mark.parametrize("name", NAMES)
def test_no_output_is_an_error(name):
    for out in outputs(load(name)):
        assert out.output_type != "error", f"{out.ename}: {out.evalue}"
        text = out.get("text", "") + out.get("data", {}).get("text/plain", "")
        assert "Traceback (most recent call last)" not in text, text
