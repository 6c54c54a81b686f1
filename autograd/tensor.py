"""``Tensor``: a numpy array node on the same graph machinery as ``Value``.

Every op is one call of ``_unary`` / ``_binary`` with its row of the Tensor op table
(``tensor_ops.py``): the forward gives the data, the derivative the local gradients, stored at
forward time (arrays for elementwise ops, linear maps for the rest). The reverse pass, its
steps, ``no_grad``, ``detect_anomaly``, ``create_graph`` and the functional API are the ones
``Value`` uses (``engine.py``).

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

import operator
from typing import Any

import numpy as np

from . import tensor_ops as T
from .engine import Node
from .modes import _modes, entered
from .ops import CONSTANT, LEAF
from .tensor_ops import IDENTITY, LinearMap, TensorOp

_new = object.__new__
_ndarray = np.ndarray
_float64 = np.dtype(np.float64)
_NO_GRADIENT = (T.NO_GRADIENT,)


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


def _constant(x: Any, op: TensorOp) -> Tensor | None:
    """An operand that is not a Tensor: a number or array becomes a constant leaf parent;
    a local-gradient map gives None (the operator then returns NotImplemented)."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, LinearMap):
        return None
    if isinstance(x, Node):  # a Value: Value and Tensor do not mix
        raise TypeError(f"{op.name}: cannot mix Tensor and {type(x).__name__} in one op")
    node = _new(Tensor)
    if x.__class__ is _ndarray and x.dtype is _float64:  # a data batch: the common case
        node.data = x
    else:
        node.data = _as_array(x, f"{op.name}: operand", copy=False)
    node.grad = None
    node.label = ""
    node.scope = _modes.scope
    node._op = CONSTANT
    node.parents = ()
    node.local_grads = ()
    node._args = ()
    return node


def _describe(xs: tuple) -> str:
    def one(x: Any) -> str:
        x = np.asarray(x)
        if x.size <= 6:
            return np.array2string(x, separator=", ", precision=6)
        return f"<array of shape {x.shape}>"

    return ", ".join(one(x) for x in xs)


def _op_error(op: TensorOp, xs: tuple, error: Exception) -> Exception:
    shapes = ", ".join(str(np.shape(x)) for x in xs)
    return type(error)(f"{op.name}: {error} (operand shapes {shapes})")


def _without_constants(local_grads: tuple, parents: tuple) -> tuple:
    return tuple(
        T.NO_GRADIENT if p._op is CONSTANT else local for p, local in zip(parents, local_grads)
    )


def _locals(op: TensorOp, xs: tuple, out: Any, args: tuple, parents: tuple) -> tuple:
    """The local gradients of a node (``xs``: the parents' arrays, or the parents themselves
    under create_graph), fitted to broadcast operands; none toward constants."""
    local_grads = op.derivative(*xs, out, *args)
    out_shape = out.shape
    if op.broadcasts:
        local_grads = (
            T.fit(local_grads[0], parents[0].data.shape, out_shape),
            T.fit(local_grads[1], parents[1].data.shape, out_shape),
        )
    if any(p._op is CONSTANT for p in parents):
        local_grads = _without_constants(local_grads, parents)
    return local_grads


def _record(op: TensorOp, data: np.ndarray, parents: tuple, args: tuple) -> Tensor:
    """Make the result node; the slow path of ``_unary``/``_binary`` (no_grad, anomaly)."""
    xs = tuple(p.data for p in parents)
    if _modes.anomaly and not np.isfinite(data).all():
        bad = data.size - int(np.isfinite(data).sum())
        raise FloatingPointError(
            f"{op.name}: result has {bad} nan/inf element(s) of {data.size}, "
            f"at {op.name}({_describe(xs)})"
        )
    node = _new(Tensor)
    node.data = data
    node.grad = None
    node.label = ""
    node.scope = _modes.scope
    if _modes.grad_enabled:
        node._op = op
        node.parents = parents
        node.local_grads = _locals(op, xs, data, args, parents)
        node._args = args
    else:
        node._op = LEAF
        node.parents = ()
        node.local_grads = ()
        node._args = ()
    return node


def _unary(op: TensorOp, a: Tensor, args: tuple = ()) -> Tensor:
    x = a.data
    try:
        data = op.forward(x, *args)
    except (ValueError, IndexError, TypeError) as error:
        raise _op_error(op, (x,), error) from None
    if data.__class__ is not _ndarray:  # numpy gives scalars for full reductions
        data = np.asarray(data, dtype=np.float64)
    if entered[0] and not _modes.plain:
        return _record(op, data, (a,), args)
    node = _new(Tensor)
    node.data = data
    node.grad = None
    node.label = ""
    node.scope = _modes.scope
    node._op = op
    node.parents = (a,)
    node.local_grads = op.derivative(x, data, *args) if a._op is not CONSTANT else _NO_GRADIENT
    node._args = args
    return node


def _binary(op: TensorOp, a: Tensor, b: Tensor) -> Tensor:
    x = a.data
    y = b.data
    try:
        data = op.forward(x, y)
    except ValueError as error:  # shapes that do not broadcast or multiply
        raise _op_error(op, (x, y), error) from None
    if data.__class__ is not _ndarray:
        data = np.asarray(data, dtype=np.float64)
    if entered[0] and not _modes.plain:
        return _record(op, data, (a, b), ())
    local_grads = op.derivative(x, y, data)
    if op.broadcasts and (x.shape != data.shape or y.shape != data.shape):
        local_grads = (
            T.fit(local_grads[0], x.shape, data.shape),
            T.fit(local_grads[1], y.shape, data.shape),
        )
    # No gradient toward a constant; toward a computed node, + passes it on without a copy.
    if a._op is CONSTANT:
        local_grads = (T.NO_GRADIENT, local_grads[1])
    elif local_grads[0] is IDENTITY and a.parents:
        local_grads = (T.PASS, local_grads[1])
    if b._op is CONSTANT:
        local_grads = (local_grads[0], T.NO_GRADIENT)
    elif local_grads[1] is IDENTITY and b.parents:
        local_grads = (local_grads[0], T.PASS)
    node = _new(Tensor)
    node.data = data
    node.grad = None
    node.label = ""
    node.scope = _modes.scope
    node._op = op
    node.parents = (a, b)
    node.local_grads = local_grads
    node._args = ()
    return node


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


class Tensor(Node):
    """A float64 array that remembers how it was computed.

    >>> x = Tensor([[1.0, 2.0], [3.0, 4.0]], label="x")
    >>> w = Tensor([0.5, -1.0], label="w")
    >>> y = ((x * w).sum(axis=1) ** 2).mean(); y.backward()
    >>> float(y.data), w.grad.tolist()
    (4.25, [-9.0, -13.0])
    """

    __slots__ = ("data", "grad", "label", "scope", "_op", "parents", "local_grads", "_args")

    _cleared_grad = None  # zero_grad sets None, as PyTorch's set_to_none
    __array_ufunc__ = None  # numpy defers to our operators (ndarray @ Tensor, 2.0 * Tensor)

    def __init__(self, data: Any, label: str = "") -> None:
        if not isinstance(label, str):
            raise TypeError(f"Tensor: label must be a str, got {type(label).__name__}")
        self.data = _as_array(data, "Tensor", copy=True)
        self.grad = None
        self.label = label
        self.scope = _modes.scope
        self._op = LEAF
        self.parents = ()
        self.local_grads = ()
        self._args = ()

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", precision=4, threshold=20)
        extra = f", label={self.label!r}" if self.label else ""
        extra += f", op={self.op!r}" if self.parents else ""
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

    # --- arithmetic: elementwise with numpy broadcasting --------------------------------

    def __add__(self, other: Any) -> Tensor:
        b = other if other.__class__ is Tensor else _constant(other, T.ADD)
        return NotImplemented if b is None else _binary(T.ADD, self, b)

    def __radd__(self, other: Any) -> Tensor:
        a = _constant(other, T.ADD)
        return NotImplemented if a is None else _binary(T.ADD, a, self)

    def __sub__(self, other: Any) -> Tensor:
        b = other if other.__class__ is Tensor else _constant(other, T.SUB)
        return NotImplemented if b is None else _binary(T.SUB, self, b)

    def __rsub__(self, other: Any) -> Tensor:
        a = _constant(other, T.SUB)
        return NotImplemented if a is None else _binary(T.SUB, a, self)

    def __mul__(self, other: Any) -> Tensor:
        b = other if other.__class__ is Tensor else _constant(other, T.MUL)
        return NotImplemented if b is None else _binary(T.MUL, self, b)

    def __rmul__(self, other: Any) -> Tensor:
        a = _constant(other, T.MUL)
        return NotImplemented if a is None else _binary(T.MUL, a, self)

    def __truediv__(self, other: Any) -> Tensor:
        b = other if other.__class__ is Tensor else _constant(other, T.DIV)
        return NotImplemented if b is None else _binary(T.DIV, self, b)

    def __rtruediv__(self, other: Any) -> Tensor:
        a = _constant(other, T.DIV)
        return NotImplemented if a is None else _binary(T.DIV, a, self)

    def __pow__(self, other: Any) -> Tensor:
        if other.__class__ is Tensor:
            return _binary(T.POW, self, other)
        b = _constant(other, T.POW_CONSTANT)  # a number exponent needs no d/db
        return NotImplemented if b is None else _binary(T.POW_CONSTANT, self, b)

    def __rpow__(self, other: Any) -> Tensor:
        a = _constant(other, T.POW)
        return NotImplemented if a is None else _binary(T.POW, a, self)

    def __matmul__(self, other: Any) -> Tensor:
        b = other if other.__class__ is Tensor else _constant(other, T.MATMUL)
        return NotImplemented if b is None else _binary(T.MATMUL, self, b)

    def __rmatmul__(self, other: Any) -> Tensor:
        a = _constant(other, T.MATMUL)
        return NotImplemented if a is None else _binary(T.MATMUL, a, self)

    def __neg__(self) -> Tensor:
        return _unary(T.NEG, self)

    def __pos__(self) -> Tensor:
        return self

    # No __eq__ (nodes hash by identity: the reverse pass keys dicts on them) and no
    # __bool__ / __len__ (a node's truth is its existence, as the functional API assumes).

    def __iter__(self):
        """The rows along the first axis, each an indexing node (as iterating an array)."""
        if not self.data.ndim:
            raise TypeError("iteration over a 0-d Tensor")
        return (self[i] for i in range(self.data.shape[0]))

    # --- elementwise functions ----------------------------------------------------------

    def exp(self) -> Tensor:
        return _unary(T.EXP, self)

    def log(self) -> Tensor:
        return _unary(T.LOG, self)

    def tanh(self) -> Tensor:
        return _unary(T.TANH, self)

    def sigmoid(self) -> Tensor:
        return _unary(T.SIGMOID, self)

    def relu(self) -> Tensor:
        return _unary(T.RELU, self)

    def sqrt(self) -> Tensor:
        return _unary(T.SQRT, self)

    def abs(self) -> Tensor:
        return _unary(T.ABS, self)

    __abs__ = abs

    def softplus(self) -> Tensor:
        """``log(1 + exp(x))``, stable for any x; its derivative is ``sigmoid(x)``.

        >>> round(float(Tensor(0.0).softplus().data), 6)
        0.693147
        """
        return _unary(T.SOFTPLUS, self)

    def clip(self, lo: float, hi: float) -> Tensor:
        """Elementwise ``min(max(x, lo), hi)``; the gradient passes where ``lo <= x <= hi``
        (PyTorch's ``clamp``) and is 0 where x was clipped.

        >>> Tensor([-1.0, 0.5, 2.0]).clip(0.0, 1.0).data.tolist()
        [0.0, 0.5, 1.0]
        """
        return _unary(T.CLIP, self, (float(lo), float(hi)))

    # --- reductions ---------------------------------------------------------------------

    def sum(self, axis: int | tuple | None = None, keepdims: bool = False) -> Tensor:
        """Sum over ``axis`` (all axes by default), as ``np.sum``.

        >>> Tensor([[1.0, 2.0], [3.0, 4.0]]).sum(axis=0).data.tolist()
        [4.0, 6.0]
        """
        return _unary(T.SUM, self, (axis, keepdims))

    def mean(self, axis: int | tuple | None = None, keepdims: bool = False) -> Tensor:
        """Mean over ``axis`` (all axes by default), as ``np.mean``.

        >>> float(Tensor([1.0, 2.0, 6.0]).mean().data)
        3.0
        """
        return _unary(T.MEAN, self, (axis, keepdims))

    def max(self, axis: int | tuple | None = None, keepdims: bool = False) -> Tensor:
        """Maximum over ``axis``; tied maxima share the gradient equally (``torch.amax``).

        >>> x = Tensor([1.0, 3.0, 3.0]); x.max().backward(); x.grad.tolist()
        [0.0, 0.5, 0.5]
        """
        return _unary(T.MAX, self, (axis, keepdims))

    # --- shapes -------------------------------------------------------------------------

    def reshape(self, *shape: int | tuple) -> Tensor:
        """The same elements in a new shape (``reshape(2, 3)`` or ``reshape((2, 3))``).

        >>> Tensor([1.0, 2.0, 3.0, 4.0]).reshape(2, -1).shape
        (2, 2)
        """
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _unary(T.RESHAPE, self, (shape,))

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
        return _unary(T.TRANSPOSE, self, (perm,))

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
        return _unary(T.BROADCAST_TO, self, (tuple(shape),))

    def __getitem__(self, index: Any) -> Tensor:
        """numpy indexing; the gradient is scattered back and repeated indices accumulate.

        >>> x = Tensor([1.0, 2.0, 3.0]); x[[0, 0, 2]].sum().backward(); x.grad.tolist()
        [2.0, 0.0, 1.0]
        """
        return _unary(T.INDEX, self, _index(index))

    def scatter_add(self, shape: tuple, index: Any) -> Tensor:
        """Zeros of ``shape`` with this tensor added at ``index`` (repeats accumulate): the
        adjoint of indexing, which its gradient uses under ``create_graph``.

        >>> Tensor([1.0, 2.0]).scatter_add((3,), [2, 2]).data.tolist()
        [0.0, 0.0, 3.0]
        """
        index, basic = _index(index)
        return _unary(T.SCATTER_ADD, self, (tuple(shape), index, basic))

    # --- softmax ------------------------------------------------------------------------

    def log_softmax(self, axis: int = -1) -> Tensor:
        """``x - logsumexp(x)`` along ``axis``, computed after subtracting the max, so any
        finite logits (``+-1000`` included) give finite results.

        >>> Tensor([1000.0, 0.0]).log_softmax().data.tolist()
        [0.0, -1000.0]
        """
        return _unary(T.LOG_SOFTMAX, self, (axis,))

    def softmax(self, axis: int = -1) -> Tensor:
        """``exp(x) / sum(exp(x))`` along ``axis``, stable as ``log_softmax``.

        >>> Tensor([0.0, 0.0]).softmax().data.tolist()
        [0.5, 0.5]
        """
        return _unary(T.SOFTMAX, self, (axis,))

    # --- what the machinery asks of a node kind -----------------------------------------

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
    def _grad_is_unset(g: Any) -> bool:
        return g is None

    @staticmethod
    def _owned(g: Any) -> Any:
        # Maps such as reshape and transpose give views of their upstream gradient, which
        # + may have passed on to other nodes uncopied: a leaf must not share that memory.
        # numpy gives 0-d results as scalars: a leaf's grad is an array of its shape.
        if g.__class__ is _ndarray:
            return g if g.base is None else g.copy()
        return g if g is None else np.array(g, dtype=np.float64)

    @staticmethod
    def _is_finite(g: Any) -> bool:
        if g is None:  # the "gradient" toward a constant: none is computed
            return True
        return bool(np.isfinite(g.data if isinstance(g, Node) else g).all())

    @staticmethod
    def _constant(g: Any) -> Tensor:
        return g if isinstance(g, Tensor) else _constant(g, T.ADD)

    def _zeros(self) -> np.ndarray:
        return np.zeros(self.data.shape)

    @property
    def is_constant(self) -> bool:
        """True for a constant leaf: a plain number (or array) an op wrapped as its operand,
        like the 2 of ``a + 2``; False for the nodes you make and every computed node."""
        return self._op is CONSTANT

    def _differentiable_locals(self) -> tuple:
        # Parents as Tensors, so the derivative rule records a graph; constants as arrays.
        xs = tuple(p.data if p._op is CONSTANT else p for p in self.parents)
        return _locals(self._op, xs, self, self._args, self.parents)
