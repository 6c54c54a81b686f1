"""Draw a computation graph with the chain rule on every edge.

Every edge parent -> node carries the local gradient d(node)/d(parent); every node shows its op,
label, data and grad. Only the public node attributes are used (``.data .grad .label .op
.parents .local_grads .scope .is_constant``) and the public ``autograd.topological_order``.

Graphs of real models: ``group=True`` draws each distinct ``node.scope`` as a labelled
cluster (nested scopes nest), ``collapse=k`` folds nodes into their scope cut to k names (one
box per fold, parallel edges merged into one labelled ``×N``) and ``focus=`` keeps only the
paths from the given nodes to the root. Both reductions are one pass over the graph.

    >>> from autograd import Value
    >>> a = Value(2.0, label="a"); b = Value(-3.0, label="b")
    >>> c = a * b; c.label = "c"; c.backward()
    >>> src = draw(c).source          # DOT text; to_svg(c) / render(c, "c.svg") need Graphviz
    >>> "n0 -> n2 [label=-3" in src   # the edge a -> c is labelled dc/da = b = -3
    True
"""

from __future__ import annotations

import base64
import html
import math
import re
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


def _check_max_nodes(max_nodes: Any) -> None:
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive int, got {max_nodes!r}")


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


def _depths(count: int, edges: Sequence[tuple[int, int]]) -> list[int]:
    """Each item's rank: one more than its deepest predecessor's along ``edges`` ((source,
    target) index pairs), by Kahn's algorithm. Items on a cycle (folded scopes can form one)
    keep the rank reached before it, so every edge gets a finite span."""
    successors: list[list[int]] = [[] for _ in range(count)]
    waiting = [0] * count
    for src, dst in edges:
        successors[src].append(dst)
        waiting[dst] += 1
    depth = [0] * count
    ready = [i for i in range(count) if not waiting[i]]
    while ready:
        i = ready.pop()
        for j in successors[i]:
            if depth[i] + 1 > depth[j]:
                depth[j] = depth[i] + 1
            waiting[j] -= 1
            if not waiting[j]:
                ready.append(j)
    return depth


def _layout_attrs(spans: Sequence[int], labelled: bool) -> dict[str, str]:
    """Graphviz settings that keep the layout of a graph with many long edges fast.

    A value used at many depths (``x*x*...*x``, a weight read by every sample) makes long
    edges, each a chain of virtual nodes in dot's ranking, and an edge label doubles them:
    dot's network simplex then took minutes on 60 nodes. ``spans`` are the drawn edges'
    lengths in ranks (each node's depth is one more than its deepest parent's). Where edges
    average more than 4 ranks, the simplex passes are capped (``nslimit``: 10 s became 0.3 s;
    small and layered graphs such as an MLP's keep dot's full layout), and past 8,000 ranks in
    all edges are drawn straight (spline routing of thousands of virtual nodes was the rest).
    """
    span, edges = sum(spans), len(spans)
    attrs = {}
    if edges and span > 4 * edges:
        attrs.update(nslimit="1", nslimit1="1")
    if span * (2 if labelled else 1) > 8000:  # a labelled edge is two in dot's ranking
        attrs["splines"] = "line"
    return attrs


# A collapsed drawing with more edges than this is drawn as a dense one (see _collapsed).
_DENSE_EDGES = 60
# Nodes drawn only as the other operands of a focus path, and their edges.
DIMMED = {"color": "#d1d5db", "fontcolor": "#9ca3af", "fillcolor": "#f9fafb"}
# A box standing for a scope's nodes (collapse), and the scope clusters (group).
_FOLD_STYLE = {"shape": "box", "style": "rounded,filled", "fillcolor": "#ede9fe"}
_CLUSTER_STYLE = {
    "style": "rounded,dashed",
    "color": "#9ca3af",
    "fontcolor": "#4b5563",
    "fontname": "Helvetica",
    "fontsize": "11",
    "labeljust": "l",
}


# The class on the <img> a graph shows itself as in Jupyter (scripts/run_notebooks.py finds it).
GRAPH_MARK = 'class="tg-graph"'


def _html_picture(svg: str) -> str:
    """An SVG document as HTML that front ends scale down to the output's width: an ``<img>``
    of the SVG as a data: URL, at its natural size in CSS pixels (Graphviz sizes its SVG in
    points) unless the output is narrower, then at the output's width, aspect kept.

    An ``<img>`` and not the inline ``<svg>``: JupyterLab's sanitiser (untrusted notebooks)
    drops ``<svg>`` but keeps an image, its data: URL and its max-width style. An
    ``image/svg+xml`` output cannot do this: nbconvert and JupyterLab show it as an ``<img>``
    that no stylesheet limits, so a graph wider than the page was cropped at its right end.
    """
    size = re.search(r'<svg\b[^>]*?\swidth="([\d.]+)pt"\s+height="([\d.]+)pt"', svg)
    dims = f'width="{round(float(size[1]) * 4 / 3)}" height="{round(float(size[2]) * 4 / 3)}" '
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return (
        f'<img {GRAPH_MARK} alt="computation graph (viz.draw)" {dims if size else ""}'
        f'style="max-width:100%;height:auto" src="data:image/svg+xml;base64,{data}">'
    )


class Graph(graphviz.Digraph):
    """The ``graphviz.Digraph`` that ``draw`` returns. In Jupyter it shows itself as HTML (an
    image of the SVG, scaled down to the output's width when it is wider: aspect kept, never
    cropped) *and* as PNG, for front ends that show no HTML. No ``image/svg+xml``: front ends
    draw it at its natural width, so where the HTML is not shown the PNG must come next
    (nbconvert and JupyterLab give a PNG ``max-width: 100%``).

    >>> from autograd import Value
    >>> isinstance(draw(Value(2.0, label="a") * 3), graphviz.Digraph)
    True
    """

    def _repr_mimebundle_(
        self, include: Collection[str] | None = None, exclude: Collection[str] | None = None, **_
    ) -> dict[str, str | bytes]:
        forms = {
            "text/html": lambda: _html_picture(pipe(self.source, "svg").decode("utf-8")),
            "image/png": lambda: pipe(self.source, "png"),
        }
        wanted = set(forms if include is None else include) - set(exclude or ())
        return {mime: make() for mime, make in forms.items() if mime in wanted}

    def __repr__(self) -> str:
        return "<viz graph: displays in Jupyter; viz.render(root, path) writes it to a file>"


def _digraph(rankdir: str, layout: dict[str, str]) -> graphviz.Digraph:
    dot = Graph("tracegrad")
    dot.attr(rankdir=rankdir, **layout)
    dot.attr("node", fontname="Helvetica", fontsize="12")
    dot.attr("edge", fontname="Helvetica", fontsize="11", fontcolor="#1d4ed8")
    return dot


def _add_rows(graph: graphviz.Digraph, rows: Sequence[Sequence[str]]) -> None:
    """Each row of item names into one rank of ``graph``, chained in the row's order by
    invisible edges (``minlen=0``: the chain adds no space between the boxes)."""
    for row in rows:
        if len(row) > 1:
            with graph.subgraph() as rank:
                rank.attr(rank="same")
                for a, b in zip(row, row[1:]):
                    rank.edge(a, b, style="invis", minlen="0")


def _add_items(
    dot: graphviz.Digraph,
    items: Sequence[tuple],
    group: bool,
    rows: dict[tuple, list[list[str]]] | None = None,
) -> None:
    """Add ``(name, label, attrs, scope)`` items to ``dot``; with ``group`` each item goes in
    the cluster of its scope, one labelled cluster per distinct scope, nested as scopes nest.
    Clusters and their items come in the order of their first item, so the source is stable.
    ``rows`` (scope -> rows of item names, see ``_add_rows``) go in their scope's cluster (or
    at the top, for the scope ``()`` and when not grouped).
    """
    rows = rows or {}
    if not group:
        for name, label, attrs, _ in items:
            dot.node(name, label, **attrs)
        _add_rows(dot, [row for scope_rows in rows.values() for row in scope_rows])
        return
    members: dict[tuple, list] = {}  # scope -> its items
    children: dict[tuple, list] = {(): []}  # scope -> its nested scopes, in order
    for item in items:
        scope = tuple(item[3])
        if scope not in members:
            members[scope] = []
            # register every enclosing scope not yet seen, outermost first
            for size in range(1, len(scope) + 1):
                if scope[:size] not in children:
                    children[scope[:size]] = []
                    children[scope[: size - 1]].append(scope[:size])
        members[scope].append(item)
    count = [0]

    def fill(graph: graphviz.Digraph, scope: tuple) -> None:
        for name, label, attrs, _ in members.get(scope, ()):
            graph.node(name, label, **attrs)
        for inner in children[scope]:
            sub = graphviz.Digraph(name=f"cluster_{count[0]}")
            count[0] += 1
            sub.attr(label=graphviz.escape(inner[-1]), **_CLUSTER_STYLE)
            fill(sub, inner)  # recursion as deep as the scopes nest (a few levels)
            graph.subgraph(sub)
        _add_rows(graph, rows.get(scope, ()))

    fill(dot, ())


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
    dimmed: Collection[int] = (),
    group: bool = False,
) -> graphviz.Digraph:
    """The Digraph of ``nodes`` (parents first, from ``nodes_in_order``); node i is ``n{i}``.

    Edge ``(i, k)`` runs from node i's k-th parent into node i. ``highlight`` holds node
    indices; ``node_attrs`` / ``edge_attrs`` add or override attributes per node / edge and
    ``grad_texts`` / ``grad_widths`` replace the grads shown and fix their cells' widths (all
    used by the backward frames). Nodes in ``dimmed`` (indices) are drawn pale and without
    their own parents (focus draws a path's other operands so); ``group`` draws each scope
    as a cluster.
    """
    mode = _edge_mode(edge_labels)
    node_attrs = node_attrs or {}
    edge_attrs = edge_attrs or {}
    index = {id(n): i for i, n in enumerate(nodes)}
    edges = [
        (index[id(parent)], i, k, parent, local)
        for i, node in enumerate(nodes)
        if i not in dimmed
        for k, (parent, local) in enumerate(zip(node.parents, node.local_grads))
    ]
    depth = _depths(len(nodes), [(src, dst) for src, dst, *_ in edges])
    spans = [depth[dst] - depth[src] for src, dst, *_ in edges]
    dot = _digraph(rankdir, _layout_attrs(spans, labelled=mode is not None))
    items = []
    for i, node in enumerate(nodes):
        kind = node_kind(node, root)
        attrs = dict(_KIND_STYLE[kind])
        if i in dimmed:
            attrs.update(DIMMED)
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
        items.append((f"n{i}", label, attrs, node.scope if group else ()))
    _add_items(dot, items, group)
    for src, i, k, parent, local in edges:
        attrs = {"id": f"e{i}_{k}"}
        if mode is not None:
            attrs["label"] = edge_label(nodes[i], parent, local, mode, precision)
        if src in dimmed:
            attrs.update(color=DIMMED["color"], fontcolor=DIMMED["fontcolor"])
        attrs.update(edge_attrs.get((i, k), {}))
        dot.edge(f"n{src}", f"n{i}", **attrs)
    return dot


def _focus_nodes(focus: Any) -> list:
    """``focus`` (a node or a collection of nodes) as a list of nodes, checked."""
    wanted = [focus] if hasattr(focus, "parents") else list(focus)
    if not wanted:
        raise ValueError("focus: give a node or a non-empty collection of nodes")
    for f in wanted:
        if not hasattr(f, "parents"):
            raise TypeError(f"focus: expected graph nodes, got {type(f).__name__}")
    return wanted


def _focus(nodes: Sequence, wanted: list) -> tuple[list, set[int]]:
    """The nodes on some path from a node of ``wanted`` to the root, plus the other direct
    operands of those nodes; returns them (parents first) and the operands' indices (dimmed).

    One pass in topological order: a node is on a path when it is a focus node or one of its
    parents is (every node of ``nodes`` reaches the root, the last one).
    """
    wanted_ids = {id(f) for f in wanted}
    on_path: set[int] = set()
    for node in nodes:
        if id(node) in wanted_ids or any(id(p) in on_path for p in node.parents):
            on_path.add(id(node))
    missing = [f for f in wanted if id(f) not in on_path]
    if missing:
        name = missing[0].label or missing[0].op or "a leaf"
        raise ValueError(f"focus: the node {name!r} is not in the graph of the root")
    operands = {id(p) for n in nodes if id(n) in on_path for p in n.parents} - on_path
    drawn = [n for n in nodes if id(n) in on_path or id(n) in operands]
    return drawn, {i for i, n in enumerate(drawn) if id(n) in operands}


def _check_collapse(collapse: Any) -> int:
    if isinstance(collapse, bool) or not isinstance(collapse, (int, np.integer)) or collapse < 1:
        raise ValueError(f"collapse must be a positive int (a scope depth), got {collapse!r}")
    return int(collapse)


def fold(nodes: Sequence, depth: int) -> tuple[list[int], list[list[int]], list]:
    """How ``collapse=depth`` folds ``nodes`` (in topological order) into drawn items: each
    node's item (drawn as ``s{item}``), each item's nodes, and each item's key (a scope tuple
    cut to ``depth`` names, or the index of a node without a scope, left as itself).

    Folds are listed (and so drawn) in scope order, layer0/neuron2 before layer0/neuron10,
    not in the order the graph reached them; nodes left as themselves keep their places.
    """
    item_of: list[int] = []  # node index -> item index
    keys: dict[Any, int] = {}  # a fold's scope tuple, or the index of a node left as itself
    members: list[list[int]] = []  # item -> its node indices
    for i, node in enumerate(nodes):
        scope = tuple(node.scope)
        key = scope[:depth] if scope else i
        item = keys.get(key)
        if item is None:
            item = keys[key] = len(members)
            members.append([])
        members[item].append(i)
        item_of.append(item)
    keys_of = _item_keys(keys)
    slots = [item for item, key in enumerate(keys_of) if not isinstance(key, int)]
    order = list(range(len(members)))
    for slot, item in zip(slots, sorted(slots, key=lambda item: _scope_order(keys_of[item]))):
        order[slot] = item
    renumber = {old: new for new, old in enumerate(order)}
    return (
        [renumber[item] for item in item_of],
        [members[old] for old in order],
        [keys_of[old] for old in order],
    )


def _collapsed(
    root: Any,
    nodes: Sequence,
    depth: int,
    *,
    dimmed: Collection[int],
    highlight: Collection[int],
    rankdir: str,
    show_data: bool,
    show_grad: bool,
    edge_labels: Any,
    precision: int,
    group: bool,
    max_nodes: int,
) -> graphviz.Digraph:
    """The Digraph of ``nodes`` with every node folded into its scope cut to ``depth`` names.

    Each fold is one box naming its scope and how many nodes it stands for; a node without
    a scope stays itself. Edges inside a fold vanish; parallel edges between two drawn items
    become one edge labelled ``×N``; an edge that stands for one edge keeps its usual label.
    A fold of dimmed nodes only is dimmed; one holding the root or a highlighted node is
    outlined as they are. One pass over the nodes and one over their edges.
    """
    mode = _edge_mode(edge_labels)
    item_of, members, keys_of = fold(nodes, depth)
    if len(members) > max_nodes:
        raise ValueError(
            f"the drawing has {len(members):,} items after focus and collapse (of a graph of "
            f"{len(nodes):,} nodes), more than max_nodes={max_nodes}; pass "
            f"max_nodes={len(members)} to draw it anyway"
            + (f", or a smaller collapse (collapse={depth - 1})" if depth > 1 else "")
        )
    index = {id(n): i for i, n in enumerate(nodes)}
    merged: dict[tuple[int, int], list] = {}  # (src item, dst item) -> [count, one edge]
    for i, node in enumerate(nodes):
        if i in dimmed:
            continue
        for parent, local in zip(node.parents, node.local_grads):
            pair = (item_of[index[id(parent)]], item_of[i])
            if pair[0] == pair[1]:
                continue  # inside one fold
            entry = merged.get(pair)
            if entry is None:
                merged[pair] = [1, (node, parent, local)]
            else:
                entry[0] += 1
    item_depth = _depths(len(members), list(merged))
    spans = [max(1, abs(item_depth[b] - item_depth[a])) for a, b in merged]
    layout = _layout_attrs(spans, labelled=mode is not None)
    # A model's folds are densely connected (16 x 16 neurons: 256 edges). dot's splines then
    # looped around the clusters for metres, and edge labels, being nodes in its ranking,
    # stacked into a column 10,000 pixels tall. So a dense drawing gets straight edges under
    # its boxes and external labels (xlabel), which dot leaves out where they would overlap.
    dense = len(merged) > _DENSE_EDGES
    if dense:
        layout.update(splines="line", outputorder="edgesfirst", forcelabels="false")
    label_key = "xlabel" if dense else "label"
    rows = _sibling_rows(keys_of, item_depth, group, rankdir, clusters=dense)
    if rows.keys() - {()}:
        # dot's second crossing pass over the whole graph (remincross) reads no chain
        # inside a cluster and shuffled the boxes again (moons: layer1 began at neuron8).
        # Without it the edges between clusters keep the order of their first pass: their
        # splines looped around the boxes (a focused drawing), so only a dense drawing,
        # whose edges are straight lines, orders the boxes of its clusters.
        layout["remincross"] = "false"
    dot = _digraph(rankdir, layout)
    faded = [all(i in dimmed for i in nodes_in) for nodes_in in members]
    items = []
    for item, nodes_in in enumerate(members):
        key = keys_of[item]
        if isinstance(key, int):  # a node without a scope, drawn as itself
            node = nodes[key]
            kind = node_kind(node, root)
            attrs = dict(_KIND_STYLE[kind])
            label = node_label(
                node, kind, show_data=show_data, show_grad=show_grad, precision=precision
            )
            scope = ()
        else:
            attrs = dict(_FOLD_STYLE)
            if item == item_of[-1]:  # the root's fold (the root comes last)
                attrs.update(style="rounded,filled,bold", penwidth="2")
            count = len(nodes_in)
            label = (
                f'<<table border="0" cellborder="0" cellspacing="0" cellpadding="2">'
                f"<tr><td><b>{html.escape('/'.join(key))}</b></td></tr>"
                f"<tr><td>{count:,} node{'s' if count != 1 else ''}</td></tr></table>>"
            )
            scope = key[:-1]
        if faded[item]:
            attrs.update(DIMMED)
        if any(i in highlight for i in nodes_in):
            attrs.update(HIGHLIGHT)
        items.append((f"s{item}", label, attrs, scope if group else ()))
    _add_items(dot, items, group, rows)
    for (a, b), (count, (node, parent, local)) in merged.items():
        attrs = {}
        if count > 1:
            attrs["penwidth"] = f"{1 + 0.5 * math.log10(count):.2f}"
            if mode is not None:
                attrs[label_key] = f"×{count:,}"
        elif mode is not None:
            attrs[label_key] = edge_label(node, parent, local, mode, precision)
        if faded[a]:
            attrs.update(color=DIMMED["color"], fontcolor=DIMMED["fontcolor"])
        dot.edge(f"s{a}", f"s{b}", **attrs)
    return dot


def _sibling_rows(
    keys_of: Sequence, item_depth: Sequence[int], group: bool, rankdir: str, clusters: bool
) -> dict[tuple, list[list[str]]]:
    """The rows that keep a collapsed drawing's boxes in scope order: enclosing scope ->
    rows of box names, one row per set of sibling folds at the same depth.

    dot orders the boxes of a rank to cut crossings, which between two fully connected
    layers is a shuffle (0, 3, 1, 4, ...). Sibling folds at the same depth are put in one
    rank (rank=same) and chained by invisible edges, which dot keeps in their order within
    a rank. Grouped, a chain goes in its siblings' cluster (a rank=same block outside it
    pulled the boxes out of their cluster), and there dot reads it against the flip that
    rankdir LR and RL make (Graphviz 2.43 and 16.1 alike): outside clusters an edge a -> b
    puts a above b, inside them below, so the chain runs backwards there. Siblings inside
    a cluster get no row unless ``clusters`` (see _collapsed: dense drawings only).
    """
    siblings: dict[tuple, list[int]] = {}
    for item, key in enumerate(keys_of):  # items in scope order
        if not isinstance(key, int):
            siblings.setdefault((key[:-1], item_depth[item]), []).append(item)
    rows: dict[tuple, list[list[str]]] = {}
    for (scope, _), items_in in siblings.items():
        if len(items_in) < 2:
            continue
        inside = group and bool(scope)
        if inside and not clusters:
            continue
        row = [f"s{item}" for item in items_in]
        if inside and rankdir in ("LR", "RL"):
            row.reverse()
        rows.setdefault(scope if inside else (), []).append(row)
    return rows


def _item_keys(keys: dict[Any, int]) -> list:
    """The keys of ``keys`` (key -> item index) listed by item index."""
    listed: list = [None] * len(keys)
    for key, item in keys.items():
        listed[item] = key
    return listed


def _scope_order(scope: tuple) -> tuple:
    """A sort key for scopes that reads the numbers in names as numbers: layer0/neuron2
    before layer0/neuron10, and both before layer1."""
    return tuple(
        tuple(
            (0, int(part), "") if part.isdigit() else (1, 0, part)
            for part in re.split(r"(\d+)", name)
        )
        for name in scope
    )


def draw(
    root: Any,
    rankdir: str = "LR",
    show_data: bool = True,
    show_grad: bool = True,
    edge_labels: bool | str = True,
    highlight: Collection = (),
    max_nodes: int = 500,
    precision: int = 4,
    group: bool = True,
    collapse: int | None = None,
    focus: Any = None,
) -> graphviz.Digraph:
    """The graph ending at ``root`` as a ``graphviz.Digraph`` (displays inline in Jupyter).

    Each edge parent -> node is labelled with d(node)/d(parent); ``edge_labels="contribution"``
    also shows ``x upstream = contribution`` (the chain rule's product, after a backward pass);
    ``edge_labels=False`` hides them. An operand used twice (``a * a``) gets two edges. Nodes
    are named ``n0, n1, ...`` in topological order, so the same graph gives the same DOT
    source. ``highlight`` is a collection of nodes to outline in red; numbers have
    ``precision`` significant digits.

    Graphs of real models: ``group`` draws the nodes of each distinct ``node.scope`` in a
    labelled cluster (nested scopes nest). ``collapse=k`` folds every node into its scope cut
    to k names (a node without a scope stays itself): one box per fold, naming the scope and
    its node count, and parallel edges merged into one labelled ``×N`` (an edge standing for
    one edge keeps its local gradient). ``focus`` (a node or a collection of nodes) keeps
    only the nodes on some path from a focus node to ``root``, outlines the focus nodes and
    draws the other operands of the kept nodes dimmed: the picture of
    ``autograd.explain``. Focus is applied first, then collapse; both are linear in the
    graph's size. More than ``max_nodes`` drawn nodes (boxes, after focus and collapse)
    raises ``ValueError`` saying how many.

    >>> from autograd import Value
    >>> x = Value(3.0, label="x"); y = x * x; y.backward()
    >>> draw(y).source.count("->")   # x feeds y twice
    2
    """
    options = {
        "rankdir": rankdir,
        "show_data": show_data,
        "show_grad": show_grad,
        "edge_labels": edge_labels,
        "precision": precision,
        "group": group,
    }
    if focus is None and collapse is None:
        nodes = nodes_in_order(root, max_nodes)  # refuses a big graph before walking it all
        wanted = {id(n) for n in highlight}
        picked = {i for i, n in enumerate(nodes) if id(n) in wanted}
        return build(root, nodes, highlight=picked, **options)
    _check_max_nodes(max_nodes)
    depth = None if collapse is None else _check_collapse(collapse)
    nodes, dimmed = topological_order(root), set()
    wanted = {id(n) for n in highlight}
    if focus is not None:
        focus_nodes = _focus_nodes(focus)
        nodes, dimmed = _focus(nodes, focus_nodes)
        wanted |= {id(f) for f in focus_nodes}
    picked = {i for i, n in enumerate(nodes) if id(n) in wanted}
    if depth is not None:
        return _collapsed(
            root, nodes, depth, dimmed=dimmed, highlight=picked, max_nodes=max_nodes, **options
        )
    if len(nodes) > max_nodes:
        raise ValueError(
            f"the drawing has {len(nodes):,} nodes after focus, more than "
            f"max_nodes={max_nodes}; pass max_nodes={len(nodes)} to draw it anyway, or "
            "collapse it (collapse=2)"
        )
    return build(root, nodes, highlight=picked, dimmed=dimmed, **options)


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
