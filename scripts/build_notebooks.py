"""Build the teaching notebooks in notebooks/ from the cells written here, run them, save them.

Each notebook is a list of markdown and code cells below. The script writes them with
nbformat, executes them top to bottom in a fresh python3 kernel (nbclient) and saves them with
their outputs, so they read well on a code host without running. Edit the cells here, never
the .ipynb files: tests/test_notebooks_meta.py checks that the committed notebooks hold
exactly these cells.

    .venv/bin/python scripts/build_notebooks.py             # all of them
    .venv/bin/python scripts/build_notebooks.py 03_xor      # one (name without .ipynb)
"""

from __future__ import annotations

import argparse
import re
import sys
import textwrap
import time
from pathlib import Path

import nbformat

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"


def md(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_markdown_cell(textwrap.dedent(text).strip())


def code(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(textwrap.dedent(text).strip())


# --- 01: the chain rule ------------------------------------------------------------------

CHAIN_RULE = [
    md(
        """
        # The chain rule, by hand and by the engine

        In this notebook you will learn what a derivative measures and how to estimate one by
        nudging the input (finite differences), then how the chain rule computes it exactly:
        for `f = w*x + b` at `x = 5` you will work out `df/dw = 5` by hand, get the same number
        from tracegrad's `backward()`, and read it off a picture of the computation graph in
        which every edge carries its local gradient.
        """
    ),
    code(
        """
        %matplotlib inline
        import matplotlib.pyplot as plt
        import numpy as np

        import viz
        from autograd import Value
        """
    ),
    md(
        """
        ## 1. A derivative is a slope

        Take `f(x) = 3x² - 4x + 5`. Its derivative says how fast `f` changes when `x` moves a
        little: nudge `x` by a small `h` and divide the change in `f` by `h`. Calculus gives the
        exact answer, `f'(x) = 6x - 4`, which is 14 at `x = 3`.
        """
    ),
    code(
        """
        def f(x):
            return 3 * x**2 - 4 * x + 5


        x = 3.0
        for h in [1.0, 0.1, 0.01, 0.001, 1e-6]:
            slope = (f(x + h) - f(x)) / h
            print(f"h = {h:<6g}  (f(x+h) - f(x)) / h = {slope:.6f}")
        print("exact f'(3) = 6*3 - 4 =", 6 * 3 - 4)
        """
    ),
    md(
        """
        The estimate approaches 14 as `h` shrinks, but not for ever. The *forward* difference
        above is off by about `3h` (half the second derivative times `h`); the *central*
        difference `(f(x+h) - f(x-h)) / 2h` cancels that term and is off by about `h²` times
        a sixth of the third derivative (which for our quadratic is 0, so the right-hand plot
        uses `sin` instead). And once `h` is tiny, subtracting two nearly equal floats loses
        digits, so the error grows again: the V shapes on the right. This is
        why finite differences are a good *check* of a gradient (tracegrad's `gradcheck`
        uses central differences with `h = 1e-6`) but a poor way to compute one: they cost
        one or two evaluations of `f` per input, and they are never exact.
        """
    ),
    code(
        """
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
        """
    ),
    md(
        """
        ## 2. `f = w*x + b` by hand

        Now a function of several inputs: `f(w, x, b) = w*x + b`, at `w = -2`, `x = 5`,
        `b = 1`, so `f = -9`. A partial derivative asks how `f` moves when *one* input moves
        and the others stay put:

        - `df/dw = x = 5`: raise `w` by 0.001 and `f` rises by `5 × 0.001`;
        - `df/dx = w = -2`;
        - `df/db = 1`.

        The computer can do the same thing one input at a time by finite differences:
        """
    ),
    code(
        """
        def f(w, x, b):
            return w * x + b


        w0, x0, b0, h = -2.0, 5.0, 1.0, 1e-6
        print("df/dw ≈", (f(w0 + h, x0, b0) - f(w0 - h, x0, b0)) / (2 * h))
        print("df/dx ≈", (f(w0, x0 + h, b0) - f(w0, x0 - h, b0)) / (2 * h))
        print("df/db ≈", (f(w0, x0, b0 + h) - f(w0, x0, b0 - h)) / (2 * h))
        """
    ),
    md(
        """
        ## 3. The same by the engine

        tracegrad records every operation on a `Value` into a graph. `f.backward()` walks
        that graph from `f` back to the inputs and fills in each node's `.grad`, the
        derivative of `f` with respect to that node: all of them in one pass, exactly.
        """
    ),
    code(
        """
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
        """
    ),
    md(
        """
        Here is the graph. Each box shows a node's data and grad; each edge from a parent
        into a node is labelled with the **local gradient** `d(node)/d(parent)`, which the
        node's op knows on its own, without knowing anything about the rest of the graph:
        a `*` node's local gradient towards one operand is the *other* operand, a `+` node's
        is 1.
        """
    ),
    code(
        """
        viz.draw(f)
        """
    ),
    md(
        """
        The chain rule says: the derivative of `f` with respect to any node is the product of
        the local gradients along the path from that node to `f` (and the sum over paths, if
        there are several). From `w` to `f`: `d(w*x)/dw = 5` times `df/d(w*x) = 1` gives
        `df/dw = 5`, the number in `w`'s box. Reading the edges from right to left,
        multiplying as you go, *is* backpropagation.

        ## 4. A longer chain

        Put a loss on top, the squared distance of `f` from a target of 3:
        `L = (f - 3)²`. Then `dL/df = 2(f - 3) = -24`, and by the chain rule
        `dL/dw = dL/df × df/dw = -24 × 5 = -120`. With `edge_labels="contribution"` every edge
        also shows the second half of the chain rule: the local gradient times the
        *upstream* gradient (the node's own grad) gives what flows into the parent. (The
        dashed ellipses are constants, `3` and the exponent `2`: they get edges too, but
        nothing needs their gradients.)
        """
    ),
    code(
        """
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
        """
    ),
    md(
        """
        Every gradient in that picture was found by one multiplication per edge, walking
        backwards once. That is why backpropagation scales to networks with millions of
        weights, where finite differences would need millions of evaluations. The next
        notebook, `02_step_through_a_neuron.ipynb`, walks through that backward pass one
        step at a time.
        """
    ),
]


# --- 02: step through a neuron -------------------------------------------------------------

NEURON = [
    md(
        """
        # Stepping through backprop on one neuron

        In this notebook you will learn how the backward pass runs, one node at a time, on
        the classic neuron `o = tanh(x1*w1 + x2*w2 + b)`: each step applies the chain rule at
        one node and passes gradients to its parents, which you will read as text
        (`backward_steps()`) and watch as a film (`viz.step_through`). You will also see why
        a value used twice must *add up* its gradients, and confirm every number with
        `gradcheck`.
        """
    ),
    code(
        """
        import math

        import viz
        from autograd import Value, gradcheck
        """
    ),
    md(
        """
        ## The neuron

        Two inputs, two weights and a bias; the bias `b = 6.8813735870195432` is chosen so
        that `n = x1*w1 + x2*w2 + b` is `0.8814` and `o = tanh(n) = 0.7071` (= 1/√2),
        which makes the numbers in the backward pass easy to follow. Every intermediate node
        gets a label so the chain rule below reads with names.
        """
    ),
    code(
        """
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
        """
    ),
    md(
        """
        Every grad is 0: nothing has flowed back yet. The edges already carry the local
        gradients, computed during the forward pass: `do/dn = 1 - tanh(n)² = 0.5`, 1 into
        each `+`, and into each `*` the other operand.

        ## The backward pass, one step per cell

        `o.backward_steps()` is a generator over the same reverse pass that `o.backward()`
        runs. It visits the nodes in reverse topological order, so that when a node's turn
        comes every node that uses it has already been processed and its gradient is final.
        At each step the node multiplies its final gradient (the *upstream* gradient) by the
        local gradient on each incoming edge and **adds** the product into that parent's
        grad. Printing a step spells the chain rule out.
        """
    ),
    code(
        """
        steps = o.backward_steps()
        step = next(steps)
        print(step)
        """
    ),
    md(
        """
        The pass starts with `do/do = 1`, the seed. `o = tanh(n)`, and the derivative of
        tanh is `1 - tanh²`, so `do/dn = 1 × (1 - 0.7071²) = 0.5`.
        """
    ),
    code(
        """
        step = next(steps)
        print(step)
        """
    ),
    md(
        """
        `n` is a sum. A `+` node's local gradient is 1 towards each operand, so it hands its
        gradient, 0.5, unchanged to both: a sum *distributes* the gradient.
        """
    ),
    code(
        """
        step = next(steps)
        print(step)
        """
    ),
    md(
        """
        `b` is a leaf: it has no parents, so its step propagates nothing. Its grad, 0.5, is
        final: raising the bias by a little `ε` raises `o` by about `0.5 ε`.
        """
    ),
    code(
        """
        step = next(steps)
        print(step)
        """
    ),
    md("Another sum: both products receive 0.5."),
    code(
        """
        step = next(steps)
        print(step)
        """
    ),
    md(
        """
        A product *swaps*: `d(x2*w2)/dx2 = w2 = 1` and `d(x2*w2)/dw2 = x2 = 0`. So `w2` gets
        no gradient at all. That makes sense: with `x2 = 0`, the weight `w2` multiplies
        nothing, and changing it cannot change the output.
        """
    ),
    md("The first of its parents is a leaf: its step has nothing to pass on."),
    code(
        """
        step = next(steps)
        print(step)
        """
    ),
    md("And the other leaf of that product:"),
    code(
        """
        step = next(steps)
        print(step)
        """
    ),
    md(
        """
        Those were the two leaves `w2` and `x2`. Now the other product, where the swap
        gives `do/dx1 = 0.5 × w1 = -1.5` and `do/dw1 = 0.5 × x1 = 1`.
        """
    ),
    code(
        """
        step = next(steps)
        print(step)
        """
    ),
    md("The last two steps are the leaves `w1` and `x1`, whose gradients are now final:"),
    code(
        """
        step = next(steps)
        print(step)
        """
    ),
    code(
        """
        step = next(steps)
        print(step)
        assert next(steps, None) is None  # the pass is over
        for v in (x1, w1, x2, w2, b):
            print(f"do/d{v.label} = {v.grad:+.4f}")
        """
    ),
    md(
        """
        The generator is exhausted and every node holds its gradient. `w1`'s is 1 (up to
        rounding): nudging `w1` by `ε` moves `o` by `ε`. To make `o` grow we could raise `w1`
        (gradient +1) or the bias (+0.5), or lower `x1` (gradient -1.5); `w2` does not matter
        while `x2` is 0. Gradient descent on a network's weights is exactly this reading.

        ## The same pass as a film

        `viz.step_through(o)` runs the pass again and shows it as a player: one frame per
        step, the node being processed outlined in red, the parents receiving its
        contributions in orange, grads that are not final yet in grey. Press *next* or drag
        the slider. Because `backward_steps` accumulates into `.grad` exactly like
        `backward()`, we clear the grads first.
        """
    ),
    code(
        """
        o.zero_grad()
        viz.step_through(o)
        """
    ),
    md(
        """
        ## A value used twice: why gradients accumulate

        In `s = a + a` the node `a` feeds `s` along *two* edges. If `a` grows by `ε`, both
        operands grow by `ε` and `s` grows by `2ε`: `ds/da = 2`. The engine gets there by
        giving each edge its own contribution (1 each) and **adding** them into `a.grad`.
        An engine that *assigned* the gradient (`=` instead of `+=`) would keep only the
        last edge's 1: a classic backprop bug.
        """
    ),
    code(
        """
        a = Value(3.0, label="a")
        s = a + a
        s.label = "s"
        for step in s.backward_steps():
            print(step)
        print("a.grad =", a.grad)
        assert a.grad == 2.0
        viz.draw(s)
        """
    ),
    md(
        """
        Two edges, each with local gradient 1, and two `+=` lines. The same happens whenever
        a value is used more than once, which in a neural network is all the time (an input
        feeds every neuron of the first layer). Here is a value used along two different
        paths, `f = (p*q) * (p+q)`:
        """
    ),
    code(
        """
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
        """
    ),
    md(
        """
        Accumulation has a flip side: gradients also accumulate *across* passes. Calling
        `backward()` twice without zeroing doubles every gradient, as in PyTorch. That is
        why a training loop calls `zero_grad()` before each backward pass.
        """
    ),
    code(
        """
        f.backward()
        print("after a second backward():", p.grad)
        f.zero_grad()
        f.backward()
        print("after zero_grad() and backward():", p.grad)
        """
    ),
    md(
        """
        ## Confirming the neuron with `gradcheck`

        `gradcheck(fn, inputs)` runs `backward()` on `fn` at `inputs` and compares every
        input's gradient with a central finite difference (step `1e-6`). It returns `True`
        when all agree, and raises `GradcheckError` naming the culprit when not (that is the
        subject of `04_property_testing_gradients.ipynb`).
        """
    ),
    code(
        """
        def neuron(x1, x2, w1, w2, b):
            return (x1 * w1 + x2 * w2 + b).tanh()


        print(gradcheck(neuron, [2.0, 0.0, -3.0, 1.0, 6.8813735870195432]))

        # And the numbers from the steps above, against what calculus says:
        o_ = math.tanh(2.0 * -3.0 + 0.0 * 1.0 + 6.8813735870195432)
        dn = 1 - o_**2
        for v, expected in ((x1, dn * w1.data), (w1, dn * x1.data), (x2, dn * w2.data),
                            (w2, dn * x2.data), (b, dn)):
            assert math.isclose(v.grad, expected, abs_tol=1e-12), v.label
        print("every step's gradient matches 1 - tanh(n)² times the other operand")
        """
    ),
]


# --- 03: XOR ----------------------------------------------------------------------------

XOR = [
    md(
        """
        # XOR: why a hidden layer, and what backprop computes in it

        In this notebook you will learn why a single neuron (logistic regression) cannot
        learn XOR, and watch its loss get stuck at ln 2; then train the smallest network
        that can, a 2-3-1 sigmoid MLP trained with Keras's recipe, and watch it succeed.
        Along the way you will write the backward pass of that network out by hand as the
        *delta rule*, in maths and in numpy, and check it against the engine's gradients,
        and look at the loss curves, the decision boundaries and the trained network's graph.
        """
    ),
    code(
        """
        %matplotlib inline
        import math

        import matplotlib.pyplot as plt
        import numpy as np

        import nn
        import viz
        from autograd import Value

        X, y = nn.datasets.xor()
        for (a, b), t in zip(X.astype(int), y.astype(int)):
            print(f"{a} xor {b} = {t}")
        """
    ),
    md(
        """
        A helper to draw what a model predicts over the whole square: the colour is the
        predicted probability of class 1, the black line the decision boundary (0.5), the
        dots the four training points.
        """
    ),
    code(
        """
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
        """
    ),
    md(
        """
        ## 1. Logistic regression fails

        One sigmoid neuron, `p = σ(w1 x1 + w2 x2 + b)`, draws a straight line through the
        plane: it predicts 1 on one side and 0 on the other. No straight line puts (0, 1)
        and (1, 0) on one side and (0, 0) and (1, 1) on the other. We train it anyway, with
        the same recipe we will use for the MLP: SGD with learning rate 0.5, binary
        cross-entropy, 1000 epochs of one batch of all 4 points.
        """
    ),
    code(
        """
        logistic = nn.MLP(2, [1], output_activation="sigmoid", seed=0)
        print(logistic.summary())
        logistic_history = nn.fit(
            logistic, X, y, loss="binary_crossentropy",
            optimizer=nn.SGD(logistic.parameters(), lr=0.5),
            epochs=1000, batch_size=4, seed=0, verbose=0,
        )
        final = logistic_history.history["loss"][-1]
        print(f"final loss {final:.6f}, ln 2 = {math.log(2):.6f}")
        print("predictions:", logistic.predict(X).ravel().round(4))
        assert abs(final - math.log(2)) < 1e-3
        """
    ),
    md(
        r"""
        The loss is stuck at $\ln 2 \approx 0.6931$, and every prediction is 0.5. That is
        the best a line can do. At $w = 0, b = 0$ the gradient of the mean binary
        cross-entropy is $\frac{1}{4}\sum_i (p_i - y_i)\,x_i$ with every $p_i = \tfrac12$:
        for $w_1$ the two points with $x_1 = 1$ contribute $-\tfrac12$ and $+\tfrac12$,
        and likewise for $w_2$ and $b$. So the gradient is zero there, and since this
        loss is convex in $(w, b)$ that point is the global minimum: predict
        "0.5, I don't know" everywhere, for a loss of $-\ln \tfrac12 = \ln 2$. (The
        "accuracy" that `fit` reports for such a model is meaningless: predictions within
        1e-10 of 0.5 fall on either side of the threshold by rounding.)
        """
    ),
    md(
        """
        ## 2. A hidden layer: the 2-3-1 sigmoid MLP

        Keras's recipe: `Dense(3, sigmoid)` then `Dense(1, sigmoid)`, SGD with learning rate
        0.5, binary cross-entropy, 1000 epochs, batch size 4. In tracegrad:
        """
    ),
    code(
        """
        model = nn.MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid", seed=0)
        print(model.summary())
        """
    ),
    md(
        r"""
        ### What `backward()` computes here: the delta rule

        Before training, let us write the backward pass out by hand. For a batch of $n$ rows
        $X$ ($n \times 2$) with targets $y$, the forward pass is

        $$H = \sigma(X W_1^\top + b_1) \quad (n \times 3), \qquad
        \hat y = \sigma(H W_2^\top + b_2) \quad (n \times 1),$$

        $$L = -\frac1n \sum_i \big[\,y_i \ln \hat y_i + (1 - y_i) \ln(1 - \hat y_i)\big].$$

        Call $\delta$ the gradient of $L$ with respect to a layer's pre-activation $z$.
        At the output, the sigmoid's derivative $\hat y(1 - \hat y)$ cancels the
        cross-entropy's denominators, leaving

        $$\delta_2 = \frac{\partial L}{\partial z_2} = \frac{\hat y - y}{n}.$$

        Each weight's gradient is its input times the delta it feeds:
        $\partial L / \partial W_2 = \delta_2^\top H$ and
        $\partial L / \partial b_2 = \sum_i \delta_{2,i}$.
        The hidden layer receives $\delta_2$ back through $W_2$ and through its own sigmoid:

        $$\delta_1 = (\delta_2 W_2) \odot H \odot (1 - H), \qquad
        \frac{\partial L}{\partial W_1} = \delta_1^\top X, \qquad
        \frac{\partial L}{\partial b_1} = \textstyle\sum_i \delta_{1,i}.$$

        In numpy, for the model's current weights:
        """
    ),
    code(
        """
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
        print("dL/dW1 by the delta rule:\\n", dW1.round(6))
        """
    ),
    md(
        """
        And the engine's: one forward pass per row through the scalar graph, the same loss,
        one `backward()`. Every weight is a `Value` whose `.grad` now holds `dL/dw`.
        """
    ),
    code(
        """
        def grads(layer):
            return np.array([[w.grad for w in neuron.w] for neuron in layer.neurons])


        def bias_grads(layer):
            return np.array([neuron.b.grad for neuron in layer.neurons])


        preds = [model(row) for row in X.tolist()]
        loss = nn.losses.bce(preds, y)
        model.zero_grad()
        loss.backward()
        print("dL/dW1 by the engine:\\n", grads(model.layers[0]).round(6))

        assert np.allclose(grads(model.layers[0]), dW1, rtol=1e-10, atol=1e-12)
        assert np.allclose(bias_grads(model.layers[0]), db1, rtol=1e-10, atol=1e-12)
        assert np.allclose(grads(model.layers[1]), dW2, rtol=1e-10, atol=1e-12)
        assert np.allclose(bias_grads(model.layers[1]), db2, rtol=1e-10, atol=1e-12)
        print("all 13 gradients agree with the delta rule")
        """
    ),
    md(
        """
        The engine never heard of deltas: it applied the chain rule node by node. The delta
        rule is what those node-by-node steps add up to for a layered network.

        ### Training

        `nn.fit` does per batch what a PyTorch user writes by hand: `zero_grad()`, forward,
        loss, `backward()`, `step()`. (`verbose=1` would show a progress bar.)
        """
    ),
    code(
        """
        history = nn.fit(
            model, X, y, loss="binary_crossentropy",
            optimizer=nn.SGD(model.parameters(), lr=0.5),
            epochs=1000, batch_size=4, seed=0, verbose=0,
        )
        probs = model.predict(X).ravel()
        for (a, b), t, p in zip(X.astype(int), y.astype(int), probs):
            print(f"{a} xor {b} = {t}   predicted {p:.3f} -> {int(p > 0.5)}")
        print(f"final loss {history.history['loss'][-1]:.4f}")
        assert ((probs > 0.5) == (y == 1)).all()
        """
    ),
    md(
        """
        All four right. The loss curves side by side: the single neuron flattens at ln 2,
        the MLP keeps going down once its hidden units have found useful features.
        """
    ),
    code(
        """
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.plot(logistic_history.history["loss"], label="logistic regression (2-1)")
        ax.plot(history.history["loss"], label="MLP (2-3-1)")
        ax.axhline(math.log(2), color="gray", linestyle=":", label="ln 2")
        ax.set_xlabel("epoch")
        ax.set_ylabel("binary cross-entropy")
        ax.legend()
        fig.tight_layout()
        """
    ),
    md(
        """
        And the decision boundaries. The single neuron paints the whole square 0.5 (there is
        no boundary to draw); the MLP's hidden layer bends the plane so that the two
        diagonals end up on different sides.
        """
    ),
    code(
        """
        fig, axes = plt.subplots(1, 2, figsize=(9, 4))
        plot_boundary(logistic, axes[0], "logistic regression: p = 0.5 everywhere")
        plot_boundary(model, axes[1], "2-3-1 MLP")
        fig.tight_layout()
        """
    ),
    md(
        """
        ## 3. The trained network as a graph

        Finally, the whole trained network for one input, (1, 0) with target 1: three
        hidden neurons, one output neuron and the loss on top. Every edge carries its local
        gradient and every node its gradient of the loss, after one backward pass.
        """
    ),
    code(
        """
        x = [Value(1.0, label="x1"), Value(0.0, label="x2")]
        out = model(x)
        out.label = "y_hat"
        loss = nn.losses.bce([out], [1.0])
        loss.label = "loss"
        model.zero_grad()
        loss.backward()
        print(f"y_hat = {out.data:.4f}, loss = {loss.data:.4f}")
        viz.draw(loss, precision=3)
        """
    ),
]


# --- 04: property testing gradients -----------------------------------------------------

PROPERTY = [
    md(
        """
        # Property-testing gradients

        In this notebook you will learn how to make sure a gradient is right. You will
        define your own op with `autograd.primitive` and check it with `gradcheck`, plant a
        bug in a derivative and see `gradcheck` find it and name the node at fault, then let
        hypothesis search random expressions for a bug that a hand-picked test point misses
        and shrink it to a small expression you can look at. Last, a gradient of a gradient:
        `grad(grad(f))`.
        """
    ),
    code(
        """
        %matplotlib inline
        import math

        import matplotlib.pyplot as plt
        import numpy as np
        from hypothesis import HealthCheck, find, given, settings

        import viz
        from autograd import GradcheckError, Value, grad, gradcheck, primitive
        from autograd.testing import strategies
        """
    ),
    md(
        """
        ## 1. A primitive of your own, checked

        `primitive(name, forward, derivative)` turns a function on floats and its local
        derivative into an op the engine treats like a built-in one. Softplus,
        `log(1 + eˣ)`, has the sigmoid as its derivative:
        """
    ),
    code(
        """
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
        """
    ),
    md(
        """
        The `softplus` node is drawn like any op, with its local gradient on the edge.
        `gradcheck` compares the engine's gradients with central finite differences
        at the inputs you give, here the function inside an expression at a few points:
        """
    ),
    code(
        """
        for point in ([0.5, -1.0], [2.0, 0.3], [-3.0, 1.5]):
            print(point, gradcheck(lambda a, b: softplus(a * b) + softplus(b), point))
        """
    ),
    md(
        """
        ## 2. A planted bug, found and named

        Swish is `x · σ(x)`. Its derivative needs the product rule,
        `σ(x) + x · σ(x)(1 - σ(x))`, and forgetting the second term is an easy slip. We
        plant exactly that slip and use `swish` deep inside a larger function:
        """
    ),
    code(
        """
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
        """
    ),
    md(
        """
        `GradcheckError` first reports which inputs got a wrong gradient (both, here, since
        both flow through `swish`), then goes one level deeper: it checks each node's stored
        local gradient against a finite difference of that node's own op, and names the
        first one that is wrong. The exception carries that node as `.node`, so we can draw
        it with everything that feeds it, outlined in red:
        """
    ),
    code(
        """
        culprit = caught.node
        print(f"culprit: op {culprit.op!r}, input {culprit.parents[0].data:.4f}, "
              f"stored local gradient {culprit.local_grads[0]:.4f}")
        assert culprit.op == "swish"
        viz.draw(culprit, highlight=[culprit], show_grad=False)
        """
    ),
    md("With the product rule restored, the same check passes:"),
    code(
        """
        swish = primitive(
            "swish",
            lambda x: x * sigmoid(x),
            lambda x, out: sigmoid(x) + x * sigmoid(x) * (1 - sigmoid(x)),
        )
        print(gradcheck(model, [0.7, -1.2]))
        """
    ),
    md(
        """
        ## 3. A bug that hides from a hand-picked point

        `gradcheck` checks the points you give it. Some bugs only show at some inputs. Take
        `mulexp(a, b) = a · eᵇ`, whose partial derivatives are `eᵇ` and `a · eᵇ`, and plant
        a bug by swapping them. At `a = 1` the two are equal, so a test at the "obvious"
        point passes:
        """
    ),
    code(
        """
        mulexp = primitive(
            "mulexp",
            lambda a, b: a * math.exp(b),
            lambda a, b, out: (out, math.exp(b)),  # bug: the two partials swapped
        )
        print(gradcheck(lambda a, b: mulexp(a, b), [1.0, 0.5]))
        """
    ),
    md(
        """
        A property test does not pick the points. `strategies.expressions(ops=...)` draws
        random expressions over the ops you list (your primitives included) together with
        inputs at which every op is inside its domain and away from kinks, so that
        `gradcheck(f, inputs)` **must** pass for a correct engine and correct primitives.
        Written as a test in your suite, it is four lines:
        """
    ),
    code(
        """
        QUIET = settings(database=None, derandomize=True, max_examples=1000, deadline=None,
                         suppress_health_check=[HealthCheck.too_slow])
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
            print("\\n".join(error.__notes__[:1]))
        """
    ),
    md(
        """
        Hypothesis found a failing expression and then *shrank* it: it kept trying simpler
        expressions and smaller inputs as long as the test still failed. `hypothesis.find`
        gives us the same search as a function call, so we can look at both ends of the
        shrinking: the first failure it came across, and the one it ended with.
        """
    ),
    code(
        """
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
        """
    ),
    code(
        """
        def graph_of(f, inputs):
            xs = [Value(v, label=f"x{i}") for i, v in enumerate(inputs)]
            out = f(*xs)
            out.backward()
            return out


        viz.draw(graph_of(first_f, first_inputs), show_grad=False)
        """
    ),
    md(
        """
        That is what a random failure looks like. The shrunk one is small enough to reason
        about: `mulexp`'s first operand is not 1 there, so the swapped partials differ.
        `gradcheck` on it names the primitive:
        """
    ),
    code(
        """
        try:
            gradcheck(f, inputs)
        except GradcheckError as error:
            print(error)
            assert error.node.op == "mulexp"
        viz.draw(graph_of(f, inputs))
        """
    ),
    md(
        """
        ## 4. Gradients of gradients

        `grad(f)` turns a function of Values into a function that returns its derivative at
        a number. Called inside another `grad`, it returns a node instead, so derivatives
        nest: `grad(grad(f))` is the second derivative. For `f = tanh`,
        `f' = 1 - tanh²` and `f'' = -2 tanh · (1 - tanh²)`:
        """
    ),
    code(
        """
        def f(x):
            return x.tanh()


        df = grad(f)
        d2f = grad(grad(f))
        x0 = 0.8
        print(f"f'(0.8)  = {df(x0):.6f}   1 - tanh² = {1 - math.tanh(x0)**2:.6f}")
        print(f"f''(0.8) = {d2f(x0):.6f}   -2 tanh (1 - tanh²) = "
              f"{-2 * math.tanh(x0) * (1 - math.tanh(x0)**2):.6f}")

        xs = np.linspace(-3, 3, 121)
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.plot(xs, np.tanh(xs), label="tanh")
        ax.plot(xs, [df(v) for v in xs], label="grad(tanh)")
        ax.plot(xs, [d2f(v) for v in xs], label="grad(grad(tanh))")
        ax.axhline(0, color="gray", linewidth=0.5)
        ax.legend()
        fig.tight_layout()
        """
    ),
    md(
        """
        For a second derivative the engine differentiates the backward pass itself: with
        `create_graph=True` every gradient is a `Value` with its own graph. A primitive
        joins in only if its derivative is written with Value operations. The softplus
        above used `math.exp`, so the engine says it cannot go on:
        """
    ),
    code(
        """
        try:
            grad(grad(softplus))(0.0)
        except NotImplementedError as error:
            print(error)
        """
    ),
    code(
        """
        softplus2 = primitive(
            "softplus",
            lambda x: math.log1p(math.exp(x)),
            lambda x, out: 1 / (1 + (-x).exp()) if isinstance(x, Value) else sigmoid(x),
        )
        # softplus'' = σ'(x) = σ(x)(1 - σ(x)), which is 1/4 at 0.
        print(grad(grad(softplus2))(0.0))
        assert math.isclose(grad(grad(softplus2))(0.0), 0.25)
        """
    ),
]


# --- 05: from scalars to tensors ----------------------------------------------------------

TENSORS = [
    md(
        """
        # From scalars to tensors

        In this notebook you will learn what changes, and what does not, when the same
        network runs on `Tensor`s instead of scalar `Value`s. `nn.MLP(..., engine="tensor")`
        is the XOR MLP of notebook 03 computed with a handful of array operations: it gives
        the same numbers, loss by loss, from a graph of a dozen array nodes instead of
        hundreds of scalar ones. Then you will train a bigger MLP on handwritten digits with
        `nn.fit` and its progress bar, log the run for TensorBoard, look at the weights'
        histograms before and after training, and measure how much faster the tensor engine
        is.
        """
    ),
    code(
        """
        %matplotlib inline
        import shutil
        import tempfile
        import time
        from pathlib import Path

        import matplotlib.pyplot as plt
        import numpy as np

        import nn
        import viz
        """
    ),
    md(
        """
        ## 1. The same MLP, two engines

        A scalar model builds a graph of `Value`s: one node per multiplication, per addition,
        per sample. On `engine="tensor"` the whole batch is one `(n, 2)` array and a layer is
        three array operations: a matrix product `x @ W`, a broadcast bias `+ b`, an
        elementwise activation. The same `seed` draws the same weights on both engines, so
        the two models below start equal, and `nn.fit` trains them with the same recipe:
        SGD with learning rate 0.5 on the binary cross-entropy of all four points, 1000
        epochs. Same maths, so the same losses, epoch by epoch, up to float rounding:
        """
    ),
    code(
        """
        X, y = nn.datasets.xor()
        histories, models = {}, {}
        for engine in ("value", "tensor"):
            model = nn.MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid",
                           seed=0, engine=engine)
            histories[engine] = nn.fit(
                model, X, y, loss="binary_crossentropy",
                optimizer=nn.SGD(model.parameters(), lr=0.5),
                epochs=1000, batch_size=4, seed=0, verbose=0,
            ).history["loss"]
            models[engine] = model
            print(f"{engine:6}: final loss {histories[engine][-1]:.6f}, "
                  f"predictions {model.predict(X).ravel().round(3)}")

        assert np.allclose(histories["value"], histories["tensor"], rtol=1e-9, atol=1e-12)
        print("the two engines agree on all 1000 losses")
        print(models["tensor"].summary())
        """
    ),
    md(
        """
        Here is the tensor graph of the loss for the whole batch of four. Edges now carry
        the *shape* of the gradient flowing along them; `x @ W0 + b0` broadcasts the bias
        over the batch, and the backward pass sums its gradient back to the bias's shape.
        The scalar graph of the same loss has a node for every one of those numbers
        (notebook 03 drew it for a single input).
        """
    ),
    code(
        """
        tensor_model = models["tensor"]
        loss = nn.losses.bce(tensor_model(X), y)
        loss.label = "loss"
        tensor_model.zero_grad()
        loss.backward()
        viz.draw(loss, show_data=False, show_grad=False)
        """
    ),
    md(
        """
        ## 2. Handwritten digits

        scikit-learn's digits: 1797 images of 8 × 8 pixels, each a digit from 0 to 9
        (`nn.datasets.digits()`; without scikit-learn we fall back to two moons). We hold
        297 of them out for testing and train a 64-32-10 MLP with relu hidden units on the
        rest: Adam with learning rate 0.01, cross-entropy on the ten logits, batches of 64,
        15 epochs. `verbose=1` shows tqdm's progress bar with the running loss and
        accuracy.
        """
    ),
    code(
        """
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
        """
    ),
    md(
        """
        The run is logged for TensorBoard by `nn.callbacks.TensorBoard`: per epoch the loss
        and accuracy as scalars, and histograms of every weight, bias, gradient and layer
        activation.
        """
    ),
    code(
        """
        log_dir = Path(tempfile.gettempdir()) / "tracegrad-runs" / "digits"
        shutil.rmtree(log_dir, ignore_errors=True)  # a fresh run each time

        model = nn.MLP(nin, [32, classes], activation="relu", init="he_uniform", seed=0,
                       engine="tensor")
        initial = model.state_dict()
        history = nn.fit(
            model, X_train, y_train, loss="sparse_categorical_crossentropy",
            optimizer=nn.Adam(model.parameters(), lr=0.01),
            epochs=15, batch_size=64, seed=0, verbose=1,
            callbacks=[nn.callbacks.TensorBoard(log_dir)],
        )
        test = nn.evaluate(model, X_test, y_test, "sparse_categorical_crossentropy")
        print(f"test loss {test['loss']:.3f}, test accuracy {test['accuracy']:.3f}")
        assert test["accuracy"] > 0.9
        """
    ),
    md("The loss and accuracy per epoch, as `nn.fit`'s `History` holds them:"),
    code(
        """
        fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3))
        left.plot(history.history["loss"])
        left.set(title="training loss", xlabel="epoch")
        right.plot(history.history["accuracy"])
        right.set(title="training accuracy", xlabel="epoch")
        fig.tight_layout()
        """
    ),
    md("Ten test digits with the network's guesses (wrong guesses in red):"),
    code(
        """
        guesses = model.predict(X_test).argmax(axis=1)
        if images:
            fig, axes = plt.subplots(1, 10, figsize=(10, 1.4))
            for ax, image, guess, label in zip(axes, X_test, guesses, y_test):
                ax.imshow(image.reshape(8, 8), cmap="gray_r")
                ax.set_title(str(guess), color="k" if guess == label else "red")
                ax.axis("off")
        print(f"{int((guesses != y_test).sum())} of {len(y_test)} test digits are wrong")
        """
    ),
    md(
        """
        ## 3. TensorBoard

        The run wrote real TensorBoard event files. To browse them, run this in a terminal
        and open the address it prints:
        """
    ),
    code(
        """
        print(f"tensorboard --logdir {log_dir}")
        """
    ),
    md(
        """
        Without leaving the notebook we can read the files back with TensorBoard's own
        reader and list what was logged:
        """
    ),
    code(
        """
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

        events = EventAccumulator(str(log_dir), size_guidance={"histograms": 0})
        events.Reload()
        tags = events.Tags()
        print("scalars:   ", sorted(tags["scalars"]))
        print("histograms:", sorted(tags["histograms"]))
        logged = [event.value for event in events.Scalars("loss")]
        print(f"loss per epoch, as logged: {logged[0]:.3f} ... {logged[-1]:.3f}")
        assert np.allclose(logged, history.history["loss"], rtol=1e-6)
        """
    ),
    md(
        """
        ## 4. The weights, before and after

        TensorBoard shows the histograms over time; here are the first and last ones
        inline. He-uniform initialisation draws the first layer's weights from
        `U(-√(6/64), √(6/64))`, a flat box; training spreads them out.
        """
    ),
    code(
        """
        trained = model.state_dict()
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
        for ax, name in zip(axes, ["layers.0.weight", "layers.1.weight"]):
            bins = np.linspace(min(initial[name].min(), trained[name].min()),
                               max(initial[name].max(), trained[name].max()), 40)
            ax.hist(initial[name].ravel(), bins=bins, alpha=0.6, label="initial")
            ax.hist(trained[name].ravel(), bins=bins, alpha=0.6, label="after 15 epochs")
            ax.set_title(f"{name} {initial[name].shape}")
            ax.legend()
        fig.tight_layout()
        """
    ),
    md(
        """
        ## 5. How much faster?

        The scalar engine does Python work for every multiplication; the tensor engine does
        Python work for every *array* operation and leaves the arithmetic to numpy. To see
        the difference without waiting, we time one epoch of `nn.fit` on a small slice of
        the data (128 samples, batches of 32) with a smaller 16-unit hidden layer, on each
        engine, from the same weights. (The numbers depend on the machine; `bench/` has
        careful measurements.)
        """
    ),
    code(
        """
        def epoch_seconds(engine, repeats):
            times = []
            for _ in range(repeats):
                model = nn.MLP(nin, [16, classes], activation="relu", seed=0, engine=engine)
                start = time.perf_counter()
                nn.fit(model, X_train[:128], y_train[:128],
                       loss="sparse_categorical_crossentropy",
                       optimizer=nn.SGD(model.parameters(), lr=0.1), epochs=1, batch_size=32,
                       shuffle=False, verbose=0)
                times.append(time.perf_counter() - start)
            return min(times)


        scalar_time = epoch_seconds("value", repeats=1)
        tensor_time = epoch_seconds("tensor", repeats=5)
        print(f"Value:  {scalar_time * 1000:8.1f} ms per epoch")
        print(f"Tensor: {tensor_time * 1000:8.1f} ms per epoch")
        print(f"the tensor engine is about {scalar_time / tensor_time:.0f}x faster here")
        """
    ),
    md(
        """
        Same maths, same gradients (section 1 checked them loss by loss), a much smaller
        graph, and the speed of numpy. The scalar engine is still the one to *learn* from:
        every number in it is a node you can draw, as in notebooks 01 to 03.
        """
    ),
]


NOTEBOOKS: dict[str, list[nbformat.NotebookNode]] = {
    "01_chain_rule": CHAIN_RULE,
    "02_step_through_a_neuron": NEURON,
    "03_xor": XOR,
    "04_property_testing_gradients": PROPERTY,
    "05_from_scalars_to_tensors": TENSORS,
}

# The player's HTML carries a random DOM id per display; a fixed one keeps rebuilt notebooks
# byte-for-byte stable (one player per output, so ids stay unique on the page).
_PLAYER_ID = re.compile(r"tracegrad-[0-9a-f]{12}")
# Default reprs name a memory address, which changes from run to run.
_ADDRESS = re.compile(r" at 0x[0-9a-f]+>")


def notebook(cells: list[nbformat.NotebookNode]) -> nbformat.NotebookNode:
    """The cells as a notebook with fixed cell ids (nbformat draws random ones)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.from_dict(dict(cell)) for cell in cells]
    for k, cell in enumerate(nb.cells):
        cell.id = f"cell-{k:02d}"
    nb.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    }
    return nb


def execute(nb: nbformat.NotebookNode) -> None:
    """Run every cell in a fresh python3 kernel with notebooks/ as the working directory."""
    from nbclient import NotebookClient

    client = NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    client.execute()
    for k, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "text/html" in data:
                data["text/html"] = _PLAYER_ID.sub(f"tracegrad-player-{k:02d}", data["text/html"])
            if "text/plain" in data:  # reprs such as <graphviz.graphs.Digraph at 0x7f...>
                data["text/plain"] = _ADDRESS.sub(">", data["text/plain"])
    nb.metadata.pop("widgets", None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebooks to build (default: all)")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in NOTEBOOKS]
    if unknown:
        parser.error(f"unknown notebook(s) {unknown}; known: {', '.join(NOTEBOOKS)}")
    for name in args.names or NOTEBOOKS:
        nb = notebook(NOTEBOOKS[name])
        start = time.perf_counter()
        execute(nb)
        path = NOTEBOOK_DIR / f"{name}.ipynb"
        nbformat.write(nb, path)
        print(f"{path.name}: {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
