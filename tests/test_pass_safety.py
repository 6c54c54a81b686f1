"""A pass keeps its state in the pass: threads, interleaved generators, a pass that raises, a
KeyboardInterrupt at any moment, and fork (API.md, the backward() paragraph and "Modes")."""

from __future__ import annotations

import gc
import math
import os
import random
import signal
import sys
import threading

import numpy as np
import pytest

import nn
from autograd import (
    Tensor,
    Value,
    detect_anomaly,
    is_grad_enabled,
    primitive,
)
from autograd.modes import current


@pytest.fixture
def fast_switching():
    """Threads switch every microsecond, so passes really interleave."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def _loss_over(leaves: list[Value]) -> Value:
    """A graph of a few hundred nodes that uses every shared leaf several times."""
    total = Value(0.0)
    for k in range(6):
        for i, leaf in enumerate(leaves):
            total = total + (leaf * (k + 1) + i).tanh() * leaf
    return total


def _expected_grads(leaves: list[Value], create_graph: bool = False) -> list[float]:
    twins = [Value(leaf.data) for leaf in leaves]
    _loss_over(twins).backward(create_graph=create_graph)
    return [t.grad if isinstance(t.grad, float) else t.grad.data for t in twins]


def _run_threads(target, n: int) -> None:
    errors = []

    def guarded():
        try:
            target()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=guarded) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
        assert not t.is_alive(), "a pass never finished"
    assert not errors, errors


# --- threads -----------------------------------------------------------------------------


@pytest.mark.parametrize("create_graph", [False, True])
def test_threads_over_shared_leaves_lose_no_contribution(fast_switching, create_graph):
    leaves = [Value(0.1 * (i + 1), f"x{i}") for i in range(50)]
    want = _expected_grads(leaves, create_graph)
    passes = 6

    def work():
        _loss_over(leaves).backward(create_graph=create_graph)

    _run_threads(work, passes)
    for leaf, g in zip(leaves, want):
        got = leaf.grad.data if isinstance(leaf.grad, Value) else leaf.grad
        assert got == pytest.approx(passes * g, rel=1e-12)


def test_threads_stepping_through_passes_over_shared_leaves_lose_no_contribution(
    fast_switching,
):
    leaves = [Value(0.1 * (i + 1), f"x{i}") for i in range(30)]
    want = _expected_grads(leaves)
    passes = 6

    def work():
        for _step in _loss_over(leaves).backward_steps():
            pass

    _run_threads(work, passes)
    for leaf, g in zip(leaves, want):
        assert leaf.grad == pytest.approx(passes * g, rel=1e-12)


def test_tensor_passes_in_threads_lose_no_contribution(fast_switching):
    W = Tensor(np.linspace(-1.0, 1.0, 12).reshape(3, 4), "W")
    X = np.linspace(0.0, 2.0, 15).reshape(5, 3)

    def loss():
        return ((Tensor(X) @ W).tanh() * 2.0).sum()

    loss().backward()
    want = W.grad.copy()
    W.grad = None
    _run_threads(lambda: loss().backward(), 8)
    np.testing.assert_allclose(W.grad, 8 * want, rtol=1e-12)


# --- generators left half-run, interleaved -------------------------------------------------


def _graph():
    a, b = Value(3.0, "a"), Value(-2.0, "b")
    c = a * b
    L = (c + a).tanh() * c + a * a
    return a, b, L


def test_two_zipped_step_generators_leave_what_two_backward_calls_leave():
    a, b, L = _graph()
    L.backward()
    L.backward()
    want = (a.grad, b.grad)
    a, b, L = _graph()
    for _s1, _s2 in zip(L.backward_steps(), L.backward_steps()):
        pass
    assert (a.grad, b.grad) == pytest.approx(want, rel=1e-12)


def test_a_backward_while_a_step_generator_is_suspended_adds_its_own_share():
    a, b, L = _graph()
    L.backward()
    L.backward()
    want = (a.grad, b.grad)
    a, b, L = _graph()
    steps = L.backward_steps()
    next(steps)
    next(steps)
    L.backward()  # the other pass's partial sums are not this one's business
    for _step in steps:
        pass
    assert (a.grad, b.grad) == pytest.approx(want, rel=1e-12)


def test_a_step_generator_abandoned_half_way_leaves_nothing_behind_for_the_next_pass():
    a, b, L = _graph()
    steps = L.backward_steps()
    next(steps)
    next(steps)
    del steps  # closed half-run
    L.zero_grad()
    L.backward()
    fresh_a, fresh_b, fresh = _graph()
    fresh.backward()
    assert (a.grad, b.grad) == (fresh_a.grad, fresh_b.grad)


# --- all or nothing ------------------------------------------------------------------------


def test_a_pass_stopped_by_an_anomaly_adds_no_gradient():
    x = Value(4.0, "x")
    x.grad = 1.5
    y = x.sqrt() * x + (x - 4.0).sqrt()  # d sqrt(x - 4) at 4 is inf: the pass stops there
    with detect_anomaly(), pytest.raises(FloatingPointError):
        y.backward()
    assert x.grad == 1.5 and y.grad == 0.0


def test_a_pass_stopped_by_a_primitive_s_derivative_adds_no_gradient():
    def forward(x):
        return x * x

    def derivative(x, out):
        if isinstance(x, Value):  # under create_graph: this derivative cannot be recorded
            raise ArithmeticError("no second derivative here")
        return 2 * x

    square = primitive("square", forward, derivative)
    x = Value(3.0, "x")
    y = square(x) * x + x
    x.grad = 0.25
    with pytest.raises(ArithmeticError):
        y.backward(create_graph=True)
    assert x.grad == 0.25


def test_a_pass_stopped_by_a_keyboard_interrupt_adds_no_gradient():
    calls = []

    def derivative(x, out):
        calls.append(x)
        if len(calls) > 1:  # the call under create_graph, in the middle of the pass
            raise KeyboardInterrupt
        return 1.0

    ident = primitive("ident", lambda x: x, derivative)
    x = Value(2.0, "x")
    y = ident(x * x) * x
    with pytest.raises(KeyboardInterrupt):
        y.backward(create_graph=True)
    assert x.grad == 0.0
    y.backward()  # and the next pass is whole
    assert x.grad == pytest.approx(3 * 2.0**2)


# --- KeyboardInterrupt at random moments (a real timer) -------------------------------------


class _Interrupts:
    """SIGALRM after a random delay raises KeyboardInterrupt while armed."""

    def __init__(self) -> None:
        self.armed = False
        self.fired = 0
        self.old = signal.signal(signal.SIGALRM, self._handler)

    def _handler(self, signum, frame):
        if self.armed:
            self.armed = False
            self.fired += 1
            raise KeyboardInterrupt

    def run(self, work, delay: float) -> None:
        try:  # the handler raises only while armed, and disarming is inside the try
            self.armed = True
            signal.setitimer(signal.ITIMER_REAL, delay)
            work()
            self.armed = False
        except KeyboardInterrupt:
            pass
        self.armed = False
        signal.setitimer(signal.ITIMER_REAL, 0)

    def close(self) -> None:
        signal.signal(signal.SIGALRM, self.old)


def _state_is_clean() -> None:
    assert is_grad_enabled(), "left in no_grad"
    assert current().scope == (), f"left in scope {current().scope}"
    assert not current().anomaly, "left in detect_anomaly"
    assert gc.isenabled(), "the garbage collector was switched off"
    done = []
    other = threading.Thread(target=lambda: done.append(_one_small_pass()))
    other.start()
    other.join(timeout=10)
    assert done == [6.0], "a pass in another thread did not complete"


def _one_small_pass() -> float:
    x = Value(3.0)
    (x * x).backward()
    return x.grad


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs signal.setitimer")
def test_interrupts_at_random_moments_leave_modes_scopes_and_locks_as_they_were():
    rng = random.Random(0)
    X, y = nn.datasets.moons(40, noise=0.1, seed=0)
    model = nn.MLP(2, [8, 8, 1], seed=0)
    tensor_model = nn.MLP(2, [8, 1], seed=0, engine="tensor")
    targets = 2.0 * y - 1.0

    def backward():
        loss = nn.losses.hinge([model(row) for row in X.tolist()], targets)
        loss.backward()

    def fit():
        nn.fit(model, X, y, loss="mse", optimizer=nn.SGD(model.parameters(), lr=0.01),
               epochs=3, verbose=0)  # fmt: skip

    def tensor_predict():
        tensor_model.predict(X)

    # (A user's own `with` block is as safe as Python's with statement, which checks for
    # interrupts between its own steps; the library runs its modes through Context.run.)
    jobs = [lambda: model.predict(X), fit, backward, tensor_predict]
    # A gc callback (hypothesis installs one) would swallow an interrupt that lands in it.
    callbacks, gc.callbacks[:] = gc.callbacks[:], []
    interrupts = _Interrupts()
    assert gc.isenabled()
    try:
        for k in range(240):
            interrupts.run(jobs[k % len(jobs)], rng.uniform(1e-5, 4e-3))
            _state_is_clean()
    finally:
        interrupts.close()
        gc.callbacks[:] = callbacks
    assert interrupts.fired >= 100, f"only {interrupts.fired} interrupts landed"


# --- fork ----------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_child_forked_while_another_thread_is_in_a_pass_runs_passes():
    stop = threading.Event()
    leaves = [Value(0.1 * (i + 1)) for i in range(20)]

    def busy():
        while not stop.is_set():
            _loss_over(leaves).backward()

    worker = threading.Thread(target=busy)
    worker.start()
    try:
        statuses = []
        for _ in range(5):
            pid = os.fork()
            if pid == 0:  # the child: a pass must complete, the collector must be on
                ok = _one_small_pass() == 6.0 and gc.isenabled()
                os._exit(0 if ok else 1)
            statuses.append(_wait(pid, 20.0))
    finally:
        stop.set()
        worker.join()
    assert statuses == [0] * 5, statuses


def _wait(pid: int, timeout: float) -> int:
    """The child's exit status, or -1 (after killing it) if it hung."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return -1


def test_no_pass_switches_the_garbage_collector():
    switched = []
    real_disable = gc.disable

    def spy():
        switched.append(True)
        real_disable()

    gc.disable = spy
    try:
        big = _loss_over([Value(0.1 * (i + 1)) for i in range(200)])
        big.backward()
        for _ in big.backward_steps():
            pass
        X, y = nn.datasets.xor()
        model = nn.MLP(2, [3, 1], seed=0)
        nn.fit(model, X, y, loss="mse", optimizer=nn.SGD(model.parameters(), lr=0.1),
               epochs=2, verbose=0)  # fmt: skip
    finally:
        gc.disable = real_disable
    assert not switched and gc.isenabled()


def test_backward_of_a_deep_chain_needs_no_recursion():
    x = Value(0.5)
    y = x
    for _ in range(50_000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == 1.0 and math.isfinite(y.data)
