"""``Value``: one scalar node of the graph.

Every op is one call of ``_unary`` / ``_binary`` with its row of the op table: the forward
gives the data, the derivative gives the local gradients (stored at forward time, as
micrograd stores closures, but as plain numbers: no closure, no cycle, nothing for the
garbage collector to chase).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .engine import Node
from .modes import _modes, entered
from .ops import (
    ABS,
    ADD,
    CONSTANT,
    COS,
    DIV,
    EXP,
    LEAF,
    LOG,
    MUL,
    NEG,
    POW,
    RELU,
    SIGMOID,
    SIN,
    SQRT,
    SUB,
    TANH,
    Op,
    describe_call,
)

_new = object.__new__


def _as_float(data: Any, what: str = "Value") -> float:
    if data.__class__ is float:
        return data
    if isinstance(data, (numbers.Real, np.bool_)) and not isinstance(data, np.ndarray):
        try:
            return float(data)
        except OverflowError:  # an int beyond 1.8e308
            size = int(int(data).bit_length() * 0.30103)  # str() of a huge int may refuse
            raise OverflowError(
                f"{what}: the {type(data).__name__} of about 10**{size} is too large for a "
                f"float (at most about 1.8e308)"
            ) from None
    if isinstance(data, np.ndarray) and data.size == 1 and data.dtype.kind in "biuf":
        return float(data.reshape(()))
    if isinstance(data, Node):
        raise TypeError(f"{what}: cannot take a {type(data).__name__} as data; use it directly")
    shown = repr(data)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    raise TypeError(
        f"{what}: data must be a real number (int, float, bool or numpy scalar), "
        f"got {type(data).__name__}: {shown}"
    )


def _lift(x: Any, op: Op) -> Value:
    """A plain number operand becomes a constant leaf parent."""
    if x.__class__ is not float:
        if isinstance(x, Node):  # a Tensor: Value and Tensor do not mix
            raise TypeError(f"{op.name}: cannot mix Value and {type(x).__name__} in one op")
        x = _as_float(x, f"{op.name}: operand")
    node = _new(Value)
    node.data = x
    node.grad = 0.0
    node.label = ""
    node.scope = _modes.scope
    node._op = CONSTANT
    node.parents = ()
    node.local_grads = ()
    return node


def _op_error(op: Op, xs: tuple, error: Exception) -> Exception:
    return type(error)(f"{op.name}: {error}, at {describe_call(op.name, xs)}")


def _record(op: Op, data: float, parents: tuple, xs: tuple) -> Value:
    """Make the result node; the slow path of ``_unary``/``_binary`` (no_grad, anomaly)."""
    if _modes.anomaly and not math.isfinite(data):
        raise FloatingPointError(f"{op.name}: result is {data!r}, at {describe_call(op.name, xs)}")
    node = _new(Value)
    node.data = data
    node.grad = 0.0
    node.label = ""
    node.scope = _modes.scope
    if _modes.grad_enabled:
        node._op = op
        node.parents = parents
        node.local_grads = op.derivative(*xs, data)
    else:
        node._op = LEAF
        node.parents = ()
        node.local_grads = ()
    return node


def _unary(op: Op, a: Value) -> Value:
    x = a.data
    try:
        data = op.forward(x)
        if entered[0] and not _modes.plain:
            return _record(op, data, (a,), (x,))
        local_grads = op.derivative(x, data)
    except FloatingPointError:  # detect_anomaly's own error, already worded
        raise
    except (ArithmeticError, ValueError) as error:
        raise _op_error(op, (x,), error) from None
    node = _new(Value)
    node.data = data
    node.grad = 0.0
    node.label = ""
    node.scope = _modes.scope
    node._op = op
    node.parents = (a,)
    node.local_grads = local_grads
    return node


def _binary(op: Op, a: Value, b: Value) -> Value:
    x = a.data
    y = b.data
    try:
        data = op.forward(x, y)
        if entered[0] and not _modes.plain:
            return _record(op, data, (a, b), (x, y))
        local_grads = op.derivative(x, y, data)
    except FloatingPointError:  # detect_anomaly's own error, already worded
        raise
    except (ArithmeticError, ValueError) as error:
        raise _op_error(op, (x, y), error) from None
    node = _new(Value)
    node.data = data
    node.grad = 0.0
    node.label = ""
    node.scope = _modes.scope
    node._op = op
    node.parents = (a, b)
    node.local_grads = local_grads
    return node


def apply(op: Op, args: tuple) -> Value:
    """Apply any op to Values or numbers (the n-ary path, used by ``primitive``)."""
    parents = tuple(a if isinstance(a, Value) else _lift(a, op) for a in args)
    xs = tuple(p.data for p in parents)
    try:
        return _record(op, _as_float(op.forward(*xs), f"{op.name}: forward result"), parents, xs)
    except FloatingPointError:
        raise
    except (ArithmeticError, ValueError) as error:
        raise _op_error(op, xs, error) from None


def _check_value_exponent(base: float) -> None:
    if base <= 0:  # nan passes: it propagates, as all nan data does
        raise ValueError(
            f"**: a Value exponent needs a base > 0 (d/db = log(a) * a**b), got base {base!r}"
        )


class Value(Node):
    """A scalar that remembers how it was computed.

    >>> a = Value(2.0, "a"); b = Value(-3.0, "b")
    >>> c = a * b + a.exp(); c.backward()
    >>> round(a.grad, 4), b.grad          # -3 + e**2, 2
    (4.3891, 2.0)
    """

    __slots__ = ("data", "grad", "label", "scope", "_op", "parents", "local_grads")

    _cleared_grad = 0.0
    __array_ufunc__ = None  # numpy defers to our operators instead of making object arrays

    def __init__(self, data: Any, label: str = "") -> None:
        if not isinstance(label, str):
            raise TypeError(f"Value: label must be a str, got {type(label).__name__}")
        self.data = _as_float(data)
        self.grad = 0.0
        self.label = label
        self.scope = _modes.scope
        self._op = LEAF
        self.parents = ()
        self.local_grads = ()

    def __repr__(self) -> str:
        extra = f", label={self.label!r}" if self.label else ""
        extra += f", op={self.op!r}" if self.parents else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{extra})"

    # --- arithmetic ---------------------------------------------------------------------

    def __add__(self, other: Any) -> Value:
        return _binary(ADD, self, other if isinstance(other, Value) else _lift(other, ADD))

    def __radd__(self, other: Any) -> Value:
        return _binary(ADD, _lift(other, ADD), self)

    def __sub__(self, other: Any) -> Value:
        return _binary(SUB, self, other if isinstance(other, Value) else _lift(other, SUB))

    def __rsub__(self, other: Any) -> Value:
        return _binary(SUB, _lift(other, SUB), self)

    def __mul__(self, other: Any) -> Value:
        return _binary(MUL, self, other if isinstance(other, Value) else _lift(other, MUL))

    def __rmul__(self, other: Any) -> Value:
        return _binary(MUL, _lift(other, MUL), self)

    def __truediv__(self, other: Any) -> Value:
        return _binary(DIV, self, other if isinstance(other, Value) else _lift(other, DIV))

    def __rtruediv__(self, other: Any) -> Value:
        return _binary(DIV, _lift(other, DIV), self)

    def __pow__(self, other: Any) -> Value:
        if isinstance(other, Value):
            _check_value_exponent(self.data)
            return _binary(POW, self, other)
        return _binary(POW, self, _lift(other, POW))

    def __rpow__(self, other: Any) -> Value:
        base = _lift(other, POW)
        _check_value_exponent(base.data)
        return _binary(POW, base, self)

    def __neg__(self) -> Value:
        return _unary(NEG, self)

    def __pos__(self) -> Value:
        return self

    # Ordering compares data (derivative rules such as relu's use ``x > 0``). Equality stays
    # identity, as in micrograd, so Values can be dict keys and set members.
    def __lt__(self, other: Any) -> bool:
        return self.data < (other.data if isinstance(other, Value) else other)

    def __le__(self, other: Any) -> bool:
        return self.data <= (other.data if isinstance(other, Value) else other)

    def __gt__(self, other: Any) -> bool:
        return self.data > (other.data if isinstance(other, Value) else other)

    def __ge__(self, other: Any) -> bool:
        return self.data >= (other.data if isinstance(other, Value) else other)

    __hash__ = object.__hash__

    # --- functions ----------------------------------------------------------------------

    def exp(self) -> Value:
        return _unary(EXP, self)

    def log(self) -> Value:
        return _unary(LOG, self)

    def tanh(self) -> Value:
        return _unary(TANH, self)

    def sigmoid(self) -> Value:
        return _unary(SIGMOID, self)

    def relu(self) -> Value:
        return _unary(RELU, self)

    def sqrt(self) -> Value:
        return _unary(SQRT, self)

    def sin(self) -> Value:
        return _unary(SIN, self)

    def cos(self) -> Value:
        return _unary(COS, self)

    def abs(self) -> Value:
        return _unary(ABS, self)

    __abs__ = abs

    # --- what the machinery asks of a node kind -----------------------------------------

    @staticmethod
    def _grad_is_unset(g: Any) -> bool:
        return g.__class__ is float and g == 0.0  # a fresh or zeroed Value's grad

    def _seed(self, grad: Any) -> float:
        return _as_float(grad, "backward: grad")

    @staticmethod
    def _is_finite(g: Any) -> bool:
        return math.isfinite(g if g.__class__ is float else g.data)

    @staticmethod
    def _constant(g: Any) -> Value:
        return g if isinstance(g, Value) else _lift(g, ADD)

    @staticmethod
    def _zeros() -> float:
        return 0.0

    @property
    def is_constant(self) -> bool:
        """True for a constant leaf: a plain number (or array) an op wrapped as its operand,
        like the 2 of ``a + 2``; False for the nodes you make and every computed node."""
        return self._op is CONSTANT

    def _differentiable_locals(self) -> tuple:
        # Parents as Values, so the derivative rule records a graph; constants as numbers,
        # so that e.g. x**3 at x < 0 stays a power with a number exponent.
        args = [p.data if p._op is CONSTANT else p for p in self.parents]
        op = self._op
        try:
            local = op.derivative(*args, self)
        except TypeError as error:
            if op.user_defined:
                raise NotImplementedError(
                    f"primitive {op.name!r}: its derivative cannot be differentiated again "
                    f"(create_graph): write it with Value operations such as x.exp() "
                    f"instead of math functions ({error})"
                ) from None
            raise
        return local
