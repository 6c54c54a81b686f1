"""``Tensor``: a numpy array node on the same graph machinery as ``Value``.

Every op is one application of a row of the Tensor op table (``tensor_ops.TENSOR_OPS``)
through the machinery's one general path, ``engine.apply``: the forward gives the data, the
derivatives the local gradients, stored at forward time (arrays for elementwise ops, linear
maps for the rest). The operator and elementwise methods are generated from the rows. The
reverse pass, its steps, ``no_grad``, ``detect_anomaly``, ``create_graph`` and the functional
API are the ones ``Value`` uses (``engine.py``).

Differences from ``Value``, all as in PyTorch: ``.grad`` is None until a backward pass reaches
the node and ``zero_grad`` sets it back to None; domain errors follow numpy (nan or inf with a
``RuntimeWarning``) unless ``detect_anomaly()`` is on; ``max`` splits the gradient equally
between tied maxima (``torch.amax``); a number or array operand (``x * 2``, ``X @ w`` with X a
numpy array) becomes a constant leaf parent that, like a PyTorch tensor that does not require
grad, gets no gradient: its ``.grad`` stays None, and the work of computing it is saved. Wrap
an array in ``Tensor(...)`` to get its gradient. Do not change a ``.data`` array in place between a
forward pass and its backward pass: local gradients may refer to it (PyTorch's version
counter would catch that; here it silently changes the gradient), nor an index array. Updating
parameters in place after ``backward()`` (``p.data -= lr * p.grad``) is fine.

One step of softmax regression, the calls an MLP and its loss make:

>>> X = np.array([[0.0, 1.0], [1.0, 0.0]]); labels = np.array([1, 0])
>>> W = Tensor(np.zeros((2, 2)), "W"); b = Tensor(np.zeros(2), "b")
>>> loss = -(X @ W + b).log_softmax()[np.arange(2), labels].mean()
>>> loss.backward(); W.data -= 0.5 * W.grad
>>> round(float(loss.data), 4), W.grad.tolist(), b.grad.tolist()
(0.6931, [[-0.25, 0.25], [0.25, -0.25]], [0.0, 0.0])
"""

from __future__ import annotations

import numbers
import operator
from typing import Any

import numpy as np

from . import tensor_ops as T
from .engine import Node, apply
from .modes import current
from .ops import CONSTANT, ELEMENTWISE_OPS, LEAF, Op
from .tensor_ops import IDENTITY, NO_GRADIENT, PASS, TENSOR_OPS, LinearMap

_new = object.__new__
_ndarray = np.ndarray
_float64 = np.dtype(np.float64)


def _as_array(data: Any, what: str, copy: bool) -> np.ndarray:
    """``data`` as a float64 array (numbers, nested sequences and numeric arrays only)."""
    if isinstance(data, Node):
        raise TypeError(f"{what}: cannot take a {type(data).__name__} as data; use it directly")
    try:
        array = np.asarray(data)
    except ValueError:  # a ragged nested list
        raise TypeError(
            f"{what}: data must be a rectangular array of numbers, got a ragged "
            f"{type(data).__name__}"
        ) from None
    if array.dtype.kind not in "biuf":
        shown = repr(data)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        raise TypeError(
            f"{what}: data must be numbers or an array of numbers, got {type(data).__name__}: "
            f"{shown}"
        )
    if array.dtype != _float64:
        return array.astype(np.float64)
    return array.copy() if copy else array


def _describe(xs: tuple) -> str:
    def one(x: Any) -> str:
        x = np.asarray(x)
        if x.size <= 6:
            return np.array2string(x, separator=", ", precision=6)
        return f"<array of shape {x.shape}>"

    return ", ".join(one(x) for x in xs)


def _index(index: Any) -> tuple[tuple, bool]:
    """A numpy index as a tuple, lists frozen into arrays; and whether it is basic (ints,
    slices, None, Ellipsis: no element can be picked twice)."""
    items = index if isinstance(index, tuple) else (index,)
    if items and all(i.__class__ is _ndarray and i.dtype.kind in "iu" for i in items):
        return items, False  # integer arrays, as a batch's rows and labels: the common case
    frozen = []
    basic = True
    for item in items:
        if isinstance(item, Node):
            raise TypeError(
                f"index: cannot index with a {type(item).__name__}; use an int array (t.data)"
            )
        if isinstance(item, (list, np.ndarray)) or item is True or item is False:
            item = np.asarray(item)
            if item.dtype.kind not in "biu":
                raise IndexError(f"index: arrays used as indices must be int or bool, got {item!r}")
            basic = False
        elif not (isinstance(item, (int, np.integer, slice)) or item is None or item is Ellipsis):
            raise TypeError(f"index: unsupported index {item!r} ({type(item).__name__})")
        frozen.append(item)
    return tuple(frozen), basic


def _axes(axes: tuple) -> tuple | None:
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        return tuple(axes[0])
    return axes if axes else None


def _apply(name: str, x: Tensor, params: tuple = ()) -> Tensor:
    return apply(TENSOR_OPS[name], (x,), params, Tensor)


class Tensor(Node):
    """A float64 array that remembers how it was computed.

    >>> x = Tensor([[1.0, 2.0], [3.0, 4.0]], label="x")
    >>> w = Tensor([0.5, -1.0], label="w")
    >>> y = ((x * w).sum(axis=1) ** 2).mean(); y.backward()
    >>> float(y.data), w.grad.tolist()
    (4.25, [-9.0, -13.0])
    """

    __slots__ = ("data", "grad", "label", "scope", "_op", "_a", "_b", "_da", "_db", "_args")

    _raw = _ndarray  # an array operand is kept as the array until someone reads .parents
    _keeps_params = True  # a reduction's axis, an index...
    _cleared_grad = None  # zero_grad sets None, as PyTorch's set_to_none
    __array_ufunc__ = None  # numpy defers to our operators (ndarray @ Tensor, 2.0 * Tensor)

    def __init__(self, data: Any, label: str = "") -> None:
        if not isinstance(label, str):
            raise TypeError(f"Tensor: label must be a str, got {type(label).__name__}")
        self.data = _as_array(data, "Tensor", copy=True)
        self.grad = None
        self.label = label
        self.scope = current().scope
        self._op = LEAF
        self._a = self._b = self._da = self._db = None
        self._args = ()

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", precision=4, threshold=20)
        extra = f", label={self.label!r}" if self.label else ""
        extra += f", op={self.op!r}" if self._a is not None else ""
        return f"Tensor({body}{extra})"

    @property
    def shape(self) -> tuple:
        """The array's shape."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """The number of axes."""
        return self.data.ndim

    @property
    def size(self) -> int:
        """The number of elements."""
        return self.data.size

    def item(self) -> float:
        """The value of a one-element tensor as a float.

        >>> Tensor([[2.5]]).item()
        2.5
        """
        if self.data.size != 1:
            raise ValueError(f"item: needs a one-element tensor, got shape {self.shape}")
        return float(self.data.reshape(()))

    def __pos__(self) -> Tensor:
        return self

    # No __eq__ (nodes hash by identity: the reverse pass keys dicts on them) and no
    # __bool__ / __len__ (a node's truth is its existence, as the functional API assumes).

    def __iter__(self):
        """The rows along the first axis, each an indexing node (as iterating an array)."""
        if not self.data.ndim:
            raise TypeError("iteration over a 0-d Tensor")
        return (self[i] for i in range(self.data.shape[0]))

    def clip(self, lo: float, hi: float) -> Tensor:
        """Elementwise ``min(max(x, lo), hi)``; the gradient passes where ``lo <= x <= hi``
        (PyTorch's ``clamp``) and is 0 where x was clipped.

        >>> Tensor([-1.0, 0.5, 2.0]).clip(0.0, 1.0).data.tolist()
        [0.0, 0.5, 1.0]
        """
        bounds = []
        for name, bound in (("lo", lo), ("hi", hi)):
            if isinstance(bound, Node) or not isinstance(bound, (numbers.Real, np.bool_)):
                raise TypeError(
                    f"clip: {name} must be a number, got {type(bound).__name__}: {bound!r}"
                )
            bounds.append(float(bound))
        return _apply("clip", self, tuple(bounds))

    # --- reductions ---------------------------------------------------------------------

    def sum(self, axis: int | tuple | None = None, keepdims: bool = False) -> Tensor:
        """Sum over ``axis`` (all axes by default), as ``np.sum``.

        >>> Tensor([[1.0, 2.0], [3.0, 4.0]]).sum(axis=0).data.tolist()
        [4.0, 6.0]
        """
        return _apply("sum", self, (axis, keepdims))

    def mean(self, axis: int | tuple | None = None, keepdims: bool = False) -> Tensor:
        """Mean over ``axis`` (all axes by default), as ``np.mean``.

        >>> float(Tensor([1.0, 2.0, 6.0]).mean().data)
        3.0
        """
        return _apply("mean", self, (axis, keepdims))

    def max(self, axis: int | tuple | None = None, keepdims: bool = False) -> Tensor:
        """Maximum over ``axis``; tied maxima share the gradient equally (``torch.amax``).

        >>> x = Tensor([1.0, 3.0, 3.0]); x.max().backward(); x.grad.tolist()
        [0.0, 0.5, 0.5]
        """
        return _apply("max", self, (axis, keepdims))

    # --- shapes -------------------------------------------------------------------------

    def reshape(self, *shape: int | tuple) -> Tensor:
        """The same elements in a new shape (``reshape(2, 3)`` or ``reshape((2, 3))``).

        >>> Tensor([1.0, 2.0, 3.0, 4.0]).reshape(2, -1).shape
        (2, 2)
        """
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _apply("reshape", self, (shape,))

    def transpose(self, *axes: int | tuple) -> Tensor:
        """Permute the axes (reversed by default), as ``np.transpose``.

        >>> Tensor(np.zeros((2, 3, 4))).transpose(1, 0, 2).shape
        (3, 2, 4)
        """
        perm = _axes(axes)
        nd = self.data.ndim
        if perm is None or perm == (None,):
            perm = tuple(range(nd - 1, -1, -1))
        try:
            perm = tuple(operator.index(a) for a in perm)
        except TypeError:
            raise TypeError(f"transpose: axes must be ints, got {perm!r}") from None
        if len(perm) != nd:
            raise ValueError(f"transpose: axes {perm} do not match a tensor of shape {self.shape}")
        for a in perm:
            if not -nd <= a < nd:
                raise ValueError(f"transpose: axis {a} is out of range for shape {self.shape}")
        perm = tuple(a % nd for a in perm)
        if len(set(perm)) != nd:
            raise ValueError(f"transpose: axes {axes} repeat an axis")
        return _apply("transpose", self, (perm,))

    @property
    def T(self) -> Tensor:
        """The tensor with its axes reversed (the matrix transpose for 2-D)."""
        return self.transpose()

    def broadcast_to(self, shape: tuple) -> Tensor:
        """The tensor repeated along new or size-1 axes, as ``np.broadcast_to`` (a copy).
        Its gradient is summed back; ``sum``'s gradient uses it under ``create_graph``.

        >>> Tensor([1.0, 2.0]).broadcast_to((3, 2)).shape
        (3, 2)
        """
        return _apply("broadcast_to", self, (tuple(shape),))

    def __getitem__(self, index: Any) -> Tensor:
        """numpy indexing; the gradient is scattered back and repeated indices accumulate.

        >>> x = Tensor([1.0, 2.0, 3.0]); x[[0, 0, 2]].sum().backward(); x.grad.tolist()
        [2.0, 0.0, 1.0]
        """
        return _apply("index", self, _index(index))

    def scatter_add(self, shape: tuple, index: Any) -> Tensor:
        """Zeros of ``shape`` with this tensor added at ``index`` (repeats accumulate): the
        adjoint of indexing, which its gradient uses under ``create_graph``.

        >>> Tensor([1.0, 2.0]).scatter_add((3,), [2, 2]).data.tolist()
        [0.0, 0.0, 3.0]
        """
        index, basic = _index(index)
        return _apply("scatter_add", self, (tuple(shape), index, basic))

    # --- softmax ------------------------------------------------------------------------

    def log_softmax(self, axis: int = -1) -> Tensor:
        """``x - logsumexp(x)`` along ``axis``, computed after subtracting the max, so any
        finite logits (``+-1000`` included) give finite results.

        >>> Tensor([1000.0, 0.0]).log_softmax().data.tolist()
        [0.0, -1000.0]
        """
        return _apply("log_softmax", self, (axis,))

    def softmax(self, axis: int = -1) -> Tensor:
        """``exp(x) / sum(exp(x))`` along ``axis``, stable as ``log_softmax``.

        >>> Tensor([0.0, 0.0]).softmax().data.tolist()
        [0.5, 0.5]
        """
        return _apply("softmax", self, (axis,))

    # --- what the machinery asks of a node kind -----------------------------------------

    @staticmethod
    def _lift(x: Any, op: Op) -> np.ndarray:
        if x.__class__ is _ndarray and x.dtype is _float64:  # a data batch: the common case
            return x
        return _as_array(x, f"{op.name}: operand", copy=False)

    @staticmethod
    def _result(data: Any, op: Op) -> np.ndarray:
        if data.__class__ is _ndarray and data.dtype is _float64:
            return data
        return np.asarray(data, dtype=np.float64)  # numpy gives scalars for full reductions

    @staticmethod
    def _error_context(op: Op, xs: tuple) -> str:
        return f" (operand shapes {', '.join(str(np.shape(x)) for x in xs)})"

    @staticmethod
    def _call(op: Op, xs: tuple) -> str:
        return f"{op.name}({_describe(xs)})"

    @staticmethod
    def _nonfinite(data: np.ndarray) -> str | None:
        finite = np.isfinite(data)
        if finite.all():
            return None
        return f"result has {data.size - int(finite.sum())} nan/inf element(s) of {data.size}"

    @staticmethod
    def _fit(op: Op, operands: tuple, out: Any, local_grads: tuple) -> tuple:
        """The local gradients as a node keeps them: none toward a constant (a raw array or
        a constant leaf: no gradient is computed for it, as for a PyTorch tensor that does not
        require grad); an elementwise local summed back to an operand that was broadcast; a
        local of 1.0 passed on without a multiplication (``+``: the identity, which copies
        toward a leaf so that a leaf never shares its ``.grad``)."""
        fitted = []
        for operand, local in zip(operands, local_grads):
            if operand.__class__ is _ndarray or operand._op is CONSTANT:
                fitted.append(NO_GRADIENT)
                continue
            if local.__class__ is float and local == 1.0:
                local = IDENTITY if operand._a is None else PASS
            if not isinstance(local, LinearMap) or local is IDENTITY or local is PASS:
                shape = operand.data.shape
                if shape != out.shape:
                    local = T.fit(IDENTITY if local is PASS else local, shape, out.shape)
            fitted.append(local)
        return tuple(fitted)

    @staticmethod
    def _constant_leaf(raw: np.ndarray) -> Tensor:
        return Tensor._node(CONSTANT, raw, (), (), (), ())

    @staticmethod
    def _constant(g: Any) -> Tensor:
        return (
            g
            if isinstance(g, Tensor)
            else Tensor._constant_leaf(Tensor._lift(g, ELEMENTWISE_OPS["+"]))
        )

    def _seed(self, grad: Any) -> np.ndarray:
        if grad.__class__ is float and self.data.size == 1:  # backward() on a loss
            return np.array(grad) if self.data.ndim == 0 else np.full(self.data.shape, grad)
        if isinstance(grad, Tensor):  # as torch's backward(gradient=tensor): its values
            grad = grad.data
        seed = _as_array(grad, "backward: grad", copy=True)
        if seed.shape == self.data.shape:
            return seed
        if seed.ndim == 0 and self.data.size == 1:
            return np.full(self.data.shape, float(seed))
        if seed.ndim == 0:
            raise ValueError(
                f"backward: a tensor of shape {self.data.shape} needs grad, an array of shape "
                f"{self.data.shape} (a number, shape (), only seeds a one-element tensor)"
            )
        raise ValueError(
            f"backward: grad has shape {seed.shape} but the tensor has shape {self.data.shape}"
        )

    @staticmethod
    def _owned(g: Any) -> Any:
        # Maps such as reshape and transpose give views of their upstream gradient, which
        # + may have passed on to other nodes uncopied: a leaf must not share that memory.
        # numpy gives 0-d results as scalars: a leaf's grad is an array of its shape.
        if g.__class__ is _ndarray:
            return g if g.base is None else g.copy()
        return g if g is None else np.array(g, dtype=np.float64)

    @staticmethod
    def _finite(g: Any) -> bool:
        if g is None:  # the "gradient" toward a constant: none is computed
            return True
        return bool(np.isfinite(g.data if isinstance(g, Node) else g).all())

    def _add_to_grad(self, g: Any) -> None:
        if g is None:  # a constant's: none is computed
            return
        old = self.grad
        if old is None:  # a leaf gets an array of its own; computed nodes may share one
            self.grad = g if isinstance(g, Node) or self._a is not None else Tensor._owned(g)
            if self.grad.__class__ is not _ndarray and not isinstance(g, Node):
                self.grad = np.array(g, dtype=np.float64)  # numpy gives 0-d results as scalars
        elif self._a is None and old.__class__ is _ndarray and not isinstance(g, Node):
            old += g  # a leaf's grad is its own array, accumulated in place (PyTorch)
        else:  # a gradient with a graph (create_graph) stays a graph
            self.grad = old + g

    def _zeros(self) -> np.ndarray:
        return np.zeros(self.data.shape)

    def _jvp(self, local: Any, tangent: Any) -> Any:
        # A linear map applies its Jacobian forwards; an elementwise local is the Jacobian's
        # diagonal, toward an operand of this node's shape (a broadcast one has a SumTo).
        if isinstance(local, LinearMap):
            return local.jvp(tangent, self.data.shape)
        return tangent * local


Tensor._kind = Tensor


# --- the methods of the tables' rows -------------------------------------------------


def _two_operand_method(op: Op, reflected: bool) -> Any:
    """``a * b`` (and ``2 * a``, reflected) on Tensors: the row's rule on the arrays, through
    the engine's general path."""

    def method(self: Tensor, other: Any) -> Any:
        if isinstance(other, LinearMap):
            return NotImplemented  # upstream * local under create_graph: the map applies
        return apply(op, (other, self) if reflected else (self, other), (), Tensor)

    return method


def _one_operand_method(op: Op) -> Any:
    """``x.tanh()`` on a Tensor: the row's rule on the array, through the general path."""

    def method(self: Tensor) -> Any:
        return apply(op, (self,), (), Tensor)

    return method


def _install(op: Op) -> None:
    """Give Tensor the methods of a row without parameters (the others are written above,
    where they check their parameters)."""
    if op.params:
        return
    if op.arity == 2:
        forward, reflected = op.methods
        methods = {
            forward: _two_operand_method(op, False),
            reflected: _two_operand_method(op, True),
        }
    else:
        methods = dict.fromkeys(op.methods, _one_operand_method(op))
    for name, method in methods.items():
        method.__name__ = method.__qualname__ = name
        rule = f"{op.rule.__module__}.{op.rule.__name__}"
        method.__doc__ = f"The op {op.name!r}: see its rule, {rule}."
        setattr(Tensor, name, method)


def _uninstall(op: Op) -> None:
    for name in op.methods:
        if name in Tensor.__dict__:
            delattr(Tensor, name)


ELEMENTWISE_OPS.install(_install, _uninstall)
TENSOR_OPS.install(_install, _uninstall)
