"""Data sets as numpy arrays ``(X, y)``: toy ones with X float64 of shape (n, 2) and y int64
labels 0/1, and scikit-learn's 8x8 `digits` (the ``digits`` extra) for the tensor engine.

The logic gates have their four rows in truth-table order. `moons` and `circles` follow
scikit-learn's make_moons / make_circles (same shapes and geometry; not the same random
numbers): the rows of the two classes are shuffled together and Gaussian noise of standard
deviation ``noise`` is added, all from ``numpy.random.default_rng(seed)``.

>>> X, y = xor()
>>> X.tolist(), y.tolist()
([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0, 1, 1, 0])
"""

from __future__ import annotations

import numpy as np

_GATE_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])


def _gate(table: list[int]) -> tuple[np.ndarray, np.ndarray]:
    return _GATE_X.copy(), np.array(table, dtype=np.int64)


def xor() -> tuple[np.ndarray, np.ndarray]:
    """XOR's truth table: label 1 when exactly one input is 1."""
    return _gate([0, 1, 1, 0])


def and_() -> tuple[np.ndarray, np.ndarray]:
    """AND's truth table.

    >>> and_()[1].tolist()
    [0, 0, 0, 1]
    """
    return _gate([0, 0, 0, 1])


def or_() -> tuple[np.ndarray, np.ndarray]:
    """OR's truth table.

    >>> or_()[1].tolist()
    [0, 1, 1, 1]
    """
    return _gate([0, 1, 1, 1])


def _check(n: int, noise: float) -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be an integer >= 2, got {n!r}")
    if not noise >= 0:
        raise ValueError(f"noise must be >= 0, got {noise!r}")


def _finish(X: np.ndarray, y: np.ndarray, noise: float, rng) -> tuple[np.ndarray, np.ndarray]:
    order = rng.permutation(len(y))
    X, y = X[order], y[order]
    if noise:
        X = X + rng.normal(scale=noise, size=X.shape)
    return X, y


def moons(
    n: int = 100, noise: float = 0.1, seed: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles: label 0 on the upper one, 1 on the lower, shifted one.

    The upper moon gets ``n // 2`` points (the lower the rest), evenly spaced in angle.

    >>> X, y = moons(100, noise=0.1, seed=0)
    >>> X.shape, int(y.sum())
    ((100, 2), 50)
    """
    _check(n, noise)
    n_upper = n // 2
    t_upper = np.linspace(0.0, np.pi, n_upper)
    t_lower = np.linspace(0.0, np.pi, n - n_upper)
    X = np.concatenate(
        [
            np.stack([np.cos(t_upper), np.sin(t_upper)], axis=1),
            np.stack([1.0 - np.cos(t_lower), 0.5 - np.sin(t_lower)], axis=1),
        ]
    )
    y = np.concatenate([np.zeros(n_upper, np.int64), np.ones(n - n_upper, np.int64)])
    return _finish(X, y, noise, np.random.default_rng(seed))


def circles(
    n: int = 100, noise: float = 0.0, seed: int | None = None, factor: float = 0.8
) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric circles: label 0 on the outer (radius 1), 1 on the inner (``factor``).

    The outer circle gets ``n // 2`` points (the inner the rest), evenly spaced in angle.

    >>> X, y = circles(10, seed=0)
    >>> sorted(set(np.round(np.hypot(X[:, 0], X[:, 1]), 6).tolist()))
    [0.8, 1.0]
    """
    _check(n, noise)
    if not 0 < factor < 1:
        raise ValueError(f"factor must be in (0, 1), got {factor!r}")
    n_outer = n // 2
    # endpoint=False: the angle 2*pi would repeat the point at angle 0.
    t_outer = np.linspace(0.0, 2 * np.pi, n_outer, endpoint=False)
    t_inner = np.linspace(0.0, 2 * np.pi, n - n_outer, endpoint=False)
    X = np.concatenate(
        [
            np.stack([np.cos(t_outer), np.sin(t_outer)], axis=1),
            factor * np.stack([np.cos(t_inner), np.sin(t_inner)], axis=1),
        ]
    )
    y = np.concatenate([np.zeros(n_outer, np.int64), np.ones(n - n_outer, np.int64)])
    return _finish(X, y, noise, np.random.default_rng(seed))


def digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 handwritten digits: X float64 (1797, 64) pixels 0..16, y int64 0..9.

    Needs scikit-learn (the ``digits`` extra: ``pip install tracegrad[digits]``); the data
    ships with it, nothing is downloaded. The pixels are returned as stored; scale them
    (``X / 16``) or standardise them before training.

    >>> X, y = digits()
    >>> X.shape, sorted(set(y.tolist())) == list(range(10))
    ((1797, 64), True)
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError(
            "nn.datasets.digits needs scikit-learn, from the 'digits' extra: "
            "pip install tracegrad[digits]"
        ) from None
    data = load_digits()
    return np.asarray(data.data, dtype=np.float64), np.asarray(data.target, dtype=np.int64)
