"""nn.fit / nn.evaluate: what a step does, history, verbosity, shuffling, metrics, and the
argument checks that must fire before any training."""

from __future__ import annotations

import numpy as np
import pytest

import nn

X_XOR, Y_XOR = nn.datasets.xor()


def xor_model(seed=0):
    return nn.MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid", seed=seed)


def params_of(model):
    return [p.data for p in model.parameters()]


def test_one_full_batch_epoch_is_one_manual_step():
    """fit = zero_grad, forward every row, loss, backward, step: compare with the hand loop."""
    a, b = xor_model(), xor_model()
    nn.fit(
        a,
        X_XOR,
        Y_XOR,
        loss="binary_crossentropy",
        optimizer=nn.SGD(a.parameters(), lr=0.5),
        epochs=1,
        shuffle=False,
        verbose=0,
    )
    opt = nn.SGD(b.parameters(), lr=0.5)
    opt.zero_grad()
    loss = nn.losses.bce([b(x) for x in X_XOR.tolist()], Y_XOR)
    loss.backward()
    opt.step()
    assert params_of(a) == params_of(b)


def test_mini_batches_and_history():
    model = xor_model()
    seen = []

    class Count(nn.Callback):
        def on_batch_end(self, batch, logs=None):
            seen.append((batch, logs["loss"]))

    h = nn.fit(
        model,
        X_XOR,
        Y_XOR,
        loss="binary_crossentropy",
        optimizer=nn.SGD(model.parameters(), lr=0.5),
        epochs=3,
        batch_size=3,
        callbacks=[Count()],
        verbose=0,
        seed=0,
    )
    assert [b for b, _ in seen] == [0, 1] * 3  # 4 rows in batches of 3 and 1
    assert sorted(h.history) == ["accuracy", "loss"]
    assert len(h.history["loss"]) == len(h.history["accuracy"]) == 3
    assert h.epoch == [0, 1, 2]
    # The epoch loss is the row-weighted mean of its batch losses.
    first = seen[:2]
    assert h.history["loss"][0] == pytest.approx((first[0][1] * 3 + first[1][1] * 1) / 4)


def test_history_loss_decreases_on_xor():
    model = xor_model()
    h = nn.fit(
        model,
        X_XOR,
        Y_XOR,
        loss="binary_crossentropy",
        optimizer=nn.Adam(model.parameters(), lr=0.05),
        epochs=200,
        verbose=0,
    )
    assert h.history["loss"][-1] < 0.5 * h.history["loss"][0]


def test_shuffle_is_seeded():
    def train(seed, shuffle=True):
        m = xor_model()
        nn.fit(
            m,
            X_XOR,
            Y_XOR,
            loss="mse",
            optimizer=nn.SGD(m.parameters(), lr=0.5),
            epochs=3,
            batch_size=1,
            shuffle=shuffle,
            seed=seed,
            verbose=0,
        )
        return params_of(m)

    assert train(1) == train(1)
    assert train(1) != train(2)  # per-sample steps: the order changes the result
    assert train(1, shuffle=False) == train(2, shuffle=False)


def test_verbose_levels(capsys):
    def train(verbose):
        m = xor_model()
        nn.fit(
            m,
            X_XOR,
            Y_XOR,
            loss="binary_crossentropy",
            optimizer=nn.SGD(m.parameters(), lr=0.5),
            epochs=3,
            verbose=verbose,
        )
        return capsys.readouterr()

    silent = train(0)
    assert silent.out == "" and silent.err == ""
    lines = train(2).out.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("Epoch 1/3 - loss: ") and "accuracy: " in lines[0]
    bar = train(1)
    # on stdout, as Keras's bar: a notebook shows stderr as if something went wrong
    assert "3/3" in bar.out and "loss=" in bar.out and "accuracy=" in bar.out and bar.err == ""


def test_accuracy_follows_the_loss():
    """Thresholds: 0.5 on probabilities, 0 on logits and hinge scores, argmax for classes."""

    class Const(nn.Module):
        """Returns fixed outputs per row, to test the metric alone."""

        nin, nout = 2, 1

        def __init__(self, outs):
            self.outs = outs

        def __call__(self, x):
            from autograd import Value

            return Value(self.outs[int(2 * x[0] + x[1])])

    X = X_XOR
    r = nn.evaluate(Const([0.2, 0.6, 0.4, 0.9]), X, [0, 1, 1, 1], "binary_crossentropy")
    assert r["accuracy"] == 0.75  # 0.4 is below the threshold
    r = nn.evaluate(Const([-1.0, 0.3, 2.0, -0.1]), X, [0, 1, 1, 0], "bce_with_logits")
    assert r["accuracy"] == 1.0
    r = nn.evaluate(Const([-1.0, 0.3, -2.0, -0.1]), X, [-1, 1, 1, -1], "hinge")
    assert r["accuracy"] == 0.75
    model = nn.MLP(2, [3], seed=0)
    pred = model.predict(X).argmax(axis=1)
    r = nn.evaluate(model, X, pred, "sparse_categorical_crossentropy")
    assert r["accuracy"] == 1.0
    wrong = (pred + 1) % 3
    assert nn.evaluate(model, X, wrong, "sparse_categorical_crossentropy")["accuracy"] == 0.0


def test_evaluate_loss_matches_the_loss_function():
    model = xor_model(3)
    r = nn.evaluate(model, X_XOR, Y_XOR, "binary_crossentropy")
    assert r["loss"] == pytest.approx(nn.losses.bce([model(x) for x in X_XOR.tolist()], Y_XOR).data)


def test_categorical_one_hot_equals_sparse():
    model = nn.MLP(2, [4, 3], seed=0)
    labels = np.array([0, 2, 1, 2])
    sparse = nn.evaluate(model, X_XOR, labels, "sparse_categorical_crossentropy")
    onehot = nn.evaluate(model, X_XOR, np.eye(3)[labels], "categorical_crossentropy")
    assert sparse == onehot


def test_callable_loss_and_metric():
    def half_sq(preds, targets):
        total = 0.0
        for p, t in zip(preds, targets.tolist()):
            total = total + 0.5 * (p - t) ** 2
        return total

    def max_error(y_true, y_pred):
        return float(np.abs(y_true.reshape(-1) - y_pred.reshape(-1)).max())

    model = xor_model()
    h = nn.fit(
        model,
        X_XOR,
        Y_XOR,
        loss=half_sq,
        optimizer=nn.SGD(model.parameters(), lr=0.5),
        epochs=2,
        metrics=["accuracy", max_error],
        verbose=0,
    )
    assert sorted(h.history) == ["accuracy", "loss", "max_error"]
    r = nn.evaluate(model, X_XOR, Y_XOR, half_sq, metrics=[max_error])
    assert r["max_error"] == pytest.approx(max_error(Y_XOR, model.predict(X_XOR)))


def test_multi_output_mse():
    model = nn.MLP(2, [4, 2], seed=0)
    Y = np.stack([Y_XOR, 1 - Y_XOR], axis=1).astype(float)
    h = nn.fit(
        model,
        X_XOR,
        Y,
        loss="mse",
        optimizer=nn.SGD(model.parameters(), lr=0.1),
        epochs=2,
        verbose=0,
    )
    assert len(h.history["loss"]) == 2


BAD = [
    (dict(X=np.zeros((4, 3))), r"X must have shape \(n, 2\), got \(4, 3\)"),
    (dict(X=np.zeros(4)), r"X must have shape"),
    (dict(y=np.zeros(3)), r"X has 4 rows but y has shape \(3,\)"),
    (dict(y=np.zeros((4, 2))), r"y must have shape \(n, 1\)"),
    (dict(loss="mae"), "unknown loss 'mae'"),
    (dict(epochs=0), "epochs must be an integer >= 1, got 0"),
    (dict(epochs=2.5), "epochs must be an integer"),
    (dict(batch_size=0), "batch_size must be an integer >= 1"),
    (dict(verbose=3), "verbose must be 0, 1 or 2"),
    (dict(metrics=["f1"]), "unknown metric 'f1'"),
    (dict(y=np.array([0, 1, 2, 0])), r"binary_crossentropy needs targets in \[0, 1\], got 2.0"),
    (dict(loss="hinge"), r"hinge needs labels -1 or \+1, got 0.0"),
    (dict(X=np.array([[0, 0], [0, 1], [1, np.nan], [1, 1]])), "X contains nan"),
    (dict(optimizer="sgd"), "optimizer must have step"),
]


@pytest.mark.parametrize("change, match", BAD)
def test_bad_arguments_fail_before_training(change, match):
    model = xor_model()
    before = params_of(model)
    calls = []

    class Spy(nn.Callback):
        def on_train_begin(self, logs=None):
            calls.append("begin")

    kwargs = dict(
        X=X_XOR,
        y=Y_XOR,
        loss="binary_crossentropy",
        optimizer=nn.SGD(model.parameters(), lr=0.5),
        epochs=2,
        callbacks=[Spy()],
        verbose=0,
    )
    kwargs.update(change)
    X, y = kwargs.pop("X"), kwargs.pop("y")
    with pytest.raises(ValueError, match=match):
        nn.fit(model, X, y, **kwargs)
    assert params_of(model) == before and calls == []


def test_class_label_checks():
    model = nn.MLP(2, [4, 3], seed=0)
    opt = nn.SGD(model.parameters(), lr=0.1)
    for labels, match in [
        ([0, 1, 3, 0], r"label 3.0 is not a class index in \[0, 3\)"),
        ([0, 1, 0.5, 0], "label 0.5 is not a class index"),
    ]:
        with pytest.raises(ValueError, match=match):
            nn.fit(
                model,
                X_XOR,
                labels,
                loss="sparse_categorical_crossentropy",
                optimizer=opt,
                epochs=1,
                verbose=0,
            )
    with pytest.raises(ValueError, match="needs one-hot targets"):
        nn.fit(
            model,
            X_XOR,
            np.full((4, 3), 0.5),
            loss="categorical_crossentropy",
            optimizer=opt,
            epochs=1,
            verbose=0,
        )


def test_batch_size_larger_than_data_is_one_batch():
    model = xor_model()
    batches = []

    class Count(nn.Callback):
        def on_batch_end(self, batch, logs=None):
            batches.append(batch)

    nn.fit(
        model,
        X_XOR,
        Y_XOR,
        loss="mse",
        optimizer=nn.SGD(model.parameters(), lr=0.1),
        epochs=2,
        batch_size=100,
        callbacks=[Count()],
        verbose=0,
    )
    assert batches == [0, 0]


def test_accuracy_on_several_outputs():
    """bce on two sigmoid outputs is two binary labels per row; mse on two outputs is argmax."""
    model = nn.MLP(2, [4, 2], output_activation="sigmoid", seed=0)
    P = model.predict(X_XOR)
    labels = (P > 0.5).astype(float)
    labels[0, 0] = 1.0 - labels[0, 0]  # one of the 8 binary labels is wrong
    assert nn.evaluate(model, X_XOR, labels, "binary_crossentropy")["accuracy"] == 7 / 8
    onehot = np.eye(2)[P.argmax(axis=1)]
    onehot[1] = onehot[1, ::-1]  # one of the 4 rows is wrong
    assert nn.evaluate(model, X_XOR, onehot, "mse")["accuracy"] == 3 / 4


def test_accuracy_with_plus_minus_one_labels_and_a_callable_loss():
    """micrograd's demo: a callable loss (hinge + L2) on labels -1/+1 is judged by sign."""
    model = nn.MLP(2, [4, 1], seed=0)
    scores = model.predict(X_XOR).ravel()
    labels = np.where(scores > 0, 1.0, -1.0)
    labels[2] = -labels[2]

    def own(preds, targets):
        return nn.losses.hinge(preds, targets)

    assert nn.evaluate(model, X_XOR, labels, own)["accuracy"] == 0.75
    assert nn.evaluate(model, X_XOR, labels, "mse")["accuracy"] == 0.75
    assert nn.evaluate(model, X_XOR, labels, "hinge")["accuracy"] == 0.75


def test_fit_reproduces_micrograds_demo_loop():
    """nn.fit with a callable loss (hinge + 1e-4 L2) and an lr schedule callback follows the
    hand-written micrograd demo loop exactly (a few steps on a few moons points)."""
    X, y = nn.datasets.moons(20, noise=0.1, seed=0)
    y = 2.0 * y - 1.0

    def demo_model():
        return nn.MLP(2, [8, 8, 1], activation="relu", init="uniform", seed=5)

    a = demo_model()
    pa = a.parameters()
    opt = nn.SGD(pa, lr=1.0)

    def loss(preds, targets):
        reg = pa[0] * pa[0]
        for p in pa[1:]:
            reg = reg + p * p
        return nn.losses.hinge(preds, targets) + 1e-4 * reg

    class Schedule(nn.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            opt.lr = 1.0 - 0.9 * epoch / 100

    h = nn.fit(
        a,
        X,
        y,
        loss=loss,
        optimizer=opt,
        epochs=5,
        shuffle=False,
        callbacks=[Schedule()],
        verbose=0,
    )

    b = demo_model()
    pb = b.parameters()
    manual_losses, manual_accs = [], []
    for k in range(5):
        scores = [b(x) for x in X.tolist()]
        reg = pb[0] * pb[0]
        for p in pb[1:]:
            reg = reg + p * p
        total = nn.losses.hinge(scores, y) + 1e-4 * reg
        b.zero_grad()
        total.backward()
        for p in pb:
            p.data -= (1.0 - 0.9 * k / 100) * p.grad
        manual_losses.append(total.data)
        manual_accs.append(np.mean([(s.data > 0) == (t > 0) for s, t in zip(scores, y)]))
    assert h.history["loss"] == pytest.approx(manual_losses, abs=1e-12)
    assert h.history["accuracy"] == manual_accs
    assert params_of(a) == pytest.approx(params_of(b), abs=1e-12)


def test_fit_never_switches_the_collector_and_leaves_no_cycles():
    """Library code must not switch Python's garbage collector: inside every step (the loss
    runs there) it is as the caller left it, on or off, and after fit a collection finds no
    unreachable objects from the steps (their graphs have no reference cycles)."""
    import gc

    seen = []

    def probed_bce(preds, targets):
        seen.append(gc.isenabled())
        return nn.losses.bce(preds, targets)

    def train(compile=False):
        m = xor_model()
        nn.fit(
            m,
            X_XOR,
            Y_XOR,
            loss=probed_bce,
            optimizer=nn.SGD(m.parameters(), lr=0.5),
            epochs=3,
            batch_size=2,
            verbose=0,
            compile=compile,
        )

    train()  # warm up imports and caches, whose objects are not the step's garbage
    assert seen == [True] * 6  # the collector stays on during the steps
    gc.collect()
    gc.disable()
    try:
        train()
        assert not gc.isenabled()  # a collector that was off stays off
        assert gc.collect() == 0  # nothing cyclic was left behind by the steps
    finally:
        gc.enable()
    seen.clear()
    train(compile=True)  # a traced step calls the loss while tracing: the collector is on
    assert seen and all(seen) and gc.isenabled()


@pytest.mark.parametrize("seed", ["a", 1.5, -1, True, [1, 2]])
def test_a_bad_seed_is_a_value_error_naming_it(seed):
    m = xor_model()
    with pytest.raises(ValueError, match=r"seed must be None, an integer >= 0") as info:
        nn.fit(m, X_XOR, Y_XOR, loss="mse", optimizer=nn.SGD(m.parameters(), lr=0.1),
               epochs=1, verbose=0, seed=seed)  # fmt: skip
    assert repr(seed) in str(info.value)


def test_a_generator_is_a_seed_too():
    histories = []
    for seed in (7, np.random.default_rng(7)):
        m = xor_model()
        h = nn.fit(m, X_XOR, Y_XOR, loss="mse", optimizer=nn.SGD(m.parameters(), lr=0.1),
                   epochs=3, batch_size=2, verbose=0, seed=seed)  # fmt: skip
        histories.append(h.history["loss"])
    assert histories[0] == histories[1]


COMPLEX_X = X_XOR + 1j  # the imaginary part must not be dropped silently


@pytest.mark.parametrize(
    "call",
    [
        lambda m: nn.fit(m, COMPLEX_X, Y_XOR, loss="mse",
                         optimizer=nn.SGD(m.parameters(), lr=0.1), epochs=1, verbose=0),
        lambda m: nn.evaluate(m, COMPLEX_X, Y_XOR, "mse"),
        lambda m: m.predict(COMPLEX_X),
        lambda m: m.predict([[1.0, 2.0 + 0j]]),  # complex dtype, even with no imaginary part
    ],
    ids=["fit", "evaluate", "predict", "predict-list"],
)  # fmt: skip
@pytest.mark.parametrize("engine", ["value", "tensor"])
def test_complex_X_is_refused_naming_its_dtype(call, engine):
    import warnings

    m = nn.MLP(2, [3, 1], seed=0, engine=engine)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's ComplexWarning would mean it was cast
        with pytest.raises(ValueError, match=r"X must hold real numbers, got complex values "
                           r"\(dtype complex128\)"):  # fmt: skip
            call(m)


@pytest.mark.parametrize(
    "X, y, message",
    [
        (X_XOR, Y_XOR * 1j, r"y must hold real numbers, got complex values \(dtype complex128\)"),
        (X_XOR.astype(str), Y_XOR, r"X must hold real numbers, got dtype <U"),
        ([[0, 1], [1, None], [0, 0], [1, 1]], Y_XOR, r"got NoneType None"),
        ([[0, 1], [1, 1j], [0, 0], [1, 1]], Y_XOR, r"X must hold real numbers, got complex"),
    ],
)
def test_other_non_real_data_is_refused_too(X, y, message):
    m = xor_model()
    with pytest.raises(ValueError, match=message):
        nn.fit(m, X, y, loss="mse", optimizer=nn.SGD(m.parameters(), lr=0.1), epochs=1,
               verbose=0)  # fmt: skip
