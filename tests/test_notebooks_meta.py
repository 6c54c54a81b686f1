"""The committed notebooks: each the executed pair of its jupytext source, run top to bottom,
with outputs that show where nothing runs (untrusted notebooks, code hosts), an opening
paragraph and no error.

Executing them is nbmake's job (``make test`` runs ``pytest --nbmake notebooks``); these tests
check what a reader sees of the committed files without running anything.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
jupytext = pytest.importorskip("jupytext")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NAMES = [
    "01_chain_rule",
    "02_step_through_a_neuron",
    "03_xor",
    "04_property_testing_gradients",
    "05_from_scalars_to_tensors",
    "06_forward_and_reverse_mode",
    "07_graphs_of_real_models",
    "08_watch_it_learn",
]
REBUILD = "rebuild it with `make notebooks` (the .py is the source)"


def load(name: str):
    path = NOTEBOOK_DIR / f"{name}.ipynb"
    assert path.exists(), f"{path} is missing: {REBUILD}"
    return nbformat.read(path, as_version=4)


def outputs(nb):
    for cell in nb.cells:
        if cell.cell_type == "code":
            yield from cell.get("outputs", [])


def test_every_notebook_is_a_source_and_its_executed_pair():
    sources = sorted(p.stem for p in NOTEBOOK_DIR.glob("[0-9][0-9]_*.py"))
    executed = sorted(p.stem for p in NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
    assert sources == executed == NAMES
    assert not (ROOT / "scripts" / "build_notebooks.py").exists()


@pytest.mark.parametrize("name", NAMES)
def test_the_ipynb_holds_exactly_the_cells_of_its_source(name):
    # a hand edit of the .ipynb, or a .py edited without `make notebooks`, fails here
    source = jupytext.read(NOTEBOOK_DIR / f"{name}.py")
    executed = load(name)
    assert [(c.cell_type, c.source) for c in executed.cells] == [
        (c.cell_type, c.source) for c in source.cells
    ], REBUILD
    assert executed.metadata["jupytext"]["formats"] == "ipynb,py:percent"
    assert executed.metadata["kernelspec"]["name"] == "tracegrad"


@pytest.mark.parametrize("name", NAMES)
def test_ran_top_to_bottom_in_one_fresh_kernel(name):
    counts = [c.execution_count for c in load(name).cells if c.cell_type == "code"]
    assert counts, "no code cells"
    assert counts == list(range(1, len(counts) + 1)), counts


def is_picture(out) -> bool:
    data = out.get("data", {})
    return "image/svg+xml" in data or "image/png" in data


@pytest.mark.parametrize("name", NAMES)
def test_has_outputs_and_a_picture(name):
    outs = list(outputs(load(name)))
    assert outs, "no outputs committed"
    assert any(is_picture(out) for out in outs), "no rendered graph or plot"


@pytest.mark.parametrize("name", NAMES)
def test_every_graph_and_player_carries_a_png(name):
    # an untrusted notebook renders no SVG, and a code host escapes a player's script
    for out in outputs(load(name)):
        data = out.get("data", {})
        if "image/svg+xml" in data:
            assert "image/png" in data, "an SVG output without its PNG"
        assert "text/html" not in data or "<svg" not in data["text/html"], "inline SVG in HTML"
        assert 'class="tg-steps"' not in data.get("text/html", ""), "a player kept its script"
        plain = data.get("text/plain", "")
        assert "graphviz.graphs.Digraph" not in plain and " at 0x" not in plain, plain


@pytest.mark.parametrize("name", NAMES)
def test_streams_are_a_few_tidy_lines(name):
    # a progress bar saved as its redraws would be a stack of fragments
    for cell in load(name).cells:
        streams = [o for o in cell.get("outputs", []) if o.output_type == "stream"]
        assert all(s.name == "stdout" for s in streams), "a stderr output (red in a notebook)"
        assert len(streams) <= 1, "stream output in fragments"
        for s in streams:
            assert "\r" not in s.text, "a redrawn line saved with its redraws"


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


@pytest.mark.parametrize("name", NAMES)
def test_a_code_host_shows_every_picture(name):
    """Rendered as a code host renders it (nbconvert's sanitised HTML: scripts and unknown
    tags escaped into text), every picture output is an image and no markup leaks."""
    exporter = pytest.importorskip("nbconvert").HTMLExporter(sanitize_html=True)
    nb = load(name)
    page, _ = exporter.from_notebook_node(nb)
    shown = len(re.findall(r'<img [^>]*src="data:image/(?:png|svg\+xml);base64,', page))
    assert shown >= sum(map(is_picture, outputs(nb)))
    outputs_html = re.findall(r'class="jp-OutputArea-output[^"]*"[^>]*>(.*?)</div>', page, re.S)
    leaked = [h for h in outputs_html if "&lt;svg" in h or "&lt;script" in h or "&lt;img" in h]
    assert not leaked, leaked[0][:300]


def test_the_sources_are_ruff_clean():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (make test installs it)")
    sources = sorted(str(p) for p in NOTEBOOK_DIR.glob("[0-9][0-9]_*.py"))
    for command in ([ruff, "check", "--quiet", *sources], [ruff, "format", "--check", *sources]):
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
