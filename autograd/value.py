"""``Value``: one scalar node of the graph.

Its operator and elementwise methods come from the rows of ``ops.ELEMENTWISE_OPS``: each is
a plain function (``_two_operand_method`` / ``_one_operand_method`` below) that calls the
row's rule on the operands' floats and keeps the result and the local derivatives on a new
node. Stepping into ``a * b`` with a debugger goes from the method into the rule, ``ops.mul``.
Anything but the common case (two Values or a Value and a float, grad on, anomaly off) takes
the engine's one general path, ``engine.apply``.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .engine import Node, apply, op_error
from .modes import current, record_guard
from .ops import CONSTANT, ELEMENTWISE_OPS, LEAF, Op, describe_call

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


class Value(Node):
    """A scalar that remembers how it was computed.

    >>> a = Value(2.0, "a"); b = Value(-3.0, "b")
    >>> c = a * b + a.exp(); c.backward()
    >>> round(a.grad, 4), b.grad          # -3 + e**2, 2
    (4.3891, 2.0)
    """

    __slots__ = ("data", "grad", "label", "scope", "_op", "_a", "_b", "_da", "_db")

    _raw = float  # a number operand is kept as a float until someone reads .parents
    _cleared_grad = 0.0
    _keeps_params = False  # no scalar op takes parameters
    __array_ufunc__ = None  # numpy defers to our operators instead of making object arrays

    def __init__(self, data: Any, label: str = "") -> None:
        if not isinstance(label, str):
            raise TypeError(f"Value: label must be a str, got {type(label).__name__}")
        self.data = _as_float(data)
        self.grad = 0.0
        self.label = label
        self.scope = current().scope
        self._op = LEAF
        self._a = self._b = self._da = self._db = None

    def __repr__(self) -> str:
        extra = f", label={self.label!r}" if self.label else ""
        extra += f", op={self.op!r}" if self._a is not None else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{extra})"

    def __pos__(self) -> Value:
        return self

    # Ordering compares data (derivative rules such as relu's use ``x > 0``). Equality stays
    # identity, as in micrograd, so Values can be dict keys and set members. While a trace
    # records, a comparison is a guard of the program (a replay must take the same branch).
    def __lt__(self, other: Any) -> bool:
        result = self.data < (other.data if isinstance(other, Value) else other)
        record_guard("<", self, other, result)
        return result

    def __le__(self, other: Any) -> bool:
        result = self.data <= (other.data if isinstance(other, Value) else other)
        record_guard("<=", self, other, result)
        return result

    def __gt__(self, other: Any) -> bool:
        result = self.data > (other.data if isinstance(other, Value) else other)
        record_guard(">", self, other, result)
        return result

    def __ge__(self, other: Any) -> bool:
        result = self.data >= (other.data if isinstance(other, Value) else other)
        record_guard(">=", self, other, result)
        return result

    __hash__ = object.__hash__

    # --- what the machinery asks of a node kind -----------------------------------------

    @staticmethod
    def _lift(x: Any, op: Op) -> float:
        return _as_float(x, f"{op.name}: operand")

    @staticmethod
    def _result(data: Any, op: Op) -> float:
        return data if data.__class__ is float else _as_float(data, f"{op.name}: forward result")

    @staticmethod
    def _fit(op: Op, operands: tuple, out: float, local_grads: tuple) -> tuple:
        return local_grads  # a scalar's local derivative is a number: nothing to fit

    @staticmethod
    def _error_context(op: Op, xs: tuple) -> str:
        return f", at {describe_call(op.name, xs)}"

    @staticmethod
    def _call(op: Op, xs: tuple) -> str:
        return describe_call(op.name, xs)

    @staticmethod
    def _nonfinite(data: float) -> str | None:
        return None if math.isfinite(data) else f"result is {data!r}"

    @staticmethod
    def _constant_leaf(raw: float) -> Value:
        return Value._node(CONSTANT, raw, (), (), (), ())

    @staticmethod
    def _constant(g: Any) -> Value:
        return g if isinstance(g, Value) else Value._constant_leaf(_as_float(g))

    def _seed(self, grad: Any) -> float:
        return _as_float(grad, "backward: grad")

    @staticmethod
    def _finite(g: Any) -> bool:
        return math.isfinite(g if g.__class__ is float else g.data)

    def _add_to_grad(self, g: Any) -> None:
        old = self.grad
        if old.__class__ is float and old == 0.0 and g.__class__ is not float:
            self.grad = g  # a gradient with a graph (create_graph): 0.0 + g would add a node
        else:
            self.grad = old + g

    @staticmethod
    def _add_grads(totals: dict) -> None:
        # _add_to_grad written out for floats: this loop runs once per node of every pass.
        for node, g in totals.items():
            old = node.grad
            if old.__class__ is float and g.__class__ is float:
                node.grad = old + g
            else:
                node._add_to_grad(g)

    @staticmethod
    def _jvp(local: Any, tangent: Any) -> Any:
        return local * tangent  # a scalar's Jacobian is its local derivative

    @staticmethod
    def _zeros() -> float:
        return 0.0

    @staticmethod
    def _owned(g: Any) -> Any:
        return g  # a float is immutable: nothing to copy


Value._kind = Value


# --- the methods of the table's rows ---------------------------------------------------


def _two_operand_method(op: Op, reflected: bool) -> Any:
    """``a * b`` (and ``2 * a``, reflected): the row's rule on the two floats, its result
    and local derivatives kept on a new node."""

    def method(self: Value, other: Any) -> Any:
        if other.__class__ is Value:
            y = other.data
        elif other.__class__ is float:
            y = other
        else:  # an int, a numpy scalar, something else: the general path lifts or refuses
            return apply(op, (other, self) if reflected else (self, other), (), Value)
        scope = current().fast
        if scope is None or op.check is not None:  # no_grad, detect_anomaly, a check
            return apply(op, (other, self) if reflected else (self, other), (), Value)
        if reflected:
            a, b, x, y = other, self, y, self.data
        else:
            a, b, x = self, other, self.data
        try:
            out, (da, db) = op.rule(x, y)
        except (ArithmeticError, ValueError) as error:
            raise op_error(op, Value, (x, y), error) from None
        # Value._node written out: every op of a forward pass runs this, and a call per op
        # is a large share of its cost (bench/results/engine.md).
        node = _new(Value)
        node.data = out
        node.grad = 0.0
        node.label = ""
        node.scope = scope
        node._op = op
        node._a = a
        node._b = b
        node._da = da
        node._db = db
        return node

    return method


def _one_operand_method(op: Op) -> Any:
    """``x.tanh()``: the row's rule on the float, its result and local derivative kept on a
    new node."""

    def method(self: Value) -> Any:
        scope = current().fast
        if scope is None:
            return apply(op, (self,), (), Value)
        x = self.data
        try:
            out, (dx,) = op.rule(x)
        except (ArithmeticError, ValueError) as error:
            raise op_error(op, Value, (x,), error) from None
        node = _new(Value)  # Value._node written out, as above
        node.data = out
        node.grad = 0.0
        node.label = ""
        node.scope = scope
        node._op = op
        node._a = self
        node._b = None
        node._da = dx
        node._db = None
        return node

    return method


def _install(op: Op) -> None:
    """Give Value the methods of a row."""
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
        method.__doc__ = (
            f"The op {op.name!r}: see its rule, {op.rule.__module__}.{op.rule.__name__}."
        )
        setattr(Value, name, method)


def _uninstall(op: Op) -> None:
    for name in op.methods:
        if name in Value.__dict__:
            delattr(Value, name)


ELEMENTWISE_OPS.install(_install, _uninstall)
