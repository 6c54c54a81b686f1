"""The graph machinery: applying an op, the topological order, and the reverse pass.

It knows no particular op (they are rules in ``ops.py`` and ``tensor_ops.py``) and little
about the node kinds (``Value`` holds a float, ``Tensor`` an array): what differs between
them is a handful of hooks, listed on ``Node``. From top to bottom:

1. ``Node``: the graph as users read it (``parents``, ``local_grads``) and the three
   entry points of a reverse pass, ``backward``, ``backward_steps`` and ``zero_grad``.
2. ``topological_order``: every node after all of its parents (an iterative depth-first
   search, so the depth of a graph is limited by memory only, never by recursion).
3. ``reverse_pass``: the chain rule. Visiting the nodes in reverse topological order, each
   node's gradient (its *upstream*) is final when it is reached, and each edge to a parent
   adds ``upstream * local`` to the parent's gradient. Everything else builds on it:
   ``backward``, ``backward_steps``, ``grad``/``hessian``, and the code ``trace`` writes.
4. ``apply``: an op is its rule applied to the operands' data; the result becomes a node
   that keeps its operands (its parents) and the local derivatives the rule returned.
   (``Value``'s methods take a shorter road for the common case: ``value.py``.)
5. ``Step``: one node's turn in a pass, and the chain rule as text.

A pass keeps its gradients in a dict of its own and writes ``.grad`` only when it has
computed all of them, so passes in several threads, interrupted passes and half-run
generators never disturb each other or leave anything behind.

How a node stores its graph: ``_a`` and ``_b`` are its operands, ``_da`` and ``_db`` the local
derivatives d node / d operand (``_b`` and ``_db`` are None for one operand; a primitive of
more operands keeps tuples in ``_a`` and ``_da``). Four slots rather than two tuples keep a
node at about 130 bytes instead of 230 (the memory target is 200). A plain number operand
(the ``2`` of ``a * 2``) is kept as the number itself, a *raw constant*, and becomes a constant
leaf node only when someone reads ``.parents``: a node per number would add another 100
bytes to every op that takes one.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from typing import Any

from .modes import current, enable_grad, record_detached
from .ops import CONSTANT, LEAF, Op

_new = object.__new__

# Held only while a finished pass adds its gradients to .grad: a read-modify-write that
# threads must not interleave. Never held across a pass; a forked child gets a fresh one.
_grad_lock = threading.Lock()


def _fresh_lock_after_fork() -> None:
    global _grad_lock
    _grad_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_fresh_lock_after_fork)


class Node:
    """Base class of graph nodes (``Value``, ``Tensor``): the graph and the reverse pass.

    A node kind defines the slots ``data grad label scope _op _a _b _da _db`` and: ``_raw``
    (the class of its raw constant operands: float, ndarray), ``_cleared_grad`` (``.grad``
    before any pass), ``_keeps_params`` (whether nodes keep their op's parameters in
    ``_args``), ``_lift(x, op)`` (a number operand as a raw constant, or TypeError),
    ``_result(data, op)`` (a rule's result as the kind's data), ``_fit(op, operands, out,
    local_grads)`` (the local gradients as stored), ``_constant_leaf(raw)``, ``_error_context(op,
    xs)``, ``_call(op, xs)`` and ``_nonfinite(data)`` (error wording), ``_finite(g)``,
    ``_seed(grad)``, ``_add_to_grad(g)`` (how a finished pass's gradient lands in ``.grad``)
    and ``_jvp(local, tangent)`` (forward mode: a local derivative applied to a tangent).
    """

    __slots__ = ()

    @classmethod
    def _node(
        cls, op: Op, data: Any, operands: tuple, local_grads: tuple, params: tuple, scope: tuple
    ) -> Node:
        """A new node of this kind: ``data`` computed by ``op`` from ``operands`` (none for a
        leaf), with the local derivatives toward them and the op's parameters (Tensors')."""
        node = _new(cls)
        node.data = data
        node.grad = cls._cleared_grad
        node.label = ""
        node.scope = scope
        node._op = op
        if cls._keeps_params:
            node._args = params
        if len(operands) == 2:
            node._a, node._b = operands
            node._da, node._db = local_grads
        elif len(operands) == 1:
            node._a, node._b, node._da, node._db = operands[0], None, local_grads[0], None
        elif operands:  # a primitive of more operands
            node._a, node._b, node._da, node._db = operands, None, local_grads, None
        else:
            node._a = node._b = node._da = node._db = None
        return node

    # --- the graph, as the API reads it ---------------------------------------------------

    @property
    def op(self) -> str:
        """The op's name (``"+"``, ``"tanh"``, ...), ``""`` for a leaf."""
        return self._op.name

    @property
    def is_constant(self) -> bool:
        """True for a constant leaf: a plain number (or array) an op wrapped as its operand,
        like the 2 of ``a + 2``; False for the nodes you make and every computed node."""
        return self._op is CONSTANT

    @property
    def parents(self) -> tuple:
        """The nodes this one was computed from, in operand order (``()`` for a leaf)."""
        a, b = self._a, self._b
        if a is None:
            return ()
        raw = self._raw
        if a.__class__ is tuple:
            if any(p.__class__ is raw for p in a):
                self._a = a = tuple(
                    self._constant_parent(p, local) if p.__class__ is raw else p
                    for p, local in zip(a, self._da)
                )
            return a
        if a.__class__ is raw:
            self._a = a = self._constant_parent(a, self._da)
        if b is None:
            return (a,)
        if b.__class__ is raw:
            self._b = b = self._constant_parent(b, self._db)
        return (a, b)

    @property
    def local_grads(self) -> tuple:
        """The local derivatives d self / d parent, aligned with ``parents``."""
        if self._a is None:
            return ()
        if self._a.__class__ is tuple:
            return self._da
        return (self._da,) if self._b is None else (self._da, self._db)

    def _constant_parent(self, raw: Any, local: Any) -> Node:
        """A raw constant operand made a node, when ``.parents`` is first read. Until now no
        pass gave it a gradient; every pass so far would have given it ``upstream * local``,
        and this node's ``.grad`` is the sum of its upstreams."""
        node = self._constant_leaf(raw)
        node.scope = self.scope
        if node.grad is not None and self.grad.__class__ is float:
            node.grad = 0.0 + self.grad * local  # as a pass adds it to a fresh 0.0
        return node

    # --- the reverse pass -----------------------------------------------------------------

    def backward(self, grad: Any = 1.0, create_graph: bool = False) -> None:
        """Accumulate d self / d node into ``node.grad`` for every node reachable from self.

        Calling it twice without ``zero_grad()`` doubles every gradient, as in PyTorch. All or
        nothing: every gradient is computed before any is added, so a pass that raises (an
        anomaly, an interrupt) leaves every ``.grad`` as it was. With ``create_graph=True``
        every ``.grad`` becomes a node with a graph of its own, so it can be differentiated
        again.

        >>> from autograd import Value
        >>> x = Value(3.0); y = x * x; y.backward(); x.grad
        6.0
        """
        seed = self._seed(grad)
        totals = gradients(self, seed, create_graph)
        with _grad_lock:
            self._add_grads(totals)

    def backward_steps(self, grad: Any = 1.0) -> Iterator[Step]:
        """The reverse pass of ``backward()``, one ``Step`` per node, in the order it visits.

        When a step is yielded its node's upstream gradient is final and the step's
        contributions are already in its parents' ``.grad``. Exhausting the generator leaves
        the gradients ``backward()`` leaves; several generators over one graph, interleaved,
        each add their own contributions.

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
        order = topological_order(self)  # constants as nodes, as the steps show them
        names = _Names(self, order)
        with _grad_lock:
            self._add_to_grad(seed)
        for node, upstream, edges in reverse_pass(self, seed, order=order):
            with _grad_lock:
                for parent, _, contribution in edges:
                    parent._add_to_grad(contribution)
            yield Step(node, upstream, edges, names, node is self)

    @staticmethod
    def _add_grads(totals: dict) -> None:
        """Add a finished pass's gradients to ``.grad`` (the caller holds the lock)."""
        for node, g in totals.items():
            node._add_to_grad(g)

    def zero_grad(self) -> None:
        """Reset ``.grad`` on every node reachable from self (0.0 for Values)."""
        for node in topological_order(self):
            node.grad = node._cleared_grad


# --- the topological order -------------------------------------------------------------


def operand_nodes(node: Node) -> tuple:
    """The operands of ``node`` that are nodes, in operand order, raw constants left out
    (they take no gradient until they are made nodes): the graph the reverse pass walks."""
    return tuple(parent for parent, _ in local_edges(node))


def topological_order(
    root: Node,
    max_nodes: int | None = None,
    parents: Callable[[Node], Iterable[Node]] | None = None,
) -> list[Node]:
    """Every node reachable from ``root``, each after all of its parents; ``root`` last.

    A depth-first search with an explicit stack: a node met for the first time is pushed back
    under a marker and its parents, the first operand on top (so its side comes first in the
    order); when the marker comes off the stack, all its parents are done, and so is it. The
    order depends only on the graph's shape and operand order, so numbering nodes by it gives
    the same numbers every time the same graph is built. More than ``max_nodes`` nodes raises
    ``ValueError`` saying how many there are (counting at most 100,000 of them).

    ``parents`` says what a node's parents are. By default, ``.parents`` (the graph as a user
    sees it, number operands made constant nodes). The reverse pass walks the operands as
    stored, numbers left out (``parents=operand_nodes``); a trace adds the operands of ops it
    ran under no_grad.

    >>> from autograd import Value
    >>> a = Value(2.0, "a"); b = a * a; c = b + a
    >>> [n.label or n.op for n in topological_order(c)]
    ['a', '*', '+']
    """
    if max_nodes is not None and (
        isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1
    ):
        raise ValueError(f"max_nodes must be a positive int, got {max_nodes!r}")
    return joint_order([root], max_nodes, parents or parent_nodes)


def parent_nodes(node: Node) -> tuple:
    """``node.parents``: every operand a node, raw constants made nodes first."""
    return node.parents


_PARENTS_DONE = object()  # on the search's stack: the node below it has all its parents in order


def joint_order(
    roots: list[Node],
    max_nodes: int | None = None,
    parents: Callable[[Node], Iterable[Node]] = operand_nodes,
) -> list[Node]:
    """``topological_order`` of several roots at once, each node once: a later root's search
    stops at the nodes an earlier one reached (outputs that share a graph cost its size once).
    """
    order: list[Node] = []
    visited: set[Node] = set()
    # The reverse pass's own view (operand_nodes) is read straight from the four operand
    # slots, with no function call per node (bench/results/engine.md has what it buys).
    stored = parents is operand_nodes
    raw = roots[0]._raw if roots else None
    seen, finish = visited.add, order.append
    for root in roots:
        stack: list = [root]
        push, pop = stack.append, stack.pop
        while stack:
            node = pop()
            if node is _PARENTS_DONE:
                finish(pop())
                continue
            if node in visited:
                continue
            seen(node)
            if max_nodes is not None and len(visited) > max_nodes:
                _too_many(root, max_nodes, parents)
            if not stored:
                push(node)
                push(_PARENTS_DONE)
                stack.extend(reversed(parents(node)))  # the first operand on top
                continue
            a = node._a
            if a is None:  # a leaf is done as soon as it is met
                finish(node)
                continue
            push(node)
            push(_PARENTS_DONE)
            if a.__class__ is tuple:  # a primitive's operands
                stack.extend(p for p in reversed(a) if p.__class__ is not raw)
                continue
            b = node._b
            if b is not None and b.__class__ is not raw and b not in visited:
                push(b)
            if a.__class__ is not raw and a not in visited:
                push(a)  # on top: the first operand's side comes first
    return order


def _too_many(root: Node, limit: int, parents: Callable, cap: int = 100_000) -> None:
    """Refuse a graph of more than ``limit`` nodes, counting at most ``cap`` of them."""
    seen = {root}
    stack = [root]
    while stack and len(seen) <= cap:
        for parent in parents(stack.pop()):
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    total = len(seen)
    size = f"more than {cap:,}" if total > cap else f"{total:,}"
    hint = "a larger max_nodes" if total > cap else f"max_nodes={total}"
    raise ValueError(
        f"the graph has {size} nodes, more than max_nodes={limit}; pass {hint} to allow them"
    )


# --- the reverse pass ------------------------------------------------------------------


def reverse_pass(
    root: Node,
    seed: Any,
    create_graph: bool = False,
    order: list[Node] | None = None,
    steps: bool = True,
) -> Generator[tuple[Node, Any, list[tuple[Node, Any, Any]]], None, dict[Node, Any]]:
    """The chain rule, node by node: yields ``(node, upstream, edges)`` for every node
    reachable from ``root``, in reverse topological order, and returns every node's gradient.

    ``upstream`` is d root / d node, final when the node is reached: every node that uses it
    came first. ``edges`` are ``(parent, local, contribution)`` for each operand that is a
    node, with ``contribution = upstream * local``, already added to the parent's gradient
    in this pass's own dict (``grads``, which the generator returns when it ends). Nothing
    outside the pass is written. With ``steps=False`` it yields nothing (``gradients`` wants
    only the result). With ``create_graph`` the local derivatives are recomputed as nodes (the
    rules applied to the parents), so the gradients carry graphs; the caller enables
    recording. Under ``detect_anomaly`` a gradient that is not finite raises
    ``FloatingPointError`` at the node it flows from.

    >>> from autograd import Value
    >>> x = Value(3.0, "x"); y = x * x
    >>> [(n.label or n.op, g) for n, g, _ in reverse_pass(y, 1.0)]
    [('*', 1.0), ('x', 6.0)]
    """
    anomaly = current().anomaly
    if order is None:
        order = joint_order([root])
    raw = root._raw
    grads = {root: seed}
    for node in reversed(order):
        upstream = grads.get(node)
        if upstream is None:  # a Tensor constant: no gradient flows to it
            continue
        a, b = node._a, node._b
        if a is None:  # a leaf: nothing to propagate
            if steps:
                yield node, upstream, []
            continue
        if create_graph or a.__class__ is tuple:
            edges_in = local_edges(node, create_graph)
        elif b is None:  # one operand; two below (the common cases, read from the slots)
            edges_in = ((a, node._da),)
        else:
            edges_in = ((a, node._da), (b, node._db))
        edges = [] if steps else None
        try:
            for parent, local in edges_in:
                if parent.__class__ is raw:  # a number operand takes no gradient
                    continue
                contribution = upstream * local
                if contribution is None:  # toward a Tensor constant: no gradient is computed
                    continue
                if anomaly and not node._finite(contribution):
                    raise _anomaly(node, parent, contribution)
                total = grads.get(parent)
                grads[parent] = contribution if total is None else total + contribution
                if steps:
                    edges.append((parent, local, contribution))
        except FloatingPointError as error:
            if create_graph and not str(error).startswith(f"{node.op}:"):
                raise _anomaly_in_recorded_gradient(node, error) from None
            raise
        if steps:
            yield node, upstream, edges
    return grads


def local_edges(node: Node, create_graph: bool = False) -> Iterable[tuple[Node, Any]]:
    """``(parent, local)`` for each operand of ``node`` that is a node: the edges the chain
    rule runs along (a raw number operand takes no gradient). With ``create_graph`` the locals
    are recorded nodes."""
    a = node._a
    if a is None:
        return ()
    if create_graph:
        return zip(operand_nodes(node), _local_grads_as_nodes(node))
    raw = node._raw
    if a.__class__ is tuple:  # a primitive's operands
        return [(p, local) for p, local in zip(a, node._da) if p.__class__ is not raw]
    b = node._b
    if b is None:
        return () if a.__class__ is raw else ((a, node._da),)
    if b.__class__ is raw:
        return ((a, node._da),)
    if a.__class__ is raw:
        return ((b, node._db),)
    return ((a, node._da), (b, node._db))


def _local_grads_as_nodes(node: Node) -> tuple:
    """The local derivatives toward ``node``'s node operands, computed again by its rule on
    the parent nodes (constants as their data), so that they are recorded."""
    op = node._op
    raw = node._raw
    a = node._a
    operands = a if a.__class__ is tuple else (a,) if node._b is None else (a, node._b)
    args = [p if p.__class__ is raw or p._op is not CONSTANT else p.data for p in operands]
    params = getattr(node, "_args", ())
    try:
        if op.derivative is not None:  # a primitive: its derivative, on nodes
            local_grads = op.derivative(*args, node)
        else:
            local_grads = op.rule(*args, *params)[1]
        local_grads = node._fit(op, args, node.data, tuple(local_grads))
    except (TypeError, AttributeError) as error:
        if op.user_defined:
            raise NotImplementedError(
                f"primitive {op.name!r}: its derivative cannot be differentiated again "
                f"(create_graph): write it with {type(node).__name__} operations such as "
                f"x.exp() instead of math or numpy functions ({error})"
            ) from None
        raise
    return tuple(local for p, local in zip(operands, local_grads) if p.__class__ is not raw)


def gradients(root: Node, seed: Any, create_graph: bool = False) -> dict[Node, Any]:
    """d root / d node for every node reachable from ``root`` (the upstreams of one reverse
    pass), writing no ``.grad``: what ``backward`` adds and the functional API returns.

    >>> from autograd import Value
    >>> x = Value(3.0); y = x * x + x
    >>> gradients(y, 1.0)[x]
    7.0
    """
    if create_graph:  # the local derivatives are recorded ops: recording on, wherever we are
        return enable_grad().run(_run, reverse_pass(root, root._constant(seed), True, steps=False))
    return _run(reverse_pass(root, seed, steps=False))


def _run(generator: Generator) -> Any:
    """Run a generator that yields nothing to its end; what it returns."""
    try:
        next(generator)
    except StopIteration as done:
        return done.value
    raise RuntimeError("the pass yielded a step where none was asked for")


def forward_sweep(order: list[Node], tangents: dict, create_graph: bool = False) -> dict:
    """Forward mode: the tangent (d node / d the seeded direction) of every node of
    ``order``, filled into ``tangents`` and returned.

    ``order`` lists nodes parents first; ``tangents`` holds the seeds (a seeded node keeps its
    seed). Every other node's tangent is the sum, over its operands that have one, of the
    local derivative applied to the operand's tangent (``node._jvp(local, tangent)``: a
    product for floats, the Jacobian-vector product of a Tensor's linear map). A node none of
    whose operands has a tangent gets none, which means zero and costs nothing.

    >>> from autograd import Value
    >>> x = Value(3.0); y = x * x + x
    >>> forward_sweep(topological_order(y), {x: 1.0})[y]    # dy/dx = 2x + 1
    7.0
    """
    anomaly = current().anomaly
    for node in order:
        if node in tangents:
            continue
        total = None
        for parent, local in local_edges(node, create_graph):
            tangent = tangents.get(parent)
            if tangent is None:
                continue
            contribution = node._jvp(local, tangent)
            if anomaly and not node._finite(contribution):
                raise _anomaly(node, parent, contribution, "tangent flowing from")
            total = contribution if total is None else total + contribution
        if total is not None:
            tangents[node] = total
    return tangents


def _anomaly(
    node: Node, parent: Any, contribution: Any, flow: str = "gradient flowing to"
) -> FloatingPointError:
    inputs = ", ".join(repr(p.data) for p in node.parents)
    label = getattr(parent, "label", "")
    which = f"its input {label!r}" if label else "an input"
    return FloatingPointError(
        f"{node.op}: {flow} {which} is {contribution!r} (not finite), "
        f"at {node.op}({inputs}) = {node.data!r}"
    )


def _anomaly_in_recorded_gradient(node: Node, error: FloatingPointError) -> FloatingPointError:
    # Under create_graph a gradient is computed by recorded ops, so detect_anomaly fires
    # inside one of them ('*', say): name the node being differentiated instead.
    inputs = ", ".join(repr(p.data) for p in node.parents)
    return FloatingPointError(
        f"{node.op}: gradient is not finite while differentiating {node.op}({inputs}) ({error})"
    )


# --- applying an op: the one general path ----------------------------------------------


def kind_of(operands: tuple, op: Op) -> type:
    """The node kind (Value or Tensor) of an op's node operands; TypeError if they mix."""
    kind = None
    for x in operands:
        if isinstance(x, Node):
            if kind is None:
                kind = x._kind
            elif x._kind is not kind:
                raise TypeError(
                    f"{op.name}: cannot mix {kind.__name__} and {x._kind.__name__} in one op"
                )
    if kind is None:
        raise TypeError(f"{op.name}: needs a Value or Tensor operand")
    return kind


def apply(op: Op, operands: tuple, params: tuple = (), kind: type | None = None) -> Node:
    """Apply a row to its operands (nodes, plain numbers or arrays) and parameters: lift the
    numbers to raw constants, run the rule on the data, word a domain error, and record the
    result as the modes say (under ``no_grad`` a leaf, under ``detect_anomaly`` refused if
    not finite, in a ``name_scope`` scoped).

    >>> from autograd import Value
    >>> from autograd.ops import ELEMENTWISE_OPS
    >>> apply(ELEMENTWISE_OPS["*"], (Value(3.0), 2)).data
    6.0
    """
    kind = kind or kind_of(operands, op)
    raw = kind._raw
    lifted = []
    xs = []
    for x in operands:
        if isinstance(x, Node):
            if x._kind is not kind:
                raise TypeError(
                    f"{op.name}: cannot mix {kind.__name__} and {x._kind.__name__} in one op"
                )
            xs.append(x.data)
        else:
            if x.__class__ is not raw:
                x = kind._lift(x, op)
            xs.append(x)
        lifted.append(x)
    operands, xs = tuple(lifted), tuple(xs)
    if op.check is not None:
        op.check(*operands)
    modes = current()
    try:
        out, local_grads = op.rule(*xs, *params)
    except FloatingPointError:  # detect_anomaly's own error, already worded
        raise
    except (ArithmeticError, ValueError, IndexError, TypeError) as error:
        raise op_error(op, kind, xs, error) from None
    out = kind._result(out, op)
    if modes.anomaly:
        bad = kind._nonfinite(out)
        if bad:
            raise FloatingPointError(f"{op.name}: {bad}, at {kind._call(op, xs)}")
    if not modes.grad_enabled:
        node = kind._node(LEAF, out, (), (), params, modes.scope)
        record_detached(node, op, operands, params)  # a trace replays it (no gradient)
        return node
    local_grads = kind._fit(op, operands, out, tuple(local_grads))
    return kind._node(op, out, operands, local_grads, params, modes.scope)


def op_error(op: Op, kind: type, xs: tuple, error: Exception) -> Exception:
    """A domain error (or a shape error) as the user reads it: the op's name, the reason,
    and the offending values (``log: input must be > 0, at log(-1.0)``)."""
    return type(error)(f"{op.name}: {error}{kind._error_context(op, xs)}")


# --- the steps of a pass, as the learner reads them ------------------------------------


class _Names:
    """Readable names for a pass's nodes: the label, a constant's value, else ``v<k>``."""

    def __init__(self, root: Node, order: list[Node]) -> None:
        self.root = _bracketed(root.label) if root.label else "L"
        self._index = {node: k for k, node in enumerate(reversed(order))}

    def __call__(self, node: Node) -> str:
        if node.label:
            return _bracketed(node.label)
        if self._index[node] == 0:
            return self.root
        if node.is_constant:
            return _fmt(node.data)
        return f"v{self._index[node]}"


def _bracketed(label: str) -> str:
    """A label as it reads after ``d`` or ``∂``: as it is when it is a plain name (letters,
    digits, ``_`` and ``.``, not starting with a digit), in brackets otherwise, so
    ``dL/d(a*b)`` cannot be misread."""
    plain = label.replace(".", "_")
    return label if plain.isidentifier() and not label.endswith(".") else f"({label})"


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

    def __init__(self, node: Node, upstream: Any, edges: list, names: _Names, is_root: bool):
        self.node = node
        self.upstream = upstream
        self.edges = tuple(edges)
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
