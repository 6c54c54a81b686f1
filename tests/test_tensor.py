"""Tensor: construction, every op's gradient against central finite differences on
hypothesis-drawn shapes (broadcasting pairs included), indexing with repeated indices, stable
log_softmax, the reverse pass's semantics on arrays, create_graph, modes, gradcheck and grad
with arrays, and Value/Tensor mixing.

The finite differences here are the test's own (numpy in float64, eps 1e-6), not gradcheck's.
Each op's output is reduced with fixed random positive weights, ``sum(w * op(x))``, so that
every output element's gradient is checked (a plain sum would hide softmax's gradient, which
sums to zero along the axis).
"""

from __future__ import annotations

import warnings

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd import (
    GradcheckError,
    Tensor,
    Value,
    detect_anomaly,
    grad,
    gradcheck,
    no_grad,
    value_and_grad,
)

EPS = 1e-6


# --- the test's own finite differences -------------------------------------------------------


def evaluate(f, arrays) -> float:
    with no_grad():
        return float(f(*(Tensor(a) for a in arrays)).data)


def numeric_grads(f, arrays) -> list[np.ndarray]:
    """Central differences of the scalar f with respect to every element of every array."""
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    grads = []
    for i, a in enumerate(arrays):
        g = np.zeros(a.shape)
        for index in np.ndindex(a.shape):
            plus = [x.copy() for x in arrays]
            minus = [x.copy() for x in arrays]
            plus[i][index] += EPS
            minus[i][index] -= EPS
            g[index] = (evaluate(f, plus) - evaluate(f, minus)) / (2 * EPS)
        grads.append(g)
    return grads


def weights_for(shape) -> np.ndarray:
    return np.random.default_rng(7).uniform(0.5, 1.5, size=shape)


def check_op(fn, *arrays, rtol=1e-5, atol=1e-6) -> list[Tensor]:
    """backward() of sum(w * fn(...)) against finite differences, for every input."""
    inputs = [Tensor(a) for a in arrays]
    out = fn(*inputs)
    w = weights_for(out.shape)
    (out * w).sum().backward()
    numeric = numeric_grads(lambda *ts: (fn(*ts) * w).sum(), arrays)
    for k, (t, n) in enumerate(zip(inputs, numeric)):
        assert t.grad is not None, f"input {k} got no gradient"
        assert np.shape(t.grad) == t.shape, f"input {k}: grad shape {np.shape(t.grad)}"
        assert np.isfinite(n).all(), f"input {k}: the finite differences are not finite"
        np.testing.assert_allclose(t.grad, n, rtol=rtol, atol=atol, err_msg=f"input {k}")
    return inputs


# --- strategies ------------------------------------------------------------------------------

shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
nonempty_shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


def arrays(shape, lo=-2.0, hi=2.0):
    return hnp.arrays(np.float64, shape, elements=st.floats(lo, hi))


def away_from_zero(shape, lo=0.2, hi=2.0):
    """Elements with lo <= |x| <= hi: off the kinks of relu/abs and the pole of 1/x."""
    magnitudes = hnp.arrays(np.float64, shape, elements=st.floats(lo, hi))
    signs = hnp.arrays(np.float64, shape, elements=st.sampled_from([-1.0, 1.0]))
    return st.tuples(magnitudes, signs).map(lambda ms: ms[0] * ms[1])


def distinct(shape):
    """Elements at least 0.1 apart, so a max has no ties and finite differences see none."""
    return hnp.arrays(
        np.float64,
        shape,
        elements=st.integers(-60, 60).map(lambda k: k / 10),
        unique=True,
    )


broadcast_pairs = hnp.mutually_broadcastable_shapes(
    num_shapes=2, min_dims=0, max_dims=3, max_side=3
)


# --- construction ------------------------------------------------------------------------------


def test_data_is_a_float64_copy_and_the_tensor_is_a_leaf():
    source = np.array([[1, 2], [3, 4]], dtype=np.int32)
    t = Tensor(source, label="x")
    assert type(t.data) is np.ndarray and t.data.dtype == np.float64
    assert t.data.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert t.shape == (2, 2) and t.ndim == 2 and t.size == 4
    assert t.label == "x" and t.op == "" and t.parents == () and t.local_grads == ()
    assert t.grad is None
    floats = np.ones(3)
    u = Tensor(floats)
    floats[0] = 5.0
    assert u.data[0] == 1.0  # a copy, as torch.tensor copies


@pytest.mark.parametrize("data", [2.5, [1.0, 2.0], [[True, False]], np.float32(3.0), np.arange(3)])
def test_numbers_sequences_and_numeric_arrays_are_accepted(data):
    t = Tensor(data)
    np.testing.assert_array_equal(t.data, np.asarray(data, dtype=np.float64))
    assert t.data.dtype == np.float64


@pytest.mark.parametrize(
    "bad, type_name",
    [("1.0", "str"), (None, "NoneType"), ({"x": 1}, "dict"), ([1.0, "a"], "list"), (1j, "complex")],
)
def test_non_numeric_data_raises_type_error_naming_the_type(bad, type_name):
    with pytest.raises(TypeError, match=type_name):
        Tensor(bad)


@pytest.mark.parametrize("node", [Value(1.0), Tensor([1.0])])
def test_a_node_as_data_is_a_type_error(node):
    with pytest.raises(TypeError, match=type(node).__name__):
        Tensor(node)


def test_label_must_be_a_string():
    with pytest.raises(TypeError, match="label"):
        Tensor([1.0], label=3)


def test_tensor_hashes_by_identity_and_defines_no_equality():
    # The reverse pass keys dicts on nodes: == must stay identity, never elementwise.
    assert "__eq__" not in vars(Tensor)
    a, b = Tensor([1.0]), Tensor([1.0])
    assert a != b and a == a
    assert len({a, b}) == 2
    assert Tensor.__array_ufunc__ is None


# --- the recorded graph --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "build, op",
    [
        (lambda a, b: a + b, "+"),
        (lambda a, b: a - b, "-"),
        (lambda a, b: a * b, "*"),
        (lambda a, b: a / b, "/"),
        (lambda a, b: a**b, "**"),
        (lambda a, b: a @ b, "@"),
    ],
)
def test_binary_ops_record_both_parents_in_operand_order(build, op):
    a, b = Tensor(np.ones((2, 2)) * 2, "a"), Tensor(np.ones((2, 2)) * 3, "b")
    out = build(a, b)
    assert out.op == op and out.label == "" and out.grad is None
    assert out.parents == (a, b) and out.parents[0] is a
    assert len(out.local_grads) == 2


@pytest.mark.parametrize(
    "build, op",
    [
        (lambda a: -a, "neg"),
        (lambda a: a.exp(), "exp"),
        (lambda a: a.log(), "log"),
        (lambda a: a.tanh(), "tanh"),
        (lambda a: a.sigmoid(), "sigmoid"),
        (lambda a: a.relu(), "relu"),
        (lambda a: a.sqrt(), "sqrt"),
        (lambda a: a.abs(), "abs"),
        (lambda a: abs(a), "abs"),
        (lambda a: a.sum(), "sum"),
        (lambda a: a.mean(axis=0), "mean"),
        (lambda a: a.max(axis=1), "max"),
        (lambda a: a.reshape(4), "reshape"),
        (lambda a: a.T, "transpose"),
        (lambda a: a.transpose(1, 0), "transpose"),
        (lambda a: a[0], "index"),
        (lambda a: a.log_softmax(), "log_softmax"),
        (lambda a: a.softmax(axis=0), "softmax"),
        (lambda a: a.clip(0.0, 1.0), "clip"),
        (lambda a: a.softplus(), "softplus"),
    ],
)
def test_unary_ops_record_one_parent(build, op):
    a = Tensor([[0.5, 1.5], [2.0, 0.25]], "a")
    out = build(a)
    assert out.op == op
    assert out.parents == (a,) and len(out.local_grads) == 1
    assert isinstance(out.data, np.ndarray) and out.data.dtype == np.float64


def test_full_reductions_give_zero_dimensional_arrays():
    t = Tensor([[1.0, 2.0], [3.0, 4.0]])
    for out in (t.sum(), t.mean(), t.max(), t[0, 1]):
        assert type(out.data) is np.ndarray and out.shape == ()


@pytest.mark.parametrize(
    "build, index",
    [
        (lambda a: a + 2, 1),
        (lambda a: 2 + a, 0),
        (lambda a: a * np.array([1.0, 2.0]), 1),
        (lambda a: np.array([[1.0, 0.0], [0.0, 1.0]]) @ a, 0),
        (lambda a: 1 / a, 0),
        (lambda a: 2.0**a, 0),
    ],
)
def test_number_and_array_operands_become_constant_leaves_that_get_no_gradient(build, index):
    a = Tensor([1.0, 2.0], "a")
    out = build(a)
    const = out.parents[index]
    assert out.parents[1 - index] is a
    assert isinstance(const, Tensor) and const.op == "" and const.parents == ()
    out.sum().backward()
    assert const.grad is None  # as a PyTorch tensor that does not require grad
    assert a.grad is not None


def test_ops_leave_their_operands_untouched():
    a = Tensor([[1.0, -2.0]], "a")
    b = Tensor([3.0, 4.0], "b")
    before = a.data.copy(), b.data.copy()
    ((a * b).tanh() @ b.reshape(2, 1)).sum().backward()
    np.testing.assert_array_equal(a.data, before[0])
    np.testing.assert_array_equal(b.data, before[1])
    assert a.op == "" and a.parents == ()


# --- every op against finite differences ---------------------------------------------------------


@given(st.data(), broadcast_pairs)
def test_add_sub_mul_broadcast_and_sum_gradients_back(data, pair):
    sa, sb = pair.input_shapes
    a, b = data.draw(arrays(sa)), data.draw(arrays(sb))
    check_op(lambda x, y: x + y, a, b)
    check_op(lambda x, y: x - y, a, b)
    check_op(lambda x, y: x * y, a, b)


@given(st.data(), broadcast_pairs)
def test_div_broadcasts(data, pair):
    sa, sb = pair.input_shapes
    check_op(lambda x, y: x / y, data.draw(arrays(sa)), data.draw(away_from_zero(sb, 0.5)))


@given(st.data(), broadcast_pairs)
def test_pow_with_a_tensor_exponent_broadcasts(data, pair):
    sa, sb = pair.input_shapes
    base = data.draw(arrays(sa, 0.3, 2.0))
    exponent = data.draw(arrays(sb, -2.0, 2.0))
    check_op(lambda x, y: x**y, base, exponent)


@given(st.data(), shapes, st.sampled_from([2, 3, -1, 0.5, -1.5]))
def test_pow_with_a_number_exponent(data, shape, exponent):
    base = data.draw(arrays(shape, 0.3, 2.0) if exponent % 1 else away_from_zero(shape))
    check_op(lambda x: x**exponent, base)
    check_op(lambda x: abs(exponent) ** x, base)  # __rpow__: a constant (positive) base


def test_pow_at_zero_follows_pytorch():
    # d/da a**b at a = 0: b = 0 -> 0 (masked), b = 2 -> 0, b = 1 -> 1; d/db at a = 0 is 0.
    a = Tensor([0.0, 0.0, 0.0])
    b = Tensor([0.0, 2.0, 1.0])
    (a**b).sum().backward()
    assert a.grad.tolist() == [0.0, 0.0, 1.0]
    assert b.grad.tolist() == [0.0, 0.0, 0.0]


@given(st.data(), shapes)
def test_neg_and_smooth_unary_ops(data, shape):
    x = data.draw(arrays(shape))
    check_op(lambda t: -t, x)
    check_op(lambda t: t.exp(), x)
    check_op(lambda t: t.tanh(), x)
    check_op(lambda t: t.sigmoid(), x)
    check_op(lambda t: t.softplus(), x)


@given(st.data(), shapes)
def test_log_and_sqrt_inside_their_domain(data, shape):
    x = data.draw(arrays(shape, 0.1, 3.0))
    check_op(lambda t: t.log(), x)
    check_op(lambda t: t.sqrt(), x)


@given(st.data(), shapes)
def test_relu_abs_and_clip_away_from_their_kinks(data, shape):
    x = data.draw(away_from_zero(shape))
    check_op(lambda t: t.relu(), x)
    check_op(lambda t: t.abs(), x)
    check_op(lambda t: t.clip(-0.1, 0.1), x)  # |x| >= 0.2: every element clipped, gradient 0
    check_op(lambda t: t.clip(-1.0, 3.0), np.where(np.abs(x + 1.0) < 0.05, 0.5, x))


def test_relu_abs_and_clip_conventions_at_the_kinks():
    x = Tensor([-1.0, 0.0, 1.0])
    x.relu().sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 1.0]  # PyTorch: relu'(0) = 0
    y = Tensor([-1.0, 0.0, 1.0])
    y.abs().sum().backward()
    assert y.grad.tolist() == [-1.0, 0.0, 1.0]
    z = Tensor([-2.0, -1.0, 0.5, 1.0, 2.0])
    z.clip(-1.0, 1.0).sum().backward()
    assert z.grad.tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]  # torch.clamp: the bounds pass


@st.composite
def matmul_operands(draw):
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    batch = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=2))
    ba, bb = batch.input_shapes
    a_shape = draw(st.sampled_from([ba + (n, k)] + ([(k,)] if not ba else [])))
    b_shape = draw(st.sampled_from([bb + (k, m)] + ([(k,)] if not bb else [])))
    return draw(arrays(a_shape)), draw(arrays(b_shape))


@given(matmul_operands())
def test_matmul_of_matrices_vectors_and_broadcast_stacks(operands):
    a, b = operands
    check_op(lambda x, y: x @ y, a, b)


def test_matmul_with_an_array_on_either_side():
    a = np.arange(6.0).reshape(2, 3)
    w = Tensor(np.ones((3, 2)))
    out = a @ w  # numpy defers to Tensor.__rmatmul__
    assert isinstance(out, Tensor) and out.op == "@"
    out.sum().backward()
    np.testing.assert_allclose(w.grad, a.T @ np.ones((2, 2)))
    v = Tensor(np.ones((2, 3)))
    (v @ np.arange(3.0)).sum().backward()
    np.testing.assert_allclose(v.grad, np.tile(np.arange(3.0), (2, 1)))


@st.composite
def axis_args(draw, shape):
    nd = len(shape)
    options = [st.none()]
    if nd:
        options.append(st.integers(-nd, nd - 1))
        # A tuple of distinct axes, each written as k or k - nd (numpy accepts both).
        distinct = st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True)
        options.append(
            st.tuples(distinct, st.randoms()).map(
                lambda pair: tuple(a - nd if pair[1].random() < 0.5 else a for a in pair[0])
            )
        )
    return draw(st.one_of(options)), draw(st.booleans())


@given(st.data(), shapes)
def test_sum_and_mean_over_any_axes(data, shape):
    axis, keepdims = data.draw(axis_args(shape))
    x = data.draw(arrays(shape))
    for name in ("sum", "mean"):
        t = Tensor(x)
        out = getattr(t, name)(axis=axis, keepdims=keepdims)
        np.testing.assert_allclose(out.data, getattr(np, name)(x, axis=axis, keepdims=keepdims))
        check_op(lambda u, name=name: getattr(u, name)(axis=axis, keepdims=keepdims), x)


@given(st.data(), shapes)
def test_max_over_any_axes_without_ties(data, shape):
    axis, keepdims = data.draw(axis_args(shape))
    x = data.draw(distinct(shape))
    out = Tensor(x).max(axis=axis, keepdims=keepdims)
    np.testing.assert_array_equal(out.data, np.max(x, axis=axis, keepdims=keepdims))
    check_op(lambda u: u.max(axis=axis, keepdims=keepdims), x)


def test_max_splits_the_gradient_between_ties_as_torch_amax():
    x = Tensor([[3.0, 1.0, 3.0], [2.0, 2.0, 2.0]])
    x.max(axis=1).backward(np.array([1.0, 6.0]))
    assert x.grad.tolist() == [[0.5, 0.0, 0.5], [2.0, 2.0, 2.0]]
    y = Tensor([5.0, 5.0, 1.0, 5.0])
    y.max().backward()
    np.testing.assert_allclose(y.grad, [1 / 3, 1 / 3, 0.0, 1 / 3])


@given(st.data(), nonempty_shapes)
def test_reshape_and_transpose(data, shape):
    x = data.draw(arrays(shape))
    perm = tuple(data.draw(st.permutations(range(len(shape)))))
    check_op(lambda t: t.reshape(-1), x)
    check_op(lambda t: t.reshape(tuple(reversed(shape))), x)
    check_op(lambda t: t.reshape(1, *shape, 1), x)
    check_op(lambda t: t.transpose(*perm), x)
    check_op(lambda t: t.transpose(perm), x)
    check_op(lambda t: t.T, x)
    assert Tensor(x).transpose(*perm).shape == np.transpose(x, perm).shape


@given(st.data(), nonempty_shapes)
def test_softmax_and_log_softmax_along_any_axis(data, shape):
    x = data.draw(arrays(shape, -5.0, 5.0))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    check_op(lambda t: t.log_softmax(axis=axis), x)
    check_op(lambda t: t.softmax(axis=axis), x)
    s = Tensor(x).softmax(axis=axis).data
    np.testing.assert_allclose(s.sum(axis=axis), 1.0)
    np.testing.assert_allclose(Tensor(x).log_softmax(axis=axis).data, np.log(s), atol=1e-12)


def test_broadcast_to_sums_its_gradient_back():
    check_op(lambda t: t.broadcast_to((3, 2, 4)), np.array([[1.0], [2.0]]))


# --- indexing -------------------------------------------------------------------------------------


@given(st.data(), nonempty_shapes)
def test_integer_array_index_with_repeats_accumulates(data, shape):
    n = shape[0]
    picks = data.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=7))
    x = data.draw(arrays(shape))
    t = check_op(lambda u: u[picks], x)[0]
    # the count of each row: repeated indices add up, negative ones wrap
    w = weights_for((len(picks),) + shape[1:])
    expected = np.zeros(shape)
    for k, i in enumerate(picks):
        expected[i] += w[k]
    np.testing.assert_allclose(t.grad, expected)


@pytest.mark.parametrize(
    "index",
    [
        (0,),
        (-1, slice(None, None, -1)),
        (slice(1, 3),),
        (Ellipsis, 1),
        (None, slice(None), 0),
        (np.array([0, 2, 0]), np.array([1, 1, 1])),  # a repeated pair
        (np.array([[0, 1], [1, 0]]),),
        (slice(None), [3, 3, 0]),
        (np.array([True, False, True]),),
        (np.array([[True, False, False, True]] * 3),),
        ([2, 2], Ellipsis),
        (),  # the whole array
        (np.array([2, 0]), np.array([-1, 3])),  # integer arrays only: the fast path
    ],
)
def test_numpy_indexing_forms(index):
    x = np.arange(12.0).reshape(3, 4) / 7
    t = Tensor(x)
    np.testing.assert_array_equal(t[index].data, x[index])
    check_op(lambda u: u[index], x)


def test_repeated_pairs_accumulate_exactly():
    t = Tensor(np.zeros((2, 3)))
    t[[0, 0, 1, 0], [2, 2, 0, 2]].backward(np.array([1.0, 10.0, 100.0, 1000.0]))
    assert t.grad.tolist() == [[0.0, 0.0, 1011.0], [100.0, 0.0, 0.0]]


def test_the_index_is_frozen_at_the_op():
    picks = [0, 1]
    t = Tensor([1.0, 2.0, 3.0])
    out = t[picks]
    picks[0] = 2  # changing the list afterwards must not change the gradient
    out.sum().backward()
    assert t.grad.tolist() == [1.0, 1.0, 0.0]


@pytest.mark.parametrize("bad", [Tensor([0.0]), 1.5, "a"])
def test_bad_indices_are_errors(bad):
    with pytest.raises((TypeError, IndexError), match="index"):
        Tensor([1.0, 2.0])[bad]


# --- numerics ------------------------------------------------------------------------------------


def test_log_softmax_at_logits_of_plus_minus_1000_is_finite_and_exact():
    z = Tensor([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0]])
    out = z.log_softmax()
    assert out.data.tolist()[0] == [0.0, -2000.0, -1000.0]
    np.testing.assert_allclose(out.data[1], np.log(1 / 3) * np.ones(3))
    out[[0, 1], [1, 2]].sum().backward()
    assert np.isfinite(z.grad).all()
    np.testing.assert_allclose(z.grad, [[-1.0, 1.0, 0.0], [-1 / 3, -1 / 3, 2 / 3]], atol=1e-15)
    s = Tensor([1000.0, -1000.0]).softmax()
    assert s.data.tolist() == [1.0, 0.0]


def test_sigmoid_and_softplus_do_not_overflow():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning either
        s = Tensor([-1000.0, 0.0, 1000.0]).sigmoid()
        p = Tensor([-1000.0, 1000.0]).softplus()
    assert s.data.tolist() == [0.0, 0.5, 1.0]
    assert p.data.tolist() == [0.0, 1000.0]


def test_domain_errors_follow_numpy_with_a_warning():
    with pytest.warns(RuntimeWarning):
        out = Tensor([-1.0, 4.0]).log()
    assert np.isnan(out.data[0]) and out.data[1] == np.log(4.0)
    with pytest.warns(RuntimeWarning):
        out = Tensor([1.0]) / Tensor([0.0])
    assert out.data[0] == np.inf


def test_shape_errors_name_the_op_and_the_shapes():
    with pytest.raises(ValueError, match=r"\+.*\(2, 3\).*\(4,\)"):
        Tensor(np.ones((2, 3))) + Tensor(np.ones(4))
    with pytest.raises(ValueError, match=r"@.*\(2, 3\).*\(2, 3\)"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match="reshape"):
        Tensor(np.ones(6)).reshape(4, 2)
    with pytest.raises(ValueError, match="sum"):
        Tensor(np.ones(6)).sum(axis=2)
    with pytest.raises(ValueError, match="transpose"):
        Tensor(np.ones((2, 3))).transpose(0)


# --- the reverse pass on arrays -------------------------------------------------------------------


def test_backward_needs_a_seed_of_the_tensor_s_shape():
    x = Tensor(np.ones((2, 3)))
    y = x * 2
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        y.backward()
    with pytest.raises(ValueError, match=r"\(3,\).*\(2, 3\)"):
        y.backward(np.ones(3))
    y.backward(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(x.grad, 2 * np.arange(6.0).reshape(2, 3))


def test_backward_on_a_one_element_tensor_of_any_shape_seeds_one():
    x = Tensor([[2.0]])
    (x * x).backward()
    assert x.grad.shape == (1, 1) and x.grad[0, 0] == 4.0


def test_backward_accumulates_and_zero_grad_sets_none():
    x = Tensor([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    y.backward()
    np.testing.assert_array_equal(x.grad, [4.0, 8.0])  # twice 2x, as PyTorch
    y.zero_grad()
    assert x.grad is None and y.grad is None


def test_each_pass_propagates_only_its_own_contributions():
    # API.md's example on arrays: y = x*x; z = 2*y at x = 3, two passes give 24, not 36.
    x = Tensor([3.0])
    z = 2 * (x * x)
    z.backward()
    z.backward()
    assert x.grad.tolist() == [24.0]


def test_a_used_twice_gets_both_contributions_and_leaves_do_not_share_grads():
    a = Tensor([1.0, 2.0])
    b = Tensor([3.0, 4.0])
    (a + a).sum().backward()
    assert a.grad.tolist() == [2.0, 2.0]
    c = a + b
    c.backward(np.ones(2))
    a.grad *= 0.0  # in place on one leaf's grad (a gradient clip, say) ...
    assert b.grad.tolist() == [1.0, 1.0]  # ... leaves the other's alone
    assert c.grad.tolist() == [1.0, 1.0]


@pytest.mark.parametrize(
    "build",
    [
        lambda a, b: (a.reshape(4) + b.reshape(4)) * 1.0,
        lambda a, b: (a.T + b.T) * 3.0,
        lambda a, b: (a.transpose(1, 0) + b.reshape(2, 2)) - 1.0,
    ],
)
def test_leaves_never_share_gradient_memory_through_views(build):
    # + passes its upstream on uncopied and reshape/transpose give views of it: without care
    # both leaves would hold views of one array, and scaling one grad would scale the other.
    a, b = Tensor(np.ones((2, 2))), Tensor(np.ones((2, 2)))
    build(a, b).backward(np.arange(4.0).reshape(build(a, b).shape))
    assert not np.shares_memory(a.grad, b.grad)
    before = b.grad.copy()
    a.grad *= 0.0
    np.testing.assert_array_equal(b.grad, before)


def test_a_seed_array_is_never_a_leaf_s_gradient():
    x = Tensor(np.ones(4))
    seed = np.arange(4.0).reshape(2, 2)
    x.reshape(2, 2).backward(seed)
    seed[0, 0] = 99.0
    assert x.grad.tolist() == [0.0, 1.0, 2.0, 3.0]


def test_leaf_gradients_accumulate_in_place_as_in_pytorch():
    x = Tensor([1.0, 2.0])
    (x * x).sum().backward()
    first = x.grad
    (x * x).sum().backward()
    assert x.grad is first and first.tolist() == [4.0, 8.0]


def test_a_zero_dimensional_leaf_gets_an_array_gradient():
    x = Tensor(3.0)
    (x * x).backward()
    assert isinstance(x.grad, np.ndarray) and x.grad.shape == () and x.grad == 6.0
    (x * x).backward()
    assert isinstance(x.grad, np.ndarray) and x.grad == 12.0
    g = grad(lambda t: t * t)(np.array(3.0))
    assert isinstance(g, np.ndarray) and g.shape == () and g == 6.0


def test_a_number_exponent_computes_no_log_of_the_base():
    # d/db = log(a) a**b is nan for a < 0; with a number exponent it is not needed, so even
    # under create_graph and detect_anomaly a negative base squares cleanly.
    x, y = np.array([1.0, 2.0, 3.0]), np.array([3.0, 1.0, 7.0])
    loss = lambda w: ((w * x - y) ** 2).mean()
    with detect_anomaly():
        hvp = grad(lambda w: grad(loss)(w).sum())(np.ones(3))
    np.testing.assert_allclose(hvp, 2 * x**2 / 3)  # H 1, H diagonal with 2 x_i^2 / n
    t = Tensor([-2.0, 3.0])
    with detect_anomaly():
        (t**3).sum().backward(create_graph=True)
    np.testing.assert_allclose(t.grad.data, [12.0, 27.0])


@pytest.mark.parametrize(
    "axes, error, match",
    [
        ((0, 5), ValueError, "axis 5 is out of range for shape"),
        ((2, -1), ValueError, "axis 2 is out of range"),
        ((-3, 0), ValueError, "axis -3 is out of range"),
        ((0, 0), ValueError, "repeat an axis"),
        ((1.0, 0), TypeError, "axes must be ints"),
        ((0,), ValueError, "do not match a tensor of shape"),
    ],
)
def test_transpose_checks_its_axes_as_numpy(axes, error, match):
    with pytest.raises(error, match=match):
        Tensor(np.zeros((2, 3))).transpose(*axes)


def test_transpose_accepts_what_numpy_accepts():
    t = Tensor(np.zeros((2, 3, 4)))
    assert t.transpose(None).shape == t.T.shape == (4, 3, 2)
    assert t.transpose(-1, 0, 1).shape == t.transpose((2, 0, 1)).shape == (4, 2, 3)


def test_iteration_gives_rows_and_a_ragged_list_is_a_type_error():
    t = Tensor([[1.0, 2.0], [3.0, 4.0]])
    rows = list(t)
    assert [r.data.tolist() for r in rows] == [[1.0, 2.0], [3.0, 4.0]]
    sum(r.sum() for r in rows).backward()
    assert t.grad.tolist() == [[1.0, 1.0], [1.0, 1.0]]
    with pytest.raises(TypeError, match="0-d"):
        list(Tensor(1.0))
    with pytest.raises(TypeError, match="rectangular"):
        Tensor([[1.0, 2.0], [3.0]])


def test_backward_takes_a_tensor_seed_as_torch_does():
    x = Tensor([1.0, 2.0])
    (x * 3).backward(Tensor([1.0, 0.5]))
    assert x.grad.tolist() == [3.0, 1.5]


def test_a_computed_node_added_to_itself_gets_every_contribution():
    # + hands a computed node the upstream array itself (no copy): accumulating into it must
    # still never write into an array another node holds.
    x = Tensor([1.0, 2.0])
    h = x * 3
    z = (h + h) + h
    z.backward(np.array([1.0, 10.0]))
    assert z.grad.tolist() == [1.0, 10.0]
    assert h.grad.tolist() == [3.0, 30.0]
    assert x.grad.tolist() == [9.0, 90.0]


def test_backward_steps_match_backward_and_spell_the_chain_rule():
    def build():
        x = Tensor([1.0, 2.0], "x")
        w = Tensor([[0.5], [-1.0]], "w")
        return x, w, (x @ w).tanh().sum()

    x1, w1, y1 = build()
    y1.backward()
    x2, w2, y2 = build()
    steps = list(y2.backward_steps())
    np.testing.assert_array_equal(x1.grad, x2.grad)
    np.testing.assert_array_equal(w1.grad, w2.grad)
    assert steps[0].node is y2
    assert [s.node.op for s in steps[:3]] == ["sum", "tanh", "@"]
    text = str(steps[0])
    assert "(the seed)" in text and "dL/dL = 1.0" in text
    for step in steps:
        for parent, _local, contribution in step.edges:
            assert np.shape(contribution) == parent.shape


def test_non_finite_gradients_without_anomaly_mode_are_just_numbers():
    x = Tensor([0.0, 4.0])
    with pytest.warns(RuntimeWarning):
        x.sqrt().sum().backward()  # d sqrt / dx at 0 is inf, as in PyTorch
    assert x.grad[0] == np.inf and x.grad[1] == 0.25


# --- modes ---------------------------------------------------------------------------------


def test_no_grad_records_nothing():
    x = Tensor([1.0, 2.0])
    with no_grad():
        y = (x * 2).exp().sum()
    assert y.op == "" and y.parents == () and y.local_grads == ()
    np.testing.assert_allclose(y.data, np.exp(2.0) + np.exp(4.0))


def test_detect_anomaly_names_the_op_of_a_bad_result():
    with detect_anomaly():
        with pytest.warns(RuntimeWarning), pytest.raises(FloatingPointError, match=r"^log: "):
            Tensor([1.0, -1.0]).log()
        with pytest.warns(RuntimeWarning), pytest.raises(FloatingPointError, match="exp"):
            Tensor([1000.0]).exp()


def test_detect_anomaly_names_the_op_whose_gradient_is_not_finite():
    # sqrt(0) = 0 is a fine result; its local gradient is inf, caught in the backward pass,
    # whether the graph was built inside the mode or outside it.
    with detect_anomaly():
        with pytest.warns(RuntimeWarning):  # numpy's divide-by-zero, computing 0.5 / sqrt(0)
            y = Tensor([0.0, 1.0]).sqrt().sum()
        with pytest.raises(FloatingPointError, match="sqrt"):
            y.backward()
    with pytest.warns(RuntimeWarning):
        z = Tensor([0.0, 1.0]).sqrt().sum()
    with detect_anomaly(), pytest.raises(FloatingPointError, match="sqrt"):
        z.backward()


# --- create_graph and the functional API -------------------------------------------------------


def test_create_graph_gives_tensor_grads_that_differentiate_again():
    x = Tensor([1.0, -2.0, 0.5])
    (x**3).sum().backward(create_graph=True)
    g = x.grad
    assert isinstance(g, Tensor) and g.parents  # a graph of its own
    np.testing.assert_allclose(g.data, 3 * x.data**2)
    x.zero_grad()
    g.sum().backward()
    np.testing.assert_allclose(x.grad, 6 * x.data)


SECOND_ORDER = {
    "matmul-tanh": lambda x: (x @ np.array([[0.5, -1.0], [2.0, 0.3], [0.1, 0.2]])).tanh().sum(),
    "log_softmax-index": lambda x: x.reshape(1, 3).log_softmax()[0, [1, 1, 2]].sum(),
    "softmax-weights": lambda x: (x.softmax() * np.array([1.0, 2.0, 4.0])).sum(),
    "sigmoid-mean-max": lambda x: (x.sigmoid() * x).mean() + (x * x).max(),
    "div-pow-sqrt": lambda x: (x**2 + 1).sqrt().sum() / (x * x + 2).sum() + (2.0**x).sum(),
    "broadcast": lambda x: (x.reshape(3, 1) * x.reshape(1, 3)).exp().sum(),
    "transpose-log": lambda x: (x.reshape(3, 1).T * x).softplus().log().sum(),
    "clip-abs-relu": lambda x: (x.clip(-0.9, 0.9) * x.abs() * x.relu()).sum(),
}


@pytest.mark.parametrize("name", list(SECOND_ORDER))
def test_second_derivatives_on_tensors_against_finite_differences(name):
    f = SECOND_ORDER[name]
    x0 = np.array([0.3, -0.7, 1.1])
    v = np.array([1.0, -0.5, 2.0])
    df = grad(f)
    # d/dx (grad f . v) by nested grad, against finite differences of grad f itself
    hvp = grad(lambda x: (grad(f)(x) * v).sum())(x0)
    numeric = np.array(
        [(np.dot(df(x0 + EPS * e), v) - np.dot(df(x0 - EPS * e), v)) / (2 * EPS) for e in np.eye(3)]
    )
    assert isinstance(hvp, np.ndarray) and hvp.shape == (3,)
    np.testing.assert_allclose(hvp, numeric, rtol=1e-5, atol=1e-6)


def test_grad_with_array_arguments_gives_arrays():
    f = lambda w, x: ((x @ w).tanh() ** 2).sum()  # noqa: E731
    w0 = np.array([[0.1, 0.2], [-0.3, 0.4]])
    x0 = np.array([[1.0, 2.0]])
    gw, gx = grad(f, argnums=(0, 1))(w0, x0)
    numeric_w, numeric_x = numeric_grads(f, [w0, x0])
    assert isinstance(gw, np.ndarray) and gw.shape == (2, 2)
    np.testing.assert_allclose(gw, numeric_w, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gx, numeric_x, rtol=1e-6, atol=1e-8)
    value, g = value_and_grad(lambda t: (t * t).sum())(np.array([1.0, 2.0]))
    assert float(value) == 5.0 and g.tolist() == [2.0, 4.0]


def test_grad_of_an_argument_f_ignores_is_zeros_of_its_shape():
    g = grad(lambda a, b: (Tensor(a) * 2).sum(), argnums=1)(np.ones(2), np.ones((2, 3)))
    assert g.shape == (2, 3) and not g.any()


def test_gradcheck_with_array_inputs():
    assert gradcheck(lambda a, b: (a @ b).tanh().sum(), [np.ones((2, 3)) * 0.3, np.eye(3)[:, :2]])
    assert gradcheck(lambda x: x.log_softmax()[[0, 0]].sum(), [np.array([0.2, 1.0, -3.0])])


def test_gradcheck_on_tensors_fails_at_a_kink_and_says_so():
    with pytest.raises(GradcheckError, match="kink") as info:
        gradcheck(lambda x: x.relu().sum(), [np.array([0.0, 1.0])])
    assert info.value.node is not None and info.value.node.op == "relu"
    assert "element (0,)" in str(info.value)
    assert not gradcheck(lambda x: x.relu().sum(), [np.array([0.0])], raise_exception=False)
    assert gradcheck(lambda x: x.abs().sum(), [np.array([0.0])])  # symmetric: differences agree


def test_gradcheck_names_the_tensor_op_whose_local_gradient_is_wrong(monkeypatch):
    from autograd.ops import ELEMENTWISE_OPS

    def wrong_tanh(x):  # 1 - out instead of 1 - out**2, as a buggy rule would have
        out = np.tanh(x)
        return out, (1.0 - out,)

    monkeypatch.setattr(ELEMENTWISE_OPS["tanh"], "rule", wrong_tanh)
    x = np.array([0.3, -0.5, 1.2])
    with pytest.raises(GradcheckError, match="wrong local gradient") as info:
        gradcheck(lambda t: (t * 2).tanh().exp().sum(), [x])
    assert info.value.node.op == "tanh"
    assert "kink" not in str(info.value)


def test_gradcheck_refuses_a_mix_of_numbers_and_arrays():
    with pytest.raises(TypeError, match="mix"):
        gradcheck(lambda a, b: a * b, [1.0, np.ones(2)])


# --- Value and Tensor do not mix -------------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        lambda v, t: t + v,
        lambda v, t: v + t,
        lambda v, t: t - v,
        lambda v, t: v - t,
        lambda v, t: t * v,
        lambda v, t: v * t,
        lambda v, t: t / v,
        lambda v, t: v / t,
        lambda v, t: t**v,
        lambda v, t: v**t,
        lambda v, t: t @ v,
        lambda v, t: v @ t,
    ],
)
def test_value_and_tensor_in_one_op_is_a_type_error(build):
    with pytest.raises(TypeError, match="mix"):
        build(Value(2.0), Tensor([1.0, 2.0]))


def test_a_value_is_not_an_index():
    with pytest.raises(TypeError, match="cannot index with a Value"):
        Tensor([1.0, 2.0])[Value(0.0)]


def test_value_cannot_be_made_from_a_tensor_nor_a_tensor_from_a_value():
    with pytest.raises(TypeError):
        Value(Tensor([1.0]))
    with pytest.raises(TypeError):
        Tensor([Value(1.0)])


# --- what nn needs: an MLP step with in-place updates ------------------------------------------


def test_an_mlp_step_with_in_place_updates_lowers_the_loss():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(32, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    W1, b1 = Tensor(rng.normal(size=(4, 8)) * 0.5), Tensor(np.zeros(8))
    W2, b2 = Tensor(rng.normal(size=(8, 2)) * 0.5), Tensor(np.zeros(2))
    params = [W1, b1, W2, b2]
    rows = np.arange(len(X))
    losses = []
    for _ in range(30):
        logits = (X @ W1 + b1).tanh() @ W2 + b2
        loss = -logits.log_softmax()[rows, y].mean()
        for p in params:
            p.grad = None
        loss.backward()
        for p in params:
            assert p.grad.shape == p.shape
            p.data -= 0.5 * p.grad
        losses.append(float(loss.data))
    assert losses[-1] < 0.5 * losses[0]


# --- the benchmark's three implementations do the same work ------------------------------------


def _bench_module():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "bench" / "bench_tensor.py"
    spec = importlib.util.spec_from_file_location("bench_tensor", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_benchmark_s_tensor_mlp_trains_exactly_as_its_numpy_floor():
    # Small random data in the benchmark's shapes (no scikit-learn needed): the same weights,
    # batches and maths must give the same final loss and accuracy, to rounding.
    bench = _bench_module()
    rng = np.random.default_rng(1)
    X = rng.normal(size=(150, 64))
    y = rng.integers(0, 10, size=150)
    params = bench.init_params()
    epochs = bench.batches(len(X))[:2]
    weights_np, loss_np = bench.train_numpy(X, y, params, epochs)
    for train in (bench.train_tracegrad, bench.train_tracegrad_nn):  # Tensor ops, then nn
        weights_tg, loss_tg = train(X, y, params, epochs)
        for a, b in zip(weights_tg, weights_np):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
        assert loss_tg == pytest.approx(loss_np, rel=1e-12)
        assert bench.accuracy(weights_tg, X, y) == bench.accuracy(weights_np, X, y)
    assert loss_np < np.log(10)  # it trained: below the loss of a uniform guess
    assert any(not np.array_equal(w, p) for w, p in zip(weights_np, params))


# --- regressions found by suites written against API.md ----------------------------------------


def test_a_0d_exponent_of_2_keeps_the_mixed_second_derivative():
    # d2(x**y)/dx dy = x**(y-1) * (1 + y log x): 10.1147 at x=3.1, y=2 (the square shortcut
    # dropped the exponent from the base's derivative under create_graph, giving 0).
    x, y = Tensor(np.array(3.1)), Tensor(np.array(2.0))
    (x**y).backward(create_graph=True)
    dx = x.grad
    x.grad = y.grad = None
    dx.backward()
    want = 3.1 * (1 + 2 * np.log(3.1))
    assert float(y.grad) == pytest.approx(want, rel=1e-12)
    assert want == pytest.approx(10.1147, abs=1e-4)


def test_a_0d_exponent_of_2_through_nested_grad():
    from autograd import grad

    mixed = grad(lambda y: grad(lambda x: x**y)(np.array(3.1)).sum())(np.array(2.0))
    assert float(mixed) == pytest.approx(3.1 * (1 + 2 * np.log(3.1)), rel=1e-12)


def test_a_leaf_that_is_the_root_accumulates_into_its_grad_in_place():
    x = Tensor([1.0, 2.0])
    x.backward(np.array([1.0, 3.0]))
    g = x.grad
    x.backward(np.array([1.0, 3.0]))
    assert g is x.grad  # as PyTorch: the same array, accumulated into
    assert x.grad.tolist() == [2.0, 6.0]


def test_a_number_exponent_computes_no_gradient_toward_it():
    # x ** 2 with a negative base: the exponent's log(x) * x**2 would be nan (and a false
    # anomaly under create_graph); it is never computed for a constant exponent.
    from autograd import detect_anomaly

    x = Tensor([-1.5, 2.0])
    with detect_anomaly():
        (x**2).sum().backward(create_graph=True)
    assert x.grad.data.tolist() == [-3.0, 4.0]


def test_no_gradient_is_computed_toward_a_data_batch():
    X = np.ones((4, 3))
    W = Tensor(np.ones((3, 2)))
    out = X @ W
    assert out.local_grads[0] is out.local_grads[0]  # a map that never runs (constant)
    out.sum().backward()
    assert out.parents[0].is_constant and out.parents[0].grad is None
    assert W.grad.tolist() == [[4.0, 4.0]] * 3


def test_clip_names_itself_and_the_bound_it_cannot_use():
    with pytest.raises(TypeError, match=r"^clip: lo must be a number, got str: 'a'$"):
        Tensor([1.0]).clip("a", 1)
    with pytest.raises(TypeError, match=r"^clip: hi must be a number, got Tensor"):
        Tensor([1.0]).clip(0, Tensor([2.0]))
    assert Tensor([-1.0, 3.0]).clip(0, 1).data.tolist() == [0.0, 1.0]
