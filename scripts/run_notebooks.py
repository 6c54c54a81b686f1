"""Execute notebooks' jupytext sources and save each as its paired .ipynb, with outputs.

A notebook's source of truth is ``notebooks/NN_name.py`` (jupytext's percent format: edit it
in any editor, ruff lints it); the committed ``NN_name.ipynb`` beside it is this script's
output, so that a code host shows the results without running anything. ``make notebooks``
runs it on all of them:

    .venv/bin/python scripts/run_notebooks.py notebooks/03_xor.py     # one
    make notebooks                                                   # all

Each runs top to bottom in a fresh ``tracegrad`` kernel with ``notebooks/`` as its working
directory. What is saved is what a reader sees before running a cell: a stream's redrawn
lines (a progress bar) fold into their last state, and a player keeps only its still (first
frame, chain rule and "run this cell to play") and a lab only its still (the traced graph and
"run this cell to open the lab"), because a code host escapes their scripts into text. A
graph keeps only its PNG for the same reason: its HTML form (an <img> of the SVG that fits
the output's width) is escaped into text by a code host's sanitiser, while the PNG shows,
scaled to the page's width, in nbconvert's HTML, JupyterLab (trusted or not) and on code
hosts. Cell ids are numbered, so a rebuild changes only what really changed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import jupytext
from nbclient import NotebookClient

# The class viz's player puts on the script that carries its frames, the class of the image
# a graph shows itself as (viz.graph.GRAPH_MARK), and the lab's page.
PLAYER_MARK = 'class="tg-steps"'
GRAPH_MARK = 'class="tg-graph"'
LAB_MARK = 'class="tg-lab"'


def keep_what_a_reader_sees(nb) -> None:
    for k, cell in enumerate(nb.cells):
        cell.id = f"cell-{k:02d}"
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            html = data.get("text/html", "")
            marked = PLAYER_MARK in html or GRAPH_MARK in html or LAB_MARK in html
            if marked and "image/png" in data:
                del data["text/html"]
    nb.metadata.pop("widgets", None)


def run(source: Path) -> Path:
    nb = jupytext.read(source)
    client = NotebookClient(
        nb,
        timeout=600,
        kernel_name="tracegrad",
        record_timing=False,
        coalesce_streams=True,  # also folds "\r"-redrawn lines into their last state
        resources={"metadata": {"path": str(source.parent)}},
    )
    client.execute()
    keep_what_a_reader_sees(nb)
    target = source.with_suffix(".ipynb")
    jupytext.write(nb, target, fmt="ipynb")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", nargs="+", type=Path, help="notebooks/NN_name.py files")
    args = parser.parse_args(argv)
    for source in args.sources:
        if source.suffix != ".py" or not source.is_file():
            parser.error(f"{source}: not a notebook source (notebooks/NN_name.py)")
    for source in args.sources:
        start = time.perf_counter()
        target = run(source)
        print(f"{target}: {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
