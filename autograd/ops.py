"""The op table: every scalar primitive's forward and local derivative, side by side.

This module is the only place that knows what an op computes. The graph machinery
(``engine.py``) only multiplies upstream gradients by the local gradients stored on each
node, so a new op is one row here.

Each row is ``Op(name, forward, derivative, kink)``:

- ``forward(*xs) -> float`` on plain floats. It raises ``ValueError`` (or
  ``ZeroDivisionError`` / ``OverflowError``) with a short reason when an input is outside the
  op's domain; the caller adds the op's name and the offending values to the message.
- ``derivative(*xs, out) -> tuple``: the local derivatives d out / d x_i, one per input.
  It is written once and serves two callers: at forward time with floats (the numbers stored
  in ``node.local_grads``), and under ``backward(create_graph=True)`` with the parents as
  Values (constants as floats) and ``out`` as the node itself, so that the result carries a
  graph and can be differentiated again. Rules therefore use only arithmetic, ``<`` / ``>``
  (Value compares by data) and the dispatching helpers below; never ``==`` (identity on
  Values) and never a ``math`` function directly.
- ``kink(*xs, within=0.0) -> bool``: true where the op is not differentiable and the
  derivative is a convention (relu and abs at 0), or within ``within`` of such a point.
  ``gradcheck`` asks with ``within=eps``: a finite difference whose window straddles the
  kink disagrees with any derivative, so the mismatch is explained, not blamed on the op.
"""

from __future__ import annotations

import math
from collections.abc import Callable

INF = math.inf


class Op:
    """One row of the table. ``name`` is what ``node.op`` shows."""

    __slots__ = ("name", "forward", "derivative", "kink", "user_defined")

    def __init__(
        self,
        name: str,
        forward: Callable[..., float],
        derivative: Callable[..., tuple],
        kink: Callable[..., bool] | None = None,
        user_defined: bool = False,
    ) -> None:
        self.name = name
        self.forward = forward
        self.derivative = derivative
        self.kink = kink
        self.user_defined = user_defined

    def __repr__(self) -> str:
        return f"Op({self.name!r})"


# Leaves have no op. Constants (numbers an op wrapped) are leaves too; they have their own
# marker so that create_graph can pass them to derivative rules as plain numbers.
LEAF = Op("", None, None)  # type: ignore[arg-type]
CONSTANT = Op("", None, None)  # type: ignore[arg-type]


def _periodic(f: Callable[[float], float]) -> Callable[[float], float]:
    """sin or cos, nan at ±inf as IEEE says (math.sin raises there): inf data propagates."""

    def forward(x: float) -> float:
        return f(x) if -INF < x < INF else math.nan

    return forward


_sin_float, _cos_float = _periodic(math.sin), _periodic(math.cos)


# Dispatching helpers: a float goes to math, a node to its own (recorded) method.
def _cos(x):
    return _cos_float(x) if x.__class__ is float else x.cos()


def _sin(x):
    return _sin_float(x) if x.__class__ is float else x.sin()


def _log(x):
    return math.log(x) if x.__class__ is float else x.log()


# --- forwards with their domains -------------------------------------------------------


def _div(a: float, b: float) -> float:
    if b == 0:
        raise ZeroDivisionError("division by zero")
    return a / b


def _pow(a: float, b: float) -> float:
    if a == 0 and b < 0:
        raise ZeroDivisionError("0 cannot be raised to a negative power")
    if a < 0 and a > -INF and math.isfinite(b) and not float(b).is_integer():
        raise ValueError("a negative base needs an integer exponent")
    try:
        return a**b
    except OverflowError:
        raise OverflowError("result overflows a float") from None


def _pow_derivative(a, b, out):
    # d/da = b * a**(b-1). At a = 0 that is 0 for b >= 1 (and b = 1 gives 1), 0 for b = 0
    # (PyTorch masks it) and infinite for 0 < b < 1. ``a > 0 or a < 0`` is ``a != 0``
    # spelled so that it also works when a is a Value.
    if a > 0 or a < 0 or b >= 1:
        try:
            d_base = b * a ** (b - 1)
        except OverflowError:  # 1e-10 ** -30 is finite, its derivative is not: inf, as torch
            d_base = b * out / a  # (a != 0 here: 0 ** (b - 1) with b >= 1 cannot overflow)
    else:
        d_base = 0.0 if b <= 0 else INF
    # d/db = log(a) * a**b, defined for a > 0 only. A Value exponent requires a > 0 (checked
    # where the op is applied), so the 0 here only ever lands on a constant exponent.
    # (``not a <= 0`` rather than ``a > 0`` so that a nan base gives a nan gradient.)
    d_exp = _log(a) * out if not a <= 0 else 0.0
    return d_base, d_exp


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        raise OverflowError("result overflows a float (exp(x) for x > 709.78)") from None


def _log_forward(x: float) -> float:
    if x <= 0:
        raise ValueError("input must be > 0")
    return math.log(x)


def _sqrt(x: float) -> float:
    if x < 0:
        raise ValueError("input must be >= 0")
    return math.sqrt(x)


def _sigmoid(x: float) -> float:
    # Two branches so that exp never overflows: 1/(1+e^-x) for x >= 0, e^x/(1+e^x) below.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _relu(x: float) -> float:
    return 0.0 if x <= 0 else x  # nan stays nan


def _sign(x):
    return 1.0 if x > 0 else (-1.0 if x < 0 else 0.0)


def _at_zero(x, *rest, within: float = 0.0) -> bool:
    return abs(x) <= within


# --- the table -------------------------------------------------------------------------
#           name       forward                         derivative: d out / d inputs
ADD = Op("+", lambda a, b: a + b, lambda a, b, out: (1.0, 1.0))
SUB = Op("-", lambda a, b: a - b, lambda a, b, out: (1.0, -1.0))
MUL = Op("*", lambda a, b: a * b, lambda a, b, out: (b, a))
DIV = Op("/", _div, lambda a, b, out: (1.0 / b, -out / b))
POW = Op("**", _pow, _pow_derivative)
NEG = Op("neg", lambda x: -x, lambda x, out: (-1.0,))
EXP = Op("exp", _exp, lambda x, out: (out,))
LOG = Op("log", _log_forward, lambda x, out: (1.0 / x,))
TANH = Op("tanh", math.tanh, lambda x, out: (1.0 - out * out,))
SIGMOID = Op("sigmoid", _sigmoid, lambda x, out: (out * (1.0 - out),))
RELU = Op("relu", _relu, lambda x, out: (1.0 if x > 0 else 0.0,), kink=_at_zero)
SQRT = Op("sqrt", _sqrt, lambda x, out: (0.5 / out if out > 0 else INF,))
SIN = Op("sin", _sin_float, lambda x, out: (_cos(x),))
COS = Op("cos", _cos_float, lambda x, out: (-_sin(x),))
ABS = Op("abs", abs, lambda x, out: (_sign(x),), kink=_at_zero)

BINARY_SYMBOLS = frozenset({"+", "-", "*", "/", "**"})


def describe_call(name: str, xs: tuple) -> str:
    """How an op application reads in an error message: ``1.0 / 0.0`` or ``log(-1.0)``."""
    if name in BINARY_SYMBOLS and len(xs) == 2:
        return f"{xs[0]!r} {name} {xs[1]!r}"
    return f"{name}({', '.join(repr(x) for x in xs)})"
