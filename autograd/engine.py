"""The graph machinery: topological order, the reverse pass, its steps, accumulation.

It knows nothing about particular ops, nor about floats: a node is anything with
``parents`` (a tuple, in operand order), ``local_grads`` (a tuple aligned with them: the
local derivative d node / d parent, stored at forward time) and ``grad``. The reverse pass
multiplies each node's upstream gradient by each local gradient and adds the product to the
parent: that is the chain rule, and all there is. ``Value`` (floats) and ``Tensor`` (arrays,
whose local gradients may be linear maps that define ``upstream * local``) both run on it.

Accumulation semantics are PyTorch's: ``.grad`` is added to (``+=``), and every pass
propagates only its own contributions, which it tracks in a per-pass table (``pending``),
never the ``.grad`` a node already held. Everything is iterative: no recursion, so depth is
limited by memory, not by Python's recursion limit.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .modes import _modes, enable_grad

_collector_lock = threading.Lock()
_collector_pauses = [0, False]  # passes running in any thread; was gc enabled before them


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the duration of a reverse pass.

    The pass allocates only acyclic objects (floats or arrays, dict entries, stack tuples),
    which reference counting frees, so the collector has nothing to find; but with a large
    graph alive, every collection it triggers walks millions of live nodes: that tripled
    the pass's cost. Nested and concurrent passes share one pause (a counter), and the
    collector's previous state is restored by the last pass to finish.
    """
    with _collector_lock:
        if _collector_pauses[0] == 0:
            _collector_pauses[1] = gc.isenabled()
            gc.disable()
        _collector_pauses[0] += 1
    try:
        yield
    finally:
        with _collector_lock:
            _collector_pauses[0] -= 1
            if _collector_pauses[0] == 0 and _collector_pauses[1]:
                gc.enable()


def topological_order(root: Node) -> list[Node]:
    """Every node reachable from ``root``, each after all of its parents; ``root`` last.

    An iterative depth-first search with an explicit stack of parent iterators.

    >>> from autograd import Value
    >>> a = Value(2.0, "a"); b = a * a; c = b + a
    >>> [n.label or n.op for n in topological_order(c)]
    ['a', '*', '+']
    """
    order: list[Node] = []
    visited = {root}
    stack = [(root, iter(root.parents))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if parent not in visited:
                visited.add(parent)
                if parent.parents:
                    stack.append((parent, iter(parent.parents)))
                    break
                order.append(parent)  # a leaf is finished as soon as it is seen
        else:
            stack.pop()
            order.append(node)
    return order


def _anomaly(node: Node, parent: Node, contribution: Any) -> FloatingPointError:
    inputs = ", ".join(repr(p.data) for p in node.parents)
    which = f"its input {parent.label!r}" if parent.label else "an input"
    return FloatingPointError(
        f"{node.op}: gradient flowing to {which} is {contribution!r} (not finite), "
        f"at {node.op}({inputs}) = {node.data!r}"
    )


class Node:
    """Base class of graph nodes (``Value``, ``Tensor``): the reverse pass lives here.

    Subclasses define the slots ``data grad label _op parents local_grads`` and:
    ``_seed(grad)`` (turn the user's seed into a gradient of the node's kind),
    ``_grad_is_unset(g)`` (no pass has written ``g`` yet: a create_graph gradient then
    replaces it rather than adding to it, so it is exactly the graph of its contributions,
    with no ``0 + ...`` node in front), ``_owned(g)`` (a leaf's first gradient as an object
    no other node shares: a leaf's ``.grad`` is the user's, accumulated in place and updated
    in place by optimizers), ``is_constant``, ``_cleared_grad`` (what ``zero_grad``
    stores), ``_is_finite(g)``, ``_constant(g)`` (wrap a seed as a leaf for
    ``create_graph``) and ``_differentiable_locals()`` (the local gradients recomputed as
    nodes, for ``create_graph``).
    """

    __slots__ = ()

    @staticmethod
    def _owned(g: Any) -> Any:
        return g  # immutable gradients (floats) need nothing

    @property
    def op(self) -> str:
        """The op's name (``"+"``, ``"tanh"``, ...), ``""`` for a leaf."""
        return self._op.name

    # --- the reverse pass ---------------------------------------------------------------

    def backward(self, grad: Any = 1.0, create_graph: bool = False) -> None:
        """Accumulate d self / d node into ``node.grad`` for every node reachable from self.

        Calling it twice without ``zero_grad()`` doubles every gradient, as in PyTorch.
        With ``create_graph=True`` every ``.grad`` becomes a node with a graph of its own,
        so it can be differentiated again.

        >>> from autograd import Value
        >>> x = Value(3.0); y = x * x; y.backward(); x.grad
        6.0
        """
        seed = self._seed(grad)
        if create_graph:
            with enable_grad():
                pending = _propagate(self, self._constant(seed), create_graph=True)
                for node, g in pending.items():
                    old = node.grad
                    node.grad = g if node._grad_is_unset(old) else old + g
            return
        with _collector_paused():
            self._reverse_pass(seed)

    def _reverse_pass(self, seed: Any) -> None:
        check = _modes.anomaly
        old = self.grad
        self.grad = seed if old is None else old + seed
        pending = {self: seed}  # pass-local upstream gradients of the non-leaf nodes
        for node in reversed(topological_order(self)):
            parents = node.parents
            if not parents:
                continue
            upstream = pending.pop(node)
            for parent, local in zip(parents, node.local_grads):
                contribution = upstream * local
                if check and not node._is_finite(contribution):
                    raise _anomaly(node, parent, contribution)
                old = parent.grad
                if parent.parents:
                    parent.grad = contribution if old is None else old + contribution
                    old = pending.get(parent)
                    pending[parent] = contribution if old is None else old + contribution
                elif old is None:  # a Tensor leaf's first gradient (a Value's starts at 0.0)
                    parent.grad = parent._owned(contribution)
                else:  # a leaf accumulates in place, as in PyTorch (a float just rebinds)
                    old += contribution
                    parent.grad = old

    def backward_steps(self, grad: Any = 1.0) -> Iterator[Step]:
        """The reverse pass of ``backward()``, one ``Step`` per node, in the order it visits.

        When a step is yielded its node's upstream gradient is final and the step's
        contributions are already in its parents' ``.grad``. Exhausting the generator leaves
        the same gradients as ``backward()``.

        >>> from autograd import Value
        >>> a = Value(3.0, "a"); b = Value(2.0, "b"); c = a * b; c.label = "c"
        >>> for step in c.backward_steps(): print(step)
        dc/dc = 1.0 (the seed)
        dc/da += dc/dc * ∂c/∂a = 1.0 * 2.0 = 2.0
        dc/db += dc/dc * ∂c/∂b = 1.0 * 3.0 = 3.0
        dc/db = 3.0 (a leaf: nothing to propagate)
        dc/da = 2.0 (a leaf: nothing to propagate)
        """
        seed = self._seed(grad)
        order = topological_order(self)
        names = _Names(self, order)
        old = self.grad
        self.grad = seed if old is None else old + seed
        pending = {self: seed}  # pass-local upstream gradients, leaves included
        for node in reversed(order):
            upstream = pending.pop(node)
            edges = []
            for parent, local in zip(node.parents, node.local_grads):
                contribution = upstream * local
                if _modes.anomaly and not node._is_finite(contribution):
                    raise _anomaly(node, parent, contribution)
                old = parent.grad
                if parent.parents:
                    parent.grad = contribution if old is None else old + contribution
                elif old is None:
                    parent.grad = parent._owned(contribution)
                else:
                    old += contribution
                    parent.grad = old
                old = pending.get(parent)
                pending[parent] = contribution if old is None else old + contribution
                edges.append((parent, local, contribution))
            yield Step(node, upstream, tuple(edges), names, node is self)

    def zero_grad(self) -> None:
        """Reset ``.grad`` on every node reachable from self (0.0 for Values)."""
        for node in topological_order(self):
            node.grad = node._cleared_grad


def _propagate(root: Node, seed: Any, create_graph: bool) -> dict[Node, Any]:
    """One reverse pass that writes no ``.grad``: d root / d node for every reachable node.

    With ``create_graph`` the local gradients are recomputed as nodes (``Op.derivative`` on
    the parents), so the results carry graphs; the caller enables recording.
    This is what the functional API (``grad``, ``hessian``) builds on.
    """
    pending = {root: seed}
    for node in reversed(topological_order(root)):
        upstream = pending[node]
        if not node.parents:
            continue
        try:
            locals_ = node._differentiable_locals() if create_graph else node.local_grads
            for parent, local in zip(node.parents, locals_):
                contribution = upstream * local
                if _modes.anomaly and not node._is_finite(contribution):
                    raise _anomaly(node, parent, contribution)
                old = pending.get(parent)
                pending[parent] = contribution if old is None else old + contribution
        except FloatingPointError as error:
            if str(error).startswith(f"{node.op}:"):
                raise
            # Under create_graph the gradient is computed by recorded ops, so detect_anomaly
            # fires inside one of them ('*', say): name the node being differentiated.
            raise FloatingPointError(
                f"{node.op}: gradient is not finite while differentiating "
                f"{node.op}({', '.join(repr(p.data) for p in node.parents)}) ({error})"
            ) from None
    return pending


class _Names:
    """Readable names for a pass's nodes: the label, a constant's value, else ``v<k>``."""

    def __init__(self, root: Node, order: list[Node]) -> None:
        self.root = root.label or "L"
        self._index = {node: k for k, node in enumerate(reversed(order))}

    def __call__(self, node: Node) -> str:
        if node.label or self._index[node] == 0:
            return node.label or self.root
        if not node.parents and node.is_constant:
            return _fmt(node.data)
        return f"v{self._index[node]}"


def _fmt(x: Any) -> str:
    data = x.data if isinstance(x, Node) else x  # not ndarray.data (a memoryview)
    try:
        return repr(float(f"{float(data):.6g}"))
    except (TypeError, ValueError):
        shape = getattr(data, "shape", None)
        return f"<array {shape}>" if shape is not None else repr(data)


class Step:
    """One node's turn in the reverse pass: ``node``, ``upstream`` (d L / d node, final) and
    ``edges``: ``(parent, local, contribution)`` with ``contribution = upstream * local``.
    ``str(step)`` spells the chain rule out, one line per edge: ``d`` for the gradients the
    pass accumulates, ``∂`` for the local derivative stored on the edge."""

    __slots__ = ("node", "upstream", "edges", "_names", "_is_root")

    def __init__(self, node: Node, upstream: Any, edges: tuple, names: _Names, is_root: bool):
        self.node = node
        self.upstream = upstream
        self.edges = edges
        self._names = names
        self._is_root = is_root

    def __str__(self) -> str:
        name, root = self._names, self._names.root
        me = name(self.node)
        lines = []
        if self._is_root:
            lines.append(f"d{root}/d{me} = {_fmt(self.upstream)} (the seed)")
        for parent, local, contribution in self.edges:
            p = name(parent)
            lines.append(
                f"d{root}/d{p} += d{root}/d{me} * ∂{me}/∂{p} = "
                f"{_fmt(self.upstream)} * {_fmt(local)} = {_fmt(contribution)}"
            )
        if not self.edges and not self._is_root:
            lines.append(f"d{root}/d{me} = {_fmt(self.upstream)} (a leaf: nothing to propagate)")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"Step(node={self._names(self.node)}, upstream={_fmt(self.upstream)})"
