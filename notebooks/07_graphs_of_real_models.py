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
# # Drawing the graphs of real models
#
# In this notebook you will learn how to look at the computation graph of a real
# network without drowning in it. You will draw the XOR MLP's loss graph with its
# layers and neurons as boxes (`group=True`), fold it into one box per layer or per
# neuron (`collapse=`), and cut it down to the paths from one weight to the loss
# (`focus=`), which is the picture of `explain`: the weight's gradient as a sum over
# paths of products of local derivatives. Then you will do the same with micrograd's
# moons MLP, whose loss graph has about 70,000 nodes, and finally save the backward
# pass of a small graph as a self-contained HTML player and as an animated GIF.

# %%
import base64
import io
import math
import time
from pathlib import Path

from IPython.display import display
from PIL import Image

import nn
import viz
from autograd import Value, explain, name_scope, topological_order

# %% [markdown]
# ## 1. The XOR MLP, grouped by layer and neuron
#
# The 2-3-1 sigmoid MLP of notebook 03, with its mean squared error over the four
# points of XOR. The model's forward pass opens a `name_scope` for each layer and each
# neuron, and the loss opens `loss`, so every node knows where it was made: its
# `.scope`. We build the loss once and run `backward()` so that every node has its
# gradient.

# %%
X, y = nn.datasets.xor()
model = nn.MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid", seed=0)
preds = [model(row) for row in X.tolist()]
loss = nn.losses.mse(preds, y)
loss.label = "loss"
model.zero_grad()
loss.backward()

nodes = topological_order(loss)
print(f"{model.num_parameters()} parameters, {len(nodes)} nodes in the loss graph")
w = model.layers[0].neurons[0].w[0]  # the first weight of the first hidden neuron
print(f"w: label {w.label!r}, scope {w.scope}, data {w.data:.4f}, grad {w.grad:.6f}")

# %% [markdown]
# 13 parameters, yet 146 nodes: every multiplication, addition and sigmoid of every
# one of the four samples is a node. `group=True` (the default) draws the nodes of each
# scope inside a labelled box, so the layers and neurons show. At this size the numbers
# on the nodes would be too small to read, so this first picture leaves them out
# (`show_data=False, show_grad=False, edge_labels=False`) and shows the shape: each
# hidden neuron computes `w·x + b` and a sigmoid four times, once per sample (the
# dashed ellipses are the inputs, plain numbers), the output neuron does the same
# with the three hidden outputs, and the loss box squares the four errors and takes
# their mean.

# %%
viz.draw(loss, group=True, show_data=False, show_grad=False, edge_labels=False)

# %% [markdown]
# ## 2. Collapsed: one box per layer, one box per neuron
#
# `collapse=k` folds every node into its scope cut to its first k names and draws one
# box per fold, saying how many nodes it stands for. Parallel edges between two boxes
# are merged into one labelled `×N`. With `collapse=1` the scopes are `layer0`,
# `layer1` and `loss`:

# %%
viz.draw(loss, collapse=1)

# %% [markdown]
# The 12 edges from `layer0` into `layer1` are the three hidden outputs times four
# samples. With `collapse=2` each neuron is its own box, inside its layer's box:

# %%
viz.draw(loss, collapse=2)

# %% [markdown]
# ## 3. One weight's paths to the loss: `focus` and `explain`
#
# How does the weight `w` (first hidden neuron, first input) affect the loss? Only
# along the paths from `w` to `loss`. `focus=w` keeps just the nodes on those paths,
# outlines `w` in red and draws the other operands of the kept nodes dimmed, with
# data, grads and local gradients shown again. The layer boxes are switched off
# (`group=False`) to keep this picture compact. The paths run from `w` on the left to
# `loss` on the right; the picture is scaled to the page's width, so to read its numbers
# render it to a file (`viz.render(loss, "paths.svg", focus=w, group=False)`) and zoom in.

# %%
viz.draw(loss, focus=w, group=False)

# %% [markdown]
# There are four paths, one per sample: `w` multiplies that sample's first input, the
# product flows through the neuron's sum and sigmoid, through the output neuron, into
# the sample's squared error and into the mean. The chain rule in its multivariate
# form says dloss/dw is the sum over the paths of the product of the local
# derivatives `∂` along each. `explain(loss, w)` writes that sum out (nodes without a
# label get numbered names such as `v140`) and adds it up, without any backward pass:

# %%
explanation = explain(loss, w)
print(explanation)

# %% [markdown]
# The first local derivative on each path is `∂(w·x1)/∂w = x1`, the sample's first
# input: two of the XOR points have `x1 = 0`, so two of the four products are zero.
# Those samples do not move `w` at all. (The paths differ in length because the mean
# adds the four errors one after another, `((e1 + e2) + e3) + e4`, so the first
# samples' errors pass through more `+` nodes.) The sum is the gradient that
# `loss.backward()` left in `w.grad`:

# %%
for nodes_on_path, local_grads, product in explanation.paths:
    print(
        f"path of {len(nodes_on_path):2d} nodes, first local {local_grads[0]:.0f}, "
        f"product {product:+.8f}"
    )
print(f"explanation.total = {explanation.total:.12f}")
print(f"w.grad            = {w.grad:.12f}")
assert math.isclose(explanation.total, w.grad, rel_tol=1e-12)

# %% [markdown]
# Focus and collapse combine (focus first, then collapse), which shows the same paths
# at the level of neurons: `w` reaches the loss through its own neuron and the output
# neuron only, four times.

# %%
viz.draw(loss, focus=w, collapse=2)

# %% [markdown]
# ## 4. micrograd's moons MLP: about 70,000 nodes
#
# micrograd's demo notebook trains `MLP(2, [16, 16, 1])` (tanh hidden units, a linear
# output, weights from U(-1, 1)) on 100 points of two moons, with the hinge loss on
# labels ±1 plus an L2 penalty `1e-4 · Σ p²` over the 337 parameters. Here is that
# loss in tracegrad. We put the penalty in a scope of its own, `l2`, so that it gets
# its own box below.

# %%
start = time.perf_counter()
X_moons, y_moons = nn.datasets.moons(100, noise=0.1, seed=1)
labels = 2 * y_moons - 1  # the hinge loss wants -1 and +1
mlp = nn.MLP(2, [16, 16, 1], init="uniform", seed=1)
scores = [mlp(row) for row in X_moons.tolist()]
data_loss = nn.losses.hinge(scores, labels)
with name_scope("l2"):
    reg_loss = 1e-4 * sum(p * p for p in mlp.parameters())
total_loss = data_loss + reg_loss
total_loss.label = "total loss"
mlp.zero_grad()
total_loss.backward()
print(f"built and back-propagated in {time.perf_counter() - start:.2f} s")
print(
    f"{mlp.num_parameters()} parameters, "
    f"{len(topological_order(total_loss)):,} nodes in the loss graph"
)

# %% [markdown]
# Drawn node by node that would be a picture nobody can read, and `viz.draw` refuses:
# more than `max_nodes` (500 by default) drawn nodes raise a `ValueError` that says how
# many there are, instead of leaving Graphviz to grind for minutes.

# %%
try:
    viz.draw(total_loss)
except ValueError as error:
    print(error)

# %% [markdown]
# Collapsed to layers, the whole graph is five boxes and the root (the final `+`,
# made outside any scope, stays itself). The edge labels count the
# individual edges between them: each of the 100 samples sends its 16 hidden values
# from `layer0` to every one of the 16 neurons of `layer1` (25,600 edges); every
# parameter feeds `l2` twice (`p * p`).

# %%
start = time.perf_counter()
by_layer = viz.draw(total_loss, collapse=1)
print(f"collapsed in {time.perf_counter() - start:.2f} s")
by_layer

# %% [markdown]
# One level down, one box per neuron: 16 + 16 + 1 neurons, the loss and the penalty.
# Every hidden neuron of `layer0` feeds every neuron of `layer1`, so between the two
# columns there is an edge for each of the 256 pairs (each standing for 100 edges, one
# per sample): a fully connected layer is a complete bipartite graph. Their 256
# `×100` labels would pile up on top of each other, so this picture leaves the edge
# labels out (`edge_labels=False`). What it shows is the shape: columns of neurons,
# left to right, and the penalty `l2` collecting an edge pair (`p * p`) from every
# parameter of every neuron.

# %%
viz.draw(total_loss, collapse=2, edge_labels=False)

# %% [markdown]
# Focused on one first-layer weight and collapsed to neurons, the picture answers
# "where does this weight's gradient come from?": from its own neuron, through all 16
# neurons of `layer1` (each edge standing for 100 samples), the output neuron and the
# hinge loss, plus a direct path through the penalty (`w * w`, two edges).

# %%
w_moons = mlp.layers[0].neurons[0].w[0]
start = time.perf_counter()
focused = viz.draw(total_loss, focus=w_moons, collapse=2)
print(
    f"focused and collapsed in {time.perf_counter() - start:.2f} s; dloss/dw = {w_moons.grad:.6f}"
)
focused

# %% [markdown]
# ## 5. Sharing a backward pass: an HTML player and a GIF
#
# A player (`viz.step_through`, notebook 02) needs a notebook with JavaScript. To send
# a backward pass to someone, `Player.save` writes the same player as one HTML file
# that loads nothing from the network, and `viz.animate` writes the steps as an
# animated GIF, which plays where no JavaScript runs (a code host, slides, a chat).
# Both show the graph once per step, so they are meant for small graphs (up to the 100
# nodes of `max_nodes`): here the tanh neuron of notebook 02. The files are written to
# the notebook's working directory under names that say what they are.

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
print(f"{len(topological_order(o))} nodes, o = {o.data:.4f}")

player_path = viz.step_through(o).save("neuron_player.html")
print(
    f"wrote {player_path} ({Path(player_path).stat().st_size / 1024:.0f} kB): "
    f"open it in any browser"
)

# %% [markdown]
# Like `backward()`, the player ran the backward pass and accumulated into `.grad`, so
# we clear the gradients before the GIF runs the pass again. Each frame outlines the
# node being processed in red and its parents in orange, with the step's chain rule
# (`do/dn += do/do * ∂o/∂n = ...`) printed under the picture.

# %%
o.zero_grad()
gif_path = viz.animate(o, "neuron_backprop.gif", seconds_per_step=1.5)
print(f"wrote {gif_path} ({Path(gif_path).stat().st_size / 1024:.0f} kB)")
# nbconvert's HTML and code hosts show no image/gif output but do show image/png, and an
# animated PNG (APNG: the same frames, which Pillow writes) plays in every browser.
animation = io.BytesIO()
with Image.open(gif_path) as frames:
    frames.save(animation, "PNG", save_all=True)
display(
    {
        "image/png": base64.b64encode(animation.getvalue()).decode("ascii"),
        "text/plain": f"<the animation of {gif_path}>",
    },
    raw=True,
)

# %% [markdown]
# From four points to a hundred, from 146 nodes to some 70,000: the engine does the
# same thing at every node, and `group`, `collapse` and `focus` let you choose the
# level at which to look at it. `explain` gives the numbers behind a focused picture,
# path by path.
