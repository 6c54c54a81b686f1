"""The lab's page: one self-contained HTML document (inline SVG, JavaScript and data).

The traced sample's graph is laid out once by Graphviz (the drawing code of ``graph.py``:
node kinds, scope clusters, ``collapse``); every number on it comes from the page's
JavaScript, which runs the traced program (``prog.javascript`` and its inspector, see
``lab.py``) at the recorded parameters of the step shown, for the sample shown. So a click
on another point traces that sample, and live training (``OPTIMIZER_JS``, PyTorch's update
rules written out) continues past the recorded steps with the picture following.

Only numbers, the program's identifiers and escaped text reach the page's code: labels and
scope names travel as JSON data (every ``<`` escaped) and are shown with ``textContent``.
"""

from __future__ import annotations

import html
import json
import uuid
from typing import Any

from .graph import (
    _KIND_STYLE,
    _add_items,
    _depths,
    _digraph,
    _layout_attrs,
    draw,
    fmt,
    fold,
    node_kind,
    pipe,
)

RANKDIR = "TB"  # a model's graph is deeper than wide: top to bottom fits beside the data
_CELL = "data -1.234e-05"  # the widest number text (4 significant digits) a cell must hold
_CELL_WIDTH = 7 * len(_CELL) + 10  # points, as frames.py measures 12pt Helvetica
_SYMBOLS = {"+", "-", "*", "/", "**"}

# The optimizers' update rules, as nn.optim writes them (PyTorch's maths), on flat arrays.
OPTIMIZER_JS = r"""
function optimizerStep(spec, params, grads) {
  const next = params.slice();
  if (spec.rule === "sgd") {
    const lr = spec.lr, mu = spec.momentum, wd = spec.weight_decay;
    for (let j = 0; j < params.length; j++) {
      let g = grads[j];
      if (!mu && !wd) { next[j] = params[j] - lr * g; continue; }
      if (wd) g = g + wd * params[j];
      if (mu) {
        if (!spec.has_buf[j]) { spec.buf[j] = g; spec.has_buf[j] = 1; }
        else { spec.buf[j] *= mu; spec.buf[j] += g; }
        g = spec.nesterov ? g + mu * spec.buf[j] : spec.buf[j];
      }
      next[j] = params[j] - lr * g;
    }
    return next;
  }
  if (spec.rule === "adam") {
    const lr = spec.lr, b1 = spec.beta1, b2 = spec.beta2, eps = spec.eps;
    const wd = spec.weight_decay;
    for (let j = 0; j < params.length; j++) {
      let g = grads[j];
      if (wd) g = g + wd * params[j];
      const t = spec.t[j] = spec.t[j] + 1;
      spec.m[j] += (1.0 - b1) * (g - spec.m[j]);  // m moves towards g (torch's lerp_)
      spec.v[j] *= b2;
      spec.v[j] += (1.0 - b2) * g * g;
      const stepSize = lr / (1.0 - Math.pow(b1, t));
      const denom = Math.pow(spec.v[j], 0.5) / Math.pow(1.0 - Math.pow(b2, t), 0.5) + eps;
      next[j] = params[j] - stepSize * spec.m[j] / denom;
    }
    return next;
  }
  throw new Error("no update rule for this optimizer");
}
"""


def _node_label(node: Any, kind: str) -> str:
    """A node as op and label over a data line and a grad line, each of a fixed width (the
    page rewrites the numbers; the box never has to grow)."""
    if kind == "const":
        return fmt(node.data)
    head = []
    if node.op:
        head.append(f"<b>{html.escape(node.op)}</b>")
    if node.label:
        head.append(f"<i>{html.escape(node.label)}</i>")
    rows = [f"<tr><td>{' '.join(head)}</td></tr>"] if head else []
    for what, value in (("data", node.data), ("grad", node.grad)):
        rows.append(f'<tr><td width="{_CELL_WIDTH}" align="left">{what} {fmt(value)}</td></tr>')
    return (
        '<<table border="0" cellborder="0" cellspacing="0" cellpadding="1">'
        + "".join(rows)
        + "</table>>"
    )


def _graph(lab: Any) -> tuple[str, list[str], dict]:
    """The SVG of the traced sample's graph, laid out once; each node's drawn item (its
    Graphviz name) and, when collapsed, each fold's scope and members."""
    nodes, root = lab.nodes, lab.root
    if lab.collapse is None:
        index = {id(n): i for i, n in enumerate(nodes)}
        edges = [(index[id(p)], i, k) for i, n in enumerate(nodes) for k, p in enumerate(n.parents)]
        depth = _depths(len(nodes), [(a, b) for a, b, _ in edges])
        dot = _digraph(RANKDIR, _layout_attrs([depth[b] - depth[a] for a, b, _ in edges], True))
        items = []
        for i, node in enumerate(nodes):
            kind = node_kind(node, root)
            attrs = {**_KIND_STYLE[kind], "id": f"n{i}"}
            items.append((f"n{i}", _node_label(node, kind), attrs, node.scope))
        _add_items(dot, items, group=True)
        for a, i, k in edges:
            dot.edge(f"n{a}", f"n{i}", id=f"e{i}_{k}", label=fmt(nodes[i].local_grads[k]))
        item_of = [f"n{i}" for i in range(len(nodes))]
        folds: dict = {}
    else:
        dot = draw(root, rankdir=RANKDIR, collapse=lab.collapse, max_nodes=10**9)
        items, members, keys = fold(nodes, lab.collapse)  # as draw folds them
        item_of = [f"s{item}" for item in items]
        folds = {
            f"s{item}": {"scope": "/".join(key), "members": members[item]}
            for item, key in enumerate(keys)
            if not isinstance(key, int)
        }
    svg = pipe(dot.source, "svg").decode("utf-8")
    svg = svg[svg.index("<svg") :]
    # drawn at its own size (the box scrolls); "fit" scales it to the column by its viewBox
    svg = svg.replace("<svg ", '<svg class="lab-svg" ', 1)
    return svg, item_of, folds


def _fold_edges(lab: Any) -> dict[str, str]:
    """For a collapsed graph: each drawn edge that stands for one edge of the graph (by its
    Graphviz title, ``s3->s7``) and that edge (``"i_k"``, operand k of node i), whose local
    gradient the page writes on it at every step; merged edges (``×N``) keep their count."""
    if lab.collapse is None:
        return {}
    nodes = lab.nodes
    index = {id(n): i for i, n in enumerate(nodes)}
    items = fold(nodes, lab.collapse)[0]
    edges: dict[tuple[int, int], list[str]] = {}
    for i, node in enumerate(nodes):
        for k, parent in enumerate(node.parents):
            pair = (items[index[id(parent)]], items[i])
            if pair[0] != pair[1]:
                edges.setdefault(pair, []).append(f"{i}_{k}")
    return {f"s{a}->s{b}": found[0] for (a, b), found in edges.items() if len(found) == 1}


def _forward_texts(lab: Any) -> list[str]:
    """Each node's line of the program (``tanh_7 = tanh(add_6)``), for the forward phase."""
    names = lab.names
    index = {id(n): i for i, n in enumerate(lab.nodes)}
    texts = []
    for i, node in enumerate(lab.nodes):
        name = names[i] or fmt(node.data)
        args = [names[index[id(p)]] or repr(float(p.data)) for p in node.parents]
        if not node.parents:
            kind = "input" if name in lab.program.inputs else "parameter"
            if getattr(node, "is_constant", False):
                kind = "constant"
            texts.append(f"{name}: {kind}")
        elif node.op in _SYMBOLS and len(args) == 2:
            texts.append(f"{name} = {args[0]} {node.op} {args[1]}")
        elif node.op == "neg":
            texts.append(f"{name} = -{args[0]}")
        else:
            texts.append(f"{name} = {node.op}({', '.join(args)})")
    return texts


def _threshold(lab: Any) -> float:
    """Where the output splits the classes: 0 for labels -1/+1 and logits, else 0.5."""
    name = str(lab.loss_name)
    if "logit" in name or (lab.y == -1).any():
        return 0.0
    return 0.5


def _data(lab: Any) -> dict:
    index = {id(n): i for i, n in enumerate(lab.nodes)}
    records = lab.records
    classes = sorted({float(v) for v in lab.y.tolist()})
    svg, item_of, folds = _graph(lab)
    data = {
        "svg": svg,
        "item": item_of,
        "folds": folds,
        "foldEdges": _fold_edges(lab),
        "names": lab.names,
        "shown": [n.label or n.op or fmt(n.data) for n in lab.nodes],
        "ops": [n.op for n in lab.nodes],
        "parents": [[index[id(p)] for p in n.parents] for n in lab.nodes],
        "consts": [float(n.data) if getattr(n, "is_constant", False) else None for n in lab.nodes],
        "forward": _forward_texts(lab),
        "backward": lab.backward_order,
        "templates": lab.templates,
        "edges": lab.edge_of_local,
        "X": lab.X.tolist(),
        "y": lab.y.tolist(),
        "classes": classes,
        "threshold": _threshold(lab),
        "sample": lab.sample,
        "losses": [r["loss"] for r in records],
        "params": [r["before"] for r in records] + [records[-1]["after"]],
        "grads": [r["grad"] for r in records],
        "paramLabels": lab.param_labels,
        "outputLeaves": lab.output_leaves,
        "optimizer": lab.optimizer_spec,
        "batch": lab.batch_size,
        "seed": 0 if lab.seed is None else int(lab.seed),
        "nin": int(lab.X.shape[1]),
        "loss": str(lab.loss_name),
    }
    return data


LAB_HINT = (
    "Run this cell to open the lab: the loss curve, the data over the decision regions, "
    "every step in three phases, live training."
)


def still(lab: Any) -> bytes:
    """The lab where its script cannot run (an untrusted notebook, a code host): the traced
    sample's graph at step 1 as a PNG at most 1600 px wide, captioned with the losses and
    the hint to run the cell (a Graphviz label: no image library needed)."""
    from .frames import _CAPTION_FONT, _caption, _fitted

    losses = lab.history["loss"]
    lines = [
        f"viz.lab: {len(losses)} steps, loss {fmt(losses[0])} at step 1, "
        f"{fmt(losses[-1])} at step {len(losses)}",
        f"the graph of the traced sample's loss (X[{lab.sample}]) at step 1",
        "",
        LAB_HINT,
    ]
    dot = draw(lab.root, rankdir=RANKDIR, collapse=lab.collapse, max_nodes=10**9)
    dot.attr(label=_caption(lines), labelloc="b", labeljust="l", **_CAPTION_FONT)
    return pipe(_fitted(dot.source), "png")


def page(lab: Any) -> str:
    uid = "tg-lab-" + uuid.uuid4().hex[:12]
    data = json.dumps(_data(lab), allow_nan=False).replace("<", "\\u003c")
    programs = (
        "const lossProgram = (function () {\n" + lab.program.javascript + lab.inspect_js
        + "return {valueAndGrad, inspectProgram};\n})();\n"
        "const outputProgram = (function () {\n" + lab.output_program.javascript
        + "return {valueAndGrad};\n})();\n"
    )  # fmt: skip
    return (
        _TEMPLATE.replace("__UID__", uid)
        .replace("__DATA__", data)
        .replace("__PROGRAMS__", programs)
        .replace("__OPTIMIZER__", OPTIMIZER_JS)
        .replace("__STYLE__", _STYLE.replace("__UID__", uid))
    )


_STYLE = """
#__UID__ { font: 13px Helvetica, Arial, sans-serif; color: #111827; max-width: 1260px; }
#__UID__ button { font: inherit; padding: 2px 8px; margin: 0 2px; }
#__UID__ .lab-bar, #__UID__ .lab-live { margin: 4px 0; display: flex; gap: 6px;
  align-items: center; flex-wrap: wrap; }
#__UID__ .lab-slider { width: 260px; }
#__UID__ .lab-main { display: flex; gap: 12px; align-items: flex-start; }
#__UID__ .lab-left { flex: 0 0 440px; }
#__UID__ .lab-right { flex: 1 1 auto; min-width: 0; }
#__UID__ canvas { display: block; border: 1px solid #e5e7eb; margin-bottom: 6px; }
#__UID__ .lab-graph { border: 1px solid #e5e7eb; max-height: 560px; overflow: auto; }
#__UID__ .lab-svg { display: block; }
#__UID__ .lab-graph.lab-fit .lab-svg { width: 100% !important; height: auto !important; }
#__UID__ .lab-rule { white-space: pre-wrap; background: #f9fafb; padding: 6px;
  min-height: 3.6em; margin: 6px 0; font: 12px "DejaVu Sans Mono", monospace; }
#__UID__ .lab-table { max-height: 180px; overflow: auto; font: 12px monospace; }
#__UID__ .lab-table td, #__UID__ .lab-table th { padding: 0 8px; text-align: right; }
#__UID__ .lab-note { color: #b45309; }
#__UID__ .lab-count { font-variant-numeric: tabular-nums; }
"""

_TEMPLATE = r"""<div id="__UID__" class="tg-lab">
<style>__STYLE__</style>
<div class="lab-bar">
  <button type="button" class="lab-play">&#9654; play</button>
  <button type="button" class="lab-prev">&#9664; prev</button>
  <button type="button" class="lab-next">next &#9654;</button>
  <button type="button" class="lab-phase-prev">&#9664;&#9664; phase</button>
  <button type="button" class="lab-phase-next">phase &#9654;&#9654;</button>
  <input type="range" class="lab-slider" min="0" max="0" value="0" step="1">
  <span class="lab-count"></span>
  <label><input type="checkbox" class="lab-fit-box"> fit the graph to the page</label>
</div>
<div class="lab-live">
  <button type="button" class="lab-train">train live</button>
  <button type="button" class="lab-one">one live step</button>
  <label>new point's class <select class="lab-class"></select></label>
  <button type="button" class="lab-remove">remove the traced point</button>
  <span class="lab-rate"></span>
  <span class="lab-note"></span>
</div>
<div class="lab-main">
  <div class="lab-left">
    <canvas class="lab-loss" width="440" height="150"></canvas>
    <canvas class="lab-data" width="440" height="440"></canvas>
    <div class="lab-help">Click a point to trace it; click empty space to add a point of the
    chosen class. The ringed point is the traced sample.</div>
  </div>
  <div class="lab-right">
    <div class="lab-graph"></div>
    <pre class="lab-rule"></pre>
    <div class="lab-fold"></div>
    <div class="lab-table"></div>
  </div>
</div>
<script type="application/json" class="lab-data-json">__DATA__</script>
<script>
(function () {
"use strict";
__PROGRAMS__
__OPTIMIZER__
const root = document.getElementById("__UID__");
const D = JSON.parse(root.querySelector(".lab-data-json").textContent);
const $ = (s) => root.querySelector(s);
const N = D.names.length;
const PHASES = ["forward", "backward", "update"];
const recorded = D.losses.length;
let X = D.X.map((r) => r.slice()), Y = D.y.slice();
let sample = D.sample;
const params = D.params, grads = D.grads, losses = D.losses;
let cur = {step: 0, phase: 0, k: 0};
let playing = null, live = null, liveStart = 0, liveCount = 0;
const opt = D.optimizer ? JSON.parse(JSON.stringify(D.optimizer)) : null;
const note = $(".lab-note");

// --- numbers as tracegrad writes them -------------------------------------------------
function fmtg(x, p) {  // Python's f"{x:.{p}g}"
  if (x === null || x === undefined) return "·";
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return "0";
  const parts = x.toExponential(p - 1).split("e");
  let m = parts[0];
  const e = parseInt(parts[1], 10);
  if (e < -4 || e >= p) {
    if (m.indexOf(".") >= 0) m = m.replace(/0+$/, "").replace(/\.$/, "");
    return m + "e" + (e < 0 ? "-" : "+") + String(Math.abs(e)).padStart(2, "0");
  }
  let s = x.toFixed(Math.max(0, p - 1 - e));
  if (s.indexOf(".") >= 0) s = s.replace(/0+$/, "").replace(/\.$/, "");
  return s;
}
function pyRepr(v) {  // Python's repr of a float
  if (Number.isNaN(v)) return "nan";
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  if (v === 0) return Object.is(v, -0) ? "-0.0" : "0.0";
  const a = Math.abs(v);
  if (a >= 1e16 || a < 1e-4) {
    const parts = v.toExponential().split("e");
    const e = parseInt(parts[1], 10);
    return parts[0] + "e" + (e < 0 ? "-" : "+") + String(Math.abs(e)).padStart(2, "0");
  }
  const s = String(v);
  return /[.e]/.test(s) ? s : s + ".0";
}
const fmt6 = (x) => (Object.is(x, -0) ? "-0.0" : pyRepr(Number(x.toPrecision(6))));  // as str(step)
const fmt4 = (x) => fmtg(x, 4);

// --- the traced sample at a step: every node's value, gradient and local gradients -----
const localIndex = {};
D.edges.forEach((e, j) => { localIndex[e[0] + "_" + e[1]] = j; });
function constLocal(op, k, xs, out) {  // d out / d operand k for a number operand
  const a = xs[0], b = xs[1];
  if (op === "+") return 1.0;
  if (op === "-") return k === 0 ? 1.0 : -1.0;
  if (op === "*") return k === 0 ? b : a;
  if (op === "/") return k === 0 ? 1.0 / b : -out / b;
  if (op === "**") return k === 0 ? b * Math.pow(a, b - 1) : (a > 0 ? Math.log(a) * out : 0.0);
  return NaN;
}
const cache = new Map();
function state(step, who) {
  const key = step + "|" + who.join(",");
  if (cache.has(key)) return cache.get(key);
  let s;
  try {
    const r = lossProgram.inspectProgram(who, params[step]);
    const values = r.values.map((v, i) => (v === null ? D.consts[i] : v));
    const g = r.grads.slice();
    const locals = {};  // "i_k" -> local
    D.parents.forEach((ps, i) => ps.forEach((p, k) => {
      const j = localIndex[i + "_" + k];
      locals[i + "_" + k] = j !== undefined ? r.locals[j] :
        constLocal(D.ops[i], k, ps.map((q) => values[q]), values[i]);
    }));
    for (const i of D.backward) {  // number operands get their gradient too, as in autograd
      D.parents[i].forEach((p, k) => {
        if (D.consts[p] !== null) g[p] += g[i] * locals[i + "_" + k];
      });
    }
    s = {values, grads: g, locals};
  } catch (e) {
    s = {error: String(e.message)};
  }
  if (cache.size > 400) cache.clear();
  cache.set(key, s);
  return s;
}
const args = (i) => X[i].concat([Y[i]]);

// --- the graph ---------------------------------------------------------------------------
const graph = $(".lab-graph");
graph.innerHTML = D.svg;
const svg = graph.querySelector("svg");
const groups = {};
svg.querySelectorAll("g.node").forEach((g) => {
  const t = g.querySelector("title");
  if (t) groups[t.textContent] = g;
});
const cells = {};  // node -> {data, grad} text elements
const collapsed = Object.keys(D.folds).length > 0 || D.item.some((x) => x[0] === "s");
D.item.forEach((name, i) => {
  const g = groups[name];
  if (!g) return;
  const texts = [...g.querySelectorAll("text")];
  const data = texts.find((t) => t.textContent.startsWith("data "));
  const grad = texts.find((t) => t.textContent.startsWith("grad "));
  if (data || grad) cells[i] = {data, grad};
});
const shapes = {};
Object.entries(groups).forEach(([name, g]) => {
  const shape = g.querySelector("polygon, path, ellipse");
  if (shape) shapes[name] = [shape, shape.getAttribute("stroke"), shape.getAttribute("stroke-width")];
});
const edgeLabels = {};
const foldLabels = [];  // [text element, "i_k"]: a collapsed drawing's one-edge labels
svg.querySelectorAll("g.edge").forEach((g) => {
  if (g.id && /^e\d+_\d+$/.test(g.id)) edgeLabels[g.id.slice(1)] = g;
  const title = g.querySelector("title"), text = g.querySelector("text");
  if (title && text && D.foldEdges[title.textContent]) foldLabels.push([text, D.foldEdges[title.textContent]]);
});
const outlined = new Set(), tinted = new Set();  // what a render marked, reset by the next
function outline(name, color, width) {
  const s = shapes[name];
  if (!s) return;
  if (color) { s[0].setAttribute("stroke", color); s[0].setAttribute("stroke-width", width); outlined.add(name); }
  else { s[0].setAttribute("stroke", s[1] || "black"); s[0].setAttribute("stroke-width", s[2] || "1"); }
}
function tintEdge(id, color) {
  const g = edgeLabels[id];
  if (!g) return;
  if (color) tinted.add(id);
  g.querySelectorAll("path, polygon").forEach((p) => {
    if (!p.dataset.stroke) p.dataset.stroke = p.getAttribute("stroke") || "black";
    p.setAttribute("stroke", color || p.dataset.stroke);
    p.setAttribute("stroke-width", color ? "2.5" : "1");
  });
}
function reveal(name) {  // keep the node in view: scroll the graph's box to it if it is not
  const g = groups[name];
  if (!g || graph.classList.contains("lab-fit")) return;
  const box = g.getBoundingClientRect(), view = graph.getBoundingClientRect();
  if (box.left < view.left || box.right > view.right) graph.scrollLeft += box.left - view.left - view.width / 2 + box.width / 2;
  if (box.top < view.top || box.bottom > view.bottom) graph.scrollTop += box.top - view.top - view.height / 2 + box.height / 2;
}
$(".lab-fit-box").onchange = (ev) => { graph.classList.toggle("lab-fit", ev.target.checked); };
let openFold = null;
Object.entries(D.folds).forEach(([name, fold]) => {
  const g = groups[name];
  if (!g) return;
  g.style.cursor = "pointer";
  g.addEventListener("click", () => { openFold = openFold === name ? null : name; render(); });
});

// --- phases ------------------------------------------------------------------------------
const bpos = new Array(N).fill(-1);
D.backward.forEach((i, j) => { bpos[i] = j; });
const phaseLength = (phase) => (phase === 0 ? N : phase === 1 ? D.backward.length : 1);
const lastStep = () => losses.length - 1;
function move(by) {
  let {step, phase, k} = cur;
  k += by;
  while (k >= phaseLength(phase)) {
    k -= phaseLength(phase);
    phase += 1;
    if (phase > 2) { if (step >= lastStep()) { k = 0; phase = 2; break; } step += 1; phase = 0; }
  }
  while (k < 0) {
    phase -= 1;
    if (phase < 0) { if (step <= 0) { phase = 0; k = 0; break; } step -= 1; phase = 2; }
    k += phaseLength(phase);
  }
  cur = {step, phase, k};
  render();
}
function movePhase(by) {
  let {step, phase} = cur;
  phase += by;
  if (phase > 2) { if (step < lastStep()) { step += 1; phase = 0; } else phase = 2; }
  if (phase < 0) { if (step > 0) { step -= 1; phase = 2; } else phase = 0; }
  cur = {step, phase, k: 0};
  render();
}

function chainRule(s, j) {
  const i = D.backward[j];
  const up = s.grads[i];
  return D.templates[j].map((line) => {
    if (line[0] === "seed") return line[1] + " = " + fmt6(up) + " (the seed)";
    if (line[0] === "leaf") return line[1] + " = " + fmt6(up) + " (a leaf: nothing to propagate)";
    const local = s.locals[i + "_" + line[2]];
    return line[1] + " = " + fmt6(up) + " * " + fmt6(local) + " = " + fmt6(up * local);
  }).join("\n");
}

// --- the loss curve and the data over the decision regions -----------------------------
const lossCanvas = $(".lab-loss"), dataCanvas = $(".lab-data");
function drawLoss() {
  const c = lossCanvas.getContext("2d"), w = lossCanvas.width, h = lossCanvas.height;
  c.clearRect(0, 0, w, h);
  const finite = losses.filter(Number.isFinite);
  const top = Math.max(...finite, 1e-12), n = Math.max(losses.length - 1, 1);
  const px = (k) => 30 + (w - 40) * k / n, py = (v) => h - 20 - (h - 35) * v / top;
  c.strokeStyle = "#9ca3af"; c.beginPath(); c.moveTo(30, 10); c.lineTo(30, h - 20); c.lineTo(w - 10, h - 20); c.stroke();
  c.fillStyle = "#374151"; c.font = "11px sans-serif";
  c.fillText("loss " + fmt4(top), 34, 12); c.fillText("step", w - 36, h - 6); c.fillText("0", 22, h - 22);
  if (losses.length > recorded) {
    c.fillStyle = "#ecfdf5"; c.fillRect(px(recorded - 0.5), 10, w - 10 - px(recorded - 0.5), h - 30);
    c.fillStyle = "#047857"; c.fillText("live", px(recorded) + 3, 24);
  }
  c.strokeStyle = "#2563eb"; c.lineWidth = 1.5; c.beginPath();
  losses.forEach((v, k) => (k ? c.lineTo(px(k), py(v)) : c.moveTo(px(k), py(v))));
  c.stroke(); c.lineWidth = 1;
  c.fillStyle = "#dc2626"; c.beginPath(); c.arc(px(cur.step), py(losses[cur.step]), 4, 0, 7); c.fill();
  c.fillStyle = "#111827"; c.fillText("step " + (cur.step + 1) + ": loss " + fmt4(losses[cur.step]), w - 190, 24);
}
let bounds = null;
function computeBounds() {
  const xs = X.map((r) => r[0]), ys = X.map((r) => r[1]);
  const pad = (lo, hi) => { const m = 0.15 * (hi - lo || 1); return [lo - m, hi + m]; };
  bounds = [pad(Math.min(...xs), Math.max(...xs)), pad(Math.min(...ys), Math.max(...ys))];
}
computeBounds();
const GRID = 44;
const regionCache = new Map();
function regions(p) {
  const key = p;
  if (regionCache.has(key)) return regionCache.get(key);
  const leaves = D.outputLeaves.map((j) => params[p][j]);
  const out = new Float64Array(GRID * GRID);
  for (let r = 0; r < GRID; r++) for (let q = 0; q < GRID; q++) {
    const x = bounds[0][0] + (q + 0.5) / GRID * (bounds[0][1] - bounds[0][0]);
    const y = bounds[1][1] - (r + 0.5) / GRID * (bounds[1][1] - bounds[1][0]);
    try { out[r * GRID + q] = outputProgram.valueAndGrad([x, y], leaves).value; }
    catch (e) { out[r * GRID + q] = NaN; }
  }
  if (regionCache.size > 200) regionCache.clear();
  regionCache.set(key, out);
  return out;
}
const toPx = (x, y) => [(x - bounds[0][0]) / (bounds[0][1] - bounds[0][0]) * dataCanvas.width,
  (bounds[1][1] - y) / (bounds[1][1] - bounds[1][0]) * dataCanvas.height];
const positive = (v) => v > D.threshold;
const COLORS = [[249, 115, 22], [37, 99, 235]];  // the lower class, the higher class
const gridCanvas = document.createElement("canvas");
gridCanvas.width = GRID; gridCanvas.height = GRID;
const gridContext = gridCanvas.getContext("2d");
function drawData() {
  const c = dataCanvas.getContext("2d"), w = dataCanvas.width, h = dataCanvas.height;
  c.clearRect(0, 0, w, h);
  if (D.nin !== 2) { c.fillText("decision regions are drawn for two input features", 10, 20); return; }
  const p = cur.phase === 2 ? cur.step + 1 : cur.step;
  const out = regions(p);
  // the grid's cells as the pixels of a GRID x GRID image, drawn scaled up without smoothing
  const pixels = gridContext.createImageData(GRID, GRID);
  for (let cell = 0; cell < GRID * GRID; cell++) {
    const v = out[cell];
    const col = COLORS[positive(v) ? 1 : 0];
    const a = Number.isFinite(v) ? 0.12 + 0.3 * Math.min(1, Math.abs(v - D.threshold) * 2) : 0;
    pixels.data.set([col[0], col[1], col[2], Math.round(255 * a)], 4 * cell);
  }
  gridContext.putImageData(pixels, 0, 0);
  c.imageSmoothingEnabled = false;
  c.drawImage(gridCanvas, 0, 0, w, h);
  X.forEach((pt, i) => {
    const [px, py] = toPx(pt[0], pt[1]);
    const col = COLORS[Y[i] === D.classes[D.classes.length - 1] ? 1 : 0];
    c.fillStyle = "rgb(" + col.join(",") + ")"; c.strokeStyle = "white";
    c.beginPath(); c.arc(px, py, 4.5, 0, 7); c.fill(); c.stroke();
  });
  const [sx, sy] = toPx(X[sample][0], X[sample][1]);
  c.strokeStyle = "#dc2626"; c.lineWidth = 2.5; c.beginPath(); c.arc(sx, sy, 9, 0, 7); c.stroke(); c.lineWidth = 1;
}

// --- rendering a moment --------------------------------------------------------------------
const rule = $(".lab-rule"), table = $(".lab-table"), fold = $(".lab-fold");
const slider = $(".lab-slider"), count = $(".lab-count");
let graphAt = -Infinity;
function setText(element, text) {  // rewrites the text only when it changed
  if (element.textContent !== text) element.textContent = text;
}
function render() {
  slider.max = String(lastStep());
  slider.value = String(cur.step);
  const {step, phase, k} = cur;
  const s = state(step, args(sample));
  const where = phase === 0 ? "forward, node " + (k + 1) + " / " + N :
    phase === 1 ? "backward, node " + (k + 1) + " / " + D.backward.length : "update";
  count.textContent = "step " + (step + 1) + " / " + losses.length + (step >= recorded ? " (live)" : "") + " · " + where;
  outlined.forEach((name) => outline(name, null));
  tinted.forEach((id) => tintEdge(id, null));
  outlined.clear(); tinted.clear();
  if (s.error) {
    rule.textContent = "This sample takes a branch the traced program did not record, so its " +
      "graph differs from the one drawn: " + s.error;
    drawLoss(); drawData(); return;
  }
  // the gradients as they stand: the contributions of the nodes processed so far
  let partial = null;
  if (phase === 1) {
    partial = new Array(N).fill(0);
    partial[D.backward[0]] = s.grads[D.backward[0]];
    for (let j = 0; j <= k; j++) {
      const i = D.backward[j];
      D.parents[i].forEach((p, e) => { partial[p] += s.grads[i] * s.locals[i + "_" + e]; });
    }
  }
  // the graph's numbers: every render, but a few times a second while training live (each
  // rewrite repaints the whole drawing, which would halve the live rate); paused, exact
  if (live === null || performance.now() - graphAt >= 250) {
    graphAt = performance.now();
    for (let i = 0; i < N; i++) {
      const cell = cells[i];
      if (!cell) continue;
      const known = phase > 0 || i <= k;
      if (cell.data) setText(cell.data, "data " + (known ? fmt4(s.values[i]) : "·"));
      if (cell.grad) {
        const g = phase === 0 ? null : phase === 1 ? partial[i] : s.grads[i];
        setText(cell.grad, "grad " + (g === null ? "·" : fmt4(g)));
        cell.grad.setAttribute("fill", phase === 1 && bpos[i] > k ? "#9ca3af" : "black");
      }
    }
    if (!collapsed) {
      D.parents.forEach((ps, i) => ps.forEach((p, e) => {
        const g = edgeLabels[i + "_" + e];
        const t = g && g.querySelector("text");
        if (t) setText(t, fmt4(s.locals[i + "_" + e]));
      }));
    } else {
      foldLabels.forEach(([t, edge]) => setText(t, fmt4(s.locals[edge])));
    }
  }
  let text = "";
  if (phase === 0) {
    const i = k;
    outline(D.item[i], "#dc2626", "3");
    reveal(D.item[i]);
    text = "forward: " + D.forward[i] + (D.names[i] !== null || D.parents[i].length ? " = " + pyRepr(s.values[i]) : "");
  } else if (phase === 1) {
    const i = D.backward[k];
    // the parents first: in a collapsed drawing a parent may share the node's box, which
    // stays red
    D.parents[i].forEach((p, e) => { outline(D.item[p], "#f59e0b", "2"); tintEdge(i + "_" + e, "#dc2626"); });
    outline(D.item[i], "#dc2626", "3");
    reveal(D.item[i]);
    text = chainRule(s, k);
  } else {
    text = updateText();
  }
  rule.textContent = text;
  drawTable(phase === 2);
  drawFold(s);
  drawLoss();
  drawData();
}
function updateText() {
  const o = D.optimizer;
  if (!o) return "update: optimizer.step()";
  if (o.rule === "sgd") {
    return "update (SGD" + (o.momentum ? ", momentum " + o.momentum + (o.nesterov ? ", Nesterov" : "") : "") +
      (o.weight_decay ? ", weight decay " + o.weight_decay : "") + "): p -= lr * grad, lr = " + o.lr +
      "\ngrad is the batch's gradient (" + D.batch + " rows), not the traced sample's alone";
  }
  return "update (Adam, lr = " + o.lr + ", betas = (" + o.beta1 + ", " + o.beta2 + ")): " +
    "m += (1 - b1)(g - m); v = b2 v + (1 - b2) g²; p -= lr/(1 - b1^t) · m / (√v/√(1 - b2^t) + eps)";
}
let tableCells = null, tableAt = -Infinity;
function drawTable(show) {
  // one row per parameter, made once; a step rewrites the numbers. While training live it
  // follows a few times a second (rewriting a few hundred rows every frame would halve the
  // live rate); paused, it shows the step exactly.
  table.hidden = !show;
  if (!show) return;
  if (live !== null && performance.now() - tableAt < 300) return;
  tableAt = performance.now();
  if (tableCells === null) {
    const t = document.createElement("table");
    const head = t.insertRow();
    ["parameter", "old", "grad", "new"].forEach((h) => { const th = document.createElement("th"); th.textContent = h; head.appendChild(th); });
    tableCells = D.paramLabels.map((label, j) => {
      const row = t.insertRow();
      row.insertCell().textContent = label || "p" + j;
      return [row.insertCell(), row.insertCell(), row.insertCell()];
    });
    table.appendChild(t);
  }
  const step = cur.step, before = params[step], after = params[step + 1], g = grads[step];
  tableCells.forEach((cells, j) => {
    cells[0].textContent = fmt4(before[j]);
    cells[1].textContent = fmt4(g[j]);
    cells[2].textContent = fmt4(after[j]);
  });
}
function drawFold(s) {
  if (!openFold || !D.folds[openFold]) { fold.textContent = collapsed ? "Click a box to list its nodes (or draw the graph whole with collapse=None)." : ""; return; }
  const f = D.folds[openFold];
  const lines = [f.scope + ": " + f.members.length + " nodes (click the box again to close)"];
  f.members.forEach((i) => lines.push("  " + D.shown[i] + ": data " + fmt4(s.values[i]) + ", grad " + fmt4(s.grads[i])));
  fold.textContent = "";
  const pre = document.createElement("pre");
  pre.style.maxHeight = "160px"; pre.style.overflow = "auto";
  pre.textContent = lines.join("\n");
  fold.appendChild(pre);
}

// --- live training --------------------------------------------------------------------------
let rngState = (D.seed * 2654435761 + 12345) >>> 0;
function random() {  // mulberry32: reproducible batches
  rngState = (rngState + 0x6D2B79F5) >>> 0;
  let t = rngState;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
let order = [], position = Infinity;
function liveStep() {
  if (!opt) { note.textContent = "live training needs nn.SGD or nn.Adam (its update rule)"; return false; }
  const n = X.length, batch = Math.min(D.batch, n);
  if (position >= order.length) {
    order = [...Array(n).keys()];
    for (let i = n - 1; i > 0; i--) { const j = Math.floor(random() * (i + 1)); [order[i], order[j]] = [order[j], order[i]]; }
    position = 0;
  }
  const idx = order.slice(position, position + batch);
  position += batch;
  const P = params[params.length - 1];
  const g = new Array(P.length).fill(0);
  let total = 0, used = 0, skipped = 0;
  for (const i of idx) {
    try {
      const r = lossProgram.valueAndGrad(args(i), P);
      total += r.value;
      for (let j = 0; j < g.length; j++) g[j] += r.leafGrads[j];
      used += 1;
    } catch (e) { skipped += 1; }
  }
  if (!used) { note.textContent = "no sample of this batch follows the traced branch"; return false; }
  for (let j = 0; j < g.length; j++) g[j] /= used;
  note.textContent = skipped ? skipped + " sample(s) took a branch the trace did not record (left out)" : "";
  params.push(optimizerStep(opt, P, g));
  grads.push(g);
  losses.push(total / used);
  liveCount += 1;
  cur = {step: losses.length - 1, phase: 2, k: 0};
  return true;
}
const rate = $(".lab-rate");
function stopLive() {
  if (live !== null) cancelAnimationFrame(live);
  live = null;
  $(".lab-train").textContent = "train live";
}
function liveLoop() {
  if (!liveStep()) { stopLive(); render(); return; }
  render();
  const seconds = (performance.now() - liveStart) / 1000;
  root.dataset.liveRate = String(liveCount / seconds);
  rate.textContent = fmtg(liveCount / seconds, 3) + " live steps/s";
  live = requestAnimationFrame(liveLoop);
}
$(".lab-train").onclick = () => {
  if (live !== null) { stopLive(); render(); return; }
  stopPlay();
  liveStart = performance.now(); liveCount = 0;
  $(".lab-train").textContent = "pause live";
  live = requestAnimationFrame(liveLoop);
};
$(".lab-one").onclick = () => { stopPlay(); stopLive(); if (liveStep()) render(); };
function dataChanged() {
  order = []; position = Infinity;
  regionCache.clear();
}
dataCanvas.addEventListener("click", (ev) => {
  if (D.nin !== 2) return;  // points are drawn, picked and added in two features only
  const r = dataCanvas.getBoundingClientRect();
  const mx = (ev.clientX - r.left) * dataCanvas.width / r.width, my = (ev.clientY - r.top) * dataCanvas.height / r.height;
  let best = -1, bestD = 64;
  X.forEach((pt, i) => {
    const [px, py] = toPx(pt[0], pt[1]);
    const d = (px - mx) ** 2 + (py - my) ** 2;
    if (d < bestD) { best = i; bestD = d; }
  });
  if (best >= 0) { sample = best; render(); return; }
  const x = bounds[0][0] + mx / dataCanvas.width * (bounds[0][1] - bounds[0][0]);
  const y = bounds[1][1] - my / dataCanvas.height * (bounds[1][1] - bounds[1][0]);
  X.push([x, y]); Y.push(Number($(".lab-class").value));
  dataChanged();
  render();
});
$(".lab-remove").onclick = () => {
  if (X.length <= 1) return;
  X.splice(sample, 1); Y.splice(sample, 1);
  sample = Math.min(sample, X.length - 1);
  dataChanged();
  render();
};
const select = $(".lab-class");
D.classes.forEach((v) => { const o = document.createElement("option"); o.value = String(v); o.textContent = String(v); select.appendChild(o); });
select.value = String(D.classes[D.classes.length - 1]);

// --- controls ---------------------------------------------------------------------------------
function stopPlay() {
  if (playing !== null) clearInterval(playing);
  playing = null;
  $(".lab-play").innerHTML = "&#9654; play";
}
$(".lab-play").onclick = () => {
  if (playing !== null) { stopPlay(); return; }
  stopLive();
  $(".lab-play").innerHTML = "&#10074;&#10074; pause";
  playing = setInterval(() => {
    const at = cur;
    if (at.step >= lastStep() && at.phase === 2) { stopPlay(); return; }
    move(Math.max(1, Math.ceil(phaseLength(at.phase) / 24)));
  }, 90);
};
$(".lab-prev").onclick = () => { stopPlay(); move(-1); };
$(".lab-next").onclick = () => { stopPlay(); move(1); };
$(".lab-phase-prev").onclick = () => { stopPlay(); movePhase(-1); };
$(".lab-phase-next").onclick = () => { stopPlay(); movePhase(1); };
slider.oninput = () => { stopPlay(); cur = {step: +slider.value, phase: 1, k: D.backward.length - 1}; render(); };
function pixel(x, y) {  // where a data point is drawn, in the window's coordinates
  const r = dataCanvas.getBoundingClientRect(), [px, py] = toPx(x, y);
  return [r.left + px * r.width / dataCanvas.width, r.top + py * r.height / dataCanvas.height];
}
// a read-only view for tests and the curious (the page never reads it back)
root.tgLab = {state, chainRule, pixel, cur: () => cur, sample: () => sample,
  points: () => X.map((r) => r.slice()), labels: () => Y.slice(), losses: () => losses.slice(),
  recorded};
render();
})();
</script>
</div>"""
