"""`to_torch` and `from_torch`: carry an MLP to PyTorch and back, weights and all.

A learner who outgrows the scalar engine keeps the model they trained: ``to_torch(model)`` is
a ``torch.nn.Sequential`` of float64 ``Linear`` layers holding the model's weights, each
followed by the layer's activation (``Tanh``, ``Sigmoid``, ``ReLU``; none for a linear
layer), so its outputs equal ``model.predict`` within 1e-12 on either engine. ``from_torch``
reads such a Sequential back into an `MLP`. Both go through the state dict, whose layout is
already PyTorch's (``weight`` is ``(nout, nin)``).

torch is imported only inside these two functions, so ``import nn`` never needs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .module import MLP

if TYPE_CHECKING:  # for the annotations only: torch is imported when a function runs
    import torch

# Our activation names and PyTorch's module classes, by name (torch is imported lazily).
_TORCH_ACTIVATIONS = {"tanh": "Tanh", "sigmoid": "Sigmoid", "relu": "ReLU"}


def _torch(what: str) -> Any:
    """The torch module, or an ImportError that says how to get it."""
    try:
        import torch
    except ImportError:
        raise ImportError(f"nn.{what} needs PyTorch: pip install torch") from None
    return torch


def to_torch(model: MLP) -> torch.nn.Sequential:
    """The MLP as a ``torch.nn.Sequential``: float64 ``Linear`` layers with the model's
    weights (copied: training one does not change the other), each followed by its
    activation module. Works for either engine.

    >>> import nn, numpy as np
    >>> model = nn.MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid", seed=0)
    >>> twin = nn.to_torch(model)   # doctest: +SKIP
    >>> twin                        # doctest: +SKIP
    Sequential(
      (0): Linear(in_features=2, out_features=3, bias=True)
      (1): Sigmoid()
      (2): Linear(in_features=3, out_features=1, bias=True)
      (3): Sigmoid()
    )
    """
    if not isinstance(model, MLP):
        raise TypeError(f"nn.to_torch takes an nn.MLP, got {type(model).__name__}")
    torch = _torch("to_torch")
    state = model.state_dict()
    modules = []
    for i, layer in enumerate(model.layers):
        linear = torch.nn.Linear(layer.nin, layer.nout, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(state[f"layers.{i}.weight"]))
            linear.bias.copy_(torch.from_numpy(state[f"layers.{i}.bias"]))
        modules.append(linear)
        if layer.activation is not None:
            modules.append(getattr(torch.nn, _TORCH_ACTIVATIONS[layer.activation])())
    return torch.nn.Sequential(*modules)


def from_torch(module: torch.nn.Module, *, engine: str = "value") -> MLP:
    """An `MLP` with the weights of a ``torch.nn.Sequential`` of ``Linear`` layers, each
    followed by ``Tanh``, ``Sigmoid``, ``ReLU`` or nothing (linear). The hidden layers must
    share one activation (an MLP has one); the last layer's is the output activation. A
    ``Linear`` without a bias gets a zero one. Weights are copied as float64; ``engine`` is
    the MLP's. Any other layer, or hidden activations that differ, is a ``ValueError``
    naming it.

    >>> import nn
    >>> model = nn.from_torch(nn.to_torch(nn.MLP(2, [3, 1], seed=0)))   # doctest: +SKIP
    >>> model                                                          # doctest: +SKIP
    MLP(2, [3, 1], activation='tanh', output_activation=None)
    """
    torch = _torch("from_torch")
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"nn.from_torch takes a torch.nn.Sequential, got {type(module).__name__}")
    if type(module) is not torch.nn.Sequential:
        raise ValueError(
            f"nn.from_torch takes a torch.nn.Sequential of Linear layers and Tanh, Sigmoid or "
            f"ReLU, got a {type(module).__name__}"
        )
    names = {getattr(torch.nn, cls): name for name, cls in _TORCH_ACTIVATIONS.items()}
    linears: list = []
    activations: list[str | None] = []  # one per Linear: what follows it
    for position, layer in enumerate(module):
        kind = type(layer)
        if kind is torch.nn.Linear:
            if linears and layer.in_features != linears[-1].out_features:
                raise ValueError(
                    f"nn.from_torch: Linear at position {position} takes {layer.in_features} "
                    f"inputs but the layer before it gives {linears[-1].out_features}"
                )
            linears.append(layer)
            activations.append(None)
        elif kind in names and linears and activations[-1] is None:
            activations[-1] = names[kind]
        else:
            where = "before any Linear" if not linears else "right after another activation"
            reason = where if kind in names else "only Linear, Tanh, Sigmoid and ReLU convert"
            raise ValueError(
                f"nn.from_torch cannot convert {kind.__name__} at position {position}: {reason}"
            )
    if not linears:
        raise ValueError("nn.from_torch: the Sequential has no Linear layer")
    hidden = set(activations[:-1])
    if len(hidden) > 1:
        spelled = ", ".join(
            f"{_torch_name(a)} after Linear {i}" for i, a in enumerate(activations[:-1])
        )
        raise ValueError(
            f"nn.from_torch: the hidden activations differ ({spelled}); an nn.MLP has one "
            "hidden activation"
        )
    model = MLP(
        linears[0].in_features,
        [layer.out_features for layer in linears],
        activation=activations[0] if len(linears) > 1 else "tanh",
        output_activation=activations[-1],
        engine=engine,
    )
    state = {}
    for i, layer in enumerate(linears):
        state[f"layers.{i}.weight"] = _array(layer.weight)
        bias = layer.bias
        state[f"layers.{i}.bias"] = np.zeros(layer.out_features) if bias is None else _array(bias)
    model.load_state_dict(state)
    return model


def _torch_name(activation: str | None) -> str:
    return _TORCH_ACTIVATIONS.get(activation, "no activation")


def _array(parameter: torch.Tensor) -> np.ndarray:
    return parameter.detach().cpu().double().numpy()
