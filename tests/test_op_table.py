"""One op mechanism: the op tables, the methods made from them, and the recipe for a new op (a
rule and a row, for both node kinds), proved by adding a throwaway op at run time."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings

from autograd import Tensor, Value, gradcheck
from autograd import functions as F
from autograd.ops import ELEMENTWISE_OPS, Op
from autograd.tensor_ops import TENSOR_OPS
from autograd.testing import strategies

SCALAR_OPS = ELEMENTWISE_OPS  # the rows every Value has (and every Tensor)


def softsign(x):
    out = x / (1.0 + F.absolute(x))
    return out, (1.0 / ((1.0 + F.absolute(x)) * (1.0 + F.absolute(x))),)


@pytest.fixture
def softsign_row():
    """The ops.py docstring's recipe, word for word: a rule and one row."""
    row = ELEMENTWISE_OPS.add(Op("softsign", softsign))
    try:
        yield row
    finally:
        ELEMENTWISE_OPS.remove("softsign")


def test_the_recipe_in_the_docstring_is_the_one_tested():
    import inspect

    import autograd.ops

    doc = autograd.ops.__doc__
    for line in inspect.getsource(softsign).splitlines():
        assert line in doc
    assert 'ELEMENTWISE_OPS.add(Op("softsign", softsign))' in doc


def test_a_row_makes_the_op_exist_on_values(softsign_row):
    x = Value(0.5, "x")
    y = x.softsign()
    assert y.op == "softsign" and y.parents == (x,)
    assert y.data == pytest.approx(0.5 / 1.5, rel=1e-15)
    assert y.local_grads[0] == pytest.approx(1 / 1.5**2, rel=1e-15)
    assert gradcheck(lambda v: (v * 3.0).softsign() * v, [-0.7])


def test_a_row_makes_the_op_exist_on_tensors(softsign_row):
    x = np.array([[-2.0, 0.3], [1.5, -0.1]])
    y = Tensor(x).softsign()
    assert y.op == "softsign"
    np.testing.assert_allclose(y.data, x / (1 + np.abs(x)), rtol=1e-15)
    assert gradcheck(lambda t: (t.softsign() * t).sum(), [x])


def test_a_row_makes_the_op_exist_under_create_graph(softsign_row):
    from autograd import grad

    second = grad(grad(lambda v: v.softsign()))(0.5)
    assert second == pytest.approx(-2 / 1.5**3, rel=1e-12)  # d/dx (1 + x)^-2 at x > 0


def test_a_row_makes_the_op_exist_for_the_strategies(softsign_row):
    assert "softsign" in strategies.builtin_ops()
    assert "softsign" in strategies.BUILTIN_OPS
    seen = set()

    @settings(max_examples=30, deadline=None)
    @given(strategies.expressions(ops=["softsign", "*"]))
    def check(expr):
        f, inputs = expr
        seen.update(expr[0].ops)
        assert gradcheck(f, inputs)

    check()
    assert "softsign" in seen


def test_a_row_makes_the_op_a_function_of_the_command_line(softsign_row, capsys):
    from tracegrad import cli

    assert "softsign" in cli.functions()
    assert cli.main(["check", "softsign(x) * x", "x=0.5"]) == 0
    out = capsys.readouterr().out
    assert "PASS" in out and "softsign(x) * x = " in out


def test_removing_the_row_takes_the_methods_away(softsign_row):
    ELEMENTWISE_OPS.remove("softsign")
    try:
        assert not hasattr(Value, "softsign") and not hasattr(Tensor, "softsign")
        assert "softsign" not in strategies.builtin_ops()
    finally:  # the fixture removes it again
        ELEMENTWISE_OPS.add(softsign_row)


def test_a_new_row_traces_from_its_rule_s_own_source(softsign_row):
    from autograd import trace

    prog = trace(lambda x: x.softsign() * x, 0.5)
    assert "v1 = x / (1.0 + absolute(x))" in prog.source
    value, (g,) = prog.value_and_grad(0.5)
    x = Value(0.5)
    y = x.softsign() * x
    y.backward()
    assert (value, g) == (y.data, x.grad)


def test_a_name_is_taken_once():
    with pytest.raises(ValueError, match="exists already"):
        ELEMENTWISE_OPS.add(Op("tanh", softsign))


# --- parity between the tables ---------------------------------------------------------


def _elementwise(table) -> set[str]:
    return {row.name for row in table if row.arity in (1, 2) and not row.params}


def test_the_elementwise_rules_are_written_once_for_both_kinds():
    assert not _elementwise(ELEMENTWISE_OPS) & _elementwise(TENSOR_OPS)


@pytest.mark.parametrize("row", [r for r in SCALAR_OPS], ids=lambda r: r.name)
def test_value_and_tensor_have_the_same_methods_for_a_row(row):
    for method in row.methods:
        assert callable(getattr(Value, method)), method
        assert callable(getattr(Tensor, method)), method


@pytest.mark.parametrize("name", sorted(_elementwise(SCALAR_OPS)))
def test_value_and_tensor_agree_on_every_elementwise_op(name):
    # The same numbers through both tables, values and local gradients.
    row = SCALAR_OPS[name]
    xs = [0.7, 1.9] if row.arity == 2 else [0.7]
    values = [Value(x) for x in xs]
    tensors = [Tensor(np.array(x)) for x in xs]
    method = row.methods[0]
    v = getattr(values[0], method)(*values[1:])
    t = getattr(tensors[0], method)(*tensors[1:])
    assert float(t.data) == pytest.approx(v.data, rel=1e-14)
    v.backward()
    t.backward()
    for value, tensor in zip(values, tensors):
        assert float(tensor.grad) == pytest.approx(value.grad, rel=1e-14)


def test_tensor_sin_and_cos_and_their_second_derivatives():
    x = np.array([0.0, 0.5, -2.0, 3.0])
    np.testing.assert_allclose(Tensor(x).sin().data, np.sin(x), rtol=0, atol=0)
    np.testing.assert_allclose(Tensor(x).cos().data, np.cos(x), rtol=0, atol=0)
    assert gradcheck(lambda t: (t.sin() * t.cos()).sum(), [x])
    from autograd import hessian

    H = hessian(lambda t: t.sin().sum())(x)
    np.testing.assert_allclose(H, np.diag(-np.sin(x)), atol=1e-12)


def test_the_command_line_functions_come_from_the_table():
    from tracegrad import cli

    assert cli.functions() == SCALAR_OPS.functions()
    assert set(SCALAR_OPS.functions()) == {
        "exp", "log", "tanh", "sigmoid", "relu", "sqrt", "sin", "cos", "abs"
    }  # fmt: skip


def test_every_row_is_one_op_type():
    rows = list(SCALAR_OPS) + list(TENSOR_OPS)
    assert {type(row) for row in rows} == {Op}


def test_domain_errors_are_worded_once_for_both_paths():
    # The generated fast path and the general path (an int operand) word an error alike.
    with pytest.raises(ZeroDivisionError, match=r"^/: division by zero, at 1.0 / 0.0$"):
        Value(1.0) / Value(0.0)
    with pytest.raises(ZeroDivisionError, match=r"^/: division by zero, at 1.0 / 0.0$"):
        Value(1.0) / 0
    with pytest.raises(ValueError, match=r"^log: input must be > 0, at log\(-1.0\)$"):
        Value(-1.0).log()
    assert math.isnan(Value(math.nan).log().data)  # nan data propagates
