"""nn.fit(compile=True): every step a traced Program, the history that of compile=False within
1e-12 relative, for every loss, optimizer and engine fit accepts."""

from __future__ import annotations

import numpy as np
import pytest

import nn
import nn.training

LOSSES = {  # loss name: (output activation, outputs, targets from XOR's 0/1 labels)
    "binary_crossentropy": ("sigmoid", 1, lambda y: y),
    "mse": (None, 1, lambda y: y),
    "hinge": (None, 1, lambda y: 2 * y - 1),
    "binary_crossentropy_from_logits": (None, 1, lambda y: y),
    "sparse_categorical_crossentropy": (None, 2, lambda y: y),
    "categorical_crossentropy": (None, 2, lambda y: np.eye(2)[y.astype(int)]),
}
OPTIMIZERS = {
    "sgd": lambda p: nn.SGD(p, lr=0.3),
    "momentum": lambda p: nn.SGD(p, lr=0.2, momentum=0.9, nesterov=True, weight_decay=1e-3),
    "adam": lambda p: nn.Adam(p, lr=0.05, weight_decay=1e-3),
}


def _histories(engine, loss, optimizer, batch_size, epochs=25, shuffle=True, X=None, y=None):
    out_act, nout, targets = LOSSES[loss] if loss in LOSSES else (None, 1, lambda y: y)
    if X is None:
        X, y = nn.datasets.xor()
    result = []
    for compile in (False, True):
        model = nn.MLP(X.shape[1], [4, nout], activation="tanh", output_activation=out_act,
                       seed=3, engine=engine)  # fmt: skip
        h = nn.fit(model, X, targets(y), loss=loss, optimizer=OPTIMIZERS[optimizer](
            model.parameters()), epochs=epochs, batch_size=batch_size, shuffle=shuffle,
            seed=5, verbose=0, compile=compile)  # fmt: skip
        result.append((h.history, [np.array(p.data, dtype=float) for p in model.parameters()]))
    return result


def _assert_same(eager, compiled):
    (h1, w1), (h2, w2) = eager, compiled
    assert h1.keys() == h2.keys()
    for key in h1:
        np.testing.assert_allclose(h2[key], h1[key], rtol=1e-12, atol=0)
    for a, b in zip(w1, w2):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("engine", ["value", "tensor"])
@pytest.mark.parametrize("loss", sorted(LOSSES))
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_compiled_history_equals_the_interpreted_one(engine, loss, optimizer):
    _assert_same(*_histories(engine, loss, optimizer, batch_size=3))


@pytest.mark.parametrize("engine", ["value", "tensor"])
def test_a_callable_loss_compiles_too(engine):
    def l2_mse(preds, targets):
        return nn.losses.mse(preds, targets) * 0.5 + 0.01

    X, y = nn.datasets.xor()
    out = []
    for compile in (False, True):
        model = nn.MLP(2, [3, 1], seed=0, engine=engine)
        h = nn.fit(model, X, y, loss=l2_mse, optimizer=nn.SGD(model.parameters(), lr=0.5),
                   epochs=20, verbose=0, compile=compile)  # fmt: skip
        out.append(h.history)
    np.testing.assert_allclose(out[1]["loss"], out[0]["loss"], rtol=1e-12)


@pytest.mark.parametrize("engine", ["value", "tensor"])
@pytest.mark.parametrize("seed", range(3))
def test_the_keras_xor_recipe_compiled_is_the_same_training(engine, seed):
    X, y = nn.datasets.xor()
    out = []
    for compile in (False, True):
        model = nn.MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid", seed=seed,
                       engine=engine)  # fmt: skip
        h = nn.fit(model, X, y, loss="binary_crossentropy",
                   optimizer=nn.SGD(model.parameters(), lr=0.5), epochs=300, batch_size=4,
                   verbose=0, compile=compile)  # fmt: skip
        out.append((h.history, model.predict(X)))
    np.testing.assert_allclose(out[1][0]["loss"], out[0][0]["loss"], rtol=1e-12)
    np.testing.assert_allclose(out[1][1], out[0][1], rtol=1e-12)


@pytest.mark.parametrize("engine", ["value", "tensor"])
def test_moons_compiled_is_the_same_training(engine):
    X, y = nn.datasets.moons(60, noise=0.1, seed=1)
    _assert_same(*_histories(engine, "hinge", "momentum", batch_size=16, epochs=8, X=X, y=y))


def test_a_program_is_traced_once_per_batch_shape(monkeypatch):
    traces = []
    real = nn.training.trace

    def counting(*args, **kwargs):
        traces.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(nn.training, "trace", counting)
    X, y = nn.datasets.moons(10, noise=0.1, seed=0)
    model = nn.MLP(2, [4, 1], seed=0)
    nn.fit(model, X, 2 * y - 1, loss="hinge", optimizer=nn.SGD(model.parameters(), lr=0.1),
           epochs=6, batch_size=4, verbose=0, compile=True)  # fmt: skip
    assert len(traces) == 2  # batches of 4 and the last one of 2, in every epoch


def test_a_branch_the_trace_did_not_see_is_traced_again(monkeypatch):
    # bce clips a prediction that saturates: a comparison of Values, so a guard; when it flips
    # the step is traced again and the history stays the interpreted one.
    traces = []
    real = nn.training.trace
    monkeypatch.setattr(nn.training, "trace", lambda *a, **k: traces.append(1) or real(*a, **k))
    X, y = nn.datasets.xor()
    out = []
    for compile in (False, True):
        model = nn.MLP(2, [4, 1], activation="tanh", output_activation="sigmoid", seed=0)
        h = nn.fit(model, X, y, loss="binary_crossentropy",
                   optimizer=nn.SGD(model.parameters(), lr=40.0), epochs=30, verbose=0,
                   compile=compile)  # fmt: skip
        out.append(h.history["loss"])
    np.testing.assert_allclose(out[1], out[0], rtol=1e-12)
    assert len(traces) >= 2  # the clip's guard flipped: the step was traced again


def test_compile_must_be_a_bool():
    X, y = nn.datasets.xor()
    model = nn.MLP(2, [2, 1], seed=0)
    with pytest.raises(ValueError, match="compile must be True or False"):
        nn.fit(model, X, y, loss="mse", optimizer=nn.SGD(model.parameters(), lr=0.1),
               epochs=1, verbose=0, compile="yes")  # fmt: skip


@pytest.mark.parametrize("engine", ["value", "tensor"])
@pytest.mark.parametrize("loss", ["sparse_categorical_crossentropy", "categorical_crossentropy"])
def test_class_labels_are_data_not_part_of_a_program(monkeypatch, engine, loss):
    """Every shuffled batch holds other labels; the steps must still share one program per
    batch size (counted: traces and programs kept), so fit's state stays bounded however long
    it runs, and the history is compile=False's within 1e-12."""
    traces, steps = [], []
    real_trace, real_step = nn.training.trace, nn.training._CompiledStep

    class Recorded(real_step):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            steps.append(self)

    monkeypatch.setattr(
        nn.training, "trace", lambda *a, **k: traces.append(1) or real_trace(*a, **k)
    )
    monkeypatch.setattr(nn.training, "_CompiledStep", Recorded)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    labels = rng.integers(0, 4, size=40)
    y = labels if loss.startswith("sparse") else np.eye(4)[labels]
    out = []
    for compile in (False, True):
        model = nn.MLP(3, [5, 4], seed=1, engine=engine)
        h = nn.fit(model, X, y, loss=loss, optimizer=nn.Adam(model.parameters(), lr=0.05),
                   epochs=6, batch_size=8, seed=5, verbose=0, compile=compile)  # fmt: skip
        out.append((h.history, [np.array(p.data, dtype=float) for p in model.parameters()]))
    rng, batches = np.random.default_rng(5), set()  # fit's shuffle (seed 5), drawn again
    for _ in range(6):
        order = rng.permutation(40)
        batches.update(labels[order[k : k + 8]].tobytes() for k in range(0, 40, 8))
    assert len(batches) == 30  # every step saw a batch of labels no other step saw
    assert len(traces) == 1  # one batch size, one program, whatever the labels
    (step,) = steps
    assert sum(len(programs) for programs in step.programs.values()) == 1
    _assert_same(*out)
