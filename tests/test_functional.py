"""The functional API: grad, value_and_grad and hessian (nesting, argnums, modes)."""

from __future__ import annotations

import math

import pytest

from autograd import Value, grad, gradcheck, hessian, no_grad, value_and_grad
from autograd.gradcheck import GradcheckError


def close(a: float, b: float, tol: float = 1e-12) -> bool:
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


# --- grad -------------------------------------------------------------------------------


def test_grad_of_plain_numbers_is_a_float():
    d = grad(lambda x: x * x * x)(2.0)
    assert type(d) is float and d == 12.0


def test_grad_argnums_int_tuple_and_negative():
    # Plain arithmetic, because the arguments not differentiated arrive as plain floats.
    f = lambda x, y, z: x * y * y + z**3 * x + x * x
    x, y, z = 1.5, 0.3, -0.7
    dx = y * y + z**3 + 2 * x
    dy = 2 * x * y
    dz = 3 * z * z * x
    assert close(grad(f)(x, y, z), dx)
    assert close(grad(f, 1)(x, y, z), dy)
    assert close(grad(f, -1)(x, y, z), dz)
    assert close(grad(f, -3)(x, y, z), dx)
    both = grad(f, (2, 0))(x, y, z)
    assert isinstance(both, tuple) and len(both) == 2
    assert close(both[0], dz) and close(both[1], dx)
    single = grad(f, (1,))(x, y, z)
    assert isinstance(single, tuple) and len(single) == 1 and close(single[0], dy)
    assert close(grad(f, [0, -2])(x, y, z)[1], dy)  # a list works like a tuple


@pytest.mark.parametrize("argnums", [2, -3, (0, 2), (5,)])
def test_grad_argnums_out_of_range_is_a_value_error(argnums):
    with pytest.raises(ValueError, match=r"grad: argnums .* out of range for 2 argument"):
        grad(lambda x, y: x * y, argnums)(1.0, 2.0)
    with pytest.raises(ValueError, match="value_and_grad: argnums"):
        value_and_grad(lambda x, y: x * y, argnums)(1.0, 2.0)


@pytest.mark.parametrize("argnums", [1.5, "0", None])
def test_grad_argnums_of_the_wrong_type_is_a_type_error_naming_grad(argnums):
    with pytest.raises(TypeError, match="grad: argnums must be an int or a tuple of ints"):
        grad(lambda x, y: x * y, argnums)(1.0, 2.0)


def test_grad_passes_the_other_arguments_unchanged():
    seen = {}

    def f(x, n, scale):
        seen["types"] = (type(x), type(n), type(scale))
        return x**n * scale

    assert close(grad(f)(2.0, 3, 0.5), 0.5 * 3 * 4.0)
    assert seen["types"] == (Value, int, float)


def test_grad_of_an_argument_f_ignores_is_zero():
    assert grad(lambda x, y: Value(y) * y, 0)(1.0, 3.0) == 0.0
    assert grad(grad(lambda x, y: Value(y) * y, 0), 0)(1.0, 3.0) == 0.0
    assert grad(lambda x: Value(4.0))(1.0) == 0.0


def test_grad_of_the_identity_and_its_second_derivative():
    assert grad(lambda x: x)(3.0) == 1.0
    assert grad(grad(lambda x: x))(3.0) == 0.0


def test_grad_rejects_an_f_that_returns_a_number():
    with pytest.raises(TypeError, match="grad: f must return a Value"):
        grad(lambda x: 3.0)(1.0)


def test_grad_does_not_touch_dot_grad():
    x = Value(2.0)
    y = x * x
    y.backward()
    assert x.grad == 4.0
    # grad runs its own pass on the Values it is given; nothing is written into .grad.
    assert grad(lambda v: v * v * y)(x).data == 2 * 2.0 * 4.0
    assert x.grad == 4.0 and y.grad == 1.0


def test_grad_given_a_value_returns_a_node_with_a_graph():
    x = Value(0.5)
    d = grad(lambda v: v.sin())(x)
    assert isinstance(d, Value) and close(d.data, math.cos(0.5))
    d.backward()
    assert close(x.grad, -math.sin(0.5))


def test_grad_under_no_grad_still_differentiates():
    # grad is a function transform, like torch.func.grad: the mode around it does not
    # change its result (before: 0.0, because f's ops recorded nothing).
    with no_grad():
        assert grad(lambda x: x * x)(3.0) == 6.0
        assert close(grad(grad(lambda x: x.exp()))(0.5), math.exp(0.5))
        assert value_and_grad(lambda x: x * x * x)(2.0) == (8.0, 12.0)
        assert hessian(lambda x, y: x * x * y)(1.0, 2.0) == [[4.0, 2.0], [2.0, 0.0]]
    # ...and leaves the mode as it was.
    with no_grad():
        grad(lambda x: x * x)(3.0)
        assert not (Value(1.0) * 2).parents


# --- nesting ----------------------------------------------------------------------------


def test_nested_grad_is_the_second_and_third_derivative():
    f = lambda x: x.sin() * x
    x = 0.8
    d1 = math.sin(x) + x * math.cos(x)
    d2 = 2 * math.cos(x) - x * math.sin(x)
    d3 = -3 * math.sin(x) - x * math.cos(x)
    assert close(grad(f)(x), d1)
    assert close(grad(grad(f))(x), d2)
    assert close(grad(grad(grad(f)))(x), d3)


def test_mixed_partials_by_nesting_argnums():
    f = lambda x, y: (x * y).sin() + x * x * y.exp()
    x, y = 0.4, -0.6
    # d2f/dxdy = cos(xy) - xy sin(xy) + 2x e^y, in either order.
    want = math.cos(x * y) - x * y * math.sin(x * y) + 2 * x * math.exp(y)
    assert close(grad(grad(f, 0), 1)(x, y), want)
    assert close(grad(grad(f, 1), 0)(x, y), want)
    d_dx_both = grad(lambda a, b: grad(f, 0)(a, b), (0, 1))(x, y)
    assert close(d_dx_both[1], want)
    assert close(d_dx_both[0], -y * y * math.sin(x * y) + 2 * math.exp(y))


def test_nested_grad_does_not_confuse_the_inner_and_outer_variables():
    # JAX's classic check: the inner derivative of x + y in y is 1, so the outer function is
    # x * 1 and its derivative 1. Differentiating the inner call with respect to the outer
    # node itself (the same object) would also count the captured x and give 2.
    assert grad(lambda x: x * grad(lambda y: x + y)(x))(2.0) == 1.0
    # d/dy (x y^2) = 2xy, at y = x: 2x^2, whose derivative is 4x.
    assert close(grad(lambda x: grad(lambda y: x * y * y)(x))(1.5), 6.0)


def test_inner_grad_of_plain_numbers_closing_over_the_outer_variable():
    # Inside an enclosing grad, the inner gradient is a node even when its own argument is
    # a plain number, because f may use the enclosing variable: d/dx [d/dy (x*y)] = 1.
    assert grad(lambda x: grad(lambda y: x * y)(2.0))(3.0) == 1.0
    assert close(grad(lambda x: grad(lambda y: (x * y).sin())(2.0))(0.3), _d_dx_cos(0.3))


def _d_dx_cos(x: float) -> float:
    # d/dx [x cos(2x)] = cos(2x) - 2x sin(2x)
    return math.cos(2 * x) - 2 * x * math.sin(2 * x)


# --- value_and_grad ---------------------------------------------------------------------


def test_value_and_grad():
    f = lambda x, y: x.log() * y
    value, g = value_and_grad(f)(2.0, 3.0)
    assert type(value) is float and close(value, math.log(2.0) * 3.0)
    assert close(g, 1.5)
    value, (gx, gy) = value_and_grad(f, (0, 1))(2.0, 3.0)
    assert close(value, math.log(2.0) * 3.0) and close(gx, 1.5) and close(gy, math.log(2.0))


def test_value_and_grad_nests():
    # The outer grad differentiates the inner gradient, the inner value is a node too.
    inner = value_and_grad(lambda x: x**3)
    assert grad(lambda x: inner(x)[1])(2.0) == 12.0  # d/dx 3x^2
    assert grad(lambda x: inner(x)[0])(2.0) == 12.0  # d/dx x^3


# --- hessian ----------------------------------------------------------------------------


def test_hessian_of_a_quadratic_form_is_its_matrix():
    A = [[2.0, -1.0, 0.5], [-1.0, 3.0, 0.25], [0.5, 0.25, 1.5]]
    b = [0.3, -0.2, 1.0]

    def f(*x):
        quad = sum((x[i] * A[i][j] * x[j] for i in range(3) for j in range(3)), Value(0.0))
        return 0.5 * quad + sum((b[i] * x[i] for i in range(3)), Value(0.0))

    for point in ([0.0, 0.0, 0.0], [1.0, -2.0, 0.5], [10.0, 3.0, -7.0]):
        H = hessian(f)(*point)
        assert all(close(H[i][j], A[i][j]) for i in range(3) for j in range(3)), H


def test_hessian_of_a_non_polynomial_function():
    f = lambda x, y: x.sin() * y.exp() + x.log() * y * y
    x, y = 1.3, 0.4
    H = hessian(f)(x, y)
    want = [
        [-math.sin(x) * math.exp(y) - y * y / x**2, math.cos(x) * math.exp(y) + 2 * y / x],
        [math.cos(x) * math.exp(y) + 2 * y / x, math.sin(x) * math.exp(y) + 2 * math.log(x)],
    ]
    assert isinstance(H, list) and all(isinstance(row, list) for row in H)
    assert all(close(H[i][j], want[i][j]) for i in range(2) for j in range(2)), H
    assert all(type(h) is float for row in H for h in row)


def test_hessian_with_an_unused_and_a_linear_argument():
    H = hessian(lambda x, y, z: x * x * x + 2 * z)(2.0, 5.0, 1.0)
    assert H == [[12.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]


def test_hessian_of_one_argument():
    assert close(hessian(lambda x: x.tanh())(0.3)[0][0], _tanh2(0.3))


def _tanh2(x: float) -> float:
    t = math.tanh(x)
    return -2 * t * (1 - t * t)


def test_hessian_rejects_an_f_that_returns_a_number():
    with pytest.raises(TypeError, match="hessian: f must return a Value"):
        hessian(lambda x: 1.0)(2.0)


# --- gradcheck of a gradient (PyTorch's gradgradcheck) ----------------------------------


def test_gradcheck_of_grad_checks_second_derivatives():
    f = lambda x, y: (x * y).tanh() + x.exp() * y.sin()
    assert gradcheck(grad(f, 0), [0.3, -1.2])
    assert gradcheck(grad(f, 1), [0.3, -1.2])
    assert gradcheck(grad(grad(f, 0), 1), [0.7, 0.4])  # third derivatives


def test_gradcheck_of_grad_finds_a_wrong_second_derivative():
    # A derivative rule that is right to first order but not differentiable through: it
    # reads the number out of its input, so under create_graph it is a constant and the
    # second derivative comes out 0 instead of 6x. Only a check of grad(f) can see it.
    from autograd import primitive

    number = lambda v: getattr(v, "data", v)
    cube = primitive("cube", lambda x: x**3, lambda x, out: 3 * number(x) ** 2)
    assert gradcheck(lambda x: cube(x), [-0.8])  # first order is right...
    with pytest.raises(GradcheckError, match="gradcheck failed"):
        gradcheck(grad(lambda x: cube(x)), [-0.8])  # ...its derivative is not
    good = primitive("cube", lambda x: x**3, lambda x, out: 3 * x * x)
    assert gradcheck(grad(lambda x: good(x)), [-0.8])


def test_keyword_arguments_pass_through_undifferentiated():
    f = lambda x, y, *, scale=1.0: x * y * scale
    assert grad(f)(2.0, 3.0, scale=10.0) == 30.0
    assert grad(f, argnums=1)(2.0, 3.0, scale=10.0) == 20.0
    assert value_and_grad(f)(2.0, 3.0, scale=0.5) == (3.0, 1.5)
    assert grad(grad(f))(2.0, 3.0, scale=10.0) == 0.0


# --- hessian of a function of one array --------------------------------------------------------


def test_hessian_of_an_array_function_has_shape_x_shape_twice():
    import numpy as np

    x = np.array([[0.5, -1.0], [2.0, 0.3]])
    H = hessian(lambda t: (t * t * t).sum() + (t[0, 0] * t[1, 1]))(x)
    assert H.shape == (2, 2, 2, 2)
    want = np.zeros((2, 2, 2, 2))
    for i in range(2):
        for j in range(2):
            want[i, j, i, j] = 6 * x[i, j]
    want[0, 0, 1, 1] = want[1, 1, 0, 0] = 1.0
    np.testing.assert_allclose(H, want, atol=1e-12)


def test_hessian_of_an_array_function_against_finite_differences():
    import numpy as np

    def f(t):
        return (t.tanh() * t.sin()).sum() * (t * t).mean()

    x = np.array([0.3, -0.7, 1.1])
    H = hessian(f)(x)
    g = grad(f)
    eps = 1e-6
    numeric = np.stack(
        [(g(x + eps * np.eye(3)[k]) - g(x - eps * np.eye(3)[k])) / (2 * eps) for k in range(3)]
    )
    np.testing.assert_allclose(H, numeric, atol=1e-6)
    np.testing.assert_allclose(H, H.T, atol=1e-12)


def test_hessian_of_an_array_function_independent_of_it_is_zero():
    import numpy as np

    H = hessian(lambda t: (t * 0.0).sum() + 3.0)(np.ones(2))
    assert H.tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_hessian_of_an_array_function_must_return_one_element():
    import numpy as np

    with pytest.raises(TypeError, match="one-element"):
        hessian(lambda t: t * 2)(np.ones(2))
