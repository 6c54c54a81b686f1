"""Shared test set-up: hypothesis profiles and the optional oracles (PyTorch, Graphviz dot,
headless Chromium).

Profiles: ``ci`` (more examples, chosen when the CI environment variable is set) and ``dev``
(quick local runs). Pick one explicitly with HYPOTHESIS_PROFILE=ci|dev.

The oracles skip cleanly on a developer machine without them, but in CI (CI=true) a missing
oracle is a failure: .ci/run installs PyTorch and make installs Graphviz and Chromium, so a
skip there would hide a broken set-up.
"""

from __future__ import annotations

import os
import shutil

import pytest
from hypothesis import HealthCheck, settings

IN_CI = os.environ.get("CI", "").lower() not in ("", "0", "false")

settings.register_profile(
    "ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "dev", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if IN_CI else "dev"))


def _missing(what: str, how: str):
    if IN_CI:
        pytest.fail(f"{what} is required in CI ({how})")
    pytest.skip(f"{what} is not installed here ({how})")


@pytest.fixture
def torch():
    """PyTorch set to float64, the gradient oracle."""
    try:
        import torch as _torch
    except ImportError:
        _missing(
            "PyTorch",
            "CI pins torch 2.13.0, the CPU build: pip install torch==2.13.0 --index-url "
            "https://download.pytorch.org/whl/cpu (see the README)",
        )
    _torch.set_default_dtype(_torch.float64)
    return _torch


@pytest.fixture
def dot_program() -> str:
    """Path of Graphviz's dot, needed to render SVG/PNG/PDF."""
    path = shutil.which("dot")
    if path is None:
        _missing("Graphviz's dot", "make installs Debian's graphviz package")
    return path


@pytest.fixture
def chromium() -> str:
    """Path of a headless-capable Chromium (Debian's package), for the player's browser test.
    Nothing is downloaded: without the package the test skips (fails in CI)."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        _missing("Chromium", "scripts/setup.sh installs Debian's chromium package")
    try:
        import websocket  # noqa: F401 - websocket-client, the DevTools protocol's transport
    except ImportError:
        _missing("websocket-client", "the dev extra installs it")
    return path


@pytest.fixture
def small_neuron():
    """A factory of fresh graphs o = tanh(x1*w1 + b) (o = 0.7071), every node labelled, no
    backward pass run yet: what the player and GIF tests step through."""
    from autograd import Value

    def make() -> Value:
        x1, w1 = Value(2.0, label="x1"), Value(-3.0, label="w1")
        b = Value(6.8813735870195432, label="b")
        n = x1 * w1 + b
        n.label = "n"
        o = n.tanh()
        o.label = "o"
        return o

    return make
