"""Value construction and attributes, as API.md promises them.

A Value stores its data as a Python float, starts with grad 0.0, and records its parents in
operand order with one local gradient per parent. A plain number operand becomes a constant
leaf parent, so every binary op has exactly two parents.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from autograd import Value


def is_leaf(v: Value) -> bool:
    return v.op == "" and v.parents == () and v.local_grads == ()


# --- construction -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, expected",
    [
        (3, 3.0),
        (-2.5, -2.5),
        (True, 1.0),
        (False, 0.0),
        (np.float64(1.25), 1.25),
        (np.float32(0.5), 0.5),
        (np.int64(7), 7.0),
        (np.int8(-3), -3.0),
        (np.bool_(True), 1.0),
    ],
)
def test_data_is_stored_as_python_float(data, expected):
    v = Value(data)
    assert type(v.data) is float
    assert v.data == expected


def test_new_value_is_a_leaf_with_zero_grad_and_empty_label():
    v = Value(2.0)
    assert is_leaf(v)
    assert v.label == ""
    assert v.grad == 0.0
    assert type(v.grad) is float


def test_label_is_given_and_settable():
    v = Value(1.0, label="w1")
    assert v.label == "w1"
    v.label = "bias"
    assert v.label == "bias"


def test_data_and_grad_are_settable_as_an_optimizer_needs():
    v = Value(1.0)
    v.data = 2.5
    v.grad = 0.75
    assert v.data == 2.5
    assert v.grad == 0.75


def test_nan_and_inf_data_are_accepted():
    assert math.isnan(Value(float("nan")).data)
    assert Value(float("inf")).data == math.inf
    assert Value(-math.inf).data == -math.inf


@pytest.mark.parametrize(
    "bad, type_name",
    [
        ("1.0", "str"),
        (None, "NoneType"),
        ([1.0], "list"),
        ((1.0,), "tuple"),
        (np.array([1.0, 2.0]), "ndarray"),
        (1 + 2j, "complex"),
        ({"x": 1.0}, "dict"),
    ],
)
def test_construction_from_a_non_number_raises_type_error_naming_the_type(bad, type_name):
    with pytest.raises(TypeError, match=type_name):
        Value(bad)


def test_construction_from_a_value_is_a_type_error():
    # API.md: data is an int, float, bool or numpy scalar; "anything else" raises TypeError.
    with pytest.raises(TypeError, match="Value"):
        Value(Value(1.0))


# --- recorded graph ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "build, op",
    [
        (lambda a, b: a + b, "+"),
        (lambda a, b: a - b, "-"),
        (lambda a, b: a * b, "*"),
        (lambda a, b: a / b, "/"),
        (lambda a, b: a**b, "**"),
    ],
)
def test_binary_op_records_op_parents_in_operand_order_and_aligned_local_grads(build, op):
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    out = build(a, b)
    assert out.op == op
    assert len(out.parents) == 2
    assert out.parents[0] is a
    assert out.parents[1] is b
    assert isinstance(out.local_grads, tuple)
    assert len(out.local_grads) == 2
    assert all(type(g) is float for g in out.local_grads)
    assert out.label == ""
    assert out.grad == 0.0


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
        (lambda a: a.sin(), "sin"),
        (lambda a: a.cos(), "cos"),
        (lambda a: a.abs(), "abs"),
    ],
)
def test_unary_op_records_one_parent_and_one_local_grad(build, op):
    a = Value(0.7, label="a")
    out = build(a)
    assert out.op == op
    assert len(out.parents) == 1
    assert out.parents[0] is a
    assert isinstance(out.local_grads, tuple)
    assert len(out.local_grads) == 1
    assert type(out.local_grads[0]) is float


def test_ops_do_not_touch_their_operands():
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    _ = (a * b).tanh() + a
    for v, data, label in ((a, 2.0, "a"), (b, 3.0, "b")):
        assert is_leaf(v)
        assert v.data == data
        assert v.label == label
        assert v.grad == 0.0


@pytest.mark.parametrize(
    "build, op, const_index, const",
    [
        (lambda a: a + 2, "+", 1, 2.0),
        (lambda a: 2 + a, "+", 0, 2.0),
        (lambda a: a - 2.5, "-", 1, 2.5),
        (lambda a: 2.5 - a, "-", 0, 2.5),
        (lambda a: a * 4, "*", 1, 4.0),
        (lambda a: 4 * a, "*", 0, 4.0),
        (lambda a: a / 8, "/", 1, 8.0),
        (lambda a: 8 / a, "/", 0, 8.0),
        (lambda a: a**2, "**", 1, 2.0),
        (lambda a: 2**a, "**", 0, 2.0),
        (lambda a: a + True, "+", 1, 1.0),
        (lambda a: a * np.float64(0.5), "*", 1, 0.5),
    ],
)
def test_number_operand_becomes_a_constant_leaf_parent_in_operand_order(
    build, op, const_index, const
):
    a = Value(3.0, label="a")
    out = build(a)
    assert out.op == op
    assert len(out.parents) == 2
    assert out.parents[1 - const_index] is a
    c = out.parents[const_index]
    assert isinstance(c, Value)
    assert is_leaf(c)
    assert c.label == ""
    assert c.data == const
    assert type(c.data) is float


def test_constant_parents_carry_their_local_grads():
    # d(a*4)/d4 = a and d(8/a)/d8 = 1/a: the constant is a real parent with a real local grad.
    a = Value(3.0)
    assert (a * 4).local_grads == (4.0, 3.0)
    out = 8 / a
    assert math.isclose(out.local_grads[0], 1 / 3, rel_tol=1e-15)
    assert math.isclose(out.local_grads[1], -8 / 9, rel_tol=1e-15)


def test_subtraction_and_division_are_ops_of_their_own_not_compositions():
    a, b = Value(5.0), Value(2.0)
    d = a - b
    q = a / b
    assert d.op == "-" and d.parents[0] is a and d.parents[1] is b
    assert d.local_grads == (1.0, -1.0)
    assert q.op == "/" and q.parents[0] is a and q.parents[1] is b
    assert q.local_grads == (0.5, -5.0 / 4.0)
    assert is_leaf(a) and is_leaf(b)


def test_operand_used_twice_is_recorded_twice():
    a = Value(3.0)
    s = a + a
    p = a * a
    assert s.parents[0] is a and s.parents[1] is a
    assert s.local_grads == (1.0, 1.0)
    assert p.parents[0] is a and p.parents[1] is a
    assert p.local_grads == (3.0, 3.0)


def test_unary_minus_is_neg_with_local_grad_minus_one():
    a = Value(1.5)
    n = -a
    assert n.op == "neg"
    assert n.data == -1.5
    assert n.local_grads == (-1.0,)


def test_label_of_a_result_is_settable_and_independent_of_operands():
    a = Value(1.0, label="a")
    out = a * 2
    out.label = "out"
    assert out.label == "out"
    assert a.label == "a"


# --- type errors in ops ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        lambda a: a + "x",
        lambda a: "x" + a,
        lambda a: a - "x",
        lambda a: "x" - a,
        lambda a: a * "x",
        lambda a: a / "x",
        lambda a: "x" / a,
        lambda a: a ** "x",
        lambda a: "x" ** a,
    ],
)
def test_op_with_a_string_operand_raises_type_error_naming_str(build):
    with pytest.raises(TypeError, match="str"):
        build(Value(2.0))


@pytest.mark.parametrize(
    "other, type_name",
    [(None, "NoneType"), ([1.0], "list"), (1 + 1j, "complex")],
)
def test_op_with_a_non_number_operand_raises_type_error_naming_its_type(other, type_name):
    a = Value(2.0)
    with pytest.raises(TypeError, match=type_name):
        a + other
    with pytest.raises(TypeError, match=type_name):
        a * other


@pytest.mark.parametrize(
    "build, op, data",
    [
        (lambda v: np.float64(2.0) * v, "*", 6.0),
        (lambda v: np.float64(2.0) + v, "+", 5.0),
        (lambda v: np.float32(2.0) - v, "-", -1.0),
        (lambda v: np.int64(6) / v, "/", 2.0),
        (lambda v: np.float64(2.0) ** v, "**", 8.0),
    ],
)
def test_numpy_scalar_on_the_left_is_a_number_operand(build, op, data):
    # A numpy scalar is a number (API.md): the result is a Value, not a numpy object.
    v = Value(3.0)
    out = build(v)
    assert isinstance(out, Value)
    assert out.op == op
    assert out.data == data
    assert out.parents[1] is v
    assert is_leaf(out.parents[0]) and type(out.parents[0].data) is float
