"""The functional API: ``grad``, ``value_and_grad``, ``hessian``, ``jvp`` and ``jacobian``, as
in JAX / HIPS autograd.

``grad`` runs one reverse pass that writes no ``.grad`` (``engine.gradients``), so nesting is
safe: ``grad(grad(f))(x)`` is the second derivative. Called with plain numbers (or arrays),
the gradient is a float (an array); called with a node, which is what an enclosing ``grad``
passes in, it is a node that carries a graph, so the enclosing ``grad`` can differentiate it.

``jvp`` is forward mode: one sweep over the recorded graph parents first
(``engine.forward_sweep``), carrying each node's tangent instead of each node's gradient;
it nests the same way. ``jacobian`` builds the whole matrix from either pass: one reverse
pass per output, or one forward sweep per input, and says how many it ran.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .engine import Node, forward_sweep, gradients, joint_order
from .modes import current, enable_grad
from .value import Value, _as_float

_nesting = threading.local()  # .depth: how many grad evaluations of f enclose this call


def _recorded(f: Callable[..., Any], *args: Any) -> Any:
    """``f(*args)`` with recording on even inside ``no_grad``: ``grad(f)`` is a function
    transform, whose result must not depend on the mode around it (as ``torch.func.grad``).
    ``gradcheck`` evaluates its ``f`` under ``no_grad``, so ``gradcheck(grad(f), ...)``
    relies on this. The mode is only switched when it is off: the usual case keeps the ops'
    fast path and costs one flag test (no context manager)."""
    if current().grad_enabled:
        return f(*args)
    return enable_grad().run(f, *args)


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


def _call_on_leaves(f: Callable[..., Any], nums: tuple, args: Sequence, kwargs: dict):
    """``f(*args, **kwargs)`` recorded, with a fresh leaf for each argument in ``nums``:
    ``(out, leaves, nested)``. ``nested`` is True inside an enclosing evaluation (or when
    given nodes): then derivatives must be nodes, since f may use the enclosing variables
    even when this call's own arguments are plain numbers."""
    depth = getattr(_nesting, "depth", 0)
    nested = depth > 0 or any(isinstance(args[i], Node) for i in nums)
    args_ = list(args)
    leaves: list = []
    _nesting.depth = depth + 1
    try:
        out = _recorded(_with_leaves, f, args_, nums, leaves, kwargs)
    finally:
        _nesting.depth = depth
    return out, leaves, nested


def _evaluate(f: Callable[..., Any], argnums: Any, args: tuple, kwargs: dict, fname: str):
    nums = _argnums(argnums, len(args), fname)
    out, leaves, nested = _call_on_leaves(f, nums, args, kwargs)
    if not isinstance(out, Node):
        raise TypeError(
            f"{fname}: f must return a Value (or a one-element Tensor), got {type(out).__name__}"
        )
    if nested:
        # Inside an enclosing grad: gradients are nodes with graphs of their own.
        pending = gradients(out, out._constant(out._seed(1.0)), create_graph=True)
        grads = [pending.get(leaf) or leaf._constant(leaf._zeros()) for leaf in leaves]
        value = out
    else:
        pending = gradients(out, out._seed(1.0), create_graph=False)
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
        firsts = gradients(out, out._constant(1.0), create_graph=True)
        rows = []
        for leaf in leaves:
            first = firsts.get(leaf)
            if not isinstance(first, Node):  # f does not depend on this argument at all
                rows.append([0.0] * len(leaves))
                continue
            seconds = gradients(first, 1.0)
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
    first = gradients(out, out._constant(out._seed(1.0)), create_graph=True).get(leaf)
    if not isinstance(first, Node):
        return H
    for index in np.ndindex(shape):
        seed = np.zeros(shape)
        seed[index] = 1.0
        second = gradients(first, seed).get(leaf)
        if second is not None:
            H[index] = second
    return H


# --- forward mode -----------------------------------------------------------------------


def _is_array(x: Any) -> bool:
    return isinstance(x, (np.ndarray, list, tuple))  # what _leaf makes a Tensor of


def _argument(x: Any, what: str) -> Any:
    """A differentiated argument as a float or a float64 array (a node as it is), or a
    TypeError naming it."""
    from .tensor import _as_array

    if isinstance(x, Node):
        return x
    try:
        return _as_array(x, what, copy=False) if _is_array(x) else _as_float(x, what)
    except TypeError:
        raise TypeError(
            f"{what} must be a number, or an array of numbers for a Tensor argument, "
            f"got {type(x).__name__}: {_brief(x)}"
        ) from None


def _brief(x: Any) -> str:
    shown = repr(x)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _sequence(xs: Any, what: str) -> list:
    if not isinstance(xs, (tuple, list)):
        raise TypeError(
            f"jvp: {what} must be a tuple or list with one entry per argument of f, "
            f"got {type(xs).__name__}: {_brief(xs)} (write ({_brief(xs)},) for one argument)"
        )
    return list(xs)


def _entries(n: int) -> str:
    return f"{n} entry" if n == 1 else f"{n} entries"


def _checked_tangent(primal: Any, tangent: Any, i: int) -> Any:
    """The tangent given for ``primal`` (a float, an array or a node), checked against it:
    a number for a number, an array of the same shape for an array (a node: the same)."""
    from .tensor import Tensor, _as_array

    what = f"jvp: tangents[{i}]"
    is_array = isinstance(primal, (np.ndarray, Tensor))
    shape = np.shape(primal.data if isinstance(primal, Node) else primal)
    if isinstance(tangent, Node):
        if isinstance(tangent, Tensor) != is_array:
            kind = "an array" if is_array else "a number"
            raise TypeError(f"{what} is a {type(tangent).__name__} but primals[{i}] is {kind}")
        given = tangent.data.shape if is_array else ()
    elif is_array:
        tangent = _as_array(tangent, what, copy=True)
        given = tangent.shape
    else:
        if _is_array(tangent) and np.shape(tangent) != ():
            raise ValueError(
                f"{what} has shape {np.shape(tangent)} but primals[{i}] is a number: "
                f"its tangent is a number"
            )
        try:
            return _as_float(tangent, what)
        except TypeError:
            raise TypeError(
                f"{what} must be a number like primals[{i}], got {type(tangent).__name__}: "
                f"{_brief(tangent)}"
            ) from None
    if given != shape:
        raise ValueError(
            f"{what} has shape {given} but primals[{i}] has shape {shape}: a tangent is an "
            f"array of its primal's shape"
        )
    return tangent


def jvp(f: Callable[..., Any], primals: Sequence, tangents: Sequence) -> tuple[Any, Any]:
    """Forward mode: ``(f(*primals), the derivative of f at primals in the direction tangents)``.

    The directional derivative ``sum_i df/dx_i . t_i`` comes from one sweep over f's recorded
    graph, parents first, each node's tangent being the sum of its local derivatives times
    its operands' tangents (Tensor ops apply their Jacobians forwards): no reverse pass.
    ``primals`` and ``tangents`` are tuples (or lists) of the same length, one entry per
    argument of f, every one differentiated: numbers (f gets Values), or arrays (f gets
    Tensors) whose tangents are arrays of the same shape. f returns a Value or a Tensor of
    any shape; the value and the tangent are a float, or arrays of the output's shape.
    Called inside an enclosing ``grad`` (or given nodes) both are nodes with graphs, as
    ``grad``'s results are, so ``grad`` of ``jvp`` works, as does ``jvp`` of ``grad`` (the
    Hessian times a vector).

    >>> jvp(lambda x, y: x * y + x.sin(), (0.0, 3.0), (1.0, 0.0))   # d/dx: y + cos x
    (0.0, 4.0)
    >>> value, tangent = jvp(lambda v: (v * v).sum(), (np.array([1.0, 2.0]),),
    ...                      (np.array([1.0, 1.0]),))
    >>> float(value), float(tangent)                                  # 5, 2*1 + 2*2
    (5.0, 6.0)
    """
    primals = _sequence(primals, "primals")
    tangents = _sequence(tangents, "tangents")
    if len(primals) != len(tangents):
        raise ValueError(
            f"jvp: primals has {_entries(len(primals))} but tangents has "
            f"{_entries(len(tangents))}: give one tangent per primal"
        )
    primals = [_argument(x, f"jvp: primals[{i}]") for i, x in enumerate(primals)]
    seeds = [_checked_tangent(x, t, i) for i, (x, t) in enumerate(zip(primals, tangents))]
    out, leaves, nested = _call_on_leaves(f, tuple(range(len(primals))), primals, {})
    if not isinstance(out, Node):
        raise TypeError(f"jvp: f must return a Value or a Tensor, got {type(out).__name__}")
    start = dict(zip(leaves, seeds))
    if nested or any(isinstance(t, Node) for t in seeds):
        # Inside an enclosing grad: tangents are nodes with graphs of their own.
        sweep = enable_grad().run(forward_sweep, joint_order([out]), start, True)
        tangent = sweep.get(out)
        if not isinstance(tangent, Node):
            tangent = out._constant(out._zeros() if tangent is None else tangent)
        return out, tangent
    tangent = forward_sweep(joint_order([out]), start).get(out)
    # _owned: an array nothing else shares (forward maps may give views of a seed).
    return out.data, out._zeros() if tangent is None else out._owned(tangent)


_JACOBIAN_MODES = ("reverse", "forward")


def jacobian(
    f: Callable[..., Any], argnums: int | Sequence[int] = 0, mode: str = "reverse"
) -> Callable[..., Any]:
    """The function giving the Jacobian of ``f`` with respect to argument(s) ``argnums``.

    For number arguments f returns a Value or a sequence of Values (m outputs) and the
    Jacobian is a nested list of m rows of n floats, n the number of chosen arguments (an
    int ``argnums`` is n = 1, so the smallest Jacobian is ``[[d]]``). For an array argument
    f returns a Tensor and the Jacobian is an array of shape ``out.shape + x.shape`` (a
    tuple of them for a tuple ``argnums``). Other arguments pass through unchanged.

    ``mode="reverse"`` runs one reverse pass per output (element), each giving a row;
    ``mode="forward"`` one forward sweep per input (element), each giving a column (as
    ``jvp`` does). The numbers are the same; the cost is not, and that is the lesson: the
    returned function's ``passes`` attribute is the number of passes its last call ran.

    >>> f = lambda x, y: [x * y, x + y, x - y]
    >>> by_rows, by_columns = jacobian(f, (0, 1)), jacobian(f, (0, 1), mode="forward")
    >>> by_rows(2.0, 3.0), by_rows.passes
    ([[3.0, 2.0], [1.0, 1.0], [1.0, -1.0]], 3)
    >>> by_columns(2.0, 3.0), by_columns.passes
    ([[3.0, 2.0], [1.0, 1.0], [1.0, -1.0]], 2)
    >>> jacobian(lambda v: v * v, mode="forward")(np.array([1.0, 2.0])).tolist()
    [[2.0, 0.0], [0.0, 4.0]]

    The result is floats, so jacobian cannot run inside a function that ``grad`` or ``jvp``
    differentiates (that raises TypeError); use ``jvp`` or ``grad`` there.
    """
    if mode not in _JACOBIAN_MODES:
        raise ValueError(f"jacobian: mode must be 'reverse' or 'forward', got {mode!r}")

    def jacobian_at(*args: Any, **kwargs: Any) -> Any:
        nums = _argnums(argnums, len(args), "jacobian")
        nodes = [i for i in nums if isinstance(args[i], Node)]
        if nodes or getattr(_nesting, "depth", 0) > 0:
            where = (
                f"argument {nodes[0]} is a {type(args[nodes[0]]).__name__}"
                if nodes
                else "called inside a function that grad or jvp is differentiating"
            )
            raise TypeError(
                f"jacobian: {where}; jacobian gives floats, through which no enclosing "
                f"derivative can see: use jvp or grad there, or call jacobian on numbers"
            )
        args_ = list(args)
        for i in nums:
            args_[i] = _argument(args_[i], f"jacobian: argument {i}")
        arrays = [i for i in nums if _is_array(args_[i])]
        if arrays and len(arrays) != len(nums):
            number = next(i for i in nums if i not in arrays)
            raise TypeError(
                f"jacobian: argument {arrays[0]} is an array but argument {number} is a "
                f"number; differentiate numbers (f gets Values) or arrays (Tensors), not both"
            )
        out, leaves, _ = _call_on_leaves(f, nums, args_, kwargs)
        if arrays:
            matrices, passes = _array_jacobian(out, leaves, mode)
            result = matrices[0] if isinstance(argnums, int) else tuple(matrices)
        else:
            result, passes = _scalar_jacobian(out, leaves, mode)
        jacobian_at.passes = passes  # type: ignore[attr-defined]
        return result

    jacobian_at.passes = 0  # type: ignore[attr-defined]
    jacobian_at.__name__ = f"jacobian({getattr(f, '__name__', 'f')})"
    return jacobian_at


def _scalar_jacobian(out: Any, leaves: list, mode: str) -> tuple[list, int]:
    if isinstance(out, Node):
        outputs = [out]
    elif isinstance(out, (tuple, list)):
        outputs = list(out)
    else:
        outputs = None
    if outputs is None or (isinstance(out, Node) and not isinstance(out, Value)):
        raise TypeError(
            f"jacobian: f must return a Value or a sequence of Values (it was given numbers), "
            f"got {type(out).__name__}"
        )
    for k, node in enumerate(outputs):
        if not isinstance(node, Value):
            raise TypeError(
                f"jacobian: output {k} of f is a {type(node).__name__}, not a Value; f must "
                f"return a Value or a sequence of Values"
            )
    passes = 0
    if mode == "reverse":  # one pass per output: a row each
        rows = []
        for node in outputs:
            pending = gradients(node, 1.0)
            passes += 1
            rows.append([float(pending.get(leaf, 0.0)) for leaf in leaves])
        return rows, passes
    order = _joint_order(outputs)
    columns = []
    for leaf in leaves:  # one sweep per input: a column each
        tangents = forward_sweep(order, {leaf: 1.0})
        passes += 1
        columns.append([float(tangents.get(node, 0.0)) for node in outputs])
    return [[column[k] for column in columns] for k in range(len(outputs))], passes


def _array_jacobian(out: Any, leaves: list, mode: str) -> tuple[list, int]:
    from .tensor import Tensor

    if not isinstance(out, Tensor):
        raise TypeError(
            f"jacobian: f must return a Tensor (it was given arrays), got {type(out).__name__}"
        )
    out_shape = out.data.shape
    matrices = [np.zeros(out_shape + leaf.data.shape) for leaf in leaves]
    passes = 0
    if mode == "reverse":  # one pass per output element: d out[index] / d x, for every x
        for index in np.ndindex(out_shape):
            seed = np.zeros(out_shape)
            seed[index] = 1.0
            pending = gradients(out, seed)
            passes += 1
            for matrix, leaf in zip(matrices, leaves):
                g = pending.get(leaf)
                if g is not None:
                    matrix[index] = g
        return matrices, passes
    order = joint_order([out])
    rows = (slice(None),) * len(out_shape)
    for matrix, leaf in zip(matrices, leaves):  # one sweep per input element
        for index in np.ndindex(leaf.data.shape):
            seed = np.zeros(leaf.data.shape)
            seed[index] = 1.0
            tangent = forward_sweep(order, {leaf: seed}).get(out)
            passes += 1
            if tangent is not None:
                matrix[rows + index] = tangent
    return matrices, passes


def _joint_order(roots: list) -> list:
    """Every node reachable from any of ``roots``, each after its parents, each once."""
    return joint_order(roots)
