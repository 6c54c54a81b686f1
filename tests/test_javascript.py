"""Program.javascript run by Node: the same value and gradients as the Python replay, within
1e-12 relative, on random programs (hypothesis' expressions, some of whose leaves are
captured) and on small models' one-sample losses; guards and domain errors throw; the text
is made of names and numbers only; a Tensor program is refused."""

from __future__ import annotations

import ast
import json
import math
import shutil
import subprocess

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nn
from autograd import Tensor, Value, trace
from autograd.javascript import expression
from autograd.testing.strategies import expressions

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js is not installed here")

# Runs each case's valueAndGrad; non-finite numbers travel as strings (JSON has none), a
# thrown Error as its message.
DRIVER = r"""
const special = {Infinity: Infinity, "-Infinity": -Infinity, NaN: NaN};
const revive = (k, v) => (typeof v === "string" && v in special ? special[v] : v);
const cases = JSON.parse(require("fs").readFileSync(0, "utf8"), revive);
const num = (x) => (Number.isFinite(x) ? x : x === null ? null : String(x));
const out = cases.map(([args, leaves]) => {
  try {
    const r = valueAndGrad(args, leaves);
    return {value: num(r.value), grads: r.grads.map(num), leafGrads: r.leafGrads.map(num)};
  } catch (e) {
    return {error: String(e.message)};
  }
});
process.stdout.write(JSON.stringify(out));
"""


def encode(x):
    if isinstance(x, (list, tuple)):
        return [encode(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return {math.inf: "Infinity", -math.inf: "-Infinity"}.get(x, "NaN")
    return x


def run_js(source: str, cases: list[tuple[list, list]]) -> list[dict]:
    done = subprocess.run(
        [NODE, "-e", source + DRIVER],
        input=json.dumps(encode(cases)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def close(js, py) -> bool:
    if py is None:
        return js is None
    if isinstance(js, str):  # a non-finite number
        return str(float(py)) == {"Infinity": "inf", "-Infinity": "-inf", "NaN": "nan"}[js]
    return math.isclose(js, py, rel_tol=1e-12, abs_tol=1e-300)


def python_results(prog, args) -> dict:
    """The Python replay's value and input gradients, and the captured leaves' gradients
    as prog.backward accumulates them (from zero)."""
    value, grads = prog.value_and_grad(*args)
    for leaf in prog.captured:
        leaf.grad = 0.0
    again = prog.backward(*args)
    assert again == value or (again != again and value != value)
    return {"value": value, "grads": list(grads), "leafGrads": [p.grad for p in prog.captured]}


def assert_same(js: dict, py: dict) -> None:
    assert "error" not in js, js["error"]
    assert close(js["value"], py["value"]), (js["value"], py["value"])
    assert len(js["grads"]) == len(py["grads"])
    for a, b in zip(js["grads"], py["grads"]):
        assert close(a, b), (js["grads"], py["grads"])
    assert len(js["leafGrads"]) == len(py["leafGrads"])
    for a, b in zip(js["leafGrads"], py["leafGrads"]):
        assert close(a, b), (js["leafGrads"], py["leafGrads"])


@given(expressions(max_leaves=4, max_ops=14), st.integers(0, 4), st.data())
def test_random_programs_give_the_python_replay_s_numbers(expr, n_captured, data):
    f, inputs = expr
    n_captured = min(n_captured, len(inputs))
    # the last n_captured leaves are captured (a model's parameters), the others inputs
    captured = [Value(x) for x in inputs[len(inputs) - n_captured :]]
    n_args = len(inputs) - n_captured

    def g(*xs):
        return f(*xs, *captured)

    prog = trace(g, *inputs[:n_args]) if n_args else trace(lambda: f(*captured))
    source = prog.javascript
    leaves = prog.captured  # in the program's order (a leaf f never reached is not there)
    # at the traced numbers, and at a nearby point (the same branches, by the strategy's margins)
    scale = data.draw(st.floats(0.999, 1.001))
    cases = [(list(inputs[:n_args]), [c.data for c in leaves])]
    cases.append(([x * scale for x in inputs[:n_args]], [c.data * scale for c in leaves]))
    results = run_js(source, cases)
    for (args, values), js in zip(cases, results):
        for c, v in zip(leaves, values):
            c.data = v
        try:
            py = python_results(prog, args)
        except (ValueError, ArithmeticError) as error:  # both refuse the nearby point
            assert "error" in js, error
            continue
        assert_same(js, py)


def mlp_loss(loss, activation, output_activation, y):
    model = nn.MLP(2, [4, 3, 1], activation=activation, output_activation=output_activation,
                   seed=3)  # fmt: skip

    def one_sample(x0, x1):
        return loss([model([x0, x1])], [y])

    return model, one_sample


@pytest.mark.parametrize(
    ("loss", "activation", "output", "y"),
    [
        (nn.losses.hinge, "tanh", None, -1.0),
        (nn.losses.hinge, "relu", None, 1.0),
        (nn.losses.bce, "sigmoid", "sigmoid", 1.0),
        (nn.losses.bce, "tanh", "sigmoid", 0.0),
        (nn.losses.mse, "tanh", None, 0.5),
        (nn.losses.bce_with_logits, "relu", None, 1.0),
    ],
)
def test_an_mlp_s_one_sample_loss_gives_the_captured_leaves_gradients(loss, activation, output, y):
    model, one_sample = mlp_loss(loss, activation, output, y)
    rng = np.random.default_rng(0)
    points = rng.uniform(-1.5, 1.5, size=(8, 2))
    prog = trace(one_sample, *points[0])
    params = list(prog.captured)  # the program's order of the model's parameters
    assert set(params) == set(model.parameters())
    cases = [(list(p), [w.data for w in params]) for p in points]
    results = run_js(prog.javascript, cases)
    for (args, _), js in zip(cases, results):
        try:
            py = python_results(prog, args)
        except ValueError as error:  # a guard that comes out the other way (bce_with_logits)
            assert "error" in js and "guard" in js["error"], error
            continue
        assert_same(js, py)
        # and the captured leaves' gradients are what a fresh graph gives
        model.zero_grad()
        fresh = one_sample(*args)
        fresh.backward()
        assert all(close(g, w.grad) for g, w in zip(js["leafGrads"], params))


def test_a_guard_that_comes_out_the_other_way_throws_an_error_naming_it():
    def f(x, y):
        d = x - y
        d.label = "d"
        return d * d if d > 0 else -d

    prog = trace(f, 2.0, 1.0)
    (ok, other) = run_js(prog.javascript, [([3.0, 1.0], []), ([1.0, 3.0], [])])
    assert_same(ok, python_results(prog, [3.0, 1.0]))
    assert other["error"].startswith("guard 0: d > 0.0 was true when the program was traced")
    assert "-2 vs 0" in other["error"] and "trace again" in other["error"]


def test_a_domain_error_throws_as_the_engine_words_it():
    prog = trace(lambda x: (x - 1.0).log(), 3.0)
    (ok, bad) = run_js(prog.javascript, [([2.0], []), ([0.5], [])])
    assert_same(ok, python_results(prog, [2.0]))
    assert bad["error"] == "log: input must be > 0, at log(-0.5)"
    with pytest.raises(ValueError, match=r"log: input must be > 0, at log\(-0.5\)"):
        prog(0.5)


def test_every_op_and_non_finite_data_agree():
    def f(x, y):
        z = (x * y + x / y - y**2.0 + x**y).tanh() + x.exp().log() + y.sqrt()
        return z.sigmoid() + (-x).relu() + z.sin() * z.cos() + (x - y).abs()

    prog = trace(f, 1.5, 0.7)
    cases = [([1.5, 0.7], []), ([0.3, 2.5], []), ([math.inf, 0.7], []), ([2.0, math.nan], [])]
    results = run_js(prog.javascript, cases)
    for (args, _), js in zip(cases, results):
        assert_same(js, python_results(prog, args))


def test_the_code_is_names_and_numbers_and_js_reserved_names_are_renamed():
    def f(x):
        a = x * 2.0
        a.label = "this"  # a Python identifier that JavaScript reserves
        b = a + 1e300
        b.label = 'quote"); alert(1); //'  # not an identifier: never reaches the code
        c = b * x
        c.label = "Math"
        return c.tanh()

    prog = trace(f, 0.5)
    src = prog.javascript
    assert "alert" not in src and "quote" not in src
    body = src.split("function valueAndGrad")[1]
    assert "const this" not in body and "const Math" not in body
    assert "1e+300" in body
    (js,) = run_js(src, [([0.25], [])])
    assert_same(js, python_results(prog, [0.25]))


def test_a_tensor_program_is_refused():
    prog = trace(lambda t: (t * t).sum(), np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match="javascript is for programs traced with number arguments"):
        _ = prog.javascript
    assert isinstance(prog._root_node, Tensor)


def test_the_translator_reads_rule_expressions():
    def js(code, **names):
        return expression(ast.parse(code, mode="eval").body, names)

    assert js("a - (b - c)", a="p", b="q", c="r") == "p - (q - r)"
    assert js("(a - b) - c", a="p", b="q", c="r") == "p - q - r"
    assert js("1.0 if x > 0 else (-1.0 if x < 0 else 0.0)", x="v") == (
        "v > 0 ? 1.0 : v < 0 ? -1.0 : 0.0"
    )
    assert js("b * a ** (b - 1)", a="u", b="-2.0") == "-2.0 * power(u, -2.0 - 1)"
    assert js("F.tanh(x)", x="v") == "tanh(v)"
    with pytest.raises(ValueError, match="not supported"):
        js("open(x)", x="v")
    with pytest.raises(ValueError, match="not an operand"):
        js("y + 1", x="v")
