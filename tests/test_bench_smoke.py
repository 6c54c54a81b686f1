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


def test_the_moons_task_is_micrograd_s_demo_and_tracegrad_trains_on_it():
    task = bench.moons_task(quick=True)
    assert len(task["X"]) == len(task["y"]) == 10 and set(task["y"]) <= {-1.0, 1.0}
    result = bench.time_moons("tracegrad", {**task, "gc": True})
    assert result["seconds"] > 0 and 0 < result["backward"] < result["seconds"]
    assert math.isfinite(result["loss"])
    assert bench.moons_nodes(task) > 10 * 337  # every sample's forward, the L2 term


def test_the_tracegrad_loop_follows_the_float_floor_from_the_same_weights():
    # Same work: from the same initial weights, the nn loop and the hand-written float
    # floor take the same steps (bench_moons's runners, which (a) times).
    import bench_moons

    task = {**bench.moons_task(quick=True), "steps": 3, "gc": True}
    weights = [
        p.data
        for p in __import__("nn")
        .MLP(2, [16, 16, 1], activation="relu", init="uniform", seed=1)
        .parameters()
    ]
    ours = bench_moons.tracegrad_run({**task, "weights": weights})
    floor = bench_moons.floats_run({**task, "weights": weights})
    assert ours["losses"] == pytest.approx(floor["losses"], rel=1e-12)


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


def test_the_scope_benchmark_compares_the_same_graph_with_and_without_scopes():
    # bench_scopes.py: its two variants must differ only in the scopes their nodes record.
    import bench_scopes

    from autograd import topological_order

    step = bench_scopes.make_step(quick=True)
    scoped, unscoped = step(True), step(False)
    assert scoped.data == unscoped.data  # the update's arithmetic leaves the weights as they were
    a, b = topological_order(scoped), topological_order(unscoped)
    assert [n.op for n in a] == [n.op for n in b] and len(a) > 1000
    outside = {(), ("loss",)}  # the L2 term and the loss: the same in both
    model = [n for n in a if n.parents and n.scope not in outside]
    assert model and all(n.scope[0].startswith("layer") for n in model)  # what (a) records
    assert any(len(n.scope) == 2 and n.scope[1].startswith("neuron") for n in model)
    assert {n.scope for n in b if n.parents} <= outside  # the baseline records no model scope
    made_outside = [sum(n.parents != () and n.scope == () for n in g) for g in (a, b)]
    assert made_outside[1] - made_outside[0] == len(model)  # the same nodes, unscoped
