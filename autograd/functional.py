"""The functional API: ``grad``, ``value_and_grad`` and ``hessian``, as in JAX / HIPS autograd.

They run one reverse pass that writes no ``.grad`` (``engine._propagate``), so nesting is
safe: ``grad(grad(f))(x)`` is the second derivative. Called with plain numbers (or arrays),
the gradient is a float (an array); called with a node, which is what an enclosing ``grad``
passes in, it is a node that carries a graph, so the enclosing ``grad`` can differentiate it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .engine import Node, _propagate
from .modes import _modes, enable_grad
from .value import Value

_nesting = threading.local()  # .depth: how many grad evaluations of f enclose this call


def _recorded(f: Callable[..., Any], *args: Any) -> Any:
    """``f(*args)`` with recording on even inside ``no_grad``: ``grad(f)`` is a function
    transform, whose result must not depend on the mode around it (as ``torch.func.grad``).
    ``gradcheck`` evaluates its ``f`` under ``no_grad``, so ``gradcheck(grad(f), ...)``
    relies on this. The mode is only switched when it is off: the usual case keeps the ops'
    fast path and costs one flag test (no context manager)."""
    if _modes.grad_enabled:
        return f(*args)
    with enable_grad():
        return f(*args)


def _with_leaves(f: Callable[..., Any], args: list, nums: tuple, leaves: list, kwargs) -> Any:
    for i in nums:
        args[i] = _leaf(args[i])
        leaves.append(args[i])
    return f(*args, **kwargs)


def _leaf(x: Any) -> Node:
    if isinstance(x, Node):
        # A node of its own for this differentiation, computed from x so that an enclosing
        # grad still sees through it. Differentiating with respect to x itself would also
        # count the paths where f uses x captured from the enclosing scope (perturbation
        # confusion: grad(lambda x: x * grad(lambda y: x + y)(x)) would give 2, not 1).
        return x + 0.0
    if isinstance(x, (np.ndarray, list, tuple)):
        from .tensor import Tensor  # arrays run on the Tensor engine

        return Tensor(x)
    return Value(x)


def _argnums(argnums: int | Sequence[int], nargs: int, fname: str) -> tuple[int, ...]:
    if isinstance(argnums, int):
        nums: tuple = (argnums,)
    elif isinstance(argnums, (tuple, list)):
        nums = tuple(argnums)
    else:
        raise TypeError(
            f"{fname}: argnums must be an int or a tuple of ints, got {type(argnums).__name__}"
        )
    for i in nums:
        if not isinstance(i, int) or not -nargs <= i < nargs:
            raise ValueError(f"{fname}: argnums {argnums!r} out of range for {nargs} argument(s)")
    return tuple(i % nargs for i in nums)


def _evaluate(f: Callable[..., Any], argnums: Any, args: tuple, kwargs: dict, fname: str):
    nums = _argnums(argnums, len(args), fname)
    depth = getattr(_nesting, "depth", 0)
    # Inside an enclosing grad (or given nodes), the gradient must be a node: f may use the
    # enclosing grad's variables even when this call's own arguments are plain numbers.
    nested = depth > 0 or any(isinstance(args[i], Node) for i in nums)
    args_ = list(args)
    leaves = []
    _nesting.depth = depth + 1
    try:
        out = _recorded(_with_leaves, f, args_, nums, leaves, kwargs)
    finally:
        _nesting.depth = depth
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
        # _owned: an array of the argument's shape that nothing else shares (numpy gives
        # 0-d results as scalars, and reshape-like maps give views).
        grads = [
            leaf._owned(pending[leaf]) if leaf in pending else leaf._zeros() for leaf in leaves
        ]
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

    Keyword arguments are passed to ``f`` unchanged and never differentiated, as in JAX:

    >>> grad(lambda x, scale=1.0: x * x * scale)(3.0, scale=0.5)
    3.0
    """

    def gradient(*args: Any, **kwargs: Any) -> Any:
        return _evaluate(f, argnums, args, kwargs, "grad")[1]

    gradient.__name__ = f"grad({getattr(f, '__name__', 'f')})"
    return gradient


def value_and_grad(
    f: Callable[..., Any], argnums: int | Sequence[int] = 0
) -> Callable[..., tuple[Any, Any]]:
    """The function giving ``(f(*args), d f / d argument(s))`` in one pass.

    >>> value_and_grad(lambda x: x ** 3)(2.0)
    (8.0, 12.0)
    """

    def value_and_gradient(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        return _evaluate(f, argnums, args, kwargs, "value_and_grad")

    value_and_gradient.__name__ = f"value_and_grad({getattr(f, '__name__', 'f')})"
    return value_and_gradient


def hessian(f: Callable[..., Any]) -> Callable[..., Any]:
    """The matrix of second derivatives of ``f``.

    For ``f`` of n scalar arguments: an n x n nested list of floats. For ``f`` of one array
    argument of size n: an array of shape ``x.shape + x.shape``. One create_graph pass gives
    the first derivatives as graphs; one plain pass over them per input element gives a row.

    >>> hessian(lambda x, y: x * x * y)(1.0, 2.0)
    [[4.0, 2.0], [2.0, 0.0]]
    >>> hessian(lambda v: (v * v * v).sum())(np.array([1.0, 2.0])).tolist()
    [[6.0, 0.0], [0.0, 12.0]]
    """

    def hessian_at(*args: Any) -> Any:
        if len(args) == 1 and isinstance(args[0], (np.ndarray, list, tuple)):
            return _array_hessian(f, args[0])
        leaves = [Value(a) for a in args]
        out = _recorded(f, *leaves)
        if not isinstance(out, Value):
            raise TypeError(f"hessian: f must return a Value, got {type(out).__name__}")
        with enable_grad():
            firsts = _propagate(out, out._constant(1.0), create_graph=True)
        rows = []
        for leaf in leaves:
            first = firsts.get(leaf)
            if not isinstance(first, Node):  # f does not depend on this argument at all
                rows.append([0.0] * len(leaves))
                continue
            seconds = _propagate(first, 1.0)
            rows.append([float(seconds.get(other, 0.0)) for other in leaves])
        return rows

    hessian_at.__name__ = f"hessian({getattr(f, '__name__', 'f')})"
    return hessian_at


def _array_hessian(f: Callable[..., Any], x: Any) -> np.ndarray:
    from .tensor import Tensor

    leaf = Tensor(x)
    out = _recorded(f, leaf)
    if not isinstance(out, Tensor) or out.data.size != 1:
        raise TypeError(
            f"hessian: f must return a one-element Tensor, got {type(out).__name__}"
            + (f" of shape {out.data.shape}" if isinstance(out, Tensor) else "")
        )
    shape = leaf.data.shape
    H = np.zeros(shape + shape)
    with enable_grad():
        first = _propagate(out, out._constant(out._seed(1.0)), create_graph=True).get(leaf)
    if not isinstance(first, Node):
        return H
    for index in np.ndindex(shape):
        seed = np.zeros(shape)
        seed[index] = 1.0
        second = _propagate(first, seed).get(leaf)
        if second is not None:
            H[index] = second
    return H
