"""``viz.lab``: watch a network learn, step by step, and keep training it live in the page.

``lab(model, X, y, loss=..., optimizer=..., steps=...)`` trains ``model`` in place exactly as
the plain loop does (per step: ``optimizer.zero_grad()``, the batch's forward pass, the loss,
``backward()``, ``optimizer.step()``; batches drawn as ``nn.fit`` draws them with ``seed``)
and records at every step the loss, the parameters before and after the update, the batch
gradient, and the one-sample loss graph of the traced sample (``X[sample]``) with every
node's value and gradient and the chain rule of each backward step (``str(step)``). On the
value engine with one of nn's losses, each step's forward and backward passes run as the
batch's loss traced once (per batch length) and replayed with ``Program.backward``, which
adds the same gradients to the last bit as ``loss.backward()`` on a fresh graph (as
``nn.fit(compile=True)`` does); a loss of one's own runs the plain loop, since it may branch
on ``.data`` where no trace sees it.

The page (``save(path)``, ``_repr_html_``) shows the loss curve, the data over the model's
decision regions and the traced sample's graph, laid out once by Graphviz, and plays each
step in three phases: forward, backward (the chain rule node by node), update. Its
numbers come from ``prog.javascript``: the one-sample loss traced as a ``Program`` (inputs
the sample's features and its target, captured leaves the parameters), so a click on
another point traces that sample at any step, and the page can go on training live: the
optimizer's update (SGD with momentum / Nesterov / weight decay, Adam) is written out in
JavaScript with PyTorch's maths.

Limits: models with one output (several raise ``ValueError``); decision regions, clicks on
points and added points for inputs of two features only (with more the page shows the curve
and the graph); live training needs ``nn.SGD`` or ``nn.Adam`` (their state is handed over),
takes the batch's loss as the mean of the one-sample losses (as nn's losses are) and draws
its batches with the page's own generator, not numpy's; the traced program follows the
branches taken when it was traced, so a sample whose comparisons of Values come out the other
way (bce's clip near 0 or 1) is shown as not traceable and left out of live batches; a loss
of one's own runs the plain loop, slower for a large lab.

viz imports no ``nn``: the model is duck-typed (``model.parameters()``, ``model(x)``,
``model.nin``/``nout``/``engine``; a Tensor-engine model also ``state_dict()``,
``load_state_dict()`` and ``_config()``, to build its value-engine twin, whose graph is the
one drawn and traced), the optimizer too (``zero_grad()``, ``step()``; for live training its
``lr`` and ``momentum``/``nesterov``/``weight_decay`` or ``betas``/``eps``/``weight_decay``
and state, as ``nn.SGD``/``nn.Adam`` keep them). ``loss`` is a callable ``loss(preds,
targets)`` (``nn.losses.hinge``) or a name ``nn.fit`` takes (``"hinge"``), looked up in the
losses of the package the model's class comes from (``nn.losses.get``).
"""

from __future__ import annotations

import builtins
import inspect
import keyword
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np

from autograd import TraceError, Value, topological_order, trace

from .graph import draw

__all__ = ["Lab", "lab"]

# Names a program value may not take (Python's and JavaScript's reserved words and globals):
# a label of ours that is one gets a trailing underscore.
_AVOID = (
    set(keyword.kwlist)
    | set(dir(builtins))
    | set(
        """break case catch class const continue debugger default delete do else enum export
        extends false finally for function if import in instanceof new null return super
        switch this throw true try typeof var void while with yield let static implements
        interface package private protected public await async of arguments eval undefined
        NaN Infinity Math Number String Error Object Array JSON console globalThis window
        document self args leaves valueAndGrad show fail power value grads leafGrads np inf
        nan exp log sqrt tanh sigmoid relu sin cos div pow pow_base pow_exponent primitive
        forward value_and_grad backward L add sub mul truediv matmul neg op""".split()
    )
)


# --- the model, the loss, the optimizer (duck-typed) ----------------------------------------


def _resolve_loss(loss: Any, model: Any) -> tuple[Any, str]:
    """The loss function and a name for it. A name is looked up in the losses of the
    package the model's class comes from (nn's), which viz does not import itself."""
    if callable(loss):
        return loss, getattr(loss, "__name__", "loss")
    if not isinstance(loss, str):
        raise ValueError(f"loss must be a callable or a loss name, got {loss!r}")
    get = getattr(_package_losses(model), "get", None)
    if get is None:
        raise ValueError(
            f"loss {loss!r}: viz.lab resolves loss names through the model's package "
            f"(nn.losses); pass the loss function itself, e.g. loss=nn.losses.hinge"
        )
    return get(loss), loss


def _value_twin(model: Any) -> Any:
    """The model itself on the value engine; for a Tensor-engine model, a value-engine model
    of the same configuration and weights (its one-sample graph is the one drawn)."""
    if getattr(model, "engine", "value") != "tensor":
        return model
    try:
        config = dict(model._config())
        config.pop("class", None)
        config["engine"] = "value"
        twin = type(model)(**config)
        twin.load_state_dict(model.state_dict())
    except (AttributeError, TypeError) as error:
        raise TypeError(
            "viz.lab draws a Tensor-engine model through a value-engine twin, built from "
            f"model._config() and model.state_dict() (as nn.MLP has): {error}"
        ) from None
    return twin


def _index_map(model: Any, twin: Any) -> np.ndarray:
    """For a Tensor-engine model: for each twin parameter (in ``twin.parameters()`` order),
    its position in the model's parameters flattened in order. Found by writing each
    element's own index into the weights and reading both ``state_dict``s (then restored)."""
    params = model.parameters()
    saved = [p.data.copy() for p in params]
    twin_params = twin.parameters()
    twin_saved = [p.data for p in twin_params]
    try:
        offset = 0
        for p in params:
            p.data[...] = np.arange(offset, offset + p.data.size).reshape(p.data.shape)
            offset += p.data.size
        for k, p in enumerate(twin_params):
            p.data = float(k)
        mine, theirs = model.state_dict(), twin.state_dict()
        found = np.empty(len(twin_params), dtype=np.int64)
        for key, array in theirs.items():
            found[np.asarray(array, dtype=np.int64).ravel()] = np.asarray(
                mine[key], dtype=np.int64
            ).ravel()
        return found
    finally:
        for p, data in zip(params, saved):
            p.data[...] = data
        for p, data in zip(twin_params, twin_saved):
            p.data = data


def _flat(arrays: list) -> np.ndarray:
    """Parameters' data or grads (floats or arrays; None as zeros of no size) flattened."""
    parts = [np.ravel(np.asarray(0.0 if a is None else a, dtype=np.float64)) for a in arrays]
    return np.concatenate(parts) if parts else np.zeros(0)


def _optimizer_spec(optimizer: Any, order: np.ndarray, params: list) -> dict | None:
    """The optimizer's rule, hyperparameters and state, per program parameter (``order``
    maps each to its position in the optimizer's parameters flattened), for live training;
    None for an optimizer the page cannot continue."""
    opt_params = getattr(optimizer, "params", None)
    if opt_params is None or [id(p) for p in opt_params] != [id(p) for p in params]:
        return None  # state kept for other parameters than the model's, in its order
    sizes = [int(np.size(p.data)) for p in opt_params]

    def per_param(states: list, fill: float = 0.0) -> list:
        flat = []
        for state, size in zip(states, sizes):
            if state is None:
                flat.append(np.full(size, fill))
            else:
                state = np.ravel(np.asarray(state, dtype=np.float64))
                flat.append(state if state.size == size else np.full(size, state[0]))
        return np.concatenate(flat)[order].tolist()

    try:
        if hasattr(optimizer, "betas"):
            steps = per_param([np.full(s, float(t)) for s, t in zip(sizes, optimizer.steps)])
            return {
                "rule": "adam",
                "lr": float(optimizer.lr),
                "beta1": float(optimizer.betas[0]),
                "beta2": float(optimizer.betas[1]),
                "eps": float(optimizer.eps),
                "weight_decay": float(optimizer.weight_decay),
                "m": per_param(optimizer.m),
                "v": per_param(optimizer.v),
                "t": steps,
            }
        if hasattr(optimizer, "momentum"):
            buffers = getattr(optimizer, "buffers", [None] * len(opt_params))
            return {
                "rule": "sgd",
                "lr": float(optimizer.lr),
                "momentum": float(optimizer.momentum),
                "nesterov": bool(getattr(optimizer, "nesterov", False)),
                "weight_decay": float(getattr(optimizer, "weight_decay", 0.0)),
                "buf": per_param(buffers),
                # 1 where the momentum buffer exists (after the first step), else 0
                "has_buf": per_param(
                    [None if b is None else np.ones(s) for b, s in zip(buffers, sizes)]
                ),
            }
    except (AttributeError, TypeError, ValueError, IndexError):
        return None
    return None


def _package_losses(model: Any) -> Any:
    """The ``losses`` module of the package the model's class comes from (nn's), or None."""
    package = sys.modules.get(type(model).__module__.split(".")[0])
    return getattr(package, "losses", None)


def _traceable(loss_fn: Any, model: Any) -> bool:
    """Whether the batch step may run as a traced program: a value-engine model and a loss of
    its own package (nn's), whose code branches only on comparisons of Values, which a trace
    records as guards. A loss of the user's own might read ``.data`` and branch in Python,
    which no trace can see: that one runs the plain loop every step."""
    losses = _package_losses(model)
    if losses is None or getattr(model, "engine", "value") == "tensor":
        return False
    return any(
        loss_fn is f
        for f in vars(losses).values()
        if inspect.isfunction(f) and f.__module__ == losses.__name__
    )


class _ReplayedStep:
    """The value engine's batch step, forward and backward, as ``nn.fit(compile=True)`` runs
    it: the batch's loss traced once per batch length as a ``Program`` (the rows and targets
    its inputs, the parameters captured), then ``program.backward`` per step, which
    accumulates into the parameters' ``.grad`` exactly what ``loss.backward()`` on a freshly
    built graph would (same ops, same order), without building a graph. A replay whose guard
    comes out the other way (bce's clip, say) is traced again. For micrograd's moons demo this
    turns a 65,000-node graph built and walked each step into one trace and 100 replays."""

    KEEP = 8  # programs kept per batch length, one per pattern of branches

    def __init__(self, model: Any, loss_fn: Any) -> None:
        self.model = model
        self.loss_fn = loss_fn
        self.programs: dict[int, list] = {}

    def __call__(self, rows: list, targets: np.ndarray) -> float:
        n = len(rows)
        args = (*[x for row in rows for x in row], *targets.tolist())
        programs = self.programs.setdefault(n, [])
        for k, program in enumerate(programs):
            try:
                value = program.backward(*args)
            except TraceError:
                continue
            programs.insert(0, programs.pop(k))
            return float(value)
        program = trace(self._step(n, len(rows[0])), *args)
        programs.insert(0, program)
        del programs[self.KEEP :]
        return float(program.backward(*args))

    def _step(self, n: int, nin: int) -> Any:
        model, loss_fn = self.model, self.loss_fn

        def batch_loss(*inputs: Value) -> Value:
            preds = [model(list(inputs[i * nin : (i + 1) * nin])) for i in range(n)]
            return loss_fn(preds, list(inputs[n * nin :]))

        return batch_loss


# --- the traced sample's graph and program ---------------------------------------------------


def _identifier(text: str) -> str:
    """A label as a program name: ``w0.1.2`` is ``w0_1_2``; "" when nothing is left."""
    name = re.sub(r"\W+", "_", text.encode("ascii", "ignore").decode()).strip("_")
    if not name:
        return ""
    if name[0].isdigit() or name.startswith(("g_", "d_")):
        name = "n" + name
    # not a name of ours nor one of the program's functions (mul, tanh_d0, ...)
    return name + "_" if name in _AVOID or re.fullmatch(r".*_d\d+", name) else name


_OP_WORDS = {"+": "add", "-": "sub", "*": "mul", "/": "div", "**": "pow", "neg": "neg"}


def _program_names(nodes: list) -> list[str | None]:
    """A readable, unique program name for every node of the sample's graph (None for a
    constant, which the program writes as a number): the label as an identifier where there
    is one, else the op's word and the node's index (``tanh_7``)."""
    names: list[str | None] = []
    seen: set[str] = set()
    for i, node in enumerate(nodes):
        if getattr(node, "is_constant", False):
            names.append(None)
            continue
        base = _identifier(node.label) if node.label else ""
        if not base:
            op = node.op
            word = _OP_WORDS.get(op, op if op.isascii() and op.isidentifier() else "v")
            base = f"{word}_{i}"
        name, k = base, 1
        while name in seen or name in _AVOID:
            k += 1
            name = f"{base}_{k}"
        seen.add(name)
        names.append(name)
    return names


def _structure(nodes: list) -> list:
    index = {id(n): i for i, n in enumerate(nodes)}
    return [(n.op, tuple(index[id(p)] for p in n.parents)) for n in nodes]


class _Sample:
    """The one-sample loss of the value-engine twin: inputs ``x0, x1, ...`` and ``y``."""

    def __init__(self, twin: Any, loss_fn: Any, nin: int) -> None:
        self.twin = twin
        self.loss_fn = loss_fn
        self.nin = nin

    def graph(self, x: Any, target: float) -> Value:
        xs = [Value(float(v), f"x{j}") for j, v in enumerate(x)]
        return self.loss_fn([self.twin(xs)], [Value(float(target), "y")])

    def traced(self, x: Any, target: float, names: list[str | None]) -> Any:
        """The loss traced as a Program whose names are ``names`` (by topological index)."""
        params = self.twin.parameters()
        labels = [p.label for p in params]

        def one_sample(*inputs: Value) -> Value:
            for j, v in enumerate(inputs[:-1]):
                v.label = f"x{j}"
            inputs[-1].label = "y"
            root = self.loss_fn([self.twin(list(inputs[:-1]))], [inputs[-1]])
            for node, name in zip(topological_order(root), names):
                if name is not None:
                    node.label = name
            return root

        try:
            return trace(one_sample, *[float(v) for v in x], float(target))
        finally:
            for p, label in zip(params, labels):
                p.label = label

    def output(self, x: Any) -> Any:
        """The model's output on one point, traced (the page's decision regions)."""

        def model_output(*inputs: Value) -> Value:
            out = self.twin(list(inputs))
            return out if isinstance(out, Value) else out[0]

        params = self.twin.parameters()
        labels = [p.label for p in params]
        try:
            return trace(model_output, *[float(v) for v in x])
        finally:
            for p, label in zip(params, labels):
                p.label = label


def _fmt6(x: float) -> str:
    """As the chain-rule text writes a number (``autograd``'s ``str(step)``)."""
    return repr(float(f"{float(x):.6g}"))


def _templates(root: Value, nodes: list) -> tuple[list[int], list[list[list]], list[str]]:
    """Run the sample's backward pass step by step: the order of the nodes it visits, each
    step's lines as templates (the names' part of each line, the numbers filled in by the
    page) and the texts ``str(step)`` as autograd writes them."""
    index = {id(n): i for i, n in enumerate(nodes)}
    order, templates, texts = [], [], []
    for step in root.backward_steps():
        text = str(step)
        texts.append(text)
        i = index[id(step.node)]
        order.append(i)
        lines = text.split("\n")
        kinds: list[list] = []
        edges = list(step.edges)
        up = _fmt6(step.upstream)
        k = 0
        for line in lines:
            if line.endswith(" (the seed)"):
                suffix = f" = {up} (the seed)"
                kinds.append(["seed", line[: -len(suffix)] if line.endswith(suffix) else line])
            elif line.endswith(" (a leaf: nothing to propagate)"):
                suffix = f" = {up} (a leaf: nothing to propagate)"
                kinds.append(["leaf", line[: -len(suffix)] if line.endswith(suffix) else line])
            else:
                _, local, contribution = edges[k]
                suffix = f" = {up} * {_fmt6(local)} = {_fmt6(contribution)}"
                if not line.endswith(suffix):
                    raise RuntimeError(f"viz.lab: cannot read the chain rule line {line!r}")
                kinds.append(["edge", line[: -len(suffix)], k])
                k += 1
        templates.append(kinds)
    return order, templates, texts


_STATEMENT = re.compile(r"^  (let )?g_(\w+) (\+?=) (-?)g_(\w+)(?: \* (.*))?;$")


def _inspector(source: str, names: list[str | None], nodes: list) -> tuple[str, list]:
    """From ``prog.javascript``: a second function, ``inspectProgram(args, leaves)``, that
    runs the same statements and also returns every node's value and gradient and every
    edge's local gradient (recorded as each chain-rule statement runs); and for each
    recorded local, the edge ``(node index, operand k)`` it belongs to."""
    head = "function valueAndGrad(args, leaves) {"
    start = source.index(head)
    body = source[start + len(head) :].rstrip().removesuffix("}").rstrip("\n").split("\n")
    index_of = {name: i for i, name in enumerate(names) if name is not None}
    # each node's operands that get a chain-rule statement, in operand order
    pending: dict[int, list[int]] = {}
    for i, node in enumerate(nodes):
        pending[i] = [k for k, p in enumerate(node.parents) if not getattr(p, "is_constant", False)]
    declarations = set(re.findall(r"^  const (\w+) = ", "\n".join(body), re.M))
    lost = [n for n in names if n is not None and n not in declarations]
    if lost:
        raise RuntimeError(f"viz.lab: the program did not take the names {lost[:3]}")
    out, edges = [], []
    for line in body:
        if line.startswith("  return "):
            values = ", ".join(n if n is not None else "null" for n in names)
            declared = {m.group(2) for m in map(_STATEMENT.match, body) if m and m.group(1)}
            declared.add(next((n for n in reversed(names) if n), ""))  # the root's seed
            grads = ", ".join(f"g_{n}" if n is not None and n in declared else "0.0" for n in names)
            out.append(f"  return {{values: [{values}], grads: [{grads}], locals: L}};")
            continue
        match = _STATEMENT.match(line)
        if match is None:
            out.append(line)
            continue
        let, target, op, minus, source_name, local = match.groups()
        i = index_of[source_name]
        k = pending[i].pop(0)
        if nodes[i].parents[k] is not nodes[index_of[target]]:
            raise RuntimeError(f"viz.lab: statement {line.strip()!r} is not edge {i}.{k}")
        edges.append([i, k])
        if local is None:
            out.append(f"  L.push({'-1.0' if minus else '1.0'}); {line.strip()}")
        else:
            out.append(
                f"  L.push({local}); {let or ''}g_{target} {op} g_{source_name} * L[L.length - 1];"
            )
    fn = "function inspectProgram(args, leaves) {\n  const L = [];\n" + "\n".join(out) + "\n}\n"
    return fn, edges


# --- the lab ----------------------------------------------------------------------------------


class Lab:
    """What ``viz.lab`` returns: ``history`` (``{"loss": [...]}``, one per step), ``records``
    (one dict per step: ``loss``, ``before`` and ``after`` (the parameters, in the order of
    ``program.captured``), ``grad`` (the batch gradient), and for the traced sample ``values``
    and ``grads`` (one per node of ``nodes``, in topological order) and ``texts``
    (``str(step)`` of each backward step)), ``program`` (the one-sample loss, traced) and the
    page: ``save(path)`` and ``_repr_html_``."""

    def __init__(self, **parts: Any) -> None:
        self.__dict__.update(parts)

    def __repr__(self) -> str:
        losses = self.history["loss"]
        last = f", last loss {losses[-1]:.4g}" if losses else ""
        return f"<viz.Lab: {len(losses)} steps{last}. lab.save(path) writes the page>"

    def save(self, path: str | Path) -> Path:
        """Write the page as one self-contained HTML file (no external resource)."""
        path = Path(path)
        page = (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            "<title>tracegrad lab: watch a network learn</title>\n</head>\n<body>\n"
            f"{self._repr_html_()}\n</body>\n</html>\n"
        )
        path.write_text(page, encoding="utf-8")
        return path

    def _repr_html_(self) -> str:
        from ._lab_page import page

        return page(self)

    def _repr_png_(self) -> bytes:
        """A still for where the page's script cannot run (an untrusted notebook, a code
        host): the traced sample's graph at step 1, captioned; Jupyter shows the page."""
        if self.__dict__.get("_still") is None:
            from ._lab_page import still

            self._still = still(self)
        return self._still


def lab(
    model: Any,
    X: Any,
    y: Any,
    *,
    loss: Any,
    optimizer: Any,
    steps: int = 100,
    batch_size: int | None = None,
    sample: int = 0,
    collapse: int | None = None,
    seed: int | None = None,
    max_nodes: int = 500,
) -> Lab:
    """Train ``model`` for ``steps`` optimizer steps, recording each, and return the page.

    Batches are drawn as ``nn.fit`` draws them: every pass over the data in the order of
    ``numpy.random.default_rng(seed).permutation``, ``batch_size`` rows at a time (None: all).
    ``sample`` is the index of the traced point; ``collapse`` folds the drawn graph by scope
    as ``draw`` does; a graph of more than ``max_nodes`` drawn items raises ``ValueError``.
    """
    loss_fn, loss_name = _resolve_loss(loss, model)
    if not (
        callable(getattr(optimizer, "step", None))
        and callable(getattr(optimizer, "zero_grad", None))
    ):
        raise ValueError(f"optimizer must have step() and zero_grad(), got {optimizer!r}")
    try:
        X = np.asarray(X, dtype=np.float64)
        Y = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"X and y must be numeric arrays: {exc}") from None
    nin, nout = getattr(model, "nin", None), getattr(model, "nout", 1)
    if X.ndim != 2 or X.shape[0] == 0 or (nin is not None and X.shape[1] != nin):
        raise ValueError(f"X must have shape (n, {nin or 'nin'}), got {X.shape}")
    if nout != 1:
        raise ValueError(f"viz.lab draws models with one output; this one has {nout}")
    n = X.shape[0]
    if Y.size != n:
        raise ValueError(f"X has {n} rows but y has {Y.size} values")
    Y = Y.reshape(n)
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    if batch_size is not None and (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, (int, np.integer))
        or batch_size < 1
    ):
        raise ValueError(f"batch_size must be an integer >= 1 or None, got {batch_size!r}")
    if isinstance(sample, bool) or not isinstance(sample, (int, np.integer)) or not 0 <= sample < n:
        raise ValueError(f"sample must be a row index in [0, {n}), got {sample!r}")
    batch = n if batch_size is None else min(int(batch_size), n)
    on_tensors = getattr(model, "engine", "value") == "tensor"

    # The traced sample: its graph (drawn once) and the program the page runs.
    twin = _value_twin(model)
    params = model.parameters()
    if on_tensors:
        order = _index_map(model, twin)
        twin_params = twin.parameters()
    else:
        order = np.arange(len(params))
        twin_params = params
    one = _Sample(twin, loss_fn, X.shape[1])
    root = one.graph(X[sample], Y[sample])
    nodes = topological_order(root)
    draw(root, collapse=collapse, max_nodes=max_nodes)  # max_nodes refused as draw does
    names = _program_names(nodes)
    backward_order, templates, _ = _templates(root, nodes)  # (its grads are reset below)
    program = one.traced(X[sample], Y[sample], names)
    output = one.output(X[sample])
    position = {id(p): k for k, p in enumerate(twin_params)}
    # the program's parameters (captured leaves) as positions in the flattened parameters
    captured = np.array([order[position[id(p)]] for p in program.captured], dtype=np.int64)
    out_leaves = np.array([order[position[id(p)]] for p in output.captured], dtype=np.int64)
    shape = _structure(nodes)

    def flat_params() -> np.ndarray:
        return _flat([p.data for p in params])

    def sync_twin() -> None:
        if on_tensors:
            twin.load_state_dict(model.state_dict())

    rng = np.random.default_rng(seed)
    rows = X if on_tensors else X.tolist()
    replayed = _ReplayedStep(model, loss_fn) if _traceable(loss_fn, model) else None
    history: dict[str, list[float]] = {"loss": []}
    records: list[dict] = []
    batches: list[list[int]] = []
    epoch_order: np.ndarray = np.arange(0)
    start = n
    for _ in range(int(steps)):
        if start >= n:
            epoch_order, start = rng.permutation(n), 0
        idx = epoch_order[start : start + batch]
        start += batch
        # the traced sample at this step's weights (before the update)
        sync_twin()
        for p in twin_params:
            p.grad = 0.0
        graph = one.graph(X[sample], Y[sample])
        g_nodes = topological_order(graph)
        same = _structure(g_nodes) == shape
        texts = [str(s) for s in graph.backward_steps()]
        record: dict[str, Any] = {
            "values": [float(v.data) for v in g_nodes] if same else None,
            "grads": [float(v.grad) for v in g_nodes] if same else None,
            "texts": texts if same else None,
        }
        del graph, g_nodes
        before = flat_params()
        # the plain loop's step (its forward and backward replayed when they can be)
        optimizer.zero_grad()
        if replayed is not None:
            loss_value = replayed([rows[i] for i in idx], Y[idx])
        else:
            if on_tensors:
                preds = model(rows[idx])
            else:
                preds = [model(rows[i]) for i in idx]
            value = loss_fn(preds, Y[idx])
            value.backward()
            loss_value = float(np.asarray(value.data).reshape(()))
            del preds, value
        grad = _flat([p.grad for p in params])
        optimizer.step()
        history["loss"].append(loss_value)
        record.update(
            loss=loss_value,
            before=before[captured].tolist(),
            after=flat_params()[captured].tolist(),
            grad=grad[captured].tolist(),
        )
        records.append(record)
        batches.append([int(i) for i in idx])
    inspect_js, edge_of_local = _inspector(program.javascript, names, nodes)
    return Lab(
        history=history,
        records=records,
        program=program,
        output_program=output,
        nodes=nodes,
        root=root,
        names=names,
        X=X,
        y=Y,
        sample=int(sample),
        batch_size=batch,
        batches=batches,
        seed=seed,
        collapse=collapse,
        loss_name=loss_name,
        optimizer_spec=_optimizer_spec(optimizer, captured, params),
        output_leaves=[int(np.nonzero(captured == k)[0][0]) for k in out_leaves],
        backward_order=backward_order,
        templates=templates,
        inspect_js=inspect_js,
        edge_of_local=edge_of_local,
        param_labels=[p.label for p in program.captured],
    )
