"""nn on ``engine="tensor"``: the same models, losses, optimizers and fit as on Values.

The value engine is the reference: with the same seed both engines draw the same weights, so
every output, loss, gradient and training history must agree to rounding. On top of that,
the tensor engine's own promises: whole batches in one pass, parameters updated in place,
state dicts and files shared with the value engine, and the Keras XOR recipe.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nn
from autograd import Tensor, Value

X_XOR, Y_XOR = nn.datasets.xor()


def make_pair(nin, nouts, seed=0, **kwargs):
    """The same MLP on both engines (the same seed draws the same weights)."""
    value = nn.MLP(nin, nouts, seed=seed, **kwargs)
    tensor = nn.MLP(nin, nouts, seed=seed, engine="tensor", **kwargs)
    return value, tensor


def grads_by_name(model) -> dict[str, np.ndarray]:
    """Every parameter's gradient, keyed and shaped as the state dict."""
    from nn.module import _slot_grad

    return {name: _slot_grad(shape, ps) for name, (shape, ps) in model._slots().items()}


# --- models --------------------------------------------------------------------------------


@pytest.mark.parametrize("act", ["tanh", "sigmoid", "relu", None])
def test_same_seed_same_weights_same_outputs(act):
    value, tensor = make_pair(3, [4, 2], activation=act, output_activation="sigmoid", seed=7)
    for name, array in value.state_dict().items():
        np.testing.assert_array_equal(tensor.state_dict()[name], array, err_msg=name)
    X = np.random.default_rng(1).normal(size=(5, 3))
    out = tensor(X)
    assert isinstance(out, Tensor) and out.shape == (5, 2)
    expected = np.array([[v.data for v in value(row)] for row in X.tolist()])
    np.testing.assert_allclose(out.data, expected, rtol=0, atol=1e-14)
    np.testing.assert_allclose(tensor.predict(X), value.predict(X), rtol=0, atol=1e-14)


def test_tensor_model_takes_arrays_tensors_and_one_row():
    model = nn.MLP(2, [3, 1], engine="tensor", seed=0)
    X = np.array([[0.0, 1.0], [1.0, 1.0]])
    np.testing.assert_array_equal(model(X).data, model(Tensor(X)).data)
    assert model(X[0]).shape == (1,)  # a single (nin,) row gives (nout,)
    assert model.predict(X[0]).shape == (1, 1)


def test_tensor_input_gets_its_gradient():
    model = nn.MLP(2, [3, 1], activation="tanh", engine="tensor", seed=0)
    x = Tensor([[0.5, -1.0]])
    model(x).sum().backward()
    value = nn.MLP(2, [3, 1], activation="tanh", seed=0)
    xs = [Value(0.5), Value(-1.0)]
    value(xs).backward()
    np.testing.assert_allclose(x.grad[0], [v.grad for v in xs], rtol=0, atol=1e-14)


def test_wrong_inputs_raise():
    model = nn.MLP(2, [3, 1], engine="tensor", seed=0)
    with pytest.raises(ValueError, match=r"expects an \(n, 2\) input, got shape \(4, 3\)"):
        model(np.zeros((4, 3)))
    with pytest.raises(TypeError, match="cannot take Values"):
        model([Value(1.0), Value(2.0)])
    with pytest.raises(ValueError, match="unknown engine 'gpu'"):
        nn.MLP(2, [1], engine="gpu")


def test_parameters_are_whole_arrays():
    model = nn.MLP(784, [10, 10], engine="tensor")
    assert [p.shape for p in model.parameters()] == [(784, 10), (10,), (10, 10), (10,)]
    assert model.num_parameters() == 7960
    lines = model.summary().splitlines()
    assert "(n, 10)" in lines[2] and "7,850" in lines[2]
    assert lines[-1] == "Total params: 7,960"
    labels = [p.label for p in model.parameters()]
    assert labels == ["W0", "b0", "W1", "b1"]


def test_state_dict_moves_between_engines(tmp_path):
    value = nn.MLP(2, [3, 1], seed=1)
    tensor = nn.MLP(2, [3, 1], seed=2, engine="tensor")
    assert not np.allclose(value.predict(X_XOR), tensor.predict(X_XOR))
    tensor.load_state_dict(value.state_dict())
    np.testing.assert_allclose(tensor.predict(X_XOR), value.predict(X_XOR), atol=1e-14)
    # The loaded weight is stored transposed and C-ordered, the layout x @ W wants.
    W = tensor.layers[0].W.data
    assert W.shape == (2, 3) and W.flags.c_contiguous
    # A mismatched shape is refused and changes nothing.
    bad = dict(value.state_dict(), **{"layers.0.weight": np.zeros((3, 3))})
    before = tensor.state_dict()
    with pytest.raises(ValueError, match="layers.0.weight"):
        tensor.load_state_dict(bad)
    for name, array in before.items():
        np.testing.assert_array_equal(tensor.state_dict()[name], array)


@pytest.mark.parametrize("suffix", [".json", ".npz"])
def test_save_load_keeps_the_engine(tmp_path, suffix):
    model = nn.MLP(2, [4, 1], activation="relu", engine="tensor", seed=3)
    path = tmp_path / f"model{suffix}"
    nn.save(model, path)
    loaded = nn.load(path)
    assert loaded.engine == "tensor" and repr(loaded) == repr(model)
    np.testing.assert_array_equal(loaded.predict(X_XOR), model.predict(X_XOR))


# --- losses --------------------------------------------------------------------------------

LOSS_CASES = [
    ("mse", "sigmoid", lambda n: np.linspace(0.0, 1.0, n)),
    ("bce", "sigmoid", lambda n: (np.arange(n) % 2).astype(float)),
    ("bce_with_logits", None, lambda n: np.linspace(0.0, 1.0, n)),
    ("hinge", None, lambda n: np.where(np.arange(n) % 2, 1.0, -1.0)),
]


def assert_same_loss_and_gradients(loss_fn, value, tensor, X, targets):
    lv = loss_fn([value(row) for row in X.tolist()], targets)
    lt = loss_fn(tensor(X), targets)
    assert lt.item() == pytest.approx(lv.data, rel=1e-12, abs=1e-15)
    lv.backward()
    lt.backward()
    gv, gt = grads_by_name(value), grads_by_name(tensor)
    for key in gv:
        np.testing.assert_allclose(gt[key], gv[key], rtol=1e-10, atol=1e-14, err_msg=key)


@pytest.mark.parametrize("name, out_act, targets", LOSS_CASES)
def test_losses_and_gradients_equal_the_value_engines(name, out_act, targets):
    value, tensor = make_pair(3, [4, 1], activation="tanh", output_activation=out_act, seed=5)
    X = np.random.default_rng(0).normal(size=(6, 3)) * 2
    assert_same_loss_and_gradients(getattr(nn.losses, name), value, tensor, X, targets(6))


def test_cross_entropy_equals_the_value_engines():
    value, tensor = make_pair(2, [5, 3], activation="relu", seed=4)
    X = np.random.default_rng(2).normal(size=(7, 2))
    labels = np.array([0, 1, 2, 2, 1, 0, 1])
    assert_same_loss_and_gradients(nn.losses.cross_entropy, value, tensor, X, labels)


def test_tensor_losses_are_stable_and_clip_like_keras():
    z = Tensor([1000.0, -1000.0])
    loss = nn.losses.bce_with_logits(z, [0.0, 1.0])
    assert loss.item() == pytest.approx(1000.0)
    loss.backward()
    np.testing.assert_allclose(z.grad, [0.5, -0.5])  # (sigmoid(z) - t) / n
    p = Tensor([0.0, 1.0])
    clipped = nn.losses.bce(p, [1.0, 0.0])
    assert clipped.item() == pytest.approx(-np.log(1e-7))
    clipped.backward()
    np.testing.assert_array_equal(p.grad, [0.0, 0.0])  # clipped: no gradient, as Keras
    logits = Tensor([[1000.0, -1000.0, 0.0]])
    assert nn.losses.cross_entropy(logits, [1]).item() == pytest.approx(2000.0)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: nn.losses.mse(Tensor([1.0, 2.0]), [1.0]), "2 predictions but 1 targets"),
        (lambda: nn.losses.bce(Tensor([0.5]), [2.0]), r"targets must lie in \[0, 1\], got 2.0"),
        (lambda: nn.losses.hinge(Tensor([0.5]), [0.0]), "labels must be -1 or \\+1, got 0.0"),
        (lambda: nn.losses.cross_entropy(Tensor([[0.0, 1.0]]), [2]), "label 2 is not a class"),
        (lambda: nn.losses.cross_entropy(Tensor([[0.0, 1.0]]), [0, 1]), "1 samples but 2"),
    ],
)
def test_tensor_loss_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_n_by_one_predictions_never_broadcast_against_n_targets():
    """(n, 1) predictions with (n,) targets would broadcast to (n, n): the loss reshapes."""
    p = Tensor(np.array([[1.0], [2.0], [3.0]]))
    assert nn.losses.mse(p, np.array([1.0, 2.0, 3.0])).item() == 0.0


# --- optimizers on arrays ------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: nn.SGD(ps, lr=0.1),
        lambda ps: nn.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3),
        lambda ps: nn.Adam(ps, lr=0.01, weight_decay=1e-3),
    ],
)
def test_optimizers_update_arrays_in_place_and_match_the_value_engine(make):
    value, tensor = make_pair(2, [3, 1], activation="tanh", seed=0)
    ov, ot = make(value.parameters()), make(tensor.parameters())
    arrays = [p.data for p in tensor.parameters()]
    for _ in range(5):
        for opt, preds in (
            (ov, lambda: [value(r) for r in X_XOR.tolist()]),
            (ot, lambda: tensor(X_XOR)),
        ):
            opt.zero_grad()
            nn.losses.mse(preds(), Y_XOR).backward()
            opt.step()
    # Each parameter kept its array (updated in place, no new allocation per step) ...
    assert all(p.data is a for p, a in zip(tensor.parameters(), arrays))
    # ... and every weight moved exactly as the scalar optimizer moved it.
    for key, array in value.state_dict().items():
        np.testing.assert_allclose(tensor.state_dict()[key], array, rtol=0, atol=1e-13)


def test_optimizer_state_buffers_are_allocated_once():
    model = nn.MLP(2, [3, 1], engine="tensor", seed=0)
    sgd = nn.SGD(model.parameters(), lr=0.1, momentum=0.9)
    adam = nn.Adam(model.parameters(), lr=0.01)
    seen = None
    for _ in range(3):
        for opt in (sgd, adam):
            opt.zero_grad()
            nn.losses.mse(model(X_XOR), Y_XOR).backward()
            opt.step()
        buffers = [id(b) for b in sgd.buffers] + [id(b) for b in adam.m + adam.v]
        assert seen is None or buffers == seen
        seen = buffers
    # A momentum buffer never aliases the gradient it was started from.
    assert all(b is not p.grad for b, p in zip(sgd.buffers, model.parameters()))


# --- fit, evaluate ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "loss, out_act, y, batch_size",
    [
        ("binary_crossentropy", "sigmoid", Y_XOR, 3),
        ("mse", "tanh", Y_XOR * 2.0 - 1.0, None),
        ("hinge", None, Y_XOR * 2.0 - 1.0, 1),
    ],
)
def test_fit_history_equals_the_value_engines(loss, out_act, y, batch_size):
    histories, outputs = [], []
    for model in make_pair(2, [4, 1], activation="tanh", output_activation=out_act, seed=2):
        h = nn.fit(
            model,
            X_XOR,
            y,
            loss=loss,
            optimizer=nn.SGD(model.parameters(), lr=0.2, momentum=0.5),
            epochs=20,
            batch_size=batch_size,
            seed=3,
            verbose=0,
        )
        histories.append(h.history)
        outputs.append(model.predict(X_XOR))
    value_h, tensor_h = histories
    assert value_h.keys() == tensor_h.keys()
    for key in value_h:
        np.testing.assert_allclose(tensor_h[key], value_h[key], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(outputs[1], outputs[0], rtol=0, atol=1e-10)


def test_fit_several_classes_and_evaluate():
    X, y = nn.datasets.moons(60, noise=0.1, seed=0)
    y3 = np.where(X[:, 0] > 1.0, 2, y)  # a third class
    results = []
    for model in make_pair(2, [8, 3], activation="relu", init="he_uniform", seed=0):
        h = nn.fit(
            model,
            X,
            y3,
            loss="sparse_categorical_crossentropy",
            optimizer=nn.Adam(model.parameters(), lr=0.05),
            epochs=15,
            batch_size=16,
            seed=0,
            verbose=0,
        )
        results.append((h.history, nn.evaluate(model, X, y3, "sparse_categorical_crossentropy")))
    (hv, ev), (ht, et) = results
    np.testing.assert_allclose(ht["loss"], hv["loss"], rtol=1e-9)
    assert et == pytest.approx(ev, rel=1e-9)
    assert et["accuracy"] > 0.8


@given(
    nin=st.integers(1, 3),
    hidden=st.integers(1, 4),
    nout=st.integers(1, 3),
    act=st.sampled_from(["tanh", "sigmoid", "relu", None]),
    seed=st.integers(0, 2**16),
)
def test_engines_agree_on_random_models(nin, hidden, nout, act, seed):
    value, tensor = make_pair(nin, [hidden, nout], activation=act, seed=seed)
    X = np.random.default_rng(seed).normal(size=(3, nin))
    np.testing.assert_allclose(tensor.predict(X), value.predict(X), rtol=0, atol=1e-12)


# --- callbacks, data -------------------------------------------------------------------------


def test_tensorboard_on_a_tensor_model(tmp_path):
    from tensorboard.backend.event_processing import event_accumulator

    model = nn.MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid", engine="tensor")
    nn.fit(
        model,
        X_XOR,
        Y_XOR,
        loss="binary_crossentropy",
        optimizer=nn.SGD(model.parameters(), lr=0.5),
        epochs=2,
        verbose=0,
        callbacks=[nn.callbacks.TensorBoard(tmp_path)],
    )
    acc = event_accumulator.EventAccumulator(str(tmp_path), size_guidance={"histograms": 0})
    acc.Reload()
    tags = set(acc.Tags()["histograms"])
    assert {"weights/layers.0", "gradients/layers.1.bias", "activations/layers.1"} <= tags
    w = model.state_dict()["layers.0.weight"]
    last = acc.Histograms("weights/layers.0")[-1].histogram_value
    assert last.num == w.size and last.max == pytest.approx(w.max())
    assert acc.Histograms("activations/layers.0")[-1].histogram_value.num == 4 * 3


def test_digits():
    X, y = nn.datasets.digits()  # scikit-learn is in the dev extra: no skip
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert y.shape == (1797,) and sorted(set(y.tolist())) == list(range(10))
    assert X.min() == 0.0 and X.max() == 16.0


def test_digits_without_scikit_learn_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)  # import now fails
    with pytest.raises(ImportError, match=r"pip install tracegrad\[digits\]"):
        nn.datasets.digits()
