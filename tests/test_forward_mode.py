"""Forward mode: ``jvp`` and ``jacobian(mode="forward" | "reverse")``.

``jvp`` is checked against the reverse pass (the gradient dotted with the tangent), against
central finite differences and against PyTorch (``torch.func.jvp``) on hypothesis-drawn
expressions, and on Tensors through every kind of local derivative (elementwise arrays,
broadcasting, and each linear map: matmul, sum/mean/max, reshape/transpose, indexing,
softmax/log_softmax). ``jacobian`` is checked for its shapes, for forward == reverse, against
``torch.autograd.functional.jacobian``, for honest pass counts, and for its errors.
"""

from __future__ import annotations

import math

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autograd.functional as functional
from autograd import (
    Tensor,
    Value,
    detect_anomaly,
    grad,
    hessian,
    jacobian,
    jvp,
    no_grad,
    primitive,
    value_and_grad,
)
from autograd.tensor_ops import MatmulGrad
from autograd.testing.strategies import expressions

# The torch fixture is the module, the same for every example: nothing to reset between them.
fixture_ok = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
directions = st.lists(st.floats(-1.0, 1.0), min_size=4, max_size=4)


def assert_close(ours: float, theirs: float, scale: float) -> None:
    # Forward and reverse sum the same products in different orders: agreement to 1e-9
    # relative to the size of the derivatives, far below any error in a derivative rule.
    tolerance = 1e-9 * (1.0 + scale)
    assert abs(ours - theirs) <= tolerance, (ours, theirs, tolerance)


def reverse_dot(f, inputs, tangent) -> tuple[float, float]:
    """sum_i df/dx_i * t_i from the reverse pass, and the scale of its terms."""
    grads = grad(f, tuple(range(len(inputs))))(*inputs)
    terms = [g * t for g, t in zip(grads, tangent)]
    return sum(terms), sum(abs(g) for g in grads)


# --- jvp on scalar expressions ----------------------------------------------------------


@given(expressions(), directions)
def test_jvp_equals_the_gradient_dotted_with_the_tangent(expr, direction):
    f, inputs = expr
    tangent = direction[: len(inputs)]
    value, derivative = jvp(f, inputs, tangent)
    want, scale = reverse_dot(f, inputs, tangent)
    assert type(value) is float and type(derivative) is float
    assert value == f(*(Value(x) for x in inputs)).data
    assert_close(derivative, want, scale)


@given(expressions(), directions)
def test_jvp_against_central_finite_differences(expr, direction):
    # The strategy keeps every operand 1e-4 inside its domain for steps of 1e-6 per input;
    # a step of h along a tangent of entries in [-1, 1] moves each input by at most h.
    f, inputs = expr
    tangent = direction[: len(inputs)]
    h = 1e-6
    with no_grad():
        ahead = f(*(Value(x + h * t) for x, t in zip(inputs, tangent))).data
        behind = f(*(Value(x - h * t) for x, t in zip(inputs, tangent))).data
    numeric = (ahead - behind) / (2 * h)
    _, derivative = jvp(f, inputs, tangent)
    assert abs(derivative - numeric) <= 1e-5 + 1e-3 * abs(numeric), (derivative, numeric)


def test_jvp_of_a_known_function_and_its_unit_directions():
    f = lambda x, y: x * y + x.sin() * y.exp()
    x, y = 0.7, -0.4
    dx = y + math.cos(x) * math.exp(y)
    dy = x + math.sin(x) * math.exp(y)
    assert jvp(f, (x, y), (1.0, 0.0)) == (f(Value(x), Value(y)).data, pytest.approx(dx, 1e-15))
    assert jvp(f, [x, y], [0.0, 1.0])[1] == pytest.approx(dy, rel=1e-15)
    assert jvp(f, (x, y), (2.0, -3.0))[1] == pytest.approx(2 * dx - 3 * dy, rel=1e-14)
    assert jvp(f, (x, y), (0.0, 0.0))[1] == 0.0


def test_jvp_of_the_identity_a_constant_and_an_unused_argument():
    assert jvp(lambda x: x, (2.0,), (3.0,)) == (2.0, 3.0)
    assert jvp(lambda x: Value(5.0), (2.0,), (3.0,)) == (5.0, 0.0)
    assert jvp(lambda x, y: x * 4, (2.0, 1.0), (0.5, 100.0)) == (8.0, 2.0)
    assert jvp(lambda x: x * x, (3,), (1,)) == (9.0, 6.0)  # ints are numbers


def test_jvp_runs_one_forward_sweep_and_no_reverse_pass(monkeypatch):
    sweeps = []

    def reverse_pass(*args, **kwargs):
        raise AssertionError("jvp ran a reverse pass")

    def counting_sweep(*args, **kwargs):
        sweeps.append(1)
        return sweep(*args, **kwargs)

    sweep = functional.forward_sweep
    monkeypatch.setattr(functional, "gradients", reverse_pass)
    monkeypatch.setattr(functional, "forward_sweep", counting_sweep)
    x = Value(1.5)
    assert jvp(lambda a, b: (a * b).tanh() + a * x, (0.5, 2.0), (1.0, 1.0))[1] != 0.0
    assert len(sweeps) == 1
    assert x.grad == 0.0  # nothing is written into .grad


def test_constants_and_the_part_of_the_graph_the_inputs_do_not_reach_cost_nothing(monkeypatch):
    # A node's tangent is computed only from operands that have one: the 200-op chain built
    # on a captured leaf, and the constants 2 and 3, take no forward step.
    steps = []
    jvp_of = Value._jvp
    monkeypatch.setattr(Value, "_jvp", staticmethod(lambda l, t: steps.append(1) or jvp_of(l, t)))
    p = Value(0.1)
    chain = p
    for _ in range(200):
        chain = (chain * 0.5).tanh() + p
    _, derivative = jvp(lambda x: (2 * x + 3) * chain, (1.0,), (1.0,))
    assert derivative == pytest.approx(2 * chain.data, rel=1e-15)
    assert len(steps) == 3  # into 2 * x, into (2 * x) + 3, into (2 * x + 3) * chain


def test_jvp_under_no_grad_still_differentiates():
    with no_grad():
        assert jvp(lambda x: x * x * x, (2.0,), (1.0,)) == (8.0, 12.0)


def test_jvp_of_a_primitive():
    softplus = primitive(
        "softplus", lambda x: math.log1p(math.exp(x)), lambda x, out: 1 / (1 + math.exp(-x))
    )
    hypot = primitive("hypot", lambda a, b: math.hypot(a, b), lambda a, b, out: (a / out, b / out))
    assert jvp(lambda x: softplus(x), (0.0,), (2.0,))[1] == 1.0
    assert jvp(lambda a, b: hypot(a, b), (3.0, 4.0), (1.0, 2.0))[1] == pytest.approx(2.2)


def test_jvp_under_detect_anomaly_names_the_op_of_an_infinite_tangent():
    with detect_anomaly(), pytest.raises(FloatingPointError, match="sqrt: tangent flowing from"):
        jvp(lambda x: x.sqrt(), (0.0,), (1.0,))
    assert jvp(lambda x: x.sqrt(), (0.0,), (1.0,))[1] == math.inf  # IEEE without it


# --- nesting: forward over reverse, reverse over forward, forward over forward ---------


def test_grad_of_jvp_and_jvp_of_grad_are_second_derivatives():
    f = lambda x: x.sin() * x
    x = 0.8
    d2 = 2 * math.cos(x) - x * math.sin(x)
    assert grad(lambda v: jvp(f, (v,), (1.0,))[1])(x) == pytest.approx(d2, rel=1e-14)
    assert jvp(grad(f), (x,), (1.0,))[1] == pytest.approx(d2, rel=1e-14)
    assert jvp(lambda v: jvp(f, (v,), (1.0,))[1], (x,), (1.0,))[1] == pytest.approx(d2, rel=1e-14)


def test_jvp_given_nodes_returns_nodes_with_graphs():
    x = Value(0.5)
    value, tangent = jvp(lambda v: v.exp() * v, (x,), (1.0,))
    assert isinstance(value, Value) and isinstance(tangent, Value)
    assert tangent.data == pytest.approx(math.exp(0.5) * 1.5, rel=1e-15)
    tangent.backward()  # d/dx (e^x (1 + x)) = e^x (2 + x)
    assert x.grad == pytest.approx(math.exp(0.5) * 2.5, rel=1e-15)
    # A node tangent is differentiated through too: d/dt of f'(x) t is f'(x).
    assert grad(lambda t: jvp(lambda v: v * v, (3.0,), (t,))[1])(1.0) == 6.0
    assert isinstance(jvp(lambda v: Value(2.0), (x,), (1.0,))[1], Value)  # zero, as a node


def test_jvp_nested_does_not_confuse_the_inner_and_outer_variables():
    # JAX's check: the inner derivative of x + y along y is 1, so the outer is x * 1.
    assert grad(lambda x: x * jvp(lambda y: x + y, (x,), (1.0,))[1])(2.0) == 1.0
    # Captured x inside jvp of plain numbers: d/dx [x * d/dy (x * y)] = d/dx x^2 = 2x.
    assert grad(lambda x: x * jvp(lambda y: x * y, (2.0,), (1.0,))[1])(3.0) == 6.0


def test_value_and_grad_of_jvp():
    value, derivative = value_and_grad(lambda x: jvp(lambda y: y**3, (x,), (1.0,))[1])(2.0)
    assert (value, derivative) == (12.0, 12.0)


# --- jvp on Tensors ----------------------------------------------------------------------

rng = np.random.default_rng(12)
A = rng.normal(size=(3, 4))
B = rng.normal(size=(4,))
C = rng.normal(size=(3, 1))
M = rng.normal(size=(4, 2))
S = rng.normal(size=(2, 3, 4))
POS = rng.uniform(0.5, 2.0, size=(3, 4))

# name: (ours, theirs (torch), arguments); each uses one kind of local derivative or more.
TENSOR_CASES = {
    "broadcast *,+": (lambda a, b: a * b + b, lambda a, b: a * b + b, (A, B)),
    "broadcast -,/ column": (lambda a, c: (a - c) / (c * c + 1.0), None, (A, C)),
    "broadcast both": (lambda c, b: c * b, None, (C, B)),
    "constant broadcast": (lambda c: c + np.ones((3, 4)), None, (C,)),
    "elementwise": (
        lambda a: a.exp() + a.tanh() * a.sin() - a.cos() + a.sigmoid() + a.relu() + a.abs(),
        lambda a: a.exp() + a.tanh() * a.sin() - a.cos() + a.sigmoid() + a.relu() + a.abs(),
        (A,),
    ),
    "log sqrt pow": (
        lambda p: p.log() * p.sqrt() + p**2.5 + p**p,
        lambda p: p.log() * p.sqrt() + p**2.5 + p**p,
        (POS,),
    ),
    "matmul": (lambda a, m: a @ m, lambda a, m: a @ m, (A, M)),
    "matmul batch": (lambda s, m: s @ m, lambda s, m: s @ m, (S, M)),
    "matmul vector right": (lambda a, b: a @ b, lambda a, b: a @ b, (A, B)),
    "matmul vector left": (lambda b, m: b @ m, lambda b, m: b @ m, (B, M)),
    "matmul constant": (lambda m: A @ m, None, (M,)),
    "sum": (lambda a: a.sum(axis=0), lambda a: a.sum(dim=0), (A,)),
    "sum all": (lambda a: a.sum(), lambda a: a.sum(), (A,)),
    "mean keepdims": (
        lambda s: s.mean(axis=(0, 2), keepdims=True),
        lambda s: s.mean(dim=(0, 2), keepdim=True),
        (S,),
    ),
    "max": (lambda a: a.max(axis=1), lambda a: a.amax(dim=1), (A,)),
    "max all keepdims": (
        lambda s: s.max(keepdims=True),
        lambda s: s.amax(dim=(0, 1, 2), keepdim=True),
        (S,),
    ),
    "reshape": (lambda a: a.reshape(2, 6) * 2.0, lambda a: a.reshape(2, 6) * 2.0, (A,)),
    "transpose": (
        lambda s: s.transpose(2, 0, 1) + 1.0,
        lambda s: s.permute(2, 0, 1) + 1.0,
        (S,),
    ),
    ".T": (lambda a: a.T @ a, lambda a: a.T @ a, (A,)),
    "index repeated": (lambda a: a[[0, 0, 2]], lambda a: a[[0, 0, 2]], (A,)),
    "index basic": (lambda s: s[1, :, ::2], lambda s: s[1, :, ::2], (S,)),
    "index pairs": (
        lambda a: a[np.arange(3), np.array([1, 3, 1])],
        lambda a: a[np.arange(3), np.array([1, 3, 1])],
        (A,),
    ),
    "softmax": (lambda a: a.softmax(axis=0), lambda a: a.softmax(dim=0), (A,)),
    "log_softmax": (lambda s: s.log_softmax(), lambda s: s.log_softmax(dim=-1), (S,)),
    "a small network": (
        lambda a, m, b: (
            -((a @ m).tanh().log_softmax()[np.arange(3), np.array([0, 1, 1])]).mean()
            + (b * b).sum() * 0.01
        ),
        lambda a, m, b: (
            -((a @ m).tanh().log_softmax(dim=-1)[np.arange(3), np.array([0, 1, 1])]).mean()
            + (b * b).sum() * 0.01
        ),
        (A, M, B),
    ),
}


def tangents_for(arguments, seed=5):
    generator = np.random.default_rng(seed)
    return tuple(generator.normal(size=np.shape(a)) for a in arguments)


def evaluate(f, arguments) -> np.ndarray:
    with no_grad():
        return np.asarray(f(*(Tensor(a) for a in arguments)).data)


@pytest.mark.parametrize("name", list(TENSOR_CASES))
def test_tensor_jvp_is_the_adjoint_of_the_reverse_pass(name):
    # <u, J t> (forward) == <J^T u, t> (reverse) for a random cotangent u.
    f, _, arguments = TENSOR_CASES[name]
    tangent = tangents_for(arguments)
    value, derivative = jvp(f, arguments, tangent)
    np.testing.assert_array_equal(value, evaluate(f, arguments))
    assert isinstance(derivative, np.ndarray) and derivative.shape == np.shape(value)
    u = np.random.default_rng(7).normal(size=np.shape(value))
    grads = grad(lambda *xs: (f(*xs) * u).sum(), tuple(range(len(arguments))))(*arguments)
    forward = float((u * derivative).sum())
    reverse = sum(float((g * t).sum()) for g, t in zip(grads, tangent))
    assert forward == pytest.approx(reverse, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("name", list(TENSOR_CASES))
def test_tensor_jvp_against_central_finite_differences(name):
    f, _, arguments = TENSOR_CASES[name]
    tangent = tangents_for(arguments)
    h = 1e-6
    ahead = evaluate(f, [a + h * t for a, t in zip(arguments, tangent)])
    behind = evaluate(f, [a - h * t for a, t in zip(arguments, tangent)])
    _, derivative = jvp(f, arguments, tangent)
    np.testing.assert_allclose(derivative, (ahead - behind) / (2 * h), rtol=1e-6, atol=1e-7)


@pytest.mark.oracle
@pytest.mark.parametrize("name", [n for n, case in TENSOR_CASES.items() if case[1] is not None])
def test_tensor_jvp_matches_torch_func_jvp(torch, name):
    f, theirs, arguments = TENSOR_CASES[name]
    tangent = tangents_for(arguments)
    value, derivative = jvp(f, arguments, tangent)
    want_value, want = torch.func.jvp(
        theirs,
        tuple(torch.from_numpy(a) for a in arguments),
        tuple(torch.from_numpy(t) for t in tangent),
    )
    np.testing.assert_allclose(value, want_value.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(derivative, want.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.oracle
@fixture_ok
@given(
    st.data(),
    st.sampled_from(["+", "-", "*", "/"]),
    hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
)
def test_tensor_jvp_through_broadcasting_matches_torch(torch, data, op, shapes):
    sa, sb = shapes.input_shapes
    a = data.draw(hnp.arrays(np.float64, sa, elements=st.floats(-3, 3)))
    b = data.draw(hnp.arrays(np.float64, sb, elements=st.floats(0.5, 3)))
    ta = data.draw(hnp.arrays(np.float64, sa, elements=st.floats(-1, 1)))
    tb = data.draw(hnp.arrays(np.float64, sb, elements=st.floats(-1, 1)))
    apply = {
        "+": lambda x, y: x + y,
        "-": lambda x, y: x - y,
        "*": lambda x, y: x * y,
        "/": lambda x, y: x / y,
    }[op]
    value, derivative = jvp(apply, (a, b), (ta, tb))
    want_value, want = torch.func.jvp(
        apply,
        (torch.from_numpy(a), torch.from_numpy(b)),
        (torch.from_numpy(ta), torch.from_numpy(tb)),
    )
    assert derivative.shape == shapes.result_shape
    np.testing.assert_allclose(value, want_value.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(derivative, want.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.oracle
@fixture_ok
@given(expressions(), directions)
def test_jvp_of_expressions_matches_torch_func_jvp(torch, expr, direction):
    f, inputs = expr
    tangent = direction[: len(inputs)]
    value, derivative = jvp(f, inputs, tangent)
    want_value, want = torch.func.jvp(
        f,
        tuple(torch.tensor(x, dtype=torch.float64) for x in inputs),
        tuple(torch.tensor(t, dtype=torch.float64) for t in tangent),
    )
    assert_close(value, float(want_value), abs(float(want_value)))
    _, scale = reverse_dot(f, inputs, tangent)
    assert_close(derivative, float(want), scale)


def test_tensor_jvp_of_grad_is_the_hessian_times_the_tangent():
    # Forward over reverse: the gradient's graph (create_graph ops: broadcast_to,
    # scatter_add, ...) swept forwards. And reverse over forward, grad of jvp.
    f = lambda v: (v[[0, 0, 2]].softmax() * v.tanh()[:3]).sum() * (v @ v) + v.max()
    x = np.array([0.3, -0.7, 1.1, 0.2])
    t = np.array([1.0, -2.0, 0.5, 0.25])
    want = hessian(f)(x) @ t
    np.testing.assert_allclose(jvp(grad(f), (x,), (t,))[1], want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        grad(lambda v: jvp(f, (v,), (t,))[1])(x), want, rtol=1e-12, atol=1e-12
    )


@pytest.mark.oracle
def test_tensor_hessian_vector_product_matches_torch(torch):
    f = lambda v: ((v.reshape(2, 2) @ v.reshape(2, 2).T).log_softmax() * v.reshape(2, 2)).mean()
    g = lambda v: (
        (v.reshape(2, 2) @ v.reshape(2, 2).T).log_softmax(dim=-1) * v.reshape(2, 2)
    ).mean()
    x = np.array([0.3, -0.7, 1.1, 0.2])
    t = np.array([1.0, -2.0, 0.5, 0.25])
    _, want = torch.func.jvp(torch.func.grad(g), (torch.from_numpy(x),), (torch.from_numpy(t),))
    np.testing.assert_allclose(jvp(grad(f), (x,), (t,))[1], want.numpy(), rtol=1e-10, atol=1e-12)


def test_tensor_jvp_returns_arrays_of_the_output_shape():
    value, derivative = jvp(lambda v: v.sum(), (np.ones(3),), (np.arange(3.0),))
    assert isinstance(derivative, np.ndarray) and derivative.shape == () and derivative == 3.0
    value, derivative = jvp(lambda v: Tensor(np.ones((2, 2))), (np.ones(3),), (np.ones(3),))
    assert derivative.tolist() == [[0.0, 0.0], [0.0, 0.0]]
    seed = np.array([1.0, 2.0])
    _, derivative = jvp(lambda v: v, (np.zeros(2),), (seed,))
    derivative[0] = 99.0  # the result is its own array, not the caller's tangent
    assert seed.tolist() == [1.0, 2.0]


def test_tensor_jvp_of_a_primitive_with_broadcasting():
    scaled = primitive("scaled", lambda a, b: a * np.exp(b), lambda a, b, out: (np.exp(b), out))
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(4,))
    ta, tb = tangents_for((a, b))
    _, derivative = jvp(lambda x, y: scaled(x, y), (a, b), (ta, tb))
    np.testing.assert_allclose(derivative, ta * np.exp(b) + a * np.exp(b) * tb, rtol=1e-14)


def test_tensor_jvp_with_a_captured_parameter_leaves_its_grad_alone():
    W = Tensor(rng.normal(size=(4, 2)))
    _, derivative = jvp(lambda x: (x @ W).tanh().sum(), (A,), (np.ones((3, 4)),))
    assert W.grad is None
    want = ((1 - np.tanh(A @ W.data) ** 2) * (np.ones((3, 4)) @ W.data)).sum()
    assert float(derivative) == pytest.approx(want, rel=1e-12)


def test_tensor_jvp_applies_the_matmul_map_only_toward_the_argument(monkeypatch):
    # In X @ W with X a data batch (a constant), forward mode computes t_W's product only.
    calls = []
    forward = MatmulGrad.jvp
    monkeypatch.setattr(
        MatmulGrad, "jvp", lambda self, t, s: calls.append(1) or forward(self, t, s)
    )
    jvp(lambda w: A @ w, (M,), (np.ones((4, 2)),))
    assert len(calls) == 1


# --- jacobian ----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_jacobian_of_one_output_and_one_argument_is_one_by_one(mode):
    J = jacobian(lambda x: x.sin(), mode=mode)(0.5)
    assert J == [[math.cos(0.5)]] and type(J[0][0]) is float
    assert jacobian(lambda x, y: x * y, 1, mode)(2.0, 5.0) == [[2.0]]
    assert jacobian(lambda x, y: x * y, (1,), mode)(2.0, 5.0) == [[2.0]]


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_jacobian_m_by_n(mode):
    f = lambda x, y, z: (x * y, y.exp() * z, x + z * z, Value(7.0))
    x, y, z = 0.5, -1.0, 2.0
    J = jacobian(f, (0, 1, 2), mode)(x, y, z)
    want = [
        [y, x, 0.0],
        [0.0, math.exp(y) * z, math.exp(y)],
        [1.0, 0.0, 2 * z],
        [0.0, 0.0, 0.0],
    ]
    assert J == [[pytest.approx(w, rel=1e-15) for w in row] for row in want]
    assert all(type(d) is float for row in J for d in row)
    columns = jacobian(f, (2, 0, 1), mode)(x, y, z)  # in argnums order
    assert columns == [[row[2], row[0], row[1]] for row in J]


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_jacobian_passes_the_other_arguments_and_keywords_unchanged(mode):
    seen = []

    def f(x, n, *, scale=1.0):
        seen.append((type(x), type(n)))
        return [x**n * scale, x * scale]

    assert jacobian(f, mode=mode)(2.0, 3, scale=0.5) == [[6.0], [0.5]]
    assert seen == [(Value, int)]


def test_jacobian_counts_its_passes_one_per_output_or_one_per_input(monkeypatch):
    # .passes is the number of passes the last call ran: counted here at the engine too.
    ran = {"reverse": 0, "forward": 0}
    propagate, sweep = functional.gradients, functional.forward_sweep

    def counting(kind, function):
        def run(*args, **kwargs):
            ran[kind] += 1
            return function(*args, **kwargs)

        return run

    monkeypatch.setattr(functional, "gradients", counting("reverse", propagate))
    monkeypatch.setattr(functional, "forward_sweep", counting("forward", sweep))
    f = lambda a, b: [a * b, a + b, a - b, a / b, (a * b).exp()]  # m = 5, n = 2
    by_rows = jacobian(f, (0, 1))
    by_columns = jacobian(f, (0, 1), mode="forward")
    assert by_rows.passes == 0 and by_columns.passes == 0  # before any call
    assert by_rows(1.0, 2.0) == by_columns(1.0, 2.0)
    assert (by_rows.passes, by_columns.passes) == (5, 2)
    assert ran == {"reverse": 5, "forward": 2}
    v = np.ones((2, 3))  # arrays: out.size reverse passes or x.size sweeps
    for mode, passes in (("reverse", 3), ("forward", 6)):
        before = dict(ran)
        jac = jacobian(lambda t: t.sum(axis=0), mode=mode)
        assert jac(v).shape == (3, 2, 3)
        assert jac.passes == passes and ran[mode] - before[mode] == passes


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_jacobian_of_an_array_function_has_shape_out_shape_plus_x_shape(mode):
    x = rng.normal(size=(2, 3))
    J = jacobian(lambda t: (t * t).sum(axis=0), mode=mode)(x)
    want = np.zeros((3, 2, 3))
    for i in range(2):
        for j in range(3):
            want[j, i, j] = 2 * x[i, j]
    assert J.shape == (3, 2, 3)
    np.testing.assert_allclose(J, want, rtol=1e-15)
    # A scalar output: the gradient's shape. An output that ignores x: zeros.
    np.testing.assert_allclose(jacobian(lambda t: (t * t).sum(), mode=mode)(x), 2 * x)
    zero = jacobian(lambda t: Tensor(np.ones(2)), mode=mode)(x)
    assert zero.shape == (2, 2, 3) and not zero.any()


@pytest.mark.parametrize("name", list(TENSOR_CASES))
def test_jacobian_forward_equals_reverse_on_tensors(name):
    f, _, arguments = TENSOR_CASES[name]
    nums = tuple(range(len(arguments)))
    by_rows = jacobian(f, nums)(*arguments)
    by_columns = jacobian(f, nums, mode="forward")(*arguments)
    assert isinstance(by_rows, tuple) and len(by_rows) == len(arguments)
    for a, rows, columns in zip(arguments, by_rows, by_columns):
        assert rows.shape == np.shape(evaluate(f, arguments)) + a.shape
        np.testing.assert_allclose(columns, rows, rtol=1e-12, atol=1e-14)


@given(expressions())
def test_jacobian_forward_equals_reverse_on_expressions(expr):
    f, inputs = expr
    several = lambda *xs: [f(*xs), f(*xs) * xs[0], xs[-1] - f(*xs).tanh()]
    nums = tuple(range(len(inputs)))
    by_rows, by_columns = jacobian(several, nums), jacobian(several, nums, mode="forward")
    rows, columns = by_rows(*inputs), by_columns(*inputs)
    assert len(rows) == 3 and all(len(row) == len(inputs) for row in rows)
    assert (by_rows.passes, by_columns.passes) == (3, len(inputs))
    scale = max(abs(d) for row in rows for d in row)
    for row, column_row in zip(rows, columns):
        for d_reverse, d_forward in zip(row, column_row):
            assert_close(d_forward, d_reverse, scale)
    first = grad(f, nums)(*inputs)
    assert rows[0] == list(first)  # the first row is grad's, pass for pass


@pytest.mark.oracle
@fixture_ok
@given(expressions(max_leaves=3))
def test_jacobian_of_expressions_matches_torch(torch, expr):
    f, inputs = expr
    several = lambda *xs: (f(*xs), f(*xs) * xs[0], (f(*xs) * 0.1).exp())
    nums = tuple(range(len(inputs)))
    theirs = torch.autograd.functional.jacobian(
        several, tuple(torch.tensor(x, dtype=torch.float64) for x in inputs)
    )
    want = [[float(d) for d in row] for row in theirs]
    scale = max(abs(d) for row in want for d in row)
    for mode in ("reverse", "forward"):
        ours = jacobian(several, nums, mode)(*inputs)
        for row, want_row in zip(ours, want):
            for d, w in zip(row, want_row):
                assert_close(d, w, scale)


@pytest.mark.oracle
@pytest.mark.parametrize("name", [n for n, case in TENSOR_CASES.items() if case[1] is not None])
def test_tensor_jacobian_matches_torch(torch, name):
    f, theirs, arguments = TENSOR_CASES[name]
    want = torch.autograd.functional.jacobian(theirs, tuple(torch.from_numpy(a) for a in arguments))
    nums = tuple(range(len(arguments)))
    for mode in ("reverse", "forward"):
        ours = jacobian(f, nums, mode)(*arguments)
        for mine, reference in zip(ours, want):
            np.testing.assert_allclose(mine, reference.numpy(), rtol=1e-10, atol=1e-12)


# --- errors ------------------------------------------------------------------------------

identity = lambda x: x  # noqa: E731


@pytest.mark.parametrize(
    ("primals", "tangents", "error", "message"),
    [
        (1.0, (1.0,), TypeError, r"jvp: primals must be a tuple or list .* got float"),
        ((1.0,), 1.0, TypeError, r"jvp: tangents must be a tuple or list .* got float"),
        ((1.0,), (), ValueError, r"jvp: primals has 1 entry but tangents has 0 entries"),
        ((1.0,), (1.0, 2.0), ValueError, r"primals has 1 entry but tangents has 2 entries"),
        (("a",), (1.0,), TypeError, r"jvp: primals\[0\] must be a number, or an array"),
        ((None,), (1.0,), TypeError, r"jvp: primals\[0\] must be a number.* got NoneType"),
        ((1.0,), ("a",), TypeError, r"jvp: tangents\[0\] must be a number like primals\[0\]"),
        ((1.0,), (np.ones(2),), ValueError, r"tangents\[0\] has shape \(2,\) but primals\[0\] is"),
        ((np.ones(2),), (1.0,), ValueError, r"tangents\[0\] has shape \(\) but primals\[0\] has "),
        ((np.ones(2),), (np.ones(3),), ValueError, r"tangents\[0\] has shape \(3,\) but primals"),
        ((np.ones(2),), (Value(1.0),), TypeError, r"tangents\[0\] is a Value but primals\[0\] is"),
        ((1.0,), (Tensor(1.0),), TypeError, r"tangents\[0\] is a Tensor but primals\[0\] is a n"),
    ],
)
def test_jvp_rejects_bad_primals_and_tangents_naming_them(primals, tangents, error, message):
    with pytest.raises(error, match=message):
        jvp(identity, primals, tangents)


def test_jvp_checks_its_arguments_before_calling_f():
    calls = []
    with pytest.raises(ValueError, match="tangents"):
        jvp(lambda x: calls.append(x) or x, (np.ones(2),), (np.ones(3),))
    assert calls == []


def test_jvp_rejects_an_f_that_returns_a_number():
    with pytest.raises(TypeError, match="jvp: f must return a Value or a Tensor, got float"):
        jvp(lambda x: 3.0, (1.0,), (1.0,))


def test_jacobian_rejects_a_bad_mode_at_once():
    with pytest.raises(ValueError, match="jacobian: mode must be 'reverse' or 'forward', got 'f'"):
        jacobian(identity, mode="f")


@pytest.mark.parametrize("argnums", [2, -3, (0, 2)])
def test_jacobian_argnums_out_of_range(argnums):
    with pytest.raises(ValueError, match=r"jacobian: argnums .* out of range for 2 argument"):
        jacobian(lambda x, y: x * y, argnums)(1.0, 2.0)


def test_jacobian_argnums_of_the_wrong_type():
    with pytest.raises(TypeError, match="jacobian: argnums must be an int or a tuple of ints"):
        jacobian(lambda x, y: x * y, "0")(1.0, 2.0)


@pytest.mark.parametrize(
    ("f", "args", "message"),
    [
        (lambda x: 2.0, (1.0,), r"jacobian: f must return a Value or a sequence of Values .*t"),
        (lambda x: [x, 2.0], (1.0,), r"jacobian: output 1 of f is a float, not a Value"),
        (lambda x: (x, x.exp(), "y"), (1.0,), r"output 2 of f is a str, not a Value"),
        (lambda t: [t.sum()], (np.ones(2),), r"jacobian: f must return a Tensor .* got list"),
        (lambda t: 1.0, (np.ones(2),), r"jacobian: f must return a Tensor .* got float"),
    ],
)
def test_jacobian_rejects_an_output_that_is_not_a_node(f, args, message):
    for mode in ("reverse", "forward"):
        with pytest.raises(TypeError, match=message):
            jacobian(f, mode=mode)(*args)


def test_jacobian_rejects_bad_and_mixed_arguments_naming_them():
    with pytest.raises(TypeError, match=r"jacobian: argument 1 must be a number.* got str"):
        jacobian(lambda x, y: x * y, (0, 1))(1.0, "b")
    with pytest.raises(TypeError, match="argument 1 is an array but argument 0 is a number"):
        jacobian(lambda x, y: x * y, (0, 1))(1.0, np.ones(2))


def test_jacobian_refuses_to_run_where_its_floats_would_hide_a_derivative():
    # Its result is floats: inside grad (given nodes, or closing over the outer variable)
    # the enclosing derivative would silently miss what flows through it.
    with pytest.raises(TypeError, match="jacobian: argument 0 is a Value; jacobian gives floats"):
        grad(lambda x: jacobian(lambda y: y * x)(x)[0][0] * x)(1.0)
    with pytest.raises(TypeError, match="jacobian: called inside a function that grad or jvp"):
        grad(lambda x: jacobian(lambda y: y * x)(2.0)[0][0] * x)(1.0)
    with pytest.raises(TypeError, match="jacobian: called inside"):
        jvp(lambda x: jacobian(lambda y: y * x)(2.0)[0][0] * x, (1.0,), (1.0,))


def test_outputs_that_share_a_graph_are_swept_over_it_once():
    # a trajectory: output k is the k-th step of one chain, so the outputs share prefixes;
    # the joint order holds every node once, each after its parents
    from autograd.functional import _joint_order

    x = Value(0.3, label="x")
    outs, y = [], x
    for _ in range(50):
        y = (y * 0.9).tanh() + x
        outs.append(y)
    order = _joint_order(outs)
    assert len(order) == len({id(n) for n in order})
    position = {id(n): k for k, n in enumerate(order)}
    for n in order:  # constant parents (the 0.9s) are not nodes of the order
        assert all(position[id(p)] < position[id(n)] for p in n.parents if not p.is_constant)
    assert {id(n) for n in outs} <= set(position)
    forward = jacobian(trajectory, mode="forward")(0.3)
    reverse = jacobian(trajectory, mode="reverse")(0.3)
    assert len(forward) == 50 and all(len(row) == 1 for row in forward)
    assert [r[0] for r in forward] == pytest.approx([r[0] for r in reverse], rel=1e-12)


def trajectory(t):
    outs, y = [], t
    for _ in range(50):
        y = (y * 0.9).tanh() + t
        outs.append(y)
    return outs
