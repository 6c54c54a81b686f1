"""Higher-order gradients against PyTorch's double backward, on random expressions.

The drawn expressions use only arithmetic and the methods exp() log() tanh() ..., which
PyTorch tensors have too, so the very same expression runs on both engines.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograd import Value, grad, hessian
from autograd.testing.strategies import expressions

pytestmark = pytest.mark.oracle

# The torch fixture is a module set to float64: the same for every example.
ORACLE = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def assert_close(ours, theirs, scale):
    # Both engines compute in float64 but round differently (their rules are written
    # differently, e.g. d(a/b)/db as -out/b or -a/b**2): agreement to 1e-9 relative to the
    # size of the derivatives, far below any error in a derivative rule.
    tolerance = 1e-9 * (1.0 + scale)
    assert abs(ours - theirs) <= tolerance, (ours, theirs, tolerance)


def leaves(torch, inputs):
    return [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in inputs]


def with_exp_log_pow(torch, xs):
    """The leaves as a tensor subclass whose ``a ** b`` between tensors is exp(b log a).

    PyTorch's own pow gradient is masked to 0 where the exponent is 0 (``where(exponent ==
    0, 0, exponent * a ** (exponent - 1))``), which also kills that gradient's derivative
    in the exponent: it gives d2(a**b)/da db = 0 at b = 0 (the truth is 1/a) and a wrong
    third derivative of x**x at x = 1 (2, not 3). Our values shrink to 1.0 and hit those
    points, so the oracle takes a ** b through exp and log (the strategy keeps a >= 0.25
    there); tests/test_higher_order.py checks those points against closed forms.
    """

    class ExpLogPow(torch.Tensor):
        def __pow__(self, other):
            if isinstance(other, torch.Tensor):
                return (other * self.log()).exp()
            return super().__pow__(other)

    return [x.as_subclass(ExpLogPow) for x in xs]


def torch_grads(torch, out, xs, create_graph):
    # retain_graph: the Hessian differentiates several gradients of one graph.
    grads = torch.autograd.grad(
        out, xs, create_graph=create_graph, retain_graph=True, allow_unused=True
    )
    return [torch.zeros((), dtype=torch.float64) if g is None else g for g in grads]


def number(t) -> float:
    return float(t.detach()) if hasattr(t, "detach") else float(t)


@ORACLE
@given(expressions())
def test_hessian_matches_pytorch(torch, expr):
    f, inputs = expr
    H = hessian(f)(*inputs)
    xs = leaves(torch, inputs)
    firsts = torch_grads(torch, f(*with_exp_log_pow(torch, xs)), xs, True)
    want = []
    for g in firsts:
        row = torch_grads(torch, g, xs, create_graph=False) if g.requires_grad else None
        want.append([0.0] * len(xs) if row is None else [number(r) for r in row])
    scale = max(abs(h) for row in want for h in row)
    for i in range(len(xs)):
        for j in range(len(xs)):
            assert_close(H[i][j], want[i][j], scale)


@ORACLE
@given(expressions(), st.lists(st.floats(-2, 2), min_size=4, max_size=4))
def test_create_graph_double_backward_matches_pytorch(torch, expr, weights):
    # d/dx of a weighted sum of the first derivatives: a Hessian-vector product, through
    # backward(create_graph=True) then a plain backward of the gradients' graph.
    f, inputs = expr
    n = len(inputs)
    ours = [Value(x) for x in inputs]
    f(*ours).backward(create_graph=True)
    first = [x.grad for x in ours]  # a Value, or 0.0 where f does not reach x
    mixed = sum((w * g for w, g in zip(weights, first)), Value(0.0))
    for x in ours:
        x.grad = 0.0
    mixed.backward()

    xs = leaves(torch, inputs)
    theirs = torch_grads(torch, f(*with_exp_log_pow(torch, xs)), xs, True)
    for a, b in zip(first, theirs):
        assert_close(getattr(a, "data", a), number(b), abs(number(b)))
    total = sum(w * g for w, g in zip(weights, theirs))
    want = torch_grads(torch, total, xs, False) if total.requires_grad else [0.0] * n
    scale = max(abs(number(v)) for v in want)
    for x, v in zip(ours, want):
        assert_close(x.grad, number(v), scale)


@ORACLE
@given(expressions(max_leaves=2), st.integers(0, 1))
def test_third_derivative_matches_pytorch(torch, expr, k):
    f, inputs = expr
    k = k % len(inputs)
    # grad passes the other arguments as plain numbers; f wants Values for all of them.
    along_k = lambda v: f(*(v if i == k else Value(x) for i, x in enumerate(inputs)))
    ours = grad(grad(grad(along_k)))(inputs[k])

    xs = leaves(torch, inputs)
    g = f(*with_exp_log_pow(torch, xs))
    for order in range(3):
        if not g.requires_grad:  # a derivative that is a constant: the rest are 0
            g = torch.zeros(())
            break
        g = torch_grads(torch, g, xs, create_graph=order < 2)[k]
    assert_close(ours, number(g), abs(number(g)))
