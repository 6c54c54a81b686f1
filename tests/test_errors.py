"""Domain errors are raised at the op, with a message naming the op and the offending value;
NaN and inf given as data are accepted and propagate (IEEE) when detect_anomaly is off.
"""

from __future__ import annotations

import math
import re

import pytest

from autograd import Value

inf, nan = math.inf, math.nan


def names_number(message: str, x: float) -> bool:
    """True when the message shows x as a number (2.5, -2.5, 0.0, 1e+03, 0.333333 ...)."""
    for token in re.findall(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?", message):
        if math.isclose(float(token), x, rel_tol=1e-5):
            return True
    return False


def check_message(excinfo, op: str, *values: float) -> None:
    message = str(excinfo.value)
    assert op in message, f"message does not name the op {op!r}: {message!r}"
    for x in values:
        assert names_number(message, x), f"message does not show {x!r}: {message!r}"


# --- each domain error, its type and its message ---------------------------------------------


@pytest.mark.parametrize("x", [0.0, -2.5, -1e3])
def test_log_of_non_positive_is_value_error(x):
    with pytest.raises(ValueError) as excinfo:
        Value(x).log()
    check_message(excinfo, "log", x)


@pytest.mark.parametrize("x", [-2.5, -1e-3])
def test_sqrt_of_negative_is_value_error(x):
    with pytest.raises(ValueError) as excinfo:
        Value(x).sqrt()
    check_message(excinfo, "sqrt", x)


def test_sqrt_of_zero_is_fine():
    assert Value(0.0).sqrt().data == 0.0


@pytest.mark.parametrize(
    "build",
    [
        lambda: Value(3.5) / Value(0.0),
        lambda: Value(3.5) / 0,
        lambda: 3.5 / Value(0.0),
        lambda: Value(3.5) / Value(-0.0),
    ],
)
def test_division_by_zero_is_zero_division_error(build):
    with pytest.raises(ZeroDivisionError) as excinfo:
        build()
    check_message(excinfo, "/", 3.5, 0.0)


@pytest.mark.parametrize("p", [-1, -2.0, -0.5])
def test_zero_to_a_negative_power_is_zero_division_error(p):
    with pytest.raises(ZeroDivisionError) as excinfo:
        Value(0.0) ** p
    check_message(excinfo, "**", 0.0, p)


def test_zero_to_a_negative_value_power_is_an_error():
    # With a Value exponent the base must be > 0 (ValueError); 0 ** negative is also a
    # ZeroDivisionError. Either way it is raised at the op and never becomes inf/nan.
    with pytest.raises((ValueError, ZeroDivisionError)) as excinfo:
        Value(0.0) ** Value(-1.0)
    check_message(excinfo, "**", 0.0)


@pytest.mark.parametrize("x, p", [(-2.5, 0.5), (-8.0, 1 / 3), (-1.0, -1.5)])
def test_negative_base_with_non_integer_exponent_is_value_error(x, p):
    with pytest.raises(ValueError) as excinfo:
        Value(x) ** p
    check_message(excinfo, "**", x, p)


@pytest.mark.parametrize(
    "base, build",
    [
        (-2.5, lambda b, e: b**e),
        (0.0, lambda b, e: b**e),
        (-2.5, lambda b, e: b.data**e),  # number base, Value exponent
    ],
)
def test_value_exponent_needs_a_positive_base(base, build):
    # Even an integral exponent: d/de (b ** e) = log(b) * b ** e needs b > 0.
    b, e = Value(base), Value(2.0)
    with pytest.raises(ValueError) as excinfo:
        build(b, e)
    check_message(excinfo, "**", base)


@pytest.mark.parametrize("x", [710.0, 1e5])
def test_exp_overflow_is_overflow_error(x):
    with pytest.raises(OverflowError) as excinfo:
        Value(x).exp()
    check_message(excinfo, "exp", x)


def test_exp_just_below_overflow_is_fine():
    assert Value(709.0).exp().data == math.exp(709.0)


def test_a_failed_op_raises_before_recording_anything():
    x = Value(-1.0)
    with pytest.raises(ValueError):
        x.log()
    assert x.grad == 0.0 and x.parents == ()


# --- nan and inf as data propagate --------------------------------------------------------


def test_nan_propagates_through_every_op():
    x = Value(nan)
    for out in (
        x + 1,
        x - 1,
        x * 2,
        x / 2,
        x**2,
        -x,
        x.exp(),
        x.log(),
        x.tanh(),
        x.sigmoid(),
        x.sqrt(),
        x.sin(),
        x.cos(),
        x.abs(),
    ):
        assert math.isnan(out.data), out.op


def test_inf_propagates():
    x = Value(inf)
    assert (x + 1).data == inf
    assert (x * 2).data == inf
    assert (-x).data == -inf
    assert x.exp().data == inf
    assert x.log().data == inf
    assert x.sqrt().data == inf
    assert x.tanh().data == 1.0
    assert (Value(1.0) / x).data == 0.0
    assert (Value(-inf).exp()).data == 0.0


def test_inf_minus_inf_and_inf_times_zero_are_nan_without_anomaly_mode():
    assert math.isnan((Value(inf) - Value(inf)).data)
    assert math.isnan((Value(inf) * 0).data)


def test_nan_gradient_propagates_in_backward():
    x = Value(nan)
    y = x * x
    y.backward()
    assert math.isnan(x.grad)


def test_sqrt_at_zero_has_infinite_gradient_as_in_pytorch():
    x = Value(0.0)
    y = x.sqrt()
    assert y.local_grads == (inf,)
    y.backward()
    assert x.grad == inf


def test_nan_base_with_a_value_exponent_propagates_instead_of_failing_the_base_check():
    # "NaN given as data propagates" wins over "a Value exponent needs a base > 0": nan is
    # not a base of the wrong sign, and the forward and both gradients stay nan.
    base, exponent = Value(math.nan), Value(2.0)
    y = base**exponent
    y.backward()
    assert math.isnan(y.data) and math.isnan(base.grad) and math.isnan(exponent.grad)


def test_power_overflow_is_worded_like_exp_overflow():
    with pytest.raises(OverflowError, match=r"\*\*: result overflows a float, at 10.0 \*\* 400.0"):
        Value(10.0) ** 400


def test_sin_and_cos_of_inf_are_nan_as_ieee_says():
    # math.sin(inf) raises; IEEE (and numpy, and PyTorch) give nan, which then propagates.
    for x in (inf, -inf):
        for out in (Value(x).sin(), Value(x).cos()):
            assert math.isnan(out.data)
            out.backward()  # its local gradient is nan too: no error from inside math
            assert math.isnan(out.parents[0].grad)


def test_sin_of_inf_under_detect_anomaly_names_the_op():
    from autograd import detect_anomaly

    with detect_anomaly(), pytest.raises(FloatingPointError, match=r"sin: result is nan"):
        Value(inf).sin()


def test_an_infinite_base_with_a_fractional_exponent_propagates():
    assert (Value(-inf) ** 0.5).data == inf  # IEEE pow(-inf, 0.5); only finite bases refuse
    assert (Value(inf) ** 0.5).data == inf


@pytest.mark.parametrize("build", [lambda x: x**-30, lambda x: x ** Value(-30.0)])
def test_a_finite_power_whose_derivative_overflows_has_an_infinite_gradient(build):
    # 1e-10 ** -30 = 1e300 is a float; its derivative -30 * 1e-10 ** -31 is not: -inf, as
    # PyTorch, rather than an error from inside the derivative.
    x = Value(1e-10)
    y = build(x)
    assert y.data == pytest.approx(1e300)
    y.backward()
    assert x.grad == -inf


@pytest.mark.parametrize("big", [10**400, -(10**5000)], ids=["1e400", "-1e5000"])
def test_an_int_too_large_for_a_float_is_an_overflow_error_that_says_so(big):
    with pytest.raises(OverflowError, match=r"Value: the int of about 10\*\*\d+ is too large"):
        Value(big)
    with pytest.raises(OverflowError, match=r"\+: operand: the int of about"):
        Value(1.0) + big
