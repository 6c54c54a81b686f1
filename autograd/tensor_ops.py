"""The Tensor op table: every array op's forward and local derivatives, side by side.

The rows are ``ops.Op``, the row type of the scalar table too (see ``ops.py`` for the recipe
that adds an elementwise op to both). The graph machinery only ever computes ``upstream *
local`` per edge. For an elementwise op the local gradient is an array (the diagonal of the
Jacobian), and ``upstream * local`` is numpy's product. Every other op (``@``, reductions,
reshapes, indexing, softmax, or an elementwise op whose operand was broadcast) has a
Jacobian that is best applied, never built: its local gradient is a small ``LinearMap`` whose
``__rmul__`` takes the upstream gradient (node-shaped) to the contribution (parent-shaped).
``sum``'s map broadcasts back, ``@``'s multiplies by the other operand's transpose,
indexing's scatters with ``np.add.at`` so repeated indices accumulate.

An array row gives callables: ``forward(*xs, *params) -> ndarray`` on the operands' arrays
and the op's parameters (axis, shape, index..., which the node keeps in ``_args``; ``params``
names them), and one derivative per operand, ``d(*xs, out, *params)``. The machinery calls
only the derivatives of the operands that need one (none toward a constant: in ``X @ W``
with X a data batch, X's gradient is never computed). Each derivative serves two callers:
at forward time with arrays, and under ``create_graph`` with the parents as Tensors
(constants as arrays) and ``out`` the node itself, so the locals it returns (and the maps'
products) are recorded Tensor ops that can be differentiated again. Rules therefore use
arithmetic, methods that ndarray and Tensor share (``sum reshape transpose .T @ [index]``)
and the dispatching helpers below. Masks (relu, abs, clip, max) are read from the data and
are constants, as their derivatives are zero almost everywhere. ``broadcasts`` marks an
elementwise binary op: where an operand was broadcast, its local is wrapped in ``SumTo`` so
that the gradient is summed back down to the operand's shape.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import functions as F
from .engine import Node
from .ops import Op, OpTable

# --- helpers that work on arrays and on Tensors ----------------------------------------


def _raw(x: Any) -> Any:
    """The array behind x (masks are computed from data, never recorded)."""
    return x.data if isinstance(x, Node) else x


# Reductions on arrays call the ufuncs' reduce directly: ``x.sum(...)`` goes through a Python
# wrapper in numpy (``_methods._sum``), a frame per call that a training step pays many times.
_add_reduce = np.add.reduce
_max_reduce = np.maximum.reduce


def _sum(g: Any, axis: Any, keepdims: bool) -> Any:
    return (
        g.sum(axis=axis, keepdims=keepdims)
        if isinstance(g, Node)
        else _add_reduce(g, axis, None, None, keepdims)
    )


_sum_axes_cache: dict[tuple, tuple] = {}


def sum_axes(shape: tuple, target: tuple) -> tuple:
    """The axes of ``shape`` that numpy broadcasting added to ``target``: summing them
    (keepdims) and reshaping gives back ``target``. Cached: a model meets few shape pairs."""
    key = (shape, target)
    axes = _sum_axes_cache.get(key)
    if axes is None:
        lead = len(shape) - len(target)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, n in enumerate(target) if n == 1 and shape[lead + i] != 1
        )
        if len(_sum_axes_cache) < 4096:
            _sum_axes_cache[key] = axes
    return axes


def _broadcast(t: Any, shape: tuple) -> Any:
    """t broadcast to ``shape`` (a read-only view for arrays: tangents are never written)."""
    if t.shape == shape:
        return t
    return t.broadcast_to(shape) if isinstance(t, Node) else np.broadcast_to(t, shape)


def _reduced_axes(shape: tuple, kept: tuple) -> tuple:
    """The axes a reduction from ``shape`` to ``kept`` (its keepdims shape) summed over."""
    return tuple(i for i, (n, k) in enumerate(zip(shape, kept)) if n != k)


def _sum_to(g: Any, shape: tuple) -> Any:
    if g.shape == shape:
        return g
    return _sum(g, sum_axes(g.shape, shape), True).reshape(shape)


def kept_shape(shape: tuple, axis: Any) -> tuple:
    """The shape of a reduction over ``axis`` with ``keepdims=True`` (1 where reduced)."""
    if axis is None:
        return (1,) * len(shape)
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    reduced = {int(a) % len(shape) for a in axes}
    return tuple(1 if i in reduced else n for i, n in enumerate(shape))


def _swap_last(x: Any) -> Any:
    """x with its last two axes swapped (the matrix transpose of a stack of matrices)."""
    if x.ndim == 2:
        return x.T
    return x.transpose(tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2))


# --- local gradients that are linear maps ----------------------------------------------


class LinearMap:
    """A Jacobian applied as an operator: ``upstream * local`` is ``local.__rmul__(upstream)``.

    ``__array_ufunc__ = None`` makes ``ndarray * local`` defer to ``__rmul__``; Tensor's
    operators return ``NotImplemented`` for a LinearMap, so the same object serves a Tensor
    upstream (``create_graph``), where it builds its result from Tensor ops.

    ``jvp(tangent, shape)`` applies the same Jacobian forwards (forward mode, ``autograd.jvp``):
    the tangent of the operand (operand-shaped) to the tangent it gives the node, of the
    node's ``shape``, which the reverse direction never needs (its upstream gradient has it).
    It is the adjoint of ``__rmul__``: ``sum(jvp(t) * g) == sum(t * (g * map))``. It too
    works on arrays and on Tensors (forward mode nested in ``grad``).
    """

    __slots__ = ()
    __array_ufunc__ = None

    def __rmul__(self, g: Any) -> Any:  # pragma: no cover - every map defines it
        raise NotImplementedError

    def code(self, g: str, operands: list[str], out: str, params: list[str]) -> str | None:
        """``g * self`` written as numpy code for a traced program (``autograd.trace``):
        ``g``, ``operands`` and ``out`` are the names of the upstream gradient, the op's
        operands and its result at replay time, ``params`` its parameters as code. It uses
        only ``np``, ``scatter_add`` and what it is given. None: the program applies the map
        itself (made again at every replay)."""
        return None

    def jvp(self, tangent: Any, shape: tuple) -> Any:  # pragma: no cover - every map has one
        raise NotImplementedError(f"{type(self).__name__} has no forward-mode rule (jvp)")

    def __repr__(self) -> str:
        fields = ", ".join(f"{s}={_brief(getattr(self, s))}" for s in self.__slots__)
        return f"{type(self).__name__}({fields})"


def _brief(x: Any) -> str:
    if isinstance(x, np.ndarray):
        return f"<array {x.shape}>"
    if isinstance(x, Node):
        return f"<{type(x).__name__} {x.data.shape}>"
    return repr(x)


class Identity(LinearMap):
    """d x / d x: passes the gradient on (a copy for arrays: leaves never share a .grad)."""

    __slots__ = ()

    def __rmul__(self, g: Any) -> Any:
        return g if isinstance(g, Node) else g.copy()

    def jvp(self, tangent: Any, shape: tuple) -> Any:
        return tangent  # tangents are never written into: no copy


IDENTITY = Identity()


class PassThrough(LinearMap):
    """d x / d x toward a computed node: the gradient itself, no copy. Only leaves' grads are
    handed to users (an optimizer may scale them in place); intermediate nodes may share an
    array, which the reverse pass never writes into."""

    __slots__ = ()

    def __rmul__(self, g: Any) -> Any:
        return g

    def jvp(self, tangent: Any, shape: tuple) -> Any:
        return tangent


PASS = PassThrough()


class SumTo(LinearMap):
    """An elementwise local on a broadcast operand: multiply, then sum the broadcast axes."""

    __slots__ = ("shape", "axes", "local", "leading")

    def __init__(self, shape: tuple, axes: tuple, local: Any) -> None:
        self.shape = shape
        self.axes = axes
        self.local = local  # None: the identity
        # Only leading axes were added (a bias row broadcast over a batch): a plain sum.
        self.leading = axes == tuple(range(len(axes))) and not any(n == 1 for n in shape)

    def __rmul__(self, g: Any) -> Any:
        if self.local is not None:
            g = g * self.local
        if self.leading:
            return _sum(g, self.axes, False)
        return _sum(g, self.axes, True).reshape(self.shape)

    def code(self, g: str, operands: list[str], out: str, params: list[str]) -> str | None:
        if self.local is not None:  # a local the program would compute first
            return None
        if self.leading:
            return f"np.add.reduce({g}, {self.axes!r})"
        return f"np.add.reduce({g}, {self.axes!r}, None, None, True).reshape({self.shape!r})"

    def jvp(self, tangent: Any, shape: tuple) -> Any:
        # Forwards: multiply, then broadcast to the node's shape (the operand was broadcast).
        if self.local is not None:
            tangent = tangent * self.local
        return _broadcast(tangent, shape)


class NoGradient(LinearMap):
    """The local gradient toward a constant operand (a number or array an op lifted): no
    gradient is computed for it. ``upstream * NO_GRADIENT`` is None, which the reverse pass
    stores as the constant's ``.grad`` (None: a constant is a tensor that does not require
    grad, in PyTorch's terms) and never adds to anything, as nothing else flows there. This
    saves work that matters: ``X @ W`` with a data batch X would otherwise compute X's
    gradient, a matrix product as large as W's."""

    __slots__ = ()

    def __rmul__(self, g: Any) -> None:
        return None

    def jvp(self, tangent: Any, shape: tuple) -> None:
        # Forward mode seeds only the arguments' leaves, so a constant never has a tangent.
        raise RuntimeError("forward mode: a constant operand was given a tangent")


NO_GRADIENT = NoGradient()


_shared_maps: dict[tuple, LinearMap] = {}


def shared(cls: type, *args: Any) -> Any:
    """One instance per distinct arguments of a map that holds only shapes and axes: a model
    builds the same few maps every step, so they are made once (an unhashable axis, a list,
    simply gets a fresh one)."""
    key = (cls, *args)
    try:
        return _shared_maps[key]
    except KeyError:
        made = cls(*args)
        if len(_shared_maps) < 4096:
            _shared_maps[key] = made
        return made
    except TypeError:
        return cls(*args)


def fit(local: Any, shape: tuple, out_shape: tuple) -> Any:
    """Wrap an elementwise local for a parent of ``shape`` that was broadcast to
    ``out_shape`` (the local is returned as is when nothing was broadcast)."""
    if shape == out_shape:
        return local
    if local is IDENTITY:  # one map per pair of shapes: a model meets few
        key = (shape, out_shape)
        known = _identity_fits.get(key)
        if known is None:
            known = shared(SumTo, shape, sum_axes(out_shape, shape), None)
            if len(_identity_fits) < 4096:
                _identity_fits[key] = known
        return known
    return SumTo(shape, sum_axes(out_shape, shape), local)


_identity_fits: dict[tuple, LinearMap] = {}


class Expand(LinearMap):
    """d sum / d x over ``axis`` (divided by the count for mean): the gradient broadcast back
    to x's shape."""

    __slots__ = ("kept", "shape", "scale")

    def __init__(self, shape: tuple, axis: Any, mean: bool) -> None:
        self.kept = kept_shape(shape, axis)
        self.shape = shape
        # mean: each output averaged ``count`` elements, each gets 1 / count of its gradient
        count = math.prod(shape) // max(math.prod(self.kept), 1)
        self.scale = (1.0 / count if count else 0.0) if mean else None

    def __rmul__(self, g: Any) -> Any:
        g = g.reshape(self.kept)
        if isinstance(g, Node):
            g = g.broadcast_to(self.shape)
            return g if self.scale is None else g * self.scale
        if self.scale is not None:
            g = g * self.scale
        out = np.empty(self.shape)  # a real array (not a read-only broadcast view)
        out[...] = g
        return out

    def code(self, g: str, operands: list[str], out: str, params: list[str]) -> str | None:
        scale = "" if self.scale is None else f" * {self.scale!r}"
        return f"np.broadcast_to(np.reshape({g}, {self.kept!r}){scale}, {self.shape!r})"

    def jvp(self, tangent: Any, shape: tuple) -> Any:
        # Forwards: the sum (the mean) of the tangent over the reduced axes.
        axes = _reduced_axes(self.shape, self.kept)
        if axes:
            tangent = _sum(tangent, axes, True)
        if self.scale is not None:
            tangent = tangent * self.scale
        return tangent.reshape(shape)


class SpreadMax(LinearMap):
    """d max / d x: the gradient goes to the maxima, split equally between ties."""

    __slots__ = ("kept", "weights")

    def __init__(self, kept: tuple, weights: np.ndarray) -> None:
        self.kept = kept
        self.weights = weights

    def __rmul__(self, g: Any) -> Any:
        return g.reshape(self.kept) * self.weights

    def jvp(self, tangent: Any, shape: tuple) -> Any:
        # Forwards: the tangent at the maxima (averaged over ties), summed over the axes.
        tangent = tangent * self.weights
        axes = _reduced_axes(self.weights.shape, self.kept)
        return (_sum(tangent, axes, True) if axes else tangent).reshape(shape)


class Reshape(LinearMap):
    """d reshape / d x: the gradient reshaped back."""

    __slots__ = ("shape",)

    def __init__(self, shape: tuple) -> None:
        self.shape = shape

    def __rmul__(self, g: Any) -> Any:
        return g.reshape(self.shape)

    def code(self, g: str, operands: list[str], out: str, params: list[str]) -> str | None:
        return f"np.reshape({g}, {self.shape!r})"

    def jvp(self, tangent: Any, shape: tuple) -> Any:
        return tangent.reshape(shape)  # self.shape is the operand's: forwards, the node's


class Transpose(LinearMap):
    """d transpose / d x: the gradient transposed by the inverse permutation."""

    __slots__ = ("axes",)

    def __init__(self, axes: tuple) -> None:
        self.axes = axes

    def __rmul__(self, g: Any) -> Any:
        return g.transpose(self.axes)

    def code(self, g: str, operands: list[str], out: str, params: list[str]) -> str | None:
        return f"np.transpose({g}, {self.axes!r})"

    def jvp(self, tangent: Any, shape: tuple) -> Any:
        # self.axes is the inverse of the op's permutation: forwards, the op's own.
        forward = [0] * len(self.axes)
        for i, a in enumerate(self.axes):
            forward[a] = i
        return tangent.transpose(tuple(forward))


class Scatter(LinearMap):
    """d x[index] / d x: the gradient added into zeros at ``index``; repeated indices
    accumulate (``np.add.at``). Basic indices (ints, slices) cannot repeat: plain assignment."""

    __slots__ = ("shape", "index", "basic")

    def __init__(self, shape: tuple, index: tuple, basic: bool) -> None:
        self.shape = shape
        self.index = index
        self.basic = basic

    def __rmul__(self, g: Any) -> Any:
        if isinstance(g, Node):
            return g.scatter_add(self.shape, self.index)
        return scatter_add(g, self.shape, self.index, self.basic)

    def code(self, g: str, operands: list[str], out: str, params: list[str]) -> str | None:
        index, basic = params  # the index as the program names it (an input, a constant)
        return f"scatter_add({g}, {self.shape!r}, {index}, {basic})"

    def jvp(self, tangent: Any, shape: tuple) -> Any:
        return tangent[self.index]  # forwards, indexing is itself


class Gather(LinearMap):
    """d scatter_add / d g: the gradient read back at ``index``."""

    __slots__ = ("index",)

    def __init__(self, index: tuple) -> None:
        self.index = index

    def __rmul__(self, g: Any) -> Any:
        return g[self.index]

    def jvp(self, tangent: Any, shape: tuple) -> Any:
        # Forwards, scatter_add is itself (np.add.at: right for basic indices too).
        if isinstance(tangent, Node):
            return tangent.scatter_add(shape, self.index)
        return scatter_add(tangent, shape, self.index, False)


class MatmulGrad(LinearMap):
    """d (a @ b) / d a (``left``) or d b: ``g @ b^T`` or ``a^T @ g``, summed over broadcast
    batch axes. 1-D operands are promoted as numpy's matmul promotes them (``g_shape`` is the
    gradient's shape with the removed axes put back, None when both operands are matrices)."""

    __slots__ = ("other", "left", "shape", "g_shape")

    def __init__(self, other: Any, left: bool, shape: tuple, g_shape: tuple | None) -> None:
        self.other = other
        self.left = left
        self.shape = shape
        self.g_shape = g_shape

    def __rmul__(self, g: Any) -> Any:
        other = self.other
        if self.g_shape is None:  # the common case, two matrices
            return g @ other.T if self.left else other.T @ g
        g = g.reshape(self.g_shape)
        if self.left:
            if other.ndim == 1:
                other = other.reshape((1, other.shape[0]))  # b as a row: g @ b^T = g * b
                grad = g @ other
            else:
                grad = g @ _swap_last(other)
            promoted = self.shape if len(self.shape) > 1 else (1,) + self.shape
        else:
            if other.ndim == 1:
                other = other.reshape((other.shape[0], 1))  # a as a column: a^T @ g
                grad = other @ g
            else:
                grad = _swap_last(other) @ g
            promoted = self.shape if len(self.shape) > 1 else self.shape + (1,)
        return _sum_to(grad, promoted).reshape(self.shape)

    def code(self, g: str, operands: list[str], out: str, params: list[str]) -> str | None:
        if self.g_shape is not None:  # 1-D operands or batch axes: the map itself
            return None
        a, b = operands
        return f"{g} @ {b}.T" if self.left else f"{a}.T @ {g}"

    def jvp(self, tangent: Any, shape: tuple) -> Any:
        # Forwards the product is linear in each operand: t_a @ b, or a @ t_b (numpy's
        # matmul promotes 1-D operands and broadcasts batch axes just as it did forwards).
        return tangent @ self.other if self.left else self.other @ tangent


class LogSoftmaxGrad(LinearMap):
    """d log_softmax / d x: ``g - softmax * sum(g)`` along the axis."""

    __slots__ = ("out", "axis")

    def __init__(self, out: Any, axis: int) -> None:
        self.out = out
        self.axis = axis

    def __rmul__(self, g: Any) -> Any:
        return g - F.exp(self.out) * _sum(g, self.axis, True)

    def code(self, g: str, operands: list[str], out: str, params: list[str]) -> str | None:
        return f"{g} - np.exp({out}) * np.add.reduce({g}, {self.axis!r}, None, None, True)"

    def jvp(self, tangent: Any, shape: tuple) -> Any:
        # The Jacobian is I - 1 softmax^T along the axis: forwards t - sum(softmax * t).
        return tangent - _sum(F.exp(self.out) * tangent, self.axis, True)


class SoftmaxGrad(LinearMap):
    """d softmax / d x: ``s * (g - sum(g * s))`` along the axis."""

    __slots__ = ("out", "axis")

    def __init__(self, out: Any, axis: int) -> None:
        self.out = out
        self.axis = axis

    def __rmul__(self, g: Any) -> Any:
        s = self.out
        return s * (g - _sum(g * s, self.axis, True))

    def code(self, g: str, operands: list[str], out: str, params: list[str]) -> str | None:
        return f"{out} * ({g} - np.add.reduce({g} * {out}, {self.axis!r}, None, None, True))"

    def jvp(self, tangent: Any, shape: tuple) -> Any:
        return self.__rmul__(tangent)  # diag(s) - s s^T is symmetric: the same product


def scatter_add(g: np.ndarray, shape: tuple, index: tuple, basic: bool) -> np.ndarray:
    """Zeros of ``shape`` with ``g`` added at ``index`` (repeats accumulate)."""
    out = np.zeros(shape)
    if basic:
        out[index] = g
    else:
        np.add.at(out, index, g)
    return out


# --- the rules -------------------------------------------------------------------------
# Each rule runs on arrays (forward time) and on Tensors (under create_graph: the parents are
# nodes, so the forward is recorded and the linear maps it returns build Tensor ops).


def _max_derivative(x: Any, out: Any, axis: Any, keepdims: bool) -> LinearMap:
    X = _raw(x)
    kept = kept_shape(X.shape, axis)
    hits = X == _raw(out).reshape(kept)
    return SpreadMax(kept, hits / hits.sum(axis=axis, keepdims=True))


def _mean(x: np.ndarray, axis: Any, keepdims: bool) -> np.ndarray:
    # What np.mean computes (the sum divided by the count), without its Python overhead.
    total = _add_reduce(x, axis, None, None, keepdims)
    return np.true_divide(total, x.size // total.size if total.size else 1)


def _log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    # Shift by the max so exp never overflows: log_softmax(x) = s - log(sum(exp(s))), s = x - max.
    s = x - _max_reduce(x, axis, None, None, True)
    return s - np.log(_add_reduce(np.exp(s), axis, None, None, True))


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - _max_reduce(x, axis, None, None, True))
    return e / _add_reduce(e, axis, None, None, True)


def _matmul_g_shape(a: Any, b: Any, out: Any) -> tuple | None:
    """The upstream gradient's shape with the axes numpy's matmul removed for 1-D operands
    put back; None when both operands are matrices."""
    if a.ndim == 2 and b.ndim == 2:
        return None
    g_shape = out.shape
    if b.ndim == 1:
        g_shape = g_shape + (1,)
    if a.ndim == 1:
        g_shape = g_shape[:-1] + (1,) + g_shape[-1:]
    return g_shape


def _inverse(axes: tuple) -> tuple:
    inverse = [0] * len(axes)
    for i, a in enumerate(axes):
        inverse[a] = i
    return tuple(inverse)


def _clip_mask(x: Any, lo: float, hi: float) -> np.ndarray:
    X = _raw(x)
    return (X >= lo) & (X <= hi)  # PyTorch's clamp: the bounds themselves pass the gradient


# The forwards, on an array or (under create_graph) on a Tensor, whose method records it.


def _softplus_of(x: Any) -> Any:
    return x.softplus() if isinstance(x, Node) else np.logaddexp(0.0, x)


def _mean_of(x: Any, axis: Any, keepdims: bool) -> Any:
    return x.mean(axis, keepdims) if isinstance(x, Node) else _mean(x, axis, keepdims)


def _max_of(x: Any, axis: Any, keepdims: bool) -> Any:
    return (
        x.max(axis, keepdims) if isinstance(x, Node) else _max_reduce(x, axis, None, None, keepdims)
    )


def _scatter_add_of(g: Any, shape: tuple, index: tuple, basic: bool) -> Any:
    return (
        g.scatter_add(shape, index) if isinstance(g, Node) else scatter_add(g, shape, index, basic)
    )


def _broadcast_to_of(x: Any, shape: tuple) -> Any:
    return x.broadcast_to(shape) if isinstance(x, Node) else np.broadcast_to(x, shape).copy()


def _log_softmax_of(x: Any, axis: int) -> Any:
    return x.log_softmax(axis) if isinstance(x, Node) else _log_softmax(x, axis)


def _softmax_of(x: Any, axis: int) -> Any:
    return x.softmax(axis) if isinstance(x, Node) else _softmax(x, axis)


def matmul(a, b):
    out = a @ b
    return out, (
        MatmulGrad(b, True, a.shape, _matmul_g_shape(a, b, out)),
        MatmulGrad(a, False, b.shape, _matmul_g_shape(a, b, out)),
    )


def softplus(x):
    out = _softplus_of(x)
    return out, (F.sigmoid(x),)


def clip(x, lo, hi):
    out = x.clip(lo, hi)
    return out, (_clip_mask(x, lo, hi),)


def sum_(x, axis, keepdims):
    out = _sum(x, axis, keepdims)
    return out, (shared(Expand, x.shape, axis, False),)


def mean(x, axis, keepdims):
    out = _mean_of(x, axis, keepdims)
    return out, (shared(Expand, x.shape, axis, True),)


def max_(x, axis, keepdims):
    out = _max_of(x, axis, keepdims)
    return out, (_max_derivative(x, out, axis, keepdims),)


def reshape(x, shape):
    out = x.reshape(shape)
    return out, (shared(Reshape, x.shape),)


def transpose(x, axes):
    out = x.transpose(axes)
    return out, (Transpose(_inverse(axes)),)


def index(x, index, basic):
    out = x[index]
    return out, (Scatter(x.shape, index, basic),)


def scatter_add_(g, shape, index, basic):
    out = _scatter_add_of(g, shape, index, basic)
    return out, (Gather(index),)


def broadcast_to(x, shape):
    out = _broadcast_to_of(x, shape)
    return out, (SumTo(x.shape, sum_axes(shape, x.shape), None),)


def log_softmax(x, axis):
    out = _log_softmax_of(x, axis)
    return out, (LogSoftmaxGrad(out, axis),)


def softmax(x, axis):
    out = _softmax_of(x, axis)
    return out, (SoftmaxGrad(out, axis),)


def _has_zero(x: np.ndarray, *params: Any, within: float = 0.0) -> bool:
    return F.near_zero(x, within)


def _at_bound(x: np.ndarray, lo: float, hi: float, within: float = 0.0) -> bool:
    return bool(((np.abs(x - lo) <= within) | (np.abs(x - hi) <= within)).any())


def _has_ties(x: np.ndarray, axis: Any, keepdims: bool, within: float = 0.0) -> bool:
    # Tied, or within 2 * within of the maximum: a step of within can swap which is largest.
    hits = x >= x.max(axis=axis, keepdims=True) - 2 * within
    return bool((hits.sum(axis=axis) > 1).any())


# --- the table of the ops only arrays have ----------------------------------------------
# (the elementwise ops, Value's too, are ops.ELEMENTWISE_OPS)
# fmt: off
TENSOR_OPS = OpTable("Tensor", [
    Op("@",            matmul),
    Op("softplus",     softplus),
    # Ops with parameters: their methods (which check the parameters) are written in tensor.py.
    Op("clip",         clip,         params=("lo", "hi"), kink=_at_bound),
    Op("sum",          sum_,         params=("axis", "keepdims")),
    Op("mean",         mean,         params=("axis", "keepdims")),
    Op("max",          max_,         params=("axis", "keepdims"), kink=_has_ties),
    Op("reshape",      reshape,      params=("shape",)),
    Op("transpose",    transpose,    params=("axes",)),
    Op("index",        index,        params=("index", "basic")),
    Op("scatter_add",  scatter_add_, params=("shape", "index", "basic")),
    Op("broadcast_to", broadcast_to, params=("shape",)),
    Op("log_softmax",  log_softmax,  params=("axis",)),
    Op("softmax",      softmax,      params=("axis",)),
])
# fmt: on
