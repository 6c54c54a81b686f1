"""``tracegrad demo xor``: the Keras XOR recipe, trained and drawn.

>>> xor_demo(epochs=5, svg=None)  # doctest: +ELLIPSIS
Training a 2-3-1 sigmoid MLP on XOR ...
"""

from __future__ import annotations

import sys

import numpy as np

from autograd import Value

from . import datasets, losses
from .module import MLP
from .optim import SGD
from .training import fit


def xor_demo(epochs: int = 1000, svg: str | None = "xor_graph.svg", seed: int = 0) -> int:
    """Train 2-3-1 sigmoid on XOR (SGD lr 0.5, binary cross-entropy, batch 4), print the four
    predictions and the accuracy, and render the trained network's graph for the input (1, 0)
    with its loss's gradients on every edge to ``svg`` (format by suffix; None: no picture).

    Returns the exit status: 0 when it ran, 1 when the graph could not be rendered, 2 for a
    bad argument.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        print(
            f"tracegrad demo xor: --epochs must be a positive integer, got {epochs!r}",
            file=sys.stderr,
        )
        return 2
    X, y = datasets.xor()
    model = MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid", seed=seed)
    print(
        "Training a 2-3-1 sigmoid MLP on XOR (Keras's recipe: SGD lr 0.5, binary "
        f"cross-entropy, batch size 4, {epochs} epochs)",
        flush=True,
    )
    history = fit(
        model,
        X,
        y,
        loss="binary_crossentropy",
        optimizer=SGD(model.parameters(), lr=0.5),
        epochs=epochs,
        batch_size=4,
        seed=seed,
        verbose=1,
    )
    preds = model.predict(X).ravel()
    for (a, b), target, p in zip(X.astype(int).tolist(), y.tolist(), preds.tolist()):
        print(f"  {a} xor {b} = {target}   predicted {p:.4f} -> {int(p > 0.5)}")
    accuracy = float(np.mean((preds > 0.5) == y))
    print(f"accuracy {accuracy:.2f}, final loss {history.history['loss'][-1]:.4f}")
    if svg is None:
        return 0

    import viz  # only here: nn does not depend on viz

    # One sample's forward and backward through the trained weights, so every node has its
    # gradient and every edge its local derivative.
    x = [Value(1.0, label="x0"), Value(0.0, label="x1")]
    out = model(x)
    out.label = "y_hat"
    loss = losses.bce([out], [1.0])
    loss.label = "loss"
    model.zero_grad()
    loss.backward()
    try:
        viz.render(loss, svg)
    except RuntimeError as exc:  # no Graphviz: viz says how to install it
        print(f"tracegrad demo xor: {exc}", file=sys.stderr)
        return 1
    print(f"graph of the trained network for input (1, 0) with its gradients: {svg}")
    return 0
