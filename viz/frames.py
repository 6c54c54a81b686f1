"""The backward pass as a film: one SVG per step, all frames on one layout, and a player.

The graph is laid out once (Graphviz ``dot`` to JSON), then every frame is drawn with each
node pinned to its position and size and each edge to its route (``neato -n2``), so nothing
moves from frame to frame; only colours and the grads change. The player draws that layout
once and its script changes the colours and texts per step; a GIF's frames are drawn at most
MAX_WIDTH pixels wide and share one palette, so that Pillow stores only what changes.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import re
import shutil
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import graphviz

from .graph import (
    HIGHLIGHT,
    INSTALL_HINT,
    _edge_mode,
    build,
    edge_label,
    fmt,
    node_kind,
    nodes_in_order,
    pipe,
)

# Parents receiving the current step's contributions.
_RECEIVING = {"color": "#f59e0b", "penwidth": "2"}
# Nodes whose grad is not final yet (their step has not come) are greyed out.
_PENDING = {"fontcolor": "#9ca3af"}
# The chain-rule text under a GIF frame or the player's still: Graphviz draws it too, so it
# has the fonts (and the ∂ glyph) the pictures have.
_CAPTION_FONT = {"fontname": "DejaVu Sans Mono,monospace", "fontsize": "13"}


def _caption(lines: list[str]) -> str:
    """Lines of text as one Graphviz label, each line left-justified (``\\l``)."""
    return "".join(graphviz.escape(line) + "\\l" for line in lines)


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


class _Film:
    """The backward pass of one graph, laid out once: its nodes, its steps (node index, every
    grad as it stood, the chain-rule text) and the pins that hold every frame to the layout."""

    def __init__(
        self, root: Any, nodes: list, steps: list, contributions: dict, options: dict
    ) -> None:
        precision = options["precision"]
        self.root, self.nodes, self.steps = root, nodes, steps
        self.index = {id(n): i for i, n in enumerate(nodes)}
        self.contributions = contributions
        # "contribution" labels appear on a node's edges when its step sends them, not before.
        self.by_step = _edge_mode(options["edge_labels"]) == "contribution"
        self.local_only = (
            {
                (j, k): edge_label(node, parent, local, "local", precision)
                for j, node in enumerate(nodes)
                for k, (parent, local) in enumerate(zip(node.parents, node.local_grads))
            }
            if self.by_step
            else {}
        )
        # Lay out with each node's widest grad text so that every frame's text fits its box.
        widest = [max((grads[j] for _, grads, _ in steps), key=len) for j in range(len(nodes))]
        # Each grad cell gets a fixed width too, or the cells would shift inside their box.
        self.options = dict(options, grad_widths=[_text_width("grad " + t) for t in widest])
        self.node_pins, self.edge_pins, self.bb = _layout(
            build(root, nodes, grad_texts=widest, **self.options)
        )

    def source(self, step: int | None, labels: str = "as at the step") -> str:
        """The DOT source of frame ``step`` (0-based), pinned to the layout; ``step=None`` is
        the player's plain picture: no highlight, nothing greyed, the first step's grads, and
        with ``labels`` "local" or "contribution" every edge labelled so (by_step only)."""
        nodes, index = self.nodes, self.index
        i, grads = self.steps[step or 0][:2]
        finished = {s[0] for s in self.steps[: step + 1]} if step is not None else set()
        node_attrs = {j: dict(self.node_pins[f"n{j}"]) for j in range(len(nodes))}
        if step is not None:
            for j in range(len(nodes)):
                if j not in finished:
                    node_attrs[j].update(_PENDING)
            for parent in nodes[i].parents:
                node_attrs[index[id(parent)]].update(_RECEIVING)
            node_attrs[i].update(HIGHLIGHT)
        edge_attrs = {}
        for j, node in enumerate(nodes):
            for k in range(len(node.parents)):
                edge_attrs[(j, k)] = dict(self.edge_pins[f"e{j}_{k}"])
                if self.by_step:
                    sent = j in finished if step is not None else labels == "contribution"
                    edge_attrs[(j, k)]["label"] = (
                        self.contributions[(j, k)] if sent else self.local_only[(j, k)]
                    )
                if step is not None and j == i:
                    edge_attrs[(j, k)].update(color=HIGHLIGHT["color"], penwidth="2.5")
        dot = build(
            self.root,
            nodes,
            grad_texts=grads,
            node_attrs=node_attrs,
            edge_attrs=edge_attrs,
            **self.options,
        )
        dot.attr(bb=self.bb)
        return dot.source

    @property
    def texts(self) -> list[str]:
        return [text for _, _, text in self.steps]


def _film(
    root: Any,
    *,
    rankdir: str = "LR",
    show_data: bool = True,
    edge_labels: bool | str = True,
    max_nodes: int = 100,
    precision: int = 4,
) -> _Film | None:
    """Run the backward pass and lay its graph out; None when it has no step."""
    nodes = nodes_in_order(root, max_nodes)
    if shutil.which("dot") is None:  # before the pass: a failed call leaves grads untouched
        raise RuntimeError(INSTALL_HINT)
    _edge_mode(edge_labels)  # checked before the pass too
    steps, contributions = _steps(root, nodes, precision)
    if not steps:
        return None
    options = {
        "rankdir": rankdir,
        "show_data": show_data,
        "edge_labels": edge_labels,
        "precision": precision,
    }
    return _Film(root, nodes, steps, contributions, options)


def _frame_sources(root: Any, **options: Any) -> tuple[list[str], list[str]]:
    """Run the backward pass; return each step's DOT source, pinned to one shared layout, and
    its chain-rule text. Any format (SVG for the frames, PNG for a GIF) renders them alike."""
    film = _film(root, **options)
    if film is None:
        return [], []
    return [film.source(k) for k in range(len(film.steps))], film.texts


def _render_all(sources: list[str], fmt: str) -> list[bytes]:
    """Render every DOT source in one Graphviz run (it renders each graph of its input in
    turn; a process per frame cost more than the drawing) and split its output per graph."""
    if not sources:
        return []
    out = pipe("\n".join(sources), fmt, engine="neato", pinned=True)
    pictures = _split_pngs(out) if fmt == "png" else _split_svgs(out)
    if len(pictures) != len(sources):
        raise RuntimeError(f"Graphviz drew {len(pictures)} frames of {len(sources)}")
    return pictures


def _split_svgs(out: bytes) -> list[bytes]:
    return [b"<?xml" + svg for svg in out.split(b"<?xml")[1:]]


def _split_pngs(out: bytes) -> list[bytes]:
    """Split concatenated PNG files by walking their chunks up to each IEND (a signature
    search could be fooled by compressed bytes)."""
    signature = b"\x89PNG\r\n\x1a\n"
    pictures, start = [], 0
    while start < len(out):
        if out[start : start + 8] != signature:
            raise RuntimeError("Graphviz's PNG output is not a sequence of PNG files")
        end, kind = start + 8, b""
        while kind != b"IEND":
            if end + 12 > len(out):
                raise RuntimeError("Graphviz's PNG output ends inside a PNG file")
            length = int.from_bytes(out[end : end + 4], "big")
            kind = out[end + 4 : end + 8]
            end += 12 + length  # length, type, data, CRC
        pictures.append(out[start:end])
        start = end
    return pictures


def _frames(root: Any, **options: Any) -> tuple[list[str], list[str]]:
    """The backward frames as SVG documents, and their chain-rule texts."""
    sources, texts = _frame_sources(root, **options)
    return [svg.decode("utf-8") for svg in _render_all(sources, "svg")], texts


def backward_frames(root: Any, **options: Any) -> list[str]:
    """One SVG per step of ``root.backward_steps()``: the step's node outlined in red, its
    incoming edges (the ones carrying its contributions) in red, the parents receiving them in
    orange, nodes whose grad is not final yet greyed, and every grad as it stands at that step.
    Every node keeps its position in every frame.

    This runs the backward pass, so like ``backward()`` it accumulates into ``.grad``: call
    ``root.zero_grad()`` first if the graph has been through a pass already. Options:
    ``rankdir``, ``show_data``, ``edge_labels``, ``max_nodes``, ``precision`` as for ``draw``,
    except that ``max_nodes`` defaults to 100: n nodes make about n frames of n nodes each, so
    the cost (and a GIF's) grows as n squared; raise it knowingly.

    >>> from autograd import Value
    >>> a = Value(2.0, label="a"); b = a * 3
    >>> len(backward_frames(b))   # doctest: +SKIP
    3
    """
    return _frames(root, **options)[0]


PLAY_HINT = "Run this cell to play the backward pass step by step."

# Exported pictures (a GIF's frames, the player's still) are at most this many pixels wide: a
# wider graph is drawn smaller (Graphviz's size, at its 96 pixels an inch), which keeps a
# 100-node film to a few megabytes and makes it in seconds.
MAX_WIDTH = 1600
_SVG = "http://www.w3.org/2000/svg"

# How the player's script shows a step on its one picture: the classes it sets on the SVG's
# node and edge groups, drawn as the frames of backward_frames draw them (a node's outline is
# the first element after its <title>; the rest of its polygons are the label's rules).
_PLAYER_CSS = """
#{uid} g.tg-recv > title + * {{ stroke: {recv}; stroke-width: {recv_width}px; }}
#{uid} g.tg-recv > title ~ polygon:not(title + *) {{ stroke: {recv}; fill: {recv}; }}
#{uid} g.tg-cur > title + * {{ stroke: {hot}; stroke-width: {hot_width}px; }}
#{uid} g.tg-cur > title ~ polygon:not(title + *) {{ stroke: {hot}; fill: {hot}; }}
#{uid} g.tg-pending text {{ fill: {pending}; }}
#{uid} g.tg-hot > path {{ stroke: {hot}; stroke-width: 2.5px; }}
#{uid} g.tg-hot > polygon {{ stroke: {hot}; fill: {hot}; }}
#{uid} g.edge:not(.tg-sent) .tg-after, #{uid} g.tg-sent .tg-before {{ display: none; }}
#{uid} .tg-picture {{ cursor: zoom-in; }}
#{uid} .tg-picture svg {{ max-width: 100%; height: auto; }}
#{uid} .tg-picture.tg-full {{ overflow-x: auto; cursor: zoom-out; }}
#{uid} .tg-picture.tg-full svg {{ max-width: none; }}
"""


def _fitted(source: str, width: int = MAX_WIDTH) -> str:
    """A DOT source drawn at most ``width`` pixels wide (Graphviz scales a larger drawing
    down to its ``size``, in inches; the pad is inside it)."""
    body = source.rstrip().removesuffix("}")
    return f'{body}\tsize="{(width - 1) / 96:.4f},1000"\n}}\n'


def _player_svg(film: _Film) -> str:
    """The player's one picture: the layout with no step shown. Where edge labels change at
    a node's step ("contribution"), each edge carries both labels, the local gradient
    (class tg-before) and the contribution (tg-after), and the script shows one."""
    if not film.by_step:
        return _render_all([film.source(None)], "svg")[0].decode("utf-8")
    before, after = (
        ET.fromstring(svg)
        for svg in _render_all(
            [film.source(None, "local"), film.source(None, "contribution")], "svg"
        )
    )
    sent = {g.get("id"): g for g in after.iter(f"{{{_SVG}}}g") if g.get("class") == "edge"}
    for g in before.iter(f"{{{_SVG}}}g"):
        if g.get("class") != "edge":
            continue
        for text in g.findall(f"{{{_SVG}}}text"):
            text.set("class", "tg-before")
        for text in sent[g.get("id")].findall(f"{{{_SVG}}}text"):
            text.set("class", "tg-after")
            g.append(text)
    ET.register_namespace("", _SVG)
    ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    return ET.tostring(before, encoding="unicode")


class Player:
    """A notebook player over the backward pass: previous / next buttons, a slider and the
    step's chain rule under the picture. ``_repr_html_`` is self-contained HTML with inline
    SVG and JavaScript, so it also plays in a static HTML export of the notebook.

    It holds one picture, ``svg`` (the graph laid out once), and per step only what changes:
    which node is processed (``order``, indices into the graph's nodes, whose parents are
    ``parents``), the grads that changed (``grads``: the first step's every grad, then
    ``[node index, text]`` pairs; None for a constant, which shows no grad) and the chain
    rule (``texts``). Its script draws each step on that picture as ``backward_frames`` does,
    so a saved 100-node player is a few hundred kilobytes, not a picture per step.

    Where its JavaScript has not run (an untrusted notebook, a code host, a sanitised export)
    the player shows its first frame as a picture, with a line saying to run the cell: the
    HTML leads with that still (its script replaces it), and ``_repr_png_`` gives it to front
    ends that show no HTML, chain rule and hint drawn under the graph.
    """

    def __init__(
        self,
        svg: str,
        texts: list[str],
        order: list[int],
        parents: list[list[int]],
        grads: list,
        still: bytes | None = None,
    ) -> None:
        self.svg = svg
        self.texts = texts
        self.order = order
        self.parents = parents
        self.grads = grads
        self.still = still  # the first frame as PNG, captioned; None when there is no step

    def __len__(self) -> int:
        return len(self.texts)

    def __repr__(self) -> str:
        return f"<viz.Player: {len(self)} steps of the backward pass. {PLAY_HINT}>"

    def save(self, path: str | Path) -> Path:
        """Write the player as one self-contained HTML file: inline SVG and inline
        JavaScript, no external resource (no script, style sheet, font or image to fetch), so
        it plays from disk, attached to an e-mail or on any static host. Returns the path.

        >>> from autograd import Value
        >>> step_through(Value(2.0, label="a") * 3).save("backprop.html")   # doctest: +SKIP
        PosixPath('backprop.html')
        """
        path = Path(path)
        page = (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            "<title>tracegrad: the backward pass, step by step</title>\n</head>\n<body>\n"
            f"{self._repr_html_()}\n</body>\n</html>\n"
        )
        path.write_text(page, encoding="utf-8")
        return path

    def _repr_png_(self) -> bytes | None:
        return self.still

    def _repr_html_(self) -> str:
        # A fresh DOM id per rendering: two players (or one shown twice) on a page never clash.
        uid = "tracegrad-" + uuid.uuid4().hex[:12]
        n = len(self)
        if n == 0:
            return f'<div id="{uid}">no backward steps to show</div>'
        picture = ""
        if self.still is not None:
            data = base64.b64encode(self.still).decode("ascii")
            picture = (
                f'<img alt="step 1 of the backward pass" src="data:image/png;base64,{data}" '
                'style="max-width:100%;height:auto">'
            )
        # The picture and the steps travel as JSON inside a script, which sanitisers drop
        # whole: where the script cannot run, only the still shows, never a jumble of SVG
        # text. Every "<" is escaped so that no "</script>" in an SVG ends the script early.
        film = json.dumps(
            {
                "svg": self.svg[self.svg.index("<svg") :],
                "texts": self.texts,
                "order": self.order,
                "parents": self.parents,
                "grads": self.grads,
            },
            separators=(",", ":"),
        ).replace("<", "\\u003c")
        css = _PLAYER_CSS.format(
            uid=uid,
            hot=HIGHLIGHT["color"],
            hot_width=HIGHLIGHT["penwidth"],
            recv=_RECEIVING["color"],
            recv_width=_RECEIVING["penwidth"],
            pending=_PENDING["fontcolor"],
        )
        return f"""<div id="{uid}">
<div class="tg-still">{picture}<pre style="white-space:pre-wrap">{html.escape(self.texts[0])}</pre>
<p>{PLAY_HINT}</p></div>
<script type="application/json" class="tg-steps">{film}</script>
<script>
(function () {{
  var root = document.getElementById("{uid}");
  var film = JSON.parse(root.querySelector(".tg-steps").textContent);
  var n = film.texts.length;
  root.innerHTML = '<div><button type="button" class="tg-prev">&#9664; prev</button> ' +
    '<input type="range" class="tg-slider" min="0" max="{n - 1}" value="0" step="1"> ' +
    '<button type="button" class="tg-next">next &#9654;</button> ' +
    '<span class="tg-count">step 1 / {n}</span></div>' +
    '<div class="tg-picture" title="click: full size / fit the width"></div>' +
    '<pre class="tg-text" style="white-space:pre-wrap"></pre>';
  var style = document.createElement("style");
  style.textContent = {json.dumps(css)};
  root.appendChild(style);
  root.querySelector(".tg-picture").innerHTML = film.svg;
  var svg = root.querySelector(".tg-picture svg");
  // The SVG's ids would repeat on a page showing it twice: the script keeps the elements.
  var nodes = [], grad = [], edges = [];
  svg.querySelectorAll("g.node").forEach(function (g) {{
    var j = +g.querySelector("title").textContent.slice(1);  // node n{{j}}
    var texts = g.querySelectorAll("text");
    nodes[j] = g;
    grad[j] = texts[texts.length - 1];  // a node's grad is its last cell
    g.removeAttribute("id");
  }});
  svg.querySelectorAll("g.edge").forEach(function (g) {{
    edges.push([g, +g.id.slice(1).split("_")[0]]);  // edge e{{j}}_{{k}} runs into node j
    g.removeAttribute("id");
  }});
  var stepOf = nodes.map(function () {{ return Infinity; }});
  film.order.forEach(function (j, k) {{ stepOf[j] = Math.min(stepOf[j], k); }});
  var grads = [film.grads[0]];  // every grad at every step, from the changes
  for (var k = 1; k < n; k++) {{
    var now = grads[k - 1].slice();
    film.grads[k].forEach(function (change) {{ now[change[0]] = change[1]; }});
    grads.push(now);
  }}
  var slider = root.querySelector(".tg-slider");
  var count = root.querySelector(".tg-count");
  var text = root.querySelector(".tg-text");
  var picture = root.querySelector(".tg-picture");
  // The picture fits the output's width; a click shows it full size, scrolled sideways to
  // keep the step's node in the middle, and a second click fits it again.
  function reveal() {{
    if (!picture.classList.contains("tg-full")) return;
    var node = nodes[film.order[+slider.value]].getBoundingClientRect();
    var frame = picture.getBoundingClientRect();
    picture.scrollLeft += node.left + node.width / 2 - frame.left - frame.width / 2;
  }}
  picture.onclick = function () {{ picture.classList.toggle("tg-full"); reveal(); }};
  function show(k) {{
    k = Math.max(0, Math.min(n - 1, k));
    var current = film.order[k], parents = film.parents[current];
    nodes.forEach(function (g, j) {{
      g.classList.toggle("tg-cur", j === current);
      g.classList.toggle("tg-recv", parents.indexOf(j) >= 0);
      g.classList.toggle("tg-pending", stepOf[j] > k);
      if (grads[k][j] !== null) grad[j].textContent = "grad " + grads[k][j];
    }});
    edges.forEach(function (edge) {{
      edge[0].classList.toggle("tg-hot", edge[1] === current);
      edge[0].classList.toggle("tg-sent", stepOf[edge[1]] <= k);
    }});
    text.textContent = film.texts[k];
    slider.value = k;
    count.textContent = "step " + (k + 1) + " / " + n;
    reveal();
  }}
  root.querySelector(".tg-prev").onclick = function () {{ show(+slider.value - 1); }};
  root.querySelector(".tg-next").onclick = function () {{ show(+slider.value + 1); }};
  slider.oninput = function () {{ show(+slider.value); }};
  show(0);
}})();
</script>
</div>"""


def _still(source: str, text: str, steps: int) -> bytes:
    """The first frame as a PNG at most MAX_WIDTH wide, with its chain rule and the hint to
    play drawn under the graph (a Graphviz label: no image library needed)."""
    lines = [f"step 1 / {steps}", *text.splitlines(), "", PLAY_HINT]
    label = _caption(lines)
    fonts = " ".join(f'{key}="{value}"' for key, value in _CAPTION_FONT.items())
    # The layout's bounding box is dropped so that Graphviz makes room for the label.
    body = re.sub(r'\tbb="[^"]*"\n', "", source.rstrip().removesuffix("}"))
    still = f'{body}\tlabel="{label}" labelloc=b labeljust=l {fonts}\n}}\n'
    return _render_all([_fitted(still)], "png")[0]


def step_through(root: Any, **options: Any) -> Player:
    """A player over the backward pass of ``root`` (as ``backward_frames(root, **options)``
    draws it) that Jupyter displays inline; it runs the pass, as ``backward()`` does.

    >>> from autograd import Value
    >>> x = Value(0.5, label="x"); y = (x * x).tanh()
    >>> step_through(y)   # doctest: +SKIP
    """
    film = _film(root, **options)
    if film is None:
        return Player("<svg></svg>", [], [], [], [], None)
    kinds = [node_kind(node, root) for node in film.nodes]
    grads: list = []
    before = None
    for _, now, _ in film.steps:
        shown = [None if kind == "const" else text for kind, text in zip(kinds, now)]
        if before is None:
            grads.append(shown)
        else:
            grads.append([[j, t] for j, (t, b) in enumerate(zip(shown, before)) if t != b])
        before = shown
    index = film.index
    parents = [[index[id(p)] for p in node.parents] for node in film.nodes]
    still = _still(film.source(0), film.texts[0], len(film.steps))
    order = [i for i, _, _ in film.steps]
    return Player(_player_svg(film), film.texts, order, parents, grads, still)


GIF_HINT = "viz.animate writes GIFs with Pillow, which is not installed: pip install tracegrad[gif]"


def _captions(texts: list[str]) -> list[bytes]:
    """Each step's text as a PNG (one Graphviz run for all), left-aligned lines."""
    sources = []
    for k, text in enumerate(texts):
        lines = [f"step {k + 1} / {len(texts)}", *text.splitlines()]
        dot = graphviz.Digraph("caption")
        dot.attr(margin="0", pad="0.15")
        dot.node("text", _caption(lines), shape="plaintext", **_CAPTION_FONT)
        sources.append(dot.source)
    out = pipe("\n".join(sources), "png")
    return _split_pngs(out)


def animate(root: Any, path: str | Path, seconds_per_step: float = 1.0, **options: Any) -> Path:
    """Write the backward pass as an animated GIF: one frame per step of
    ``backward_frames(root)``, each with its step's chain rule under the picture, all frames
    the same size. It plays where no JavaScript runs (code hosts, slides, chat). Takes
    ``backward_frames``' options (``max_nodes`` defaults to 100 there too) and, like it,
    runs the backward pass. Needs Pillow: ``pip install tracegrad[gif]``.

    >>> from autograd import Value
    >>> x = Value(0.5, label="x"); y = (x * x).tanh(); y.label = "y"
    >>> animate(y, "backprop.gif", seconds_per_step=1.5)   # doctest: +SKIP
    PosixPath('backprop.gif')
    """
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(GIF_HINT) from None
    if (
        isinstance(seconds_per_step, bool)
        or not isinstance(seconds_per_step, (int, float))
        or not math.isfinite(seconds_per_step)
        or seconds_per_step <= 0
    ):
        raise ValueError(f"seconds_per_step must be a positive number, got {seconds_per_step!r}")
    path = Path(path)
    if path.suffix.lower() != ".gif":
        raise ValueError(f"animate: cannot write {str(path)!r}: the suffix must be .gif")
    sources, texts = _frame_sources(root, **options)
    pngs = _render_all([_fitted(source) for source in sources], "png")
    pictures = [Image.open(io.BytesIO(png)).convert("RGB") for png in pngs]
    captions = [Image.open(io.BytesIO(png)).convert("RGB") for png in _captions(texts)]
    for k, caption in enumerate(captions):  # a very long chain rule: drawn smaller too
        if caption.width > MAX_WIDTH:
            height = round(caption.height * MAX_WIDTH / caption.width)
            captions[k] = caption.resize((MAX_WIDTH, height), Image.Resampling.LANCZOS)
    width = max(im.width for im in pictures + captions)
    top = max(im.height for im in pictures)
    height = top + max(im.height for im in captions)
    frames = []
    for picture, caption in zip(pictures, captions):
        frame = Image.new("RGB", (width, height), "white")
        frame.paste(picture, ((width - picture.width) // 2, 0))
        frame.paste(caption, (0, top))
        frames.append(frame)
    # One palette for every frame, from the first and the last (between them they hold every
    # colour a frame uses), with one index left free: Pillow's optimize then writes each
    # frame as the rectangle that changed, its unchanged pixels transparent, which the GIF's
    # compression all but removes. 255 colours and no dithering keep the text crisp.
    sample = Image.new("RGB", (width, 2 * height), "white")
    sample.paste(frames[0], (0, 0))
    sample.paste(frames[-1], (0, height))
    palette = sample.quantize(colors=255, method=Image.Quantize.MEDIANCUT)
    frames = [f.quantize(palette=palette, dither=Image.Dither.NONE) for f in frames]
    frames[0].save(
        path,
        save_all=True,
        append_images=frames[1:],
        duration=round(seconds_per_step * 1000),
        loop=0,
        optimize=True,
        disposal=1,  # each frame is drawn over the one before: the unchanged pixels stay
    )
    return path
