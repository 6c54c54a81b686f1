"""nn.losses on the value engine: values against numpy formulas, gradients against finite
differences (autograd.gradcheck), stability at extreme inputs, and the errors for bad labels."""

from __future__ import annotations

import math

import numpy as np
import pytest

from autograd import Value, gradcheck
from nn import losses

P = [0.2, 0.7, 0.95, 0.4]
T = [0.0, 1.0, 1.0, 0.3]


def vals(xs):
    return [Value(x) for x in xs]


def test_mse_value_and_gradient():
    p, t = np.array(P), np.array(T)
    assert losses.mse(vals(P), T).data == pytest.approx(np.mean((p - t) ** 2), abs=1e-15)
    assert gradcheck(lambda *ps: losses.mse(list(ps), T), P)


def test_mse_multi_output_averages_every_element():
    preds = [vals([1.0, 2.0]), vals([0.0, -1.0])]
    target = np.array([[0.0, 0.0], [0.0, 1.0]])
    assert losses.mse(preds, target).data == pytest.approx((1 + 4 + 0 + 4) / 4)


def test_bce_value_and_gradient():
    p, t = np.array(P), np.array(T)
    expected = np.mean(-t * np.log(p) - (1 - t) * np.log(1 - p))
    assert losses.bce(vals(P), T).data == pytest.approx(expected, abs=1e-15)
    assert gradcheck(lambda *ps: losses.bce(list(ps), T), P)


def test_bce_clips_like_keras():
    p = Value(1.0)  # a saturated sigmoid against the wrong label
    loss = losses.bce([p], [0.0])
    assert loss.data == pytest.approx(-math.log(1e-7), rel=1e-6)
    loss.backward()
    assert p.grad == 0.0  # clipped: no gradient, as through tf.clip_by_value
    assert losses.bce([Value(0.0)], [0.0]).data == pytest.approx(-math.log(1 - 1e-7))


@pytest.mark.parametrize("z", [-3.0, -0.5, 0.4, 2.5])
@pytest.mark.parametrize("t", [0.0, 1.0, 0.25])
def test_bce_with_logits_matches_bce_of_sigmoid(z, t):
    s = 1 / (1 + math.exp(-z))
    assert losses.bce_with_logits([Value(z)], [t]).data == pytest.approx(
        -t * math.log(s) - (1 - t) * math.log(1 - s), abs=1e-12
    )
    assert gradcheck(lambda zz: losses.bce_with_logits([zz], [t]), [z])


@pytest.mark.parametrize("t", [0.0, 1.0, 0.3])
def test_bce_with_logits_gradient_at_zero_is_sigmoid_minus_target(t):
    z = Value(0.0)
    losses.bce_with_logits([z], [t]).backward()
    assert z.grad == pytest.approx(0.5 - t, abs=1e-15)


def test_bce_with_logits_stable_for_huge_logits():
    z = Value(1000.0)
    loss = losses.bce_with_logits([z], [0.0])
    assert loss.data == pytest.approx(1000.0)
    loss.backward()
    assert z.grad == pytest.approx(1.0)
    z = Value(-1000.0)
    loss = losses.bce_with_logits([z], [0.0])
    assert loss.data == pytest.approx(0.0, abs=1e-300)
    loss.backward()
    assert z.grad == pytest.approx(0.0, abs=1e-300)
    assert losses.bce_with_logits([Value(-800.0)], [1.0]).data == pytest.approx(800.0)


def test_hinge_value_and_gradient():
    scores, labels = [0.5, -2.0, 0.3, -0.2], [1, -1, -1, 1]
    expected = np.mean(np.maximum(0.0, 1 - np.array(labels) * np.array(scores)))
    assert losses.hinge(vals(scores), labels).data == pytest.approx(expected)
    assert gradcheck(lambda *s: losses.hinge(list(s), labels), scores)


def test_cross_entropy_value_and_gradient():
    logits = [[1.0, -0.5, 2.0], [0.1, 0.2, -0.3]]
    labels = [2, 0]
    z = np.array(logits)
    lse = np.log(np.exp(z).sum(axis=1))
    expected = np.mean(lse - z[[0, 1], labels])
    rows = [vals(r) for r in logits]
    loss = losses.cross_entropy(rows, labels)
    assert loss.data == pytest.approx(expected, abs=1e-14)
    loss.backward()
    softmax = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    onehot = np.eye(3)[labels]
    grads = np.array([[v.grad for v in r] for r in rows])
    assert np.allclose(grads, (softmax - onehot) / 2, atol=1e-14)


def test_cross_entropy_stable_for_huge_logits():
    loss = losses.cross_entropy([vals([1000.0, 0.0, -1000.0])], [1])
    assert loss.data == pytest.approx(1000.0)
    assert losses.cross_entropy([vals([1000.0, 1000.0])], [0]).data == pytest.approx(math.log(2))


def test_single_sample_shorthands():
    assert losses.mse(Value(3.0), 1.0).data == 4.0
    assert losses.cross_entropy(vals([0.0, 0.0]), 1).data == pytest.approx(math.log(2))


@pytest.mark.parametrize(
    "fn, preds, targets, match",
    [
        (losses.mse, [1.0, 2.0], [0.0, 1.0], "mse: .*got float"),
        (losses.mse, vals([1.0, 2.0]), [0.0], "mse: 2 predictions but 1 targets"),
        (losses.bce, vals([0.5]), [1.5], r"bce: targets must lie in \[0, 1\], got 1.5"),
        (losses.bce_with_logits, vals([0.5]), [-1], r"targets must lie in \[0, 1\]"),
        (losses.hinge, vals([0.5, 0.2]), [1, 0], r"labels must be -1 or \+1, got 0.0"),
        (losses.cross_entropy, [vals([0.0, 1.0])], [2], r"label 2 is not a class index"),
        (losses.cross_entropy, [vals([0.0, 1.0])], [0.5], r"label 0.5 is not a class index"),
        (losses.cross_entropy, [vals([0.0, 1.0])], [0, 1], "1 samples but 2 labels"),
    ],
)
def test_bad_inputs_raise(fn, preds, targets, match):
    with pytest.raises((ValueError, TypeError), match=match):
        fn(preds, targets)


def test_loss_names_resolve():
    assert losses.get("binary_crossentropy") is losses.bce
    assert losses.get("mse") is losses.mse
    assert losses.get("sparse_categorical_crossentropy") is losses.cross_entropy
    own = lambda p, t: p[0]
    assert losses.get(own) is own
    with pytest.raises(ValueError, match="unknown loss 'mae'"):
        losses.get("mae")
