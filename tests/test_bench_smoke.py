"""The engine benchmark's workloads at tiny sizes: they run, and they compute what they claim.

No timing is asserted here (speed lives in bench/); these tests only make sure that the
numbers the benchmark prints come from correct, identical work on every engine and floor.
"""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from autograd import Value

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench_engine.py"
_spec = importlib.util.spec_from_file_location("bench_engine", BENCH)
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


@pytest.mark.parametrize("n", [2, 10, 400, 2_000])
def test_chain_gradients_agree_between_tracegrad_and_both_floors(n):
    tracegrad = bench.chain_grads(Value, n)
    floats = bench.floats_chain_grads(n)
    bare = bench.bare_chain_grads(n)
    for a, b, c in zip(tracegrad, floats, bare):
        assert a == pytest.approx(b, rel=1e-12, abs=1e-300)
        assert c == pytest.approx(b, rel=1e-12, abs=1e-300)


def test_chain_gradients_match_the_closed_form():
    # out = x0 w^L + c (1 + w + ... + w^(L-1)) for L links: d/dx0 = w^L, d/dc = sum of w^k.
    links = 5
    dx0, dw, dc = bench.floats_chain_grads(2 * links)
    assert dx0 == pytest.approx(bench.W**links)
    assert dc == pytest.approx(sum(bench.W**k for k in range(links)))
    eps = 1e-6

    def out(w):
        x = bench.X0
        for _ in range(links):
            x = x * w + bench.C
        return x

    assert dw == pytest.approx((out(bench.W + eps) - out(bench.W - eps)) / (2 * eps), rel=1e-6)


def test_chain_rejects_an_odd_length():
    with pytest.raises(ValueError, match="chain: n must be even"):
        bench.chain(Value, 3)


def test_mlp_gradients_match_finite_differences():
    X, y = bench.make_moons(8)
    model = bench.mlp_init(Value)
    params = bench.mlp_parameters(model)
    assert len(params) == 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1
    loss = bench.mlp_loss(model, params, X, y)
    loss.backward()
    eps = 1e-6
    for p in params[::37]:  # a spread of weights and biases across the three layers
        analytic, start = p.grad, p.data
        p.data = start + eps
        up = bench.mlp_loss(model, params, X, y).data
        p.data = start - eps
        down = bench.mlp_loss(model, params, X, y).data
        p.data = start
        assert analytic == pytest.approx((up - down) / (2 * eps), rel=1e-5, abs=1e-8)


def test_mlp_step_moves_parameters_against_the_gradient():
    X, y = bench.make_moons(8)
    model = bench.mlp_init(Value)
    params = bench.mlp_parameters(model)
    before = [p.data for p in params]
    loss = bench.mlp_step(model, params, X, y, lr=0.1)
    assert math.isfinite(loss)
    moved = [b - p.data for b, p in zip(before, params)]
    assert moved == pytest.approx([0.1 * p.grad for p in params])
    assert any(m != 0 for m in moved)


def test_time_mlp_reports_the_loss_of_the_same_steps():
    X, y = bench.make_moons(6)
    result = bench.time_mlp(Value, X, y, steps=2, runs=1, gc_on=True)
    model = bench.mlp_init(Value)
    params = bench.mlp_parameters(model)
    for _ in range(3):  # the warm-up step, then the two timed ones
        loss = bench.mlp_step(model, params, X, y)
    assert result["loss"] == loss
    assert len(result["runs"]) == 1 and result["seconds"] > 0


def test_measurements_run_at_tiny_sizes():
    assert bench.time_chain(bench.bare_chain_grads, 10, reps=2, runs=2)["per_node"] > 0
    memory = bench.bytes_per_node(lambda n: bench.chain(Value, n), 1_000, lambda g: g[0].backward())
    assert memory["built"] > 0 and memory["after_backward"] >= memory["built"]
    assert bench.bytes_per_node(bench.bare_chain, 1_000)["after_backward"] is None


def test_tracegrad_chain_never_hits_the_recursion_limit():
    assert bench.first_failing_chain(Value, limit=4_000) is None


def test_first_failing_chain_finds_the_exact_depth():
    class Recursive:
        """A toy engine whose backward fails past a fixed depth, as recursion would."""

        depth_limit = 300

        def __init__(self, data, depth=0):
            self.data, self.grad, self.depth = data, 0.0, depth

        def _op(self, other, data):
            other = other if isinstance(other, Recursive) else Recursive(other)
            return Recursive(data, max(self.depth, other.depth) + 1)

        def __add__(self, other):
            return self._op(other, self.data + getattr(other, "data", other))

        def __mul__(self, other):
            return self._op(other, self.data * getattr(other, "data", other))

        def backward(self):
            if self.depth >= self.depth_limit:
                raise RecursionError("too deep")

    assert bench.first_failing_chain(Recursive) == 300


def test_moons_are_deterministic_and_balanced():
    X, y = bench.make_moons(100)
    assert (X, y) == bench.make_moons(100)
    assert X != bench.make_moons(100, seed=1)[0]
    assert len(X) == 100 and all(len(row) == 2 for row in X)
    assert y.count(1.0) == 50 and y.count(-1.0) == 50


def test_worker_protocol_runs_a_task_in_a_subprocess():
    done = subprocess.run(
        [sys.executable, str(BENCH), "--worker", "tracegrad"],
        input=json.dumps({"name": "grads", "n": 40}),
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(done.stdout)["grads"] == list(bench.chain_grads(Value, 40))


def test_run_task_rejects_unknown_tasks_and_engines():
    with pytest.raises(ValueError, match="unknown task 'nope'"):
        bench.run_task("tracegrad", {"name": "nope"})
    with pytest.raises(ValueError, match="unknown engine 'jax'"):
        bench.load_value("jax")
