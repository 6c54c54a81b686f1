"""Render the README's pictures into docs/ (or OUT_DIR):

- neuron.svg: the classic neuron o = tanh(x1*w1 + x2*w2 + b) after backward, the local
  gradient on every edge; neuron_contributions.svg: also upstream x local = contribution;
- neuron_backprop.gif: that neuron's backward pass, one frame per step with its chain rule
  (``viz.animate``; the README opens with it);
- moons_collapsed.svg and moons_focus.svg: the loss graph of micrograd's moons demo through
  ``nn.MLP`` (2-16-16-1 relu, 100 points, hinge + L2, 68,814 nodes) drawn with
  ``collapse=2``, and focused on one first-layer weight then collapsed.

    python scripts/make_readme_figure.py            # writes into docs/
    python scripts/make_readme_figure.py OUT_DIR    # writes into OUT_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

import nn
import viz
from autograd import Value, name_scope

DOCS = Path(__file__).resolve().parent.parent / "docs"


def neuron(backward: bool = True) -> Value:
    """micrograd's neuron, with b chosen so that o = tanh(0.8814) = 0.7071 (after backward
    unless ``backward=False``)."""
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
    if backward:
        o.backward()
    return o


def moons_loss() -> tuple[Value, nn.MLP]:
    """micrograd's demo loss through nn: mean hinge over 100 moons points + 1e-4 * L2, after
    backward. The L2 sum runs in its own scope, so it folds into one box too."""
    X, y = nn.datasets.moons(100, noise=0.1, seed=1337)
    model = nn.MLP(2, [16, 16, 1], activation="relu", init="uniform", seed=1337)
    scores = [model(x) for x in X.tolist()]
    with name_scope("l2"):
        params = model.parameters()
        reg = params[0] * params[0]
        for p in params[1:]:
            reg = reg + p * p
    loss = nn.losses.hinge(scores, 2.0 * y - 1.0) + 1e-4 * reg
    loss.label = "L"
    loss.backward()
    return loss, model


def main(out_dir: str | Path = DOCS) -> list[Path]:
    out_dir = Path(out_dir)
    o = neuron()
    loss, model = moons_loss()
    weight = model.layers[0].neurons[3].w[1]
    return [
        viz.render(o, out_dir / "neuron.svg"),
        viz.render(o, out_dir / "neuron_contributions.svg", edge_labels="contribution"),
        viz.animate(neuron(backward=False), out_dir / "neuron_backprop.gif", seconds_per_step=1.5),
        viz.render(loss, out_dir / "moons_collapsed.svg", collapse=2),
        viz.render(loss, out_dir / "moons_focus.svg", focus=weight, collapse=2),
    ]


if __name__ == "__main__":
    for path in main(*sys.argv[1:2]):
        print(path)
