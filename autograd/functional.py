"""The functional API: ``grad``, ``value_and_grad`` and ``hessian``, as in JAX / HIPS autograd.

They run one reverse pass that writes no ``.grad`` (``engine._propagate``), so nesting is
safe: ``grad(grad(f))(x)`` is the second derivative. Called with plain numbers (or arrays),
the gradient is a float (an array); called with a node, which is what an enclosing ``grad``
passes in, it is a node that carries a graph, so the enclosing ``grad`` can differentiate it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .engine import Node, _propagate
from .modes import enable_grad
from .value import Value


def _leaf(x: Any) -> Node:
    if isinstance(x, Node):
        return x
    if isinstance(x, (np.ndarray, list, tuple)):
        from .tensor import Tensor  # arrays run on the Tensor engine

        return Tensor(x)
    return Value(x)


def _argnums(argnums: int | Sequence[int], nargs: int, fname: str) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for i in nums:
        if not isinstance(i, int) or not -nargs <= i < nargs:
            raise ValueError(f"{fname}: argnums {argnums!r} out of range for {nargs} argument(s)")
    return tuple(i % nargs for i in nums)


def _evaluate(f: Callable[..., Any], argnums: Any, args: tuple, fname: str):
    nums = _argnums(argnums, len(args), fname)
    args_ = list(args)
    nested = False
    leaves = []
    for i in nums:
        nested = nested or isinstance(args_[i], Node)
        args_[i] = _leaf(args_[i])
        leaves.append(args_[i])
    out = f(*args_)
    if not isinstance(out, Node):
        raise TypeError(
            f"{fname}: f must return a Value (or a one-element Tensor), got {type(out).__name__}"
        )
    if nested:
        # Inside an enclosing grad: gradients are nodes with graphs of their own.
        with enable_grad():
            pending = _propagate(out, out._constant(out._seed(1.0)), create_graph=True)
        grads = [pending.get(leaf) or leaf._constant(leaf._zeros()) for leaf in leaves]
        value = out
    else:
        pending = _propagate(out, out._seed(1.0), create_graph=False)
        grads = [pending.get(leaf, leaf._zeros()) for leaf in leaves]
        value = out.data
    result = grads[0] if isinstance(argnums, int) else tuple(grads)
    return value, result


def grad(f: Callable[..., Any], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """The function giving d f / d argument(s) ``argnums``; nestable.

    >>> import math
    >>> d_sin = grad(lambda x: x.sin())
    >>> d_sin(0.0), grad(grad(lambda x: x.sin()))(0.5) == -math.sin(0.5)
    (1.0, True)
    >>> grad(lambda x, y: x * y, argnums=(0, 1))(2.0, 5.0)
    (5.0, 2.0)
    """

    def gradient(*args: Any) -> Any:
        return _evaluate(f, argnums, args, "grad")[1]

    gradient.__name__ = f"grad({getattr(f, '__name__', 'f')})"
    return gradient


def value_and_grad(
    f: Callable[..., Any], argnums: int | Sequence[int] = 0
) -> Callable[..., tuple[Any, Any]]:
    """The function giving ``(f(*args), d f / d argument(s))`` in one pass.

    >>> value_and_grad(lambda x: x ** 3)(2.0)
    (8.0, 12.0)
    """

    def value_and_gradient(*args: Any) -> tuple[Any, Any]:
        return _evaluate(f, argnums, args, "value_and_grad")

    value_and_gradient.__name__ = f"value_and_grad({getattr(f, '__name__', 'f')})"
    return value_and_gradient


def hessian(f: Callable[..., Any]) -> Callable[..., list[list[float]]]:
    """For ``f`` of n scalar arguments: the n x n matrix of second derivatives (nested list).

    One create_graph pass gives the n first derivatives as graphs; one plain pass over each
    gives a row.

    >>> hessian(lambda x, y: x * x * y)(1.0, 2.0)
    [[4.0, 2.0], [2.0, 0.0]]
    """

    def hessian_at(*args: float) -> list[list[float]]:
        leaves = [Value(a) for a in args]
        out = f(*leaves)
        if not isinstance(out, Value):
            raise TypeError(f"hessian: f must return a Value, got {type(out).__name__}")
        with enable_grad():
            firsts = _propagate(out, out._constant(1.0), create_graph=True)
        rows = []
        for leaf in leaves:
            first = firsts.get(leaf)
            if first is None:  # f does not depend on this argument at all
                rows.append([0.0] * len(leaves))
                continue
            seconds = _propagate(first, 1.0, create_graph=False)
            rows.append([float(seconds.get(other, 0.0)) for other in leaves])
        return rows

    hessian_at.__name__ = f"hessian({getattr(f, '__name__', 'f')})"
    return hessian_at
