"""gradcheck: passes on correct functions; on a wrong gradient raises GradcheckError with one
row per failing element and the first wrong node (.node); kinks are called kinks; the
tolerance is |analytic - numeric| <= atol + rtol * |numeric| on central differences of
half-step eps.
"""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd import GradcheckError, Value, gradcheck, primitive

NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?inf|nan")


def numbers_in(line: str) -> list[float]:
    return [float(t) for t in NUMBER.findall(line)]


def shows(line: str, x: float, rel: float = 5e-3) -> bool:
    # numbers may be printed to 3 significant digits
    return any(math.isclose(t, x, rel_tol=rel, abs_tol=1e-9) for t in numbers_in(line))


def row_for(message: str, *values: float) -> list[str]:
    """The lines of message that show every one of values."""
    return [line for line in message.splitlines() if all(shows(line, v) for v in values)]


# x^3 with a wrong derivative 2x^2 (the right one is 3x^2).
bad_cube = primitive("bad_cube", lambda x: x**3, lambda x, out: 2 * x * x)


def shifted_linear(delta: float):
    """3x whose derivative is off by delta: |analytic - numeric| is delta to ~1e-10."""
    return primitive("shifted_linear", lambda x: 3.0 * x, lambda x, out: 3.0 + delta)


# --- passing ----------------------------------------------------------------------------------


def test_passes_on_correct_functions_and_returns_true():
    assert gradcheck(lambda x: x * x, [3.0]) is True
    assert gradcheck(lambda x, y: (x * y).tanh() + x.exp() / y, [0.3, -1.7]) is True
    assert gradcheck(lambda a, b, c: a**b * c.sigmoid() - c.log(), [1.5, 0.7, 2.0]) is True


finite = dict(allow_nan=False, allow_infinity=False)


@given(
    x=st.floats(0.1, 3.0, **finite),
    y=st.floats(-2.0, 2.0, **finite),
)
def test_passes_on_drawn_inputs_for_a_mixed_expression(x, y):
    def f(a, b):
        return (a * b).sin() + a.sqrt() * b.cos() - (a / (b * b + 1)).log() + a**b

    assert gradcheck(f, [x, y]) is True


def test_passes_with_reuse_and_constants():
    assert gradcheck(lambda x: (x + x) * x - 2 / x + x**3, [1.3]) is True


# --- failing --------------------------------------------------------------------------------


def test_wrong_derivative_raises_gradcheck_error_an_assertion_error():
    assert issubclass(GradcheckError, AssertionError)
    with pytest.raises(GradcheckError):
        gradcheck(lambda x: bad_cube(x), [1.5])


def test_raise_exception_false_returns_false():
    assert gradcheck(lambda x: bad_cube(x), [1.5], raise_exception=False) is False


def test_one_row_per_failing_element_and_the_wrong_node_named():
    created: list[Value] = []

    def f(x0, x1, x2):
        c0 = bad_cube(x0)
        c0.label = "cube0"
        c2 = bad_cube(x2)
        c2.label = "cube2"
        created.extend((c0, c2))
        return c0 + x1 * c2

    inputs = [1.5, 0.5, 1.25]
    with pytest.raises(GradcheckError) as excinfo:
        gradcheck(f, inputs)
    message = str(excinfo.value)
    # input 0: analytic 2 x0^2 = 4.5, numeric 3 x0^2 = 6.75
    a0, n0 = 2 * 1.5**2, 3 * 1.5**2
    # input 2: analytic x1 * 2 x2^2 = 1.5625, numeric x1 * 3 x2^2 = 2.34375
    a2, n2 = 0.5 * 2 * 1.25**2, 0.5 * 3 * 1.25**2
    # input 1 is right: d/dx1 = x2^3 (the forward of bad_cube is correct)
    a1 = 1.25**3
    rows0 = row_for(message, a0, n0, abs(a0 - n0), abs(a0 - n0) / n0)
    rows2 = row_for(message, 2, a2, n2, abs(a2 - n2), abs(a2 - n2) / n2)
    assert len(rows0) == 1, message
    assert len(rows2) == 1, message
    assert rows0[0] != rows2[0]
    # the correct input (analytic == numeric == x2^3) must not get a row
    a1_rows = [
        line
        for line in message.splitlines()
        if sum(math.isclose(t, a1, rel_tol=1e-6) for t in numbers_in(line)) >= 2
    ]
    assert not a1_rows, message
    # the first wrong node is one of the two bad_cube nodes of the checked graph
    node = excinfo.value.node
    assert node is not None
    assert any(node is c for c in created)
    assert node.op == "bad_cube"
    assert node.label in ("cube0", "cube2")
    assert "bad_cube" in message and node.label in message


def test_node_is_the_one_wrong_primitive_among_correct_ops():
    created: list[Value] = []

    def f(x, y):
        h = (x * y).tanh()
        w = bad_cube(h + 1.0)
        w.label = "wrong"
        created.append(w)
        return w * x.exp() + y

    with pytest.raises(GradcheckError) as excinfo:
        gradcheck(f, [0.4, 0.9])
    node = excinfo.value.node
    assert any(node is w for w in created)
    assert "bad_cube" in str(excinfo.value) and "wrong" in str(excinfo.value)


def test_node_is_none_when_every_local_gradient_is_right():
    # x * Value(x.data) uses x's value as a constant: every node's local gradients are right,
    # yet the whole gradient (x, not 2x) is wrong. No node is to blame.
    with pytest.raises(GradcheckError) as excinfo:
        gradcheck(lambda x: x * Value(x.data), [1.5])
    assert excinfo.value.node is None
    assert excinfo.value.kink is False
    message = str(excinfo.value)
    assert len(row_for(message, 1.5, 3.0, 1.5, 0.5)) == 1, message


@pytest.mark.parametrize(
    "f, x0",
    [
        (lambda x: (x * 2).relu(), 0.0),  # analytic 0, numeric 1
        (lambda x: (x - 1.0).relu() * 3.0 + x, 1.0),  # analytic 1, numeric 2.5
    ],
)
def test_relu_at_its_kink_is_a_gradcheck_error_that_says_kink(f, x0):
    def g(x):
        out = f(x)
        # label the relu node so that the message can be checked for it
        stack = [out]
        while stack:
            v = stack.pop()
            if v.op == "relu":
                v.label = "the_relu"
            stack.extend(v.parents)
        return out

    with pytest.raises(GradcheckError) as excinfo:
        gradcheck(g, [x0])
    message = str(excinfo.value)
    assert "kink" in message
    assert "relu" in message and "the_relu" in message
    assert excinfo.value.node is not None
    assert excinfo.value.node.op == "relu" and excinfo.value.node.label == "the_relu"
    assert excinfo.value.kink is True


@pytest.mark.parametrize(
    "f, x0",
    [
        (lambda x: (x * x - 1.0).relu(), 1.0 + 1e-9),  # relu's input 2e-9: off 0, within eps
        (lambda x: x.relu(), 1e-8),
        (lambda x: x.abs(), 3e-7),
        (lambda x: (x - 0.3).abs() * 2.0, 0.3 + 5e-7),
    ],
)
def test_within_eps_of_a_kink_is_still_called_a_kink(f, x0):
    # Floating point rarely lands exactly on 0; a finite difference whose window straddles
    # the kink disagrees with the (correct) derivative, and that is not the op's fault.
    with pytest.raises(GradcheckError) as excinfo:
        gradcheck(f, [x0])
    assert "kink" in str(excinfo.value)
    assert "wrong local gradient" not in str(excinfo.value)
    assert excinfo.value.node.op in ("relu", "abs")
    assert excinfo.value.kink is True


def test_a_wrong_primitive_next_to_a_kink_is_still_named():
    # The kink excuse is only for the op at its kink: a wrong op elsewhere is still blamed.
    wrong_sq = primitive("wrong_sq", lambda x: x * x, lambda x, out: 3.0 * x)
    with pytest.raises(GradcheckError) as excinfo:
        gradcheck(lambda x: wrong_sq(x).relu(), [0.5])
    assert excinfo.value.node.op == "wrong_sq"
    assert "first node with a wrong local gradient" in str(excinfo.value)
    assert excinfo.value.kink is False


def test_tensor_ops_within_eps_of_their_kinks_are_called_kinks():
    import numpy as np

    for f, x0 in [
        (lambda t: t.relu().sum(), np.array([1.0, 2e-7])),
        (lambda t: t.max(), np.array([1.0, 1.0 - 1e-7])),  # nearly tied maxima
        (lambda t: t.clip(0.0, 1.0).sum(), np.array([0.5, 1.0 + 3e-7])),
    ]:
        with pytest.raises(GradcheckError, match="kink") as excinfo:
            gradcheck(f, [x0])
        assert excinfo.value.node.op in ("relu", "max", "clip")


def test_abs_at_its_kink_passes_because_its_convention_is_the_symmetric_difference():
    # (|eps| - |-eps|) / (2 eps) = 0 = abs's derivative at 0: no mismatch to report.
    assert gradcheck(lambda x: x.abs() * 3.0, [0.0]) is True


def test_abs_off_its_kink_passes():
    assert gradcheck(lambda x: (x * 2 - 1).abs(), [0.75]) is True
    assert gradcheck(lambda x: (x * 2 - 1).abs(), [0.25]) is True


# --- tolerance semantics: |a - n| <= atol + rtol * |n| ----------------------------------------


@pytest.mark.parametrize(
    "delta, atol, rtol, passes",
    [
        (0.09, 0.1, 0.0, True),
        (0.11, 0.1, 0.0, False),
        (0.29, 0.0, 0.1, True),  # rtol * |numeric| = 0.1 * 3
        (0.31, 0.0, 0.1, False),
        (0.39, 0.1, 0.1, True),  # 0.1 + 0.1 * 3
        (0.41, 0.1, 0.1, False),
        (-0.41, 0.1, 0.1, False),  # the difference is absolute
        (0.0029, 1e-5, 1e-3, True),  # the defaults: 1e-5 + 1e-3 * 3
        (0.0031, 1e-5, 1e-3, False),
    ],
)
def test_tolerance(delta, atol, rtol, passes):
    f = shifted_linear(delta)
    assert gradcheck(lambda x: f(x), [1.0], atol=atol, rtol=rtol, raise_exception=False) is passes


def test_default_tolerances_are_the_documented_ones():
    assert gradcheck(lambda x: shifted_linear(0.0029)(x), [1.0]) is True
    with pytest.raises(GradcheckError):
        gradcheck(lambda x: shifted_linear(0.0031)(x), [1.0])


def test_tolerance_is_relative_to_the_numeric_gradient():
    # numeric 3000: rtol * 3000 = 3 absorbs a difference of 2.5; numeric 3 does not
    big = primitive("big", lambda x: 3000.0 * x, lambda x, out: 3002.5)
    assert gradcheck(lambda x: big(x), [1.0], atol=0.0, rtol=1e-3, raise_exception=False)
    small = primitive("small", lambda x: 3.0 * x, lambda x, out: 5.5)
    assert not gradcheck(lambda x: small(x), [1.0], atol=0.0, rtol=1e-3, raise_exception=False)


def test_eps_is_the_half_step_of_a_central_difference():
    # x^2 at 1: a central difference is exact for any eps; a forward one would be off by eps.
    assert gradcheck(lambda x: x * x, [1.0], eps=0.01, atol=1e-9, rtol=0.0) is True
    # x^3 at 1: the central difference with half-step eps is 3 + eps^2 = 3.01 for eps = 0.1.
    cube = lambda x: x * x * x
    assert gradcheck(cube, [1.0], eps=0.1, atol=0.0101, rtol=0.0, raise_exception=False)
    assert not gradcheck(cube, [1.0], eps=0.1, atol=0.0099, rtol=0.0, raise_exception=False)
    assert gradcheck(cube, [1.0]) is True


def test_the_values_are_named_after_the_parameters_of_f():
    seen = {}

    def model(x, y):
        seen["labels"] = (x.label, y.label)
        return bad_cube(x) * y

    with pytest.raises(GradcheckError) as excinfo:
        gradcheck(model, [1.5, 2.0])
    assert seen["labels"] == ("x", "y")
    message = str(excinfo.value)
    assert "input 0 (x), element 0" in message and "x0" not in message
    # a lambda names its parameters too; *args and builtins have none to give
    labels = []
    gradcheck(lambda a, b: labels.append((a.label, b.label)) or a * b, [1.0, 2.0])
    assert set(labels) == {("a", "b")}
    labels.clear()
    gradcheck(lambda *xs: labels.append(tuple(x.label for x in xs)) or xs[0] * xs[1], [1.0, 2.0])
    assert set(labels) == {("x0", "x1")}
    labels.clear()

    def first_named(a, *rest):
        labels.append((a.label, *(r.label for r in rest)))
        return a * rest[0]

    gradcheck(first_named, [1.0, 2.0])  # not every input has a name: all numbered
    assert set(labels) == {("x0", "x1")}
