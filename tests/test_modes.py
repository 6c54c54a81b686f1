"""no_grad, is_grad_enabled and detect_anomaly: what they do, that they restore the previous
mode (also on an exception and when nested), and that each is thread-local.
"""

from __future__ import annotations

import math
import re
import threading

import pytest

from autograd import Value, detect_anomaly, is_grad_enabled, name_scope, no_grad

inf = math.inf


def run_in_thread_while(context, work):
    """Enter `context` in this thread, then run `work()` in another thread while it is held.

    Returns what work() returned (or raises what it raised), so a test can see the other
    thread's view of the mode while this thread is inside the context.
    """
    result: dict = {}

    def target():
        try:
            result["value"] = work()
        except BaseException as exc:  # re-raised in the main thread below
            result["error"] = exc

    with context:
        t = threading.Thread(target=target)
        t.start()
        t.join(timeout=30)
    assert not t.is_alive()
    if "error" in result:
        raise result["error"]
    return result["value"]


def run_context_in_thread(context_factory, work_inside, main_check):
    """Hold a context in a worker thread and run main_check() in this thread meanwhile."""
    entered, release = threading.Event(), threading.Event()
    result: dict = {}

    def target():
        try:
            with context_factory():
                result["inside"] = work_inside()
                entered.set()
                release.wait(timeout=30)
        except BaseException as exc:
            result["error"] = exc
            entered.set()

    t = threading.Thread(target=target)
    t.start()
    try:
        assert entered.wait(timeout=30)
        main_value = main_check()
    finally:
        release.set()
        t.join(timeout=30)
    if "error" in result:
        raise result["error"]
    return result["inside"], main_value


# --- no_grad ------------------------------------------------------------------------------


def test_grad_is_enabled_by_default():
    assert is_grad_enabled() is True


def test_no_grad_makes_results_leaves():
    a, b = Value(2.0), Value(3.0)
    with no_grad():
        assert is_grad_enabled() is False
        c = a * b + a.exp()
        d = -c
    assert is_grad_enabled() is True
    for out in (c, d):
        assert out.op == ""
        assert out.parents == ()
        assert out.local_grads == ()
    assert math.isclose(c.data, 6.0 + math.exp(2.0), rel_tol=1e-15)
    assert d.data == -c.data


def test_backward_from_a_no_grad_result_reaches_nothing_else():
    a = Value(2.0)
    with no_grad():
        b = a * 3
    c = b * 2
    c.backward()
    assert b.grad == 2.0
    assert a.grad == 0.0


def test_no_grad_restores_the_mode_on_exception_and_when_nested():
    with pytest.raises(RuntimeError):
        with no_grad():
            raise RuntimeError("boom")
    assert is_grad_enabled() is True
    with no_grad():
        with no_grad():
            assert is_grad_enabled() is False
        assert is_grad_enabled() is False  # the outer no_grad still holds
    assert is_grad_enabled() is True
    assert (Value(1.0) * 2).op == "*"


def test_no_grad_is_thread_local_other_thread_still_records():
    def other():
        a = Value(2.0)
        b = a * 3
        return is_grad_enabled(), b.op, len(b.parents)

    enabled, op, n_parents = run_in_thread_while(no_grad(), other)
    assert enabled is True
    assert op == "*"
    assert n_parents == 2


def test_no_grad_in_another_thread_does_not_affect_this_one():
    def inside():
        out = Value(2.0) * 3
        return is_grad_enabled(), out.parents

    def main_check():
        out = Value(2.0) * 3
        return is_grad_enabled(), len(out.parents)

    (other_enabled, other_parents), (main_enabled, main_parents) = run_context_in_thread(
        no_grad, inside, main_check
    )
    assert other_enabled is False and other_parents == ()
    assert main_enabled is True and main_parents == 2


# --- detect_anomaly ----------------------------------------------------------------------------


def test_forward_nan_from_inf_minus_inf_raises_naming_op_and_inputs():
    a, b = Value(inf), Value(inf)
    with detect_anomaly():
        with pytest.raises(FloatingPointError) as excinfo:
            a - b
    message = str(excinfo.value)
    assert "-" in message and message.count("inf") >= 2  # the op and both inputs


def test_forward_nan_from_inf_times_zero_raises_naming_op_and_inputs():
    a, b = Value(inf), Value(0.0)
    with detect_anomaly():
        with pytest.raises(FloatingPointError) as excinfo:
            a * b
    message = str(excinfo.value)
    assert "*" in message and "inf" in message and re.search(r"\b0(\.0*)?\b", message)


def test_forward_inf_result_raises_naming_op():
    a = Value(inf)
    with detect_anomaly():
        with pytest.raises(FloatingPointError, match="log"):
            a.log()


def test_nan_input_is_caught_at_the_first_op_that_uses_it():
    a = Value(math.nan)
    with detect_anomaly():
        with pytest.raises(FloatingPointError, match="tanh"):
            a.tanh()


def test_backward_infinite_gradient_raises_naming_op_and_input():
    # sqrt at 0 is finite forward but has an infinite local gradient.
    x = Value(0.0)
    with detect_anomaly():
        y = x.sqrt()
        assert y.data == 0.0  # forward is fine
        with pytest.raises(FloatingPointError) as excinfo:
            y.backward()
    message = str(excinfo.value)
    assert "sqrt" in message and re.search(r"\b0(\.0*)?\b", message)


def test_backward_steps_under_detect_anomaly_also_raises():
    x = Value(0.0)
    y = x.sqrt() * 2
    with detect_anomaly():
        with pytest.raises(FloatingPointError, match="sqrt"):
            for _ in y.backward_steps():
                pass


def test_detect_anomaly_lets_finite_work_through_and_restores_on_exit():
    with detect_anomaly():
        x = Value(0.5)
        y = (x * x).exp().log() - x
        y.backward()
    assert math.isclose(x.grad, 2 * 0.5 - 1, abs_tol=1e-15)
    assert math.isnan((Value(inf) - Value(inf)).data)  # off again
    with pytest.raises(RuntimeError):
        with detect_anomaly():
            raise RuntimeError("boom")
    assert math.isnan((Value(inf) * 0).data)


def test_detect_anomaly_is_thread_local_other_thread_unaffected():
    def other():
        return (Value(inf) - Value(inf)).data

    assert math.isnan(run_in_thread_while(detect_anomaly(), other))


def test_detect_anomaly_in_another_thread_does_not_affect_this_one():
    def inside():
        try:
            Value(inf) - Value(inf)
        except FloatingPointError:
            return "raised"
        return "not raised"

    def main_check():
        return (Value(inf) - Value(inf)).data

    other, main_value = run_context_in_thread(detect_anomaly, inside, main_check)
    assert other == "raised"
    assert math.isnan(main_value)


def test_backward_anomaly_under_create_graph_names_the_op():
    # The inf gradient comes from sqrt's local derivative; the '*' that carries it along under
    # create_graph is not an op the user wrote, so the error must name sqrt.
    x = Value(0.0)
    y = x.sqrt()
    with detect_anomaly():
        with pytest.raises(FloatingPointError, match="sqrt"):
            y.backward(create_graph=True)


# --- modes as decorators of generator functions -----------------------------------------------


@pytest.mark.parametrize(
    "mode, read",
    [
        (no_grad, lambda: is_grad_enabled() is False),
        (detect_anomaly, lambda: _anomaly_on()),
        (lambda: name_scope("gen"), lambda: Value(1.0).scope == ("gen",)),
    ],
)
def test_a_decorated_generator_runs_its_body_under_the_mode_at_every_resumption(mode, read):
    # PyTorch wraps generators: the mode holds while the body runs, not when it is created.
    @mode()
    def body():
        got = yield read()
        yield read() and got == "sent"

    gen = body()
    assert read() is False  # creating it switches nothing
    assert next(gen) is True
    assert read() is False  # between resumptions the caller's own mode is back
    assert gen.send("sent") is True
    assert read() is False
    with pytest.raises(StopIteration):
        next(gen)


def _anomaly_on() -> bool:
    try:
        Value(math.inf) - Value(math.inf)
    except FloatingPointError:
        return True
    return False


def test_a_decorated_generator_sees_throw_and_close_under_the_mode():
    seen = []

    @no_grad()
    def body():
        try:
            yield 1
        except KeyError:
            seen.append(("throw", is_grad_enabled()))
            yield 2
        finally:
            seen.append(("close", is_grad_enabled()))

    gen = body()
    next(gen)
    assert gen.throw(KeyError("k")) == 2
    gen.close()
    assert seen == [("throw", False), ("close", False)]
    assert is_grad_enabled()


def test_a_decorated_generator_returns_its_value():
    @no_grad()
    def body():
        yield 1
        return "done"

    gen = body()
    next(gen)
    with pytest.raises(StopIteration) as stop:
        next(gen)
    assert stop.value.value == "done"


# --- name_scope -------------------------------------------------------------------------------


def test_name_scope_nests_and_restores():
    outside = Value(1.0)
    with name_scope("layer0"):
        a = Value(2.0)
        with name_scope("neuron1"):
            b = a * 3
        c = b + a
    d = c * 2
    assert outside.scope == () and d.scope == ()
    assert a.scope == ("layer0",) and c.scope == ("layer0",)
    assert b.scope == ("layer0", "neuron1")
    assert b.parents[1].scope == ("layer0", "neuron1")  # the constant 3 was made there too


def test_name_scope_restores_on_exception():
    with pytest.raises(RuntimeError):
        with name_scope("s"):
            raise RuntimeError("boom")
    assert Value(1.0).scope == ()


def test_name_scope_as_a_decorator():
    @name_scope("loss")
    def square(x):
        return x * x

    assert square(Value(3.0)).scope == ("loss",)
    assert Value(1.0).scope == ()


def test_name_scope_is_thread_local():
    seen = []
    started, release = threading.Event(), threading.Event()

    def other():
        started.wait()
        seen.append(Value(1.0).scope)
        release.set()

    thread = threading.Thread(target=other)
    thread.start()
    with name_scope("mine"):
        started.set()
        release.wait()
        mine = Value(1.0).scope
    thread.join()
    assert seen == [()] and mine == ("mine",)


@pytest.mark.parametrize("bad", ["", None, 3, ("a",)])
def test_name_scope_needs_a_non_empty_name(bad):
    with pytest.raises(TypeError, match="name_scope"):
        name_scope(bad)


def test_tensor_nodes_record_their_scope():
    import numpy as np

    from autograd import Tensor

    with name_scope("layer0"):
        w = Tensor(np.ones(2))
        y = (w * 2).sum()
    assert w.scope == ("layer0",) and y.scope == ("layer0",)


def test_leaving_a_block_restores_what_its_entry_replaced_even_if_an_inner_exit_was_skipped():
    # An interrupt can skip an inner block's exit; the outer block's exit must still restore
    # the state from before the outer block (a ContextVar token), not the inner's "previous".
    outer, inner = no_grad(), detect_anomaly()
    outer.__enter__()
    inner.__enter__()  # its __exit__ never runs, as if interrupted
    assert not is_grad_enabled() and _anomaly_on()
    outer.__exit__(None, None, None)
    assert is_grad_enabled() and not _anomaly_on()


def test_a_decorated_function_never_changes_the_caller_s_modes_whatever_it_does():
    from autograd.modes import _state

    @no_grad()
    def leaky():
        _state.set(_state.get())  # code that sets modes and never restores them
        name_scope("left-open").__enter__()
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        leaky()
    assert is_grad_enabled() and Value(1.0).scope == ()
