"""viz.lab's recording: it trains as nn.fit's own steps do (same losses and weights within
1e-12, both engines, SGD with momentum and Adam, batches drawn as fit draws them), and what it
records for the traced sample is what a fresh graph gives; the page's inspector (the
program's JavaScript, run by Node) gives the same values, gradients and local gradients."""

from __future__ import annotations

import json
import math
import shutil
import subprocess

import numpy as np
import pytest

import nn
import viz
from autograd import Value, topological_order

NODE = shutil.which("node")


def close(a, b, rel=1e-12):
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-300)


def moons(n=20):
    X, y = nn.datasets.moons(n, noise=0.1, seed=0)
    return X, y


class BatchLosses:
    def __init__(self):
        self.losses = []

    def on_batch_end(self, batch, logs):
        self.losses.append(logs["loss"])


OPTIMIZERS = {
    "sgd": lambda ps: nn.SGD(ps, lr=0.1),
    "momentum": lambda ps: nn.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    "adam": lambda ps: nn.Adam(ps, lr=0.02, weight_decay=1e-3),
}


@pytest.mark.parametrize("engine", ["value", "tensor"])
@pytest.mark.parametrize("opt", sorted(OPTIMIZERS))
@pytest.mark.parametrize(("loss", "labels"), [("hinge", "signs"), ("binary_crossentropy", "01")])
def test_the_lab_trains_as_fit_s_own_steps(engine, opt, loss, labels):
    X, y = moons(20)
    if labels == "signs":
        y = 2 * y - 1
    output = "sigmoid" if labels == "01" else None

    def model():
        return nn.MLP(2, [4, 1], output_activation=output, seed=2, engine=engine)

    ours, theirs = model(), model()
    batch_size, epochs = 7, 3  # 3 batches an epoch, the last of 6 rows
    steps = epochs * 3
    lab = viz.lab(ours, X, y, loss=loss, optimizer=OPTIMIZERS[opt](ours.parameters()),
                  steps=steps, batch_size=batch_size, sample=3, seed=5)  # fmt: skip
    recorder = BatchLosses()
    optimizer = OPTIMIZERS[opt](theirs.parameters())
    nn.fit(theirs, X, y, loss=loss, optimizer=optimizer, epochs=epochs, batch_size=batch_size,
           seed=5, verbose=0, callbacks=[recorder])  # fmt: skip
    assert len(lab.history["loss"]) == steps == len(recorder.losses)
    assert all(close(a, b) for a, b in zip(lab.history["loss"], recorder.losses))
    for p, q in zip(ours.parameters(), theirs.parameters()):
        assert np.allclose(p.data, q.data, rtol=1e-12, atol=0)
    # the records chain: each step starts where the last one ended
    for a, b in zip(lab.records, lab.records[1:]):
        assert a["after"] == b["before"]


def test_the_whole_set_is_one_batch_by_default_and_the_records_are_a_fresh_graph_s():
    X, y = nn.datasets.xor()
    model = nn.MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid", seed=0)
    start = [p.data for p in model.parameters()]
    lab = viz.lab(model, X, y, loss=nn.losses.bce, optimizer=nn.SGD(model.parameters(), lr=0.5),
                  steps=4, sample=2)  # fmt: skip
    assert [sorted(b) for b in lab.batches] == [[0, 1, 2, 3]] * 4
    # step 0's record is the sample's graph at the initial weights
    fresh = nn.MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid", seed=0)
    assert [p.data for p in fresh.parameters()] == start
    xs = [Value(float(v), f"x{j}") for j, v in enumerate(X[2])]
    root = nn.losses.bce([fresh(xs)], [Value(float(y[2]), "y")])
    texts = [str(s) for s in root.backward_steps()]
    nodes = topological_order(root)
    record = lab.records[0]
    assert record["values"] == [n.data for n in nodes]
    assert record["grads"] == [n.grad for n in nodes]
    assert record["texts"] == texts
    assert lab.history["loss"][0] == record["loss"]


def test_nn_s_losses_replay_a_traced_step_and_a_loss_of_one_s_own_runs_the_plain_loop(
    monkeypatch,
):
    """On the value engine a step with one of nn's losses runs as a traced program (what
    makes a 100-step moons lab quick); any other callable may read .data and branch where
    no trace sees it, so it runs the plain loop. Both give fit's losses and weights."""
    import importlib

    lab_module = importlib.import_module("viz.lab")  # the module (viz.lab is the function)

    calls = []
    replay = lab_module._ReplayedStep.__call__

    def counted(self, rows, targets):
        calls.append(len(rows))
        return replay(self, rows, targets)

    monkeypatch.setattr(lab_module._ReplayedStep, "__call__", counted)

    def own_loss(preds, targets):  # branches on .data: a trace would not see it
        terms = [(p - t) * (p - t) if p.data > t else (p - t) * (t - p) * -2.0
                 for p, t in zip(preds, targets)]  # fmt: skip
        return sum(terms[1:], terms[0]) * (1.0 / len(terms))

    X, y = moons(12)
    for loss, replayed in (("mse", True), (own_loss, False)):
        calls.clear()
        ours = nn.MLP(2, [3, 1], seed=1)
        theirs = nn.MLP(2, [3, 1], seed=1)
        lab = viz.lab(ours, X, y, loss=loss, optimizer=nn.SGD(ours.parameters(), lr=0.1),
                      steps=6, batch_size=5, seed=2)  # fmt: skip
        recorder = BatchLosses()
        nn.fit(theirs, X, y, loss=loss, optimizer=nn.SGD(theirs.parameters(), lr=0.1),
               epochs=2, batch_size=5, seed=2, verbose=0, callbacks=[recorder])  # fmt: skip
        assert calls == ([5, 5, 2] * 2 if replayed else [])
        assert all(close(a, b) for a, b in zip(lab.history["loss"], recorder.losses))
        for p, q in zip(ours.parameters(), theirs.parameters()):
            assert close(p.data, q.data)


def test_a_loss_name_is_nn_s_and_a_callable_is_taken_as_it_is():
    X, y = nn.datasets.xor()
    model = nn.MLP(2, [2, 1], seed=0)
    lab = viz.lab(model, X, 2 * y - 1, loss=nn.losses.hinge,
                  optimizer=nn.SGD(model.parameters(), lr=0.1), steps=1)  # fmt: skip
    assert lab.loss_name == "hinge"
    with pytest.raises(ValueError, match="unknown loss"):
        viz.lab(model, X, y, loss="nope", optimizer=nn.SGD(model.parameters(), lr=0.1), steps=1)


def test_too_large_a_graph_is_refused_as_draw_refuses_it():
    X, y = moons(10)
    model = nn.MLP(2, [16, 16, 1], seed=0)
    with pytest.raises(ValueError, match="max_nodes=500"):
        viz.lab(model, X, 2 * y - 1, loss="hinge", optimizer=nn.SGD(model.parameters(), lr=0.1),
                steps=1)  # fmt: skip
    lab = viz.lab(model, X, 2 * y - 1, loss="hinge",
                  optimizer=nn.SGD(model.parameters(), lr=0.1), steps=1, collapse=2)  # fmt: skip
    assert len(lab.nodes) > 500


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed here")
@pytest.mark.parametrize("engine", ["value", "tensor"])
def test_the_page_s_inspector_gives_the_recorded_values_gradients_and_locals(engine):
    X, y = moons(12)
    model = nn.MLP(2, [3, 2, 1], activation="tanh", output_activation="sigmoid", seed=4,
                   engine=engine)  # fmt: skip
    lab = viz.lab(model, X, y, loss="binary_crossentropy",
                  optimizer=nn.Adam(model.parameters(), lr=0.05), steps=5, sample=4)  # fmt: skip
    cases = [[[*X[4].tolist(), float(y[4])], r["before"]] for r in lab.records]
    script = (
        lab.program.javascript
        + lab.inspect_js
        + (
            "const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
            "process.stdout.write(JSON.stringify(cases.map(([a, l]) => inspectProgram(a, l))));"
        )
    )
    done = subprocess.run([NODE, "-e", script], input=json.dumps(cases), capture_output=True,
                          text=True, timeout=60, check=True)  # fmt: skip
    results = json.loads(done.stdout)
    locals_at_step = []
    for record, js in zip(lab.records, results):
        for name, value, grad, v, g in zip(
            lab.names, record["values"], record["grads"], js["values"], js["grads"]
        ):
            if name is not None:
                assert close(v, value) and close(g, grad), (name, v, value, g, grad)
        locals_at_step.append(js["locals"])
    # the locals, edge by edge, are the op's own derivative at the recorded values
    from autograd.ops import ELEMENTWISE_OPS

    xs = [Value(float(v), f"x{j}") for j, v in enumerate(X[4])]
    shape = nn.MLP(2, [3, 2, 1], activation="tanh", output_activation="sigmoid", seed=4)
    nodes = topological_order(nn.losses.bce([shape(xs)], [Value(float(y[4]), "y")]))
    for record, locals_ in zip(lab.records, locals_at_step):
        values = record["values"]
        assert len(lab.edge_of_local) == len(locals_)
        for (i, k), local in zip(lab.edge_of_local, locals_):
            node = nodes[i]
            operands = [values[nodes.index(p)] for p in node.parents]
            expected = ELEMENTWISE_OPS[node.op].rule(*operands)[1][k]  # the op's own rule
            assert close(local, expected), (node.op, k, local, expected)


def test_the_still_is_a_png_of_the_traced_graph_at_most_1600_px_wide(dot_program):
    # what an untrusted notebook or a code host shows (run_notebooks keeps only it)
    X, y = nn.datasets.xor()
    model = nn.MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid", seed=0)
    lab = viz.lab(model, X, y, loss="binary_crossentropy",
                  optimizer=nn.SGD(model.parameters(), lr=0.5), steps=3)  # fmt: skip
    png = lab._repr_png_()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert 400 < width <= 1600 and height > 100
    assert lab._repr_png_() is png  # drawn once
    assert 'class="tg-lab"' in lab._repr_html_()  # the mark run_notebooks looks for


def test_a_collapsed_page_names_each_box_as_draw_drew_it(dot_program):
    # the page outlines, and lists on click, the box of a node by its drawn name (s0, s1,
    # ...): that name must be the box of that node's scope in the SVG draw made
    import re

    from viz._lab_page import _graph

    X, y = moons(10)
    model = nn.MLP(2, [12, 12, 1], seed=1)  # neuron10, neuron11: scope order is not first-seen
    lab = viz.lab(model, X, 2 * y - 1, loss="hinge",
                  optimizer=nn.SGD(model.parameters(), lr=0.1), steps=1, collapse=2)  # fmt: skip
    svg, item_of, folds = _graph(lab)
    drawn = {
        name: re.findall(r">([^<>]+)</text>", body)[0]
        for name, body in re.findall(r'class="node">\s*<title>(s\d+)</title>(.*?)</g>', svg, re.S)
    }
    assert len(folds) == 12 + 12 + 1 + 1  # every neuron's box and the loss's
    for name, f in folds.items():
        assert drawn[name] == f["scope"], (name, drawn[name], f["scope"])
        for i in f["members"]:
            assert "/".join(lab.nodes[i].scope).startswith(f["scope"])
            assert item_of[i] == name


def test_the_lab_leaves_the_garbage_collector_alone(dot_program, monkeypatch):
    import gc

    switched = []
    monkeypatch.setattr(gc, "disable", lambda: switched.append(True))
    X, y = nn.datasets.xor()
    model = nn.MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid", seed=0)
    viz.lab(model, X, y, loss="binary_crossentropy",
            optimizer=nn.SGD(model.parameters(), lr=0.5), steps=3)  # fmt: skip
    assert not switched and gc.isenabled()
