"""The reverse pass: reuse, accumulation semantics, zero_grad, seeds, create_graph,
backward_steps, and a 1,000,000-node chain at the default recursion limit.
"""

from __future__ import annotations

import gc
import math
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd import Value, detect_anomaly


def reachable(root: Value) -> list[Value]:
    """Every node reachable from root, each once (identity), without recursion."""
    seen: dict[int, Value] = {}
    stack = [root]
    while stack:
        v = stack.pop()
        if id(v) not in seen:
            seen[id(v)] = v
            stack.extend(v.parents)
    return list(seen.values())


def as_float(g) -> float:
    return g.data if isinstance(g, Value) else g


# --- reuse --------------------------------------------------------------------------------------


def test_a_plus_a_accumulates_both_edges():
    a = Value(3.0)
    b = a + a
    b.backward()
    assert a.grad == 2.0
    assert b.grad == 1.0


def test_a_times_a_accumulates_both_edges():
    a = Value(3.0)
    b = a * a
    b.backward()
    assert a.grad == 6.0


def test_diamond():
    # d = (2a) * (a + 1): dd/da = 2(a + 1) + 2a = 4a + 2.
    a = Value(3.0, label="a")
    b = a * 2
    c = a + 1
    d = b * c
    d.backward()
    assert d.data == 24.0
    assert a.grad == 14.0
    assert b.grad == 4.0  # = c
    assert c.grad == 6.0  # = b


def test_deep_diamond_with_shared_subexpressions():
    # y = e^x; z = y*y + y; w = z * y  =>  w = e^{3x} + e^{2x}, dw/dx = 3e^{3x} + 2e^{2x}.
    x = Value(0.4)
    y = x.exp()
    z = y * y + y
    w = z * y
    w.backward()
    assert math.isclose(w.data, math.exp(1.2) + math.exp(0.8), rel_tol=1e-13)
    assert math.isclose(x.grad, 3 * math.exp(1.2) + 2 * math.exp(0.8), rel_tol=1e-13)
    assert math.isclose(y.grad, 3 * math.exp(0.8) + 2 * math.exp(0.4), rel_tol=1e-13)


def test_constant_leaf_parents_receive_gradients_too():
    # Every node reachable from the root is accumulated into, constants included.
    a = Value(3.0)
    out = a * 2
    out.backward()
    assert out.parents[1].grad == 3.0
    assert a.grad == 2.0


def test_backward_of_a_leaf_sets_its_own_grad():
    a = Value(5.0)
    a.backward()
    assert a.grad == 1.0


def test_grads_are_floats_after_backward():
    a, b = Value(2.0), Value(-1.0)
    (a * b + a.tanh()).backward()
    assert type(a.grad) is float and type(b.grad) is float


# --- accumulation ---------------------------------------------------------------------------


def test_second_backward_doubles_every_gradient_24_not_36():
    # API.md: y = x*x; z = 2*y at x=3; two z.backward() calls leave x.grad == 24
    # (micrograd's second call gives 36 by re-propagating y's accumulated grad).
    x = Value(3.0)
    y = x * x
    z = 2 * y
    z.backward()
    assert (x.grad, y.grad, z.grad) == (12.0, 2.0, 1.0)
    z.backward()
    assert x.grad == 24.0
    assert y.grad == 4.0
    assert z.grad == 2.0
    assert z.parents[0].grad == 2 * 9.0  # the constant 2: dz/d2 = y, twice


def test_a_pass_propagates_only_its_own_contributions_across_roots():
    # y already holds a grad from y.backward(); z.backward() must not push it on again.
    x = Value(3.0)
    y = x * x
    y.backward()
    assert (x.grad, y.grad) == (6.0, 1.0)
    z = 2 * y
    z.backward()
    assert y.grad == 1.0 + 2.0
    assert x.grad == 6.0 + 2.0 * 6.0


def test_two_roots_sharing_a_leaf_accumulate():
    x = Value(1.5)
    u = x * 2
    v = x * 3
    u.backward()
    v.backward()
    assert x.grad == 5.0


def test_backward_with_a_seed_scales_every_gradient():
    x = Value(2.0)
    y = x * x * x
    y.backward(grad=2.5)
    assert y.grad == 2.5
    assert x.grad == 2.5 * 12.0


def test_backward_seed_is_positional_too():
    x = Value(2.0)
    y = x * 4
    y.backward(-0.5)
    assert x.grad == -2.0


# --- zero_grad ------------------------------------------------------------------------------


def test_zero_grad_resets_every_reachable_node():
    x, w = Value(0.5), Value(-2.0)
    out = (x * w).tanh() + x
    out.backward()
    nodes = reachable(out)
    assert any(n.grad != 0.0 for n in nodes)
    out.zero_grad()
    assert all(n.grad == 0.0 and type(n.grad) is float for n in nodes)


def test_zero_grad_then_backward_gives_a_single_pass_result():
    x = Value(3.0)
    y = (x * x).exp() * 0.0 + x * 4
    y.backward()
    y.backward()
    y.zero_grad()
    y.backward()
    assert x.grad == 4.0


def test_zero_grad_leaves_nodes_that_are_not_reachable_alone():
    x = Value(1.5)
    u = x * 2
    v = x * 3
    u.backward()
    v.backward()
    u.zero_grad()
    assert x.grad == 0.0
    assert u.grad == 0.0
    assert v.grad == 1.0  # v is not reachable from u


def test_backward_leaves_the_garbage_collector_as_it_found_it():
    # A pass may pause Python's cyclic collector for speed; it must never leave it changed,
    # not even when the pass raises.
    was = gc.isenabled()
    try:
        gc.enable()
        (Value(2.0).exp() * 3).backward()
        assert gc.isenabled()
        with pytest.raises(FloatingPointError):
            with detect_anomaly():
                Value(0.0).sqrt().backward()
        assert gc.isenabled()
        gc.disable()
        (Value(2.0).exp() * 3).backward()
        assert not gc.isenabled()
    finally:
        (gc.enable if was else gc.disable)()


# --- create_graph ---------------------------------------------------------------------------


def test_create_graph_makes_grads_differentiable_values():
    # y = x^3: dy/dx = 3x^2 = 27 at x = 3; d2y/dx2 = 6x = 18.
    x = Value(3.0)
    y = x * x * x
    y.backward(create_graph=True)
    g = x.grad
    assert isinstance(g, Value)
    assert g.data == 27.0
    assert g.parents != ()  # it carries its own graph
    y.zero_grad()
    g.backward()
    assert as_float(x.grad) == 18.0


def test_create_graph_through_unary_ops():
    # y = sin(x) * x: y' = cos x * x + sin x; y'' = -sin x * x + 2 cos x.
    x0 = 0.7
    x = Value(x0)
    y = x.sin() * x
    y.backward(create_graph=True)
    g = x.grad
    assert math.isclose(g.data, math.cos(x0) * x0 + math.sin(x0), rel_tol=1e-13)
    y.zero_grad()
    g.backward()
    assert math.isclose(as_float(x.grad), -math.sin(x0) * x0 + 2 * math.cos(x0), rel_tol=1e-13)


def second_derivative(build, x0: float) -> tuple[float, float]:
    """(f'(x0), f''(x0)) through backward(create_graph=True) and a second backward()."""
    x = Value(x0)
    y = build(x)
    y.backward(create_graph=True)
    g = x.grad
    first = as_float(g)
    x.grad = 0.0  # only x's grad matters below: each pass adds only its own contributions
    if isinstance(g, Value):
        g.backward()
    return first, as_float(x.grad)


def _sig(x: float) -> float:
    return 1 / (1 + math.exp(-x))


@pytest.mark.parametrize(
    "build, x0, d1, d2",
    [
        (lambda a: -a, 0.7, -1.0, 0.0),
        (lambda a: a.exp(), 0.7, math.exp(0.7), math.exp(0.7)),
        (lambda a: a.log(), 0.7, 1 / 0.7, -1 / 0.7**2),
        (
            lambda a: a.tanh(),
            0.7,
            1 - math.tanh(0.7) ** 2,
            -2 * math.tanh(0.7) * (1 - math.tanh(0.7) ** 2),
        ),
        (
            lambda a: a.sigmoid(),
            0.7,
            _sig(0.7) * (1 - _sig(0.7)),
            _sig(0.7) * (1 - _sig(0.7)) * (1 - 2 * _sig(0.7)),
        ),
        (lambda a: a.relu(), 0.7, 1.0, 0.0),
        (lambda a: a.relu(), -0.7, 0.0, 0.0),
        (lambda a: a.sqrt(), 0.7, 0.5 / math.sqrt(0.7), -0.25 * 0.7**-1.5),
        (lambda a: a.sin(), 0.7, math.cos(0.7), -math.sin(0.7)),
        (lambda a: a.cos(), 0.7, -math.sin(0.7), -math.cos(0.7)),
        (lambda a: a.abs(), -0.7, -1.0, 0.0),
        (lambda a: a**3, -0.7, 3 * 0.49, 6 * -0.7),
        (lambda a: a**-2, 0.7, -2 * 0.7**-3, 6 * 0.7**-4),
        (lambda a: 2**a, 0.7, math.log(2) * 2**0.7, math.log(2) ** 2 * 2**0.7),
        (
            lambda a: a**a,
            0.7,
            0.7**0.7 * (math.log(0.7) + 1),
            0.7**0.7 * ((math.log(0.7) + 1) ** 2 + 1 / 0.7),
        ),
        (lambda a: 1 / a, 0.7, -1 / 0.49, 2 / 0.7**3),
        (lambda a: 3 - a * a, 0.7, -1.4, -2.0),
        (lambda a: (a * a + a).tanh(), 0.3, None, None),
    ],
)
def test_second_derivative_of_every_op_through_create_graph(build, x0, d1, d2):
    if (
        d1 is None
    ):  # tanh(u), u = x^2 + x: f' = (1 - t^2) u', f'' = -2 t (1 - t^2) u'^2 + (1 - t^2) u''
        t, du = math.tanh(x0 * x0 + x0), 2 * x0 + 1
        d1, d2 = (1 - t * t) * du, -2 * t * (1 - t * t) * du * du + (1 - t * t) * 2
    first, second = second_derivative(build, x0)
    assert math.isclose(first, d1, rel_tol=1e-12, abs_tol=1e-15)
    assert math.isclose(second, d2, rel_tol=1e-12, abs_tol=1e-15)


@pytest.mark.parametrize(
    "build, x, y, hess",
    [
        (lambda a, b: a * b, 1.5, -2.0, ((0.0, 1.0), (1.0, 0.0))),
        (lambda a, b: a / b, 1.5, -2.0, ((0.0, -1 / 4), (-1 / 4, 2 * 1.5 / -8))),
        (
            lambda a, b: a**b,
            1.5,
            2.5,
            (
                (2.5 * 1.5 * 1.5**0.5, 1.5**1.5 * (1 + 2.5 * math.log(1.5))),
                (1.5**1.5 * (1 + 2.5 * math.log(1.5)), math.log(1.5) ** 2 * 1.5**2.5),
            ),
        ),
    ],
)
def test_mixed_second_derivatives_through_create_graph(build, x, y, hess):
    a, b = Value(x), Value(y)
    out = build(a, b)
    out.backward(create_graph=True)
    grads = (a.grad, b.grad)
    for row, g in zip(hess, grads, strict=True):
        a.grad, b.grad = 0.0, 0.0
        if isinstance(g, Value):
            g.backward()
        assert math.isclose(as_float(a.grad), row[0], rel_tol=1e-12, abs_tol=1e-15)
        assert math.isclose(as_float(b.grad), row[1], rel_tol=1e-12, abs_tol=1e-15)


# --- backward_steps -------------------------------------------------------------------------


def build_graphs():
    """A few graphs with reuse; each call builds fresh nodes. Returns (root, leaves)."""
    a, b, c = Value(0.3, label="a"), Value(-1.2, label="b"), Value(2.0, label="c")
    h = (a * b).tanh()
    e = h * h + (a / c).exp() - b.relu() + c**a
    yield e, (a, b, c)
    x = Value(1.5, label="x")
    y = x * x
    z = (y + x).log() * y.sigmoid() + (-x).abs().sqrt()
    yield z, (x,)
    s = Value(0.8, label="s")
    yield s.sin() * s.cos() + s, (s,)


def test_backward_steps_gives_the_same_grads_as_backward():
    for (r1, _), (r2, _) in zip(build_graphs(), build_graphs(), strict=True):
        r1.backward()
        for _ in r2.backward_steps():
            pass
        n1, n2 = reachable(r1), reachable(r2)
        assert len(n1) == len(n2)
        # reachable() walks both identical graphs in the same order.
        for u, v in zip(n1, n2, strict=True):
            assert u.data == v.data
            assert u.grad == v.grad


def test_backward_steps_is_lazy_until_iterated():
    (root, leaves), *_ = build_graphs()
    steps = root.backward_steps()
    assert all(n.grad == 0.0 for n in reachable(root))
    first = next(steps)
    assert first.node is root
    assert first.upstream == 1.0
    assert all(p.grad != 0.0 or loc == 0.0 for p, loc, _ in first.edges)


def test_backward_steps_attributes_and_state_when_each_step_is_yielded():
    for root, _ in build_graphs():
        nodes = reachable(root)
        non_leaves = {id(n) for n in nodes if n.parents}
        received: dict[int, float] = {}  # contributions seen so far, per parent
        visited: list[Value] = []
        for step in root.backward_steps():
            node = step.node
            visited.append(node)
            assert step.upstream == node.grad
            assert len(step.edges) == len(node.parents)
            for (parent, local, contribution), p, g in zip(
                step.edges, node.parents, node.local_grads, strict=True
            ):
                assert parent is p
                assert local == g
                assert contribution == step.upstream * local
                received[id(parent)] = received.get(id(parent), 0.0) + contribution
            # the step's contributions are already in its parents' grads when it is yielded
            for parent in node.parents:
                assert math.isclose(parent.grad, received[id(parent)], rel_tol=1e-15)
        ids = [id(n) for n in visited]
        assert len(ids) == len(set(ids)), "a node was visited twice"
        assert non_leaves <= set(ids), "a non-leaf node got no step"
        # reverse topological order: each node comes after every node that has it as a parent
        position = {i: k for k, i in enumerate(ids)}
        for v in visited:
            for p in v.parents:
                if id(p) in position:
                    assert position[id(p)] > position[id(v)]
        # after exhaustion the yielded upstreams are the nodes' final grads
        for v in visited:
            want = received.get(id(v), 1.0 if v is root else 0.0)
            assert math.isclose(v.grad, want, rel_tol=1e-15)


def test_backward_steps_with_a_seed():
    x = Value(2.0)
    y = x * 3
    steps = list(y.backward_steps(grad=0.5))
    assert steps[0].node is y
    assert steps[0].upstream == 0.5
    assert x.grad == 1.5


def test_str_of_a_step_spells_the_chain_rule_with_labels():
    a = Value(1.5, label="a")
    b = Value(3.0, label="b")
    c = a * b
    c.label = "c"
    k = Value(2.0, label="k")
    L = c * k
    L.label = "L"
    step = next(s for s in L.backward_steps() if s.node is c)
    text = str(step)
    # dc/da = b = 3.0, dL/dc = k = 2.0; dc/db = a = 1.5.
    assert "dL/da += dL/dc * ∂c/∂a = 2.0 * 3.0 = 6.0" in text
    assert "dL/db += dL/dc * ∂c/∂b = 2.0 * 1.5 = 3.0" in text


# --- the same properties on random DAGs ----------------------------------------------------

# Ops defined for every real input and that cannot blow magnitudes up (at most additively),
# so any drawn program is valid and its grads are finite: (name, arity, build).
SAFE_OPS = [
    ("+", 2, lambda a, b: a + b),
    ("-", 2, lambda a, b: a - b),
    ("*", 2, lambda a, b: a * b.tanh()),
    ("/", 2, lambda a, b: a / (b * b + 1.0)),
    ("**", 2, lambda a, b: (a.tanh() * a.tanh() + 1.0) ** b.tanh()),
    ("neg", 1, lambda a: -a),
    ("tanh", 1, lambda a: a.tanh()),
    ("sigmoid", 1, lambda a: a.sigmoid()),
    ("sin", 1, lambda a: a.sin()),
    ("cos", 1, lambda a: a.cos()),
    ("relu", 1, lambda a: a.relu()),
    ("abs", 1, lambda a: a.abs()),
    ("exp", 1, lambda a: a.tanh().exp()),
    ("log", 1, lambda a: (a * a + 1.0).log()),
    ("sqrt", 1, lambda a: (a * a + 0.5).sqrt()),
]


@st.composite
def dags(draw):
    """(leaf values, program): each step applies an op to earlier nodes (reuse included)."""
    leaves = draw(st.lists(st.floats(-2.0, 2.0, allow_nan=False), min_size=1, max_size=4))
    program = []
    for k in range(draw(st.integers(1, 15))):
        op = draw(st.integers(0, len(SAFE_OPS) - 1))
        args = [draw(st.integers(0, len(leaves) + k - 1)) for _ in range(SAFE_OPS[op][1])]
        program.append((op, args))
    return leaves, program


def build_dag(leaves, program):
    nodes = [Value(x) for x in leaves]
    for op, args in program:
        nodes.append(SAFE_OPS[op][2](*(nodes[i] for i in args)))
    return nodes[-1], nodes


@given(dags())
def test_random_dags_steps_equal_backward_and_a_second_pass_doubles(dag):
    root1, nodes1 = build_dag(*dag)
    root2, nodes2 = build_dag(*dag)
    root1.backward()
    for _ in root2.backward_steps():
        pass
    first = [n.grad for n in nodes1]
    assert first == [n.grad for n in nodes2]
    assert all(math.isfinite(g) for g in first)
    root1.backward()  # each pass adds only its own contributions: twice (up to rounding,
    # since a grad fed by several edges adds them one by one onto what it already holds)
    for n, g in zip(nodes1, first, strict=True):
        assert math.isclose(n.grad, 2 * g, rel_tol=1e-12, abs_tol=1e-9)
    root1.zero_grad()
    assert all(n.grad == 0.0 for n in nodes1)
    root1.backward()
    assert [n.grad for n in nodes1] == first


# --- a long chain ---------------------------------------------------------------------------


@pytest.mark.slow
def test_a_million_node_chain_at_the_default_recursion_limit():
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)  # Python's default: the engine must not need more
    try:
        x = Value(1.0, label="x")
        y = x
        for _ in range(1_000_000):
            y = -y
        assert y.data == 1.0
        y.backward()
        assert x.grad == 1.0
        assert y.grad == 1.0
        y.zero_grad()
        assert x.grad == 0.0
        y.backward()
        assert x.grad == 1.0
        del y  # freeing the chain must not overflow the C stack either
        assert sys.getrecursionlimit() == 1000
    finally:
        sys.setrecursionlimit(old)


# --- backward_steps is backward's instrumented twin: the same gradients, bit for bit ----------

from hypothesis import settings  # noqa: E402

from autograd.testing.strategies import expressions  # noqa: E402


def _all_grads(root):
    from autograd import topological_order

    return [node.grad for node in topological_order(root)]


def _same_bits(a, b) -> bool:
    import numpy as np

    if a is None or b is None:
        return a is b
    return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True) and (
        np.asarray(a).tobytes() == np.asarray(b).tobytes()
    )


@settings(max_examples=60, deadline=None)
@given(expressions(max_leaves=3, max_ops=14), st.integers(1, 3))
def test_backward_steps_gives_backwards_gradients_bit_for_bit(expr, passes):
    # Two copies of one random graph (shared subexpressions, leaves used many times), one
    # through backward(), one through backward_steps(). From zeroed gradients the two agree to
    # the last bit (the same products, summed in the same order); over later passes, into
    # gradients already held, backward() adds each node's total at once and the steps add
    # its contributions one by one, so they agree to rounding.
    f, inputs = expr
    from autograd import topological_order

    fast = f(*[Value(x) for x in inputs])
    twin = f(*[Value(x) for x in inputs])
    topological_order(fast), topological_order(twin)  # both with their constants as nodes
    for k in range(passes):
        fast.backward()
        for _step in twin.backward_steps():
            pass
        got, want = _all_grads(twin), _all_grads(fast)
        assert len(got) == len(want)
        if k == 0:
            assert all(_same_bits(g, w) for g, w in zip(got, want)), (got, want)
        else:
            assert got == pytest.approx(want, rel=1e-12, abs=1e-300), (got, want)


_SHAPES = [(), (3,), (2, 3), (2, 1), (1, 3)]


@st.composite
def tensor_graphs(draw):
    """A random Tensor graph over leaves of broadcastable shapes, each leaf used many times:
    returns a function of the leaves (as Tensors) and the leaves' arrays."""
    import numpy as np

    shapes = draw(st.lists(st.sampled_from(_SHAPES), min_size=1, max_size=3))
    arrays = [
        np.array(
            draw(st.lists(st.floats(-2, 2), min_size=int(np.prod(s)), max_size=int(np.prod(s))))
        ).reshape(s)
        for s in shapes
    ]
    steps = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["+", "-", "*", "tanh", "exp", "sum0", "sigmoid", "sq"]),
                st.integers(0, 20),
                st.integers(0, 20),
            ),
            min_size=1,
            max_size=10,
        )
    )

    def f(*leaves):
        nodes = list(leaves)
        for name, i, j in steps:
            a, b = nodes[i % len(nodes)], nodes[j % len(nodes)]
            if name in ("+", "-", "*"):
                try:
                    np.broadcast_shapes(a.shape, b.shape)
                except ValueError:  # shapes that do not broadcast: the operand with itself
                    b = a
                out = {"+": a + b, "-": a - b, "*": a * b}[name]
            elif name == "sum0":
                out = a.sum(axis=0, keepdims=True) if a.ndim else a
            elif name == "sq":
                out = a**2
            else:
                out = getattr(a, name)()
            nodes.append(out)
        return nodes[-1].sum() * 1.0

    return f, arrays


@settings(max_examples=60, deadline=None)
@given(tensor_graphs(), st.integers(1, 2))
def test_backward_steps_gives_backwards_tensor_gradients_bit_for_bit(graph, passes):
    from autograd import Tensor

    f, arrays = graph
    fast_leaves = [Tensor(a) for a in arrays]
    twin_leaves = [Tensor(a) for a in arrays]
    fast, twin = f(*fast_leaves), f(*twin_leaves)
    held = [None] * len(arrays)
    for k in range(passes):
        fast.backward()
        for _step in twin.backward_steps():
            pass
        if k == 0:  # from no gradient: the same bits (see the Value twin of this test)
            held = [leaf.grad for leaf in fast_leaves]
            for a, b in zip(fast_leaves, twin_leaves):
                assert _same_bits(a.grad, b.grad)
            got, want = _all_grads(twin), _all_grads(fast)
            assert all(_same_bits(g, w) for g, w in zip(got, want))
    for a, b in zip(fast_leaves, twin_leaves):
        assert (a.grad is None) == (b.grad is None)  # a leaf the result does not reach
        if a.grad is not None:
            np.testing.assert_allclose(b.grad, a.grad, rtol=1e-12, atol=1e-300)
    for leaf, first in zip(fast_leaves, held):  # accumulated in place, as PyTorch
        assert first is None or leaf.grad is first


@settings(max_examples=60, deadline=None)
@given(expressions(max_leaves=3, max_ops=10))
def test_a_constant_made_a_node_after_a_pass_has_the_gradient_the_pass_gave(expr):
    # A number operand becomes a node only when .parents is read; its gradient is then what
    # the pass would have accumulated into it, bit for bit.
    from autograd import topological_order

    f, inputs = expr
    early = f(*[Value(x) for x in inputs])
    late = f(*[Value(x) for x in inputs])
    topological_order(early)  # constants are nodes before the pass
    early.backward()
    late.backward()  # constants become nodes after it, below
    got, want = _all_grads(late), _all_grads(early)
    assert all(_same_bits(g, w) for g, w in zip(got, want)), (got, want)


# --- the pass's scratch slot: nested passes, threads, errors -------------------------------------


def test_a_pass_inside_a_pass_leaves_the_outer_one_right():
    # A primitive whose derivative, under create_graph, runs grad() over a graph holding a
    # node of the graph being differentiated, and walks that graph too: the outer pass is
    # unharmed (the inner ones give back the slots they borrowed).
    from autograd import grad, primitive, topological_order

    shared = Value(1.5, "shared")
    outer_root: list = []

    def slope(x, out):
        if outer_root:  # under create_graph: x is a Value of the outer graph
            topological_order(outer_root[0])
            one = grad(lambda s: s * shared)(2.0)  # d(s * shared)/ds = shared: a pass over it
            return 2.0 * x * (one / shared)  # still 2x, the long way
        return 2.0 * x

    square = primitive("square", lambda x: x * x, slope)
    x = Value(3.0)
    y = square(x * shared) + shared * 4.0
    outer_root.append(y)
    y.backward(create_graph=True)
    assert x.grad.data == pytest.approx(2 * (3.0 * 1.5) * 1.5, rel=1e-15)
    assert shared.grad.data == pytest.approx(2 * (3.0 * 1.5) * 3.0 + 4.0, rel=1e-15)


def test_concurrent_passes_over_one_graph_each_add_their_share():
    import threading

    x = Value(0.3)
    y = x
    for _ in range(2000):
        y = (y * 1.0001).tanh() + x
    want = None
    y.backward()
    want = x.grad
    x.grad = 0.0
    threads = [threading.Thread(target=y.backward) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert x.grad == pytest.approx(4 * want, rel=1e-12)


def test_an_error_in_a_pass_leaves_no_scratch_and_the_next_pass_is_right():
    from autograd import topological_order

    x = Value(0.0)
    y = x.sqrt() * 2.0  # d/dx sqrt at 0 is inf: detect_anomaly stops the pass
    nodes = topological_order(y)
    with detect_anomaly(), pytest.raises(FloatingPointError):
        y.backward()
    assert all(n.grad == 0.0 for n in nodes)  # all or nothing: the failed pass added none
    x2 = Value(4.0)
    z = x2.sqrt() * 2.0
    z.backward()
    assert x2.grad == 0.5
