"""Modules: `Module`, `Neuron`, `Layer`, `TensorLayer` and `MLP` on either engine.

A model on ``engine="value"`` is micrograd's: every weight is one `autograd.Value`, a neuron
computes ``act(b + w0*x0 + w1*x1 + ...)`` and a layer is a list of neurons.

A model on ``engine="tensor"`` holds one `autograd.Tensor` per weight matrix and bias: a
`TensorLayer` computes ``act(x @ W + b)`` on a whole ``(n, nin)`` batch at once (``W`` is
``(nin, nout)``, so the matmul needs no transpose), and an MLP returns an ``(n, nout)``
Tensor. An input array is used as a constant (it gets no gradient).

Scopes: an MLP makes layer ``i``'s parameters and runs its forward pass inside
``autograd.name_scope(f"layer{i}")``, and a value-engine `Layer` does the same for neuron ``j``
with ``name_scope(f"neuron{j}")``, so every node of a forward pass records where it was made
(``node.scope == ("layer0", "neuron2")``) and ``viz.draw(loss, collapse=2)`` shows one box per
neuron. A forward pass runs each layer (and neuron) through its scope's ``run``, in a copy of
the caller's context, so an interrupt can never leave a scope open; ``predict`` runs under
``no_grad`` the same way (as a decorated method).

Losses, optimizers and `nn.fit` only rely on ``parameters()`` returning nodes with ``.data``
and ``.grad`` (floats for Values, arrays for Tensors). `_layer_class` picks the layer class by
``engine``; an MLP needs of a layer only ``forward``, ``parameters``, ``_slots`` (named
state), ``_relabel`` and the ``nin``/``nout``/``activation`` attributes.

Both engines give the same model for the same ``seed``: the same draws (below), the same
``state_dict`` keys and shapes (PyTorch's layout, ``weight`` is ``(nout, nin)``; the tensor
layer stores its transpose), so a state dict or file saved on one engine loads on the other::

    value = MLP(2, [3, 1], seed=0)
    tensor = MLP(2, [3, 1], seed=0, engine="tensor")
    tensor.load_state_dict(value.state_dict())   # the same weights, the same outputs

Initialisation (reproducible with ``seed``): a layer draws its whole weight matrix at once,
``rng.uniform(-limit, limit, size=(nout, nin))`` from ``numpy.random.default_rng(seed)``, so the
draws go neuron by neuron and, within a neuron, input by input; an MLP draws its layers in order
from one generator. Biases are zero and draw nothing. ``limit`` depends on ``init``:

- ``"glorot_uniform"`` (default, as Keras): ``sqrt(6 / (fan_in + fan_out))``
- ``"he_uniform"`` (suits relu): ``sqrt(6 / fan_in)``
- ``"uniform"`` (micrograd's): ``1``
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np

from autograd import Tensor, Value, name_scope, no_grad

ACTIVATIONS = ("tanh", "sigmoid", "relu", None)
INITS = ("glorot_uniform", "he_uniform", "uniform")

# The activation as the Value method to call; None is the identity.
_ACT_FN = {"tanh": Value.tanh, "sigmoid": Value.sigmoid, "relu": Value.relu, None: None}


def _check_activation(activation: str | None) -> None:
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"unknown activation {activation!r}: expected one of 'tanh', 'sigmoid', 'relu', None"
        )


def _init_limit(init: str, fan_in: int, fan_out: int) -> float:
    if init == "glorot_uniform":
        return math.sqrt(6.0 / (fan_in + fan_out))
    if init == "he_uniform":
        return math.sqrt(6.0 / fan_in)
    if init == "uniform":
        return 1.0
    raise ValueError(f"unknown init {init!r}: expected one of {', '.join(map(repr, INITS))}")


def _check_size(name: str, n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{name} must be a positive integer, got {n!r}")
    return int(n)


def _real_array(name: str, value) -> np.ndarray:
    """``value`` as a float64 array of real numbers, or ValueError naming ``name`` and what it
    holds. Complex numbers are refused, not cast (numpy would drop the imaginary part with
    a mere warning), and so are strings (numpy would parse "1.5") and other objects (None
    would become nan).

    >>> _real_array("X", [[1, 2.5]]).dtype
    dtype('float64')
    >>> _real_array("X", [[1 + 2j]])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: X must hold real numbers, got complex values (dtype complex128): ...
    """
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as exc:  # ragged nested lists
        raise ValueError(f"{name} must be an array of real numbers: {exc}") from None
    kind = array.dtype.kind
    if kind == "c":
        raise ValueError(
            f"{name} must hold real numbers, got complex values (dtype {array.dtype}): the "
            f"imaginary part would be lost; pass {name}.real if that is meant"
        )
    if kind == "O":  # a list mixing numbers with something else
        for x in array.ravel().tolist():
            if isinstance(x, complex) or not isinstance(x, numbers.Real):
                raise ValueError(
                    f"{name} must hold real numbers, got {type(x).__name__} {_short(x)}"
                )
    elif kind not in "biuf":
        raise ValueError(f"{name} must hold real numbers, got dtype {array.dtype}")
    return array.astype(np.float64, copy=False)


def _short(x) -> str:
    text = repr(x)
    return text if len(text) <= 40 else text[:37] + "..."


class _Transposed:
    """A (nin, nout) Tensor parameter seen in PyTorch's (nout, nin) layout, for named state.

    ``data`` and ``grad`` read as transposes (views); setting ``data`` stores the transpose
    as a new C-ordered array, the layout ``x @ W`` wants.
    """

    __slots__ = ("node",)

    def __init__(self, node: Tensor) -> None:
        self.node = node

    @property
    def data(self) -> np.ndarray:
        return self.node.data.T

    @data.setter
    def data(self, value: np.ndarray) -> None:
        self.node.data = np.ascontiguousarray(np.asarray(value, dtype=np.float64).T)

    @property
    def grad(self) -> np.ndarray | None:
        return None if self.node.grad is None else self.node.grad.T


def _is_array_slot(params: list) -> bool:
    """A slot of one array parameter (tensor engine) rather than of scalar Values."""
    return len(params) == 1 and isinstance(params[0].data, np.ndarray)


def _slot_data(shape: tuple, params: list) -> np.ndarray:
    """A slot's values as a new float64 array of ``shape``."""
    if _is_array_slot(params):
        return np.array(params[0].data, dtype=np.float64).reshape(shape)
    return np.array([p.data for p in params], dtype=np.float64).reshape(shape)


def _slot_grad(shape: tuple, params: list) -> np.ndarray | None:
    """A slot's gradients as an array of ``shape``; None if no backward pass reached it."""
    if _is_array_slot(params):
        g = params[0].grad
        return None if g is None else np.array(g, dtype=np.float64).reshape(shape)
    return np.array([p.grad for p in params], dtype=np.float64).reshape(shape)


def _slot_load(params: list, array: np.ndarray) -> None:
    """Copy ``array`` (already the slot's shape) into the slot's parameters."""
    if _is_array_slot(params):
        params[0].data = array.copy()
    else:
        for p, x in zip(params, array.ravel().tolist()):
            p.data = x


class _Table(str):
    """A str whose repr is itself, so ``model.summary()`` at a prompt shows the table."""

    def __repr__(self) -> str:
        return str(self)


class Module:
    """Base class: anything with ``parameters()``.

    Subclasses override ``parameters()`` (and, for named state, ``_slots()``). Everything else
    here works from those two.

    >>> class Scale(Module):
    ...     def __init__(self):
    ...         self.k = Value(2.0)
    ...     def __call__(self, x):
    ...         return self.k * x
    ...     def parameters(self):
    ...         return [self.k]
    >>> Scale().num_parameters()
    1
    """

    engine = "value"  # which node type the module computes with ("value" or "tensor")

    def parameters(self) -> list:
        """Every trainable node, in a fixed order (optimizers keep state aligned with it)."""
        return []

    def zero_grad(self) -> None:
        """Reset every parameter's gradient (0.0 for Values, None for Tensors, as PyTorch)."""
        for p in self.parameters():
            p.grad = None if isinstance(p.data, np.ndarray) else 0.0

    def num_parameters(self) -> int:
        """Number of trainable scalars."""
        return sum(int(np.size(p.data)) for p in self.parameters())

    def _slots(self) -> dict[str, tuple[tuple[int, ...], list]]:
        """Named state: ``name -> (shape, parameters)``.

        ``parameters`` is either the scalar Values of the entry in C order, or one node whose
        ``.data`` is the whole array of ``shape`` (the tensor engine). The default names each
        parameter by its index in ``parameters()``.
        """
        return {str(i): ((), [p]) for i, p in enumerate(self.parameters())}

    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of the parameters as float64 arrays (PyTorch's layout: weight is (out, in)).

        >>> Layer(2, 1, seed=0).state_dict()["weight"].shape
        (1, 2)
        """
        return {name: _slot_data(shape, params) for name, (shape, params) in self._slots().items()}

    def load_state_dict(self, state: dict) -> None:
        """Copy arrays into the parameters; missing, unexpected or misshapen entries raise.

        Nothing is changed unless every entry fits.

        >>> a, b = Layer(2, 1, seed=0), Layer(2, 1, seed=1)
        >>> b.load_state_dict(a.state_dict())
        """
        if not isinstance(state, dict):
            raise ValueError(f"state must be a dict of arrays, got {type(state).__name__}")
        slots = self._slots()
        missing = [k for k in slots if k not in state]
        unexpected = [k for k in state if k not in slots]
        if missing or unexpected:
            raise ValueError(
                f"state_dict keys do not match the model: missing {missing}, "
                f"unexpected {unexpected}"
            )
        arrays = {}
        for name, (shape, _) in slots.items():
            try:
                arr = np.asarray(state[name], dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"state_dict[{name!r}] is not numeric: {exc}") from None
            if arr.shape != shape:
                raise ValueError(
                    f"state_dict[{name!r}] has shape {arr.shape}, the model expects {shape}"
                )
            arrays[name] = arr
        for name, (_, params) in slots.items():
            _slot_load(params, arrays[name])

    def _rows(self) -> list[tuple[str, str, int]]:
        """Rows for ``summary()``: (name, output shape, parameter count)."""
        return [(type(self).__name__, "?", self.num_parameters())]

    def summary(self) -> str:
        """A text table of layers, output shapes and parameter counts, with the total.

        >>> print(MLP(784, [10, 10], seed=0).summary().splitlines()[-1])
        Total params: 7,960
        """
        rows = [("Layer", "Output shape", "Params")]
        rows += [(name, shape, f"{count:,}") for name, shape, count in self._rows()]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        lines = [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:>{widths[2]}}" for a, b, c in rows]
        rule = "-" * len(lines[0])
        return _Table(
            "\n".join(
                [lines[0], rule, *lines[1:], rule, f"Total params: {self.num_parameters():,}"]
            )
        )

    def predict(self, X) -> np.ndarray:
        """Outputs for the rows of ``X`` as a float array of shape ``(n, nout)``, no graph kept.

        >>> Layer(2, 3, seed=0).predict([[0.0, 1.0]]).shape
        (1, 3)
        """
        X = _real_array("X", X)
        if X.ndim == 1:
            X = X[None, :]
        if X.ndim != 2:
            raise ValueError(f"predict expects an (n, nin) array, got shape {X.shape}")
        return self._outputs(X)

    @no_grad()
    def _outputs(self, X: np.ndarray) -> np.ndarray:
        if self.engine == "tensor":  # the whole batch in one pass
            return self(X).data.reshape(len(X), -1)
        out = []
        for row in X.tolist():
            y = self(row)
            out.append([y.data] if isinstance(y, Value) else [v.data for v in y])
        return np.array(out, dtype=np.float64).reshape(len(out), -1)


class Neuron(Module):
    """One unit: ``activation(b + sum(w_i * x_i))``.

    >>> n = Neuron(2, activation="relu", seed=0)
    >>> n([1.0, -2.0]).data >= 0.0
    True
    """

    def __init__(
        self,
        nin: int,
        activation: str | None = "tanh",
        *,
        init: str = "glorot_uniform",
        seed: int | np.random.Generator | None = None,
    ) -> None:
        _check_activation(activation)
        self.nin = _check_size("nin", nin)
        self.nout = 1
        self.activation = activation
        self.init = init
        limit = _init_limit(init, self.nin, 1)
        draws = np.random.default_rng(seed).uniform(-limit, limit, size=self.nin).tolist()
        self._setup(draws)

    def _setup(self, weights: list[float]) -> None:
        self.w = [Value(x, label=f"w{j}") for j, x in enumerate(weights)]
        self.b = Value(0.0, label="b")
        self._act = _ACT_FN[self.activation]

    @classmethod
    def _from_weights(cls, weights: list[float], activation: str | None, init: str) -> Neuron:
        """A neuron with given weights (a Layer draws its whole matrix at once)."""
        n = cls.__new__(cls)
        n.nin, n.nout, n.activation, n.init = len(weights), 1, activation, init
        n._setup(weights)
        return n

    def __call__(self, x: Sequence) -> Value:
        if len(x) != self.nin:
            raise ValueError(f"Neuron expects {self.nin} inputs, got {len(x)}")
        if x.__class__ is np.ndarray:  # a data row: Python floats take the ops' fast path
            x = x.tolist()
        # Start from the bias and accumulate in a plain loop: 2 nodes per input, no temporaries.
        act = self.b
        for wi, xi in zip(self.w, x):
            act = act + wi * xi
        return act if self._act is None else self._act(act)

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]

    def _slots(self):
        return {"weight": ((self.nin,), self.w), "bias": ((), [self.b])}

    def _rows(self):
        return [(f"Neuron ({self.activation or 'linear'})", "(1,)", self.num_parameters())]

    def _config(self) -> dict:
        return {"class": "Neuron", "nin": self.nin, "activation": self.activation}

    def __repr__(self) -> str:
        return f"Neuron({self.nin}, activation={self.activation!r})"


class _Dense(Module):
    """What `Layer` and `TensorLayer` share: settings, the one initialisation scheme (so a
    seed gives the same weights on either engine), config and repr."""

    _output_shape = "({nout},)"  # for summary(); the tensor layer's outputs have a batch axis

    def _setup(self, nin, nout, activation, init: str, seed) -> np.ndarray:
        """Check and store the settings; return the ``(nout, nin)`` weight draw."""
        _check_activation(activation)
        self.nin = _check_size("nin", nin)
        self.nout = _check_size("nout", nout)
        self.activation = activation
        self.init = init
        limit = _init_limit(init, self.nin, self.nout)
        return np.random.default_rng(seed).uniform(-limit, limit, size=(self.nout, self.nin))

    def _rows(self):
        name = f"{type(self).__name__} ({self.activation or 'linear'})"
        return [(name, self._output_shape.format(nout=self.nout), self.num_parameters())]

    def _config(self) -> dict:
        return {
            "class": type(self).__name__,
            "nin": self.nin,
            "nout": self.nout,
            "activation": self.activation,
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.nin}, {self.nout}, activation={self.activation!r})"


class Layer(_Dense):
    """A fully connected layer of ``nout`` neurons on ``engine="value"``.

    Called on ``nin`` numbers or Values, returns a list of ``nout`` Values (a single Value when
    ``nout == 1``, as micrograd does).

    >>> layer = Layer(2, 3, activation="sigmoid", seed=0)
    >>> len(layer([1.0, 0.0])), layer.num_parameters()
    (3, 9)
    """

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str | None = "tanh",
        *,
        init: str = "glorot_uniform",
        seed: int | np.random.Generator | None = None,
    ) -> None:
        weights = self._setup(nin, nout, activation, init, seed).tolist()
        # One scope per neuron, made once: its parameters are created in it and its forward
        # pass runs in it, so a drawing can fold each neuron into one box.
        self._scopes = [name_scope(f"neuron{i}") for i in range(self.nout)]
        self.neurons = []
        for scope, row in zip(self._scopes, weights):
            with scope:
                self.neurons.append(Neuron._from_weights(row, activation, init))
        self._relabel("")

    def _relabel(self, prefix: str) -> None:
        # Labels w<layer>.<neuron>.<input> and b<layer>.<neuron>, so a drawn graph says which
        # weight is which.
        for i, n in enumerate(self.neurons):
            for j, w in enumerate(n.w):
                w.label = f"w{prefix}{i}.{j}"
            n.b.label = f"b{prefix}{i}"

    def forward(self, x: Sequence) -> list[Value]:
        """The outputs as a list, even when ``nout == 1``."""
        if len(x) != self.nin:
            raise ValueError(f"Layer expects {self.nin} inputs, got {len(x)}")
        if x.__class__ is np.ndarray:  # a data row: Python floats take the ops' fast path
            x = x.tolist()
        return [scope.run(n, x) for n, scope in zip(self.neurons, self._scopes)]

    def __call__(self, x: Sequence):
        out = self.forward(x)
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def _slots(self):
        return {
            "weight": ((self.nout, self.nin), [w for n in self.neurons for w in n.w]),
            "bias": ((self.nout,), [n.b for n in self.neurons]),
        }


class TensorLayer(_Dense):
    """A fully connected layer on ``engine="tensor"``: ``activation(x @ W + b)`` on a batch.

    ``W`` is a ``(nin, nout)`` Tensor and ``b`` a ``(nout,)`` Tensor. Called on an
    ``(n, nin)`` array or Tensor it returns an ``(n, nout)`` Tensor (a ``(nin,)`` input gives
    ``(nout,)``). Initialisation draws exactly what `Layer` draws, so the same ``seed`` gives
    the same weights on both engines; ``state_dict()["weight"]`` is ``W`` transposed, PyTorch's
    ``(nout, nin)``.

    >>> layer = TensorLayer(2, 3, activation="sigmoid", seed=0)
    >>> layer(np.array([[1.0, 0.0], [0.0, 1.0]])).shape, layer.num_parameters()
    ((2, 3), 9)
    """

    engine = "tensor"
    _output_shape = "(n, {nout})"

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str | None = "tanh",
        *,
        init: str = "glorot_uniform",
        seed: int | np.random.Generator | None = None,
    ) -> None:
        # The (nout, nin) draw of Layer, stored transposed (C-ordered) for x @ W.
        draws = self._setup(nin, nout, activation, init, seed)
        self.W = Tensor(draws.T)
        self.b = Tensor(np.zeros(self.nout))
        self._act = activation
        self._relabel("")

    def _relabel(self, prefix: str) -> None:
        # W0, b0 for layer 0 of an MLP (W, b alone), so a drawn graph says which is which.
        name = prefix.rstrip(".")
        self.W.label = f"W{name}"
        self.b.label = f"b{name}"

    def forward(self, x) -> Tensor:
        """``activation(x @ W + b)`` for an ``(n, nin)`` array or Tensor ``x``."""
        if not isinstance(x, Tensor):
            if isinstance(x, Value) or (
                isinstance(x, (list, tuple)) and any(isinstance(v, Value) for v in x)
            ):
                raise TypeError("TensorLayer: cannot take Values; use engine='value' for them")
            x = np.asarray(x, dtype=np.float64)
        if x.ndim not in (1, 2) or x.shape[-1] != self.nin:
            raise ValueError(
                f"TensorLayer expects an (n, {self.nin}) input, got shape {tuple(x.shape)}"
            )
        out = x @ self.W + self.b
        act = self._act
        if act is None:
            return out
        return out.tanh() if act == "tanh" else out.sigmoid() if act == "sigmoid" else out.relu()

    __call__ = forward

    def parameters(self) -> list[Tensor]:
        return [self.W, self.b]

    def _slots(self):
        return {
            "weight": ((self.nout, self.nin), [_Transposed(self.W)]),
            "bias": ((self.nout,), [self.b]),
        }


def _layer_class(engine: str) -> type:
    """The layer implementation for ``engine``: the only engine-specific part of an MLP."""
    if engine == "value":
        return Layer
    if engine == "tensor":
        return TensorLayer
    raise ValueError(f"unknown engine {engine!r}: expected 'value' or 'tensor'")


class MLP(Module):
    """A multi-layer perceptron: ``nin`` inputs, one layer per entry of ``nouts``.

    Hidden layers use ``activation``, the last one ``output_activation`` (None: linear, as
    micrograd). On ``engine="value"`` the model takes ``nin`` numbers or Values and returns a
    Value when the last layer has one unit, else a list of Values. On ``engine="tensor"`` it
    takes an ``(n, nin)`` array or Tensor and returns an ``(n, nout)`` Tensor.

    >>> model = MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid", seed=0)
    >>> model.num_parameters()
    13
    >>> 0.0 < model([0.0, 1.0]).data < 1.0
    True
    >>> MLP(2, [3, 1], seed=0, engine="tensor")(np.zeros((4, 2))).shape
    (4, 1)
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str | None = "tanh",
        output_activation: str | None = None,
        seed: int | np.random.Generator | None = None,
        engine: str = "value",
        *,
        init: str = "glorot_uniform",
    ) -> None:
        layer_cls = _layer_class(engine)
        _check_activation(activation)
        _check_activation(output_activation)
        _init_limit(init, 1, 1)  # reject an unknown init before building anything
        if isinstance(nouts, (int, np.integer)) or len(nouts) == 0:
            raise ValueError(f"nouts must be a non-empty list of layer sizes, got {nouts!r}")
        self.nin = _check_size("nin", nin)
        self.nouts = [_check_size("layer size", n) for n in nouts]
        self.nout = self.nouts[-1]
        self.activation = activation
        self.output_activation = output_activation
        self.engine = engine
        self.init = init
        rng = np.random.default_rng(seed)  # one generator: layers draw in order
        sizes = [self.nin, *self.nouts]
        last = len(self.nouts) - 1
        # Layer i's parameters are made, and its forward pass runs, in name_scope("layer<i>").
        self._scopes = [name_scope(f"layer{i}") for i in range(len(self.nouts))]
        self.layers = []
        for i, scope in enumerate(self._scopes):
            with scope:
                self.layers.append(
                    layer_cls(
                        sizes[i],
                        sizes[i + 1],
                        activation=output_activation if i == last else activation,
                        init=init,
                        seed=rng,
                    )
                )
        for l, layer in enumerate(self.layers):
            layer._relabel(f"{l}.")

    def __call__(self, x):
        for layer, scope in zip(self.layers, self._scopes):
            x = scope.run(layer.forward, x)
        # Values: a lone Value for one output, as micrograd. (Tensors stay (n, nout).)
        return x[0] if self.engine == "value" and len(x) == 1 else x

    def parameters(self) -> list:
        return [p for layer in self.layers for p in layer.parameters()]

    def _slots(self):
        return {
            f"layers.{i}.{name}": slot
            for i, layer in enumerate(self.layers)
            for name, slot in layer._slots().items()
        }

    def _rows(self):
        return [
            (
                f"layers.{i} ({layer.activation or 'linear'})",
                layer._output_shape.format(nout=layer.nout),
                layer.num_parameters(),
            )
            for i, layer in enumerate(self.layers)
        ]

    def _config(self) -> dict:
        return {
            "class": "MLP",
            "nin": self.nin,
            "nouts": list(self.nouts),
            "activation": self.activation,
            "output_activation": self.output_activation,
            "engine": self.engine,
            "init": self.init,
        }

    def __repr__(self) -> str:
        engine = "" if self.engine == "value" else f", engine={self.engine!r}"
        return (
            f"MLP({self.nin}, {self.nouts}, activation={self.activation!r}, "
            f"output_activation={self.output_activation!r}{engine})"
        )
