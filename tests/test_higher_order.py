"""Higher-order gradients: backward(create_graph=True) and nested grad against closed forms.

Every derivative rule is written once (autograd/ops.py); under create_graph it is called again
with Values, so the second and third derivatives below exercise those very rules.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings

from autograd import Value, grad, no_grad, primitive
from autograd.gradcheck import gradcheck
from autograd.testing.strategies import expressions


def close(a: float, b: float, tol: float = 1e-10) -> bool:
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


def _sig(x: float) -> float:
    return 1 / (1 + math.exp(-x))


# name: (f on a Value, [f', f'', f'''] on floats, points)
CASES = {
    "sin": (lambda x: x.sin(), [math.cos, lambda x: -math.sin(x), lambda x: -math.cos(x)]),
    "cos": (lambda x: x.cos(), [lambda x: -math.sin(x), lambda x: -math.cos(x), math.sin]),
    "exp": (lambda x: x.exp(), [math.exp, math.exp, math.exp]),
    "log": (lambda x: x.log(), [lambda x: 1 / x, lambda x: -1 / x**2, lambda x: 2 / x**3]),
    "tanh": (
        lambda x: x.tanh(),
        [
            lambda x: 1 - math.tanh(x) ** 2,
            lambda x: -2 * math.tanh(x) * (1 - math.tanh(x) ** 2),
            lambda x: -2 * (1 - math.tanh(x) ** 2) * (1 - 3 * math.tanh(x) ** 2),
        ],
    ),
    "sigmoid": (
        lambda x: x.sigmoid(),
        [
            lambda x: _sig(x) * (1 - _sig(x)),
            lambda x: _sig(x) * (1 - _sig(x)) * (1 - 2 * _sig(x)),
            lambda x: _sig(x) * (1 - _sig(x)) * (1 - 6 * _sig(x) + 6 * _sig(x) ** 2),
        ],
    ),
    "sqrt": (
        lambda x: x.sqrt(),
        [lambda x: 0.5 * x**-0.5, lambda x: -0.25 * x**-1.5, lambda x: 0.375 * x**-2.5],
    ),
    "x**3": (lambda x: x**3, [lambda x: 3 * x * x, lambda x: 6 * x, lambda x: 6.0]),
    "x**-2": (lambda x: x**-2, [lambda x: -2 * x**-3, lambda x: 6 * x**-4, lambda x: -24 * x**-5]),
    "1/x": (lambda x: 1 / x, [lambda x: -1 / x**2, lambda x: 2 / x**3, lambda x: -6 / x**4]),
    "2**x": (
        lambda x: 2**x,
        [
            lambda x: math.log(2) * 2**x,
            lambda x: math.log(2) ** 2 * 2**x,
            lambda x: math.log(2) ** 3 * 2**x,
        ],
    ),
    "neg": (lambda x: -x * x, [lambda x: -2 * x, lambda x: -2.0, lambda x: 0.0]),
    "relu": (
        lambda x: x.relu() * x,
        [lambda x: 2 * x if x > 0 else 0.0, lambda x: 2.0 if x > 0 else 0.0, lambda x: 0.0],
    ),
    "abs": (
        lambda x: x.abs() * x,
        [lambda x: 2 * abs(x), lambda x: math.copysign(2.0, x), lambda x: 0.0],
    ),
}
POINTS = {
    "log": [0.3, 1.0, 4.5],
    "sqrt": [0.3, 1.0, 4.5],
    "x**-2": [-1.7, 0.6, 2.0],
    "1/x": [-1.7, 0.6, 2.0],
}
DEFAULT_POINTS = [-1.3, -0.4, 0.2, 0.9, 2.1]
PARAMS = [(name, x) for name in CASES for x in POINTS.get(name, DEFAULT_POINTS)]


@pytest.mark.parametrize("name, x", PARAMS)
def test_derivatives_by_nested_grad(name, x):
    f, (d1, d2, d3) = CASES[name]
    assert close(grad(f)(x), d1(x))
    assert close(grad(grad(f))(x), d2(x))
    assert close(grad(grad(grad(f)))(x), d3(x))


@pytest.mark.parametrize("name, x", PARAMS)
def test_derivatives_by_create_graph(name, x):
    f, (d1, d2, d3) = CASES[name]
    v = Value(x)
    f(v).backward(create_graph=True)
    g1 = v.grad
    assert isinstance(g1, Value) and close(g1.data, d1(x))
    v.grad = 0.0  # read the next derivative alone, not added to the first
    g1.backward(create_graph=True)
    g2 = v.grad
    assert isinstance(g2, Value) and close(g2.data, d2(x))
    v.grad = 0.0
    g2.backward()  # a plain pass for the last one
    assert type(v.grad) is float and close(v.grad, d3(x))


@pytest.mark.parametrize("x", [-2.0, -0.5, 0.0, 0.5, 3.0])
def test_cube_at_negative_and_zero_base(x):
    # x**3 has a constant exponent: its exponent edge must not take log(x) where x <= 0.
    assert close(grad(lambda v: v**3)(x), 3 * x * x)
    assert close(grad(grad(lambda v: v**3))(x), 6 * x)
    assert grad(grad(grad(lambda v: v**3)))(x) == 6.0


def test_power_with_a_value_exponent_in_both_arguments():
    a, b = 1.7, -0.6
    f = lambda x, y: x**y
    la = math.log(a)
    assert close(grad(f, 0)(a, b), b * a ** (b - 1))
    assert close(grad(f, 1)(a, b), la * a**b)
    assert close(grad(grad(f, 0), 0)(a, b), b * (b - 1) * a ** (b - 2))
    assert close(grad(grad(f, 1), 1)(a, b), la * la * a**b)
    mixed = a ** (b - 1) * (1 + b * la)
    assert close(grad(grad(f, 0), 1)(a, b), mixed)
    assert close(grad(grad(f, 1), 0)(a, b), mixed)
    assert close(grad(grad(grad(f, 1), 1), 1)(a, b), la**3 * a**b)
    assert close(grad(grad(grad(f, 0), 0), 0)(a, b), b * (b - 1) * (b - 2) * a ** (b - 3))


def test_power_where_pytorch_masks_its_gradient():
    # PyTorch masks d(a**b)/da to 0 at b == 0, so its derivative in b is lost there; ours
    # is b * a**(b - 1) for any a != 0, whose derivative in b is a**(b-1) (1 + b log a).
    assert close(grad(grad(lambda a, b: a**b, 0), 1)(1.5, 0.0), 1 / 1.5)
    assert close(grad(grad(grad(lambda a, b: a**b, 0), 0), 1)(1.5, 1.0), 1 / 1.5)
    # The third derivative of x**x is x**x ((log x + 1)**3 + 3 (log x + 1) / x - 1 / x**2),
    # 3 at x = 1 (PyTorch: 2).
    assert close(grad(grad(grad(lambda x: x**x)))(1.0), 3.0)


def test_power_with_a_value_exponent_by_create_graph():
    x, y = Value(1.7), Value(-0.6)
    (x**y).backward(create_graph=True)
    gx, gy = x.grad, y.grad
    x.grad = y.grad = 0.0
    gy.backward()  # d/dx and d/dy of d(x**y)/dy
    la = math.log(1.7)
    assert close(x.grad, 1.7 ** (-1.6) * (1 - 0.6 * la))
    assert close(y.grad, la * la * 1.7**-0.6)
    assert close(gx.data, -0.6 * 1.7**-1.6)


def test_division_in_both_arguments():
    f = lambda a, b: a / b
    assert close(grad(grad(f, 1), 1)(3.0, 2.0), 2 * 3.0 / 2.0**3)
    assert close(grad(grad(f, 0), 1)(3.0, 2.0), -1 / 2.0**2)
    assert grad(grad(f, 0), 0)(3.0, 2.0) == 0.0


# --- the create_graph pass itself -------------------------------------------------------


def test_every_reachable_node_gets_a_value_grad():
    x, w = Value(0.5, "x"), Value(-1.5, "w")
    h = x * w
    y = h.tanh()
    y.backward(create_graph=True)
    t = math.tanh(-0.75)
    for node, want in ((y, 1.0), (h, 1 - t * t), (x, -1.5 * (1 - t * t)), (w, 0.5 * (1 - t * t))):
        assert isinstance(node.grad, Value) and close(node.grad.data, want)


@pytest.mark.parametrize(
    "f",
    [
        lambda x, y: (x * y).tanh() + x.exp() / y - (x - y).sigmoid(),
        lambda x, y: (x * x + y).log() * (y.sin() + x.cos()) + (x * y).abs().sqrt(),
        lambda x, y: x**y + (-x).relu() + 2 ** (x * y) + x**3,
    ],
)
def test_create_graph_does_not_change_first_order_results(f):
    plain = [Value(0.7), Value(1.3)]
    f(*plain).backward()
    graphed = [Value(0.7), Value(1.3)]
    f(*graphed).backward(create_graph=True)
    for p, g in zip(plain, graphed):
        assert type(p.grad) is float and isinstance(g.grad, Value)
        assert close(g.grad.data, p.grad, 1e-14)


@settings(deadline=None)
@given(expressions())
def test_create_graph_does_not_change_first_order_results_on_random_expressions(expr):
    f, inputs = expr
    plain = [Value(x) for x in inputs]
    f(*plain).backward()
    graphed = [Value(x) for x in inputs]
    f(*graphed).backward(create_graph=True)
    for p, g in zip(plain, graphed):
        assert close(getattr(g.grad, "data", g.grad), p.grad, 1e-13)


def test_create_graph_grad_is_exactly_its_contributions():
    # A fresh .grad (0.0) is replaced, not added to: the gradient's graph starts at the
    # contributions, so its data is exact and it has no 0.0 operand in front.
    x = Value(0.3)
    x.exp().backward(create_graph=True)
    assert x.grad.data == math.exp(0.3)
    assert all(p.data != 0.0 for p in x.grad.parents)


def test_create_graph_accumulates_like_pytorch():
    x = Value(0.8)
    f = lambda v: v.sin() * v
    d1 = math.sin(0.8) + 0.8 * math.cos(0.8)
    d2 = 2 * math.cos(0.8) - 0.8 * math.sin(0.8)
    f(x).backward(create_graph=True)
    f(x).backward(create_graph=True)  # adds a second graph to the first
    g = x.grad
    assert isinstance(g, Value) and close(g.data, 2 * d1)
    x.grad = 0.0
    g.backward()
    assert close(x.grad, 2 * d2)


def test_plain_grad_then_create_graph_adds_a_constant():
    x = Value(0.8)
    x.sin().backward()  # a float grad
    x.sin().backward(create_graph=True)  # added to it as a node
    g = x.grad
    assert isinstance(g, Value) and close(g.data, 2 * math.cos(0.8))
    x.grad = 0.0
    g.backward()
    assert close(x.grad, -math.sin(0.8))  # the float part is a constant


def test_create_graph_then_plain_backward_keeps_accumulating():
    x = Value(0.8)
    x.sin().backward(create_graph=True)
    x.sin().backward()
    assert close(float(getattr(x.grad, "data", x.grad)), 2 * math.cos(0.8))


def test_create_graph_seed():
    x = Value(1.5)
    (x * x * x).backward(2.0, create_graph=True)
    g = x.grad
    assert close(g.data, 2 * 3 * 1.5**2)
    x.grad = 0.0
    g.backward()
    assert close(x.grad, 2 * 6 * 1.5)


def test_create_graph_inside_no_grad_still_builds_the_graph():
    x = Value(0.4)
    y = x.tanh()
    with no_grad():
        y.backward(create_graph=True)
    g = x.grad
    assert g.parents  # a graph, not a leaf
    x.grad = 0.0
    g.backward()
    assert close(x.grad, -2 * math.tanh(0.4) * (1 - math.tanh(0.4) ** 2))


def test_create_graph_on_a_leaf_and_on_a_shared_subexpression():
    x = Value(2.0)
    x.backward(create_graph=True)
    assert isinstance(x.grad, Value) and x.grad.data == 1.0
    x = Value(0.6)
    s = x.sin()
    y = s * s + s  # s reached along three edges
    y.backward(create_graph=True)
    g = x.grad
    assert close(g.data, (2 * math.sin(0.6) + 1) * math.cos(0.6))
    x.grad = 0.0
    g.backward()
    want = 2 * math.cos(0.6) ** 2 - (2 * math.sin(0.6) + 1) * math.sin(0.6)
    assert close(x.grad, want)


def test_a_chain_of_100000_nodes_differentiates_twice():
    # Both passes are iterative: no recursion limit on the gradient's graph either.
    x = Value(1.0)
    y = x
    for _ in range(50_000):
        y = y * 1.0 + 0.0
    (y * y).backward(create_graph=True)
    g = x.grad
    assert g.data == 2.0
    x.grad = 0.0
    g.backward()
    assert x.grad == 2.0


# --- primitives under create_graph ------------------------------------------------------


def test_a_primitive_written_with_math_names_itself_under_create_graph():
    softplus = primitive(
        "softplus", lambda x: math.log1p(math.exp(x)), lambda x, out: 1 / (1 + math.exp(-x))
    )
    assert close(grad(softplus)(0.3), _sig(0.3))  # first order works
    x = Value(0.3)
    with pytest.raises(NotImplementedError, match="softplus"):
        softplus(x).backward(create_graph=True)
    with pytest.raises(NotImplementedError, match="softplus"):
        grad(grad(softplus))(0.3)


def test_a_primitive_written_with_arithmetic_differentiates_twice():
    cube = primitive("cube", lambda x: x**3, lambda x, out: 3 * x * x)
    assert close(grad(grad(cube))(-1.2), 6 * -1.2)
    assert grad(grad(grad(cube)))(-1.2) == 6.0
    x = Value(0.7)
    (cube(x) * x).backward(create_graph=True)  # x^4
    g = x.grad
    x.grad = 0.0
    g.backward()
    assert close(x.grad, 12 * 0.7**2)


def test_a_binary_primitive_that_dispatches_on_its_inputs_differentiates_twice():
    # A derivative that must call exp works on floats (forward time) and on Values
    # (create_graph) when it dispatches, as the built-in rules do.
    exp = lambda v: math.exp(v) if isinstance(v, float) else v.exp()
    mulexp = primitive("mulexp", lambda a, b: a * math.exp(b), lambda a, b, out: (exp(b), out))
    a, b = 1.5, -0.4
    assert close(grad(grad(mulexp, 1), 1)(a, b), a * math.exp(b))
    assert close(grad(grad(mulexp, 0), 1)(a, b), math.exp(b))
    assert grad(grad(mulexp, 0), 0)(a, b) == 0.0
    assert gradcheck(grad(mulexp, 1), [a, b])


def test_relu_and_abs_second_derivative_is_zero_and_at_kink():
    assert grad(grad(lambda x: x.relu()))(1.5) == 0.0
    assert grad(grad(lambda x: x.relu()))(0.0) == 0.0
    assert grad(grad(lambda x: x.abs()))(-1.5) == 0.0
