"""Engine benchmark: tracegrad's Value against micrograd 0.1.0 and two floors, in one run.

    python bench/bench_engine.py --rounds 5  # everything, about 5 minutes
    python bench/bench_engine.py --quick     # tiny sizes, to check the harness works

tracegrad runs in this process; micrograd runs in a subprocess of its own venv
(bench/.venv-micrograd, created on first use by _micrograd_env), as
``python bench_engine.py --worker micrograd`` with the task as JSON on stdin.

Workloads (gc on unless said otherwise). Timing: time.perf_counter, with time.process_time as
a cross-check that other processes' load does not reach; every figure is the best of the
interleaved rounds, a round's figure being the mean over consecutive repeats (training
steps, chain builds), so that each carries its share of garbage collections while the
best-of drops the noise of other processes on a shared machine.
  (a) micrograd's moons demo as users run it (bench_moons.py has the code): micrograd's
      notebook loop on micrograd's ``MLP(2, [16, 16, 1])`` (forward over the 100 points,
      hinge + 1e-4 L2, zero_grad, backward, SGD update), and the same loop on tracegrad
      through ``nn.MLP``, ``nn.losses.hinge`` and a hand update. Timed: whole steps, and
      the backward pass alone, with the collector on (as users leave it) and off on both
      sides (micrograd's cyclic garbage is then collected between steps, off the clock).
  (b) chain: ``x = x * w + c`` repeated N/2 times from leaves x0=0.5, w=0.9, c=0.1, so N op
      nodes alternate * and +, every node has two parents and no constant leaves are made.
      Timed: build + backward + freeing the graph on return (micrograd's reference cycles are
      freed whenever its collector runs, inside some later repeat's clock, as for its users).
      micrograd's recursive topological sort fails past about 1,000 nodes (500 links) at the
      default recursion limit: the first failing N is found by bisection. Per-node cost at
      N=400 for both engines, N=1,000,000 for tracegrad.
  (c) memory: tracemalloc's traced bytes held by a built chain of 200,000 op nodes, per op
      node (and, where the engine can run it, after its backward too), for the chain above and
      for ``x = x * 0.9 + 0.1``, whose ops also take a number operand each (the case
      micrograd's ~1,170 bytes per node refers to; the target is judged on that one).
  (d) floors, on the same chain: plain floats with a hand-written reverse loop, and the bare
      object-per-node floor (one __slots__ node per op holding data, grad, parents and local
      grads, a creation-order list, a reverse loop over it).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

# Only the standard library at the top: micrograd's venv runs this file too and has no numpy.

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))  # bench_moons and _micrograd_env, however this is loaded
REPO = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results" / "engine.md"
SEED = 1337
# The chain's leaves: |w| < 1 keeps x bounded (it tends to c / (1 - w) = 1) over a million ops.
X0, W, C = 0.5, 0.9, 0.1
# Where the measured tracegrad comes from: this working tree, or (in a --baseline worker) a
# checkout of another revision's autograd and nn.
TREE = REPO


def load_value(engine: str) -> type:
    """Return the engine's scalar ``Value`` class, by name ("tracegrad" or "micrograd").

    >>> load_value("tracegrad").__name__
    'Value'
    """
    if engine == "tracegrad":
        sys.path.insert(0, str(TREE))  # this working tree's engine, or --baseline's
        from autograd import Value
    elif engine == "micrograd":
        from micrograd.engine import Value
    else:
        raise ValueError(f"unknown engine {engine!r}: expected 'tracegrad' or 'micrograd'")
    return Value


# ----------------------------------------------------------------------------- workloads
# The chain is written once for any micrograd-style Value: Value(float), v + v, v * v,
# v * float, v + float, v.backward(), .data and .grad.


def chain(Value: type, n: int, consts: bool = False) -> tuple:
    """A chain of ``n`` op nodes (``n`` even): ``x = x * w + c``, n/2 times. Returns
    ``(out, x0, w, c)``. With ``consts`` it is ``x = x * 0.9 + 0.1`` instead: every op then
    also wraps its number in a fresh constant leaf, as micrograd's and tracegrad's ops do.

    >>> out, x0, w, c = chain(load_value("tracegrad"), 4)
    >>> round(out.data, 6)
    0.595
    """
    if n % 2:
        raise ValueError(f"chain: n must be even (one * and one + per link), got {n}")
    x0, w, c = Value(X0), Value(W), Value(C)
    x = x0
    if consts:
        for _ in range(n // 2):
            x = x * W + C
    else:
        for _ in range(n // 2):
            x = x * w + c
    return x, x0, w, c


def chain_grads(Value: type, n: int) -> tuple[float, float, float]:
    """Build the chain, run backward, return (dout/dx0, dout/dw, dout/dc)."""
    out, x0, w, c = chain(Value, n)
    out.backward()
    return x0.grad, w.grad, c.grad


def floats_chain_grads(n: int) -> tuple[float, float, float]:
    """The float floor: the chain's arithmetic on plain floats, reverse pass written by hand.

    >>> floats_chain_grads(2)
    (0.9, 0.5, 1.0)
    """
    w, c, x = W, C, X0
    xs = []
    for _ in range(n // 2):
        xs.append(x)
        x = x * w + c
    gx, gw, gc_ = 1.0, 0.0, 0.0
    for x_before in reversed(xs):  # d(x*w + c): dc = 1, dw = x, dx = w
        gc_ += gx
        gw += gx * x_before
        gx *= w
    return gx, gw, gc_


class BareNode:
    """The least an object-per-node engine must store for each op."""

    __slots__ = ("data", "grad", "parents", "local_grads")

    def __init__(self, data: float, parents: tuple = (), local_grads: tuple = ()):
        self.data = data
        self.grad = 0.0
        self.parents = parents
        self.local_grads = local_grads


def bare_chain(n: int) -> tuple[BareNode, BareNode, BareNode, BareNode, list]:
    """The chain as BareNodes plus the creation-order tape."""
    x0, w, c = BareNode(X0), BareNode(W), BareNode(C)
    x, tape = x0, []
    for _ in range(n // 2):
        x = BareNode(x.data * w.data, (x, w), (w.data, x.data))
        tape.append(x)
        x = BareNode(x.data + c.data, (x, c), (1.0, 1.0))
        tape.append(x)
    return x, x0, w, c, tape


def bare_chain_grads(n: int) -> tuple[float, float, float]:
    """The bare-node floor: build the chain, then one reverse loop over the tape.

    >>> bare_chain_grads(2)
    (0.9, 0.5, 1.0)
    """
    out, x0, w, c, tape = bare_chain(n)
    out.grad = 1.0
    for node in reversed(tape):
        g = node.grad
        for parent, local in zip(node.parents, node.local_grads):
            parent.grad += g * local
    return x0.grad, w.grad, c.grad


# ----------------------------------------------------------------------------- measuring


def _timed(fn, *args) -> tuple[float, float]:
    """Wall-clock and CPU seconds of ``fn(*args)``. The CPU time (time.process_time) is a
    cross-check that other processes' load does not reach: it only counts this process."""
    w0, c0 = time.perf_counter(), time.process_time()
    fn(*args)
    return time.perf_counter() - w0, time.process_time() - c0


def time_moons(engine: str, task: dict) -> dict:
    """(a) Seconds per step of micrograd's moons demo on ``engine``, as users write it (the
    runners of bench_moons.py): the mean over the task's steps, and of its backward passes."""
    import bench_moons

    run = bench_moons.micrograd_run if engine == "micrograd" else bench_moons.tracegrad_run
    out = run(task)
    mean = sum(out["times"]) / len(out["times"])
    return {
        "seconds": mean,
        "cpu": sum(out["cpu_times"]) / len(out["cpu_times"]),
        "backward": sum(out["backward_times"]) / len(out["backward_times"]),
        "runs": [mean],
        "loss": out["losses"][-1],
    }


def time_chain(fn, n: int, reps: int, runs: int) -> dict:
    """Seconds per node of ``fn(n)``: the best of ``runs`` runs of ``reps`` calls (each run's
    mean, so it carries its share of collections), gc on."""
    gc.collect()
    wall, cpu = [], []
    for _ in range(runs):
        times = [_timed(fn, n) for _ in range(reps)]
        wall.append(sum(w for w, _ in times) / (reps * n))
        cpu.append(sum(c for _, c in times) / (reps * n))
    return {"per_node": min(wall), "cpu": min(cpu), "runs": wall}


def bytes_per_node(build, n: int, backward=None) -> dict:
    """Traced bytes per node held by the graph ``build(n)`` returns, before and (when
    ``backward(graph)`` is given and does not hit the recursion limit) after its backward."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        graph = build(n)
        built = (tracemalloc.get_traced_memory()[0] - base) / n
        after = None
        if backward is not None:
            try:
                backward(graph)
                after = (tracemalloc.get_traced_memory()[0] - base) / n
            except RecursionError:
                pass
    finally:
        tracemalloc.stop()
    del graph
    gc.collect()
    return {"built": built, "after_backward": after}


def first_failing_chain(Value: type, limit: int = 20_000) -> int | None:
    """Smallest even N whose chain's backward raises RecursionError, None if none up to limit."""

    def fails(n: int) -> bool:
        try:
            chain_grads(Value, n)
        except RecursionError:
            return True
        return False

    ok, n = 0, 100
    while not fails(n):
        ok, n = n, n * 2
        if n > limit:
            return None
    while n - ok > 2:  # bisect on even N
        mid = (ok + n) // 4 * 2
        ok, n = (ok, mid) if fails(mid) else (mid, n)
    return n


def run_task(engine: str, task: dict) -> dict:
    """Run one measurement on one engine; the same code in either process.

    >>> run_task("tracegrad", {"name": "chain", "n": 4, "reps": 1, "runs": 1})["per_node"] > 0
    True
    """
    Value = load_value(engine)
    name = task["name"]
    if name == "moons":
        return time_moons(engine, task)
    if name == "chain":
        return time_chain(lambda n: chain_grads(Value, n), task["n"], task["reps"], task["runs"])
    if name == "grads":
        return {"grads": chain_grads(Value, task["n"])}
    if name == "memory":
        return bytes_per_node(
            lambda n: chain(Value, n, task["consts"]), task["n"], lambda g: g[0].backward()
        )
    if name == "recursion":
        return {"first_failing": first_failing_chain(Value), "limit": sys.getrecursionlimit()}
    raise ValueError(f"unknown task {name!r}")


def run_worker(engine: str, task: dict, tree: Path | None = None) -> dict:
    """Run ``task`` in a fresh subprocess: micrograd in its venv, tracegrad in this Python
    (from ``tree``, a checkout of another revision, when given). A fresh process is how users
    run a training script: the collector then walks only the script's own objects, not this
    harness's (numpy, scikit-learn, the results so far)."""
    if engine == "micrograd":
        from _micrograd_env import micrograd_python

        python = micrograd_python()
    else:
        python = sys.executable
    extra = ["--tree", str(tree)] if tree is not None else []
    done = subprocess.run(
        [python, str(Path(__file__).resolve()), "--worker", engine, *extra],
        input=json.dumps(task),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{engine} worker failed on {task['name']}:\n{done.stderr}")
    return json.loads(done.stdout)


def run_micrograd(task: dict) -> dict:
    """Run ``task`` on micrograd in a fresh subprocess of its venv."""
    return run_worker("micrograd", task)


# ----------------------------------------------------------------------------- the run


def count_nodes(root) -> int:
    """Distinct nodes reachable from a tracegrad node through ``.parents`` (iteratively)."""
    seen, stack = {id(root)}, [root]
    while stack:
        for p in stack.pop().parents:
            if id(p) not in seen:
                seen.add(id(p))
                stack.append(p)
    return len(seen)


def _unless_recursion(run) -> dict:
    try:
        return run()
    except RecursionError as e:  # reported as a missed target rather than ending the run
        return {"error": f"RecursionError: {e}"}


def _best(results: list[dict], field: str) -> dict:
    """The round with the smallest ``field``, carrying every run's figure in ``"runs"``."""
    best = min(results, key=lambda r: r[field])
    cpu = min(r["cpu"] for r in results)
    return {**best, "cpu": cpu, "runs": [x for r in results for x in r["runs"]]}


def moons_task(quick: bool) -> dict:
    """(a)'s task: micrograd's data (bench_moons.moons_data), labels -1/+1, and the steps a
    round times (each round trains from the initial weights again)."""
    import bench_moons

    X, y, source = bench_moons.moons_data()
    n = 10 if quick else 100
    return {
        "name": "moons",
        "X": X[:n].tolist(),
        "y": (2.0 * y[:n] - 1.0).tolist(),
        "steps": 2 if quick else 5,
        "source": source,
    }


def checkout(rev: str) -> Path:
    """``rev``'s autograd and nn in a temporary folder (git archive), to run beside this tree."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="tracegrad-baseline-"))
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", rev, "autograd", "nn"], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return folder


def measure(quick: bool = False, rounds: int = 3, baseline: str | None = None) -> dict:
    """Every figure of the report as plain numbers; ``quick`` shrinks every size.

    The timings run in interleaved rounds (micrograd, tracegrad and the floors one after the
    other, then again), and each keeps its best round, so that load from other processes
    falls on all of them alike rather than on whichever happened to run during it.
    """
    from tqdm import tqdm

    rounds = 1 if quick else rounds
    big = 2_000 if quick else 1_000_000
    mem_n = 2_000 if quick else 200_000
    small = {"reps": 2, "runs": 2} if quick else {"reps": 25, "runs": 3}  # per round, N = 400
    moons = moons_task(quick)
    tg, mg = (lambda task: run_task("tracegrad", task)), run_micrograd
    timed = {  # key: (run, the figure to minimise)
        "mg_moons_on": (lambda: mg({**moons, "gc": True}), "seconds"),
        "mg_moons_off": (lambda: mg({**moons, "gc": False}), "seconds"),
        "tg_moons_on": (lambda: run_worker("tracegrad", {**moons, "gc": True}), "seconds"),
        "tg_moons_off": (lambda: run_worker("tracegrad", {**moons, "gc": False}), "seconds"),
        "mg_chain_400": (lambda: mg({"name": "chain", "n": 400, **small}), "per_node"),
        "tg_chain_400": (lambda: tg({"name": "chain", "n": 400, **small}), "per_node"),
        "bare_chain_400": (lambda: time_chain(bare_chain_grads, 400, **small), "per_node"),
        "floats_chain_400": (lambda: time_chain(floats_chain_grads, 400, **small), "per_node"),
        "tg_chain_big": (
            lambda: _unless_recursion(
                lambda: tg({"name": "chain", "n": big, "reps": 1, "runs": 1})
            ),
            "per_node",
        ),
        "bare_chain_big": (lambda: time_chain(bare_chain_grads, big, 1, 1), "per_node"),
        "floats_chain_big": (lambda: time_chain(floats_chain_grads, big, 1, 1), "per_node"),
    }
    once = {
        "mg_recursion": lambda: mg({"name": "recursion"}),
        "mg_grads_400": lambda: mg({"name": "grads", "n": 400}),
        "tg_grads_400": lambda: tg({"name": "grads", "n": 400}),
        "mg_memory": lambda: mg({"name": "memory", "n": mem_n, "consts": False}),
        "tg_memory": lambda: tg({"name": "memory", "n": mem_n, "consts": False}),
        "mg_memory_consts": lambda: mg({"name": "memory", "n": mem_n, "consts": True}),
        "tg_memory_consts": lambda: tg({"name": "memory", "n": mem_n, "consts": True}),
        "bare_memory": lambda: bytes_per_node(bare_chain, mem_n),
    }
    if baseline is not None:  # the engine of another revision, in the same interleaved rounds
        tree = checkout(baseline)
        timed["base_moons_on"] = (
            lambda: run_worker("tracegrad", {**moons, "gc": True}, tree),
            "seconds",
        )
        timed["base_moons_off"] = (
            lambda: run_worker("tracegrad", {**moons, "gc": False}, tree),
            "seconds",
        )
        timed["base_chain_400"] = (
            lambda: run_worker("tracegrad", {"name": "chain", "n": 400, **small}, tree),
            "per_node",
        )
        once["base_memory_consts"] = lambda: run_worker(
            "tracegrad", {"name": "memory", "n": mem_n, "consts": True}, tree
        )
    res = {"big": big, "mem_n": mem_n, "moons": moons, "small": small, "rounds": rounds}
    res["baseline"] = baseline
    res["load_before"] = os.getloadavg()[0]
    res["moons_nodes"] = moons_nodes(moons)
    jobs = [(key, run) for key, run in once.items()]
    jobs += [(key, run) for _ in range(rounds) for key, (run, _field) in timed.items()]
    per_round: dict[str, list] = {key: [] for key in timed}
    for key, run in tqdm(jobs, desc="bench_engine", file=sys.stderr, leave=False):
        if key in timed:
            per_round[key].append(run())
        else:
            res[key] = run()
    for key, (_run, field) in timed.items():
        failed = [r for r in per_round[key] if "error" in r]
        res[key] = failed[0] if failed else _best(per_round[key], field)
    for key in ("mg_moons_on", "mg_moons_off", "tg_moons_on", "tg_moons_off"):
        res[key]["backward"] = min(r["backward"] for r in per_round[key])
    for key in ("base_moons_on", "base_moons_off"):
        if key in per_round:
            res[key]["backward"] = min(r["backward"] for r in per_round[key])
    res["floats_grads_400"] = floats_chain_grads(400)
    res["load_after"] = os.getloadavg()[0]
    return res


def moons_nodes(task: dict) -> int:
    """How many nodes one step of (a) builds on tracegrad."""
    sys.path.insert(0, str(REPO))
    import nn

    model = nn.MLP(2, [16, 16, 1], activation="relu", init="uniform", seed=SEED)
    scores = list(map(model, task["X"]))
    loss = nn.losses.hinge(scores, task["y"]) + 1e-4 * sum(p * p for p in model.parameters())
    return count_nodes(loss)


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:,.3f} µs" if seconds < 1e-6 else f"{seconds * 1e6:,.2f} µs"


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def _engine_revision(paths: tuple[str, ...] = ("autograd",)) -> str:
    """The commit the measured code comes from, naming any uncommitted file under ``paths``."""
    git = ["git", "-C", str(REPO)]
    try:
        head = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        )
        dirty = subprocess.run(
            [*git, "status", "--porcelain", "--", *paths], capture_output=True, text=True
        )
    except OSError:
        return "unknown"
    if head.returncode != 0:
        return "unknown"
    edited = [line[3:] for line in dirty.stdout.splitlines()]
    return head.stdout.strip() + (f" (uncommitted edits: {', '.join(edited)})" if edited else "")


def report(res: dict, command: str) -> str:
    """The Markdown tables of the README, with the targets marked PASS or MISS."""
    big, n_mem, m = res["big"], res["mem_n"], res["moons"]
    mg_on, mg_off = res["mg_moons_on"]["seconds"], res["mg_moons_off"]["seconds"]
    tg_on, tg_off = res["tg_moons_on"]["seconds"], res["tg_moons_off"]["seconds"]
    mg_bw, tg_bw = res["mg_moons_off"]["backward"], res["tg_moons_off"]["backward"]
    mg_bw_on, tg_bw_on = res["mg_moons_on"]["backward"], res["tg_moons_on"]["backward"]
    fail = res["mg_recursion"]["first_failing"]
    fail_text = f"RecursionError from N = {fail:,}" if fail else "no failure"
    per = {k: res[k].get("per_node") for k in res if k.endswith(("_chain_400", "_chain_big"))}
    big_ok = per["tg_chain_big"] is not None
    mem = {k: res[k] for k in res if "_memory" in k}
    ratio_400 = per["tg_chain_400"] / per["bare_chain_400"]
    ratio_big = per["tg_chain_big"] / per["bare_chain_big"] if big_ok else float("inf")

    def cpu(key: str) -> float:
        return res[key]["cpu"]

    cpu_ratio_big = cpu("tg_chain_big") / cpu("bare_chain_big") if big_ok else float("inf")
    # Judged on the constants chain, the measure micrograd's ~1,170 bytes refers to.
    tg_built, tg_after = mem["tg_memory_consts"]["built"], mem["tg_memory_consts"]["after_backward"]
    judged = _verdict(big_ok) if big >= 1_000_000 else "not judged (--quick)"
    floats = res["floats_grads_400"]
    grads_ok = all(
        abs(a - b) <= 1e-9 * max(1.0, abs(b))
        for key in ("tg_grads_400", "mg_grads_400")
        for a, b in zip(res[key]["grads"], floats)
    )

    def after(m: dict) -> str:
        return "RecursionError" if m["after_backward"] is None else f"{m['after_backward']:,.0f}"

    lines = [
        f"Produced by `{command}` at commit {_engine_revision()}, on "
        f"{platform.machine()} {platform.system()}, "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. "
        f"Timings ran in {res['rounds']} interleaved rounds; each figure is the best round: "
        f"the mean of {m['steps']} consecutive training steps, of {res['small']['reps']} "
        f"chains at N = 400 ({res['small']['runs']} runs a round), or one chain at "
        f"N = {big:,} (time.perf_counter; a round's mean carries its share of garbage "
        "collections, the best-of drops other processes' noise; 1-minute load average "
        f"{res['load_before']:.1f} before, {res['load_after']:.1f} after, on "
        f"{os.cpu_count()} CPUs). The garbage collector is on unless said; micrograd is 0.1.0 "
        "from PyPI, in its own venv.",
        "",
        f"**(a) micrograd's moons demo as users run it**: one training step (forward over "
        f"{len(m['X'])} points, hinge + 1e-4 L2, zero_grad, backward, SGD update; "
        f"{res['moons_nodes']:,} nodes a step on tracegrad): micrograd's notebook loop on its "
        "`MLP`, tracegrad's the same loop on `nn.MLP` + `nn.losses.hinge` + a hand update",
        "",
        "| engine | gc | seconds / step | backward alone | micrograd as run / this |",
        "|---|---|---:|---:|---:|",
        f"| micrograd | on, as users run it | {mg_on:.4f} | {mg_bw_on:.4f} | 1.0x |",
        f"| micrograd | off | {mg_off:.4f} | {mg_bw:.4f} | {mg_on / mg_off:.1f}x |",
        f"| tracegrad | on, as users run it | {tg_on:.4f} | {tg_bw_on:.4f} | "
        f"{mg_on / tg_on:.1f}x |",
        f"| tracegrad | off | {tg_off:.4f} | {tg_bw:.4f} | {mg_on / tg_off:.1f}x |",
        *_baseline_rows(res, mg_on),
        "",
        "**(b, d) chain** `x = x * w + c` (N op nodes alternating * and +), build + backward, "
        "time per node",
        "",
        "| N | micrograd | tracegrad | bare-node floor | float floor | tracegrad / bare |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| 400 | {_us(per['mg_chain_400'])} | {_us(per['tg_chain_400'])} | "
        f"{_us(per['bare_chain_400'])} | {_us(per['floats_chain_400'])} | {ratio_400:.2f}x |",
        f"| {big:,} | {fail_text} | "
        f"{_us(per['tg_chain_big']) if big_ok else res['tg_chain_big']['error']} | "
        f"{_us(per['bare_chain_big'])} | {_us(per['floats_chain_big'])} | {ratio_big:.2f}x |",
        "",
        f"**(c) memory**, tracemalloc bytes per op node of a chain of {n_mem:,} op nodes: "
        "`x = x * w + c` (shared Value leaves) and `x = x * 0.9 + 0.1` (each op also takes "
        "a number operand)",
        "",
        "| engine | w, c leaves: built | after backward | 0.9, 0.1 constants: built "
        "| after backward |",
        "|---|---:|---:|---:|---:|",
        *(
            f"| {name} | {mem[k]['built']:,.0f} | {after(mem[k])} | "
            f"{mem[k + '_consts']['built']:,.0f} | {after(mem[k + '_consts'])} |"
            for name, k in (("micrograd", "mg_memory"), ("tracegrad", "tg_memory"))
        ),
        f"| bare-node floor | {mem['bare_memory']['built']:,.0f} | | | |",
        "",
        "**Targets**",
        "",
        "| target | measured | CPU-time cross-check | |",
        "|---|---:|---:|---|",
        f"| (a) >= 10x faster per step than micrograd as users run it (gc on) | "
        f"{mg_on / tg_on:.1f}x | {cpu('mg_moons_on') / cpu('tg_moons_on'):.1f}x | "
        f"{_verdict(mg_on / tg_on >= 10)} |",
        f"| (a) >= 2x faster than micrograd, both collectors off | {mg_off / tg_off:.2f}x | "
        f"{cpu('mg_moons_off') / cpu('tg_moons_off'):.2f}x | "
        f"{_verdict(mg_off / tg_off >= 2)} |",
        f"| (a) the backward pass alone >= 1.5x faster than micrograd's (both gc off) | "
        f"{mg_bw / tg_bw:.2f}x | | {_verdict(mg_bw / tg_bw >= 1.5)} |",
        *_baseline_targets(res),
        f"| (b) a 1,000,000-node chain works | {'ran' if big_ok else 'failed'} at "
        f"N = {big:,} | | {judged} |",
        f"| (b) per node <= 2x the bare-node floor (N = {big:,}) | {ratio_big:.2f}x | "
        f"{cpu_ratio_big:.2f}x | {_verdict(ratio_big <= 2)} |",
        f"| (b) the same at N = 400 | {ratio_400:.2f}x | "
        f"{cpu('tg_chain_400') / cpu('bare_chain_400'):.2f}x | {_verdict(ratio_400 <= 2)} |",
        f"| (c) <= 200 bytes per node (constants chain, built) | {tg_built:,.0f} | | "
        f"{_verdict(tg_built <= 200)} |",
        f"| (c) the same after backward | {tg_after:,.0f} | | {_verdict(tg_after <= 200)} |",
        "",
        f"Data: {m['source']}. The chain's gradients at N = 400 "
        f"{'match' if grads_ok else 'DO NOT match'} the float floor's on both engines.",
    ]
    return "\n".join(lines) + "\n"


def _baseline_rows(res: dict, mg_on: float) -> list[str]:
    """(a)'s rows for the engine of --baseline's revision, measured in the same rounds."""
    rev = res.get("baseline")
    if rev is None:
        return []
    on, off = res["base_moons_on"], res["base_moons_off"]
    return [
        f"| tracegrad at {rev} | on, as users run it | {on['seconds']:.4f} | "
        f"{on['backward']:.4f} | {mg_on / on['seconds']:.1f}x |",
        f"| tracegrad at {rev} | off | {off['seconds']:.4f} | {off['backward']:.4f} | "
        f"{mg_on / off['seconds']:.1f}x |",
    ]


def _baseline_targets(res: dict) -> list[str]:
    """This engine against --baseline's, same rounds: at most 1.1x its time per step."""
    rev = res.get("baseline")
    if rev is None:
        return []
    rows = []
    for gc_key, gc_name in (("on", "gc on, as users run it"), ("off", "both collectors off")):
        this, base = res[f"tg_moons_{gc_key}"], res[f"base_moons_{gc_key}"]
        ratio = this["seconds"] / base["seconds"]
        cpu_ratio = this["cpu"] / base["cpu"]
        rows.append(
            f"| (a) no slower than 1.1x the engine at {rev} ({gc_name}) | {ratio:.2f}x | "
            f"{cpu_ratio:.2f}x | {_verdict(ratio <= 1.1)} |"
        )
    base_bw, this_bw = res["base_moons_off"]["backward"], res["tg_moons_off"]["backward"]
    rows.append(
        f"| (a) backward alone against the engine at {rev} (gc off; information) | "
        f"{this_bw / base_bw:.2f}x | | |"
    )
    chain = res["tg_chain_400"]["per_node"] / res["base_chain_400"]["per_node"]
    rows.append(
        f"| (b) chain N = 400 against the engine at {rev} (information) | {chain:.2f}x | | |"
    )
    mem = res["base_memory_consts"]
    rows.append(
        f"| (c) bytes per node at {rev} (information): built, after backward | "
        f"{mem['built']:,.0f}, {mem['after_backward']:,.0f} | | |"
    )
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the harness")
    parser.add_argument(
        "--rounds", type=int, default=3, help="interleaved rounds (more: steadier on a noisy host)"
    )
    parser.add_argument(
        "--baseline",
        metavar="REV",
        help="also time the engine of git revision REV (its autograd and nn) in the same rounds",
    )
    parser.add_argument("--worker", choices=("tracegrad", "micrograd"), help=argparse.SUPPRESS)
    parser.add_argument("--tree", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:  # the subprocess side: one task as JSON on stdin, its result on stdout
        global TREE
        TREE = args.tree or REPO
        import bench_moons

        bench_moons.REPO = TREE  # its runner imports nn from there too
        print(json.dumps(run_task(args.worker, json.load(sys.stdin))))
        return
    command = "python bench/bench_engine.py" + (" --quick" if args.quick else "")
    if args.rounds != 3:
        command += f" --rounds {args.rounds}"
    if args.baseline:
        command += f" --baseline {args.baseline}"
    text = report(measure(quick=args.quick, rounds=args.rounds, baseline=args.baseline), command)
    print(text)
    if not args.quick:
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(text)
        print(f"written to {RESULTS.relative_to(REPO)}", file=sys.stderr)


if __name__ == "__main__":
    main()
