"""Optimizers with PyTorch's update rules (torch.optim.SGD and torch.optim.Adam, defaults).

They update ``p.data`` from ``p.grad`` with plain arithmetic, keeping per-parameter state in
lists aligned with the parameter list. The same code serves Values (floats) and Tensors
(numpy arrays): updates are written as augmented assignments (``p.data -= ...``), which
rebind a float and update an array in place, so a Tensor parameter keeps its array and the
state buffers are allocated once, on the first step; only numpy's temporaries for the
right-hand sides are allocated per step. A parameter whose grad is None (a Tensor no backward
pass reached) is skipped, as PyTorch skips it.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def _param_list(params: Iterable, name: str) -> list:
    params = list(params)
    if not params:
        raise ValueError(f"{name} got an empty parameter list")
    for p in params:
        if not (hasattr(p, "data") and hasattr(p, "grad")):
            raise TypeError(f"{name}: parameters need .data and .grad, got {type(p).__name__}")
    return params


def _check(name: str, what: str, x: float, low: float, high: float | None = None) -> float:
    x = float(x)
    if not (x >= low and (high is None or x < high)):
        bound = f">= {low}" if high is None else f"in [{low}, {high})"
        raise ValueError(f"{name}: {what} must be {bound}, got {x}")
    return x


class Optimizer:
    """Shared parts: the parameter list and ``zero_grad()``."""

    def __init__(self, params: Iterable, name: str) -> None:
        self.params = _param_list(params, name)

    def zero_grad(self) -> None:
        """Reset the gradients (0.0 for Values, None for Tensors, as PyTorch's set_to_none)."""
        for p in self.params:
            p.grad = None if isinstance(p.data, np.ndarray) else 0.0

    def step(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum and weight decay.

    Per parameter, with ``g = grad + weight_decay * p``:
    ``buf = g`` on the first step, then ``buf = momentum * buf + g``; the step direction is
    ``g + momentum * buf`` with ``nesterov`` else ``buf`` (``g`` without momentum), and
    ``p -= lr * direction``.

    >>> from autograd import Value
    >>> w = Value(1.0)
    >>> (w * w).backward()
    >>> opt = SGD([w], lr=0.1)
    >>> opt.step()
    >>> w.data
    0.8
    """

    def __init__(
        self,
        params: Iterable,
        lr: float,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, "SGD")
        self.lr = _check("SGD", "lr", lr, 0.0)
        self.momentum = _check("SGD", "momentum", momentum, 0.0)
        self.weight_decay = _check("SGD", "weight_decay", weight_decay, 0.0)
        if nesterov and self.momentum == 0.0:
            raise ValueError("SGD: nesterov momentum requires momentum > 0")
        self.nesterov = bool(nesterov)
        self.buffers: list = [None] * len(self.params)

    def step(self) -> None:
        """Apply one update from the current gradients."""
        lr, mu, wd = self.lr, self.momentum, self.weight_decay
        if not mu and not wd:  # plain SGD, micrograd's update: the common case, kept tight
            for p in self.params:
                if p.grad is not None:
                    p.data -= lr * p.grad  # in place for arrays
            return
        bufs = self.buffers
        for i, p in enumerate(self.params):
            g = p.grad
            if g is None:
                continue
            if wd:
                g = g + wd * p.data
            if mu:
                buf = bufs[i]
                if buf is None:
                    # A copy: the buffer is updated in place and must not alias p.grad.
                    buf = bufs[i] = g.copy() if isinstance(g, np.ndarray) else g
                else:
                    buf *= mu
                    buf += g
                    bufs[i] = buf  # a float was rebound, an array is unchanged
                g = g + mu * buf if self.nesterov else buf
            p.data -= lr * g


class Adam(Optimizer):
    """Adam with bias correction; ``weight_decay`` is added to the gradient (L2), as
    torch.optim.Adam does (not AdamW).

    Per parameter at step t: ``g = grad + weight_decay * p``, ``m += (1 - b1) * (g - m)``,
    ``v = b2 * v + (1 - b2) * g * g``, and
    ``p -= lr / (1 - b1**t) * m / (sqrt(v) / sqrt(1 - b2**t) + eps)``.

    >>> from autograd import Value
    >>> w = Value(1.0)
    >>> (w * w).backward()
    >>> opt = Adam([w], lr=0.1)
    >>> opt.step()
    >>> round(w.data, 6)
    0.9
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, "Adam")
        self.lr = _check("Adam", "lr", lr, 0.0)
        if len(betas) != 2:
            raise ValueError(f"Adam: betas must be a pair, got {betas!r}")
        self.betas = (
            _check("Adam", "beta1", betas[0], 0.0, 1.0),
            _check("Adam", "beta2", betas[1], 0.0, 1.0),
        )
        self.eps = _check("Adam", "eps", eps, 0.0)
        self.weight_decay = _check("Adam", "weight_decay", weight_decay, 0.0)
        n = len(self.params)
        self.steps = [0] * n  # per parameter, as PyTorch counts (a skipped param does not step)
        self.m: list = [0.0] * n
        self.v: list = [0.0] * n

    def step(self) -> None:
        """Apply one update from the current gradients."""
        lr, eps, wd = self.lr, self.eps, self.weight_decay
        b1, b2 = self.betas
        for i, p in enumerate(self.params):
            g = p.grad
            if g is None:
                continue
            if wd:
                g = g + wd * p.data
            t = self.steps[i] = self.steps[i] + 1
            if t == 1 and isinstance(g, np.ndarray):
                self.m[i], self.v[i] = np.zeros_like(g), np.zeros_like(g)  # updated in place
            # m moves towards g (torch's lerp_), v is the running mean of g squared.
            m, v = self.m[i], self.v[i]
            m += (1.0 - b1) * (g - m)
            v *= b2
            v += (1.0 - b2) * g * g
            self.m[i], self.v[i] = m, v  # floats were rebound; arrays are the same objects
            step_size = lr / (1.0 - b1**t)
            denom = v**0.5 / (1.0 - b2**t) ** 0.5 + eps
            p.data -= step_size * m / denom
