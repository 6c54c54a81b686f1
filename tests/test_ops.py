"""Every op: its value and local gradients at fixed points against closed forms (math module),
and its backward() gradient against central finite differences on hypothesis-drawn inputs
inside its domain and away from its kinks.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd import Value


def close(got: float, want: float, rel: float = 1e-10, abs_: float = 1e-15) -> bool:
    return math.isclose(got, want, rel_tol=rel, abs_tol=abs_)


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


# Closed forms: name -> (build on a Value, value, derivative).
UNARY = {
    "neg": (lambda a: -a, lambda x: -x, lambda x: -1.0),
    "exp": (lambda a: a.exp(), math.exp, math.exp),
    "log": (lambda a: a.log(), math.log, lambda x: 1.0 / x),
    "tanh": (lambda a: a.tanh(), math.tanh, lambda x: 1.0 - math.tanh(x) ** 2),
    "sigmoid": (lambda a: a.sigmoid(), sigmoid, lambda x: sigmoid(x) * (1.0 - sigmoid(x))),
    "relu": (lambda a: a.relu(), lambda x: max(x, 0.0), lambda x: 1.0 if x > 0 else 0.0),
    "sqrt": (lambda a: a.sqrt(), math.sqrt, lambda x: 0.5 / math.sqrt(x)),
    "sin": (lambda a: a.sin(), math.sin, math.cos),
    "cos": (lambda a: a.cos(), math.cos, lambda x: -math.sin(x)),
    "abs": (lambda a: a.abs(), abs, lambda x: math.copysign(1.0, x) if x != 0 else 0.0),
}

# Fixed points per unary op, chosen inside the domain (kinks included where defined).
UNARY_POINTS = {
    "neg": [-2.0, 0.0, 3.5],
    "exp": [-3.0, 0.0, 0.5, 10.0],
    "log": [0.25, 1.0, math.e, 100.0],
    "tanh": [-2.0, 0.0, 0.3, 5.0],
    "sigmoid": [-4.0, 0.0, 1.5],
    "relu": [-1.5, 0.0, 2.0],
    "sqrt": [0.25, 1.0, 2.0, 49.0],
    "sin": [-1.0, 0.0, math.pi / 6, 2.0],
    "cos": [-1.0, 0.0, math.pi / 3, 2.0],
    "abs": [-1.5, 0.0, 2.0],
}


@pytest.mark.parametrize(
    "name, x", [(name, x) for name, points in UNARY_POINTS.items() for x in points]
)
def test_unary_op_value_and_local_grad_at_fixed_points(name, x):
    build, f, df = UNARY[name]
    a = Value(x)
    out = build(a)
    assert out.op == name
    assert close(out.data, f(x))
    assert close(out.local_grads[0], df(x))
    out.backward()
    assert close(a.grad, df(x))


def test_relu_and_abs_have_derivative_zero_at_zero():
    for build in (lambda a: a.relu(), lambda a: a.abs()):
        a = Value(0.0)
        out = build(a)
        assert out.data == 0.0
        assert out.local_grads == (0.0,)
        out.backward()
        assert a.grad == 0.0


def test_relu_and_abs_on_negative_zero():
    a = Value(-0.0)
    assert a.relu().local_grads == (0.0,)
    assert a.abs().local_grads == (0.0,)
    assert a.abs().data == 0.0


def test_known_exact_values():
    assert Value(0.0).exp().data == 1.0
    assert Value(1.0).log().data == 0.0
    assert Value(0.0).sigmoid().data == 0.5
    assert Value(0.0).sigmoid().local_grads == (0.25,)
    assert Value(9.0).sqrt().data == 3.0
    assert Value(0.0).tanh().local_grads == (1.0,)


def test_saturating_ops_are_stable_far_from_zero():
    # sigmoid(-1000) is 0 and sigmoid(1000) is 1 (as in PyTorch): no OverflowError from exp(1000).
    lo, hi = Value(-1000.0).sigmoid(), Value(1000.0).sigmoid()
    assert lo.data == 0.0 and hi.data == 1.0
    assert lo.local_grads == (0.0,) and hi.local_grads == (0.0,)
    assert Value(1000.0).tanh().data == 1.0
    assert Value(-1000.0).tanh().data == -1.0
    assert Value(-800.0).exp().data == 0.0


# Binary closed forms: name -> (build, value, (d/da, d/db)).
BINARY = {
    "+": (lambda a, b: a + b, lambda x, y: x + y, lambda x, y: (1.0, 1.0)),
    "-": (lambda a, b: a - b, lambda x, y: x - y, lambda x, y: (1.0, -1.0)),
    "*": (lambda a, b: a * b, lambda x, y: x * y, lambda x, y: (y, x)),
    "/": (lambda a, b: a / b, lambda x, y: x / y, lambda x, y: (1.0 / y, -x / (y * y))),
    "**": (
        lambda a, b: a**b,
        lambda x, y: x**y,
        lambda x, y: (y * x ** (y - 1), math.log(x) * x**y),
    ),
}

BINARY_POINTS = {
    "+": [(2.0, 3.0), (-1.5, 0.25)],
    "-": [(2.0, 3.0), (-1.5, 0.25)],
    "*": [(2.0, 3.0), (-1.5, 0.25), (0.0, 4.0)],
    "/": [(2.0, 3.0), (-1.5, 0.25), (0.0, -4.0)],
    "**": [(2.0, 3.0), (0.5, -1.5), (3.0, 0.0), (1.0, 2.5), (4.0, 0.5)],
}


@pytest.mark.parametrize(
    "name, x, y", [(name, x, y) for name, points in BINARY_POINTS.items() for x, y in points]
)
def test_binary_op_on_values_at_fixed_points(name, x, y):
    build, f, df = BINARY[name]
    a, b = Value(x), Value(y)
    out = build(a, b)
    da, db = df(x, y)
    assert out.op == name
    assert close(out.data, f(x, y))
    assert close(out.local_grads[0], da)
    assert close(out.local_grads[1], db)
    out.backward()
    assert close(a.grad, da)
    assert close(b.grad, db)


@pytest.mark.parametrize(
    "name, x, y", [(name, x, y) for name, points in BINARY_POINTS.items() for x, y in points]
)
def test_binary_op_with_a_number_on_either_side(name, x, y):
    build, f, df = BINARY[name]
    da, db = df(x, y)
    a = Value(x)
    right = build(a, y)  # Value op number
    assert close(right.data, f(x, y))
    assert close(right.local_grads[0], da)
    right.backward()
    assert close(a.grad, da)
    b = Value(y)
    left = build(x, b)  # number op Value
    assert close(left.data, f(x, y))
    assert close(left.local_grads[1], db)
    left.backward()
    assert close(b.grad, db)


@pytest.mark.parametrize(
    "x, p",
    [(-2.0, 3), (-2.0, 2.0), (-0.5, -1), (-3.0, -2), (0.0, 2), (0.0, 0), (5.0, 0), (2.0, -0.5)],
)
def test_power_with_a_number_exponent_including_negative_bases(x, p):
    # A negative base is fine with an integer exponent (also an integral float).
    a = Value(x)
    out = a**p
    assert close(out.data, x**p)
    want = p * x ** (p - 1) if p != 0 else 0.0
    assert close(out.local_grads[0], want)
    out.backward()
    assert close(a.grad, want)


def test_zero_to_the_zero_is_one():
    assert (Value(0.0) ** 0).data == 1.0


def test_number_base_with_value_exponent():
    b = Value(3.0)
    out = 2**b
    assert out.data == 8.0
    assert close(out.local_grads[1], math.log(2.0) * 8.0)
    out.backward()
    assert close(b.grad, math.log(2.0) * 8.0)


# --- every op against central finite differences -------------------------------------------

# Inputs kept moderate so that f stays well scaled; every draw is inside the op's domain and
# at least 1e-3 away from a kink (the finite-difference step is far smaller).
finite = dict(allow_nan=False, allow_infinity=False)
anywhere = st.floats(-5.0, 5.0, **finite)
positive = st.floats(0.05, 50.0, **finite)
off_kink = st.one_of(st.floats(-5.0, -1e-3, **finite), st.floats(1e-3, 5.0, **finite))
nonzero = st.one_of(st.floats(-5.0, -0.1, **finite), st.floats(0.1, 5.0, **finite))

UNARY_DOMAIN = {
    "neg": anywhere,
    "exp": anywhere,
    "log": positive,
    "tanh": anywhere,
    "sigmoid": anywhere,
    "relu": off_kink,
    "sqrt": positive,
    "sin": anywhere,
    "cos": anywhere,
    "abs": off_kink,
}

BINARY_DOMAIN = {
    "+": (anywhere, anywhere),
    "-": (anywhere, anywhere),
    "*": (anywhere, anywhere),
    "/": (anywhere, nonzero),
    "**": (st.floats(0.1, 5.0, **finite), st.floats(-3.0, 3.0, **finite)),
}


def central_difference(f, x: float) -> float:
    h = 1e-6 * max(1.0, abs(x))
    return (f(x + h) - f(x - h)) / (2 * h)


def agrees_with_fd(analytic: float, numeric: float) -> bool:
    return math.isclose(analytic, numeric, rel_tol=1e-5, abs_tol=1e-6)


@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data())
def test_unary_op_gradient_matches_finite_differences(name, data):
    build, f, _ = UNARY[name]
    x = data.draw(UNARY_DOMAIN[name], label="x")
    a = Value(x)
    out = build(a)
    assert close(out.data, f(x), rel=1e-12, abs_=1e-300)
    out.backward()
    numeric = central_difference(lambda t: build(Value(t)).data, x)
    assert agrees_with_fd(a.grad, numeric), (a.grad, numeric)


@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data())
def test_binary_op_gradients_match_finite_differences(name, data):
    build, f, _ = BINARY[name]
    xs, ys = BINARY_DOMAIN[name]
    x, y = data.draw(xs, label="x"), data.draw(ys, label="y")
    a, b = Value(x), Value(y)
    out = build(a, b)
    assert close(out.data, f(x, y), rel=1e-12, abs_=1e-300)
    out.backward()
    num_a = central_difference(lambda t: build(Value(t), Value(y)).data, x)
    num_b = central_difference(lambda t: build(Value(x), Value(t)).data, y)
    assert agrees_with_fd(a.grad, num_a), (a.grad, num_a)
    assert agrees_with_fd(b.grad, num_b), (b.grad, num_b)


@given(
    x=st.floats(-4.0, 4.0, **finite).filter(lambda t: abs(t) > 0.1),
    p=st.integers(-3, 4),
)
def test_power_with_integer_exponent_matches_finite_differences_on_any_sign(x, p):
    a = Value(x)
    out = a**p
    assert close(out.data, x**p)
    out.backward()
    numeric = central_difference(lambda t: (Value(t) ** p).data, x)
    assert agrees_with_fd(a.grad, numeric), (a.grad, numeric)
