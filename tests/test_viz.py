"""viz: DOT source (edges labelled with local gradients, styles, stable ids), SVG output parsed
with xml.etree, backward frames on one layout, the notebook player, max_nodes, missing dot.

Expected numbers come from closed forms (d(a*b)/da = b, d tanh(x)/dx = 1 - tanh(x)^2), never
from the engine's own local_grads.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import viz
from autograd import Tensor, Value
from viz.graph import fmt

REPO = Path(__file__).resolve().parent.parent
SVG = "{http://www.w3.org/2000/svg}"
NODE_LINE = re.compile(r"^\s*(n\d+) \[label=<(.*)> (.*)\]$")
EDGE_LINE = re.compile(r"^\s*(n\d+) -> (n\d+) \[(.*)\]$")


def neuron(backward: bool = True) -> dict[str, Value]:
    """micrograd's neuron o = tanh(x1*w1 + x2*w2 + b); every node labelled."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1w1"
    x2w2 = x2 * w2
    x2w2.label = "x2w2"
    s = x1w1 + x2w2
    s.label = "s"
    n = s + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    if backward:
        o.backward()
    return {v.label: v for v in (x1, x2, w1, w2, b, x1w1, x2w2, s, n, o)}


def parse_dot(source: str) -> tuple[dict[str, tuple[str, str]], list[tuple[str, str, str]]]:
    """DOT source -> ({name: (html label, attributes)}, [(tail, head, attributes)])."""
    nodes, edges = {}, []
    for line in source.splitlines():
        if m := NODE_LINE.match(line):
            nodes[m[1]] = (m[2], m[3])
        elif m := EDGE_LINE.match(line):
            edges.append((m[1], m[2], m[3]))
    return nodes, edges


def edge_text(attrs: str) -> str | None:
    m = re.search(r'label=(?:"([^"]*)"|([^\s"]+))', attrs)  # DOT quotes only when it must
    return (m[1] if m[1] is not None else m[2]) if m else None


def by_label(nodes: dict) -> dict[str, str]:
    """{node label: dot name} for labelled nodes."""
    out = {}
    for name, (label, _) in nodes.items():
        if m := re.search(r"<i>(.*?)</i>", label):
            out[m[1]] = name
    return out


def svg_texts(svg: str) -> list[str]:
    return [t.text for t in ET.fromstring(svg).iter(SVG + "text") if t.text]


# ---------------------------------------------------------------- DOT source


def test_every_edge_carries_its_local_gradient():
    v = neuron()
    nodes, edges = parse_dot(viz.draw(v["o"]).source)
    name = by_label(nodes)
    labels = {(t, h): edge_text(a) for t, h, a in edges}
    # one edge per parent-child pair, nothing more
    assert len(edges) == 9
    t = math.tanh(v["n"].data)
    expected = {
        ("x1", "x1w1"): -3.0,  # d(x1*w1)/dx1 = w1
        ("w1", "x1w1"): 2.0,  # = x1
        ("x2", "x2w2"): 1.0,
        ("w2", "x2w2"): 0.0,
        ("x1w1", "s"): 1.0,
        ("x2w2", "s"): 1.0,
        ("s", "n"): 1.0,
        ("b", "n"): 1.0,
        ("n", "o"): 1 - t * t,
    }
    for (parent, child), local in expected.items():
        assert labels[(name[parent], name[child])] == f"{local:.4g}"


def test_an_operand_used_twice_draws_two_labelled_edges():
    a = Value(3.0, label="a")
    sq = a * a
    sq.label = "sq"
    nodes, edges = parse_dot(viz.draw(sq).source)
    name = by_label(nodes)
    assert [(t, h) for t, h, _ in edges] == [(name["a"], name["sq"])] * 2
    assert [edge_text(attrs) for _, _, attrs in edges] == ["3", "3"]  # d(a*a)/d(each a) = a

    s = a + a
    s.label = "s"
    nodes, edges = parse_dot(viz.draw(s).source)
    assert [edge_text(attrs) for _, _, attrs in edges] == ["1", "1"]


def test_nodes_show_op_label_data_and_grad():
    v = neuron()
    nodes, _ = parse_dot(viz.draw(v["o"]).source)
    root_label = nodes[by_label(nodes)["o"]][0]
    assert "<b>tanh</b>" in root_label
    assert "data 0.7071" in root_label  # tanh(0.8814) = 1/sqrt(2)
    assert "grad 1" in root_label
    x1_label = nodes[by_label(nodes)["x1"]][0]
    assert "data 2" in x1_label and "grad -1.5" in x1_label  # w1 * (1 - 0.5)

    nodes, _ = parse_dot(viz.draw(v["o"], show_data=False, show_grad=False).source)
    assert not any("data " in label or "grad " in label for label, _ in nodes.values())


def test_leaves_constants_intermediates_and_root_look_different():
    x = Value(1.5, label="x")
    y = x * 2  # 2 becomes a constant parent
    z = y.exp()
    nodes, _ = parse_dot(viz.draw(z).source)
    assert len(nodes) == 4
    styles = {}
    for label, attrs in nodes.values():
        if "<i>x</i>" in label:
            styles["leaf"] = attrs
        elif "<b>*</b>" in label:
            styles["op"] = attrs
        elif "<b>exp</b>" in label:
            styles["root"] = attrs
        else:
            assert ">2<" in label and "grad" not in label  # a constant shows its number
            styles["const"] = attrs
    assert len(set(styles.values())) == 4
    assert "dashed" in styles["const"] and "rounded" in styles["leaf"]
    assert "bold" in styles["root"]


def test_an_unlabelled_leaf_is_a_leaf_with_its_grad_not_a_constant():
    # micrograd style: x = Value(2.0) with no label. It is an input with a gradient to show;
    # only the 3 that * wrapped is a constant.
    x = Value(2.0)
    y = x * x * 3
    y.backward()
    nodes, _ = parse_dot(viz.draw(y).source)
    leaves = [(label, attrs) for label, attrs in nodes.values() if "rounded" in attrs]
    consts = [(label, attrs) for label, attrs in nodes.values() if "dashed" in attrs]
    assert len(leaves) == 1 and "data 2" in leaves[0][0] and "grad 12" in leaves[0][0]
    assert len(consts) == 1 and ">3<" in consts[0][0]
    assert x.is_constant is False and y.parents[1].is_constant is True


def _power_chain(n: int) -> Value:
    x = Value(1.0, label="x")
    y = x
    for _ in range(n - 1):
        y = y * x
    return y


def test_graphs_of_long_edges_get_a_capped_layout_and_layered_ones_do_not():
    def attrs(root, labelled=True):  # the graph's layout settings in the DOT, but rankdir
        source = viz.draw(root, max_nodes=10_000, edge_labels=labelled).source
        head = source[: source.index("node [")]  # the graph's own attribute statements
        return dict(re.findall(r"\b(nslimit1?|splines)=(\w+)", head))

    assert attrs(neuron()["o"]) == {}  # the README's figure keeps dot's full layout
    import nn

    model = nn.MLP(2, [8, 8, 1], seed=0)
    assert attrs(nn.losses.mse([model([1.0, 0.0])], [1.0])) == {}
    # x*x*...*x: x feeds every depth. 60 factors took dot 10 s, 100 over two minutes.
    assert attrs(_power_chain(60)) == {"nslimit": "1", "nslimit1": "1"}
    assert attrs(_power_chain(60), labelled=False) == {"nslimit": "1", "nslimit1": "1"}
    assert attrs(_power_chain(200))["splines"] == "line"
    assert "nslimit" in viz.draw(_power_chain(60)).source


def test_a_layout_past_its_time_limit_is_stopped_with_a_clear_error(dot_program):
    from viz.graph import pipe

    # dot's full layout of the 60-factor product takes seconds: a tiny limit stops it.
    source = viz.draw(_power_chain(60)).source.replace("nslimit=1 nslimit1=1", "")
    with pytest.raises(RuntimeError, match=r"took more than 0.05 s to lay out"):
        pipe(source, "svg", timeout=0.05)


def test_the_same_graph_gives_the_same_dot_source():
    first = viz.draw(neuron()["o"]).source
    second = viz.draw(neuron()["o"]).source
    assert first == second
    nodes, edges = parse_dot(first)
    assert sorted(nodes) == sorted(f"n{i}" for i in range(10))


def test_precision_is_configurable():
    x = Value(1.0 / 3.0, label="x")
    y = x * 1
    assert "data 0.3333" in viz.draw(y).source
    assert "data 0.33<" in viz.draw(y, precision=2).source
    assert "data 0.333333<" in viz.draw(y, precision=6).source


def test_edge_labels_contribution_and_off():
    v = neuron()
    nodes, edges = parse_dot(viz.draw(v["o"], edge_labels="contribution").source)
    name = by_label(nodes)
    labels = {(t, h): edge_text(a) for t, h, a in edges}
    # local * upstream = contribution: dx1 gets w1 * do/d(x1w1) = -3 * 0.5
    assert labels[(name["x1"], name["x1w1"])] == "-3\\n× 0.5 = -1.5"
    assert labels[(name["n"], name["o"])] == "0.5\\n× 1 = 0.5"
    _, edges = parse_dot(viz.draw(v["o"], edge_labels=False).source)
    assert len(edges) == 9 and all(edge_text(a) is None for *_, a in edges)
    with pytest.raises(ValueError, match="edge_labels"):
        viz.draw(v["o"], edge_labels="sideways")


def test_highlight_outlines_the_given_nodes():
    v = neuron()
    nodes, _ = parse_dot(viz.draw(v["o"], highlight=[v["n"], v["w1"]]).source)
    red = {name for name, (_, attrs) in nodes.items() if "#dc2626" in attrs}
    name = by_label(nodes)
    assert red == {name["n"], name["w1"]}


def chain(n: int) -> Value:
    v = Value(1.0, label="x")
    for _ in range(n):
        v = v * 1.0  # each step adds an op node and a constant node
    return v


def test_max_nodes_refuses_a_big_graph_saying_how_big():
    root = chain(2500)  # 1 + 2 * 2500 = 5001 nodes
    with pytest.raises(ValueError, match=r"5,001 nodes.*max_nodes=500.*max_nodes=5001"):
        viz.draw(root)
    with pytest.raises(ValueError, match="5,001 nodes"):
        viz.step_through(root)
    # frames cost about n^2 (n frames of n nodes), so their limit defaults lower
    with pytest.raises(ValueError, match=r"101 nodes, more than max_nodes=100"):
        viz.backward_frames(chain(50))
    assert len(parse_dot(viz.draw(root, max_nodes=5001).source)[0]) == 5001


def test_max_nodes_stops_counting_a_huge_graph():
    # the count is capped, so refusing never walks the whole of a huge graph
    with pytest.raises(ValueError, match="more than 100,000 nodes.*pass a larger max_nodes"):
        viz.draw(chain(60_000))


def test_format_numbers_and_small_arrays():
    assert fmt(0.70710678) == "0.7071"
    assert fmt(-1.5) == "-1.5"
    assert fmt(6.8813735870195432, precision=6) == "6.88137"
    assert fmt(float("nan")) == "nan"
    assert fmt(np.float64(2.0)) == "2"
    assert fmt(np.array([0.5, -1.25])) == "[0.5 -1.25]"
    assert fmt(np.zeros((3, 4))) == "shape (3, 4)"
    assert fmt(None) == "None"


def test_tensor_graphs_label_edges_with_shapes_and_show_small_values():
    a = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), label="A")
    x = Tensor(np.array([0.5, -1.0]), label="x")
    h = a @ x
    h.label = "h"
    big = Tensor(np.arange(12.0).reshape(3, 4), label="big")
    y = h.tanh().sum() * big.sum()
    y.label = "y"
    y.backward()
    nodes, edges = parse_dot(viz.draw(y).source)
    name = by_label(nodes)
    labels = {(t, h): edge_text(attrs) for t, h, attrs in edges}
    # the gradient flowing along an edge has the parent's shape
    assert labels[(name["A"], name["h"])] == "(2, 2)"
    assert labels[(name["x"], name["h"])] == "(2,)"
    a_label = nodes[name["A"]][0]
    assert "shape (2, 2)" in a_label and "data [[1 2] [3 4]]" in a_label
    t = np.tanh(np.array([-1.5, -2.5]))
    gx = 66.0 * (a.data.T @ (1 - t * t))  # d/dx of sum(tanh(A x)) * sum(big)
    assert f"grad [{gx[0]:.4g} {gx[1]:.4g}]" in nodes[name["x"]][0]
    big_label = nodes[name["big"]][0]
    assert big_label.count("shape (3, 4)") == 2  # "data shape (3, 4)", "grad shape (3, 4)"
    assert "data shape (3, 4)" in big_label and "11" not in big_label


def test_tensor_backward_frames(dot_program):
    def graph():
        w = Tensor(np.array([0.5, -0.25]), label="w")
        return (w * w).sum()

    steps = [str(s) for s in graph().backward_steps()]
    frames = viz.backward_frames(graph())
    assert len(frames) == len(steps)
    shapes = [geometry(f) for f in frames]
    assert all(s == shapes[0] for s in shapes)


# ---------------------------------------------------------------- SVG / files


def test_to_svg_holds_the_labels(dot_program):
    v = neuron()
    texts = svg_texts(viz.to_svg(v["o"]))
    for expected in ("tanh", "o", "data 0.7071", "grad 1", "grad -1.5", "-3", "0.5"):
        assert expected in texts


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".pdf", b"%PDF")])
def test_render_binary_formats(dot_program, tmp_path, suffix, magic):
    path = viz.render(neuron()["o"], tmp_path / f"g{suffix}")
    assert path.read_bytes().startswith(magic)


def test_render_svg_and_dot(dot_program, tmp_path):
    v = neuron()
    svg = viz.render(v["o"], tmp_path / "g.svg")
    assert "grad -1.5" in svg_texts(svg.read_text())
    dot = viz.render(v["o"], tmp_path / "g.dot")
    assert dot.read_text() == viz.draw(v["o"]).source
    with pytest.raises(ValueError, match=r"\.svg, \.png, \.pdf or \.dot"):
        viz.render(v["o"], tmp_path / "g.jpg")


def test_without_dot_rendering_says_how_to_install_and_dot_output_still_works(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH with no Graphviz on it
    v = neuron()
    for make in (lambda: viz.to_svg(v["o"]), lambda: viz.render(v["o"], tmp_path / "g.svg")):
        with pytest.raises(RuntimeError, match="apt-get install graphviz") as err:
            make()
        assert "brew install graphviz" in str(err.value)
    fresh = neuron(backward=False)
    with pytest.raises(RuntimeError, match="Graphviz"):
        viz.backward_frames(fresh["o"])
    assert fresh["x1"].grad == 0.0  # refused before the backward pass ran
    assert viz.render(v["o"], tmp_path / "g.dot").read_text().startswith("digraph")


# ---------------------------------------------------------------- backward frames


def geometry(svg: str) -> dict[str, list[tuple]]:
    """{node or edge title: the coordinates of every shape and text in its group}."""
    out = {}
    for g in ET.fromstring(svg).iter(SVG + "g"):
        if g.get("class") not in ("node", "edge"):
            continue
        title = g.find(SVG + "title").text
        shapes = []
        for el in g:
            if el.tag in (SVG + "polygon", SVG + "path", SVG + "ellipse", SVG + "polyline"):
                shapes.append(tuple(el.get(k) for k in ("points", "d", "cx", "cy", "rx", "ry")))
            elif el.tag == SVG + "text":
                shapes.append((el.get("x"), el.get("y")))
        out.setdefault(title, []).extend(shapes)
    return out


def node_texts(svg: str) -> dict[str, list[str]]:
    out = {}
    for g in ET.fromstring(svg).iter(SVG + "g"):
        if g.get("class") == "node":
            out[g.find(SVG + "title").text] = [t.text for t in g.iter(SVG + "text")]
    return out


def red_nodes(svg: str) -> set[str]:
    red = set()
    for g in ET.fromstring(svg).iter(SVG + "g"):
        if g.get("class") == "node" and any(
            el.get("stroke") == "#dc2626" for el in g if el.tag != SVG + "text"
        ):
            red.add(g.find(SVG + "title").text)
    return red


def test_one_frame_per_step_on_one_layout(dot_program):
    steps = list(neuron(backward=False)["o"].backward_steps())
    v = neuron(backward=False)
    frames = viz.backward_frames(v["o"])
    assert len(frames) == len(steps)
    shapes = [geometry(f) for f in frames]
    assert len(shapes[0]) == 10 + 9  # every node and edge is drawn
    for other in shapes[1:]:
        assert other == shapes[0]
    sizes = {ET.fromstring(f).get("viewBox") for f in frames}
    assert len(sizes) == 1


def test_frames_highlight_the_step_node_and_show_grads_as_they_stand(dot_program):
    v = neuron(backward=False)
    name = by_label(parse_dot(viz.draw(v["o"]).source)[0])
    steps = [s.node.label for s in neuron(backward=False)["o"].backward_steps()]
    frames = viz.backward_frames(v["o"])
    for label, frame in zip(steps, frames):
        assert red_nodes(frame) == {name[label]}
    first, last = node_texts(frames[0]), node_texts(frames[-1])
    assert "grad 1" in first[name["o"]]
    assert "grad 0.5" in first[name["n"]]  # the root step has already fed n
    assert "grad 0" in first[name["x1"]]  # nothing has reached x1 yet
    assert "grad -1.5" in last[name["x1"]]
    # the frames ran the pass: same grads as backward()
    assert v["x1"].grad == pytest.approx(-1.5) and v["w1"].grad == pytest.approx(1.0)


def test_frames_edges_into_the_step_node_are_highlighted(dot_program):
    v = neuron(backward=False)
    name = by_label(parse_dot(viz.draw(v["o"]).source)[0])
    frame = viz.backward_frames(v["o"])[0]  # the root step: tanh feeds n
    red_edges = set()
    for g in ET.fromstring(frame).iter(SVG + "g"):
        if g.get("class") == "edge" and g.find(SVG + "path").get("stroke") == "#dc2626":
            red_edges.add(g.find(SVG + "title").text)
    assert red_edges == {f"{name['n']}->{name['o']}"}


# ---------------------------------------------------------------- the player


def player_film(page: str) -> dict:
    """The picture and the steps a player's HTML carries for its script."""
    found = re.search(
        r'<script type="application/json" class="tg-steps">(.*?)</script>', page, re.S
    )
    assert found, "no steps in the player's HTML"
    return json.loads(found[1])


def test_step_through_is_self_contained_html(dot_program):
    texts = [str(s) for s in neuron(backward=False)["o"].backward_steps()]
    player = viz.step_through(neuron(backward=False)["o"])
    page = player._repr_html_()
    assert len(player) == len(texts)
    film = player_film(page)
    assert film["texts"] == texts
    svg = film["svg"]
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert 'type="range"' in page and f'max="{len(texts) - 1}"' in page
    assert "tg-prev" in page and "tg-next" in page and "<script>" in page
    assert "<script src" not in page and "<link" not in page and "<!DOCTYPE" not in page
    # the only URLs are XML namespace names, which nothing fetches
    everything = page + svg
    urls = re.findall(r'[\w:-]*="?https?://[^"\s]*', everything)
    assert urls and all(u.startswith("xmlns") for u in urls)


def test_no_svg_text_can_end_the_players_script_early(dot_program):
    # an SVG holds "</svg>" and comments: inside a <script> a literal "</" could close it
    page = viz.step_through(neuron(backward=False)["o"])._repr_html_()
    script = page[page.index('class="tg-steps">') : page.index("</script>")]
    assert "<" not in script.removeprefix('class="tg-steps">')


def test_the_player_shows_its_first_frame_where_no_script_runs(dot_program):
    # an untrusted notebook or a code host drops the scripts: what is left is the still
    from PIL import Image

    o = neuron(backward=False)["o"]
    first = str(next(o.backward_steps()))
    o.zero_grad()
    player = viz.step_through(o)
    page = player._repr_html_()
    without_scripts = re.sub(r"<script.*?</script>", "", page, flags=re.S)
    assert 'class="tg-frame"' not in without_scripts and "<svg" not in without_scripts
    picture = re.search(r'<img alt="[^"]+" src="data:image/png;base64,([^"]+)"', without_scripts)
    assert picture and base64.b64decode(picture[1]) == player.still
    assert html.escape(first) in without_scripts
    assert viz.frames.PLAY_HINT in without_scripts
    # front ends that show no HTML take the PNG: the same still, chain rule drawn under it
    assert player._repr_png_() == player.still
    with Image.open(io.BytesIO(player.still)) as im:
        assert im.format == "PNG" and im.width > 200 and im.height > 100
    assert viz.frames.PLAY_HINT in repr(player)


def graph_picture(bundle: dict) -> tuple[dict, str]:
    """The attributes of the <img> in a graph's HTML form, and the SVG its data: URL holds."""
    assert re.fullmatch(r"<img [^<>]*>", bundle["text/html"]), bundle["text/html"][:200]
    attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', bundle["text/html"]))
    prefix = "data:image/svg+xml;base64,"
    assert attrs["src"].startswith(prefix)
    return attrs, base64.b64decode(attrs["src"].removeprefix(prefix)).decode("utf-8")


def test_a_graph_displays_as_html_that_fits_and_as_png(dot_program):
    from IPython.core.formatters import DisplayFormatter
    from PIL import Image

    dot = viz.draw(neuron()["o"])
    bundle, _ = DisplayFormatter().format(dot)
    # no image/svg+xml: nbconvert and JupyterLab draw it at its natural width, cropped by a
    # narrower page, and rank it above the PNG (which they scale down)
    assert set(bundle) == {"text/html", "image/png", "text/plain"}
    attrs, svg = graph_picture(bundle)
    assert "max-width:100%" in attrs["style"] and "height:auto" in attrs["style"]
    assert 'class="tg-graph"' in bundle["text/html"]  # run_notebooks.py keeps only the PNG
    # the exact drawing: Graphviz's SVG of this graph, byte for byte
    assert svg == viz.graph.pipe(dot.source, "svg").decode("utf-8")
    root = ET.fromstring(svg)
    assert root.get("viewBox")  # the aspect the browser keeps as it scales the picture down
    with Image.open(io.BytesIO(bundle["image/png"])) as im:  # IPython's formatter gives bytes
        assert im.format == "PNG" and im.width > 200
        # the <img> at its natural size is the PNG's size: points at 96 dpi
        assert abs(int(attrs["width"]) - im.width) <= 1
        assert abs(int(attrs["height"]) - im.height) <= 1
    assert "0x" not in bundle["text/plain"]  # no memory address: rebuilt notebooks stay stable
    assert set(dot._repr_mimebundle_(include=["image/png"])) == {"image/png"}
    assert set(dot._repr_mimebundle_(exclude=["image/png"])) == {"text/html"}


def test_nbconvert_shows_a_graphs_html_form_as_it_is(dot_program):
    # nbconvert's HTML export ranks text/html first and passes it through unsanitised; the
    # page it makes is JupyterLab's stylesheet around the same <img> (test_player_browser.py
    # measures the picture in a browser)
    nbformat = pytest.importorskip("nbformat")
    nbconvert = pytest.importorskip("nbconvert")
    from IPython.core.formatters import DisplayFormatter

    bundle, _ = DisplayFormatter().format(viz.draw(neuron()["o"]))
    data = {
        k: base64.b64encode(v).decode() if isinstance(v, bytes) else v for k, v in bundle.items()
    }
    nb = nbformat.v4.new_notebook()
    nb.cells.append(
        nbformat.v4.new_code_cell(
            "viz.draw(o)", outputs=[nbformat.v4.new_output("display_data", data)]
        )
    )
    page, _ = nbconvert.HTMLExporter().from_notebook_node(nb)
    shown = re.findall(r'<div class="jp-RenderedHTMLCommon[^"]*"[^>]*>\s*(<img [^>]*>)', page)
    assert len(shown) == 1
    assert graph_picture({"text/html": shown[0]}) == graph_picture(bundle)  # unchanged
    assert 'class="jp-RenderedImage' not in page  # the PNG is for front ends without HTML


def test_two_players_do_not_share_dom_ids(dot_program):
    p = viz.step_through(neuron(backward=False)["o"])
    ids = [re.search(r'<div id="([^"]+)"', p._repr_html_())[1] for _ in range(2)]
    assert ids[0] != ids[1]
    assert f'getElementById("{ids[0]}")' not in p._repr_html_()


# ---------------------------------------------------------------- README figure


def test_readme_figure_script(dot_program, tmp_path):
    subprocess.run(
        [sys.executable, str(REPO / "scripts" / "make_readme_figure.py"), str(tmp_path)],
        check=True,
        cwd=tmp_path,
    )
    texts = svg_texts((tmp_path / "neuron.svg").read_text())
    for edge_label in ("-3", "2", "1", "0", "0.5"):  # local gradients on the edges
        assert edge_label in texts
    for node_text in ("tanh", "data 0.7071", "grad -1.5", "grad 1"):
        assert node_text in texts
    contributions = svg_texts((tmp_path / "neuron_contributions.svg").read_text())
    assert "× 0.5 = -1.5" in contributions  # x1's edge: w1 * do/d(x1*w1) = -3 * 0.5
    collapsed = svg_texts((tmp_path / "moons_collapsed.svg").read_text())
    assert "layer0/neuron15" in collapsed and "layer1/neuron3" in collapsed
    assert "loss" in collapsed and "l2" in collapsed and "×100" in collapsed
    focused = svg_texts((tmp_path / "moons_focus.svg").read_text())
    assert "layer0/neuron3" in focused and "layer0/neuron2" not in focused
    # the committed pictures are these (compared by text: Graphviz versions lay out differently)
    fresh = {
        "neuron.svg": texts,
        "neuron_contributions.svg": contributions,
        "moons_collapsed.svg": collapsed,
        "moons_focus.svg": focused,
    }
    for name, texts_now in fresh.items():
        assert sorted(svg_texts((REPO / "docs" / name).read_text())) == sorted(texts_now), name
    # the README's GIF: the neuron's backward pass, one frame per step, as the committed one
    from PIL import Image

    steps = len(list(neuron(backward=False)["o"].backward_steps()))
    for gif in (tmp_path / "neuron_backprop.gif", REPO / "docs" / "neuron_backprop.gif"):
        with Image.open(gif) as frames:
            assert frames.n_frames == steps


def test_frames_of_a_bigger_graph_come_back_whole(dot_program):
    # ~60 nodes: Graphviz writes megabytes for all frames while still reading its input
    xs = [Value(0.1 * (i + 1), label=f"x{i}") for i in range(3)]
    hidden = [sum((Value(0.2 * j - 0.3) * x for x in xs), Value(0.1)).tanh() for j in range(4)]
    out = sum((Value(0.5) * h for h in hidden), Value(0.0)).tanh()
    steps = len(list(out.backward_steps()))
    out.zero_grad()
    frames = viz.backward_frames(out)
    assert len(frames) == steps
    assert all(ET.fromstring(f).tag == SVG + "svg" for f in frames)


def test_contribution_frames_show_each_contribution_from_its_step_on(dot_program):
    a, b = Value(3.0, label="a"), Value(2.0, label="b")
    c = a * b
    c.label = "c"
    L = c + a
    L.label = "L"
    frames = viz.backward_frames(L, edge_labels="contribution")

    def edge_texts(svg):
        return {
            g.find(SVG + "title").text: " ".join(t.text or "" for t in g.iter(SVG + "text"))
            for g in ET.fromstring(svg).iter(SVG + "g")
            if g.get("class") == "edge"
        }

    first, last = edge_texts(frames[0]), edge_texts(frames[-1])
    c_edges = [title for title in first if title.endswith("->n" + str(2))]  # edges into c
    assert c_edges, first
    # Step 1 is L's: c's edges show only their local gradient, as c has sent nothing yet.
    assert all("=" not in first[t] for t in c_edges)
    assert all("=" in last[t] for t in c_edges)  # by the end every edge has sent its share
    assert any("× 1 = " in text for text in first.values())  # L's own edges, upstream 1
