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
# # Watch it learn: the lab
#
# In this notebook you will learn to watch a network train step by step with `viz.lab`:
# the loss curve, the data over the model's decision regions, and the graph of one
# sample's loss, where every training step plays in three phases: the forward pass
# (values appear node by node), the backward pass (the chain rule node by node) and the
# optimizer's update (each parameter's old value, gradient and new value). You will
# check in Python that what the page shows is what the engine computed, then train
# micrograd's moons MLP and keep training it live in the page, adding points of your
# own. The first example is the XOR recipe of the course notes, the second is moons.

# %%
import time

import numpy as np

import nn
import viz
from autograd import Value

# %% [markdown]
# ## 1. XOR, the course notes' recipe
#
# The 2-3-1 sigmoid MLP, plain SGD with learning rate 0.5, binary cross-entropy, the four
# points of XOR as one batch. XOR needs a few hundred steps before the hidden layer splits
# the corners, so the lab records 1,000 of them. `viz.lab` trains the model in place, as
# the plain loop would (`zero_grad`, forward, loss, `backward`, `step`), and records every
# step. `sample=3` traces the point (1, 1), whose target is 0.
#
# Run the cell to open the lab. Press **play**, or step with **next** and **phase**; the
# slider moves over the 1,000 steps; click another point to trace it. (Where the page's
# script cannot run, as on a code host, you see its still: the traced graph at step 1.)

# %%
X, y = nn.datasets.xor()
model = nn.MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid", seed=0)
xor_lab = viz.lab(model, X, y, loss="binary_crossentropy",
                  optimizer=nn.SGD(model.parameters(), lr=0.5), steps=1000, sample=3,
                  seed=0)  # fmt: skip
xor_lab

# %% [markdown]
# It learned: the loss went from ln 2 territory down, and every prediction is on the
# right side of 0.5.

# %%
losses = xor_lab.history["loss"]
print(f"loss at step 1: {losses[0]:.4f}, at step 500: {losses[499]:.4f}, "
      f"at step 1000: {losses[-1]:.4f}")  # fmt: skip
print("predictions:", np.round(model.predict(X).ravel(), 2), "targets:", y)

# %% [markdown]
# ### The same weights as the plain loop
#
# The lab is a recording, not a simulation: a fresh model trained by `nn.fit` with the same
# recipe (1,000 epochs of one batch, its rows shuffled by the same `seed`) ends with the
# same losses and the same weights, to the last bit.

# %%
twin = nn.MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid", seed=0)
history = nn.fit(twin, X, y, loss="binary_crossentropy",
                 optimizer=nn.SGD(twin.parameters(), lr=0.5), epochs=1000, seed=0,
                 verbose=0)  # fmt: skip
gap_loss = max(abs(a - b) for a, b in zip(losses, history.history["loss"]))
gap_weights = max(abs(p.data - q.data) for p, q in zip(model.parameters(), twin.parameters()))
print(f"largest difference: losses {gap_loss:.1e}, weights {gap_weights:.1e}")

# %% [markdown]
# ### The three phases of step 1, in Python
#
# The backward phase shows, under the graph, the chain rule of the node being processed:
# autograd's own `str(step)`. Here are the first three of step 1 for the traced sample,
# as the lab recorded them (`lab.records[k]["texts"]`), and the last one, a leaf.

# %%
texts = xor_lab.records[0]["texts"]
print(f"{len(texts)} backward steps for sample 3's loss graph; the first three and the last:\n")
print("\n\n".join(texts[:3] + texts[-1:]))

# %% [markdown]
# They are what a fresh graph of that sample's loss gives at the initial weights:

# %%
fresh = nn.MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid", seed=0)
xs = [Value(float(v), f"x{j}") for j, v in enumerate(X[3])]
sample_loss = nn.losses.bce([fresh(xs)], [Value(float(y[3]), "y")])
print([str(step) for step in sample_loss.backward_steps()] == texts)

# %% [markdown]
# The update phase lists every parameter's old value, the batch's gradient and the new
# value. With plain SGD the new value is `old - lr * grad`, which we can check for all 13
# parameters of step 1 (the gradient is the batch's: the mean over the four points, not the
# traced sample's alone).

# %%
step1 = xor_lab.records[0]
rows = list(zip(xor_lab.param_labels, step1["before"], step1["grad"], step1["after"]))
for label, old, grad, new in rows[:4]:
    print(f"{label:8} old {old:+.6f}  grad {grad:+.6f}  new {new:+.6f}")
print("...")
exact = all(new == old - 0.5 * grad for _, old, grad, new in rows)
print(f"new == old - 0.5 * grad for all {len(rows)} parameters: {exact}")

# %% [markdown]
# `save` writes the same page as one HTML file with no external resource: open it in any
# browser, attach it to an e-mail.

# %%
xor_path = xor_lab.save("xor_lab.html")
print(f"{xor_path}: {xor_path.stat().st_size / 1e6:.2f} MB")

# %% [markdown]
# ## 2. Moons, and training live in the page
#
# micrograd's moons MLP, `MLP(2, [16, 16, 1])` (tanh), on 100 points with labels -1/+1 and
# the hinge loss, SGD with momentum 0.9, 100 recorded steps. One sample's loss graph has
# 984 nodes, too many to read one by one: `collapse=2` folds it into one box per neuron
# (click a box in the page to list its nodes' values and gradients).
#
# On the value engine, with one of nn's losses, the lab runs each step's forward and
# backward passes as the batch's loss traced once and replayed (`trace`, as
# `nn.fit(compile=True)` does): the same gradients to the last bit, without building a
# 65,000-node graph every step.

# %%
X, y = nn.datasets.moons(100, noise=0.1, seed=0)
y = 2 * y - 1
model = nn.MLP(2, [16, 16, 1], seed=1)
start = time.perf_counter()
moons_lab = viz.lab(model, X, y, loss="hinge",
                    optimizer=nn.SGD(model.parameters(), lr=0.1, momentum=0.9),
                    steps=100, collapse=2, seed=0)  # fmt: skip
seconds = time.perf_counter() - start
first, last = moons_lab.history["loss"][0], moons_lab.history["loss"][-1]
print(f"built in {seconds:.0f} s; {len(moons_lab.nodes)} nodes; loss {first:.3f} -> {last:.3f}")
moons_lab

# %% [markdown]
# In the page, **train live** goes on training past the 100 recorded steps, in the browser:
# each live step runs the traced sample's program, written out as JavaScript by
# `prog.javascript`, over the current batch, and the optimizer's update written out in
# JavaScript (SGD with momentum here, Adam too, PyTorch's maths); the loss curve and the
# regions follow every step, the traced graph's numbers a few times a second. Choose a
# class and click empty space to add a point there, or remove the ringed one, and watch
# the regions bend. The program is plain straight-line code, one statement per op and one
# per edge of the chain rule (here its inputs, two tanh neurons, and the chain rule
# reaching the first weight):

# %%
source = moons_lab.program.javascript
body = source[source.index("function valueAndGrad") :].splitlines()
forward = [line for line in body if "= tanh(" in line][:2]
backward = [line for line in body if line.startswith(("  let g_w0_0_0", "  g_w0_0_0"))]
print("\n".join(body[:6] + ["  ..."] + forward + ["  ..."] + backward + ["  ..."]))
print(f"\n{len(body)} lines in all")

# %%
moons_path = moons_lab.save("moons_lab.html")
accuracy = np.mean(np.sign([model(row).data for row in X.tolist()]) == y)
print(f"{moons_path}: {moons_path.stat().st_size / 1e6:.2f} MB; accuracy after 100 steps "
      f"{accuracy:.0%}")  # fmt: skip

# %% [markdown]
# ## 3. What the lab draws, and what it does not
#
# - Models with **one output** (binary classification with sigmoid or hinge, regression):
#   a model with several outputs raises `ValueError`.
# - **Decision regions** for inputs of two features; with more, the page shows the loss
#   curve and the graph only.
# - Tensor-engine models (`engine="tensor"`) work: the page draws and runs a value-engine
#   twin with the same weights.
# - Live training continues `nn.SGD` and `nn.Adam`; another optimizer's recorded steps play,
#   but the page cannot go on training.
# - A traced program follows one branch: a sample whose graph takes another (bce's clip of
#   a probability within 1e-7 of 0 or 1) is shown as not traceable, and is left out of a
#   live batch.
# - Live training takes the batch's loss as the mean of the one-sample losses (as nn's
#   losses are) and draws its batches with the page's own generator.
# - Graphs of more than `max_nodes` drawn items (500) are refused, as `viz.draw` refuses
#   them: pass `collapse`.
