"""autograd.primitive: user ops that behave like built-in ones."""

from __future__ import annotations

import math

import numpy as np
import pytest

from autograd import Value, no_grad, primitive


def softplus_forward(x: float) -> float:
    return math.log1p(math.exp(x))


# Written with math functions, as in API.md: fine for backward(), not differentiable again.
softplus = primitive("softplus", softplus_forward, lambda x, out: 1 / (1 + math.exp(-x)))

# Written with Value-compatible arithmetic only: differentiable again under create_graph.
cube = primitive("cube", lambda x: x * x * x, lambda x, out: 3 * x * x)

# Two inputs, derivative uses the forward output.
hypot = primitive("hypot", math.hypot, lambda x, y, out: (x / out, y / out))


def test_primitive_value_op_and_local_grad():
    x = Value(0.3, label="x")
    y = softplus(x)
    assert isinstance(y, Value)
    assert y.op == "softplus"
    assert len(y.parents) == 1 and y.parents[0] is x
    assert math.isclose(y.data, math.log1p(math.exp(0.3)), rel_tol=1e-15)
    assert len(y.local_grads) == 1
    assert math.isclose(y.local_grads[0], 1 / (1 + math.exp(-0.3)), rel_tol=1e-15)


def test_primitive_composes_with_built_in_ops_in_backward():
    # d/dx [softplus(2x) * x] = 2 sigmoid(2x) x + softplus(2x)
    x0 = 0.7
    x = Value(x0)
    out = softplus(x * 2) * x
    out.backward()
    sig = 1 / (1 + math.exp(-2 * x0))
    assert math.isclose(x.grad, 2 * sig * x0 + math.log1p(math.exp(2 * x0)), rel_tol=1e-13)


def test_derivative_receives_inputs_and_the_forward_output():
    seen = []

    def derivative(x, out):
        seen.append((x, out))
        return 2.0 * out

    double_exp = primitive("double_exp", lambda x: math.exp(2 * x), derivative)
    y = double_exp(Value(0.5))
    assert len(seen) == 1
    x_seen, out_seen = seen[0]
    # at forward time (no create_graph) the derivative works on plain floats
    assert type(x_seen) is float and x_seen == 0.5
    assert type(out_seen) is float and math.isclose(out_seen, math.e, rel_tol=1e-15)
    assert math.isclose(y.local_grads[0], 2 * math.e, rel_tol=1e-15)


def test_multi_input_primitive():
    a, b = Value(3.0, label="a"), Value(4.0, label="b")
    h = hypot(a, b)
    assert h.op == "hypot"
    assert h.data == 5.0
    assert h.parents[0] is a and h.parents[1] is b
    assert math.isclose(h.local_grads[0], 0.6, rel_tol=1e-15)
    assert math.isclose(h.local_grads[1], 0.8, rel_tol=1e-15)
    (h * h).backward()  # d(a^2 + b^2) = (2a, 2b)
    assert math.isclose(a.grad, 6.0, rel_tol=1e-14)
    assert math.isclose(b.grad, 8.0, rel_tol=1e-14)


def test_multi_input_primitive_with_the_same_value_twice():
    a = Value(3.0)
    h = hypot(a, a)  # sqrt(2) |a|, derivative sqrt(2)
    h.backward()
    assert math.isclose(a.grad, math.sqrt(2.0), rel_tol=1e-14)


def test_primitive_accepts_a_number_like_a_built_in_op():
    a = Value(3.0)
    h = hypot(a, 4.0)
    assert h.data == 5.0
    assert h.parents[0] is a
    assert h.parents[1].op == "" and h.parents[1].data == 4.0
    h.backward()
    assert math.isclose(a.grad, 0.6, rel_tol=1e-15)


def test_primitive_under_no_grad_gives_a_leaf():
    with no_grad():
        y = softplus(Value(1.0))
    assert y.op == "" and y.parents == ()
    assert math.isclose(y.data, math.log1p(math.e), rel_tol=1e-15)


def test_primitive_differentiable_again_under_create_graph():
    x = Value(2.0)
    y = cube(x)
    y.backward(create_graph=True)
    g = x.grad
    assert isinstance(g, Value)
    assert g.data == 12.0
    y.zero_grad()
    g.backward()
    second = x.grad.data if isinstance(x.grad, Value) else x.grad
    assert second == 12.0  # d2/dx2 x^3 = 6x


def test_primitive_with_math_derivative_raises_not_implemented_under_create_graph():
    x = Value(0.5)
    y = softplus(x) * x
    with pytest.raises(NotImplementedError, match="softplus"):
        y.backward(create_graph=True)


def test_primitive_with_math_derivative_is_fine_without_create_graph():
    x = Value(0.5)
    y = softplus(x)
    y.backward()
    assert math.isclose(x.grad, 1 / (1 + math.exp(-0.5)), rel_tol=1e-15)


# A derivative returning the wrong number of values must not silently drop (or ignore)
# gradients when they are paired with the parents.
@pytest.mark.parametrize(
    "name, forward, derivative, args",
    [
        ("too_few", lambda x, y: x * y, lambda x, y, out: y, (2.0, 3.0)),
        ("too_many", lambda x: 2 * x, lambda x, out: (2.0, 5.0), (2.0,)),
    ],
)
def test_derivative_with_the_wrong_number_of_values_is_an_error_naming_the_primitive(
    name, forward, derivative, args
):
    # API.md: derivative returns one local derivative per input. Anything else is a bug in
    # the user's primitive and must not silently give wrong gradients.
    prim = primitive(name, forward, derivative)
    xs = [Value(x) for x in args]
    with pytest.raises((TypeError, ValueError), match=name):
        prim(*xs).backward()


def test_domain_error_in_a_primitive_forward_names_the_primitive_and_value():
    my_log = primitive("my_log", math.log, lambda x, out: 1 / x)
    with pytest.raises(ValueError) as excinfo:
        my_log(Value(-2.5))
    message = str(excinfo.value)
    assert "my_log" in message and "-2.5" in message


def test_primitive_forward_returning_a_non_number_is_a_type_error_naming_it():
    as_text = primitive("as_text", lambda x: str(x), lambda x, out: 1.0)
    with pytest.raises(TypeError, match="as_text"):
        as_text(Value(1.0))


def test_a_derivative_written_with_value_methods_works_at_forward_time_and_twice():
    # The NotImplementedError message recommends Value methods (x.exp()); such a derivative
    # gets floats at forward time, which have no .exp(): it must still work, to any order.
    softplus = primitive(
        "softplus_v", lambda x: math.log1p(math.exp(x)), lambda x, out: 1 / (1 + (-x).exp())
    )
    x = Value(0.3)
    y = softplus(x)
    y.backward(create_graph=True)
    sig = 1 / (1 + math.exp(-0.3))
    assert x.grad.data == pytest.approx(sig, rel=1e-12)
    first = x.grad
    x.grad = 0.0
    first.backward()
    assert x.grad == pytest.approx(sig * (1 - sig), rel=1e-12)
    # and a second call (now on the remembered Value path) gives the same local gradient
    assert softplus(Value(0.3)).local_grads[0] == pytest.approx(sig, rel=1e-12)


@pytest.mark.parametrize(
    "returned, what",
    [(None, "NoneType"), ("1", "str"), (np.array([1.0, 2.0]), "ndarray"), ([1.0], "list")],
)
def test_a_derivative_returning_a_non_number_is_a_type_error_at_the_op(returned, what):
    # Caught when the op runs and the local gradient is stored, naming the primitive, not
    # at backward() deep inside a multiplication.
    bad = primitive("bad", lambda x: 2 * x, lambda x, out: (returned,))
    with pytest.raises(
        TypeError, match=rf"primitive 'bad': its derivative must return numbers.*{what}"
    ):
        bad(Value(1.0))


@pytest.mark.parametrize("returned", [2, np.float64(2.0), np.array(2.0), True, Value(2.0)])
def test_numeric_locals_are_stored_as_floats(returned):
    p = primitive("p", lambda x: 2 * x, lambda x, out: returned)
    y = p(Value(1.0))
    assert y.local_grads == (float(returned.data if isinstance(returned, Value) else returned),)
    assert all(type(g) is float for g in y.local_grads)
    y.backward()
    assert type(y.parents[0].grad) is float


# --- primitives on Tensors ---------------------------------------------------------------------


def test_an_elementwise_numpy_primitive_applies_to_tensors():
    from autograd import Tensor, gradcheck

    softplus = primitive(
        "np_softplus", lambda x: np.logaddexp(0.0, x), lambda x, out: 1.0 / (1.0 + np.exp(-x))
    )
    x = np.array([[-1.0, 0.0], [0.5, 3.0]])
    y = softplus(Tensor(x))
    assert isinstance(y, Tensor) and y.op == "np_softplus"
    np.testing.assert_allclose(y.data, np.logaddexp(0.0, x), rtol=1e-15)
    assert gradcheck(lambda t: (softplus(t) * t).sum(), [x])
    assert isinstance(softplus(Value(0.5)), Value)  # the same primitive on a Value


def test_a_primitive_on_broadcast_tensors_sums_each_partial_back():
    from autograd import Tensor, gradcheck

    hyp = primitive("np_hypot", np.hypot, lambda a, b, out: (a / out, b / out))
    a, b = np.array([[3.0], [1.0]]), np.array([4.0, 2.0, -1.0])  # (2, 1) with (3,)
    out = hyp(Tensor(a), Tensor(b))
    assert out.shape == (2, 3)
    assert gradcheck(lambda s, t: hyp(s, t).sum(), [a, b])
    s, t = Tensor(a), Tensor(b)
    hyp(s, t).sum().backward()
    assert s.grad.shape == (2, 1) and t.grad.shape == (3,)


def test_a_tensor_primitive_with_a_constant_operand():
    from autograd import Tensor

    scale = primitive("np_scale", lambda x, k: x * k, lambda x, k, out: (k, x))
    t = Tensor([1.0, 2.0])
    y = scale(t, np.array([3.0, 4.0]))
    y.sum().backward()
    assert t.grad.tolist() == [3.0, 4.0]
    assert y.parents[1].is_constant and y.parents[1].grad is None


def test_a_numpy_primitive_cannot_be_differentiated_twice_and_says_so():
    from autograd import Tensor

    softplus = primitive(
        "np_sp", lambda x: np.logaddexp(0.0, x), lambda x, out: 1.0 / (1.0 + np.exp(-x))
    )
    x = Tensor([0.5])
    with pytest.raises(NotImplementedError, match="np_sp"):
        softplus(x).sum().backward(create_graph=True)
