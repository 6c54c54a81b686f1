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
# # Forward mode, reverse mode, and the backward pass as a program
#
# In this notebook you will learn that the chain rule can be applied in two directions.
# *Forward mode* (`jvp`) pushes derivatives from the inputs towards the outputs and needs
# one sweep over the graph per input; *reverse mode* (`backward()`, backprop) pulls them
# from an output back to the inputs and needs one pass per output. You will count the
# passes and time both modes on functions of n inputs and m outputs, and see why
# reverse mode wins for a loss (many inputs, one output). Then you will look at the
# backward pass of the tanh neuron written out as Python by `trace`, statement by
# statement in the order of `backward_steps()`, and train an MLP with that compiled
# program (`nn.fit(..., compile=True)`) to see the same history, faster.

# %%
# %matplotlib inline
import math
import time

import matplotlib.pyplot as plt
import numpy as np

import nn
from autograd import Value, grad, jacobian, jvp, trace

# %% [markdown]
# ## 1. Two directions through the same graph
#
# Every node of a graph knows its local derivatives `∂node/∂parent`. Backprop combines
# them from the output backwards: for a loss `L` and an edge `a -> c`,
#
#     dL/da += dL/dc * ∂c/∂a
#
# starting from `dL/dL = 1`. One such pass gives `dL/dx` for **every** input `x`: a
# whole row of the Jacobian.
#
# Forward mode combines the same local derivatives in the other direction. Pick a
# direction `t` in input space (how fast each input moves) and carry along, for every
# node, how fast it moves:
#
#     dc/dt += ∂c/∂a * da/dt
#
# starting from the inputs' own speeds. One sweep gives the derivative of **every**
# output in that one direction: a column of the Jacobian (or a mix of columns). That is
# `jvp(f, primals, tangents)`, the *Jacobian-vector product*. Take
# `g(x, y) = x*y + sin(x)` at `(2, 3)`:


# %%
def g(x, y):
    return x * y + x.sin()


point = (2.0, 3.0)
value, dg_dx = jvp(g, point, (1.0, 0.0))  # move x only
_, dg_dy = jvp(g, point, (0.0, 1.0))  # move y only
print(f"g = {value:.6f}")
print(f"forward mode, two sweeps:  dg/dx = {dg_dx:.6f}   dg/dy = {dg_dy:.6f}")
print(f"by hand:                   dg/dx = y + cos x = {3 + math.cos(2):.6f}   dg/dy = x = 2")
dg = grad(g, argnums=(0, 1))(*point)
print(f"reverse mode, one pass:    dg/dx = {dg[0]:.6f}   dg/dy = {dg[1]:.6f}")
assert math.isclose(dg_dx, dg[0]) and math.isclose(dg_dy, dg[1])

# %% [markdown]
# Forward mode needed a sweep per input to get the gradient; reverse mode got both
# partial derivatives from one pass. With a direction that moves both inputs at once,
# one sweep gives the directional derivative `∂g/∂x · tx + ∂g/∂y · ty`, but never the
# two numbers separately:

# %%
_, both = jvp(g, point, (1.0, 1.0))
print(f"jvp in direction (1, 1): {both:.6f} = dg/dx + dg/dy = {dg[0] + dg[1]:.6f}")

# %% [markdown]
# ## 2. Counting passes: n inputs, m outputs
#
# For a function of n inputs and m outputs the full Jacobian is an m × n matrix.
# `jacobian(f, argnums, mode=...)` builds it either way: `mode="forward"` runs one
# forward sweep per input (a column each), `mode="reverse"` one reverse pass per output
# (a row each). The function it returns records how many passes its last call ran in
# its `passes` attribute, so we do not have to take that on trust. Here n = 3 inputs
# and m = 2 outputs:


# %%
def f(x, y, z):
    return [x * y * z, (x + y).tanh() - z]


for mode in ("forward", "reverse"):
    jac = jacobian(f, argnums=(0, 1, 2), mode=mode)
    rows = jac(0.5, -1.0, 2.0)
    print(f"mode={mode!r:10} passes = {jac.passes}   J = {np.round(rows, 4).tolist()}")

# %% [markdown]
# Same matrix, different cost: 3 forward sweeps (one per input) against 2 reverse
# passes (one per output). Now the two shapes that matter in practice:
#
# - a **loss**: n parameters in, one number out. Here `chain_loss`, the mean of
#   `tanh(w_i * w_{i+1})` over neighbouring parameters, so every parameter matters;
# - a **trajectory**: one input in, m numbers out. Here `trajectory` runs the
#   recurrence `h_k = sin(h_{k-1} + t)` from `h_0 = t` for m steps and returns every
#   `h_k`, so later outputs sit at the end of longer chains (as the states of a
#   simulation or of a recurrent network do).
#
# For each shape and size we build the whole Jacobian both ways, check that the two
# modes agree, read off how many passes each needed, and time it (the best of three
# runs, because this machine is noisy).


# %%
def chain_loss(*ws):
    return sum((a * b).tanh() for a, b in zip(ws, ws[1:])) / len(ws)


def trajectory(t, m):
    states, h = [], t
    for _ in range(m):
        h = (h + t).sin()
        states.append(h)
    return states


def best_seconds(fn, *args, repeats=3):
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - start)
    return best


sizes = [25, 50, 100, 200, 400]
passes = {(shape, mode): [] for shape in ("loss", "trajectory") for mode in ("forward", "reverse")}
seconds = {key: [] for key in passes}
print("      |      loss: n inputs, 1 output       | trajectory: 1 input, m outputs")
print(" size |  forward passes    reverse passes   |  forward passes    reverse passes")
for size in sizes:
    params = [math.sin(i) for i in range(size)]  # an arbitrary point, no zeros
    cells = []
    for shape, fn, args, argnums in (
        ("loss", chain_loss, params, tuple(range(size))),
        ("trajectory", trajectory, (0.3, size), 0),
    ):
        results = {}
        for mode in ("forward", "reverse"):
            jac = jacobian(fn, argnums=argnums, mode=mode)
            results[mode] = jac(*args)
            passes[shape, mode].append(jac.passes)
            seconds[shape, mode].append(best_seconds(jac, *args))
            cells.append(f"{jac.passes:5d} {seconds[shape, mode][-1] * 1000:7.1f} ms")
        assert np.allclose(results["forward"], results["reverse"], rtol=1e-12)
    print(f"{size:5d} | {cells[0]} {cells[1]} | {cells[2]} {cells[3]}")

# %% [markdown]
# The counts are exactly n forward sweeps against 1 reverse pass for the loss, and 1
# forward sweep against m reverse passes for the trajectory. Each pass walks a graph
# whose size grows with n (or m), so the loss's n forward sweeps cost about n² in all,
# while its one reverse pass costs about n: the ratio of the two times in the table
# grows with n. The trajectory is the mirror image: there the one forward sweep wins.

# %%
fig, (left, middle, right) = plt.subplots(1, 3, figsize=(13, 3.6))
# The lines coincide in pairs (n passes, or 1), so the loss's are drawn as big hollow
# circles and the trajectory's as small squares on top of them.
for (shape, mode), counts in passes.items():
    color = "C0" if mode == "forward" else "C1"
    if shape == "loss":
        style = {"marker": "o", "markersize": 10, "fillstyle": "none", "linestyle": "-"}
    else:
        style = {"marker": "s", "markersize": 4, "linestyle": "--"}
    left.plot(sizes, counts, color=color, label=f'{shape}, mode="{mode}"', **style)
left.set(
    title="passes for the whole Jacobian",
    xlabel="n inputs (loss) or m outputs (trajectory)",
    ylabel="passes",
)
left.legend()
for ax, shape, title, xlabel in (
    (middle, "loss", "a loss of n inputs", "n inputs"),
    (right, "trajectory", "a trajectory of m outputs", "m outputs"),
):
    for mode, style in (("forward", "o-"), ("reverse", "s--")):
        ax.plot(sizes, np.array(seconds[shape, mode]) * 1000, style, label=f'mode="{mode}"')
    ax.set(title=f"the Jacobian of {title}", xlabel=xlabel, ylabel="milliseconds")
    ax.legend()
fig.tight_layout()

# %% [markdown]
# Training a network is the loss shape with n in the thousands or millions: forward
# mode would need a sweep per weight, reverse mode one pass for all of them. That is
# why every deep-learning framework trains with reverse mode. Forward mode needs fewer
# passes in the other shape (few inputs, many outputs), and `jvp` is
# also the cheap way to get one directional derivative without a reverse pass.
#
# ## 3. The reverse pass written out as a program
#
# `trace(f, *args)` runs `f` once on Values and keeps the graph as a straight-line
# program that can be replayed on new numbers without building any nodes. Here is the
# tanh neuron of notebook 02, `o = tanh(x1*w1 + x2*w2 + b)`. micrograd labels the
# intermediate nodes `'x1*w1'`, `'x2*w2'` and `'x1*w1 + x2*w2'`; we give them the
# names of micrograd's variables instead (`x1w1`, `x2w2`, `x1w1x2w2`), because a
# label that is a Python identifier is used as the variable's name in the program
# (any other label would get a generated name such as `v1`).


# %%
def neuron(x1, x2, w1, w2, b):
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
    return o


inputs = {"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": 6.8813735870195432}
prog = trace(neuron, *inputs.values())
print(prog)

# %% [markdown]
# That is the forward pass, one line per op. `prog.source` is the Python that
# `prog.value_and_grad` actually runs: the same forward lines, then the reverse pass
# as one statement per edge of the graph, `g_a += g_c * ∂c/∂a` (`g_a` is dL/da). The
# first contribution to a gradient is written `=` rather than `+=`, and a local
# derivative of 1 (the `+` nodes) is not multiplied in.

# %%
print(prog.source)

# %% [markdown]
# Now the engine's own reverse pass on a freshly built graph of the same neuron, step
# by step, as in notebook 02:

# %%
leaves = [Value(data, label=name) for name, data in inputs.items()]
o = neuron(*leaves)
steps = list(o.backward_steps())
for step in steps:
    print(step)

# %% [markdown]
# Put the two side by side: each `+=` line of a step (one per edge) against the
# generated statement for that edge. They come in the same order, because the
# generated code *is* the engine's pass written down: node `o` first, then `n`, then
# the `+` and `*` nodes, each handing `upstream * local` to its parents. The cell
# checks that the statement targets follow the steps' edges one for one, and that the
# compiled program gives the engine's gradients to the last bit.

# %%
chain_rule_lines = [line for step in steps for line in str(step).splitlines() if "+=" in line]
# The generated reverse pass: the statements after the seed (the first g_ line).
statements = [line.strip() for line in prog.source.splitlines() if line.strip().startswith("g_")][
    1:
]
width = max(len(line) for line in chain_rule_lines)
print(f"{'backward_steps()':{width}}  |  prog.source")
print(f"{'-' * width}--+-{'-' * 24}")
for line, statement in zip(chain_rule_lines, statements, strict=True):
    print(f"{line:{width}}  |  {statement}")

edge_targets = ["g_" + parent.label for step in steps for parent, _, _ in step.edges]
assert [statement.split()[0] for statement in statements] == edge_targets

value, grads = prog.value_and_grad(*inputs.values())
assert value == o.data
assert grads == tuple(leaf.grad for leaf in leaves)
print("\nprog.value_and_grad:", dict(zip(inputs, grads)))

# %% [markdown]
# ## 4. Training with the compiled program
#
# `nn.fit(..., compile=True)` traces the training step (forward, loss, backward) once
# per batch shape and then runs the generated program for every step, instead of
# building a fresh graph of Values each time. The arithmetic is the same, in the same
# order, so the training history must be the same.
#
# The model is micrograd's demo MLP: 2 inputs, two hidden layers of 16 tanh units, one
# output, micrograd's U(-1, 1) initial weights; the data are 100 points of two moons,
# the loss is the hinge loss with labels ±1, and each epoch is one step of SGD on the
# whole data set (as in micrograd's demo). We time a run of 100 epochs each way, and a
# run of one epoch each way, which shows the one-off cost of compiling.

# %%
X, y = nn.datasets.moons(100, noise=0.1, seed=1)
labels = 2 * y - 1  # the hinge loss wants -1 and +1


def train(compile, epochs):
    model = nn.MLP(2, [16, 16, 1], init="uniform", seed=1)
    start = time.perf_counter()
    history = nn.fit(
        model,
        X,
        labels,
        loss="hinge",
        optimizer=nn.SGD(model.parameters(), lr=0.2),
        epochs=epochs,
        seed=0,
        verbose=0,
        compile=compile,
    )
    return history.history, time.perf_counter() - start


interpreted, interpreted_seconds = train(compile=False, epochs=100)
compiled, compiled_seconds = train(compile=True, epochs=100)
_, interpreted_first = train(compile=False, epochs=1)
_, compiled_first = train(compile=True, epochs=1)


def max_relative_difference(a, b):
    a, b = np.asarray(a), np.asarray(b)
    scale = np.maximum(np.maximum(np.abs(a), np.abs(b)), np.finfo(float).tiny)
    return float(np.max(np.abs(a - b) / scale))


for key in interpreted:
    difference = max_relative_difference(interpreted[key], compiled[key])
    print(f"{key:8}: max relative difference over 100 epochs = {difference:.1e}")
    assert difference <= 1e-12
print(f"final loss {compiled['loss'][-1]:.4f}, accuracy {compiled['accuracy'][-1]:.2f}")
print(
    f"100 epochs: compile=False {interpreted_seconds:.2f} s, compile=True {compiled_seconds:.2f} s"
)

# %% [markdown]
# The two histories agree to within rounding (usually exactly). Where does the time
# go? The first compiled step pays for tracing the step and turning its program into
# a Python function; every later step only runs that function. The one-epoch runs
# measure that fixed cost:

# %%
compiled_later = max(compiled_seconds - compiled_first, 0.0) / 99
interpreted_each = interpreted_seconds / 100
print(f"interpreted: about {interpreted_each * 1000:.1f} ms per epoch")
print(
    f"compiled:    {compiled_first:.2f} s for the first epoch, then about "
    f"{compiled_later * 1000:.1f} ms per epoch"
)
if interpreted_each > compiled_later:
    print(
        f"compiling pays for itself after about "
        f"{compiled_first / (interpreted_each - compiled_later):.0f} epochs"
    )

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
left.plot(interpreted["loss"], linewidth=4, alpha=0.4, label="compile=False")
left.plot(compiled["loss"], "k--", linewidth=1, label="compile=True")
left.set(title="training loss (the curves coincide)", xlabel="epoch", ylabel="hinge loss")
left.legend()
right.bar(["compile=False"], [interpreted_seconds], color="C0")
right.bar(["compile=True"], [compiled_first], color="C1", label="first epoch")
right.bar(
    ["compile=True"],
    [compiled_seconds - compiled_first],
    bottom=[compiled_first],
    color="C2",
    label="the other 99 epochs",
)
right.set(title="seconds for 100 epochs", ylabel="seconds")
right.legend()
fig.tight_layout()

# %% [markdown]
# The numbers depend on the machine, but the shape does not: the compiled step costs
# a fixed amount once and then much less per step than building and walking a graph
# of tens of thousands of Values, so it wins for any run longer than a few dozen epochs. Nothing
# about the gradients changed: the program runs the same chain rule, edge by edge, in
# the order `backward_steps()` showed above. The next notebook,
# `07_graphs_of_real_models`, draws that graph, all its nodes.
