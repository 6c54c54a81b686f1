"""``gradcheck``: analytic gradients against central finite differences, as PyTorch's.

On a mismatch it goes one level deeper and checks every node's stored local gradients
against a finite difference of that node's own op, so the error names the op that is wrong
(a custom ``primitive`` with a bad derivative, say), or the kink that explains the mismatch.
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .engine import Node, topological_order
from .modes import no_grad
from .value import Value


class GradcheckError(AssertionError):
    """Raised by ``gradcheck``: one row per failing element. ``.node`` is the first node
    whose local gradient disagrees with a finite difference of its op, or the op at its kink
    that explains the mismatch (then ``.kink`` is True), or None when every node's local
    gradients are right."""

    def __init__(
        self,
        message: str,
        node: Node | None = None,
        rows: list | None = None,
        kink: bool = False,
    ):
        super().__init__(message)
        self.node = node
        self.rows = rows or []
        self.kink = kink


def _is_number(x: Any) -> bool:
    return isinstance(x, (numbers.Real, np.bool_)) and not isinstance(x, np.ndarray)


def _node_name(node: Node) -> str:
    return f"op {node.op!r}" + (f" labelled {node.label!r}" if node.label else " (no label)")


def _numeric_local(op: Any, xs: list[float], k: int, eps: float) -> float | None:
    """Central difference of one op in its k-th input; None where the op is undefined."""
    plus, minus = list(xs), list(xs)
    plus[k] += eps
    minus[k] -= eps
    try:
        return (op.rule(*plus)[0] - op.rule(*minus)[0]) / (2 * eps)
    except (ArithmeticError, ValueError):
        return None


def _wrong_tensor_local(node: Node, eps: float, atol: float, rtol: float) -> str | None:
    """Check a Tensor node's local gradients, which may be linear maps, through their use:
    with a fixed upstream u, ``u * local`` must be the finite difference of
    ``sum(u * op(parents))`` in every element of that parent. A sentence on the first
    disagreement, or None."""
    op = node._op
    xs = [np.array(p.data, dtype=np.float64) for p in node.parents]
    u = np.random.default_rng(0).uniform(0.5, 1.5, size=np.shape(node.data))

    def weighted(arrays: list[np.ndarray]) -> float:
        return float(np.sum(u * op.rule(*arrays, *node._args)[0]))

    with np.errstate(all="ignore"):
        for k, local in enumerate(node.local_grads):
            analytic = u * local
            if analytic is None:  # toward a constant: no gradient is computed
                continue
            analytic = np.asarray(analytic, dtype=np.float64)
            for index in np.ndindex(xs[k].shape):
                plus, minus = list(xs), list(xs)
                plus[k], minus[k] = xs[k].copy(), xs[k].copy()
                plus[k][index] += eps
                minus[k][index] -= eps
                numeric = (weighted(plus) - weighted(minus)) / (2 * eps)
                a = float(analytic[index])
                if not math.isfinite(numeric) or abs(a - numeric) <= atol + rtol * abs(numeric):
                    continue
                return (
                    f"input {k}, element {index or 0}: u * local = {a!r}, finite difference "
                    f"{numeric!r} (u: fixed upstream weights)"
                )
    return None


def _first_wrong_node(root: Node, eps: float, atol: float, rtol: float):
    """The first node (in forward order) whose stored local gradients disagree with finite
    differences of its op, a sentence about it and whether a kink explains it; (None, "",
    False) when all agree."""
    kink_node = None
    for node in topological_order(root):
        if not node.parents:
            continue
        op = node._op
        xs = [p.data for p in node.parents]
        if not isinstance(node, Value):
            at_kink = op.kink is not None and op.kink(*xs, *node._args, within=eps)
            if at_kink and kink_node is None:
                kink_node = node
            wrong = _wrong_tensor_local(node, eps, atol, rtol)
            if wrong is None:
                continue
            if at_kink:
                return (
                    node,
                    (
                        f"{_node_name(node)} is at (or within eps of) its kink (relu/abs at 0, "
                        f"clip at a bound or tied maxima): its derivative there is a convention "
                        f"or the finite difference straddles it; {wrong}"
                    ),
                    True,
                )
            return (
                node,
                f"first node with a wrong local gradient: {_node_name(node)}, {wrong}",
                False,
            )
        at_kink = op.kink is not None and op.kink(*xs, within=eps)
        if at_kink and kink_node is None:
            kink_node = node
        for k, local in enumerate(node.local_grads):
            numeric = _numeric_local(op, xs, k, eps)
            if numeric is None or abs(local - numeric) <= atol + rtol * abs(numeric):
                continue
            if at_kink:
                return (
                    node,
                    (
                        f"{_node_name(node)} is at its kink or within eps={eps} of it (input "
                        f"{xs}): the finite difference straddles the kink ({numeric!r}) while "
                        f"the stored derivative is {local!r} (at the kink itself, a convention)"
                    ),
                    True,
                )
            return (
                node,
                (
                    f"first node with a wrong local gradient: {_node_name(node)}, input {k} "
                    f"at {xs}: stored {local!r}, finite difference {numeric!r}"
                ),
                False,
            )
    if kink_node is not None:
        return (
            kink_node,
            (
                f"no local gradient is wrong, but {_node_name(kink_node)} is at (or within "
                f"eps of) its kink "
                f"(input {[p.data for p in kink_node.parents]}), where finite differences and "
                f"the derivative's convention may disagree"
            ),
            True,
        )
    return None, "", False


def _argument_names(f: Callable, count: int) -> list[str]:
    """Names for ``f``'s ``count`` arguments: its parameters' (``x``, ``y`` for ``def f(x,
    y)``), so that the Values it gets, their graphs and the messages read as ``f`` does;
    ``x0``, ``x1``, ... when its signature does not name them all (``*args``, a builtin)."""
    try:
        parameters = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):  # no signature to read
        parameters = []
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    names = []
    for parameter in parameters[:count]:
        if parameter.kind not in positional:
            break
        names.append(parameter.name)
    return names if len(names) == count else [f"x{i}" for i in range(count)]


def gradcheck(
    f: Callable[..., Node],
    inputs: Sequence[Any],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Check ``backward()``'s gradient of ``f`` at ``inputs`` against finite differences.

    ``inputs`` are numbers (``f`` gets Values) or arrays (``f`` gets Tensors). An element
    passes where ``|analytic - numeric| <= atol + rtol * |numeric|``, numeric being the
    central difference ``(f(x + eps) - f(x - eps)) / (2 eps)``. The Values or Tensors ``f``
    gets are labelled with its parameters' names (``x0``, ``x1``, ... for ``*args``).

    >>> gradcheck(lambda x, y: (x * y).tanh() + x.exp(), [0.3, -1.2])
    True
    """
    inputs = list(inputs)
    if not inputs:
        raise ValueError("gradcheck: needs at least one input")
    names = _argument_names(f, len(inputs))
    if all(_is_number(x) for x in inputs):
        points = [np.array(float(x)) for x in inputs]

        def make(i: int, a: np.ndarray) -> Node:
            return Value(float(a), names[i])

    elif not any(_is_number(x) for x in inputs):
        from .tensor import Tensor

        points = [np.array(x, dtype=np.float64) for x in inputs]

        def make(i: int, a: np.ndarray) -> Node:
            return Tensor(a, label=names[i])

    else:
        raise TypeError("gradcheck: inputs must be all numbers or all arrays, not a mix")

    def evaluate(arrays: list[np.ndarray]) -> float:
        out = no_grad().run(lambda: f(*(make(i, a) for i, a in enumerate(arrays))))
        return float(np.asarray(out.data).reshape(-1)[0])

    leaves = [make(i, a) for i, a in enumerate(points)]
    out = f(*leaves)
    if not isinstance(out, Node) or np.size(out.data) != 1:
        raise TypeError(f"gradcheck: f must return a scalar node, got {type(out).__name__}")
    out.backward()

    rows = []
    for i, (leaf, point) in enumerate(zip(leaves, points)):
        analytic = np.zeros(point.shape) if leaf.grad is None else np.asarray(leaf.grad, float)
        for index in np.ndindex(point.shape):
            plus, minus = point.copy(), point.copy()
            plus[index] += eps
            minus[index] -= eps
            arrays_plus = points[:i] + [plus] + points[i + 1 :]
            arrays_minus = points[:i] + [minus] + points[i + 1 :]
            numeric = (evaluate(arrays_plus) - evaluate(arrays_minus)) / (2 * eps)
            a = float(analytic[index])
            error = abs(a - numeric)
            if not error <= atol + rtol * abs(numeric):  # also catches nan
                relative = error / abs(numeric) if numeric else math.inf
                rows.append((i, index if index else 0, a, numeric, error, relative))
    if not rows:
        return True
    if not raise_exception:
        return False
    node, why, kink = _first_wrong_node(out, eps, atol, rtol)
    table = "\n".join(
        f"  input {i} ({names[i]}), element {index}: analytic {a!r}, numeric {n!r}, "
        f"abs error {e:.3g}, rel error {r:.3g}"
        for i, index, a, n, e, r in rows
    )
    message = (
        f"gradcheck failed for {len(rows)} element(s) "
        f"(|analytic - numeric| > atol + rtol * |numeric|, atol={atol}, rtol={rtol}):\n"
        f"{table}"
    )
    if why:
        message += f"\n{why}"
    raise GradcheckError(message, node=node, rows=rows, kink=kink)
