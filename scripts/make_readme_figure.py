"""Render the README's pictures of the classic neuron o = tanh(x1*w1 + x2*w2 + b) after
backward: neuron.svg (local gradients on the edges) and neuron_contributions.svg (also
upstream x local = contribution, ``edge_labels="contribution"``).

    python scripts/make_readme_figure.py            # writes into docs/
    python scripts/make_readme_figure.py OUT_DIR    # writes into OUT_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

import viz
from autograd import Value

DOCS = Path(__file__).resolve().parent.parent / "docs"


def neuron() -> Value:
    """micrograd's neuron, with b chosen so that o = tanh(0.8814) = 0.7071, after backward."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    s = x1w1 + x2w2
    s.label = "x1*w1 + x2*w2"
    n = s + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()
    return o


def main(out_dir: str | Path = DOCS) -> list[Path]:
    out_dir = Path(out_dir)
    o = neuron()
    return [
        viz.render(o, out_dir / "neuron.svg"),
        viz.render(o, out_dir / "neuron_contributions.svg", edge_labels="contribution"),
    ]


if __name__ == "__main__":
    for path in main(*sys.argv[1:2]):
        print(path)
