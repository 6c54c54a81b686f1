"""The backward pass as a film: one SVG per step, all frames on one layout, and a player.

The graph is laid out once (Graphviz ``dot`` to JSON), then every frame is drawn with each
node pinned to its position and size and each edge to its route (``neato -n2``), so nothing
moves from frame to frame; only colours and the grads change.
"""

from __future__ import annotations

import html
import json
import shutil
import uuid
from typing import Any

from .graph import HIGHLIGHT, INSTALL_HINT, _edge_mode, build, edge_label, fmt, nodes_in_order, pipe

# Parents receiving the current step's contributions.
_RECEIVING = {"color": "#f59e0b", "penwidth": "2"}
# Nodes whose grad is not final yet (their step has not come) are greyed out.
_PENDING = {"fontcolor": "#9ca3af"}


def _text_width(text: str) -> int:
    """A generous width in points for ``text`` in 12pt Helvetica (its glyphs are at most
    0.56em wide, except a few letters that never occur in numbers), plus the cell padding."""
    return 7 * len(text) + 10


def _layout(dot: Any) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]], str]:
    """Lay ``dot`` out once: pinned node attributes by name, edge routes by id, bounding box."""
    laid = json.loads(pipe(dot.source, "json"))
    nodes = {
        obj["name"]: {
            "pos": obj["pos"] + "!",
            "width": obj["width"],
            "height": obj["height"],
            "fixedsize": "true",
        }
        for obj in laid.get("objects", [])
    }
    edges = {}
    for edge in laid.get("edges", []):
        edges[edge["id"]] = {"pos": edge["pos"]}
        if "lp" in edge:
            edges[edge["id"]]["lp"] = edge["lp"]
    return nodes, edges, laid["bb"]


def _steps(root: Any, nodes: list, precision: int) -> tuple[list, dict]:
    """Run root.backward_steps(); for each step: node index, grads as they stand, chain rule;
    and each edge's ``x upstream = contribution`` label as written when its step ran.

    Everything is formatted at once: a Tensor's grad array may be updated in place later.
    """
    index = {id(n): i for i, n in enumerate(nodes)}
    steps, contributions = [], {}
    for step in root.backward_steps():
        i = index[id(step.node)]
        steps.append((i, [fmt(n.grad, precision) for n in nodes], str(step)))
        for k, (parent, local, _) in enumerate(step.edges):
            contributions[(i, k)] = edge_label(step.node, parent, local, "contribution", precision)
    return steps, contributions


def _frames(
    root: Any,
    *,
    rankdir: str = "LR",
    show_data: bool = True,
    edge_labels: bool | str = True,
    max_nodes: int = 100,
    precision: int = 4,
) -> tuple[list[str], list[str]]:
    nodes = nodes_in_order(root, max_nodes)
    if shutil.which("dot") is None:  # before the pass: a failed call leaves grads untouched
        raise RuntimeError(INSTALL_HINT)
    index = {id(n): i for i, n in enumerate(nodes)}
    steps, contributions = _steps(root, nodes, precision)
    # "contribution" labels appear on a node's edges when its step sends them, not before.
    by_step = _edge_mode(edge_labels) == "contribution"
    local_only = (
        {
            (j, k): edge_label(node, parent, local, "local", precision)
            for j, node in enumerate(nodes)
            for k, (parent, local) in enumerate(zip(node.parents, node.local_grads))
        }
        if by_step
        else {}
    )
    if not steps:
        return [], []
    options = {
        "rankdir": rankdir,
        "show_data": show_data,
        "edge_labels": edge_labels,
        "precision": precision,
    }
    # Lay out with each node's widest grad text so that every frame's text fits its box.
    widest = [max((grads[j] for _, grads, _ in steps), key=len) for j in range(len(nodes))]
    # Each grad cell gets a fixed width too, or the cells would shift inside their box.
    widths = [_text_width("grad " + text) for text in widest]
    options["grad_widths"] = widths
    node_pins, edge_pins, bb = _layout(build(root, nodes, grad_texts=widest, **options))

    sources, finished = [], set()
    for i, grads, _ in steps:
        finished.add(i)
        node_attrs = {j: dict(node_pins[f"n{j}"]) for j in range(len(nodes))}
        for j in range(len(nodes)):
            if j not in finished:
                node_attrs[j].update(_PENDING)
        for parent in nodes[i].parents:
            node_attrs[index[id(parent)]].update(_RECEIVING)
        node_attrs[i].update(HIGHLIGHT)
        edge_attrs = {}
        for j, node in enumerate(nodes):
            for k in range(len(node.parents)):
                edge_attrs[(j, k)] = dict(edge_pins[f"e{j}_{k}"])
                if by_step:
                    edge_attrs[(j, k)]["label"] = (
                        contributions[(j, k)] if j in finished else local_only[(j, k)]
                    )
                if j == i:
                    edge_attrs[(j, k)].update(color=HIGHLIGHT["color"], penwidth="2.5")
        dot = build(
            root, nodes, grad_texts=grads, node_attrs=node_attrs, edge_attrs=edge_attrs, **options
        )
        dot.attr(bb=bb)
        sources.append(dot.source)
    # One Graphviz run for all frames (it renders every graph of its input in turn): starting
    # a process per frame cost more than the drawing.
    out = pipe("\n".join(sources), "svg", engine="neato", pinned=True).decode("utf-8")
    svgs = ["<?xml" + svg for svg in out.split("<?xml")[1:]]
    if len(svgs) != len(sources):
        raise RuntimeError(f"Graphviz drew {len(svgs)} frames of {len(sources)}")
    return svgs, [text for _, _, text in steps]


def backward_frames(root: Any, **options: Any) -> list[str]:
    """One SVG per step of ``root.backward_steps()``: the step's node outlined in red, its
    incoming edges (the ones carrying its contributions) in red, the parents receiving them in
    orange, nodes whose grad is not final yet greyed, and every grad as it stands at that step.
    Every node keeps its position in every frame.

    This runs the backward pass, so like ``backward()`` it accumulates into ``.grad``: call
    ``root.zero_grad()`` first if the graph has been through a pass already. Options:
    ``rankdir``, ``show_data``, ``edge_labels``, ``max_nodes``, ``precision`` as for ``draw``,
    except that ``max_nodes`` defaults to 100: n nodes make about n frames of n nodes each, so
    the cost (and a player's page size) grows as n squared; raise it knowingly.

    >>> from autograd import Value
    >>> a = Value(2.0, label="a"); b = a * 3
    >>> len(backward_frames(b))   # doctest: +SKIP
    3
    """
    return _frames(root, **options)[0]


class Player:
    """A notebook player over the backward frames: previous / next buttons, a slider and the
    step's chain rule under the picture. ``_repr_html_`` is self-contained HTML with inline
    SVG and JavaScript, so it also plays in a static HTML export of the notebook.
    """

    def __init__(self, frames: list[str], texts: list[str]) -> None:
        self.frames = frames
        self.texts = texts

    def __len__(self) -> int:
        return len(self.frames)

    def _repr_html_(self) -> str:
        # A fresh DOM id per rendering: two players (or one shown twice) on a page never clash.
        uid = "tracegrad-" + uuid.uuid4().hex[:12]
        n = len(self.frames)
        if n == 0:
            return f'<div id="{uid}">no backward steps to show</div>'
        frames = "\n".join(
            f'<div class="tg-frame" style="display:{"block" if k == 0 else "none"}">'
            f"{svg[svg.index('<svg') :]}"
            f'<pre style="white-space:pre-wrap">{html.escape(text)}</pre></div>'
            for k, (svg, text) in enumerate(zip(self.frames, self.texts))
        )
        return f"""<div id="{uid}">
<div><button type="button" class="tg-prev">&#9664; prev</button>
<input type="range" class="tg-slider" min="0" max="{n - 1}" value="0" step="1">
<button type="button" class="tg-next">next &#9654;</button>
<span class="tg-count">step 1 / {n}</span></div>
{frames}
<script>
(function () {{
  var root = document.getElementById("{uid}");
  var frames = root.querySelectorAll(".tg-frame");
  var slider = root.querySelector(".tg-slider");
  var count = root.querySelector(".tg-count");
  function show(k) {{
    k = Math.max(0, Math.min(frames.length - 1, k));
    for (var j = 0; j < frames.length; j++) {{
      frames[j].style.display = j === k ? "block" : "none";
    }}
    slider.value = k;
    count.textContent = "step " + (k + 1) + " / " + frames.length;
  }}
  root.querySelector(".tg-prev").onclick = function () {{ show(+slider.value - 1); }};
  root.querySelector(".tg-next").onclick = function () {{ show(+slider.value + 1); }};
  slider.oninput = function () {{ show(+slider.value); }};
}})();
</script>
</div>"""


def step_through(root: Any, **options: Any) -> Player:
    """A player over ``backward_frames(root, **options)`` that Jupyter displays inline.

    >>> from autograd import Value
    >>> x = Value(0.5, label="x"); y = (x * x).tanh()
    >>> step_through(y)   # doctest: +SKIP
    """
    return Player(*_frames(root, **options))
