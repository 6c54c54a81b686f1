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
# # The chain rule, by hand and by the engine
#
# In this notebook you will learn what a derivative measures and how to estimate one by
# nudging the input (finite differences), then how the chain rule computes it exactly:
# for `f = w*x + b` at `x = 5` you will work out `df/dw = 5` by hand, get the same number
# from tracegrad's `backward()`, and read it off a picture of the computation graph in
# which every edge carries its local gradient.

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np

import viz
from autograd import Value

# %% [markdown]
# ## 1. A derivative is a slope
#
# Take `f(x) = 3x² - 4x + 5`. Its derivative says how fast `f` changes when `x` moves a
# little: nudge `x` by a small `h` and divide the change in `f` by `h`. Calculus gives the
# exact answer, `f'(x) = 6x - 4`, which is 14 at `x = 3`.


# %%
def f(x):
    return 3 * x**2 - 4 * x + 5


x = 3.0
for h in [1.0, 0.1, 0.01, 0.001, 1e-6]:
    slope = (f(x + h) - f(x)) / h
    print(f"h = {h:<6g}  (f(x+h) - f(x)) / h = {slope:.6f}")
print("exact f'(3) = 6*3 - 4 =", 6 * 3 - 4)

# %% [markdown]
# The estimate approaches 14 as `h` shrinks, but not for ever. The *forward* difference
# above is off by about `3h` (half the second derivative times `h`); the *central*
# difference `(f(x+h) - f(x-h)) / 2h` cancels that term and is off by about `h²` times
# a sixth of the third derivative (which for our quadratic is 0, so the right-hand plot
# uses `sin` instead). And once `h` is tiny, subtracting two nearly equal floats loses
# digits, so the error grows again: the V shapes on the right. This is
# why finite differences are a good *check* of a gradient (tracegrad's `gradcheck`
# uses central differences with `h = 1e-6`) but a poor way to compute one: they cost
# one or two evaluations of `f` per input, and they are never exact.

# %%
# The error panel uses sin at 1 (exact derivative cos 1): on a quadratic the central
# difference has no truncation error at all, only rounding.
hs = np.logspace(-14, 0, 57)
forward = np.abs((np.sin(1 + hs) - np.sin(1)) / hs - np.cos(1))
central = np.abs((np.sin(1 + hs) - np.sin(1 - hs)) / (2 * hs) - np.cos(1))

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
xs = np.linspace(0, 4.5, 100)
left.plot(xs, f(xs), label="f(x) = 3x² - 4x + 5")
left.plot(xs, f(x) + 14 * (xs - x), "--", label="tangent at x = 3, slope 14")
left.plot([x], [f(x)], "ko")
left.set_xlabel("x")
left.legend()
right.loglog(hs, forward + 1e-17, label="forward difference")
right.loglog(hs, central + 1e-17, label="central difference")
right.set_title("estimating sin'(1) = cos(1)")
right.set_xlabel("step h")
right.set_ylabel("error of the estimate")
right.legend()
fig.tight_layout()


# %% [markdown]
# ## 2. `f = w*x + b` by hand
#
# Now a function of several inputs: `f(w, x, b) = w*x + b`, at `w = -2`, `x = 5`,
# `b = 1`, so `f = -9`. A partial derivative asks how `f` moves when *one* input moves
# and the others stay put:
#
# - `df/dw = x = 5`: raise `w` by 0.001 and `f` rises by `5 × 0.001`;
# - `df/dx = w = -2`;
# - `df/db = 1`.
#
# The computer can do the same thing one input at a time by finite differences:


# %%
def f(w, x, b):
    return w * x + b


w0, x0, b0, h = -2.0, 5.0, 1.0, 1e-6
print("df/dw ≈", (f(w0 + h, x0, b0) - f(w0 - h, x0, b0)) / (2 * h))
print("df/dx ≈", (f(w0, x0 + h, b0) - f(w0, x0 - h, b0)) / (2 * h))
print("df/db ≈", (f(w0, x0, b0 + h) - f(w0, x0, b0 - h)) / (2 * h))

# %% [markdown]
# ## 3. The same by the engine
#
# tracegrad records every operation on a `Value` into a graph. `f.backward()` walks
# that graph from `f` back to the inputs and fills in each node's `.grad`, the
# derivative of `f` with respect to that node: all of them in one pass, exactly.

# %%
w = Value(-2.0, label="w")
x = Value(5.0, label="x")
b = Value(1.0, label="b")
wx = w * x
wx.label = "w*x"
f = wx + b
f.label = "f"

f.backward()
print(f"f = {f.data}")
print(f"df/dw = {w.grad}   df/dx = {x.grad}   df/db = {b.grad}")
assert w.grad == 5.0 and x.grad == -2.0 and b.grad == 1.0

# %% [markdown]
# Here is the graph. Each box shows a node's data and grad; each edge from a parent
# into a node is labelled with the **local gradient** `d(node)/d(parent)`, which the
# node's op knows on its own, without knowing anything about the rest of the graph:
# a `*` node's local gradient towards one operand is the *other* operand, a `+` node's
# is 1.

# %%
viz.draw(f)

# %% [markdown]
# The chain rule says: the derivative of `f` with respect to any node is the product of
# the local gradients along the path from that node to `f` (and the sum over paths, if
# there are several). From `w` to `f`: `d(w*x)/dw = 5` times `df/d(w*x) = 1` gives
# `df/dw = 5`, the number in `w`'s box. Reading the edges from right to left,
# multiplying as you go, *is* backpropagation.
#
# ## 4. A longer chain
#
# Put a loss on top, the squared distance of `f` from a target of 3:
# `L = (f - 3)²`. Then `dL/df = 2(f - 3) = -24`, and by the chain rule
# `dL/dw = dL/df × df/dw = -24 × 5 = -120`. With `edge_labels="contribution"` every edge
# also shows the second half of the chain rule: the local gradient times the
# *upstream* gradient (the node's own grad) gives what flows into the parent. (The
# dashed ellipses are constants, `3` and the exponent `2`: they get edges too, but
# nothing needs their gradients.)

# %%
w = Value(-2.0, label="w")
x = Value(5.0, label="x")
b = Value(1.0, label="b")
f = w * x + b
f.label = "f"
L = (f - 3) ** 2
L.label = "L"
L.backward()
print(f"dL/df = {f.grad}   dL/dw = {w.grad}   dL/db = {b.grad}")
assert f.grad == 2 * (f.data - 3) and w.grad == f.grad * x.data
viz.draw(L, edge_labels="contribution")

# %% [markdown]
# Every gradient in that picture was found by one multiplication per edge, walking
# backwards once. That is why backpropagation scales to networks with millions of
# weights, where finite differences would need millions of evaluations. The next
# notebook, `02_step_through_a_neuron.ipynb`, walks through that backward pass one
# step at a time.
