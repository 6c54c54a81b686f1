"""nn: neural networks on the tracegrad engine, micrograd-style, with a Keras-like loop.

>>> import nn
>>> X, y = nn.datasets.xor()
>>> model = nn.MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid", seed=0)
>>> history = nn.fit(model, X, y, loss="binary_crossentropy",
...                  optimizer=nn.SGD(model.parameters(), lr=0.5), epochs=2, verbose=0)
>>> model.predict(X).shape
(4, 1)
"""

from . import callbacks, datasets, losses
from .callbacks import Callback
from .module import MLP, Layer, Module, Neuron, TensorLayer
from .optim import SGD, Adam, Optimizer
from .serialize import load, save
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
    "load",
    "losses",
    "save",
]
