"""``Value``: one scalar node of the graph.

Its operator and elementwise methods are generated from the rows of the scalar table
(``ops.SCALAR_OPS``): each row's forward and derivatives are inlined into a method that, in
the common case (two Values, or a Value and a float, no mode open), builds the node with no
further call. Everything else (ints, numpy scalars, ``no_grad``, ``detect_anomaly``, a
``name_scope``, rows with a ``check``) goes through the machinery's one general path,
``engine.apply`` / ``engine.record``.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .engine import Node, apply, op_error, record
from .modes import _modes, current, entered, record_guard, tracing
from .ops import CONSTANT, FLOAT_FUNCTIONS, LEAF, SCALAR_OPS, Op, describe_call

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

    __slots__ = ("data", "grad", "label", "scope", "_op", "_a", "_b", "_da", "_db", "_g")

    _raw = float  # a number operand is kept as a float until someone reads .parents
    _NO_OPERAND = math.nan  # a one-operand node's _b (an instance of _raw: never a parent)
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
        self._a = None
        self._g = None

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
        if tracing[0]:
            record_guard("<", self, other, result)
        return result

    def __le__(self, other: Any) -> bool:
        result = self.data <= (other.data if isinstance(other, Value) else other)
        if tracing[0]:
            record_guard("<=", self, other, result)
        return result

    def __gt__(self, other: Any) -> bool:
        result = self.data > (other.data if isinstance(other, Value) else other)
        if tracing[0]:
            record_guard(">", self, other, result)
        return result

    def __ge__(self, other: Any) -> bool:
        result = self.data >= (other.data if isinstance(other, Value) else other)
        if tracing[0]:
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
    def _error_context(op: Op, xs: tuple) -> str:
        return f", at {describe_call(op.name, xs)}"

    @staticmethod
    def _call(op: Op, xs: tuple) -> str:
        return describe_call(op.name, xs)

    @staticmethod
    def _nonfinite(data: float) -> str | None:
        return None if math.isfinite(data) else f"result is {data!r}"

    @staticmethod
    def _locals(op: Op, xs: tuple, out: float, params: tuple, parents: tuple) -> tuple:
        return op.derivative(*xs, out)

    def _store(self, parents: tuple, local_grads: tuple, params: tuple) -> None:
        if self._op.arity == 2:
            self._a, self._b = parents
            self._da, self._db = local_grads
        elif self._op.arity == 1:
            self._a, self._b = parents[0], self._NO_OPERAND
            self._da, self._db = local_grads[0], 0.0
        else:
            self._a, self._b, self._da = parents, self._NO_OPERAND, local_grads

    def _node_locals(self) -> tuple:
        # Parents as Values, so the derivative rule records a graph; constants as numbers,
        # so that e.g. x**3 at x < 0 stays a power with a number exponent.
        a = self._a
        if a.__class__ is tuple:
            args = [p.data if p.__class__ is not float and p._op is CONSTANT else p for p in a]
        elif self._op.arity == 1:
            args = [a.data if a._op is CONSTANT else a]
        else:
            args = [p if p.__class__ is float or p._op is not CONSTANT else p.data
                    for p in (a, self._b)]  # fmt: skip
        op = self._op
        try:
            return op.node_derivative(*args, self)
        except TypeError as error:
            if op.user_defined:
                raise NotImplementedError(
                    f"primitive {op.name!r}: its derivative cannot be differentiated again "
                    f"(create_graph): write it with Value operations such as x.exp() "
                    f"instead of math functions ({error})"
                ) from None
            raise

    @staticmethod
    def _constant_leaf(raw: float, owner: Value | None = None, local: Any = None) -> Value:
        node = _new(Value)
        node.data = raw
        # Until now no pass gave it a gradient; one would have added upstream * local to 0.
        if owner is None or Value._grad_is_unset(owner.grad):
            node.grad = 0.0
        else:
            node.grad = 0.0 + owner.grad * local
        node.label = ""
        node.scope = _modes.scope
        node._op = CONSTANT
        node._a = None
        node._g = None
        return node

    @staticmethod
    def _constant(g: Any) -> Value:
        return g if isinstance(g, Value) else Value._constant_leaf(_as_float(g))

    @staticmethod
    def _grad_is_unset(g: Any) -> bool:
        return g.__class__ is float and g == 0.0  # a fresh or zeroed Value's grad

    def _seed(self, grad: Any) -> float:
        return _as_float(grad, "backward: grad")

    @staticmethod
    def _finite(g: Any) -> bool:
        return math.isfinite(g if g.__class__ is float else g.data)

    # backward() adds each gradient to .grad inside the pass, as soon as it is final (a
    # float is added, never changed in place): no second loop over the nodes.
    _adds_inline = True

    def _grad_before_pass(self) -> Any:
        return self.grad

    def _show_grad(self, before: Any, total: Any) -> None:
        self.grad = before + total

    @staticmethod
    def _zeros() -> float:
        return 0.0

    @staticmethod
    def _jvp(local: Any, tangent: Any) -> Any:
        return local * tangent  # a scalar's Jacobian is its local derivative

    @staticmethod
    def _owned(g: Any) -> Any:
        return g  # a float is immutable: nothing to copy


Value._kind = Value


# --- the generated methods ------------------------------------------------------------
# The templates take a row's code where the braces are. Error wording, modes, scopes and
# every operand but a Value or a float belong to the machinery (apply, record, op_error).

_BINARY = """
def method(self, other):
{operands}
    try:
        out = {forward}
        da = {da}
        db = {db}
    except (ArithmeticError, ValueError) as error:
        raise op_error(OP, Value, (a, b), error) from None
    if entered:
        scope = current().fast
        if scope is None:
            return record(Value, OP, out, ({first}, {second}), (a, b), (), (da, db))
    else:
        scope = ()
    node = new(Value)
    node.data = out
    node.grad = 0.0
    node.label = ""
    node.scope = scope
    node._op = OP
    node._a = {first}
    node._b = {second}
    node._da = da
    node._db = db
    node._g = None
    return node
"""

# How the two operands are read: ``x * y`` (self on the left; a Value or a float on the
# right), and the reflected ``2 * x`` (x.__rmul__(2.0): a float on the left).
_OPERANDS = """
    if other.__class__ is Value:
        b = other.data
    elif other.__class__ is float:
        b = other
    else:
        return apply(OP, (self, other), (), Value)
    a = self.data"""
_REFLECTED_OPERANDS = """
    if other.__class__ is not float:
        return apply(OP, (other, self), (), Value)
    a = other
    b = self.data"""

_UNARY = """
def method(self):
    x = self.data
    try:
        out = {forward}
        dx = {dx}
    except (ArithmeticError, ValueError) as error:
        raise op_error(OP, Value, (x,), error) from None
    if entered:
        scope = current().fast
        if scope is None:
            return record(Value, OP, out, (self,), (x,), (), (dx,))
    else:
        scope = ()
    node = new(Value)
    node.data = out
    node.grad = 0.0
    node.label = ""
    node.scope = scope
    node._op = OP
    node._a = self
    node._b = NO_OPERAND
    node._da = dx
    node._db = 0.0
    node._g = None
    return node
"""


def _generated(template: str, op: Op, **code: str) -> Any:
    namespace = {
        **FLOAT_FUNCTIONS,
        "Value": Value,
        "OP": op,
        "apply": apply,
        "record": record,
        "op_error": op_error,
        "entered": entered,
        "current": current,
        "new": _new,
        "NO_OPERAND": Value._NO_OPERAND,
    }
    exec(compile(template.format(**code), f"<Value {op.name}>", "exec"), namespace)  # noqa: S102
    return namespace["method"]


def _general(op: Op, reflected: bool = False) -> Any:
    if op.arity == 1:
        return lambda self: apply(op, (self,), (), Value)
    if reflected:
        return lambda self, other: apply(op, (other, self), (), Value)
    return lambda self, other: apply(op, (self, other), (), Value)


def _install(op: Op) -> None:
    """Give Value the methods of a row: generated fast paths, or the general path for a row
    that is not code or that checks its operands first (``**``)."""
    fast = op.forward_code is not None and op.check is None
    if op.arity == 2:
        forward, reflected = op.methods
        da, db = op.derivative_code or ("", "")
        code = {"forward": op.forward_code, "da": da, "db": db}
        straight = {"operands": _OPERANDS, "first": "self", "second": "other"}
        swapped = {"operands": _REFLECTED_OPERANDS, "first": "other", "second": "self"}
        methods = {
            forward: _generated(_BINARY, op, **code, **straight) if fast else _general(op),
            reflected: (_generated(_BINARY, op, **code, **swapped) if fast else _general(op, True)),
        }
    elif op.arity == 1:
        method = (
            _generated(_UNARY, op, forward=op.forward_code, dx=op.derivative_code[0])
            if fast
            else _general(op)
        )
        methods = dict.fromkeys(op.methods, method)
    else:
        return
    for name, method in methods.items():
        method.__name__ = method.__qualname__ = name
        method.__doc__ = f"The op {op.name!r} (a row of autograd.ops.SCALAR_OPS)."
        setattr(Value, name, method)


def _uninstall(op: Op) -> None:
    for name in op.methods:
        if name in Value.__dict__:
            delattr(Value, name)


SCALAR_OPS.generate(_install, _uninstall)
