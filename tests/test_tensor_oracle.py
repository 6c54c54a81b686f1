"""Tensor against PyTorch float64: values and gradients of every op to 1e-9, on hypothesis-drawn
shapes (broadcasting pairs, matmul stacks, any axes), indexing with repeated indices, ties of
max (torch.amax splits them evenly), softmax at +-1000, second derivatives (create_graph)
and the losses nn builds from Tensor ops.

Each comparison reduces the op's output with the same fixed random weights on both sides,
``sum(w * op(x))``, so every output element's gradient is compared.
"""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograd import Tensor

pytestmark = pytest.mark.oracle

TOL = dict(rtol=1e-9, atol=1e-9)
# The torch fixture is the module, the same for every example: nothing to reset between them.
fixture_ok = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


def compare(torch, ours, theirs, *arrays):
    """Values and gradients of ours(Tensors) and theirs(torch tensors) on the same arrays."""
    mine = [Tensor(a) for a in arrays]
    out = ours(*mine)
    w = np.random.default_rng(3).uniform(0.5, 1.5, size=out.shape)
    (out * w).sum().backward()
    ref = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    ref_out = theirs(*ref)
    (ref_out * torch.from_numpy(w)).sum().backward()
    np.testing.assert_allclose(out.data, ref_out.detach().numpy(), **TOL)
    for k, (m, r) in enumerate(zip(mine, ref)):
        expected = np.zeros(m.shape) if r.grad is None else r.grad.numpy()
        np.testing.assert_allclose(m.grad, expected, **TOL, err_msg=f"input {k}")


def floats(shape, lo=-3.0, hi=3.0):
    return hnp.arrays(np.float64, shape, elements=st.floats(lo, hi))


shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
nonempty = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)
pairs = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3)


@fixture_ok
@given(st.data(), pairs)
def test_elementwise_binary_ops_with_broadcasting(torch, data, pair):
    sa, sb = pair.input_shapes
    a = data.draw(floats(sa))
    b = data.draw(floats(sb, 0.5, 3.0))  # a positive operand: a valid divisor and base
    compare(torch, lambda x, y: x + y, lambda x, y: x + y, a, b)
    compare(torch, lambda x, y: x - y, lambda x, y: x - y, a, b)
    compare(torch, lambda x, y: x * y, lambda x, y: x * y, a, b)
    compare(torch, lambda x, y: x / y, lambda x, y: x / y, a, b)
    compare(torch, lambda x, y: y**x, lambda x, y: y**x, a, b)


@fixture_ok
@given(st.data(), shapes)
def test_unary_ops(torch, data, shape):
    x = data.draw(floats(shape))
    pos = np.abs(x) + 0.1
    F = torch.nn.functional
    compare(torch, lambda t: -t, lambda t: -t, x)
    compare(torch, lambda t: t.exp(), torch.exp, x)
    compare(torch, lambda t: t.log(), torch.log, pos)
    compare(torch, lambda t: t.sqrt(), torch.sqrt, pos)
    compare(torch, lambda t: t.tanh(), torch.tanh, x)
    compare(torch, lambda t: t.sigmoid(), torch.sigmoid, x * 100)  # saturated tails too
    compare(torch, lambda t: t.relu(), torch.relu, x)
    compare(torch, lambda t: t.abs(), torch.abs, x)
    compare(torch, lambda t: t.sin(), torch.sin, x)
    compare(torch, lambda t: t.cos(), torch.cos, x)
    compare(torch, lambda t: t.softplus(), F.softplus, x)
    compare(torch, lambda t: t.clip(-1.0, 0.5), lambda t: t.clamp(-1.0, 0.5), x)
    compare(torch, lambda t: t**2, lambda t: t**2, x)
    compare(torch, lambda t: t**3, lambda t: t**3, x)
    compare(torch, lambda t: t**-1.5, lambda t: t**-1.5, pos)


def test_kinks_follow_pytorch(torch):
    x = np.array([-1.0, 0.0, 0.0, 1.0, 0.5])
    compare(torch, lambda t: t.relu(), torch.relu, x)
    compare(torch, lambda t: t.abs(), torch.abs, x)
    compare(torch, lambda t: t.clip(0.0, 0.5), lambda t: t.clamp(0.0, 0.5), x)
    compare(torch, lambda t: t**0.0, lambda t: t**0.0, x)
    compare(torch, lambda t: t**2, lambda t: t**2, x)


@st.composite
def matmul_operands(draw):
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    batch = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=2))
    ba, bb = batch.input_shapes
    a_shape = draw(st.sampled_from([ba + (n, k)] + ([(k,)] if not ba else [])))
    b_shape = draw(st.sampled_from([bb + (k, m)] + ([(k,)] if not bb else [])))
    return draw(floats(a_shape)), draw(floats(b_shape))


@fixture_ok
@given(matmul_operands())
def test_matmul(torch, operands):
    compare(torch, lambda x, y: x @ y, lambda x, y: x @ y, *operands)


@st.composite
def reductions(draw):
    shape = draw(nonempty)
    nd = len(shape)
    axis = draw(
        st.one_of(
            st.none(),
            st.integers(-nd, nd - 1),
            st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True).map(tuple),
        )
    )
    # small integers: max has ties often, which torch.amax splits evenly
    x = draw(hnp.arrays(np.float64, shape, elements=st.integers(-2, 2).map(float)))
    return x, axis, draw(st.booleans())


def _dims(axis, nd):
    return tuple(range(nd)) if axis is None else axis


@fixture_ok
@given(reductions())
def test_sum_mean_max_over_any_axes_ties_included(torch, case):
    x, axis, keepdims = case
    dims = _dims(axis, x.ndim)
    compare(
        torch,
        lambda t: t.sum(axis=axis, keepdims=keepdims),
        lambda t: t.sum(dim=dims, keepdim=keepdims),
        x,
    )
    compare(
        torch,
        lambda t: t.mean(axis=axis, keepdims=keepdims),
        lambda t: t.mean(dim=dims, keepdim=keepdims),
        x,
    )
    compare(
        torch,
        lambda t: t.max(axis=axis, keepdims=keepdims),
        lambda t: t.amax(dim=dims, keepdim=keepdims),
        x,
    )


@fixture_ok
@given(st.data(), nonempty)
def test_reshape_and_transpose(torch, data, shape):
    x = data.draw(floats(shape))
    perm = tuple(data.draw(st.permutations(range(len(shape)))))
    compare(torch, lambda t: t.reshape(-1, 1), lambda t: t.reshape(-1, 1), x)
    compare(torch, lambda t: t.transpose(*perm), lambda t: t.permute(*perm), x)
    reverse = tuple(reversed(range(len(shape))))
    compare(torch, lambda t: t.T, lambda t: t.permute(*reverse), x)


@fixture_ok
@given(st.data(), nonempty)
def test_softmax_and_log_softmax(torch, data, shape):
    x = data.draw(floats(shape, -1000.0, 1000.0))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    compare(torch, lambda t: t.log_softmax(axis), lambda t: t.log_softmax(dim=axis), x)
    compare(torch, lambda t: t.softmax(axis), lambda t: t.softmax(dim=axis), x)


def test_log_softmax_at_plus_minus_1000(torch):
    x = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0], [1000.0, 1000.0, 999.0]])
    compare(torch, lambda t: t.log_softmax(), lambda t: t.log_softmax(dim=-1), x)
    compare(torch, lambda t: t.softmax(axis=0), lambda t: t.softmax(dim=0), x)


@fixture_ok
@given(st.data(), nonempty)
def test_indexing_with_repeated_indices(torch, data, shape):
    n = shape[0]
    rows = data.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=6))
    x = data.draw(floats(shape))
    compare(torch, lambda t: t[rows], lambda t: t[torch.tensor(rows)], x)
    if len(shape) >= 2:
        m = shape[1]
        cols = data.draw(st.lists(st.integers(0, m - 1), min_size=len(rows), max_size=len(rows)))
        compare(
            torch,
            lambda t: t[np.array(rows), np.array(cols)],
            lambda t: t[torch.tensor(rows), torch.tensor(cols)],
            x,
        )


@pytest.mark.parametrize(
    "index",
    [
        (1,),
        (slice(None, None, -1), 0),
        (Ellipsis, [0, 0, 3]),
        (None, slice(1, 3)),
        ([[0, 2], [2, 2]],),
        (np.array([True, False, True]),),
    ],
)
def test_indexing_forms(torch, index):
    x = np.arange(12.0).reshape(3, 4) / 5

    def theirs(t):
        conv = tuple(torch.tensor(i) if isinstance(i, (list, np.ndarray)) else i for i in index)
        if conv[:1] == (slice(None, None, -1),):  # torch has no negative steps: flip
            return t.flip(0)[(slice(None),) + conv[1:]]
        return t[conv]

    compare(torch, lambda t: t[index], theirs, x)


# --- second derivatives -----------------------------------------------------------------------

SECOND = [
    lambda x: (x**3).sum(),
    lambda x: (x @ x.T).tanh().sum(),
    lambda x: x.log_softmax()[[0, 0, 1], [1, 1, 2]].sum(),
    lambda x: (x.softmax(axis=0) * x).sum(),
    lambda x: x.max(axis=1).sigmoid().sum() + (x * x).mean(),
    lambda x: ((x.reshape(3, 2) ** 2 + 1).sqrt() / (x.abs() + 1).sum()).exp().sum(),
]


@pytest.mark.parametrize("k", range(len(SECOND)))
def test_create_graph_second_derivatives(torch, k):
    f = SECOND[k]
    x0 = np.array([[0.3, -0.7, 1.1], [0.5, 0.2, -1.4]])
    v = np.array([[1.0, -0.5, 2.0], [0.3, 0.7, -1.0]])
    x = Tensor(x0)
    f(x).backward(create_graph=True)
    g = x.grad
    x.zero_grad()
    (g * v).sum().backward()

    def torch_f(t):  # the same expression on a torch tensor, through a thin adapter
        return f(_TorchTensor(t)).t

    xt = torch.tensor(x0, requires_grad=True)
    (gt,) = torch.autograd.grad(torch_f(xt), xt, create_graph=True)
    (ht,) = torch.autograd.grad((gt * torch.from_numpy(v)).sum(), xt)
    np.testing.assert_allclose(g.data, gt.detach().numpy(), **TOL)
    np.testing.assert_allclose(x.grad, ht.numpy(), **TOL)


class _TorchTensor:
    """Tensor's method names on a torch tensor, so one expression runs on both engines."""

    def __init__(self, t):
        self.t = t

    def _wrap(self, t):
        return _TorchTensor(t)

    def __add__(self, o):
        return self._wrap(self.t + _unwrap(o))

    __radd__ = __add__

    def __mul__(self, o):
        return self._wrap(self.t * _unwrap(o))

    __rmul__ = __mul__

    def __truediv__(self, o):
        return self._wrap(self.t / _unwrap(o))

    def __pow__(self, o):
        return self._wrap(self.t ** _unwrap(o))

    def __matmul__(self, o):
        return self._wrap(self.t @ _unwrap(o))

    def __getitem__(self, index):
        import torch

        return self._wrap(self.t[tuple(torch.tensor(i) for i in index)])

    @property
    def T(self):
        return self._wrap(self.t.T)

    def sum(self, axis=None):
        return self._wrap(self.t.sum() if axis is None else self.t.sum(dim=axis))

    def mean(self):
        return self._wrap(self.t.mean())

    def max(self, axis):
        return self._wrap(self.t.amax(dim=axis))

    def reshape(self, *shape):
        return self._wrap(self.t.reshape(*shape))

    def tanh(self):
        return self._wrap(self.t.tanh())

    def exp(self):
        return self._wrap(self.t.exp())

    def sqrt(self):
        return self._wrap(self.t.sqrt())

    def abs(self):
        return self._wrap(self.t.abs())

    def sigmoid(self):
        return self._wrap(self.t.sigmoid())

    def log_softmax(self, axis=-1):
        return self._wrap(self.t.log_softmax(dim=axis))

    def softmax(self, axis=-1):
        return self._wrap(self.t.softmax(dim=axis))


def _unwrap(o):
    return o.t if isinstance(o, _TorchTensor) else o


# --- the losses nn builds from Tensor ops, and an MLP ------------------------------------------


def test_losses_written_with_tensor_ops_match_torch(torch):
    F = torch.nn.functional
    rng = np.random.default_rng(5)
    z = rng.normal(size=(6, 1)) * 4
    z[0, 0] = 40.0  # saturates sigmoid: bce's clipping matters
    t01 = rng.integers(0, 2, size=(6, 1)).astype(float)
    tpm = 2 * t01 - 1
    logits = rng.normal(size=(6, 4)) * 3
    labels = rng.integers(0, 4, size=6)
    eps = 1e-7
    rows = np.arange(6)

    compare(torch, lambda p: ((p - t01) ** 2).mean(), lambda p: F.mse_loss(p, torch.tensor(t01)), z)

    def bce_ours(p):
        q = p.sigmoid().clip(eps, 1 - eps)
        return -(t01 * q.log() + (1 - t01) * (1 - q).log()).mean()

    def bce_torch(p):
        q = p.sigmoid().clamp(eps, 1 - eps)
        return F.binary_cross_entropy(q, torch.tensor(t01))

    compare(torch, bce_ours, bce_torch, z)
    compare(
        torch,
        lambda p: (p.softplus() - p * t01).mean(),
        lambda p: F.binary_cross_entropy_with_logits(p, torch.tensor(t01)),
        z,
    )
    compare(
        torch,
        lambda p: (1 - p * tpm).relu().mean(),
        lambda p: (1 - p * torch.tensor(tpm)).relu().mean(),
        z,
    )
    compare(
        torch,
        lambda p: -p.log_softmax()[rows, labels].mean(),
        lambda p: F.cross_entropy(p, torch.tensor(labels)),
        logits,
    )


def test_an_mlp_forward_and_backward_match_torch(torch):
    rng = np.random.default_rng(11)
    X = rng.normal(size=(16, 5))
    y = rng.integers(0, 3, size=16)
    params = [rng.normal(size=(5, 7)), rng.normal(size=7), rng.normal(size=(7, 3)), rng.normal(3)]
    rows = np.arange(16)

    def ours(W1, b1, W2, b2):
        return -((X @ W1 + b1).relu() @ W2 + b2).log_softmax()[rows, y].mean()

    def theirs(W1, b1, W2, b2):
        h = (torch.from_numpy(X) @ W1 + b1).relu()
        return torch.nn.functional.cross_entropy(h @ W2 + b2, torch.from_numpy(y))

    compare(torch, ours, theirs, *params)


def test_the_benchmark_s_pytorch_mlp_trains_as_the_tensor_one(torch):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "bench" / "bench_tensor.py"
    spec = importlib.util.spec_from_file_location("bench_tensor", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rng = np.random.default_rng(2)
    X = rng.normal(size=(150, 64))
    y = rng.integers(0, 10, size=150)
    params = bench.init_params()
    epochs = bench.batches(len(X))[:2]
    weights_tg, loss_tg = bench.train_tracegrad(X, y, params, epochs)
    weights_th, loss_th = bench.train_torch(X, y, params, epochs)
    for a, b in zip(weights_th, weights_tg):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    assert loss_th == pytest.approx(loss_tg, rel=1e-9)
