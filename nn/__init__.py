"""nn: neural networks on the tracegrad engine, micrograd-style, with a Keras-like loop.

>>> import nn
>>> X, y = nn.datasets.xor()
>>> model = nn.MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid", seed=0)
>>> history = nn.fit(model, X, y, loss="binary_crossentropy",
...                  optimizer=nn.SGD(model.parameters(), lr=0.5), epochs=2, verbose=0)
>>> model.predict(X).shape
(4, 1)
"""

import autograd

# Another top-level autograd found first (HIPS autograd) would fail with a bare "cannot import
# name": say what happened and the fix in one line. viz carries the same check (neither
# may import the other) and the command uses viz's.
if not getattr(autograd, "__tracegrad__", False):
    where = getattr(autograd, "__file__", None) or ", ".join(getattr(autograd, "__path__", []))
    raise ImportError(
        f"{__name__} needs tracegrad's autograd, but 'import autograd' found another package at "
        f"{where} (HIPS autograd?): use a virtual environment without it, or `pip uninstall "
        "autograd` and then reinstall tracegrad (the uninstall deletes our autograd/__init__.py)"
    )

from . import callbacks, datasets, losses
from .callbacks import Callback
from .module import MLP, Layer, Module, Neuron, TensorLayer
from .optim import SGD, Adam, Optimizer
from .serialize import load, save
from .torch_bridge import from_torch, to_torch
from .training import History, evaluate, fit

__all__ = [
    "Adam",
    "Callback",
    "History",
    "Layer",
    "MLP",
    "Module",
    "Neuron",
    "Optimizer",
    "SGD",
    "TensorLayer",
    "callbacks",
    "datasets",
    "evaluate",
    "fit",
    "from_torch",
    "load",
    "losses",
    "save",
    "to_torch",
]
