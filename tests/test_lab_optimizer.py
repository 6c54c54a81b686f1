"""The lab page's optimizer update (``_lab_page.OPTIMIZER_JS``), run by Node, against nn.SGD
(plain, momentum, Nesterov, weight decay) and nn.Adam (with weight decay) stepping from the
same gradients: the same parameters after every step, within 1e-12 relative.

The JavaScript starts either from a fresh optimizer or from the state the Python optimizer
has after a few steps (as the page does: live training continues the recorded run), handed
over by ``viz.lab._optimizer_spec``, on Value parameters and on Tensor parameters (whose
elements the spec flattens)."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import zlib

import numpy as np
import pytest

import nn
from autograd import Tensor, Value
from viz._lab_page import OPTIMIZER_JS
from viz.lab import _optimizer_spec

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js is not installed here")

# Runs optimizerStep over the given gradients; prints the parameters after every step.
DRIVER = r"""
const {spec, params, grads} = JSON.parse(require("fs").readFileSync(0, "utf8"));
let p = params;
const out = grads.map((g) => (p = optimizerStep(spec, p, g)));
process.stdout.write(JSON.stringify(out));
"""

OPTIMIZERS = {
    "sgd": lambda ps: nn.SGD(ps, lr=0.1),
    "sgd-weight-decay": lambda ps: nn.SGD(ps, lr=0.1, weight_decay=0.01),
    "momentum": lambda ps: nn.SGD(ps, lr=0.05, momentum=0.9),
    "nesterov": lambda ps: nn.SGD(ps, lr=0.05, momentum=0.8, nesterov=True, weight_decay=1e-3),
    "adam": lambda ps: nn.Adam(ps, lr=0.02),
    "adam-weight-decay": lambda ps: nn.Adam(
        ps, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05
    ),
}


def run_js(spec: dict, params: list[float], grads: list[list[float]]) -> list[list[float]]:
    done = subprocess.run(
        [NODE, "-e", OPTIMIZER_JS + DRIVER],
        input=json.dumps({"spec": spec, "params": params, "grads": grads}),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def parameters(engine: str, rng: np.random.Generator) -> list:
    if engine == "value":
        return [Value(float(v)) for v in rng.normal(size=7)]
    return [Tensor(rng.normal(size=(3, 2))), Tensor(rng.normal(size=(2,)))]


def flat(params: list) -> list[float]:
    return np.concatenate([np.ravel(np.asarray(p.data, dtype=np.float64)) for p in params]).tolist()


def set_grads(params: list, g: np.ndarray) -> None:
    offset = 0
    for p in params:
        size = int(np.size(p.data))
        part = g[offset : offset + size]
        p.grad = float(part[0]) if isinstance(p, Value) else part.reshape(np.shape(p.data)).copy()
        offset += size


@pytest.mark.parametrize("engine", ["value", "tensor"])
@pytest.mark.parametrize("warm", [0, 3])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_the_page_s_update_is_nn_s_from_the_same_gradients(name, warm, engine):
    rng = np.random.default_rng(zlib.crc32(f"{name} {warm} {engine}".encode()))
    params = parameters(engine, rng)
    size = len(flat(params))
    optimizer = OPTIMIZERS[name](params)
    steps = 12
    grads = rng.normal(scale=2.0, size=(warm + steps, size))
    grads[warm + 4] = 0.0  # a step whose gradient is zero: momentum and Adam still move
    for g in grads[:warm]:  # the recorded steps, in Python
        set_grads(params, g)
        optimizer.step()
    spec = _optimizer_spec(optimizer, np.arange(size), params)
    assert spec is not None and spec["rule"] == ("adam" if name.startswith("adam") else "sgd")
    start = flat(params)
    expected = []
    for g in grads[warm:]:  # the live steps: Python's, and the page's from the same state
        set_grads(params, g)
        optimizer.step()
        expected.append(flat(params))
    got = run_js(spec, start, grads[warm:].tolist())
    assert len(got) == steps
    for k, (js, py) in enumerate(zip(got, expected)):
        for j, (a, b) in enumerate(zip(js, py)):
            assert math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300), (k, j, a, b)
    # the parameters moved, so the comparison says something
    assert max(abs(a - b) for a, b in zip(expected[-1], start)) > 1e-3


def test_an_optimizer_the_page_cannot_continue_has_no_spec():
    params = [Value(1.0), Value(2.0)]
    other = nn.SGD([Value(1.0), Value(2.0)], lr=0.1)  # another model's parameters
    assert _optimizer_spec(other, np.arange(2), params) is None

    class Custom:
        def __init__(self, params):
            self.params = params

        def zero_grad(self):
            pass

        def step(self):
            pass

    assert _optimizer_spec(Custom(params), np.arange(2), params) is None
