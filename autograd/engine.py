"""The graph machinery: applying an op, topological order, the reverse pass and its steps.

It knows nothing about particular ops (they are rows of the tables in ``ops.py`` and
``tensor_ops.py``), and little about the node kinds (``Value`` holds a float, ``Tensor`` an
array): what differs between them is a handful of class attributes and hooks, listed on
``Node``. The reverse pass multiplies each node's upstream gradient by each local gradient
stored on it and adds the product to the parent: that is the chain rule, and all there is.

How a node stores its graph: ``_a`` and ``_b`` are its operands, ``_da`` and ``_db`` the local
derivatives d node / d operand (stored at forward time); a one-operand node has ``_b`` set to
the kind's ``_NO_OPERAND`` and an op of more operands (a ``primitive``) keeps tuples in
``_a`` and ``_da``. A plain number operand (the ``2`` of ``a * 2``) is kept as the number
itself, a *raw constant*, and becomes a constant leaf node only when someone reads
``.parents``: so one op is one object that Python's cyclic garbage collector tracks, and the
number costs nothing. A constant gets no gradient until it is made a node (its gradient is
then ``upstream * local`` so far, which is what the passes would have given it), and from
then on it is accumulated into like any leaf.

Accumulation semantics are PyTorch's: a pass sums each node's contributions (``pending``,
per pass) and then adds the sum to ``.grad``; it never propagates the ``.grad`` a node
already held. Everything is iterative: no recursion, so depth is limited by memory only.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from .modes import _modes, active_tracer, current, enable_grad, tracing
from .ops import CONSTANT, LEAF, Op

_new = object.__new__
_collector_lock = threading.Lock()
# A pass over fewer nodes than this leaves the collector alone (pausing it costs more than
# the collections such a pass could trigger).
_SMALL_GRAPH = 1000
_collector_pauses = [0, False]  # passes running in any thread; was gc enabled before them


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the duration of a reverse pass.

    The pass allocates only acyclic objects (floats or arrays, dict entries), which
    reference counting frees, so the collector has nothing to find; but with a large graph
    alive, every collection it triggers walks the whole live graph. Nested and concurrent
    passes share one pause (a counter), and the collector's previous state is restored by
    the last pass to finish.
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


class Node:
    """Base class of graph nodes (``Value``, ``Tensor``): the graph and the reverse pass.

    A node kind defines the slots ``data grad label scope _op _a _b _da _db _g`` (``_g``: a
    reverse pass's scratch, None between passes) and:
    ``_raw`` (the class of its raw constant operands: float, ndarray), ``_NO_OPERAND`` (an
    instance of it: a one-operand node's ``_b``), ``_cleared_grad`` (``.grad`` before any
    pass), ``_lift(x, op)`` (a number operand as a raw constant, or TypeError),
    ``_result(data, op)`` (an op's forward result as the kind's data), ``_locals(op, xs, out,
    params, operands)`` (the local derivatives at forward time), ``_node_locals()`` (the same
    as recorded nodes, for create_graph), ``_error_context(op, xs)`` and
    ``_nonfinite(data)`` (error wording), ``_finite(g)``, ``_seed(grad)``,
    ``_constant_leaf(raw, owner, local)``, ``_grad_is_unset(g)``, ``_adds_inline`` (whether
    a pass may add each gradient to ``.grad`` as it goes) or else ``_add_grads(order,
    token)``, and
    ``_jvp(local, tangent)`` (forward mode: the local derivative applied to an operand's
    tangent).
    """

    __slots__ = ()

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
        a = self._a
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
        if self._op.arity == 1:
            return (a,)
        b = self._b
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
        return (self._da,) if self._op.arity == 1 else (self._da, self._db)

    def _constant_parent(self, raw: Any, local: Any) -> Node:
        node = self._constant_leaf(raw, self, local)
        node.scope = self.scope
        return node

    # --- the reverse pass -----------------------------------------------------------------

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
                for node, g in _propagate(self, self._constant(seed), create_graph=True).items():
                    if g is not None:
                        old = node.grad
                        node.grad = g if node._grad_is_unset(old) else old + g
            return
        if self._adds_inline:
            _reverse_pass(self, seed, False, _done, adds=True)
        else:
            _reverse_pass(self, seed, False, self._add_grads)

    def backward_steps(self, grad: Any = 1.0) -> Iterator[Step]:
        """The reverse pass of ``backward()``, one ``Step`` per node, in the order it visits.

        When a step is yielded its node's upstream gradient is final and the step's
        contributions are already in its parents' ``.grad``. Exhausting the generator leaves
        the same gradients as ``backward()`` (bit for bit: the same products, summed in the
        same order).

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
        order = _order(self, constants=True)
        names = _Names(self, order)
        check = _modes.anomaly
        before = {node: node._grad_before_pass() for node in order}
        pending = {self: seed}
        self._show_grad(before[self], seed)
        for node in reversed(order):
            upstream = pending[node]
            edges = []
            for parent, local in zip(node.parents, node.local_grads):
                contribution = upstream * local
                if check and not node._finite(contribution):
                    raise _anomaly(node, parent, contribution)
                old = pending.get(parent)
                pending[parent] = total = contribution if old is None else old + contribution
                parent._show_grad(before[parent], total)
                edges.append((parent, local, contribution))
            yield Step(node, upstream, tuple(edges), names, node is self)

    def zero_grad(self) -> None:
        """Reset ``.grad`` on every node reachable from self (0.0 for Values)."""
        for node in _order(self, constants=True):
            node.grad = node._cleared_grad


_FINISH = object()  # on _order's stack: the node below it has all its parents finished
_pass_lock = threading.RLock()  # one traversal at a time holds the nodes' _g slots
_marks_open: list[None] = []  # traversals open in the thread holding the lock


class _Marking:
    """Lend a traversal the nodes' ``_g`` slot, its pass-local scratch: a fresh token marks
    the nodes it has met (and, in a reverse pass, ``_g`` then holds each node's gradient so
    far). Traversals in other threads wait for the lock; one opened inside another in the
    same thread (a primitive's derivative that itself calls ``grad``) saves every slot it
    marks and gives it back at the end, so the outer pass never sees it. (A class, not a
    generator: a small graph's pass is a few microseconds, and this is in every one.)"""

    __slots__ = ("token", "saved")

    def __enter__(self) -> _Marking:
        _pass_lock.acquire()
        self.saved: list | None = [] if _marks_open else None
        self.token = object()
        _marks_open.append(None)
        return self

    def __exit__(self, *exc: object) -> None:
        _marks_open.pop()
        saved = self.saved
        if saved:
            for node, old in reversed(saved):
                node._g = old
        _pass_lock.release()


def _marked_order(
    root: Node, token: object, constants: bool, limit: int | None, saved: list | None
) -> list[Node]:
    """``_order``'s search, marking each node it expands with ``token`` (in ``_g``)."""
    raw = root._raw
    order: list[Node] = []
    stack: list[Any] = [root]
    push, pop, finish = stack.append, stack.pop, order.append
    special = saved is not None or limit is not None or constants  # one test when none is
    count = 0
    while stack:
        node = pop()
        if node is _FINISH:
            finish(pop())
            continue
        if node._g is token:
            continue
        if special:
            if saved is not None:
                saved.append((node, node._g))
            if limit is not None:
                count += 1
                if count > limit:
                    _too_many(root, limit)
            if constants and node._a is not None:
                node.parents  # noqa: B018 - makes its raw constants nodes
        node._g = token
        a = node._a
        if a is None:  # a leaf is finished as soon as it is seen
            finish(node)
            continue
        push(node)
        push(_FINISH)
        if a.__class__ is tuple:
            for p in reversed(a):
                if p.__class__ is not raw and p._g is not token:
                    push(p)
            continue
        b = node._b
        if b.__class__ is not raw and b._g is not token:
            push(b)
        if a.__class__ is not raw and a._g is not token:
            push(a)
    return order


def _order(root: Node, constants: bool = False, limit: int | None = None) -> list[Node]:
    """Every node reachable from ``root``, each after all of its parents; ``root`` last.

    A depth-first search with an explicit stack. Expanding a node pushes it back under a
    ``_FINISH`` marker, then its parents, the first operand on top (so its side comes first
    in the order); when the marker comes off the stack every parent is finished, so the
    node is. (A node still being expanded cannot be met again as a parent: that would be a
    cycle.) A node is marked as expanded in its own slot, not in a set (``_Marking``). Raw
    constants are skipped, or made nodes when ``constants`` (the graph as ``.parents``
    shows it). More than ``limit`` nodes raises ``ValueError``, early.
    """
    with _Marking() as marks:
        return _marked_order(root, marks.token, constants, limit, marks.saved)


def _too_many(root: Node, limit: int, cap: int = 100_000) -> None:
    """Refuse a graph of more than ``limit`` nodes, counting at most ``cap`` of them."""
    total = _count(root, cap)
    size = f"more than {cap:,}" if total > cap else f"{total:,}"
    hint = "a larger max_nodes" if total > cap else f"max_nodes={total}"
    raise ValueError(
        f"the graph has {size} nodes, more than max_nodes={limit}; pass {hint} to allow them"
    )


def _count(root: Node, cap: int) -> int:
    """Number of nodes reachable from root (constants included), counting past ``cap``
    no further."""
    raw = root._raw
    seen = {root}
    stack = [root]
    constants = 0
    while stack and len(seen) + constants <= cap:
        node = stack.pop()
        a = node._a
        if a is None:
            continue
        for p in a if a.__class__ is tuple else (a, node._b):
            if p.__class__ is raw:
                constants += p is not node._NO_OPERAND
            elif p not in seen:
                seen.add(p)
                stack.append(p)
    return len(seen) + constants


def topological_order(root: Node, max_nodes: int | None = None) -> list[Node]:
    """Every node reachable from ``root``, each after all of its parents; ``root`` last.

    The order depends only on the graph's shape and operand order (the first operand's
    side first), so numbering nodes by it gives the same numbers every time the same graph
    is built. More than ``max_nodes`` nodes raises ``ValueError`` saying how many there
    are, after counting at most 100,000 of them.

    >>> from autograd import Value
    >>> a = Value(2.0, "a"); b = a * a; c = b + a
    >>> [n.label or n.op for n in topological_order(c)]
    ['a', '*', '+']
    """
    if max_nodes is not None and (
        isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1
    ):
        raise ValueError(f"max_nodes must be a positive int, got {max_nodes!r}")
    return _order(root, constants=True, limit=max_nodes)


def _reverse_pass(
    root: Node,
    seed: Any,
    create_graph: bool,
    consume: Callable[[list, object], Any],
    adds: bool = False,
) -> Any:
    """The reverse pass: d root / d node for every node reachable from root.

    Each node's gradient so far lives in its ``_g`` slot while the pass runs (a dict of
    them cost twice as much); ``consume(order, token)`` then reads them (a ``_g`` still the
    token got no contribution) and must set each back to None: ``backward`` adds them to
    the ``.grad`` (``_add_grads``), the functional API takes the ones it wants
    (``_propagate``). With ``create_graph`` the local gradients are recomputed as nodes (the
    rows' derivatives applied to the parents), so the gradients carry graphs; the caller
    enables recording. The two operands of a node are written out rather than looped over:
    this is the engine's hottest loop, and a loop over pairs costs half again as much.
    With ``adds`` (``backward`` on Values) each node's gradient is added to its ``.grad`` in
    the same loop, the moment it is final: one loop over the nodes instead of two.
    """
    # (A gradient of None is the one toward a Tensor constant: it takes no contribution.)
    with _Marking() as marks:
        token = marks.token
        order = _marked_order(root, token, False, None, marks.saved)
        try:
            if len(order) < _SMALL_GRAPH:
                _accumulate(order, token, seed, create_graph, adds)
                return consume(order, token)
            with _collector_paused():
                _accumulate(order, token, seed, create_graph, adds)
                return consume(order, token)
        except BaseException:
            for node in order:  # no pass's gradients stay behind
                node._g = None
            raise


def _accumulate(
    order: list[Node], token: object, seed: Any, create_graph: bool, adds: bool = False
) -> None:
    root = order[-1]
    raw = root._raw
    check = _modes.anomaly
    root._g = seed
    node = root
    try:
        for node in reversed(order):
            a = node._a
            if adds:  # the gradient is final here (every consumer came first): to .grad
                upstream = node._g
                node._g = None
                node.grad = node.grad + upstream
                if a is None:
                    continue
            elif a is None:
                continue
            else:
                upstream = node._g
            if a.__class__ is tuple:  # a primitive's operands
                locals_ = node._node_locals() if create_graph else node._da
                for parent, local in zip(a, locals_):
                    if parent.__class__ is not raw:
                        contribution = upstream * local
                        if check and not node._finite(contribution):
                            raise _anomaly(node, parent, contribution)
                        old = parent._g
                        parent._g = (
                            contribution if old is token or old is None else old + contribution
                        )
                continue
            if create_graph:
                locals_ = node._node_locals()
                da, db = locals_[0], locals_[-1]
            else:
                da = node._da
                db = node._db
            if a.__class__ is not raw:
                contribution = upstream * da
                if check and not node._finite(contribution):
                    raise _anomaly(node, a, contribution)
                old = a._g
                a._g = contribution if old is token or old is None else old + contribution
            b = node._b
            if b.__class__ is not raw:
                contribution = upstream * db
                if check and not node._finite(contribution):
                    raise _anomaly(node, b, contribution)
                old = b._g
                b._g = contribution if old is token or old is None else old + contribution
    except FloatingPointError as error:
        if not create_graph or str(error).startswith(f"{node.op}:"):
            raise
        # Under create_graph the gradient is computed by recorded ops, so detect_anomaly
        # fires inside one of them ('*', say): name the node being differentiated.
        inputs = ", ".join(repr(p.data) for p in node.parents)
        raise FloatingPointError(
            f"{node.op}: gradient is not finite while differentiating {node.op}({inputs}) ({error})"
        ) from None


def _done(order: list[Node], token: object) -> None:
    """What is left to do after a pass that added its gradients as it went: nothing."""


def _totals(order: list[Node], token: object) -> dict[Node, Any]:
    """A pass's gradients as a dict (the nodes that got one), the slots set back to None."""
    out = {}
    for node in order:
        g = node._g
        node._g = None
        if g is not token:
            out[node] = g
    return out


def _propagate(root: Node, seed: Any, create_graph: bool = False) -> dict[Node, Any]:
    """The reverse pass's gradients as a dict, writing no ``.grad``: what the functional API
    (``grad``, ``hessian``, ``jacobian``) builds on."""
    return _reverse_pass(root, seed, create_graph, _totals)


def _forward_sweep(order: list[Node], tangents: dict, create_graph: bool = False) -> dict:
    """The forward-mode pass: the tangent (d node / d the seeded direction) of every node of
    ``order``, filled into ``tangents`` and returned.

    ``order`` lists nodes parents first (``_order``); ``tangents`` holds the seeds, the
    tangents of the inputs, and a seeded node keeps its seed. Every other node's tangent is
    the sum, over its operands that have one, of the stored local derivative applied to the
    operand's tangent (``node._jvp(local, tangent)``: a product for floats, the Jacobian-vector
    product of a Tensor's linear map). A node none of whose operands has a tangent (a
    constant, a leaf not seeded, anything that does not depend on the seeds) gets none,
    which means zero and costs nothing. With ``create_graph`` the local derivatives are
    recomputed as nodes (as in ``_propagate``), only for the nodes a tangent reaches, so the
    tangents carry graphs; the caller enables recording.

    >>> from autograd import Value
    >>> x = Value(3.0); y = x * x + x
    >>> _forward_sweep(_order(y), {x: 1.0})[y]    # dy/dx = 2x + 1
    7.0
    """
    check = _modes.anomaly
    get = tangents.get
    for node in order:
        a = node._a
        if a is None or node in tangents:  # a leaf (seeded or not), or a seeded node
            continue
        raw = node._raw
        if a.__class__ is tuple:  # a primitive's operands
            reached = [None if p.__class__ is raw else get(p) for p in a]
            if all(t is None for t in reached):  # nothing flows in: the tangent is 0
                continue
            total = None
            locals_ = node._node_locals() if create_graph else node._da
            for parent, local, tangent in zip(a, locals_, reached):
                if tangent is not None:
                    contribution = _tangent_from(node, parent, local, tangent, check)
                    total = contribution if total is None else total + contribution
            tangents[node] = total
            continue
        # One or two operands, written out as in _propagate: a loop here costs about twice as
        # much (a 60,000-op chain: 150 ms a sweep against 70 ms).
        b = node._b
        ta = None if a.__class__ is raw else get(a)
        tb = None if b.__class__ is raw else get(b)
        if ta is None and tb is None:  # nothing flows in: the tangent is 0
            continue
        if create_graph:
            locals_ = node._node_locals()
            da, db = locals_[0], locals_[-1]
        else:
            da, db = node._da, node._db
        total = None
        if ta is not None:
            total = node._jvp(da, ta)
            if check and not node._finite(total):
                raise _anomaly(node, a, total, "tangent flowing from")
        if tb is not None:
            contribution = node._jvp(db, tb)
            if check and not node._finite(contribution):
                raise _anomaly(node, b, contribution, "tangent flowing from")
            total = contribution if total is None else total + contribution
        tangents[node] = total
    return tangents


def _tangent_from(node: Node, parent: Node, local: Any, tangent: Any, check: bool) -> Any:
    """The part of a primitive node's tangent that flows from one operand: its local
    derivative applied to the operand's tangent (checked under detect_anomaly). The one- and
    two-operand path above writes this out: a call per edge costs that loop 15%."""
    contribution = node._jvp(local, tangent)
    if check and not node._finite(contribution):
        raise _anomaly(node, parent, contribution, "tangent flowing from")
    return contribution


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
    """Apply a row to its operands (nodes and plain numbers or arrays) and its parameters:
    lift the numbers to raw constants, run the forward, word a domain error, and record the
    result. Every op goes through here except ``Value``'s generated fast paths, which take
    it too for everything but the common case.

    >>> from autograd import Value
    >>> from autograd.ops import SCALAR_OPS
    >>> apply(SCALAR_OPS["*"], (Value(3.0), 2)).data
    6.0
    """
    kind = kind or kind_of(operands, op)
    raw = kind._raw
    parents = []
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
        parents.append(x)
    parents, xs = tuple(parents), tuple(xs)
    if op.check is not None:
        op.check(*parents)
    try:
        data = op.forward(*xs, *params)
    except FloatingPointError:  # detect_anomaly's own error, already worded
        raise
    except (ArithmeticError, ValueError, IndexError, TypeError) as error:
        raise op_error(op, kind, xs, error) from None
    return record(kind, op, kind._result(data, op), parents, xs, params)


def op_error(op: Op, kind: type, xs: tuple, error: Exception) -> Exception:
    """A domain error (or a shape error) as the user reads it: the op's name, the reason,
    and the offending values (``log: input must be > 0, at log(-1.0)``)."""
    return type(error)(f"{op.name}: {error}{kind._error_context(op, xs)}")


def record(
    kind: type,
    op: Op,
    data: Any,
    parents: tuple,
    xs: tuple,
    params: tuple,
    local_grads: tuple | None = None,
) -> Node:
    """The result node of an op, as the modes say: under ``no_grad`` a leaf, under
    ``detect_anomaly`` refused if not finite, in a ``name_scope`` scoped. ``local_grads``
    are computed here unless the caller has them already."""
    modes = current()
    if modes.anomaly:
        bad = kind._nonfinite(data)
        if bad:
            raise FloatingPointError(f"{op.name}: {bad}, at {kind._call(op, xs)}")
    node = _new(kind)
    node.data = data
    node.grad = kind._cleared_grad
    node.label = ""
    node.scope = modes.scope
    node._g = None
    if not modes.grad_enabled:
        node._op = LEAF
        node._a = None
        if tracing[0]:  # a trace replays it (its value follows new inputs), no gradient
            tracer = active_tracer()
            if tracer is not None:
                tracer.detached[node] = (op, parents, params)
        return node
    if local_grads is None:
        try:
            local_grads = kind._locals(op, xs, data, params, parents)
        except FloatingPointError:
            raise
        except (ArithmeticError, ValueError) as error:
            raise op_error(op, kind, xs, error) from None
    node._op = op
    node._store(parents, local_grads, params)
    return node


class _Names:
    """Readable names for a pass's nodes: the label, a constant's value, else ``v<k>``."""

    def __init__(self, root: Node, order: list[Node]) -> None:
        self.root = root.label or "L"
        self._index = {node: k for k, node in enumerate(reversed(order))}

    def __call__(self, node: Node) -> str:
        if node.label or self._index[node] == 0:
            return node.label or self.root
        if node.is_constant:
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
