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
# # From scalars to tensors
#
# In this notebook you will learn what changes, and what does not, when the same
# network runs on `Tensor`s instead of scalar `Value`s. `nn.MLP(..., engine="tensor")`
# is the XOR MLP of notebook 03 computed with a handful of array operations: it gives
# the same numbers, loss by loss, from a graph of a dozen array nodes instead of
# hundreds of scalar ones. Then you will train a bigger MLP on handwritten digits with
# `nn.fit` and its progress bar, log the run for TensorBoard, look at the weights'
# histograms before and after training, and measure how much faster the tensor engine
# is.

# %%
# %matplotlib inline
import shutil
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import nn
import viz

# %% [markdown]
# ## 1. The same MLP, two engines
#
# A scalar model builds a graph of `Value`s: one node per multiplication, per addition,
# per sample. On `engine="tensor"` the whole batch is one `(n, 2)` array and a layer is
# three array operations: a matrix product `x @ W`, a broadcast bias `+ b`, an
# elementwise activation. The same `seed` draws the same weights on both engines, so
# the two models below start equal, and `nn.fit` trains them with the same recipe:
# SGD with learning rate 0.5 on the binary cross-entropy of all four points, 1000
# epochs. Same maths, so the same losses, epoch by epoch, up to float rounding:

# %%
X, y = nn.datasets.xor()
histories, models = {}, {}
for engine in ("value", "tensor"):
    model = nn.MLP(
        2, [3, 1], activation="sigmoid", output_activation="sigmoid", seed=0, engine=engine
    )
    histories[engine] = nn.fit(
        model,
        X,
        y,
        loss="binary_crossentropy",
        optimizer=nn.SGD(model.parameters(), lr=0.5),
        epochs=1000,
        batch_size=4,
        seed=0,
        verbose=0,
    ).history["loss"]
    models[engine] = model
    print(
        f"{engine:6}: final loss {histories[engine][-1]:.6f}, "
        f"predictions {model.predict(X).ravel().round(3)}"
    )

assert np.allclose(histories["value"], histories["tensor"], rtol=1e-9, atol=1e-12)
print("the two engines agree on all 1000 losses")
print(models["tensor"].summary())

# %% [markdown]
# Here is the tensor graph of the loss for the whole batch of four. Edges now carry
# the *shape* of the gradient flowing along them; `x @ W0 + b0` broadcasts the bias
# over the batch, and the backward pass sums its gradient back to the bias's shape.
# The scalar graph of the same loss has a node for every one of those numbers
# (notebook 03 drew it for a single input).

# %%
tensor_model = models["tensor"]
loss = nn.losses.bce(tensor_model(X), y)
loss.label = "loss"
tensor_model.zero_grad()
loss.backward()
viz.draw(loss, show_data=False, show_grad=False)

# %% [markdown]
# ## 2. Handwritten digits
#
# scikit-learn's digits: 1797 images of 8 × 8 pixels, each a digit from 0 to 9
# (`nn.datasets.digits()`; without scikit-learn we fall back to two moons). We hold
# 297 of them out for testing and train a 64-32-10 MLP with relu hidden units on the
# rest: Adam with learning rate 0.01, cross-entropy on the ten logits, batches of 64,
# 15 epochs. `verbose=1` shows tqdm's progress bar with the running loss and
# accuracy.

# %%
try:
    X_all, y_all = nn.datasets.digits()
    X_all = X_all / 16.0  # pixels in [0, 1]
    images = True
except ImportError:  # no scikit-learn: the same story on two moons
    X_all, y_all = nn.datasets.moons(1797, noise=0.2, seed=0)
    images = False
order = np.random.default_rng(0).permutation(len(X_all))
train, test = order[:1500], order[1500:]
X_train, y_train = X_all[train], y_all[train]
X_test, y_test = X_all[test], y_all[test]
nin, classes = X_all.shape[1], int(y_all.max()) + 1

if images:
    fig, axes = plt.subplots(1, 10, figsize=(10, 1.4))
    for ax, image, label in zip(axes, X_train[:10], y_train[:10]):
        ax.imshow(image.reshape(8, 8), cmap="gray_r")
        ax.set_title(str(label))
        ax.axis("off")

# %% [markdown]
# The run is logged for TensorBoard by `nn.callbacks.TensorBoard`: per epoch the loss
# and accuracy as scalars, and histograms of every weight, bias, gradient and layer
# activation.

# %%
log_dir = Path(tempfile.gettempdir()) / "tracegrad-runs" / "digits"
shutil.rmtree(log_dir, ignore_errors=True)  # a fresh run each time

model = nn.MLP(nin, [32, classes], activation="relu", init="he_uniform", seed=0, engine="tensor")
initial = model.state_dict()
history = nn.fit(
    model,
    X_train,
    y_train,
    loss="sparse_categorical_crossentropy",
    optimizer=nn.Adam(model.parameters(), lr=0.01),
    epochs=15,
    batch_size=64,
    seed=0,
    verbose=1,
    callbacks=[nn.callbacks.TensorBoard(log_dir)],
)
test = nn.evaluate(model, X_test, y_test, "sparse_categorical_crossentropy")
print(f"test loss {test['loss']:.3f}, test accuracy {test['accuracy']:.3f}")
assert test["accuracy"] > 0.9

# %% [markdown]
# The loss and accuracy per epoch, as `nn.fit`'s `History` holds them:

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3))
left.plot(history.history["loss"])
left.set(title="training loss", xlabel="epoch")
right.plot(history.history["accuracy"])
right.set(title="training accuracy", xlabel="epoch")
fig.tight_layout()

# %% [markdown]
# Ten test digits with the network's guesses (wrong guesses in red):

# %%
guesses = model.predict(X_test).argmax(axis=1)
if images:
    fig, axes = plt.subplots(1, 10, figsize=(10, 1.4))
    for ax, image, guess, label in zip(axes, X_test, guesses, y_test):
        ax.imshow(image.reshape(8, 8), cmap="gray_r")
        ax.set_title(str(guess), color="k" if guess == label else "red")
        ax.axis("off")
print(f"{int((guesses != y_test).sum())} of {len(y_test)} test digits are wrong")

# %% [markdown]
# ## 3. TensorBoard
#
# The run wrote real TensorBoard event files. To browse them, run this in a terminal
# and open the address it prints:

# %%
print(f"tensorboard --logdir {log_dir}")

# %% [markdown]
# Without leaving the notebook we can read the files back with TensorBoard's own
# reader and list what was logged:

# %%
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

events = EventAccumulator(str(log_dir), size_guidance={"histograms": 0})
events.Reload()
tags = events.Tags()
print("scalars:   ", sorted(tags["scalars"]))
print("histograms:", sorted(tags["histograms"]))
logged = [event.value for event in events.Scalars("loss")]
print(f"loss per epoch, as logged: {logged[0]:.3f} ... {logged[-1]:.3f}")
assert np.allclose(logged, history.history["loss"], rtol=1e-6)

# %% [markdown]
# ## 4. The weights, before and after
#
# TensorBoard shows the histograms over time; here are the first and last ones
# inline. He-uniform initialisation draws the first layer's weights from
# `U(-√(6/64), √(6/64))`, a flat box; training spreads them out.

# %%
trained = model.state_dict()
fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
for ax, name in zip(axes, ["layers.0.weight", "layers.1.weight"]):
    bins = np.linspace(
        min(initial[name].min(), trained[name].min()),
        max(initial[name].max(), trained[name].max()),
        40,
    )
    ax.hist(initial[name].ravel(), bins=bins, alpha=0.6, label="initial")
    ax.hist(trained[name].ravel(), bins=bins, alpha=0.6, label="after 15 epochs")
    ax.set_title(f"{name} {initial[name].shape}")
    ax.legend()
fig.tight_layout()


# %% [markdown]
# ## 5. How much faster?
#
# The scalar engine does Python work for every multiplication; the tensor engine does
# Python work for every *array* operation and leaves the arithmetic to numpy. To see
# the difference without waiting, we time one epoch of `nn.fit` on a small slice of
# the data (128 samples, batches of 32) with a smaller 16-unit hidden layer, on each
# engine, from the same weights. (The numbers depend on the machine; `bench/` has
# careful measurements.)


# %%
def epoch_seconds(engine, repeats):
    times = []
    for _ in range(repeats):
        model = nn.MLP(nin, [16, classes], activation="relu", seed=0, engine=engine)
        start = time.perf_counter()
        nn.fit(
            model,
            X_train[:128],
            y_train[:128],
            loss="sparse_categorical_crossentropy",
            optimizer=nn.SGD(model.parameters(), lr=0.1),
            epochs=1,
            batch_size=32,
            shuffle=False,
            verbose=0,
        )
        times.append(time.perf_counter() - start)
    return min(times)


scalar_time = epoch_seconds("value", repeats=1)
tensor_time = epoch_seconds("tensor", repeats=5)
print(f"Value:  {scalar_time * 1000:8.1f} ms per epoch")
print(f"Tensor: {tensor_time * 1000:8.1f} ms per epoch")
print(f"the tensor engine is about {scalar_time / tensor_time:.0f}x faster here")

# %% [markdown]
# Same maths, same gradients (section 1 checked them loss by loss), a much smaller
# graph, and the speed of numpy. The scalar engine is still the one to *learn* from:
# every number in it is a node you can draw, as in notebooks 01 to 03.
