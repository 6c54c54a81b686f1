"""autograd.testing.strategies: random expressions that gradcheck must pass, and shrink."""

from __future__ import annotations

import ast
import contextlib
import io
import math

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from autograd import GradcheckError, Value, grad, gradcheck, no_grad, primitive
from autograd.engine import topological_order
from autograd.testing import strategies
from autograd.testing.strategies import BUILTIN_OPS, expressions, values

# At least 200 draws, more under the CI profile (tests/conftest.py).
MANY = max(200, settings.default.max_examples)
# For find() and inner property tests: reproducible (derandomized), with room to search.
QUIET = settings(
    database=None,
    derandomize=True,
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Planted bugs: derivatives that are right for some inputs only.
bad_cube = primitive("cube", lambda x: x**3, lambda x, out: 3 * x * abs(x))  # wrong for x < 0
bad_mulexp = primitive(  # the two partial derivatives swapped
    "mulexp", lambda a, b: a * math.exp(b), lambda a, b, out: (out, math.exp(b))
)
good_mulexp = primitive(
    "mulexp", lambda a, b: a * math.exp(b), lambda a, b, out: (math.exp(b), out)
)


def softplus(x):
    """A custom op that is a plain function of Values (a composition, not a primitive)."""
    return (1 + x.exp()).log()


def fails_gradcheck(expr) -> bool:
    f, inputs = expr
    return not gradcheck(f, inputs, raise_exception=False)


# --- the guarantee ----------------------------------------------------------------------


@settings(max_examples=MANY, deadline=None)
@given(expressions())
def test_every_draw_passes_gradcheck(expr):
    f, inputs = expr
    assert gradcheck(f, inputs)


@settings(max_examples=MANY, deadline=None)
@given(expressions())
def test_every_op_in_a_draw_is_inside_its_domain_and_away_from_kinks(expr):
    # The margins the strategy promises, read off the graph it builds: gradcheck passing
    # could hide a lucky draw, these cannot.
    f, inputs = expr
    out = f(*(Value(x, f"x{i}") for i, x in enumerate(inputs)))
    for node in topological_order(out):
        assert math.isfinite(node.data)
        xs = [p.data for p in node.parents]
        if node.op in ("log", "sqrt"):
            assert xs[0] >= 0.25
        elif node.op in ("relu", "abs"):
            assert abs(xs[0]) >= 0.1
        elif node.op == "/":
            assert abs(xs[1]) >= 0.5
        elif node.op == "**":
            exponent = node.parents[1]
            number = not exponent.parents and not exponent.label  # a constant, not an input
            if not number or xs[1] == 0.5:
                assert xs[0] >= 0.25
            elif xs[1] < 0:
                assert abs(xs[0]) >= 0.5
        if node.parents:
            assert abs(node.data) <= 1e12  # far from overflow, however the ops compose


@settings(max_examples=MANY, deadline=None)
@given(expressions(ops=[*BUILTIN_OPS, good_mulexp, softplus]))
def test_custom_ops_compose_and_pass_gradcheck(expr):
    f, inputs = expr
    assert gradcheck(f, inputs)


@settings(max_examples=100, deadline=None)
@given(expressions(), st.integers(0, 3))
def test_second_derivatives_of_draws_pass_gradcheck(expr, k):
    # gradcheck(grad(f)) checks the create_graph derivative rules on random expressions.
    f, inputs = expr
    assert gradcheck(grad(f, k % len(inputs)), inputs)


def test_every_op_appears_across_draws():
    seen = set()

    @settings(QUIET, max_examples=300, phases=[Phase.generate])
    @given(expressions(ops=[*BUILTIN_OPS, bad_cube, softplus]))
    def collect(expr):
        seen.update(expr[0].ops)

    collect()
    assert seen == {*BUILTIN_OPS, "cube", "softplus"}


# --- the formula ------------------------------------------------------------------------


class _Interpreter:
    """Evaluates a formula's syntax tree on Values; anything unexpected fails the test."""

    BINARY = {ast.Add: "__add__", ast.Sub: "__sub__", ast.Mult: "__mul__",
              ast.Div: "__truediv__", ast.Pow: "__pow__"}  # fmt: skip

    def __init__(self, inputs, functions):
        self.inputs = inputs
        self.functions = functions

    def __call__(self, node):
        if isinstance(node, ast.Expression):
            return self(node.body)
        if isinstance(node, ast.Name):
            assert node.id.startswith("x"), node.id
            return self.inputs[int(node.id[1:])]
        if isinstance(node, ast.Constant):
            assert type(node.value) in (int, float)
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            operand = self(node.operand)
            return -operand
        if isinstance(node, ast.BinOp):
            left, right = self(node.left), self(node.right)
            if not isinstance(left, Value):  # 1 - x0: a number on the left
                return getattr(right, "__r" + self.BINARY[type(node.op)][2:])(left)
            return getattr(left, self.BINARY[type(node.op)])(right)
        if isinstance(node, ast.Call):
            name = node.func.id
            args = [self(a) for a in node.args]
            if name in self.functions:
                return self.functions[name](*args)
            return getattr(args[0], name)()
        raise AssertionError(f"unexpected syntax {ast.dump(node)}")


@settings(max_examples=MANY, deadline=None)
@given(expressions(ops=[*BUILTIN_OPS, bad_cube, good_mulexp]))
def test_repr_is_the_formula(expr):
    # Parse the repr (never eval it) and evaluate it with Values: it must compute exactly
    # what f computes, so the formula is f.
    f, inputs = expr
    tree = ast.parse(repr(f), mode="eval")
    xs = [Value(x) for x in inputs]
    got = _Interpreter(xs, {"cube": bad_cube, "mulexp": good_mulexp})(tree)
    want = f(*(Value(x) for x in inputs))
    assert got.data == want.data or (math.isnan(got.data) and math.isnan(want.data))
    assert {n.op for n in topological_order(got)} == {n.op for n in topological_order(want)}


@settings(max_examples=100, deadline=None)
@given(expressions())
def test_repr_is_a_formula_the_command_line_checks(expr):
    # The formula read back by another parser: `tracegrad check` parses it (never evals)
    # and gradchecks it at the same inputs.
    from tracegrad import cli

    f, inputs = expr
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        bindings = [f"x{i}={x!r}" for i, x in enumerate(inputs)]
        status = cli.main(["check", "--", repr(f), *bindings])  # "--": it may start with -
    assert status == 0 and "PASS" in out.getvalue(), out.getvalue()


def test_repr_formatting():
    # Binary ops nest in parentheses, calls take their argument bare, unary minus is "-".
    f, _ = find(expressions(max_leaves=2), lambda e: repr(e[0]).count("(") >= 3, settings=QUIET)
    ast.parse(repr(f), mode="eval")
    f, _ = find(expressions(ops=["neg", "*"]), lambda e: e[0].ops == {"neg", "*"}, settings=QUIET)
    assert repr(f) in ("(-x0) * x0", "-(x0 * x0)", "x0 * (-x0)")


def test_an_expression_takes_one_value_per_input():
    f, inputs = find(expressions(max_leaves=2), lambda e: len(e[1]) == 2, settings=QUIET)
    assert f.n_inputs == 2
    with pytest.raises(TypeError, match="takes 2 input"):
        f(Value(1.0))


def test_no_ops_is_an_input():
    f, inputs = find(expressions(max_leaves=1, max_ops=0), lambda e: True, settings=QUIET)
    assert repr(f) == "x0" and f.ops == frozenset()
    x = Value(inputs[0])
    assert f(x) is x


# --- shrinking --------------------------------------------------------------------------


@pytest.mark.parametrize("op", BUILTIN_OPS)
def test_shrinks_to_the_op_alone(op):
    f, inputs = find(expressions(), lambda e: op in e[0].ops, settings=QUIET)
    # One application of the op on x0 = 1.0 (values shrink to 1.0, where no op needs a
    # guard); a binary op takes x0 twice, ** its first number exponent, 2.
    assert inputs == [1.0]
    if op == "**":
        assert repr(f) == "x0 ** 2"
    elif op in ("+", "-", "*", "/"):
        assert repr(f) == f"x0 {op} x0"
    else:
        assert repr(f) == ("-x0" if op == "neg" else f"{op}(x0)")
    assert f.ops == {op}


def test_shares_subexpressions():
    def shared(expr):
        f, inputs = expr
        out = f(*(Value(x) for x in inputs))
        uses = {}
        for node in topological_order(out):
            for parent in node.parents:
                uses[parent] = uses.get(parent, 0) + 1
        return any(n > 1 and p.parents for p, n in uses.items())

    f, _ = find(expressions(), shared, settings=QUIET)
    assert len(repr(f)) <= 24, repr(f)


@pytest.mark.parametrize(
    "planted, ops",
    [
        (bad_cube, [*BUILTIN_OPS, bad_cube]),
        (bad_cube, ["+", "*", "tanh", bad_cube]),
        (bad_mulexp, [*BUILTIN_OPS, bad_mulexp]),
    ],
)
def test_a_wrong_primitive_is_found_and_shrunk_to_a_short_expression(planted, ops):
    name = planted.op.name
    f, inputs = find(
        expressions(ops=ops), fails_gradcheck, settings=settings(QUIET, max_examples=1000)
    )
    assert name in repr(f) and len(repr(f)) <= 40, repr(f)
    with pytest.raises(GradcheckError) as info:
        gradcheck(f, inputs)
    assert info.value.node is not None and info.value.node.op == name  # named by gradcheck


def test_a_property_test_reports_the_shrunk_formula():
    # How a user sees it: the falsifying example is printed as the formula.
    @settings(QUIET, max_examples=500)
    @given(expressions(ops=["+", "*", "sin", bad_cube]))
    def test_user_gradients(expr):
        f, inputs = expr
        assert gradcheck(f, inputs)

    with pytest.raises(GradcheckError) as info:
        test_user_gradients()
    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert "cube(" in notes, notes


# --- values and argument checking -------------------------------------------------------


@settings(max_examples=MANY, deadline=None)
@given(values(), values(-1.0, 2.0, avoid=[0.0, 1.0], margin=0.2))
def test_values_are_bounded_and_avoid_points(x, y):
    assert type(x) is float and math.isfinite(x) and -3.0 <= x <= 3.0
    assert x == 0.0 or abs(x) >= 2.2250738585072014e-308  # no subnormals
    assert -1.0 <= y <= 2.0 and abs(y) >= 0.2 - 1e-12 and abs(y - 1.0) >= 0.2 - 1e-12


def test_values_can_reach_both_sides_of_an_avoided_point():
    strategy = values(-1.0, 1.0, avoid=[0.0], margin=0.5)
    assert find(strategy, lambda x: x < 0, settings=QUIET) <= -0.5
    assert find(strategy, lambda x: x > 0, settings=QUIET) >= 0.5


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"min_value": 1.0, "max_value": 0.0}, "min_value <= max_value"),
        ({"min_value": -math.inf}, "finite"),
        ({"margin": -1.0}, "margin"),
        ({"min_value": -0.1, "max_value": 0.1, "avoid": [0.0], "margin": 0.2}, "nothing in"),
    ],
)
def test_values_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        values(**kwargs)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"max_leaves": 0}, ValueError, "max_leaves"),
        ({"max_ops": -1}, ValueError, "max_ops"),
        ({"ops": ["+", "tan"]}, ValueError, "unknown op 'tan'"),
        ({"ops": []}, ValueError, "ops is empty"),
        ({"ops": ["+", "+"]}, ValueError, "given twice"),
        ({"ops": [bad_cube, bad_cube]}, ValueError, "'cube' is given twice"),
        ({"ops": [3]}, TypeError, "op names or callables"),
        ({"ops": [lambda x: x]}, ValueError, "name of its own"),
        ({"ops": [primitive("exp", math.exp, lambda x, out: out)]}, ValueError, "'exp'"),
        ({"ops": [primitive("f", lambda *xs: 0.0, lambda *a: 0.0)]}, ValueError, "how many"),
    ],
)
def test_expressions_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        expressions(**kwargs)


def test_a_custom_op_outside_its_domain_is_a_clear_error():
    mylog = primitive("mylog", math.log, lambda x, out: 1 / x)

    @settings(QUIET, max_examples=200)
    @given(expressions(ops=["neg", mylog]))
    def draw(expr):
        pass

    with pytest.raises(ValueError, match="custom op 'mylog' failed at"):
        draw()


def test_a_single_op_name_and_draws_inside_no_grad():
    with no_grad():
        f, inputs = find(expressions(ops="tanh"), lambda e: True, settings=QUIET)
    assert repr(f) == "tanh(x0)"
    assert gradcheck(f, inputs)


def test_strategies_is_importable_from_autograd_testing():
    assert strategies.expressions is expressions and strategies.values is values
