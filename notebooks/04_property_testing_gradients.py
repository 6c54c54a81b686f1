# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python (tracegrad)
#     language: python
#     name: tracegrad
# ---

# %% [markdown]
# # Property-testing gradients
#
# In this notebook you will learn how to make sure a gradient is right. You will
# define your own op with `autograd.primitive` and check it with `gradcheck`, plant a
# bug in a derivative and see `gradcheck` find it and name the node at fault, then let
# hypothesis search random expressions for a bug that a hand-picked test point misses
# and shrink it to a small expression you can look at. Last, a gradient of a gradient:
# `grad(grad(f))`.

# %%
# %matplotlib inline
import math

import matplotlib.pyplot as plt
import numpy as np
from hypothesis import HealthCheck, find, given, settings

import viz
from autograd import GradcheckError, Value, grad, gradcheck, primitive
from autograd.testing import strategies

# %% [markdown]
# ## 1. A primitive of your own, checked
#
# `primitive(name, forward, derivative)` turns a function on floats and its local
# derivative into an op the engine treats like a built-in one. Softplus,
# `log(1 + eˣ)`, has the sigmoid as its derivative:

# %%
softplus = primitive(
    "softplus",
    lambda x: math.log1p(math.exp(x)),
    lambda x, out: 1 / (1 + math.exp(-x)),
)

x = Value(0.5, label="x")
y = softplus(x * x) * 2
y.label = "y"
y.backward()
print(f"y = {y.data:.4f}, dy/dx = {x.grad:.4f}")
viz.draw(y)

# %% [markdown]
# The `softplus` node is drawn like any op, with its local gradient on the edge.
# `gradcheck` compares the engine's gradients with central finite differences
# at the inputs you give, here the function inside an expression at a few points:

# %%
for point in ([0.5, -1.0], [2.0, 0.3], [-3.0, 1.5]):
    print(point, gradcheck(lambda a, b: softplus(a * b) + softplus(b), point))


# %% [markdown]
# ## 2. A planted bug, found and named
#
# Swish is `x · σ(x)`. Its derivative needs the product rule,
# `σ(x) + x · σ(x)(1 - σ(x))`, and forgetting the second term is an easy slip. We
# plant exactly that slip and use `swish` deep inside a larger function:


# %%
def sigmoid(x):
    return 1 / (1 + math.exp(-x))


swish = primitive("swish", lambda x: x * sigmoid(x), lambda x, out: sigmoid(x))  # bug


def model(x, y):
    h = (x * y + 1).tanh()
    return swish(h * 3 - y) + (x * x).log()


try:
    gradcheck(model, [0.7, -1.2])
except GradcheckError as error:
    print(error)
    caught = error

# %% [markdown]
# `GradcheckError` first reports which inputs got a wrong gradient (both, here, since
# both flow through `swish`), then goes one level deeper: it checks each node's stored
# local gradient against a finite difference of that node's own op, and names the
# first one that is wrong. The exception carries that node as `.node`, so we can draw
# it with everything that feeds it, outlined in red:

# %%
culprit = caught.node
print(
    f"culprit: op {culprit.op!r}, input {culprit.parents[0].data:.4f}, "
    f"stored local gradient {culprit.local_grads[0]:.4f}"
)
assert culprit.op == "swish"
viz.draw(culprit, highlight=[culprit], show_grad=False)

# %% [markdown]
# With the product rule restored, the same check passes:

# %%
swish = primitive(
    "swish",
    lambda x: x * sigmoid(x),
    lambda x, out: sigmoid(x) + x * sigmoid(x) * (1 - sigmoid(x)),
)
print(gradcheck(model, [0.7, -1.2]))

# %% [markdown]
# ## 3. A bug that hides from a hand-picked point
#
# `gradcheck` checks the points you give it. Some bugs only show at some inputs. Take
# `mulexp(a, b) = a · eᵇ`, whose partial derivatives are `eᵇ` and `a · eᵇ`, and plant
# a bug by swapping them. At `a = 1` the two are equal, so a test at the "obvious"
# point passes:

# %%
mulexp = primitive(
    "mulexp",
    lambda a, b: a * math.exp(b),
    lambda a, b, out: (out, math.exp(b)),  # bug: the two partials swapped
)
print(gradcheck(lambda a, b: mulexp(a, b), [1.0, 0.5]))

# %% [markdown]
# A property test does not pick the points. `strategies.expressions(ops=...)` draws
# random expressions over the ops you list (your primitives included) together with
# inputs at which every op is inside its domain and away from kinks, so that
# `gradcheck(f, inputs)` **must** pass for a correct engine and correct primitives.
# Written as a test in your suite, it is four lines:

# %%
QUIET = settings(
    database=None,
    derandomize=True,
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
OPS = ["+", "*", "tanh", mulexp]


@QUIET
@given(strategies.expressions(ops=OPS))
def test_mulexp_composes(expr):
    f, inputs = expr
    assert gradcheck(f, inputs)


try:
    test_mulexp_composes()
except GradcheckError as error:
    print("the property test failed; hypothesis reports:")
    print("\n".join(error.__notes__[:1]))

# %% [markdown]
# Hypothesis found a failing expression and then *shrank* it: it kept trying simpler
# expressions and smaller inputs as long as the test still failed. `hypothesis.find`
# gives us the same search as a function call, so we can look at both ends of the
# shrinking: the first failure it came across, and the one it ended with.

# %%
failures = []


def fails_gradcheck(expr):
    f, inputs = expr
    failed = not gradcheck(f, inputs, raise_exception=False)
    if failed:
        failures.append(expr)
    return failed


f, inputs = find(strategies.expressions(ops=OPS), fails_gradcheck, settings=QUIET)
first_f, first_inputs = failures[0]
print("first failure found:", first_f, "at", [round(v, 4) for v in first_inputs])
print("shrunk to:          ", f, "at", inputs)


# %%
def graph_of(f, inputs):
    xs = [Value(v, label=f"x{i}") for i, v in enumerate(inputs)]
    out = f(*xs)
    out.backward()
    return out


viz.draw(graph_of(first_f, first_inputs), show_grad=False)

# %% [markdown]
# That is what a random failure looks like. The shrunk one is small enough to reason
# about: `mulexp`'s first operand is not 1 there, so the swapped partials differ.
# `gradcheck` on it names the primitive:

# %%
try:
    gradcheck(f, inputs)
except GradcheckError as error:
    print(error)
    assert error.node.op == "mulexp"
viz.draw(graph_of(f, inputs))


# %% [markdown]
# ## 4. Gradients of gradients
#
# `grad(f)` turns a function of Values into a function that returns its derivative at
# a number. Called inside another `grad`, it returns a node instead, so derivatives
# nest: `grad(grad(f))` is the second derivative. For `f = tanh`,
# `f' = 1 - tanh²` and `f'' = -2 tanh · (1 - tanh²)`:


# %%
def f(x):
    return x.tanh()


df = grad(f)
d2f = grad(grad(f))
x0 = 0.8
print(f"f'(0.8)  = {df(x0):.6f}   1 - tanh² = {1 - math.tanh(x0) ** 2:.6f}")
print(
    f"f''(0.8) = {d2f(x0):.6f}   -2 tanh (1 - tanh²) = "
    f"{-2 * math.tanh(x0) * (1 - math.tanh(x0) ** 2):.6f}"
)

xs = np.linspace(-3, 3, 121)
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(xs, np.tanh(xs), label="tanh")
ax.plot(xs, [df(v) for v in xs], label="grad(tanh)")
ax.plot(xs, [d2f(v) for v in xs], label="grad(grad(tanh))")
ax.axhline(0, color="gray", linewidth=0.5)
ax.legend()
fig.tight_layout()

# %% [markdown]
# For a second derivative the engine differentiates the backward pass itself: with
# `create_graph=True` every gradient is a `Value` with its own graph. A primitive
# joins in only if its derivative is written with Value operations. The softplus
# above used `math.exp`, so the engine says it cannot go on:

# %%
try:
    grad(grad(softplus))(0.0)
except NotImplementedError as error:
    print(error)

# %%
softplus2 = primitive(
    "softplus",
    lambda x: math.log1p(math.exp(x)),
    lambda x, out: 1 / (1 + (-x).exp()) if isinstance(x, Value) else sigmoid(x),
)
# softplus'' = σ'(x) = σ(x)(1 - σ(x)), which is 1/4 at 0.
print(grad(grad(softplus2))(0.0))
assert math.isclose(grad(grad(softplus2))(0.0), 0.25)
