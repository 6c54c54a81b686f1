"""micrograd's own moons demo, through nn.MLP against micrograd's MLP, in one run.

    python bench/bench_moons.py              # 100 steps per configuration, about 5 minutes
    python bench/bench_moons.py --repeats 3  # 3 runs each, the median reported
    python bench/bench_moons.py --quick      # 5 steps, to check the harness works

The demo (micrograd's demo.ipynb): a 2-16-16-1 relu MLP with U(-1, 1) weights and zero
biases on micrograd's 100 two-moons points (noise 0.1, labels -1/+1), loss = mean hinge
``relu(1 - y*score)`` + 1e-4 * sum of squared parameters, 100 full-batch SGD steps with
lr = 1.0 - 0.9*k/100. Each engine runs it as its users write it: micrograd's notebook code on
micrograd 0.1.0 (in its own venv, bench/.venv-micrograd, as a subprocess of this file;
``random.seed(1337)`` for its weights, inputs wrapped in Values as the notebook does), and
tracegrad through ``nn.MLP(2, [16, 16, 1], activation="relu", init="uniform", seed=1337)``,
``nn.losses.hinge`` and ``nn.SGD``. Both get the same data (see `moons_data`).

Every run is a fresh process, as users run a training script (the collector then walks only
that run's objects). Timed: each whole step (forward over the 100 points, loss, zeroing
grads, backward, update, accuracy), with time.perf_counter. "gc on" is how users run it; for
"gc off" the collector is disabled and run between steps, outside the clock. A
configuration's figure is the mean seconds per step over its 100 steps (the collector's
pauses included), median over the runs (``--repeats``).

The plain-float floor: the same network, loss and SGD written by hand on Python floats (no
graph at all), the least a pure-Python step can cost.

Same work: tracegrad and the float floor are also run from micrograd's initial weights; their
losses must follow micrograd's step for step (the largest difference is reported).
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

# Only the standard library at the top: micrograd's venv runs this file too and has no numpy.

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results" / "moons.md"
SEED = 1337
SIZES = (2, 16, 16, 1)
ALPHA = 1e-4


def lr_at(k: int, steps: int = 100) -> float:
    """micrograd's schedule: 1.0 down to 0.1 over the 100 steps."""
    return 1.0 - 0.9 * k / steps


# ----------------------------------------------------------------------------- micrograd


def micrograd_run(task: dict) -> dict:
    """micrograd's demo loop, as in its notebook (runs in micrograd's venv)."""
    from micrograd.engine import Value
    from micrograd.nn import MLP

    random.seed(SEED)
    model = MLP(2, [16, 16, 1])
    if task.get("weights") is not None:
        for p, w in zip(model.parameters(), task["weights"]):
            p.data = w
    weights = [p.data for p in model.parameters()]
    X, y = task["X"], task["y"]

    def loss():
        inputs = [list(map(Value, xrow)) for xrow in X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = ALPHA * sum(p * p for p in model.parameters())
        total_loss = data_loss + reg_loss
        accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(y, scores)]
        return total_loss, sum(accuracy) / len(accuracy)

    def step(k):
        total_loss, acc = loss()
        model.zero_grad()
        t0 = time.perf_counter()
        total_loss.backward()
        backward_times.append(time.perf_counter() - t0)
        learning_rate = lr_at(k, task["steps"])
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        return total_loss.data, acc

    backward_times: list[float] = []
    timed = run_steps(step, task["steps"], task["gc"])
    return {"weights": weights, **timed, "backward_times": backward_times}


# ----------------------------------------------------------------------------- tracegrad


def tracegrad_run(task: dict) -> dict:
    """The demo through nn, written as micrograd's notebook writes its loop: what a tracegrad
    user writes (``nn.MLP``, ``nn.losses.hinge``, ``zero_grad``, ``backward``, a hand SGD
    update)."""
    sys.path.insert(0, str(REPO))  # measure this working tree
    import nn

    model = nn.MLP(2, [16, 16, 1], activation="relu", init="uniform", seed=SEED)
    params = model.parameters()
    if task.get("weights") is not None:
        for p, w in zip(params, task["weights"]):
            p.data = float(w)  # micrograd's biases are the int 0
    X, y = task["X"], task["y"]
    backward_times: list[float] = []

    def step(k):
        scores = list(map(model, X))
        data_loss = nn.losses.hinge(scores, y)
        reg_loss = ALPHA * sum(p * p for p in params)
        total_loss = data_loss + reg_loss
        model.zero_grad()
        t0 = time.perf_counter()
        total_loss.backward()
        backward_times.append(time.perf_counter() - t0)
        learning_rate = lr_at(k, task["steps"])
        for p in params:
            p.data -= learning_rate * p.grad
        acc = sum((yi > 0) == (s.data > 0) for yi, s in zip(y, scores)) / len(y)
        return total_loss.data, acc

    return {**run_steps(step, task["steps"], task["gc"]), "backward_times": backward_times}


def tracegrad_fit_run(task: dict) -> dict:
    """The demo through ``nn.fit``: the L2 term in a callable loss, the lr schedule in a
    callback, one full-batch step per epoch. Timed per epoch, from its begin to its end hook
    (the step, the epoch's metrics and the bookkeeping). gc is left on, as users run it
    (fit never switches the collector)."""
    sys.path.insert(0, str(REPO))
    import numpy as np

    import nn

    model = nn.MLP(2, [16, 16, 1], activation="relu", init="uniform", seed=SEED)
    params = model.parameters()
    opt = nn.SGD(params, lr=1.0)
    steps = task["steps"]

    def loss(scores, targets):
        reg = params[0] * params[0]
        for p in params[1:]:
            reg = reg + p * p
        return nn.losses.hinge(scores, targets) + ALPHA * reg

    times = []

    class Clock(nn.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            opt.lr = lr_at(epoch, steps)
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.t0)

    h = nn.fit(
        model,
        np.array(task["X"]),
        np.array(task["y"]),
        loss=loss,
        optimizer=opt,
        epochs=steps,
        shuffle=False,
        callbacks=[Clock()],
        verbose=0,
        compile=task.get("compile", False),
    )
    return {"times": times, "losses": h.history["loss"], "accs": h.history["accuracy"]}


def _moons_model(task: dict):
    sys.path.insert(0, str(REPO))
    import nn

    model = nn.MLP(2, [16, 16, 1], activation="relu", init="uniform", seed=SEED)
    params = model.parameters()
    if task.get("weights") is not None:
        for p, w in zip(params, task["weights"]):
            p.data = float(w)  # micrograd's biases are the int 0
    return nn, model, params


def tracegrad_traced_run(task: dict) -> dict:
    """The whole loss traced once (``autograd.trace``, the predictions as aux), then every
    step replays its generated forward and backward code (``prog.backward()``: no node is
    built) and updates the weights by hand. Also times the trace, the code generation and
    the compilation of the ~70,000-node program."""
    from autograd import trace

    nn, model, params = _moons_model(task)
    X, y = task["X"], task["y"]

    def loss():
        scores = list(map(model, X))
        return nn.losses.hinge(scores, y) + ALPHA * sum(p * p for p in params), scores

    t0 = time.perf_counter()
    program = trace(loss, has_aux=True)
    traced = time.perf_counter() - t0
    t0 = time.perf_counter()
    source = program.backward_source
    generated = time.perf_counter() - t0
    t0 = time.perf_counter()
    compile(source, "<moons>", "exec")
    compiled = time.perf_counter() - t0

    def step(k):
        model.zero_grad()
        value, scores = program.backward()
        learning_rate = lr_at(k, task["steps"])
        for p in params:
            p.data -= learning_rate * p.grad
        acc = sum((yi > 0) == (s > 0) for yi, s in zip(y, scores)) / len(y)
        return value, acc

    program.backward()  # the first replay generates and compiles the code: not a step
    model.zero_grad()
    timed = run_steps(step, task["steps"], task["gc"])
    return {
        **timed,
        "trace_s": traced,
        "codegen_s": generated,
        "compile_s": compiled,
        "lines": source.count("\n"),
    }


def tracegrad_batched_run(task: dict) -> dict:
    """One sample's share of the loss, ``relu(1 - y * score) / n``, traced once on numbers
    and replayed on all the samples at once (numpy arrays of 100), plus the L2 term traced
    on its own; ``backward`` sums the samples into the weights' grads."""
    from autograd import trace

    nn, model, params = _moons_model(task)
    X, y = task["X"], task["y"]
    n = len(X)

    def share(x1, x2, target):
        score = model([x1, x2])
        return (1.0 - target * score).relu() * (1.0 / n), score

    sample = trace(share, X[0][0], X[0][1], y[0], has_aux=True)
    l2 = trace(lambda: ALPHA * sum(p * p for p in params))
    import numpy as np

    x1, x2, targets = (np.array(c) for c in (*zip(*X), y))

    def step(k):
        model.zero_grad()
        shares, scores = sample.backward(x1, x2, targets)
        value = float(shares.sum()) + l2.backward()
        learning_rate = lr_at(k, task["steps"])
        for p in params:
            p.data -= learning_rate * p.grad
        acc = float(np.mean((targets > 0) == (scores > 0)))
        return value, acc

    sample.backward(x1, x2, targets), l2.backward()  # generate and compile: not a step
    model.zero_grad()
    return run_steps(step, task["steps"], task["gc"])


def tracegrad_compiled_fit_run(task: dict) -> dict:
    """The demo through ``nn.fit(..., compile=True)``: as ``tracegrad_fit_run``, each step a
    replay of the traced step (the first epoch traces it)."""
    return {**tracegrad_fit_run({**task, "compile": True}), "traces_first": True}


# ----------------------------------------------------------------------------- floor


def floats_run(task: dict) -> dict:
    """The same demo on plain floats with the backward pass written by hand."""
    sizes = SIZES
    flat = list(task["weights"])
    # micrograd's parameter order: layer by layer, neuron by neuron, weights then bias.
    layers, i = [], 0
    for nin, nout in zip(sizes, sizes[1:]):
        W, b = [], []
        for _ in range(nout):
            W.append(flat[i : i + nin])
            b.append(flat[i + nin])
            i += nin + 1
        layers.append((W, b))
    X, y = task["X"], task["y"]
    n = len(X)
    last = len(layers) - 1

    def step(k):
        grads = [([[0.0] * len(W[0]) for _ in W], [0.0] * len(b)) for W, b in layers]
        total, correct = 0.0, 0
        for x, yi in zip(X, y):
            acts = [x]
            for li, (W, b) in enumerate(layers):
                h = acts[-1]
                z = [bj + sum(wi * hi for wi, hi in zip(Wj, h)) for Wj, bj in zip(W, b)]
                acts.append(z if li == last else [v if v > 0 else 0.0 for v in z])
            score = acts[-1][0]
            correct += (yi > 0) == (score > 0)
            margin = 1.0 - yi * score
            # The full backward for every sample, zeros included, as a graph engine does it.
            total += margin if margin > 0 else 0.0
            up = [-yi / n if margin > 0 else 0.0]  # d(mean hinge)/d(score)
            for li in range(last, -1, -1):
                W, _ = layers[li]
                gW, gb = grads[li]
                h = acts[li]
                if li != last:  # through the relu: the output acts[li + 1] > 0 iff z > 0
                    up = [u if a > 0 else 0.0 for u, a in zip(up, acts[li + 1])]
                for j, u in enumerate(up):
                    row = gW[j]
                    for m, hm in enumerate(h):
                        row[m] += u * hm
                    gb[j] += u
                up = [sum(up[j] * W[j][m] for j in range(len(W))) for m in range(len(h))]
        reg = 0.0
        lr = lr_at(k, task["steps"])
        for (W, b), (gW, gb) in zip(layers, grads):
            for j in range(len(W)):
                Wj, gWj = W[j], gW[j]
                for m in range(len(Wj)):
                    reg += Wj[m] * Wj[m]
                    Wj[m] -= lr * (gWj[m] + 2 * ALPHA * Wj[m])
                reg += b[j] * b[j]
                b[j] -= lr * (gb[j] + 2 * ALPHA * b[j])
        return total / n + ALPHA * reg, correct / n

    return run_steps(step, task["steps"], task["gc"])


# ----------------------------------------------------------------------------- measuring


def run_steps(step, steps: int, gc_on: bool) -> dict:
    """Time ``step(k)`` for k = 0..steps-1 (wall clock, and CPU time as a cross-check that
    other processes' load does not reach); losses and accuracies are those before each
    update."""
    gc.collect()
    times, cpu_times, losses, accs = [], [], [], []
    if not gc_on:
        gc.disable()
    try:
        for k in range(steps):
            if not gc_on:
                gc.collect()  # the previous step's garbage, outside the clock
            t0, c0 = time.perf_counter(), time.process_time()
            loss, acc = step(k)
            times.append(time.perf_counter() - t0)
            cpu_times.append(time.process_time() - c0)
            losses.append(loss)
            accs.append(acc)
    finally:
        gc.enable()
    gc.collect()
    return {"times": times, "cpu_times": cpu_times, "losses": losses, "accs": accs}


RUNNERS = {
    "micrograd": micrograd_run,
    "tracegrad": tracegrad_run,
    "tracegrad_fit": tracegrad_fit_run,
    "tracegrad_fit_compiled": tracegrad_compiled_fit_run,
    "tracegrad_traced": tracegrad_traced_run,
    "tracegrad_batched": tracegrad_batched_run,
    "floats": floats_run,
}


def run(engine: str, task: dict) -> dict:
    """One run in a fresh process (micrograd's in its venv), as users run a training script:
    its collector then walks only that run's objects, not those earlier runs left behind."""
    if engine == "micrograd":
        from _micrograd_env import micrograd_python

        python = micrograd_python()
    else:
        python = sys.executable
    done = subprocess.run(
        [python, str(Path(__file__).resolve()), "--worker", engine],
        input=json.dumps(task),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{engine} worker failed:\n{done.stderr}")
    return json.loads(done.stdout)


def per_step(result: dict) -> float:
    """Mean seconds per step; for nn.fit(compile=True) without its first epoch, which traces
    (the trace is reported on its own)."""
    times = result["times"][1:] if result.get("traces_first") else result["times"]
    return statistics.fmean(times)


def first_perfect(accs: list[float]) -> int | None:
    return next((k for k, a in enumerate(accs) if a == 1.0), None)


def moons_data():
    """micrograd's demo data: ``make_moons(n_samples=100, noise=0.1)`` after
    ``np.random.seed(1337)``, i.e. scikit-learn's generator seeded 1337 (scikit-learn is in the
    dev extra); without scikit-learn, nn.datasets.moons (same geometry, other draws)."""
    try:
        from sklearn.datasets import make_moons
    except ImportError:
        import nn

        X, y = nn.datasets.moons(100, noise=0.1, seed=SEED)
        return X, y, "nn.datasets.moons(100, noise=0.1, seed=1337)"
    X, y = make_moons(n_samples=100, noise=0.1, random_state=SEED)
    return X, y, "scikit-learn's make_moons(100, noise=0.1, random_state=1337), micrograd's data"


CONFIGURATIONS = (  # (runner, gc on), in the order of each interleaved round
    ("micrograd", True),
    ("micrograd", False),
    ("tracegrad", True),
    ("tracegrad", False),
    ("tracegrad_fit", True),
    ("tracegrad_fit_compiled", True),
    ("tracegrad_traced", True),
    ("tracegrad_batched", True),
)


def measure(quick: bool, repeats: int) -> dict:
    sys.path.insert(0, str(REPO))
    from tqdm import tqdm

    X, y, source = moons_data()
    data = {"X": X.tolist(), "y": (2.0 * y - 1.0).tolist()}
    steps = 5 if quick else 100
    plan = [(engine, gc_on, r) for r in range(repeats) for engine, gc_on in CONFIGURATIONS]
    res: dict = {"steps": steps, "repeats": repeats, "source": source}
    for engine, gc_on, _ in tqdm(plan, desc="bench_moons", file=sys.stderr, leave=False):
        out = run(engine, {**data, "steps": steps, "gc": gc_on})
        res.setdefault((engine, gc_on), []).append(out)
    weights = res[("micrograd", True)][0]["weights"]
    same = {**data, "steps": steps, "gc": True, "weights": weights}
    res["same_tracegrad"] = run("tracegrad", same)
    res["same_traced"] = run("tracegrad_traced", same)
    res["same_micrograd"] = res[("micrograd", True)][0]
    res["floor"] = [run("floats", same) for _ in range(repeats)]
    return res


def report(res: dict, command: str) -> str:
    def fig(key) -> float:
        return statistics.median(per_step(r) for r in res[key])

    mg_on, mg_off = fig(("micrograd", True)), fig(("micrograd", False))
    tg_on, tg_off = fig(("tracegrad", True)), fig(("tracegrad", False))
    fit_on = fig(("tracegrad_fit", True))
    fitc = fig(("tracegrad_fit_compiled", True))
    traced = fig(("tracegrad_traced", True))
    batched = fig(("tracegrad_batched", True))
    floor = statistics.median(per_step(r) for r in res["floor"])
    mg_run, tg_run = res[("micrograd", True)][0], res[("tracegrad", True)][0]
    fit_run = res[("tracegrad_fit", True)][0]
    traced_runs = res[("tracegrad_traced", True)]
    mg_loss = mg_run["losses"]

    def gap(a: list, b: list) -> float:
        return max(abs(x - z) for x, z in zip(a, b))

    gap_tg = gap(res["same_tracegrad"]["losses"], mg_loss)
    gap_traced = gap(res["same_traced"]["losses"], res["same_tracegrad"]["losses"])
    gap_floor = gap(res["floor"][0]["losses"], mg_loss)
    gap_fit = gap(res[("tracegrad_fit_compiled", True)][0]["losses"], fit_run["losses"])
    gap_batched = gap(res[("tracegrad_batched", True)][0]["losses"], tg_run["losses"])
    trace_s = statistics.median(r["trace_s"] for r in traced_runs)
    codegen_s = statistics.median(r["codegen_s"] for r in traced_runs)
    compile_s = statistics.median(r["compile_s"] for r in traced_runs)

    def acc_line(name: str, r: dict) -> str:
        k = first_perfect(r["accs"])
        at = f"step {k}" if k is not None else "never"
        return f"| {name} | {r['accs'][-1]:.0%} | {at} | {r['losses'][-1]:.4f} |"

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "MISS"

    def row(name: str, gc_text: str, seconds: float) -> str:
        return (
            f"| {name} | {gc_text} | {seconds * 1e3:.2f} | {mg_on / seconds:.1f}x | "
            f"{seconds / floor:.2f}x |"
        )

    lines = [
        f"Produced by `{command}` on {platform.machine()} {platform.system()}, "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. micrograd is 0.1.0 from "
        f"PyPI in its own venv. Mean milliseconds per step over {res['steps']} steps, median "
        f"of {res['repeats']} interleaved run(s). Data: {res['source']}.",
        "",
        "**micrograd's moons demo** (2-16-16-1 relu, hinge + 1e-4 L2, 100 points, full-batch "
        f"SGD, {res['steps']} steps)",
        "",
        "| run | gc | ms / step | micrograd as run / this | this / float floor |",
        "|---|---|---:|---:|---:|",
        row("micrograd `MLP`, its notebook's loop", "on, as users run it", mg_on),
        row("micrograd `MLP`, its notebook's loop", "off", mg_off),
        row("tracegrad `nn.MLP`, the same loop", "on, as users run it", tg_on),
        row("tracegrad `nn.MLP`, the same loop", "off", tg_off),
        row("tracegrad `nn.fit`", "on", fit_on),
        row("tracegrad `nn.fit(compile=True)`", "on", fitc),
        row("tracegrad, the loss traced once, `prog.backward()` a step", "on", traced),
        row("tracegrad, one sample traced, replayed on the 100 at once", "on", batched),
        row("plain floats, hand-written backward (the floor)", "on", floor),
        "",
        f"Tracing the loss ({traced_runs[0]['lines']:,} lines of generated code): trace "
        f"{trace_s:.2f} s, code generation {codegen_s:.2f} s (together "
        f"{trace_s + codegen_s:.2f} s), Python's compile {compile_s:.2f} s.",
        "",
        "| run (own initial weights) | final accuracy | first 100% | final loss |",
        "|---|---:|---:|---:|",
        acc_line("micrograd", mg_run),
        acc_line("tracegrad", tg_run),
        acc_line("tracegrad, nn.fit", fit_run),
        acc_line("tracegrad, traced replay", traced_runs[0]),
        acc_line("tracegrad from micrograd's weights", res["same_tracegrad"]),
        "",
        "| target | measured | |",
        "|---|---:|---|",
        f"| traced replay at most 2x the plain-float floor | {traced / floor:.2f}x | "
        f"{verdict(traced <= 2 * floor)} |",
        f"| traced replay over 100x faster than micrograd as users run it | "
        f"{mg_on / traced:.0f}x | {verdict(mg_on / traced > 100)} |",
        f"| batched replay faster than the plain-float floor | {batched / floor:.2f}x | "
        f"{verdict(batched < floor)} |",
        f"| trace plus code generation under 3 s | {trace_s + codegen_s:.2f} s | "
        f"{verdict(trace_s + codegen_s < 3)} |",
        f"| nn.fit(compile=True) faster than nn.fit | {fit_on / fitc:.1f}x | "
        f"{verdict(fitc < fit_on)} |",
        "",
        f"Same work: started from micrograd's weights, tracegrad's loss follows micrograd's "
        f"within {gap_tg:.1e} over the {res['steps']} steps, the float floor's within "
        f"{gap_floor:.1e}, the traced replay's tracegrad's within {gap_traced:.1e}; "
        f"nn.fit(compile=True)'s follows nn.fit's within {gap_fit:.1e}, the batched "
        f"replay's the loop's within {gap_batched:.1e}.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 steps: checks the harness")
    parser.add_argument("--repeats", type=int, default=1, help="runs per configuration")
    parser.add_argument("--worker", choices=tuple(RUNNERS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:  # the subprocess side: one task as JSON on stdin, its result on stdout
        print(json.dumps(RUNNERS[args.worker](json.load(sys.stdin))))
        return
    command = "python bench/bench_moons.py" + " ".join(
        [""]
        + (["--quick"] if args.quick else [])
        + ([f"--repeats {args.repeats}"] if args.repeats != 1 else [])
    )
    text = report(measure(args.quick, max(1, args.repeats)), command)
    print(text)
    if not args.quick:
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(text)
        print(f"written to {RESULTS.relative_to(REPO)}", file=sys.stderr)


if __name__ == "__main__":
    main()
