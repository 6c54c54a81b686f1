"""explain(root, wrt): the gradient as the sum over paths of the products of local gradients."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given

from autograd import Explanation, Tensor, Value, explain
from autograd.testing import strategies


def _diamonds(k: int) -> tuple[Value, Value]:
    """x through k diamonds: each splits into two branches (*2 and *3) that meet in a +."""
    x = Value(0.5, label="x")
    y = x
    for _ in range(k):
        y = y * 2.0 + y * 3.0
    return x, y


@given(strategies.expressions())
def test_the_total_equals_the_backward_pass_on_random_expressions(expr):
    f, inputs = expr
    xs = [Value(v, label=f"x{i}") for i, v in enumerate(inputs)]
    out = f(*xs)
    explained = [explain(out, x, max_paths=10**6) for x in xs]
    assert all(x.grad == 0.0 for x in xs)  # explain needs no backward pass and runs none
    out.backward()
    for x, e in zip(xs, explained):
        products = [p for _, _, p in e.paths]
        # the reverse pass adds at every node, explain adds whole paths: equal up to rounding
        assert abs(e.total - x.grad) <= 1e-9 * (1.0 + sum(abs(p) for p in products))
        assert e.total == pytest.approx(sum(products), rel=1e-12, abs=1e-300)


@given(strategies.expressions())
def test_every_path_runs_from_wrt_to_root_along_edges(expr):
    f, inputs = expr
    xs = [Value(v) for v in inputs]
    out = f(*xs)
    e = explain(out, xs[0], max_paths=10**6)
    for nodes, locals_, product in e.paths:
        assert nodes[0] is xs[0] and nodes[-1] is out and len(locals_) == len(nodes) - 1
        for a, b, local in zip(nodes, nodes[1:], locals_):
            # local is the gradient stored on one of the edges a -> b
            assert any(p is a and g == local for p, g in zip(b.parents, b.local_grads))
        expected = 1.0
        for local in reversed(locals_):
            expected *= local
        assert product == expected


@pytest.mark.parametrize("k", [1, 2, 3, 6, 9])
def test_k_diamonds_have_two_to_the_k_paths(k):
    x, y = _diamonds(k)
    e = explain(y, x)
    assert len(e.paths) == 2**k
    y.backward()
    assert e.total == pytest.approx(x.grad) and x.grad == pytest.approx(5.0**k)
    assert len({tuple(map(id, nodes)) for nodes, _, _ in e.paths}) == 2**k  # all distinct


def test_too_many_paths_are_refused_at_once_with_their_number():
    x, y = _diamonds(40)  # 2**40 paths: listing them would never end
    with pytest.raises(ValueError, match=r"1,099,511,627,776 paths.*max_paths=1000.*max_paths="):
        explain(y, x)
    x, y = _diamonds(10)
    with pytest.raises(ValueError, match=r"1,024 paths.*pass max_paths=1024"):
        explain(y, x)
    assert len(explain(y, x, max_paths=1024).paths) == 1024


def test_an_operand_used_twice_gives_a_path_per_edge():
    a = Value(3.0, label="a")
    b = a * a
    b.label = "b"
    e = explain(b, a)
    assert [(len(nodes), locals_) for nodes, locals_, _ in e.paths] == [(2, [3.0]), (2, [3.0])]
    assert e.total == 6.0


def test_unreached_and_root_itself():
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    c = a * 2
    e = explain(c, b)
    assert e.paths == [] and e.total == 0.0
    assert "0 paths" in str(e)
    e = explain(c, c)
    assert e.total == 1.0 and e.paths == [([c], [], 1.0)]


def test_str_writes_one_line_per_path_with_labels():
    x1, w1 = Value(2.0, label="x1"), Value(-3.0, label="w1")
    b = Value(0.5, label="b")
    n = x1 * w1 + b * x1
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    e = explain(o, x1)
    lines = str(e).splitlines()
    assert lines[0].startswith("do/dx1 = ") and "2 paths" in lines[0]
    assert len(lines) == 3
    assert all(line.strip().startswith("x1 -> ") and line.count(" -> ") == 3 for line in lines[1:])
    assert "∂o/∂n" in lines[1] and repr(e) == "Explanation(total=-0.000453958, paths=2)"
    assert isinstance(e, Explanation) and len(e) == 2


def test_tensor_graphs_explain_to_the_backward_gradient():
    x = Tensor(np.array([1.0, -2.0, 0.5]), label="x")
    w = Tensor(np.array([0.3, 0.2, -0.1]), label="w")
    y = ((x * w).tanh() + x * 2.0).sum()
    e = explain(y, x)
    assert len(e.paths) == 2
    y.backward()
    np.testing.assert_allclose(e.total, x.grad, rtol=1e-12)


def test_bad_arguments_are_named():
    a = Value(1.0)
    with pytest.raises(TypeError, match="explain: wrt must be a Value or Tensor, got float"):
        explain(a * 2, 1.0)
    with pytest.raises(ValueError, match="max_paths must be a positive int"):
        explain(a * 2, a, max_paths=0)


def test_paths_match_a_brute_force_listing_on_a_mixed_dag():
    a = Value(1.5, label="a")
    b = a * a + a
    c = b * a + b.exp()
    d = c * b - a

    def routes(node):  # every route from a up to node, walking parents (small graphs only)
        if node is a:
            return [[a]]
        return [r + [node] for p in node.parents for r in routes(p)]

    expected = sorted(tuple(map(id, r)) for r in routes(d))
    assert sorted(tuple(map(id, nodes)) for nodes, _, _ in explain(d, a).paths) == expected


def test_a_zero_is_never_printed_with_a_sign():
    # x = 0 makes ∂(x*w)/∂w zero, and the negative factors after it would make the product
    # and the total -0.0; a local derivative can itself be -0.0 (v = -0.0 times w)
    x, v, w = Value(0.0, label="x"), Value(-0.0, label="v"), Value(-3.0, label="w")
    y = x * w
    y.label = "y"
    z = v * w
    z.label = "z"
    L = y * -2.0 + z
    L.label = "L"
    e = explain(L, w)
    assert any(str(local) == "-0.0" for _, locals_, _ in e.paths for local in locals_)
    assert any(str(product) == "-0.0" for _, _, product in e.paths)
    text = str(e) + repr(e)
    assert "-0.0" not in text and "-0" not in text.replace("-2.0", "")
    assert "dL/dw = 0.0" in text
