"""nn.datasets: the logic gates' truth tables and the seeded moons / circles geometry."""

from __future__ import annotations

import numpy as np
import pytest

import nn


@pytest.mark.parametrize(
    "fn, op",
    [
        (nn.datasets.xor, np.logical_xor),
        (nn.datasets.and_, np.logical_and),
        (nn.datasets.or_, np.logical_or),
    ],
)
def test_gates_are_truth_tables(fn, op):
    X, y = fn()
    assert X.shape == (4, 2) and X.dtype == np.float64 and y.shape == (4,)
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert y.tolist() == op(X[:, 0], X[:, 1]).astype(int).tolist()
    X[0, 0] = 5.0  # a fresh copy each call
    assert fn()[0][0, 0] == 0.0


def test_moons_without_noise_lie_on_the_two_arcs():
    X, y = nn.datasets.moons(101, noise=0.0, seed=0)
    assert X.shape == (101, 2) and y.dtype == np.int64
    assert (y == 0).sum() == 50 and (y == 1).sum() == 51
    upper, lower = X[y == 0], X[y == 1]
    assert np.allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0) and (upper[:, 1] >= -1e-12).all()
    assert np.allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0)
    assert (lower[:, 1] <= 0.5 + 1e-12).all()
    assert (np.diff(y) < 0).any()  # the classes are shuffled together, not in two blocks


def test_circles_without_noise_have_two_radii():
    X, y = nn.datasets.circles(40, noise=0.0, seed=1, factor=0.5)
    r = np.hypot(X[:, 0], X[:, 1])
    assert np.allclose(r[y == 0], 1.0) and np.allclose(r[y == 1], 0.5)
    assert (y == 0).sum() == (y == 1).sum() == 20
    assert len(np.unique(np.round(X, 12), axis=0)) == 40  # no repeated point at angle 2*pi


@pytest.mark.parametrize("fn", [nn.datasets.moons, nn.datasets.circles])
def test_seeded_noise(fn):
    a, ya = fn(200, noise=0.1, seed=3)
    b, yb = fn(200, noise=0.1, seed=3)
    c, _ = fn(200, noise=0.1, seed=4)
    assert np.array_equal(a, b) and np.array_equal(ya, yb)
    assert not np.array_equal(a, c)
    clean, yc = fn(200, noise=0.0, seed=3)
    assert np.array_equal(yc, ya)  # same shuffle; the noise comes after it
    resid = a - clean
    assert 0.08 < resid.std() < 0.12  # standard deviation = noise, over 400 draws


@pytest.mark.parametrize("fn", [nn.datasets.moons, nn.datasets.circles])
def test_bad_arguments(fn):
    with pytest.raises(ValueError, match="n must be an integer >= 2"):
        fn(1)
    with pytest.raises(ValueError, match="noise must be >= 0"):
        fn(10, noise=-0.1)
