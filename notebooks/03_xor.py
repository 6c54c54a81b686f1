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
# # XOR: why a hidden layer, and what backprop computes in it
#
# In this notebook you will learn why a single neuron (logistic regression) cannot
# learn XOR, and watch its loss get stuck at ln 2; then train the smallest network
# that can, a 2-3-1 sigmoid MLP trained with Keras's recipe, and watch it succeed.
# Along the way you will write the backward pass of that network out by hand as the
# *delta rule*, in maths and in numpy, and check it against the engine's gradients,
# and look at the loss curves, the decision boundaries and the trained network's graph.

# %%
# %matplotlib inline
import math

import matplotlib.pyplot as plt
import numpy as np

import nn
import viz
from autograd import Value

X, y = nn.datasets.xor()
for (a, b), t in zip(X.astype(int), y.astype(int)):
    print(f"{a} xor {b} = {t}")


# %% [markdown]
# A helper to draw what a model predicts over the whole square: the colour is the
# predicted probability of class 1, the black line the decision boundary (0.5), the
# dots the four training points.


# %%
def plot_boundary(model, ax, title):
    grid = np.linspace(-0.5, 1.5, 41)
    gx, gy = np.meshgrid(grid, grid)
    p = model.predict(np.c_[gx.ravel(), gy.ravel()]).reshape(gx.shape)
    # 12 levels put 0.5 inside a band: predictions of 0.5 +- 1e-10 show as one colour.
    ax.contourf(gx, gy, p, levels=np.linspace(0, 1, 12), cmap="RdBu_r", alpha=0.8)
    if p.min() < 0.49 and p.max() > 0.51:
        ax.contour(gx, gy, p, levels=[0.5], colors="k")
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", edgecolors="k", s=120)
    ax.set_title(title)
    ax.set_aspect("equal")


# %% [markdown]
# ## 1. Logistic regression fails
#
# One sigmoid neuron, `p = σ(w1 x1 + w2 x2 + b)`, draws a straight line through the
# plane: it predicts 1 on one side and 0 on the other. No straight line puts (0, 1)
# and (1, 0) on one side and (0, 0) and (1, 1) on the other. We train it anyway, with
# the same recipe we will use for the MLP: SGD with learning rate 0.5, binary
# cross-entropy, 1000 epochs of one batch of all 4 points.

# %%
logistic = nn.MLP(2, [1], output_activation="sigmoid", seed=0)
print(logistic.summary())
logistic_history = nn.fit(
    logistic,
    X,
    y,
    loss="binary_crossentropy",
    optimizer=nn.SGD(logistic.parameters(), lr=0.5),
    epochs=1000,
    batch_size=4,
    seed=0,
    verbose=0,
)
final = logistic_history.history["loss"][-1]
print(f"final loss {final:.6f}, ln 2 = {math.log(2):.6f}")
print("predictions:", logistic.predict(X).ravel().round(4))
assert abs(final - math.log(2)) < 1e-3

# %% [markdown]
# The loss is stuck at $\ln 2 \approx 0.6931$, and every prediction is 0.5. That is
# the best a line can do. At $w = 0, b = 0$ the gradient of the mean binary
# cross-entropy is $\frac{1}{4}\sum_i (p_i - y_i)\,x_i$ with every $p_i = \tfrac12$:
# for $w_1$ the two points with $x_1 = 1$ contribute $-\tfrac12$ and $+\tfrac12$,
# and likewise for $w_2$ and $b$. So the gradient is zero there, and since this
# loss is convex in $(w, b)$ that point is the global minimum: predict
# "0.5, I don't know" everywhere, for a loss of $-\ln \tfrac12 = \ln 2$. (The
# "accuracy" that `fit` reports for such a model is meaningless: predictions within
# 1e-10 of 0.5 fall on either side of the threshold by rounding.)

# %% [markdown]
# ## 2. A hidden layer: the 2-3-1 sigmoid MLP
#
# Keras's recipe: `Dense(3, sigmoid)` then `Dense(1, sigmoid)`, SGD with learning rate
# 0.5, binary cross-entropy, 1000 epochs, batch size 4. In tracegrad:

# %%
model = nn.MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid", seed=0)
print(model.summary())


# %% [markdown]
# ### What `backward()` computes here: the delta rule
#
# Before training, let us write the backward pass out by hand. For a batch of $n$ rows
# $X$ ($n \times 2$) with targets $y$, the forward pass is
#
# $$H = \sigma(X W_1^\top + b_1) \quad (n \times 3), \qquad
# \hat y = \sigma(H W_2^\top + b_2) \quad (n \times 1),$$
#
# $$L = -\frac1n \sum_i \big[\,y_i \ln \hat y_i + (1 - y_i) \ln(1 - \hat y_i)\big].$$
#
# Call $\delta$ the gradient of $L$ with respect to a layer's pre-activation $z$.
# At the output, the sigmoid's derivative $\hat y(1 - \hat y)$ cancels the
# cross-entropy's denominators, leaving
#
# $$\delta_2 = \frac{\partial L}{\partial z_2} = \frac{\hat y - y}{n}.$$
#
# Each weight's gradient is its input times the delta it feeds:
# $\partial L / \partial W_2 = \delta_2^\top H$ and
# $\partial L / \partial b_2 = \sum_i \delta_{2,i}$.
# The hidden layer receives $\delta_2$ back through $W_2$ and through its own sigmoid:
#
# $$\delta_1 = (\delta_2 W_2) \odot H \odot (1 - H), \qquad
# \frac{\partial L}{\partial W_1} = \delta_1^\top X, \qquad
# \frac{\partial L}{\partial b_1} = \textstyle\sum_i \delta_{1,i}.$$
#
# In numpy, for the model's current weights:


# %%
def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def weights(layer):
    return np.array([[w.data for w in neuron.w] for neuron in layer.neurons])


def biases(layer):
    return np.array([neuron.b.data for neuron in layer.neurons])


W1, b1 = weights(model.layers[0]), biases(model.layers[0])  # (3, 2), (3,)
W2, b2 = weights(model.layers[1]), biases(model.layers[1])  # (1, 3), (1,)
Y = y.reshape(-1, 1)
n = len(X)

H = sigmoid(X @ W1.T + b1)
y_hat = sigmoid(H @ W2.T + b2)
delta2 = (y_hat - Y) / n
dW2, db2 = delta2.T @ H, delta2.sum(axis=0)
delta1 = (delta2 @ W2) * H * (1 - H)
dW1, db1 = delta1.T @ X, delta1.sum(axis=0)
print("dL/dW1 by the delta rule:\n", dW1.round(6))


# %% [markdown]
# And the engine's: one forward pass per row through the scalar graph, the same loss,
# one `backward()`. Every weight is a `Value` whose `.grad` now holds `dL/dw`.


# %%
def grads(layer):
    return np.array([[w.grad for w in neuron.w] for neuron in layer.neurons])


def bias_grads(layer):
    return np.array([neuron.b.grad for neuron in layer.neurons])


preds = [model(row) for row in X.tolist()]
loss = nn.losses.bce(preds, y)
model.zero_grad()
loss.backward()
print("dL/dW1 by the engine:\n", grads(model.layers[0]).round(6))

assert np.allclose(grads(model.layers[0]), dW1, rtol=1e-10, atol=1e-12)
assert np.allclose(bias_grads(model.layers[0]), db1, rtol=1e-10, atol=1e-12)
assert np.allclose(grads(model.layers[1]), dW2, rtol=1e-10, atol=1e-12)
assert np.allclose(bias_grads(model.layers[1]), db2, rtol=1e-10, atol=1e-12)
print("all 13 gradients agree with the delta rule")

# %% [markdown]
# The engine never heard of deltas: it applied the chain rule node by node. The delta
# rule is what those node-by-node steps add up to for a layered network.
#
# ### Training
#
# `nn.fit` does per batch what a PyTorch user writes by hand: `zero_grad()`, forward,
# loss, `backward()`, `step()`. (`verbose=1` would show a progress bar.)

# %%
history = nn.fit(
    model,
    X,
    y,
    loss="binary_crossentropy",
    optimizer=nn.SGD(model.parameters(), lr=0.5),
    epochs=1000,
    batch_size=4,
    seed=0,
    verbose=0,
)
probs = model.predict(X).ravel()
for (a, b), t, p in zip(X.astype(int), y.astype(int), probs):
    print(f"{a} xor {b} = {t}   predicted {p:.3f} -> {int(p > 0.5)}")
print(f"final loss {history.history['loss'][-1]:.4f}")
assert ((probs > 0.5) == (y == 1)).all()

# %% [markdown]
# All four right. The loss curves side by side: the single neuron flattens at ln 2,
# the MLP keeps going down once its hidden units have found useful features.

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(logistic_history.history["loss"], label="logistic regression (2-1)")
ax.plot(history.history["loss"], label="MLP (2-3-1)")
ax.axhline(math.log(2), color="gray", linestyle=":", label="ln 2")
ax.set_xlabel("epoch")
ax.set_ylabel("binary cross-entropy")
ax.legend()
fig.tight_layout()

# %% [markdown]
# And the decision boundaries. The single neuron paints the whole square 0.5 (there is
# no boundary to draw); the MLP's hidden layer bends the plane so that the two
# diagonals end up on different sides.

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 4))
plot_boundary(logistic, axes[0], "logistic regression: p = 0.5 everywhere")
plot_boundary(model, axes[1], "2-3-1 MLP")
fig.tight_layout()

# %% [markdown]
# ## 3. The trained network as a graph
#
# Finally, the whole trained network for one input, (1, 0) with target 1: three
# hidden neurons, one output neuron and the loss on top. Every edge carries its local
# gradient and every node its gradient of the loss, after one backward pass.

# %%
x = [Value(1.0, label="x1"), Value(0.0, label="x2")]
out = model(x)
out.label = "y_hat"
loss = nn.losses.bce([out], [1.0])
loss.label = "loss"
model.zero_grad()
loss.backward()
print(f"y_hat = {out.data:.4f}, loss = {loss.data:.4f}")
viz.draw(loss, precision=3)
