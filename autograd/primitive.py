"""``primitive``: a user-defined op that the engine treats like a built-in one.

A primitive is a row (``ops.Op``) with one joint derivative, applied through the machinery's
one general path (``engine.apply``) to Values or, when its functions work elementwise on
arrays (``np.log1p``, ``np.exp``), to Tensors.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .engine import Node, apply, kind_of
from .modes import no_grad
from .ops import Op
from .value import Value


def _local_float(name: str, r: object) -> float:
    if r.__class__ is float:
        return r
    if isinstance(r, Value):
        return r.data
    if isinstance(r, (int, float, np.integer, np.floating, np.bool_)):  # bools: a step
        return float(r)
    if isinstance(r, np.ndarray) and r.shape == () and r.dtype.kind in "iuf":
        return float(r)
    raise TypeError(
        f"primitive {name!r}: its derivative must return numbers, one per input, got "
        f"{type(r).__name__}: {r!r}"
    )


def _local_array(name: str, r: object) -> np.ndarray:
    a = np.asarray(r.data if isinstance(r, Node) else r)
    if a.dtype.kind not in "biuf":
        raise TypeError(
            f"primitive {name!r}: its derivative must return arrays of numbers, one per "
            f"input, got {type(r).__name__}: {r!r}"
        )
    return a.astype(np.float64)


def primitive(
    name: str,
    forward: Callable[..., float],
    derivative: Callable[..., object],
) -> Callable[..., Node]:
    """Make an op from its forward and its local derivative(s).

    ``forward(*xs) -> float`` works on plain floats; ``derivative(*xs, out)`` returns the
    local derivatives d out / d x_i (a tuple, or a bare float for one input). Under
    ``backward(create_graph=True)`` the derivative is called with Values, so write it with
    arithmetic and Value methods (``(-x).exp()``) if you want higher derivatives (at forward
    time such a derivative is run on constant Values); one that calls ``math`` functions
    works to first order and raises ``NotImplementedError`` naming the primitive under
    ``create_graph``. Written with numpy functions that work elementwise, it applies to
    Tensors too: the derivative then returns the elementwise partials, broadcastable to the
    output, and the engine sums each back to its operand's shape.

    >>> import math
    >>> softplus = primitive("softplus", lambda x: math.log1p(math.exp(x)),
    ...                      lambda x, out: 1 / (1 + math.exp(-x)))
    >>> from autograd import Value
    >>> x = Value(0.0); y = softplus(x); y.backward()
    >>> y.op, round(y.data, 4), x.grad
    ('softplus', 0.6931, 0.5)
    """
    if not isinstance(name, str) or not name:
        raise TypeError("primitive: name must be a non-empty str")
    if not callable(forward) or not callable(derivative):
        raise TypeError(f"primitive {name!r}: forward and derivative must be callable")

    # A derivative written with Value methods (``(-out).exp()``) is what create_graph needs,
    # but at forward time it is called with floats, which have no such methods. The first
    # AttributeError on floats switches this primitive to calling it on constant Values
    # (recording nothing) and reading their data: slower, and only for such derivatives.
    on_values = [False]

    def derivative_on_values(*args: float) -> tuple:
        result = no_grad().run(derivative, *(Value(a) for a in args))
        result = result if isinstance(result, (tuple, list)) else (result,)
        return tuple(r.data if isinstance(r, Value) else r for r in result)

    def local_grads(*args: object) -> tuple:
        floats = all(a.__class__ is float for a in args)
        if on_values[0] and floats:
            result = derivative_on_values(*args)
        else:
            try:
                result = derivative(*args)
            except AttributeError:
                if not floats:
                    raise
                on_values[0] = True
                result = derivative_on_values(*args)
        result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
        if len(result) != len(args) - 1:  # args are the inputs and out
            # A silent zip would drop or ignore derivatives: wrong gradients, no error.
            raise ValueError(
                f"derivative returned {len(result)} value(s) for {len(args) - 1} input(s); "
                f"it must return one local derivative per input"
            )
        if floats:  # at forward time on Values: numbers, stored as floats
            return tuple(_local_float(name, r) for r in result)
        if not any(isinstance(a, Node) for a in args):  # at forward time on Tensors
            return tuple(_local_array(name, r) for r in result)
        return result  # under create_graph: nodes

    def rule(*xs: object) -> tuple:
        out = forward(*xs)
        return out, local_grads(*xs, out)

    op = Op(name, rule, derivative=local_grads, user_defined=True)
    op.forward = forward

    def apply_primitive(*args: object) -> Node:
        if not args:
            raise TypeError(f"{name}: needs at least one input")
        kind = Value if not any(isinstance(a, Node) for a in args) else kind_of(args, op)
        return apply(op, args, (), kind)

    apply_primitive.__name__ = apply_primitive.__qualname__ = name
    apply_primitive.__doc__ = f"The primitive {name!r} (made with autograd.primitive)."
    apply_primitive.op = op  # type: ignore[attr-defined]
    return apply_primitive
