"""A Keras-like training loop: `fit`, `evaluate` and the `History` they report in.

Per batch `fit` does what a PyTorch user writes by hand: ``optimizer.zero_grad()``, a forward
pass over the batch, the loss, ``loss.backward()``, ``optimizer.step()``. Every argument is
checked before the first step, so a bad call fails at once with a ValueError.

Loss names (Keras's): ``"mse"`` / ``"mean_squared_error"``, ``"binary_crossentropy"`` (on
probabilities; ``"binary_crossentropy_from_logits"`` on logits), ``"hinge"`` (labels -1/+1),
``"sparse_categorical_crossentropy"`` (integer labels) and ``"categorical_crossentropy"``
(one-hot labels). The categorical ones take the model's raw outputs as logits (our models
have no softmax layer), like Keras's ``from_logits=True``. A callable loss gets the batch's
predictions (as the model returns them, one per sample) and its targets (a numpy array).

Metrics: ``"accuracy"`` is judged by the loss: a 0.5 threshold on probabilities
(binary_crossentropy, per output; mse or a callable loss with one output and 0/1 targets),
0 on logits (from_logits) and on scores whose labels are -1/+1 (hinge, or mse or a callable
loss given such labels), the argmax for class labels and for mse or a callable loss with
several outputs. A callable
metric ``f(y_true, y_pred) -> float`` gets numpy arrays and is reported under its
``__name__``. As in Keras, an epoch's loss and metrics are averaged over its batches, each
computed before that batch's update.

On ``engine="tensor"`` a batch is one forward pass over the ``(batch, nin)`` rows, the
predictions one ``(batch, nout)`` Tensor (what a callable loss then gets); everything else
is the same loop.
"""

from __future__ import annotations

import sys

import numpy as np

from autograd import Tensor, TraceError, Value, no_grad, trace

from . import losses as L
from .module import _real_array

# Losses whose targets are probabilities in [0, 1].
_PROBABILITY_TARGETS = (L.bce, L.bce_with_logits)


class History:
    """What `fit` returns: ``history`` maps ``"loss"`` and each metric to per-epoch values.

    >>> h = History()
    >>> h.history
    {}
    """

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def _record(self, epoch: int, logs: dict[str, float]) -> None:
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def __repr__(self) -> str:
        last = {k: round(v[-1], 4) for k, v in self.history.items()}
        return f"History(epochs={len(self.epoch)}, last={last})"


def _loss_kind(fn, nout: int, y: np.ndarray) -> str:
    """How predictions turn into classes for "accuracy"."""
    if fn is L.bce_with_logits:
        return "logit"
    if fn is L.cross_entropy:
        return "class"
    if fn is L.hinge or (
        fn is not L.bce and nout == 1 and (y == -1).any() and np.isin(y, (-1, 1)).all()
    ):
        return "sign"  # labels -1/+1 (hinge, or mse / a callable loss given such labels)
    if fn is L.bce or nout == 1:
        return "prob"  # per output: several sigmoid outputs are several binary labels
    return "argmax"  # mse or a callable loss on several outputs: one-hot style targets


def _accuracy_fn(kind: str):
    def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
        if kind == "class":
            return float(np.mean(y_pred.argmax(axis=1) == y_true.reshape(-1)))
        if kind == "argmax":
            return float(np.mean(y_pred.argmax(axis=1) == y_true.argmax(axis=1)))
        if kind == "sign":
            guess = np.where(y_pred > 0.0, 1.0, -1.0)
        else:
            guess = (y_pred > (0.0 if kind == "logit" else 0.5)).astype(np.float64)
        return float(np.mean(guess == y_true.reshape(y_pred.shape)))

    return accuracy


def _resolve_metrics(metrics, loss_fn, nout: int, y: np.ndarray) -> dict:
    if isinstance(metrics, str) or callable(metrics):
        metrics = (metrics,)
    out = {}
    for m in metrics:
        if m in ("accuracy", "acc"):
            out["accuracy"] = _accuracy_fn(_loss_kind(loss_fn, nout, y))
        elif callable(m):
            out[getattr(m, "__name__", "metric")] = m
        else:
            raise ValueError(f"unknown metric {m!r}: expected 'accuracy' or a callable")
    return out


def _prepare(model, X, y, loss) -> tuple:
    """Check and convert the data: (X as a float array, targets array, loss fn, nout)."""
    loss_fn = L.get(loss)
    X, y = _real_array("X", X), _real_array("y", y)
    nin = getattr(model, "nin", None)
    if X.ndim != 2 or (nin is not None and X.shape[1] != nin):
        raise ValueError(f"X must have shape (n, {nin or 'nin'}), got {X.shape}")
    n = X.shape[0]
    if n == 0:
        raise ValueError("X has no rows")
    if not np.isfinite(X).all():
        raise ValueError("X contains nan or inf")
    if y.shape[0:1] != (n,):
        raise ValueError(f"X has {n} rows but y has shape {y.shape}")
    nout = getattr(model, "nout", 1)

    if loss_fn is L.cross_entropy:
        if loss == "categorical_crossentropy":
            onehot = (
                y.ndim == 2
                and y.shape[1] == nout
                and np.isin(y, (0.0, 1.0)).all()
                and (y.sum(axis=1) == 1).all()
            )
            if not onehot:
                raise ValueError(
                    f"categorical_crossentropy needs one-hot targets of shape (n, {nout}), "
                    f"got shape {y.shape}; use sparse_categorical_crossentropy for class indices"
                )
            y = y.argmax(axis=1).astype(np.float64)
        y = y.reshape(n, -1)
        if y.shape[1] != 1:
            raise ValueError(f"class labels must have shape (n,), got {y.shape}")
        y = y.reshape(n)
        bad = y[(y != np.round(y)) | (y < 0) | (y >= nout)]
        if bad.size:
            raise ValueError(f"label {float(bad[0])!r} is not a class index in [0, {nout})")
        return X, y.astype(np.int64), loss_fn, nout

    if y.ndim == 1:
        y = y.reshape(n, 1)
    if y.ndim != 2 or y.shape[1] != nout:
        raise ValueError(
            f"y must have shape (n, {nout}) for a model with {nout} outputs, got {y.shape}"
        )
    if not np.isfinite(y).all():
        raise ValueError("y contains nan or inf")
    if loss_fn in _PROBABILITY_TARGETS and ((y < 0) | (y > 1)).any():
        bad = float(y[(y < 0) | (y > 1)][0])
        raise ValueError(f"{loss} needs targets in [0, 1], got {bad!r}")
    if loss_fn is L.hinge and not np.isin(y, (-1.0, 1.0)).all():
        bad = float(y[~np.isin(y, (-1.0, 1.0))][0])
        raise ValueError(f"hinge needs labels -1 or +1, got {bad!r}")
    return X, (y.reshape(n) if nout == 1 else y), loss_fn, nout


def _positive_int(name: str, x) -> int:
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)) or x < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {x!r}")
    return int(x)


def _seed(seed):
    """fit's ``seed`` as numpy.random.default_rng takes it, checked here so that a bad one is
    a ValueError naming it (numpy would raise a TypeError from inside the shuffle)."""
    if seed is None or isinstance(seed, (np.random.Generator, np.random.SeedSequence)):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be None, an integer >= 0 or a numpy Generator, got {seed!r}")
    return int(seed)


def _output_data(out) -> list[float]:
    """A model's output for one sample (a Value or a list of Values) as floats."""
    return [out.data] if isinstance(out, Value) else [v.data for v in out]


def _forward(model, batch, nout: int) -> tuple:
    """The model on a batch: its predictions as the losses take them, and their values as an
    ``(n, nout)`` array. ``batch`` is an ``(n, nin)`` array on the tensor engine (one pass),
    a list of rows on the value engine (one pass per row)."""
    if getattr(model, "engine", "value") == "tensor":
        preds = model(batch)
        return preds, preds.data.reshape(len(batch), nout)
    preds = [model(row) for row in batch]
    values = np.array([_output_data(p) for p in preds], dtype=np.float64)
    return preds, values.reshape(len(preds), nout)


@no_grad()
def _evaluated(model, batch, nout: int, loss_fn, Y) -> tuple[float, np.ndarray]:
    """The loss and the outputs on a batch, no graph kept (a decorated function: it runs in a
    copy of the caller's context, so an interrupt cannot leave no_grad on)."""
    preds, outputs = _forward(model, batch, nout)
    return float(loss_fn(preds, Y).data), outputs


class _CompiledStep:
    """``fit(compile=True)``'s training step: the batch's loss and predictions traced once
    per batch shape as a ``Program`` (autograd.trace), whose ``backward`` then replays the
    forward and backward passes without building a graph, accumulating into the model's
    parameters exactly as ``loss.backward()`` does.

    The batch's rows and targets are the program's inputs (numbers on the value engine, a
    Tensor of rows on the tensor engine), so every batch of one shape replays one program:
    the programs are keyed by the batch's size alone, and at most `KEEP` are kept per size,
    so their number is bounded however many batches a run sees. Labels are data, never part
    of a program: on the tensor engine the int array of labels is an input that indexes the
    log-softmax; on the value engine, where picking a logit by its label would be a choice
    made in Python and baked into the program, each label reaches the program as one-hot
    float inputs and the loss picks its logit as ``sum(t_k * z_k)``
    (`losses._cross_entropy_onehot`, the same value and gradients). A replay that takes a
    branch the trace did not see (a comparison of Values came out the other way: bce's clip,
    say) is traced again, so the history is the one ``compile=False`` gives.
    """

    KEEP = 8  # programs kept per batch shape

    def __init__(self, model, loss_fn, on_tensors: bool, nout: int) -> None:
        self.model = model
        self.loss_fn = loss_fn
        self.on_tensors = on_tensors
        self.nout = nout
        self.labels = loss_fn is L.cross_entropy
        self.programs: dict = {}

    def __call__(self, batch, targets: np.ndarray) -> tuple[float, np.ndarray]:
        n = len(batch)
        key = n  # the batch's size: labels and values are inputs, never part of the key
        if self.on_tensors:
            args = (batch, targets)
        else:
            flat = [x for row in batch for x in row]
            if self.labels:  # one-hot floats: an input like any other (see the docstring)
                onehot = np.zeros((n, self.nout))
                onehot[np.arange(n), targets] = 1.0
                targets = onehot
            args = (*flat, *targets.ravel().tolist())
        # A batch shape may need a few programs, one per pattern of branches (bce_with_logits
        # on a logit's sign, say): the last few are kept, the one that served last first.
        programs = self.programs.setdefault(key, [])
        for k, program in enumerate(programs):
            try:
                value, preds = program.backward(*args)
            except TraceError:
                continue
            programs.insert(0, programs.pop(k))
            break
        else:
            program = trace(self._step(n), *args, has_aux=True)
            programs.insert(0, program)
            del programs[self.KEEP :]
            value, preds = program.backward(*args)
        return float(value), np.asarray(preds, dtype=np.float64).reshape(n, self.nout)

    def _step(self, n: int):
        model, loss_fn, nout = self.model, self.loss_fn, self.nout
        if self.on_tensors:

            def tensor_step(rows: Tensor, targets):
                preds = model(rows)
                return loss_fn(preds, targets), preds

            return tensor_step
        nin = model.nin

        def value_step(*inputs):
            xs = inputs[: n * nin]
            rows = [list(xs[i * nin : (i + 1) * nin]) for i in range(n)]
            targets = list(inputs[n * nin :])
            if nout > 1 or self.labels:  # a row per sample (one-hot weights for labels)
                targets = [targets[i * nout : (i + 1) * nout] for i in range(n)]
            preds = [model(row) for row in rows]
            if self.labels:
                return L._cross_entropy_onehot(preds, targets), preds
            return loss_fn(preds, targets), preds

        return value_step


def _call(callbacks, hook: str, *args) -> None:
    for cb in callbacks:
        fn = getattr(cb, hook, None)
        if fn is not None:
            fn(*args)


def fit(
    model,
    X,
    y,
    *,
    loss,
    optimizer,
    epochs: int,
    batch_size: int | None = None,
    metrics=("accuracy",),
    callbacks=(),
    shuffle: bool = True,
    seed: int | None = None,
    verbose: int = 1,
    compile: bool = False,
) -> History:
    """Train ``model`` on ``(X, y)``; returns the per-epoch loss and metrics.

    With ``compile=True`` every step runs as a traced program (traced once per batch shape,
    see `_CompiledStep`) instead of building a graph: the same history, faster per step. The
    first step pays once for tracing and for Python compiling the generated code (about 2 s
    for micrograd's moons demo, a 70,000-node step on the value engine), so it pays off
    from a few tens of epochs on; Tensor programs are small and compile in milliseconds.

    ``batch_size=None`` trains on the whole data set per step. ``shuffle`` reorders the rows
    every epoch with ``numpy.random.default_rng(seed)``. ``verbose``: 0 silent, 1 a tqdm
    progress bar over epochs with the running loss and metrics (on stdout, as Keras's), 2 one
    line per epoch. Python's garbage collector is left as the caller set it: library code
    never switches it (the graphs hold no reference cycles, so refcounting frees each step's).

    >>> import nn
    >>> X, y = nn.datasets.xor()
    >>> model = nn.MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid", seed=0)
    >>> h = fit(model, X, y, loss="binary_crossentropy", optimizer=nn.SGD(model.parameters(),
    ...         lr=0.5), epochs=3, verbose=0)
    >>> len(h.history["loss"]), sorted(h.history)
    (3, ['accuracy', 'loss'])
    """
    X, Y, loss_fn, nout = _prepare(model, X, y, loss)
    on_tensors = getattr(model, "engine", "value") == "tensor"
    rows = X if on_tensors else X.tolist()  # Values read plain floats fastest
    epochs = _positive_int("epochs", epochs)
    n = len(rows)
    batch_size = n if batch_size is None else min(_positive_int("batch_size", batch_size), n)
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1 or 2, got {verbose!r}")
    metric_fns = _resolve_metrics(metrics, loss_fn, nout, Y)
    if not (
        callable(getattr(optimizer, "step", None))
        and callable(getattr(optimizer, "zero_grad", None))
    ):
        raise ValueError(f"optimizer must have step() and zero_grad(), got {optimizer!r}")
    if isinstance(callbacks, (str, bytes)) or not hasattr(callbacks, "__iter__"):
        raise ValueError("callbacks must be a list of callback objects")
    callbacks = list(callbacks)
    if not isinstance(compile, bool):
        raise ValueError(f"compile must be True or False, got {compile!r}")
    rng = np.random.default_rng(_seed(seed))
    compiled = _CompiledStep(model, loss_fn, on_tensors, nout) if compile else None

    history = History()
    for cb in callbacks:
        if hasattr(cb, "set_model"):
            cb.set_model(model)
        if hasattr(cb, "set_data"):
            cb.set_data(X, Y)
    bar = None
    if verbose == 1:
        from tqdm import tqdm  # the text bar: works in terminals and notebooks alike

        # On stdout, as Keras prints its bar: in a notebook stderr shows on a red, error-like
        # background, and a saved cell's stream folds into one line of the finished bar.
        bar = tqdm(total=epochs, desc="fit", unit="epoch", file=sys.stdout)
    _call(callbacks, "on_train_begin", {})
    try:
        for epoch in range(epochs):
            _call(callbacks, "on_epoch_begin", epoch, {})
            order = rng.permutation(n) if shuffle else np.arange(n)
            total, outputs = 0.0, np.empty((n, nout))
            for b, start in enumerate(range(0, n, batch_size)):
                idx = order[start : start + batch_size]
                optimizer.zero_grad()
                batch = rows[idx] if on_tensors else [rows[i] for i in idx]
                # Predictions as they were before this batch's update (as Keras).
                if compiled is not None:
                    batch_loss, outputs[start : start + len(idx)] = compiled(batch, Y[idx])
                else:
                    preds, outputs[start : start + len(idx)] = _forward(model, batch, nout)
                    value = loss_fn(preds, Y[idx])
                    value.backward()
                    batch_loss = float(value.data)
                    del preds, value  # the graph is acyclic: refcounting frees it here
                optimizer.step()
                total += batch_loss * len(idx)
                _call(callbacks, "on_batch_end", b, {"loss": batch_loss})
            logs = {"loss": total / n}
            Y_epoch = Y[order]
            for name, fn in metric_fns.items():
                logs[name] = float(fn(Y_epoch, outputs))
            history._record(epoch, logs)
            _call(callbacks, "on_epoch_end", epoch, dict(logs))
            if bar is not None:
                bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items()}, refresh=False)
                bar.update(1)
            elif verbose == 2:
                text = " - ".join(f"{k}: {v:.4f}" for k, v in logs.items())
                print(f"Epoch {epoch + 1}/{epochs} - {text}", flush=True)
    finally:
        if bar is not None:
            bar.close()
    _call(callbacks, "on_train_end", {k: v[-1] for k, v in history.history.items()})
    return history


def evaluate(model, X, y, loss, metrics=("accuracy",)) -> dict[str, float]:
    """The loss and metrics of ``model`` on ``(X, y)``, without recording a graph.

    >>> import nn
    >>> X, y = nn.datasets.xor()
    >>> model = nn.MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid", seed=0)
    >>> sorted(evaluate(model, X, y, "binary_crossentropy"))
    ['accuracy', 'loss']
    """
    X, Y, loss_fn, nout = _prepare(model, X, y, loss)
    metric_fns = _resolve_metrics(metrics, loss_fn, nout, Y)
    on_tensors = getattr(model, "engine", "value") == "tensor"
    loss_value, outputs = _evaluated(model, X if on_tensors else X.tolist(), nout, loss_fn, Y)
    logs = {"loss": loss_value}
    for name, fn in metric_fns.items():
        logs[name] = float(fn(Y, outputs))
    return logs
