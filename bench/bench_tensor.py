"""Tensor benchmark: an MLP on scikit-learn's digits, tracegrad Tensors vs PyTorch vs numpy.

    python bench/bench_tensor.py            # the whole run, about half a minute
    python bench/bench_tensor.py --quick    # one repeat of one epoch, to check the harness

The task: digits (1797 x 64, standardised per feature), an MLP 64-64-10 with relu, softmax
cross-entropy, minibatches of 64 in a fixed per-epoch shuffle, plain SGD with lr 0.1, 5 epochs,
from one Glorot-uniform initialisation (seed 0). Every implementation starts from the same
weights and sees the same batches, in float64, so they train the same maths:
  (a) tracegrad: the MLP written with Tensor ops (``@``, ``+``, ``relu``, ``log_softmax``,
      indexing, ``mean``), ``backward()``, then an in-place update of each ``.data``; and
      the same through ``nn`` (``MLP(engine="tensor")``, ``nn.losses.cross_entropy``,
      ``nn.SGD``), to show what the modules add;
  (b) PyTorch eager on the CPU: ``torch.nn.Linear`` layers, ``F.cross_entropy``,
      ``torch.optim.SGD``, with 1 thread and with PyTorch's default thread count;
  (c) the floor: a hand-written numpy forward and backward of the same maths (no graph).
Timing: the 5 training epochs only (data in memory; the final evaluation, one numpy forward
shared by all, is not timed), by wall clock (time.perf_counter) and by the process's CPU time
(time.process_time), because the machine may be shared: other processes' load stretches wall
time, not CPU time. Each figure is the best of several trainings from the same initial
weights (load only ever adds time; bench_engine does the same), the implementations taking
turns so that load affects them alike, multi-threaded PyTorch last and alone (its idle
threads spin for a while and would bill their CPU time to the next run). numpy's OpenBLAS (so
also tracegrad's) runs 1 thread (OPENBLAS_NUM_THREADS=1 unless set), as PyTorch's first
configuration: 64-wide products gain nothing from threads. PyTorch with its default threads
is listed for reference (its CPU time counts every thread). The final accuracy is on
the whole data set (the task has no held-out split).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

# numpy's OpenBLAS at 1 thread, set before numpy loads it (PyTorch's MKL is not affected):
# 64-wide products gain nothing from threads, and idle OpenBLAS threads spinning on a small
# machine slowed PyTorch's own threads tenfold. Set OPENBLAS_NUM_THREADS to override.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from autograd import Tensor  # noqa: E402

RESULTS = REPO / "bench" / "results" / "tensor.md"
SIZES = (64, 64, 10)
BATCH = 64
LR = 0.1
EPOCHS = 5
SEED = 0


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits as sk_digits

    X, y = sk_digits(return_X_y=True)
    std = X.std(axis=0)
    std[std == 0] = 1.0  # two pixels are always 0 in this data set
    return (X - X.mean(axis=0)) / std, y.astype(np.int64)


def init_params() -> list[np.ndarray]:
    """Glorot-uniform weights (fan_in, fan_out) and zero biases, as Keras's Dense."""
    rng = np.random.default_rng(SEED)
    params = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        params += [rng.uniform(-limit, limit, (fan_in, fan_out)), np.zeros(fan_out)]
    return params


def batches(n: int) -> list[list[np.ndarray]]:
    """The minibatch indices of every epoch: one seeded shuffle per epoch."""
    rng = np.random.default_rng(SEED + 1)
    epochs = []
    for _ in range(EPOCHS):
        order = rng.permutation(n)
        epochs.append([order[i : i + BATCH] for i in range(0, n, BATCH)])
    return epochs


def accuracy(weights: list[np.ndarray], X: np.ndarray, y: np.ndarray) -> float:
    """The trained MLP's accuracy on (X, y), one numpy forward for every implementation."""
    W1, b1, W2, b2 = weights
    logits = np.maximum(X @ W1 + b1, 0.0) @ W2 + b2
    return float((logits.argmax(axis=1) == y).mean())


# --- (a) tracegrad ------------------------------------------------------------------------


def train_tracegrad(X, y, params, epochs):
    W1, b1, W2, b2 = (Tensor(p) for p in params)
    parameters = (W1, b1, W2, b2)
    for epoch in epochs:
        for idx in epoch:
            xb, yb = X[idx], y[idx]
            logits = (xb @ W1 + b1).relu() @ W2 + b2
            loss = -logits.log_softmax()[np.arange(len(idx)), yb].mean()
            for p in parameters:
                p.grad = None
            loss.backward()
            for p in parameters:
                p.data -= LR * p.grad
    return [p.data for p in parameters], float(loss.data)


def _nn_model(params):
    import nn

    model = nn.MLP(SIZES[0], list(SIZES[1:]), activation="relu", engine="tensor")
    model.load_state_dict(
        {
            "layers.0.weight": params[0].T,  # nn's state dict is PyTorch's (out, in) layout
            "layers.0.bias": params[1],
            "layers.1.weight": params[2].T,
            "layers.1.bias": params[3],
        }
    )
    return nn, model


def train_tracegrad_nn(X, y, params, epochs):
    """The same training through nn: MLP(engine="tensor"), nn.losses.cross_entropy, nn.SGD."""
    nn, model = _nn_model(params)
    optimizer = nn.SGD(model.parameters(), lr=LR)
    for epoch in epochs:
        for idx in epoch:
            loss = nn.losses.cross_entropy(model(X[idx]), y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return [p.data for p in model.parameters()], float(loss.data)


def train_tracegrad_fit(X, y, params, epochs, compile=False):
    """The same training through ``nn.fit`` (its seeded shuffle makes the same batches),
    interpreted or with ``compile=True`` (each step a replay of the traced step; the two
    traces, for batches of 64 and the last one, are timed too)."""
    nn, model = _nn_model(params)
    history = nn.fit(
        model, X, y, loss="sparse_categorical_crossentropy",
        optimizer=nn.SGD(model.parameters(), lr=LR), epochs=len(epochs), batch_size=BATCH,
        shuffle=True, seed=SEED + 1, verbose=0, compile=compile,
    )  # fmt: skip
    return [p.data for p in model.parameters()], history.history["loss"][-1]


def train_tracegrad_compiled(X, y, params, epochs):
    return train_tracegrad_fit(X, y, params, epochs, compile=True)


def train_tracegrad_traced(X, y, params, epochs):
    """The loss traced once per batch shape (``autograd.trace``) and replayed with
    ``backward`` for every batch, the update by hand: the replay without nn.fit around it."""
    from autograd import trace

    W1, b1, W2, b2 = (Tensor(p) for p in params)
    parameters = (W1, b1, W2, b2)

    def loss(xb, yb):
        logits = (xb @ W1 + b1).relu() @ W2 + b2
        return -logits.log_softmax()[np.arange(len(yb)), yb].mean()

    programs = {}
    for epoch in epochs:
        for idx in epoch:
            xb, yb = X[idx], y[idx]
            program = programs.get(len(idx))
            if program is None:
                program = programs[len(idx)] = trace(loss, xb, yb)
            for p in parameters:
                p.grad = None
            value = program.backward(xb, yb)
            for p in parameters:
                p.data -= LR * p.grad
    return [p.data for p in parameters], float(value)


# --- (b) PyTorch eager --------------------------------------------------------------------


def train_torch(X, y, params, epochs):
    import torch
    import torch.nn.functional as F

    model = torch.nn.Sequential(
        torch.nn.Linear(SIZES[0], SIZES[1]),
        torch.nn.ReLU(),
        torch.nn.Linear(SIZES[1], SIZES[2]),
    ).double()
    with torch.no_grad():  # the same initial weights (Linear stores W transposed)
        model[0].weight.copy_(torch.from_numpy(params[0].T))
        model[0].bias.copy_(torch.from_numpy(params[1]))
        model[2].weight.copy_(torch.from_numpy(params[2].T))
        model[2].bias.copy_(torch.from_numpy(params[3]))
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    for epoch in epochs:
        for idx in epoch:
            it = torch.from_numpy(idx)
            loss = F.cross_entropy(model(Xt[it]), yt[it])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    weights = [model[0].weight.T, model[0].bias, model[2].weight.T, model[2].bias]
    return [w.detach().numpy().copy() for w in weights], float(loss.detach())


# --- (c) the numpy floor ------------------------------------------------------------------


def train_numpy(X, y, params, epochs):
    W1, b1, W2, b2 = (p.copy() for p in params)
    for epoch in epochs:
        for idx in epoch:
            xb, yb = X[idx], y[idx]
            n = len(idx)
            rows = np.arange(n)
            z1 = xb @ W1 + b1
            h = np.maximum(z1, 0.0)
            logits = h @ W2 + b2
            shifted = logits - logits.max(axis=1, keepdims=True)
            e = np.exp(shifted)
            total = e.sum(axis=1, keepdims=True)
            loss = np.log(total[:, 0]).mean() - shifted[rows, yb].mean()
            # d loss / d logits = (softmax - onehot) / n
            d_logits = e / total
            d_logits[rows, yb] -= 1.0
            d_logits /= n
            dW2 = h.T @ d_logits
            db2 = d_logits.sum(axis=0)
            d_z1 = d_logits @ W2.T
            d_z1 *= z1 > 0
            dW1 = xb.T @ d_z1
            db1 = d_z1.sum(axis=0)
            W1 -= LR * dW1
            b1 -= LR * db1
            W2 -= LR * dW2
            b2 -= LR * db2
    return [W1, b1, W2, b2], float(loss)


def run_all(runs, X, y, params, epochs, repeats):
    """Round-robin over ``runs`` (name, train, PyTorch threads or None for a numpy run)
    ``repeats`` times: per run the best wall and CPU seconds per epoch, and the last
    training's (accuracy, loss). Only the training is timed."""
    import torch

    default_threads = torch.get_num_threads()
    walls = {name: [] for name, _, _ in runs}
    cpus = {name: [] for name, _, _ in runs}
    results = {}
    for _ in range(repeats):
        for name, train, threads in runs:
            torch.set_num_threads(threads or default_threads)
            wall, cpu = time.perf_counter(), time.process_time()
            weights, loss = train(X, y, params, epochs)
            walls[name].append((time.perf_counter() - wall) / len(epochs))
            cpus[name].append((time.process_time() - cpu) / len(epochs))
            results[name] = (accuracy(weights, X, y), loss)
    return {name: (min(walls[name]), min(cpus[name]), results[name]) for name, _, _ in runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 repeat of 1 epoch")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    repeats = 1 if args.quick else args.repeats

    X, y = load_digits()
    params = init_params()
    epochs = batches(len(X))[:1] if args.quick else batches(len(X))

    import torch

    default_threads = torch.get_num_threads()
    runs = [
        ("numpy forward/backward by hand (the floor)", train_numpy, None),
        ("tracegrad Tensor", train_tracegrad, None),
        ("tracegrad nn.MLP(engine='tensor') + nn.SGD", train_tracegrad_nn, None),
        ("tracegrad nn.fit", train_tracegrad_fit, None),
        ("tracegrad nn.fit(compile=True)", train_tracegrad_compiled, None),
        ("tracegrad Tensor, traced once, replayed", train_tracegrad_traced, None),
        ("PyTorch eager, 1 thread", train_torch, 1),
        (f"PyTorch eager, default threads ({default_threads})", train_torch, default_threads),
    ]
    run_all(runs, X, y, params, epochs[:1], 1)  # warm-up: imports, BLAS and PyTorch start-up
    # PyTorch's idle OpenMP threads keep spinning for a while after a multi-threaded run,
    # burning CPU inside whatever runs next: that configuration is measured last, alone.
    measured = run_all(runs[:-1], X, y, params, epochs, repeats)
    measured.update(run_all(runs[-1:], X, y, params, epochs, repeats))
    torch.set_num_threads(default_threads)

    floor_wall, floor_cpu, _ = measured[runs[0][0]]
    ours_wall, ours_cpu, _ = measured[runs[1][0]]
    torch1_wall, torch1_cpu, _ = measured["PyTorch eager, 1 thread"]
    fitc_wall, fitc_cpu, _ = measured["tracegrad nn.fit(compile=True)"]
    lines = [
        f"Produced by `python bench/bench_tensor.py` on {platform.machine()} "
        f"{platform.system()}, CPython {platform.python_version()}, numpy {np.__version__} "
        f"(OpenBLAS threads: {os.environ['OPENBLAS_NUM_THREADS']}), "
        f"PyTorch {torch.__version__}, {os.cpu_count()} CPUs, "
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC.",
        "",
        f"Digits ({X.shape[0]} x {X.shape[1]}, standardised), MLP 64-64-10 relu, softmax "
        f"cross-entropy, minibatch {BATCH}, SGD lr {LR}, {len(epochs)} epoch(s), float64, the "
        "same initial weights and batches for all. Times per epoch, best of "
        f"{repeats} trainings taken in turns; wall clock, and CPU time in brackets (the "
        "machine may be shared: load stretches wall time, not CPU time). Accuracy on the "
        "whole data set after training.",
        "",
        "| implementation | ms / epoch (CPU) | x numpy floor (CPU) | x tracegrad (CPU) "
        "| final loss | accuracy |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, _, _ in runs:
        wall, cpu, (acc, loss) = measured[name]
        lines.append(
            f"| {name} | {wall * 1e3:.2f} ({cpu * 1e3:.2f}) | "
            f"{wall / floor_wall:.2f}x ({cpu / floor_cpu:.2f}x) | "
            f"{wall / ours_wall:.2f}x ({cpu / ours_cpu:.2f}x) | {loss:.4f} | {acc:.4f} |"
        )
    accuracies = [measured[name][2][0] for name, _, _ in runs]
    spread = max(accuracies) - min(accuracies)
    verdict = [
        (
            "faster than PyTorch eager (1 thread)",
            f"{torch1_wall / ours_wall:.2f}x ({torch1_cpu / ours_cpu:.2f}x CPU)",
            ours_wall < torch1_wall and ours_cpu < torch1_cpu,
        ),
        (
            "within 1.5x of the numpy floor",
            f"{ours_wall / floor_wall:.2f}x ({ours_cpu / floor_cpu:.2f}x CPU)",
            ours_wall <= 1.5 * floor_wall and ours_cpu <= 1.5 * floor_cpu,
        ),
        (
            "nn.fit(compile=True) within 1.2x of the numpy floor",
            f"{fitc_wall / floor_wall:.2f}x ({fitc_cpu / floor_cpu:.2f}x CPU)",
            fitc_wall <= 1.2 * floor_wall and fitc_cpu <= 1.2 * floor_cpu,
        ),
        ("same accuracy", f"spread {spread:.4f}", spread <= 0.005),
    ]
    lines += ["", "| target (wall and CPU) | measured | |", "|---|---:|---|"]
    lines += [f"| {t} | {m} | {'PASS' if ok else 'MISS'} |" for t, m, ok in verdict]
    table = "\n".join(lines) + "\n"
    print(table)
    if not args.quick:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(table)
        print(f"written to {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
