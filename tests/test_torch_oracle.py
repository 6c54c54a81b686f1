"""Random expressions over every op, evaluated in tracegrad and in PyTorch float64: the values
and all leaf gradients must agree to 1e-9 relative.

An expression is drawn as a small program (leaves, then ops whose operands are any earlier
node, so subexpressions are shared) and run by one interpreter on both engines side by side.
Where an operand would leave an op's domain the interpreter feeds it `u*u + 1` instead, and a
result larger than 100 in magnitude is scaled back to 10 by a constant factor; both decisions
are taken on the tracegrad value and applied identically to both engines, so the expression
stays the same on each side.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograd import Value

pytestmark = pytest.mark.oracle

UNARY = ["neg", "exp", "log", "tanh", "sigmoid", "relu", "sqrt", "sin", "cos", "abs"]
BINARY = ["+", "-", "*", "/", "**"]
POWERS = [-2, -1, 0.5, 1.5, 2, 3, 2.5]
CONSTANTS = [2.0, -1.5, 0.5, 3.0]
POSITIVE_CONSTANTS = [0.5, 2.0, 3.0]  # bases for number ** Value


@st.composite
def programs(draw):
    """(leaf values, ops): each op refers to earlier nodes by index."""
    n_leaves = draw(st.integers(1, 4))
    leaves = draw(
        st.lists(
            st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False),
            min_size=n_leaves,
            max_size=n_leaves,
        )
    )
    ops = []
    for k in range(draw(st.integers(1, 12))):
        node = st.integers(0, n_leaves + k - 1)
        kind = draw(st.sampled_from(["unary", "binary", "const_left", "const_right", "pow"]))
        if kind == "unary":
            ops.append(("unary", draw(st.sampled_from(UNARY)), draw(node)))
        elif kind == "binary":
            ops.append(("binary", draw(st.sampled_from(BINARY)), draw(node), draw(node)))
        elif kind == "const_left":
            name = draw(st.sampled_from(BINARY))
            pool = POSITIVE_CONSTANTS if name == "**" else CONSTANTS
            ops.append(("const_left", name, draw(st.sampled_from(pool)), draw(node)))
        elif kind == "const_right":
            name = draw(st.sampled_from(["+", "-", "*", "/"]))
            ops.append(("const_right", name, draw(node), draw(st.sampled_from(CONSTANTS))))
        else:
            ops.append(("pow", draw(node), draw(st.sampled_from(POWERS))))
    return leaves, ops


class Pair:
    """One node in both engines, plus its formula for error messages."""

    def __init__(self, tg: Value, th, text: str):
        self.tg, self.th, self.text = tg, th, text

    @property
    def x(self) -> float:
        return self.tg.data


def softened(u: Pair) -> Pair:
    """u*u + 1: positive and at least 1, used where u would leave an op's domain."""
    return Pair(u.tg * u.tg + 1.0, u.th * u.th + 1.0, f"({u.text}^2 + 1)")


def apply_binary(torch, name: str, a, b):
    if name == "+":
        return a + b
    if name == "-":
        return a - b
    if name == "*":
        return a * b
    if name == "/":
        return a / b
    return a**b


def apply_unary(torch, name: str, u: Pair) -> Pair:
    if name in ("log", "sqrt") and u.x <= 0.01:
        u = softened(u)
    tg = u.tg
    if name == "neg":
        return Pair(-tg, -u.th, f"-({u.text})")
    t_fn = {
        "exp": torch.exp,
        "log": torch.log,
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
        "relu": torch.relu,
        "sqrt": torch.sqrt,
        "sin": torch.sin,
        "cos": torch.cos,
        "abs": torch.abs,
    }[name]
    return Pair(getattr(tg, name)(), t_fn(u.th), f"{name}({u.text})")


def run(torch, leaves: list[float], ops: list[tuple]):
    leaf_tg = [Value(x, label=f"x{i}") for i, x in enumerate(leaves)]
    leaf_th = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in leaves]
    nodes = [Pair(v, t, v.label) for v, t in zip(leaf_tg, leaf_th, strict=True)]
    for op in ops:
        kind = op[0]
        if kind == "unary":
            out = apply_unary(torch, op[1], nodes[op[2]])
        elif kind == "binary":
            name, a, b = op[1], nodes[op[2]], nodes[op[3]]
            if name == "/" and abs(b.x) <= 0.1:
                b = softened(b)
            if name == "**" and a.x <= 0.01:  # a Value exponent needs a base > 0
                a = softened(a)
            out = Pair(
                apply_binary(torch, name, a.tg, b.tg),
                apply_binary(torch, name, a.th, b.th),
                f"({a.text} {name} {b.text})",
            )
        elif kind == "const_left":
            name, c, b = op[1], op[2], nodes[op[3]]
            if name == "/" and abs(b.x) <= 0.1:
                b = softened(b)
            out = Pair(
                apply_binary(torch, name, c, b.tg),
                apply_binary(torch, name, c, b.th),
                f"({c} {name} {b.text})",
            )
        elif kind == "const_right":
            name, a, c = op[1], nodes[op[2]], op[3]
            out = Pair(
                apply_binary(torch, name, a.tg, c),
                apply_binary(torch, name, a.th, c),
                f"({a.text} {name} {c})",
            )
        else:
            a, p = nodes[op[1]], op[2]
            if (p != int(p) and a.x <= 0.01) or (p < 0 and abs(a.x) < 0.1):
                a = softened(a)
            out = Pair(a.tg**p, a.th**p, f"({a.text} ** {p})")
        if abs(out.x) > 100.0:  # keep magnitudes moderate so that exp and ** cannot overflow
            scale = 10.0 / abs(out.x)
            out = Pair(out.tg * scale, out.th * scale, f"({out.text} * {scale!r})")
        nodes.append(out)
    return nodes[-1], leaf_tg, leaf_th


def agree(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def check(torch, leaves, ops):
    root, leaf_tg, leaf_th = run(torch, leaves, ops)
    where = f"{root.text} at {leaves}"
    assert math.isfinite(root.x), where
    assert agree(root.x, root.th.item()), (where, root.x, root.th.item())
    root.tg.backward()
    root.th.backward()
    for v, t in zip(leaf_tg, leaf_th, strict=True):
        want = 0.0 if t.grad is None else t.grad.item()
        assert agree(v.grad, want), (where, v.label, v.grad, want)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(program=programs())
def test_random_expressions_agree_with_torch(torch, program):
    leaves, ops = program
    check(torch, leaves, ops)


def test_shared_subexpressions_agree_with_torch(torch):
    # y = x0 * x1 is used three times, z = exp(y) twice; x0 feeds a pow with a Value exponent.
    leaves = [0.7, -1.3]
    ops = [
        ("binary", "*", 0, 1),  # 2: y
        ("unary", "exp", 2),  # 3: z
        ("binary", "+", 2, 3),  # 4: y + z
        ("binary", "*", 4, 2),  # 5: (y + z) * y
        ("binary", "**", 0, 3),  # 6: x0 ** z
        ("binary", "-", 5, 6),  # 7
        ("binary", "/", 7, 3),  # 8
        ("binary", "+", 8, 8),  # 9: a + a
    ]
    check(torch, leaves, ops)


def test_pow_with_value_exponents_agrees_with_torch(torch):
    # a ** b, b ** a, a ** a and a number ** Value, all with positive bases.
    leaves = [1.7, 0.6]
    ops = [
        ("binary", "**", 0, 1),  # 2
        ("binary", "**", 1, 0),  # 3
        ("binary", "**", 0, 0),  # 4
        ("const_left", "**", 2.0, 2),  # 5
        ("binary", "*", 3, 4),  # 6
        ("binary", "+", 5, 6),  # 7
    ]
    check(torch, leaves, ops)


def test_kinks_follow_pytorch_conventions(torch):
    # relu and abs at exactly 0 have derivative 0 in both engines.
    leaves = [0.0, 2.0]
    ops = [
        ("unary", "relu", 0),  # 2
        ("unary", "abs", 0),  # 3
        ("binary", "+", 2, 3),  # 4
        ("binary", "*", 4, 1),  # 5
        ("binary", "+", 5, 0),  # 6
    ]
    check(torch, leaves, ops)
