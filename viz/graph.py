"""Draw a computation graph with the chain rule on every edge.

Every edge parent -> node carries the local gradient d(node)/d(parent); every node shows its op,
label, data and grad. Only the public node attributes are used (``.data .grad .label .op
.parents .local_grads``), so anything shaped like an autograd ``Value`` or ``Tensor`` draws.

    >>> from autograd import Value
    >>> a = Value(2.0, label="a"); b = Value(-3.0, label="b")
    >>> c = a * b; c.label = "c"; c.backward()
    >>> src = draw(c).source          # DOT text; to_svg(c) / render(c, "c.svg") need Graphviz
    >>> "n0 -> n2 [label=-3" in src   # the edge a -> c is labelled dc/da = b = -3
    True
"""

from __future__ import annotations

import html
import subprocess
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import graphviz
import numpy as np

from autograd import topological_order

INSTALL_HINT = (
    "Graphviz's `dot` program was not found on PATH; viz needs it to make SVG, PNG or PDF "
    "(.dot output works without it). Install Graphviz: `sudo apt-get install graphviz` "
    "(Debian/Ubuntu), `brew install graphviz` (macOS) or `conda install -c conda-forge graphviz`."
)

# Arrays up to this many elements show their values on the node; bigger ones their shape.
_SMALL_ARRAY = 6

# One look per kind of node, so a reader tells inputs, constants and results apart at a glance.
_KIND_STYLE = {
    "leaf": {"shape": "box", "style": "rounded,filled", "fillcolor": "#dbeafe"},
    "const": {"shape": "ellipse", "style": "dashed,filled", "fillcolor": "#f3f4f6"},
    "op": {"shape": "box", "style": "filled", "fillcolor": "#ffffff"},
    "root": {"shape": "box", "style": "bold,filled", "fillcolor": "#fde68a", "penwidth": "2"},
}
HIGHLIGHT = {"color": "#dc2626", "penwidth": "3"}
# Seconds Graphviz may take before we give up (a backstop: _layout_attrs keeps real graphs
# far below it).
LAYOUT_TIMEOUT = 60.0
_EDGE_LABEL_MODES = {True: "local", "local": "local", "contribution": "contribution"}


def nodes_in_order(root: Any, max_nodes: int = 500) -> list:
    """The nodes of root's graph, parents before children (root last): the engine's
    topological order, so numbering nodes by it gives ids that are the same every time the
    same graph is built. A graph with more than ``max_nodes`` nodes raises ``ValueError``
    saying how many it has, after counting at most 100,000 of them.

    >>> from autograd import Value
    >>> x = Value(1.0, label="x"); y = x * 2
    >>> [n.label or n.op or n.data for n in nodes_in_order(y)]
    ['x', 2.0, '*']
    """
    return topological_order(root, max_nodes)


def node_kind(node: Any, root: Any) -> str:
    """``"root"``, ``"op"`` (computed), ``"const"`` (a number wrapped by an op) or ``"leaf"``."""
    if node is root:
        return "root"
    if node.parents:
        return "op"
    # A Value you made without a label is a leaf (it has a grad to show); only the numbers
    # an op wrapped are constants. Anything without is_constant: an unlabelled leaf.
    return "const" if getattr(node, "is_constant", False) else "leaf"


def _is_array(x: Any) -> bool:
    return np.ndim(x) > 0


def fmt(x: Any, precision: int = 4) -> str:
    """Compact text for a number or array: ``precision`` significant digits; an array of
    more than 6 elements shows its shape.

    >>> fmt(0.70710678), fmt(-3.0), fmt(12345678.0), fmt([1.0, 0.5]), fmt(range(10))
    ('0.7071', '-3', '1.235e+07', '[1 0.5]', 'shape (10,)')
    """
    if x is None:
        return "None"
    if hasattr(x, "parents") and hasattr(x, "data"):  # a grad that is itself a node
        x = x.data  # (backward with create_graph=True)
    if not _is_array(x):
        return f"{float(x) + 0.0:.{precision}g}"  # + 0.0: -0.0 reads as 0
    a = np.asarray(x, dtype=float)
    if a.size > _SMALL_ARRAY:
        return f"shape {a.shape}"
    text = np.array2string(
        a,
        separator=" ",
        max_line_width=10**6,
        formatter={"float_kind": lambda v: f"{v + 0.0:.{precision}g}"},
    )
    return " ".join(text.split())


def _number(x: Any) -> float | None:
    """x as a float when it is one numeric element, else None (e.g. an opaque linear map)."""
    if hasattr(x, "parents") and hasattr(x, "data"):
        x = x.data
    a = np.asarray(x)  # an object numpy cannot read becomes a 0-d array of dtype object
    if a.size != 1 or a.dtype.kind not in "biuf":
        return None
    return float(a.reshape(()))


def edge_label(node: Any, parent: Any, local: Any, mode: str, precision: int = 4) -> str:
    """The text on the edge parent -> node.

    ``mode="local"``: the local gradient d(node)/d(parent). For an array parent with more than
    one element that is a Jacobian, so the edge shows the shape of the gradient flowing along
    it (the parent's shape) instead. ``mode="contribution"`` adds the chain rule's second line,
    ``x upstream = contribution`` with upstream = node.grad, meaningful after a backward pass.
    """
    local_num = _number(local) if np.size(parent.data) == 1 else None
    if local_num is None:
        return str(np.shape(parent.data))
    text = fmt(local_num, precision)
    if mode == "contribution":
        upstream = _number(node.grad) if node.grad is not None else None
        if upstream is not None:
            text += f"\\n× {fmt(upstream, precision)} = {fmt(upstream * local_num, precision)}"
    return text


def node_label(
    node: Any,
    kind: str,
    *,
    show_data: bool = True,
    show_grad: bool = True,
    precision: int = 4,
    grad_text: str | None = None,
    grad_width: int | None = None,
) -> str:
    """The node's Graphviz HTML-like label: op | label | data | grad in one row.

    A constant shows only its value, as a teacher writes a number on the board.
    ``grad_text`` replaces the node's current grad (backward frames show past grads) and
    ``grad_width`` is the grad cell's width in points (a minimum, so make it generous); with
    it the cells do not shift when the grad's text changes from frame to frame.
    """
    if kind == "const":
        cells = [fmt(node.data, precision)]
    else:
        cells = []
        if node.op:
            cells.append(f"<b>{html.escape(node.op)}</b>")
        if node.label:
            cells.append(f"<i>{html.escape(node.label)}</i>")
        # A big array's data cell already reads "data shape (m, n)"; a small one's its values.
        if _is_array(node.data) and (np.size(node.data) <= _SMALL_ARRAY or not show_data):
            cells.append(f"shape {np.shape(node.data)}")
        if show_data:
            cells.append(f"data {fmt(node.data, precision)}")
        if show_grad:
            cells.append(
                f"grad {grad_text if grad_text is not None else fmt(node.grad, precision)}"
            )
    tds = [f"<td>{cell}</td>" for cell in cells or [""]]
    if grad_width is not None and show_grad and kind != "const":
        tds[-1] = f'<td width="{grad_width}" align="left">{cells[-1]}</td>'
    row = "<vr/>".join(tds)
    return (
        f'<<table border="0" cellborder="0" cellspacing="0" cellpadding="4"><tr>{row}</tr></table>>'
    )


def _edge_mode(edge_labels: Any) -> str | None:
    if edge_labels is False or edge_labels is None:
        return None
    try:
        return _EDGE_LABEL_MODES[edge_labels]
    except (KeyError, TypeError):
        raise ValueError(
            f"edge_labels must be True, False, 'local' or 'contribution', got {edge_labels!r}"
        ) from None


def _layout_attrs(nodes: Sequence, index: dict, labelled: bool) -> dict[str, str]:
    """Graphviz settings that keep the layout of a graph with many long edges fast.

    A value used at many depths (``x*x*...*x``, a weight read by every sample) makes long
    edges, each a chain of virtual nodes in dot's ranking, and an edge label doubles them:
    dot's network simplex then took minutes on 60 nodes. We measure the edges' total span in
    ranks (each node's depth is one more than its deepest parent's). Where edges average
    more than 4 ranks, the simplex passes are capped (``nslimit``: 10 s became 0.3 s; small
    and layered graphs such as an MLP's keep dot's full layout), and past 8,000 ranks in all
    edges are drawn straight (spline routing of thousands of virtual nodes was the rest).
    """
    depth = [0] * len(nodes)
    span = edges = 0
    for i, node in enumerate(nodes):  # nodes come parents first
        parents = [index[id(p)] for p in node.parents]
        if parents:
            depth[i] = 1 + max(depth[j] for j in parents)
            span += sum(depth[i] - depth[j] for j in parents)
            edges += len(parents)
    attrs = {}
    if edges and span > 4 * edges:
        attrs.update(nslimit="1", nslimit1="1")
    if span * (2 if labelled else 1) > 8000:  # a labelled edge is two in dot's ranking
        attrs["splines"] = "line"
    return attrs


def build(
    root: Any,
    nodes: Sequence,
    *,
    rankdir: str = "LR",
    show_data: bool = True,
    show_grad: bool = True,
    edge_labels: Any = True,
    precision: int = 4,
    highlight: Collection[int] = (),
    node_attrs: dict[int, dict[str, str]] | None = None,
    edge_attrs: dict[tuple[int, int], dict[str, str]] | None = None,
    grad_texts: Sequence[str] | None = None,
    grad_widths: Sequence[int] | None = None,
) -> graphviz.Digraph:
    """The Digraph of ``nodes`` (from ``nodes_in_order``); node i is named ``n{i}``.

    Edge ``(i, k)`` runs from node i's k-th parent into node i. ``highlight`` holds node
    indices; ``node_attrs`` / ``edge_attrs`` add or override attributes per node / edge and
    ``grad_texts`` / ``grad_widths`` replace the grads shown and fix their cells' widths (all
    used by the backward frames).
    """
    mode = _edge_mode(edge_labels)
    node_attrs = node_attrs or {}
    edge_attrs = edge_attrs or {}
    index = {id(n): i for i, n in enumerate(nodes)}
    dot = graphviz.Digraph("tracegrad")
    dot.attr(rankdir=rankdir, **_layout_attrs(nodes, index, labelled=mode is not None))
    dot.attr("node", fontname="Helvetica", fontsize="12")
    dot.attr("edge", fontname="Helvetica", fontsize="11", fontcolor="#1d4ed8")
    for i, node in enumerate(nodes):
        kind = node_kind(node, root)
        attrs = dict(_KIND_STYLE[kind])
        if i in highlight:
            attrs.update(HIGHLIGHT)
        attrs.update(node_attrs.get(i, {}))
        label = node_label(
            node,
            kind,
            show_data=show_data,
            show_grad=show_grad,
            precision=precision,
            grad_text=grad_texts[i] if grad_texts is not None else None,
            grad_width=grad_widths[i] if grad_widths is not None else None,
        )
        dot.node(f"n{i}", label, **attrs)
    for i, node in enumerate(nodes):
        for k, (parent, local) in enumerate(zip(node.parents, node.local_grads)):
            attrs = {"id": f"e{i}_{k}"}
            if mode is not None:
                attrs["label"] = edge_label(node, parent, local, mode, precision)
            attrs.update(edge_attrs.get((i, k), {}))
            dot.edge(f"n{index[id(parent)]}", f"n{i}", **attrs)
    return dot


def draw(
    root: Any,
    rankdir: str = "LR",
    show_data: bool = True,
    show_grad: bool = True,
    edge_labels: bool | str = True,
    highlight: Collection = (),
    max_nodes: int = 500,
    precision: int = 4,
) -> graphviz.Digraph:
    """The graph ending at ``root`` as a ``graphviz.Digraph`` (displays inline in Jupyter).

    Each edge parent -> node is labelled with d(node)/d(parent); ``edge_labels="contribution"``
    also shows ``x upstream = contribution`` (the chain rule's product, after a backward pass);
    ``edge_labels=False`` hides them. An operand used twice (``a * a``) gets two edges. Nodes
    are named ``n0, n1, ...`` in topological order, so the same graph gives the same DOT
    source. ``highlight`` is a collection of nodes to outline in red; numbers have
    ``precision`` significant digits. More than ``max_nodes`` nodes raises ``ValueError``.

    >>> from autograd import Value
    >>> x = Value(3.0, label="x"); y = x * x; y.backward()
    >>> draw(y).source.count("->")   # x feeds y twice
    2
    """
    nodes = nodes_in_order(root, max_nodes)
    wanted = {id(n) for n in highlight}
    return build(
        root,
        nodes,
        rankdir=rankdir,
        show_data=show_data,
        show_grad=show_grad,
        edge_labels=edge_labels,
        precision=precision,
        highlight={i for i, n in enumerate(nodes) if id(n) in wanted},
    )


def pipe(
    source: str,
    fmt: str,
    engine: str = "dot",
    *,
    pinned: bool = False,
    timeout: float | None = None,
) -> bytes:
    """Run Graphviz on DOT ``source`` and return its output. ``source`` may hold several
    graphs: Graphviz renders each in turn (stdin is fed and stdout drained together, so a long
    output cannot block). ``pinned`` keeps the nodes' given positions (``neato -n2``). A
    missing program is a RuntimeError saying how to install it; a layout running past
    ``timeout`` seconds (``LAYOUT_TIMEOUT``) is stopped, with a RuntimeError saying so."""
    timeout = LAYOUT_TIMEOUT if timeout is None else timeout
    command = [engine, f"-T{fmt}"] + (["-n2"] if pinned else [])
    try:
        done = subprocess.run(
            command, input=source.encode("utf-8"), capture_output=True, timeout=timeout
        )
    except FileNotFoundError as err:
        raise RuntimeError(INSTALL_HINT) from err
    except subprocess.TimeoutExpired:
        raise RuntimeError(
            f"Graphviz's {engine} took more than {timeout:g} s to lay out this graph and was "
            "stopped: draw a smaller graph, or pass edge_labels=False"
        ) from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RuntimeError(f"Graphviz's {engine} failed: {message[-1] if message else done}")
    return done.stdout


def to_svg(root: Any, **options: Any) -> str:
    """The graph as an SVG document (a str); takes ``draw``'s options. Needs Graphviz.

    >>> from autograd import Value
    >>> svg = to_svg(Value(2.0, label="a") * 3)   # doctest: +SKIP
    """
    return pipe(draw(root, **options).source, "svg").decode("utf-8")


_RENDER_FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf"}


def render(root: Any, path: str | Path, **options: Any) -> Path:
    """Write the graph to ``path``, format by suffix: .svg, .png, .pdf or .dot (no Graphviz
    needed for .dot). Takes ``draw``'s options; returns the path written.

    >>> from autograd import Value
    >>> render(Value(2.0, label="a") * 3, "graph.dot")   # doctest: +SKIP
    PosixPath('graph.dot')
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix != ".dot" and suffix not in _RENDER_FORMATS:
        raise ValueError(
            f"render: cannot write {str(path)!r}: the suffix must be .svg, .png, .pdf or .dot"
        )
    dot = draw(root, **options)
    if suffix == ".dot":
        path.write_text(dot.source, encoding="utf-8")
    else:
        path.write_bytes(pipe(dot.source, _RENDER_FORMATS[suffix]))
    return path
