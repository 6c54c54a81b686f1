"""The callback protocol of nn.fit and nn.callbacks.TensorBoard's event files, read back with
TensorBoard's own EventAccumulator."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import nn

X, Y = nn.datasets.xor()


def train(model, epochs, callbacks, batch_size=None):
    return nn.fit(
        model,
        X,
        Y,
        loss="binary_crossentropy",
        optimizer=nn.SGD(model.parameters(), lr=0.5),
        epochs=epochs,
        batch_size=batch_size,
        callbacks=callbacks,
        verbose=0,
        seed=0,
    )


def test_hooks_run_in_order_with_their_logs():
    events = []
    model = nn.MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid", seed=0)

    class Recorder(nn.Callback):
        def on_train_begin(self, logs=None):
            events.append(("train_begin", self.model is model))

        def on_epoch_begin(self, epoch, logs=None):
            events.append(("epoch_begin", epoch))

        def on_batch_end(self, batch, logs=None):
            events.append(("batch_end", batch, sorted(logs)))

        def on_epoch_end(self, epoch, logs=None):
            events.append(("epoch_end", epoch, sorted(logs)))

        def on_train_end(self, logs=None):
            events.append(("train_end", sorted(logs)))

    h = train(model, 2, [Recorder()], batch_size=2)
    assert events == [
        ("train_begin", True),
        ("epoch_begin", 0),
        ("batch_end", 0, ["loss"]),
        ("batch_end", 1, ["loss"]),
        ("epoch_end", 0, ["accuracy", "loss"]),
        ("epoch_begin", 1),
        ("batch_end", 0, ["loss"]),
        ("batch_end", 1, ["loss"]),
        ("epoch_end", 1, ["accuracy", "loss"]),
        ("train_end", ["accuracy", "loss"]),
    ]
    assert len(h.history["loss"]) == 2


def test_any_object_with_some_hooks_works():
    losses = []

    class OnlyEpochEnd:  # no base class, one hook
        def on_epoch_end(self, epoch, logs=None):
            losses.append(logs["loss"])

    h = train(nn.MLP(2, [3, 1], output_activation="sigmoid", seed=0), 3, [OnlyEpochEnd()])
    assert losses == h.history["loss"]


def test_tensorboard_needs_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # makes the import fail
    with pytest.raises(ImportError, match=r"pip install tracegrad\[tensorboard\]"):
        nn.callbacks.TensorBoard("runs")


def test_tensorboard_event_file_reads_back(tmp_path):
    # tensorboard and tensorboardX are in the dev extra: a missing one fails here, no skip.
    from tensorboard.backend.event_processing import event_accumulator

    model = nn.MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid", seed=0)
    h = train(model, 3, [nn.callbacks.TensorBoard(tmp_path)], batch_size=2)

    acc = event_accumulator.EventAccumulator(
        str(tmp_path), size_guidance={"scalars": 0, "histograms": 0}
    )
    acc.Reload()
    tags = acc.Tags()
    assert {"loss", "accuracy"} <= set(tags["scalars"])
    for key in ("loss", "accuracy"):
        events = acc.Scalars(key)
        assert [e.step for e in events] == [0, 1, 2]
        assert [e.value for e in events] == pytest.approx(h.history[key], rel=1e-6)
    expected = {
        "weights/layers.0",
        "biases/layers.0",
        "weights/layers.1",
        "biases/layers.1",
        "gradients/layers.0.weight",
        "gradients/layers.0.bias",
        "gradients/layers.1.weight",
        "gradients/layers.1.bias",
        "activations/layers.0",
        "activations/layers.1",
    }
    assert expected <= set(tags["histograms"])
    # The last weight histogram is of the trained weights: same count, same range.
    w = model.state_dict()["layers.0.weight"]
    last = acc.Histograms("weights/layers.0")[-1].histogram_value
    assert last.num == w.size
    assert last.min == pytest.approx(w.min()) and last.max == pytest.approx(w.max())
    act = acc.Histograms("activations/layers.1")[-1].histogram_value
    assert act.num == 4  # one output per training row
    assert 0.0 < act.min <= act.max < 1.0  # sigmoid outputs
    assert np.isfinite(acc.Histograms("gradients/layers.0.weight")[-1].histogram_value.sum)
