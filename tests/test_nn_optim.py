"""nn.SGD and nn.Adam: the update rules written out by hand (PyTorch's, see the oracle tests
for the comparison with torch itself), argument checks, and array parameters (the Tensor
engine's case)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import nn
from autograd import Value


class ArrayParam:
    """A parameter as the Tensor engine has them: array data, array (or None) grad."""

    def __init__(self, data):
        self.data = np.array(data, dtype=np.float64)
        self.grad = None


def run(opt_factory, grads, start=1.0):
    """Apply successive gradients to one scalar parameter; return the data after each step."""
    p = Value(start)
    opt = opt_factory([p])
    seen = []
    for g in grads:
        p.grad = g
        opt.step()
        seen.append(p.data)
    return seen


GRADS = [0.5, -0.25, 1.0]


def test_sgd_plain():
    assert run(lambda ps: nn.SGD(ps, lr=0.1), GRADS) == pytest.approx([0.95, 0.975, 0.875])


def test_sgd_momentum_heavy_ball():
    lr, mu = 0.1, 0.9
    p, buf, expected = 1.0, None, []
    for g in GRADS:
        buf = g if buf is None else mu * buf + g
        p -= lr * buf
        expected.append(p)
    assert run(lambda ps: nn.SGD(ps, lr=lr, momentum=mu), GRADS) == pytest.approx(expected)


def test_sgd_nesterov_and_weight_decay():
    lr, mu, wd = 0.1, 0.9, 0.01
    p, buf, expected = 1.0, None, []
    for g in GRADS:
        g = g + wd * p
        buf = g if buf is None else mu * buf + g
        p -= lr * (g + mu * buf)
        expected.append(p)
    got = run(lambda ps: nn.SGD(ps, lr=lr, momentum=mu, nesterov=True, weight_decay=wd), GRADS)
    assert got == pytest.approx(expected, abs=1e-15)


def test_adam_two_steps_by_hand():
    lr, b1, b2, eps, wd = 0.01, 0.9, 0.999, 1e-8, 0.1
    p, m, v, expected = 1.0, 0.0, 0.0, []
    for t, g in enumerate(GRADS, start=1):
        g = g + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        mhat, vhat = m / (1 - b1**t), v / (1 - b2**t)
        p -= lr * mhat / (math.sqrt(vhat) + eps)
        expected.append(p)
    got = run(lambda ps: nn.Adam(ps, lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd), GRADS)
    assert got == pytest.approx(expected, abs=1e-14)


def test_adam_first_step_has_size_lr():
    # With bias correction the first update is lr * g / (|g| + eps): about lr, for any |g|.
    for g in (1e-3, 1.0, 1e3):
        assert run(lambda ps: nn.Adam(ps, lr=0.05), [g])[0] == pytest.approx(1.0 - 0.05)


def test_zero_grad_resets_values_and_arrays():
    v, a = Value(1.0), ArrayParam([1.0, 2.0])
    v.grad, a.grad = 3.0, np.ones(2)
    opt = nn.SGD([v, a], lr=0.1)
    opt.zero_grad()
    assert v.grad == 0.0 and a.grad is None


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: nn.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
        lambda ps: nn.Adam(ps, lr=0.1, weight_decay=0.01),
    ],
)
def test_array_parameters_update_like_scalars(make):
    """The same optimizer code serves Tensor parameters: each element moves as a scalar would."""
    grads = [np.array([0.5, -2.0]), np.array([-0.25, 1.0]), np.array([1.0, 0.0])]
    a, skipped = ArrayParam([1.0, -1.0]), ArrayParam([7.0])
    opt = make([a, skipped])  # skipped never gets a grad: left alone, as PyTorch does
    for g in grads:
        a.grad = g
        opt.step()
    for i, start in enumerate([1.0, -1.0]):
        assert a.data[i] == pytest.approx(run(make, [g[i] for g in grads], start)[-1], abs=1e-15)
    assert skipped.data.tolist() == [7.0]


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: nn.SGD([], lr=0.1), "empty parameter list"),
        (lambda: nn.SGD([Value(1.0)], lr=-0.1), "lr must be >= 0.0, got -0.1"),
        (lambda: nn.SGD([Value(1.0)], lr=0.1, momentum=-1), "momentum"),
        (lambda: nn.SGD([Value(1.0)], lr=0.1, nesterov=True), "nesterov momentum requires"),
        (lambda: nn.Adam([Value(1.0)], betas=(0.9, 1.0)), r"beta2 must be in \[0.0, 1.0\)"),
        (lambda: nn.Adam([Value(1.0)], eps=-1e-8), "eps"),
        (lambda: nn.Adam([Value(1.0)], weight_decay=-1), "weight_decay"),
    ],
)
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_parameters_must_have_data_and_grad():
    with pytest.raises(TypeError, match="need .data and .grad, got float"):
        nn.SGD([1.0], lr=0.1)


def test_generator_of_parameters_is_kept():
    model = nn.MLP(2, [3, 1], seed=0)
    opt = nn.SGD((p for p in model.parameters()), lr=0.1)
    assert len(opt.params) == model.num_parameters()
