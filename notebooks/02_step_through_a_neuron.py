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
# # Stepping through backprop on one neuron
#
# In this notebook you will learn how the backward pass runs, one node at a time, on
# the classic neuron `o = tanh(x1*w1 + x2*w2 + b)`: each step applies the chain rule at
# one node and passes gradients to its parents, which you will read as text
# (`backward_steps()`) and watch as a film (`viz.step_through`). You will also see why
# a value used twice must *add up* its gradients, and confirm every number with
# `gradcheck`.

# %%
import math

import viz
from autograd import Value, gradcheck

# %% [markdown]
# ## The neuron
#
# Two inputs, two weights and a bias; the bias `b = 6.8813735870195432` is chosen so
# that `n = x1*w1 + x2*w2 + b` is `0.8814` and `o = tanh(n) = 0.7071` (= 1/√2),
# which makes the numbers in the backward pass easy to follow. Every intermediate node
# gets a label so the chain rule below reads with names.

# %%
x1 = Value(2.0, label="x1")
x2 = Value(0.0, label="x2")
w1 = Value(-3.0, label="w1")
w2 = Value(1.0, label="w2")
b = Value(6.8813735870195432, label="b")

x1w1 = x1 * w1
x1w1.label = "x1w1"
x2w2 = x2 * w2
x2w2.label = "x2w2"
x1w1x2w2 = x1w1 + x2w2
x1w1x2w2.label = "x1w1x2w2"
n = x1w1x2w2 + b
n.label = "n"
o = n.tanh()
o.label = "o"
print(f"n = {n.data:.4f}, o = tanh(n) = {o.data:.4f}")
viz.draw(o)

# %% [markdown]
# Every grad is 0: nothing has flowed back yet. The edges already carry the local
# gradients, computed during the forward pass: `∂o/∂n = 1 - tanh(n)² = 0.5`, 1 into
# each `+`, and into each `*` the other operand. We write `∂` for such a local derivative
# (one op's own, stored on its edge) and `d` for the gradient of `o` that the backward pass
# accumulates, so a step reads `do/dn += do/do * ∂o/∂n`.
#
# ## The backward pass, one step per cell
#
# `o.backward_steps()` is a generator over the same reverse pass that `o.backward()`
# runs. It visits the nodes in reverse topological order, so that when a node's turn
# comes every node that uses it has already been processed and its gradient is final.
# At each step the node multiplies its final gradient (the *upstream* gradient) by the
# local gradient on each incoming edge and **adds** the product into that parent's
# grad. Printing a step spells the chain rule out.

# %%
steps = o.backward_steps()
step = next(steps)
print(step)

# %% [markdown]
# The pass starts with `do/do = 1`, the seed. `o = tanh(n)`, and the derivative of
# tanh is `1 - tanh²`, so `do/dn = do/do × ∂o/∂n = 1 × (1 - 0.7071²) = 0.5`.

# %%
step = next(steps)
print(step)

# %% [markdown]
# `n` is a sum. A `+` node's local gradient is 1 towards each operand, so it hands its
# gradient, 0.5, unchanged to both: a sum *distributes* the gradient.

# %%
step = next(steps)
print(step)

# %% [markdown]
# `b` is a leaf: it has no parents, so its step propagates nothing. Its grad, 0.5, is
# final: raising the bias by a little `ε` raises `o` by about `0.5 ε`.

# %%
step = next(steps)
print(step)

# %% [markdown]
# Another sum: both products receive 0.5.

# %%
step = next(steps)
print(step)

# %% [markdown]
# A product *swaps*: `d(x2*w2)/dx2 = w2 = 1` and `d(x2*w2)/dw2 = x2 = 0`. So `w2` gets
# no gradient at all. That makes sense: with `x2 = 0`, the weight `w2` multiplies
# nothing, and changing it cannot change the output.

# %% [markdown]
# Next come that product's two parents, `x2` and `w2`. Both are leaves, so their steps
# have nothing to pass on. Here is the one the pass takes first:

# %%
step = next(steps)
print(step)

# %% [markdown]
# And the other one:

# %%
step = next(steps)
print(step)

# %% [markdown]
# Those were the two leaves `w2` and `x2`. Now the other product, where the swap
# gives `do/dx1 = 0.5 × ∂(x1·w1)/∂x1 = 0.5 × w1 = -1.5` and `do/dw1 = 0.5 × x1 = 1`.

# %%
step = next(steps)
print(step)

# %% [markdown]
# The last two steps are the leaves `w1` and `x1`, whose gradients are now final:

# %%
step = next(steps)
print(step)

# %%
step = next(steps)
print(step)
assert next(steps, None) is None  # the pass is over
for v in (x1, w1, x2, w2, b):
    print(f"do/d{v.label} = {v.grad:+.4f}")

# %% [markdown]
# The generator is exhausted and every node holds its gradient. `w1`'s is 1 (up to
# rounding): nudging `w1` by `ε` moves `o` by `ε`. To make `o` grow we could raise `w1`
# (gradient +1) or the bias (+0.5), or lower `x1` (gradient -1.5); `w2` does not matter
# while `x2` is 0. Gradient descent on a network's weights is exactly this reading.
#
# ## The same pass as a film
#
# `viz.step_through(o)` runs the pass again and shows it as a player: one frame per
# step, the node being processed outlined in red, the parents receiving its
# contributions in orange, grads that are not final yet in grey. Press *next* or drag
# the slider. Because `backward_steps` accumulates into `.grad` exactly like
# `backward()`, we clear the grads first.

# %%
o.zero_grad()
viz.step_through(o)

# %% [markdown]
# ## A value used twice: why gradients accumulate
#
# In `s = a + a` the node `a` feeds `s` along *two* edges. If `a` grows by `ε`, both
# operands grow by `ε` and `s` grows by `2ε`: `ds/da = 2`. The engine gets there by
# giving each edge its own contribution (1 each) and **adding** them into `a.grad`.
# An engine that *assigned* the gradient (`=` instead of `+=`) would keep only the
# last edge's 1: a classic backprop bug.

# %%
a = Value(3.0, label="a")
s = a + a
s.label = "s"
for step in s.backward_steps():
    print(step)
print("a.grad =", a.grad)
assert a.grad == 2.0
viz.draw(s)

# %% [markdown]
# Two edges, each with local gradient 1, and two `+=` lines. The same happens whenever
# a value is used more than once, which in a neural network is all the time (an input
# feeds every neuron of the first layer). Here is a value used along two different
# paths, `f = (p*q) * (p+q)`:

# %%
p = Value(-2.0, label="p")
q = Value(3.0, label="q")
d = p * q
d.label = "d"
e = p + q
e.label = "e"
f = d * e
f.label = "f"
f.backward()
# df/dp = q*(p+q) + p*q = 3 + (-6) = -3: one term per path from p to f.
print(f"df/dp = {p.grad}, df/dq = {q.grad}")
assert p.grad == q.data * (p.data + q.data) + p.data * q.data
viz.draw(f)

# %% [markdown]
# Accumulation has a flip side: gradients also accumulate *across* passes. Calling
# `backward()` twice without zeroing doubles every gradient, as in PyTorch. That is
# why a training loop calls `zero_grad()` before each backward pass.

# %%
f.backward()
print("after a second backward():", p.grad)
f.zero_grad()
f.backward()
print("after zero_grad() and backward():", p.grad)


# %% [markdown]
# ## Confirming the neuron with `gradcheck`
#
# `gradcheck(fn, inputs)` runs `backward()` on `fn` at `inputs` and compares every
# input's gradient with a central finite difference (step `1e-6`). It returns `True`
# when all agree, and raises `GradcheckError` naming the culprit when not (that is the
# subject of `04_property_testing_gradients.ipynb`).


# %%
def neuron(x1, x2, w1, w2, b):
    return (x1 * w1 + x2 * w2 + b).tanh()


print(gradcheck(neuron, [2.0, 0.0, -3.0, 1.0, 6.8813735870195432]))

# And the numbers from the steps above, against what calculus says:
o_ = math.tanh(2.0 * -3.0 + 0.0 * 1.0 + 6.8813735870195432)
dn = 1 - o_**2
for v, expected in (
    (x1, dn * w1.data),
    (w1, dn * x1.data),
    (x2, dn * w2.data),
    (w2, dn * x2.data),
    (b, dn),
):
    assert math.isclose(v.grad, expected, abs_tol=1e-12), v.label
print("every step's gradient matches 1 - tanh(n)² times the other operand")
