"""trace and Program: the listing, the generated code (what runs), float replays bit for bit
equal to the engine, batches, Tensor programs, guards, errors, hostile labels, pruning."""

from __future__ import annotations

import ast
import io
import math
import tokenize

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
from autograd import (
    Program,
    Tensor,
    TraceError,
    Value,
    detect_anomaly,
    no_grad,
    primitive,
    topological_order,
    trace,
)
from autograd.testing.strategies import expressions


def neuron(x1, x2, w1, w2, b):
    x1w1 = x1 * w1
    x1w1.label = "x1w1"
    x2w2 = x2 * w2
    x2w2.label = "x2w2"
    n = x1w1 + x2w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o


NEURON_AT = (2.0, 0.0, -3.0, 1.0, 6.8813735870195432)


def engine_grads(f, inputs):
    leaves = [Value(x) for x in inputs]
    out = f(*leaves)
    out.backward()
    return out.data, tuple(leaf.grad for leaf in leaves)


# --- the listing --------------------------------------------------------------------------


def test_the_listing_of_the_neuron_uses_its_labels():
    prog = trace(neuron, *NEURON_AT)
    assert isinstance(prog, Program)
    assert str(prog).splitlines() == [
        "program(x1, x2, w1, w2, b):",
        "    x1w1 = x1 * w1",
        "    x2w2 = x2 * w2",
        "    v1 = x1w1 + x2w2",
        "    n = v1 + b",
        "    o = tanh(n)",
        "    return o",
    ]
    assert prog.inputs == ("x1", "x2", "w1", "w2", "b")


def test_the_listing_names_captured_leaves_and_writes_constants_as_literals():
    w = Value(0.5, "w")
    prog = trace(lambda x: (x * w + 2.0) ** 3, 1.0)
    text = str(prog)
    assert text.splitlines()[0] == "program(x; captured w):"
    assert "v1 = x * w" in text and "v2 = v1 + 2.0" in text and "v3 = v2 ** 3.0" in text
    assert prog.captured == (w,)


def test_a_label_used_twice_a_keyword_or_a_reserved_name_is_not_used():
    def f(x):
        a = x * 2.0
        a.label = "same"
        b = a + 1.0
        b.label = "same"
        c = b * b
        c.label = "lambda"
        d = c.exp()
        d.label = "exp"
        return d

    text = str(trace(f, 1.0))
    assert "same" not in text and "lambda" not in text
    assert " exp = " not in text and "exp(" in text  # the function, not a label


# --- the generated code ------------------------------------------------------------------


def test_the_source_is_the_chain_rule_one_statement_per_edge():
    prog = trace(neuron, *NEURON_AT)
    src = prog.source
    tree = ast.parse(src)  # valid Python
    (fn,) = tree.body
    assert fn.name == "value_and_grad" and [a.arg for a in fn.args.args] == list(prog.inputs)
    lines = [line.strip() for line in src.splitlines()]
    assert "g_o = 1.0" in lines
    assert "g_n = g_o * (1.0 - o * o)" in lines  # tanh's local, from the op table's row
    assert "g_x1 = g_x1w1 * w1" in lines and "g_w1 = g_x1w1 * x1" in lines
    edges = [line for line in lines if line.startswith("g_") and line != "g_o = 1.0"]
    nodes = topological_order(neuron(*[Value(x) for x in NEURON_AT]))
    assert len(edges) == sum(len(n.parents) for n in nodes)  # one statement per edge


def test_the_source_runs_in_the_engine_s_order():
    # The reverse pass visits nodes as the engine's does: the same order of statements as
    # backward_steps() gives edges.
    prog = trace(neuron, *NEURON_AT)
    order = []
    leaves = [Value(x, name) for x, name in zip(NEURON_AT, prog.inputs)]
    out = neuron(*leaves)
    for step in out.backward_steps():
        for parent, _, _ in step.edges:
            order.append(parent.label)
    assigned = [
        line.split("=")[0].strip().removeprefix("g_").replace(" +", "")
        for line in prog.source.splitlines()
        if line.strip().startswith("g_") and "1.0\n" not in line
    ][1:]
    named = [name for name in order if name]
    assert [a for a in assigned if not a.startswith("v")] == named


def test_replays_are_what_the_source_says():
    prog = trace(neuron, *NEURON_AT)
    namespace: dict = {}
    from autograd.codegen import Generator

    generator = Generator(prog, "float", "value_and_grad", anomaly=False)
    assert generator.source() == prog.source
    exec(compile(prog.source, "<test>", "exec"), {**generator.namespace, **namespace}, namespace)
    assert namespace["value_and_grad"](*NEURON_AT) == prog.value_and_grad(*NEURON_AT)


@settings(max_examples=80, deadline=None)
@given(expressions(max_leaves=3, max_ops=12))
def test_float_replays_give_the_engine_s_numbers_to_the_last_bit(expr):
    f, inputs = expr
    prog = trace(f, *inputs)
    value, grads = prog.value_and_grad(*inputs)
    want_value, want_grads = engine_grads(f, inputs)
    assert value == want_value or (math.isnan(value) and math.isnan(want_value))
    assert grads == want_grads
    assert prog(*inputs) == want_value


@settings(max_examples=40, deadline=None)
@given(expressions(max_leaves=3, max_ops=10), st.floats(0.97, 1.03))
def test_float_replays_at_new_inputs_match_a_fresh_graph(expr, scale):
    f, inputs = expr
    prog = trace(f, *inputs)
    moved = [x * scale for x in inputs]
    try:
        want = engine_grads(f, moved)
    except (ValueError, ArithmeticError):  # the move left an op's domain
        return
    try:
        got = prog.value_and_grad(*moved)
    except TraceError:  # a guard (relu, abs) that the move flipped
        return
    assert got == want


# --- batches -----------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(expressions(max_leaves=3, max_ops=10), st.integers(1, 6), st.data())
def test_batched_replays_agree_with_n_float_replays(expr, n, data):
    f, inputs = expr
    prog = trace(f, *inputs)
    # each input a batch of n nearby values, or left a plain number
    batch = [
        np.array([x * (1 + 0.01 * k) for k in range(n)]) if data.draw(st.booleans()) else x
        for x in inputs
    ]
    if not any(isinstance(b, np.ndarray) for b in batch):
        batch[0] = np.full(n, inputs[0])
    try:
        singles = [
            prog.value_and_grad(*[b[k] if isinstance(b, np.ndarray) else b for b in batch])
            for k in range(n)
        ]
        values, grads = prog.value_and_grad(*batch)
    except TraceError:  # a kink's guard flipped inside the batch: both refuse alike
        return
    assert values.shape == (n,)
    np.testing.assert_allclose(values, [v for v, _ in singles], rtol=1e-12, atol=1e-300)
    # numpy's tanh, exp, sin... may round one ulp away from math's. A local gradient such as
    # 1 - tanh(x)**2 near saturation cancels, so that ulp can be a large part of a small
    # gradient: beyond 1e-12 relative, it is held within 1e-12 of the quantities' scale
    # (the strategies keep every value within 11 and every gradient within 100).
    for i in range(len(inputs)):
        assert grads[i].shape == (n,)  # per sample, also for an input given as a number
        np.testing.assert_allclose(grads[i], [g[i] for _, g in singles], rtol=1e-12, atol=1e-12)


def test_a_batched_backward_sums_the_samples_into_captured_leaves():
    w, b = Value(0.5, "w"), Value(-0.2, "b")
    prog = trace(lambda x, y: ((x * w + b).tanh() - y) ** 2, 0.3, 1.0)
    xs, ys = np.array([0.1, -0.4, 2.0]), np.array([1.0, 0.0, -1.0])
    values = prog.backward(xs, ys)
    batched = (w.grad, b.grad)
    w.grad = b.grad = 0.0
    total = 0.0
    for x, y in zip(xs, ys):
        loss = ((x * w + b).tanh() - y) ** 2
        loss.backward()
        total += loss.data
    assert values.sum() == pytest.approx(total, rel=1e-12)
    assert batched == pytest.approx((w.grad, b.grad), rel=1e-12)


def test_a_batch_of_unequal_lengths_is_refused():
    prog = trace(lambda x, y: x * y, 1.0, 2.0)
    with pytest.raises(ValueError, match="every batched argument has one length"):
        prog(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="1-d"):
        prog(np.ones((2, 2)), 1.0)


# --- backward into captured leaves -------------------------------------------------------


@pytest.mark.parametrize("engine", ["value", "tensor"])
def test_backward_accumulates_as_backward_on_a_fresh_graph_after_optimizer_steps(engine):
    X, y = nn.datasets.xor()
    model = nn.MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid", seed=0,
                   engine=engine)  # fmt: skip
    data = X.tolist() if engine == "value" else X

    def loss():
        out = [model(x) for x in data] if engine == "value" else model(data)
        return nn.losses.bce(out, y)

    step = trace(loss)
    opt = nn.SGD(model.parameters(), lr=0.5, momentum=0.9)
    for _ in range(5):  # the program reads the parameters afresh at each replay
        opt.zero_grad()
        traced = step.backward()
        traced_grads = [np.array(p.grad, dtype=float) for p in model.parameters()]
        opt.zero_grad()
        fresh = loss()
        fresh.backward()
        assert float(traced) == float(fresh.data)
        for got, p in zip(traced_grads, model.parameters()):
            assert np.array_equal(got, np.asarray(p.grad))  # bit for bit
        opt.step()


def test_backward_accumulates_into_grads_already_held():
    w = Value(2.0, "w")
    prog = trace(lambda x: x * w * w, 3.0)
    prog.backward(3.0)
    prog.backward(3.0)
    assert w.grad == 24.0  # twice 2 * x * w


# --- guards ------------------------------------------------------------------------------


def test_a_comparison_is_a_guard_that_a_replay_must_satisfy():
    def f(x, y):
        return x * y if x < y else x - y

    prog = trace(f, 1.0, 2.0)
    assert "guard x < y" in str(prog)
    assert prog(3.0, 4.0) == 12.0
    with pytest.raises(TraceError) as info:
        prog(5.0, 4.0)
    message = str(info.value)
    assert "x < y" in message and "5.0" in message and "4.0" in message
    assert "trace again" in message
    assert isinstance(info.value, ValueError)


def test_a_guard_on_a_batch_holds_for_every_sample():
    prog = trace(lambda x: x * 2.0 if x > 0 else -x, 1.0)
    np.testing.assert_array_equal(prog(np.array([1.0, 2.0])), [2.0, 4.0])
    with pytest.raises(TraceError):
        prog(np.array([1.0, -2.0]))


def test_a_guard_traced_false_is_checked_too():
    prog = trace(lambda x: -x if x > 0 else x * 3.0, -1.0)
    assert "guard not x > 0.0" in str(prog)
    assert prog(-2.0) == -6.0
    with pytest.raises(TraceError):
        prog(2.0)


def test_reading_data_in_python_cannot_be_seen():
    # As in JAX: only the branch taken while tracing is known, without a guard.
    prog = trace(lambda x: x * 2.0 if x.data > 0 else -x, 1.0)
    assert "guard" not in str(prog)
    assert prog(-1.0) == -2.0


# --- no_grad inside f ----------------------------------------------------------------------


def test_ops_under_no_grad_are_replayed_without_gradient():
    def f(x):
        with no_grad():
            s = x * 3.0
        return x * s

    prog = trace(f, 2.0)
    assert "no gradient" in str(prog)
    assert prog.value_and_grad(5.0) == (75.0, (15.0,))  # d/dx of x * (3x held constant)


# --- errors at replay ------------------------------------------------------------------------


def test_the_wrong_number_of_arguments_is_a_type_error():
    prog = trace(lambda x, y: x * y, 1.0, 2.0)
    with pytest.raises(TypeError, match="takes 2 argument"):
        prog(1.0)


def test_an_argument_of_the_wrong_kind_or_shape_is_a_value_error_naming_it():
    prog = trace(lambda v: (v * v).sum(), np.ones(3))
    with pytest.raises(ValueError, match=r"v: expected an array of the traced shape \(3,\)"):
        prog(np.ones(4))
    with pytest.raises(ValueError, match="v: expected a float array"):
        prog("abc")
    scalar = trace(lambda x: x * 2.0, 1.0)
    with pytest.raises(ValueError, match="x: expected a number"):
        scalar("abc")


def test_a_domain_error_on_floats_is_the_engine_s_own():
    prog = trace(lambda x: x.log(), 2.0)
    with pytest.raises(ValueError) as got:
        prog(-1.0)
    with pytest.raises(ValueError) as want:
        Value(-1.0).log()
    assert str(got.value) == str(want.value) == "log: input must be > 0, at log(-1.0)"
    with pytest.raises(ZeroDivisionError, match=r"^/: division by zero, at 1.0 / 0.0$"):
        trace(lambda x, y: x / y, 1.0, 2.0)(1.0, 0.0)


def test_a_domain_error_on_arrays_is_numpy_s_unless_detect_anomaly():
    prog = trace(lambda x: x.log(), 2.0)
    with pytest.warns(RuntimeWarning):
        out = prog(np.array([-1.0, 1.0]))
    assert math.isnan(out[0]) and out[1] == 0.0
    with detect_anomaly(), pytest.raises(FloatingPointError, match="^log: "):
        with np.errstate(invalid="ignore"):
            prog(np.array([-1.0, 1.0]))


def test_detect_anomaly_in_a_float_replay_names_the_op():
    prog = trace(lambda x, y: x - y, 1.0, 2.0)
    assert math.isnan(prog(math.inf, math.inf))
    with detect_anomaly(), pytest.raises(FloatingPointError, match=r"^-: result is nan"):
        prog(math.inf, math.inf)


def test_f_must_return_a_node_and_gradients_need_one_element():
    with pytest.raises(TypeError, match="must return a Value or a Tensor"):
        trace(lambda x: 3.0, 1.0)
    prog = trace(lambda v: v * 2.0, np.ones(2))
    np.testing.assert_array_equal(prog(np.array([1.0, 2.0])), [2.0, 4.0])
    with pytest.raises(ValueError, match="one-element"):
        prog.value_and_grad(np.ones(2))


# --- only identifiers and numbers reach the code ------------------------------------------------

HOSTILE = ['"; __import__("os").system("echo pwned") #', "a\nb", "x'y", "__import__", "1x", "é"]


def _strings_and_names(src: str) -> tuple[list[str], set[str]]:
    strings, names = [], set()
    for tok in tokenize.generate_tokens(io.StringIO(src).readline):
        if tok.type == tokenize.STRING:
            strings.append(tok.string)
        elif tok.type == tokenize.NAME:
            names.add(tok.string)
    return strings, names


@pytest.mark.parametrize("label", HOSTILE)
def test_hostile_labels_and_primitive_names_never_reach_the_code(label):
    evil = primitive(label, lambda x: 2.0 * x, lambda x, out: 2.0)

    def f(x):
        y = evil(x) * x
        y.label = label
        z = y + 1.0
        z.label = label + "2"
        if z > 0:
            z = z * 1.5
        return z

    w = Value(0.5, label)
    prog = trace(lambda x: f(x) * w, 1.0)
    for src in (str(prog), prog.source, prog.backward_source):
        assert label not in src
        assert "__import__" not in src and "system" not in src and "pwned" not in src
        strings, names = _strings_and_names(src)
        for s in strings:  # only the guards' texts: names and a comparison
            assert all(part.isidentifier() or part in "<>=" or _is_number(part)
                       for part in ast.literal_eval(s).split())  # fmt: skip
        assert all(name.isascii() for name in names)
    assert prog.value_and_grad(2.0)[0] == pytest.approx((2.0 * 2.0 * 2.0 + 1.0) * 1.5 * 0.5)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# --- pruning: no gradient nothing asked for -----------------------------------------------------


def test_backward_computes_no_gradient_toward_a_data_batch():
    W = Tensor(np.ones((3, 2)), "W")
    prog = trace(lambda X: (X @ W).tanh().sum(), np.ones((4, 3)))
    assert "@ W.T" not in prog.backward_source  # no X-gradient matmul
    assert "X.T @" in prog.backward_source  # W's
    assert "@ W.T" in prog.source  # value_and_grad wants d/dX
    assert "X.T @" not in prog.source  # ... and not W's


def test_value_and_grad_prunes_the_captured_side():
    w = Value(0.5, "w")
    prog = trace(lambda x: (w * w).exp() * x, 2.0)
    statements = [line for line in prog.source.splitlines() if line.strip().startswith("g_")]
    assert not any("g_w" in line for line in statements)
    assert len(statements) == 2  # the seed and the one edge into x


# --- Tensor programs -------------------------------------------------------------------------


def _tensor_model_loss(model, X, labels):
    return nn.losses.cross_entropy(model(X), labels)


def test_a_tensor_program_replays_new_arrays_and_labels_bit_for_bit():
    rng = np.random.default_rng(0)
    model = nn.MLP(4, [6, 3], activation="relu", seed=0, engine="tensor")
    X, labels = rng.normal(size=(8, 4)), rng.integers(0, 3, size=8)
    prog = trace(lambda X, labels: _tensor_model_loss(model, X, labels), X, labels)
    for _ in range(3):
        X, labels = rng.normal(size=(8, 4)), rng.integers(0, 3, size=8)
        model.zero_grad()
        value = prog.backward(X, labels)
        traced = [p.grad.copy() for p in model.parameters()]
        model.zero_grad()
        fresh = _tensor_model_loss(model, X, labels)
        fresh.backward()
        assert float(value) == float(fresh.data)
        assert all(np.array_equal(a, p.grad) for a, p in zip(traced, model.parameters()))


def test_a_tensor_program_with_a_primitive_reductions_indexing_and_softmax():
    softplus = primitive(
        "np_softplus", lambda x: np.logaddexp(0.0, x), lambda x, out: 1 / (1 + np.exp(-x))
    )

    def f(a, b):
        s = softplus(a * b).softmax(axis=0)
        return s[[0, 2, 2]].sum() + a.max(axis=1).mean() + (a.T @ b).log_softmax().sum()

    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    prog = trace(f, a, b)
    for _ in range(3):
        a, b = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
        ta, tb = Tensor(a), Tensor(b)
        out = f(ta, tb)
        out.backward()
        value, (ga, gb) = prog.value_and_grad(a, b)
        assert float(value) == float(out.data)
        assert np.array_equal(ga, ta.grad) and np.array_equal(gb, tb.grad)


def test_an_argument_f_transformed_is_baked_and_said_so():
    # k, an int array, reaches f as it is; f reads it in Python: the program baked k's sum.
    prog = trace(lambda x, k: x * float(k.sum()), 2.0, np.array([1, 2]))
    assert prog(4.0, np.array([1, 2])) == 12.0
    with pytest.raises(ValueError, match="k: the program took this argument's traced value"):
        prog(4.0, np.array([1, 5]))
