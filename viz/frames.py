"""The backward pass as a film: one SVG per step, all frames on one layout, and a player.

The graph is laid out once (Graphviz ``dot`` to JSON), then every frame is drawn with each
node pinned to its position and size and each edge to its route (``neato -n2``), so nothing
moves from frame to frame; only colours and the grads change.
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
from pathlib import Path
from typing import Any

import graphviz

from .graph import HIGHLIGHT, INSTALL_HINT, _edge_mode, build, edge_label, fmt, nodes_in_order, pipe

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


def _frame_sources(
    root: Any,
    *,
    rankdir: str = "LR",
    show_data: bool = True,
    edge_labels: bool | str = True,
    max_nodes: int = 100,
    precision: int = 4,
) -> tuple[list[str], list[str]]:
    """Run the backward pass; return each step's DOT source, pinned to one shared layout, and
    its chain-rule text. Any format (SVG for the player, PNG for a GIF) renders them alike."""
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
    return sources, [text for _, _, text in steps]


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
    the cost (and a player's page size) grows as n squared; raise it knowingly.

    >>> from autograd import Value
    >>> a = Value(2.0, label="a"); b = a * 3
    >>> len(backward_frames(b))   # doctest: +SKIP
    3
    """
    return _frames(root, **options)[0]


PLAY_HINT = "Run this cell to play the backward pass step by step."


class Player:
    """A notebook player over the backward frames: previous / next buttons, a slider and the
    step's chain rule under the picture. ``_repr_html_`` is self-contained HTML with inline
    SVG and JavaScript, so it also plays in a static HTML export of the notebook.

    Where its JavaScript has not run (an untrusted notebook, a code host, a sanitised export)
    the player shows its first frame as a picture, with a line saying to run the cell: the
    HTML leads with that still (its script replaces it), and ``_repr_png_`` gives it to front
    ends that show no HTML, chain rule and hint drawn under the graph.
    """

    def __init__(self, frames: list[str], texts: list[str], still: bytes | None = None) -> None:
        self.frames = frames
        self.texts = texts
        self.still = still  # the first frame as PNG, captioned; None when there is no step

    def __len__(self) -> int:
        return len(self.frames)

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
        n = len(self.frames)
        if n == 0:
            return f'<div id="{uid}">no backward steps to show</div>'
        picture = ""
        if self.still is not None:
            data = base64.b64encode(self.still).decode("ascii")
            picture = f'<img alt="step 1 of the backward pass" src="data:image/png;base64,{data}">'
        # The frames travel as JSON inside a script, which sanitisers drop whole: where the
        # script cannot run, only the still shows, never a jumble of SVG text. Every "<" is
        # escaped so that no "</script>" in an SVG ends the script early.
        steps = json.dumps(
            [[svg[svg.index("<svg") :], text] for svg, text in zip(self.frames, self.texts)]
        ).replace("<", "\\u003c")
        return f"""<div id="{uid}">
<div class="tg-still">{picture}<pre style="white-space:pre-wrap">{html.escape(self.texts[0])}</pre>
<p>{PLAY_HINT}</p></div>
<script type="application/json" class="tg-steps">{steps}</script>
<script>
(function () {{
  var root = document.getElementById("{uid}");
  var steps = JSON.parse(root.querySelector(".tg-steps").textContent);
  root.innerHTML = '<div><button type="button" class="tg-prev">&#9664; prev</button> ' +
    '<input type="range" class="tg-slider" min="0" max="{n - 1}" value="0" step="1"> ' +
    '<button type="button" class="tg-next">next &#9654;</button> ' +
    '<span class="tg-count">step 1 / {n}</span></div>';
  var frames = steps.map(function (step, k) {{
    var frame = document.createElement("div");
    frame.className = "tg-frame";
    frame.style.display = k === 0 ? "block" : "none";
    frame.innerHTML = step[0];
    var text = document.createElement("pre");
    text.style.whiteSpace = "pre-wrap";
    text.textContent = step[1];
    frame.appendChild(text);
    root.appendChild(frame);
    return frame;
  }});
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


def _still(source: str, text: str, steps: int) -> bytes:
    """The first frame as a PNG with its chain rule and the hint to play drawn under the graph
    (a Graphviz label: no image library needed)."""
    lines = [f"step 1 / {steps}", *text.splitlines(), "", PLAY_HINT]
    label = _caption(lines)
    fonts = " ".join(f'{key}="{value}"' for key, value in _CAPTION_FONT.items())
    # The layout's bounding box is dropped so that Graphviz makes room for the label.
    body = re.sub(r'\tbb="[^"]*"\n', "", source.rstrip().removesuffix("}"))
    return _render_all([f'{body}\tlabel="{label}" labelloc=b labeljust=l {fonts}\n}}\n'], "png")[0]


def step_through(root: Any, **options: Any) -> Player:
    """A player over ``backward_frames(root, **options)`` that Jupyter displays inline.

    >>> from autograd import Value
    >>> x = Value(0.5, label="x"); y = (x * x).tanh()
    >>> step_through(y)   # doctest: +SKIP
    """
    sources, texts = _frame_sources(root, **options)
    frames = [svg.decode("utf-8") for svg in _render_all(sources, "svg")]
    still = _still(sources[0], texts[0], len(texts)) if sources else None
    return Player(frames, texts, still)


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
    pictures = [Image.open(io.BytesIO(png)).convert("RGB") for png in _render_all(sources, "png")]
    captions = [Image.open(io.BytesIO(png)).convert("RGB") for png in _captions(texts)]
    width = max(im.width for im in pictures + captions)
    top = max(im.height for im in pictures)
    height = top + max(im.height for im in captions)
    frames = []
    for picture, caption in zip(pictures, captions):
        frame = Image.new("RGB", (width, height), "white")
        frame.paste(picture, ((width - picture.width) // 2, 0))
        frame.paste(caption, (0, top))
        frames.append(frame.quantize(colors=255, method=Image.Quantize.MEDIANCUT))
    frames[0].save(
        path,
        save_all=True,
        append_images=frames[1:],
        duration=round(seconds_per_step * 1000),
        loop=0,
    )
    return path
