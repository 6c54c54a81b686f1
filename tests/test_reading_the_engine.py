"""The engine as a learner meets it: source for every op and for the pass, a debugger that
steps into real lines, nothing compiled from strings, generated code a traceback can show,
and chain-rule text that reads (API.md, "Reading the engine")."""

from __future__ import annotations

import ast
import inspect
import linecache
import subprocess
import sys
import traceback
from pathlib import Path

import numpy as np
import pytest

from autograd import Tensor, TraceError, Value, primitive, trace
from autograd.ops import ELEMENTWISE_OPS

AUTOGRAD = Path(__file__).resolve().parent.parent / "autograd"


@pytest.mark.parametrize(
    "method",
    ["__add__", "__radd__", "__mul__", "__rmul__", "__truediv__", "__pow__", "__neg__", "tanh",
     "exp", "relu", "backward", "backward_steps", "zero_grad"],
)  # fmt: skip
def test_every_method_has_source_in_a_py_file_of_the_package(method):
    for kind in (Value, Tensor):
        fn = getattr(kind, method)
        source = inspect.getsource(fn)
        assert source.lstrip().startswith("def ")
        assert Path(inspect.getsourcefile(fn)).parent == AUTOGRAD


@pytest.mark.parametrize("row", list(ELEMENTWISE_OPS), ids=lambda r: r.name)
def test_every_rule_shows_its_forward_and_local_derivatives_side_by_side(row):
    source = inspect.getsource(row.rule)
    (fn,) = ast.parse(source).body
    assert isinstance(fn.body[0], ast.Assign) and fn.body[0].targets[0].id == "out"
    returned = fn.body[-1].value
    assert isinstance(returned, ast.Tuple) and len(returned.elts[1].elts) == row.arity


def _frames_entered(fn) -> list:
    """The (file, function, line text) of every Python frame that ``fn()`` enters, as a
    debugger stepping in would show them."""
    seen = []

    def tracer(frame, event, arg):
        if event == "call":
            code = frame.f_code
            text = linecache.getline(code.co_filename, frame.f_lineno)
            seen.append((code.co_filename, code.co_name, text))
        return None

    sys.settrace(tracer)
    try:
        fn()
    finally:
        sys.settrace(None)
    return seen


@pytest.mark.parametrize(
    "what, rule",
    [
        (lambda a, b: a * b, "mul"),
        (lambda a, b: a + 2.0, "add"),
        (lambda a, b: a.tanh(), "tanh"),
        (lambda a, b: (a * b).backward(), None),
    ],
)
def test_stepping_into_an_op_or_backward_shows_real_lines_down_to_the_rule(what, rule):
    a, b = Value(2.0, "a"), Value(-3.0, "b")
    frames = _frames_entered(lambda: what(a, b))
    ours = [f for f in frames if str(AUTOGRAD) in f[0]]
    assert ours, "no frame of the engine was entered"
    for filename, name, text in ours:
        assert text.strip(), f"{name} in {filename} has no source line"
        assert filename.endswith(".py")
    if rule is not None:
        assert (str(AUTOGRAD / "ops.py"), rule) in [(f, n) for f, n, _ in ours]


def test_pdb_steps_into_a_product_and_shows_the_rule(tmp_path):
    script = tmp_path / "product.py"
    script.write_text("from autograd import Value\na = Value(2.0)\nb = Value(3.0)\nc = a * b\n")
    # to `c = a * b`, then step: into the method, line by line, into the rule
    commands = "next\nnext\nnext\n" + "step\n" * 12 + "quit\n"
    done = subprocess.run(
        [sys.executable, "-m", "pdb", str(script)],
        input=commands,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=AUTOGRAD.parent,
    )
    out = done.stdout
    assert "autograd/value.py" in out and "def method(self: Value, other: Any)" in out, out
    assert "autograd/ops.py" in out and "-> out = a * b" in out, out
    assert "[EOF]" not in out, out


def test_nothing_in_the_engine_is_compiled_from_strings():
    allowed = {"codegen.py"}  # a program's generated code: compiled once, linecache-registered
    for path in sorted(AUTOGRAD.rglob("*.py")):
        if path.name in allowed:
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in ("exec", "eval", "compile"), (path, node.lineno)


# --- traces: generated code a traceback shows; names that never shadow ---------------------


def test_a_traceback_inside_a_replay_shows_the_generated_line():
    prog = trace(lambda x: (x * 2.0).log(), 1.0)
    with pytest.raises(ValueError, match=r"log: input must be > 0") as info:
        prog(-1.0)
    frames = traceback.extract_tb(info.value.__traceback__)
    generated = [f for f in frames if f.filename.startswith("<tracegrad program")]
    assert generated, [f.filename for f in frames]
    assert "log(" in generated[-1].line
    assert "forward" in generated[-1].filename


def test_a_failed_guard_s_traceback_shows_the_guard():
    prog = trace(lambda x: x * 2.0 if x > 0 else -x, 1.0)
    with pytest.raises(TraceError) as info:
        prog(-1.0)
    generated = [
        f for f in traceback.extract_tb(info.value.__traceback__)
        if f.filename.startswith("<tracegrad program")
    ]  # fmt: skip
    assert generated and "x > 0.0" in generated[-1].line


def test_a_label_equal_to_a_primitive_s_name_does_not_shadow_it():
    sq = primitive("sq", lambda x: x * x, lambda x, out: 2 * x)

    def f(x):
        y = sq(x)
        y.label = "sq"
        z = y * x
        z.label = "sq_d"
        return z + sq(z)

    prog = trace(f, 1.5)
    x = Value(1.5)
    out = f(x)
    out.backward()
    assert prog.value_and_grad(1.5) == (out.data, (x.grad,))


def test_a_label_equal_to_a_helper_s_name_does_not_shadow_it():
    def f(x):
        y = x.tanh()
        y.label = "tanh"
        z = y.relu() * x
        z.label = "step"
        return z.sqrt()

    prog = trace(f, 0.7)
    x = Value(0.7)
    out = f(x)
    out.backward()
    assert prog.value_and_grad(0.7) == (out.data, (x.grad,))


# --- chain-rule text ---------------------------------------------------------------------


def test_a_label_that_is_not_a_plain_name_is_bracketed():
    a, b = Value(3.0, "a"), Value(2.0, "b")
    c = a * b
    c.label = "a*b"
    L = c + a
    L.label = "L"
    text = "\n".join(str(step) for step in L.backward_steps())
    assert "dL/d(a*b) += dL/dL * ∂L/∂(a*b) = 1.0 * 1.0 = 1.0" in text
    assert "dL/da += dL/d(a*b) * ∂(a*b)/∂a = 1.0 * 2.0 = 2.0" in text


def test_plain_names_with_digits_and_dots_are_not_bracketed():
    w = Value(0.5, "w0.2")
    x = Value(2.0, "x1")
    y = w * x
    y.label = "y"
    text = "\n".join(str(step) for step in y.backward_steps())
    assert "dy/dw0.2 += dy/dy * ∂y/∂w0.2" in text and "dy/dx1 +=" in text


# --- a regression: PyTorch's hessian-vector recipe on Tensors ------------------------------


def test_the_hessian_vector_recipe_accumulates_into_x_grad():
    # PyTorch's test_hessian_vector: z = x**2 + y*x + y**2, backward with create_graph, then
    # (2 * x.grad + y.grad).backward() adds the Hessian-vector product to the grads.
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 2)), rng.normal(size=(2, 2))
    x, y = Tensor(a, "x"), Tensor(b, "y")
    z = x**2 + y * x + y**2
    z.backward(np.ones((2, 2)), create_graph=True)
    np.testing.assert_allclose(x.grad.data, 2 * a + b, rtol=1e-12)
    np.testing.assert_allclose(y.grad.data, a + 2 * b, rtol=1e-12)
    (2 * x.grad + y.grad).backward(np.ones((2, 2)))
    np.testing.assert_allclose(x.grad.data, 2 * a + b + 5, rtol=1e-12)
    np.testing.assert_allclose(y.grad.data, a + 2 * b + 4, rtol=1e-12)


def test_the_hessian_vector_recipe_on_values():
    x, y = Value(0.3, "x"), Value(-1.2, "y")
    z = x**2 + y * x + y**2
    z.backward(create_graph=True)
    (2 * x.grad + y.grad).backward()
    assert x.grad.data == pytest.approx(2 * 0.3 - 1.2 + 5)
    assert y.grad.data == pytest.approx(0.3 - 2.4 + 4)


# --- each speed device is held equal to the plain path it shortens --------------------------


def _random_graph(seed: int) -> Value:
    rng = np.random.default_rng(seed)
    leaves = [Value(float(x), f"x{i}") for i, x in enumerate(rng.uniform(0.5, 1.5, 4))]
    nodes = list(leaves)
    for _ in range(40):
        a, b = (nodes[i] for i in rng.integers(0, len(nodes), 2))
        choice = rng.integers(0, 5)
        nodes.append([a * b, a + b, (a - b).tanh(), a * 0.5 + 2.0, (a * a).sqrt()][choice])
    return nodes[-1] + nodes[-7] * nodes[-13]


@pytest.mark.parametrize("seed", range(5))
def test_the_search_reads_the_slots_as_operand_nodes_would(seed):
    from autograd.engine import joint_order, operand_nodes

    root = _random_graph(seed)
    as_function = joint_order([root], parents=lambda node: operand_nodes(node))
    assert joint_order([root]) == as_function


@pytest.mark.parametrize("seed", range(5))
def test_value_s_methods_build_the_node_the_general_path_builds(seed):
    from autograd.engine import apply

    rng = np.random.default_rng(seed)
    a, b = Value(float(rng.uniform(0.5, 2)), "a"), Value(float(rng.uniform(0.5, 2)), "b")
    for row in ELEMENTWISE_OPS:
        operands = (a, b) if row.arity == 2 else (a,)
        fast = getattr(a, row.methods[0])(*operands[1:])
        general = apply(row, operands)
        assert (fast.data, fast.op, fast.parents, fast.local_grads, fast.scope) == (
            general.data, general.op, general.parents, general.local_grads, general.scope
        )  # fmt: skip
        reflected = getattr(b, row.methods[1])(2.0) if row.arity == 2 else None
        if reflected is not None:
            general = apply(row, (2.0, b))
            assert (reflected.data, reflected.local_grads) == (general.data, general.local_grads)


def test_value_s_gradient_addition_is_node_s():
    from autograd.engine import Node, gradients

    one, two = _random_graph(7), _random_graph(7)
    totals_one, totals_two = gradients(one, 1.0), gradients(two, 1.0)
    Value._add_grads(totals_one)
    Node._add_grads(totals_two)
    assert [n.grad for n in totals_one] == [n.grad for n in totals_two]
