"""What recording scopes costs bench_engine's (a), micrograd's moons step on ``nn.MLP``.

    python bench/bench_scopes.py            # about 4 minutes, most of it under valgrind
    python bench/bench_scopes.py --quick    # a few steps, to check the harness works

Two steps, the same graph (68,816 nodes), built and differentiated alternately in this
process: "scoped" is the step as bench_engine (a) and users write it (``model(x)``: each layer
and, on the value engine, each neuron in its ``name_scope``, so every node records its scope),
"unscoped" calls each layer's neurons directly, so no scope is open while the model runs
(the loss's one ``loss`` block is in both). It also skips the layers' calls and input
checks, so it is close to, not equal to, code written with no scopes at all. Each is timed
``--steps`` times, with the collector on (as users run it) and off; wall clock and CPU
time, best and lower quartile.

Where valgrind is installed each variant also runs under callgrind, which counts the machine
instructions of two steps (collection toggled on ``functools.reduce``, which runs them and
nothing else): deterministic, so the difference stands out of the noise of shared cores.
"""

from __future__ import annotations

import argparse
import functools
import gc
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results" / "scopes.md"
sys.path.insert(0, str(REPO))  # measure this working tree
sys.path.insert(0, str(BENCH_DIR))
import bench_engine  # noqa: E402
import bench_moons  # noqa: E402

TARGET = 0.03  # issue 13: scopes may cost the engine benchmark at most 3%


def make_step(quick: bool):
    """The step of bench_engine (a) (bench_moons.tracegrad_run's), either way: ``step(scoped)``
    builds the loss, runs backward and the update's arithmetic, and returns the loss node."""
    import nn

    task = bench_engine.moons_task(quick)
    X, y = task["X"], task["y"]
    model = nn.MLP(2, [16, 16, 1], activation="relu", init="uniform", seed=bench_moons.SEED)
    params = model.parameters()

    def unscoped(x):
        for layer in model.layers:
            x = [n(x) for n in layer.neurons]
        return x[0]

    def step(scoped: bool):
        scores = list(map(model, X)) if scoped else [unscoped(x) for x in X]
        loss = nn.losses.hinge(scores, y) + bench_moons.ALPHA * sum(p * p for p in params)
        model.zero_grad()
        loss.backward()
        for p in params:
            p.data -= 0.0 * p.grad  # the update's work, not its effect: every step the same
        return loss

    return step


def time_steps(step, steps: int) -> dict:
    """Seconds per step, both variants alternating, the collector on then off."""
    step(True), step(False)  # warm
    out = {}
    for gc_on in (True, False):
        runs: dict = {(v, c): [] for v in ("scoped", "unscoped") for c in ("wall", "cpu")}
        gc.enable() if gc_on else gc.disable()
        for _ in range(steps):
            for scoped in (True, False):
                gc.collect()
                w0, c0 = time.perf_counter(), time.process_time()
                step(scoped)
                w1, c1 = time.perf_counter(), time.process_time()
                variant = "scoped" if scoped else "unscoped"
                runs[variant, "wall"].append(w1 - w0)
                runs[variant, "cpu"].append(c1 - c0)
        gc.enable()
        for (variant, clock), xs in runs.items():
            q1 = statistics.quantiles(xs, n=4, method="inclusive")[0] if len(xs) > 1 else xs[0]
            out[f"{'on' if gc_on else 'off'}/{variant}/{clock}"] = {"best": min(xs), "q1": q1}
    return out


def count_worker(variant: str, gc_on: bool, quick: bool) -> None:
    """Run under callgrind by `count_instructions`: one warm step outside the count, then two
    inside functools.reduce, the function callgrind counts in."""
    step = make_step(quick)
    scoped = variant == "scoped"
    step(scoped)
    if not gc_on:
        gc.disable()
    functools.reduce(lambda acc, _: step(scoped), range(2), None)


def count_instructions(quick: bool) -> dict | None:
    """Instructions per step of each variant and collector setting, or None without valgrind."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return None
    out = {}
    for gc_on in (True, False):
        for variant in ("scoped", "unscoped"):
            args = [sys.executable, str(Path(__file__).resolve()), "--count", variant]
            args += ["--gc"] if gc_on else []
            args += ["--quick"] if quick else []
            done = subprocess.run(
                [valgrind, "--tool=callgrind", "--collect-atstart=no",
                 "--toggle-collect=functools_reduce", "--callgrind-out-file=/dev/null", *args],
                capture_output=True, text=True,
                env={**os.environ, "PYTHONHASHSEED": "0"},
            )  # fmt: skip
            counted = [ln for ln in done.stderr.splitlines() if "Collected :" in ln]
            if done.returncode != 0 or not counted:
                raise RuntimeError(f"callgrind failed on {variant}:\n{done.stderr[-2000:]}")
            out[f"{'on' if gc_on else 'off'}/{variant}"] = int(counted[-1].split()[-1]) / 2
    return out


def report(res: dict, command: str) -> str:
    t, ir = res["times"], res["instructions"]
    lines = [
        f"Produced by `{command}` on {platform.machine()} {platform.system()}, CPython "
        f"{platform.python_version()}, {os.cpu_count()} CPUs, {res['when']} (at {res['rev']}).",
        "",
        "bench_engine (a)'s step, micrograd's moons demo on `nn.MLP(2, [16, 16, 1])` "
        f"({res['steps']} steps of each variant, alternating): scoped as users write it, "
        "against the model's neurons called with no scope open.",
        "",
        "| collector | measure | scoped | unscoped | scopes cost |",
        "|---|---|---:|---:|---:|",
    ]
    verdicts = []
    for gc_on in ("on", "off"):
        for clock, what in (("wall", "wall"), ("cpu", "CPU")):
            for stat in ("best", "q1"):
                a, b = t[f"{gc_on}/scoped/{clock}"][stat], t[f"{gc_on}/unscoped/{clock}"][stat]
                name = "best" if stat == "best" else "lower quartile"
                lines.append(
                    f"| {gc_on} | ms a step, {what}, {name} | {a * 1e3:.2f} | {b * 1e3:.2f} "
                    f"| {100 * (a / b - 1):+.1f}% |"
                )
        if ir is not None:
            a, b = ir[f"{gc_on}/scoped"], ir[f"{gc_on}/unscoped"]
            cost = a / b - 1
            lines.append(
                f"| {gc_on} | instructions a step (callgrind) | {a / 1e6:.1f}M | {b / 1e6:.1f}M "
                f"| **{100 * cost:+.1f}%** |"
            )
            verdicts.append((gc_on, cost))
    lines += ["", "| target | measured | |", "|---|---:|---|"]
    if not verdicts:
        lines.append("| scopes cost at most 3% | valgrind not installed: timings only | |")
    for gc_on, cost in verdicts:
        lines.append(
            f"| scopes cost at most 3% (instructions, collector {gc_on}) | {100 * cost:+.1f}% | "
            f"{'PASS' if cost <= TARGET else 'MISS'} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few steps: checks the harness")
    parser.add_argument("--steps", type=int, default=40, help="timed steps of each variant")
    parser.add_argument("--count", choices=("scoped", "unscoped"), help=argparse.SUPPRESS)
    parser.add_argument("--gc", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.count:  # the side callgrind runs
        count_worker(args.count, args.gc, args.quick)
        return
    steps = 2 if args.quick else args.steps
    res = {
        "steps": steps,
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "rev": bench_engine._engine_revision(("autograd", "nn")),
        "times": time_steps(make_step(args.quick), steps),
        "instructions": count_instructions(args.quick),
    }
    command = "python bench/bench_scopes.py" + (" --quick" if args.quick else "")
    text = report(res, command)
    print(text)
    if not args.quick:
        RESULTS.write_text(text)


if __name__ == "__main__":
    main()
