"""The functions the op rules call, for every kind of operand.

A rule (``ops.py``) is written once and runs on three kinds of operands: Python floats (a
``Value``'s data), numpy arrays (a ``Tensor``'s data) and nodes (under
``backward(create_graph=True)``, where the local derivatives are themselves recorded). Each
function here does its one job for each kind:

- floats: ``math``, with a domain error raised as a ``ValueError`` (``ZeroDivisionError``,
  ``OverflowError``) with a short reason; the engine adds the op's name and the values;
- arrays: numpy, whose domain errors give nan or inf with a ``RuntimeWarning``;
- nodes: the node's own method, so the call is recorded in the graph.

>>> exp(0.0), float(exp(np.zeros(1))[0])
(1.0, 1.0)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

inf = math.inf

# exp(x) overflows a float for x above log(max float).
_EXP_LIMIT = math.log(1.7976931348623157e308)


# The functions that refuse some floats (a domain error, an overflow); the others never raise.
CAN_REFUSE = frozenset({"divide", "power", "exp", "log", "sqrt"})


def _is_node(x: Any) -> bool:
    return hasattr(x, "backward")  # (functions test for a float first: it is the hot path)


def divide(a: Any, b: Any) -> Any:
    """a / b; a float divided by zero is a ``ZeroDivisionError``."""
    if b.__class__ is float and b == 0.0:
        raise ZeroDivisionError("division by zero")
    return a / b


def ratio(a: Any, b: Any) -> Any:
    """a / b where b may be 0: ±inf (nan for 0 / 0), as IEEE and numpy give, for floats too.
    For a local derivative that is infinite at a point (sqrt's at 0, as in PyTorch)."""
    b_data = b.data if b.__class__ is not float and _is_node(b) else b
    if b_data.__class__ is float and b_data == 0.0:  # a float, or a Value (create_graph)
        a_data = a.data if _is_node(a) else a
        return math.copysign(inf, a_data) * math.copysign(1.0, b_data) if a_data != 0 else math.nan
    return a / b  # arrays: inf or nan with numpy's RuntimeWarning, as every Tensor op


def power(a: Any, b: Any) -> Any:
    """a ** b; on floats 0 ** negative, a negative base with a fractional exponent and an
    overflow are errors (numpy gives inf or nan)."""
    if a.__class__ is float and b.__class__ is float:
        if a == 0 and b < 0:
            raise ZeroDivisionError("0 cannot be raised to a negative power")
        if a < 0 and a > -inf and math.isfinite(b) and not b.is_integer():
            raise ValueError("a negative base needs an integer exponent")
        try:
            return a**b
        except OverflowError:
            raise OverflowError("result overflows a float") from None
    return a**b


def power_base_slope(a: Any, b: Any, out: Any) -> Any:
    """d (a ** b) / d a = b * a ** (b - 1). Where b == 0 it is 0 (PyTorch masks it), and at
    a == 0 it is 0 for b >= 1 and infinite for 0 < b < 1."""
    if a.__class__ is float and b.__class__ is float:
        if a != 0 or b >= 1:
            try:
                return b * a ** (b - 1)
            except OverflowError:  # 1e-10 ** -30 is finite, its slope is not (b * out / a)
                return b * out / a
        return 0.0 if b <= 0 else inf
    if (a.data if _is_node(a) else a).__class__ is float:  # Values under create_graph
        a_data = a.data if _is_node(a) else a
        if a_data != 0 or (b.data if _is_node(b) else b) >= 1:
            return b * a ** (b - 1)
        return 0.0 if (b.data if _is_node(b) else b) <= 0 else inf
    if _is_node(a) or _is_node(b):  # Tensors under create_graph: 0 where b == 0 (PyTorch)
        zero = np.asarray(b.data if _is_node(b) else b) == 0
        return b * a ** (b - 1 + zero * 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        if np.ndim(b) == 0 and b == 2:
            return 2.0 * a
        return b * a ** (b - 1 + (np.asarray(b) == 0))


def power_exponent_slope(a: Any, out: Any) -> Any:
    """d (a ** b) / d b = log(a) * a ** b, for a > 0; 0 where a == 0 (PyTorch) and nan for
    a < 0 (only a constant exponent meets a negative base: its slope is never used)."""
    if a.__class__ is float:
        return math.log(a) * out if a > 0 else (0.0 if a <= 0 else math.nan)
    if _is_node(a):  # a Value exponent needs a > 0 (ops' check); a number one ignores this
        return a.log() * out if np.all(a.data > 0) else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(np.where(a == 0, 1.0, a)) * out


def exp(x: Any) -> Any:
    """e ** x; on floats, an overflow (x > 709.78) is an ``OverflowError``."""
    if x.__class__ is float:
        if _EXP_LIMIT < x < inf:  # inf data propagates: e ** inf is inf
            raise OverflowError("result overflows a float (exp(x) for x > 709.78)")
        return math.exp(x)
    return x.exp() if _is_node(x) else np.exp(x)


def log(x: Any) -> Any:
    """The natural logarithm; on floats, x <= 0 is a ``ValueError``."""
    if x.__class__ is float:
        if x <= 0:
            raise ValueError("input must be > 0")
        return math.log(x)
    return x.log() if _is_node(x) else np.log(x)


def sqrt(x: Any) -> Any:
    """The square root; on floats, x < 0 is a ``ValueError``."""
    if x.__class__ is float:
        if x < 0:
            raise ValueError("input must be >= 0")
        return math.sqrt(x)
    return x.sqrt() if _is_node(x) else np.sqrt(x)


def tanh(x: Any) -> Any:
    """The hyperbolic tangent."""
    if x.__class__ is float:
        return math.tanh(x)
    return x.tanh() if _is_node(x) else np.tanh(x)


def sigmoid(x: Any) -> Any:
    """1 / (1 + e ** -x), computed so that exp never overflows: 1 / (1 + e^-|x|) for x >= 0
    and e^-|x| / (1 + e^-|x|) below."""
    if x.__class__ is float:
        if x >= 0:
            return 1.0 / (1.0 + math.exp(-x))
        z = math.exp(x)
        return z / (1.0 + z)
    if _is_node(x):
        return x.sigmoid()
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0, z) / (1.0 + z)


def relu(x: Any) -> Any:
    """max(x, 0); nan stays nan."""
    if x.__class__ is float:
        return 0.0 if x <= 0 else x
    return x.relu() if _is_node(x) else np.maximum(x, 0.0)


def sin(x: Any) -> Any:
    """The sine; nan at ±inf, as IEEE says (``math.sin`` raises there)."""
    if x.__class__ is float:
        return math.sin(x) if -inf < x < inf else math.nan
    return x.sin() if _is_node(x) else np.sin(x)


def cos(x: Any) -> Any:
    """The cosine; nan at ±inf."""
    if x.__class__ is float:
        return math.cos(x) if -inf < x < inf else math.nan
    return x.cos() if _is_node(x) else np.cos(x)


def absolute(x: Any) -> Any:
    """|x|."""
    if x.__class__ is float:
        return abs(x)
    return x.abs() if _is_node(x) else np.abs(x)


def step(x: Any) -> Any:
    """1.0 where x > 0, else 0.0 (also at 0 and at nan, as PyTorch's relu gradient). A mask
    read from the data: its own derivative is 0 almost everywhere, so it is never recorded."""
    x = x.data if x.__class__ is not float and _is_node(x) else x
    if x.__class__ is float:
        return 1.0 if x > 0 else 0.0
    return np.greater(x, 0.0).astype(np.float64)


def sign(x: Any) -> Any:
    """-1.0, 0.0 or 1.0 by the sign of x (0 at 0: abs's gradient there, as PyTorch). A mask
    read from the data, never recorded."""
    x = x.data if x.__class__ is not float and _is_node(x) else x
    if x.__class__ is float:
        return 1.0 if x > 0 else (-1.0 if x < 0 else 0.0)
    return np.sign(x)


def near_zero(x: Any, within: float = 0.0) -> bool:
    """Whether x (any element of it) is within ``within`` of 0: relu's and abs's kink, where
    their derivative is a convention."""
    return bool(np.any(np.abs(x) <= within))
