"""Exports that play anywhere: Player.save (one HTML file) and animate (an animated GIF)."""

from __future__ import annotations

import io
import json
import re
import sys

import pytest

import nn
import viz
from autograd import Value, topological_order
from viz.graph import fmt, node_kind


def _film(page: str) -> dict:
    """The picture and the per-step changes a player's page carries for its script."""
    return json.loads(re.search(r'class="tg-steps">(.*?)</script>', page, re.S)[1])


def _mlp_loss() -> Value:
    """A 2-8-1 MLP's binary cross-entropy on one XOR sample: 94 nodes, near the 100 for which
    the API states the exports' sizes (and backward_frames' default max_nodes)."""
    X, y = nn.datasets.xor()
    model = nn.MLP(2, [8, 1], activation="tanh", output_activation="sigmoid", seed=0)
    xs = [Value(v, label=f"x{i}") for i, v in enumerate(X[1].tolist())]
    loss = nn.losses.bce([model(xs)], y[1:2])
    loss.label = "loss"
    assert len(topological_order(loss)) == 94
    return loss


def test_saved_player_is_one_html_file_with_no_external_url(dot_program, tmp_path, small_neuron):
    root = small_neuron()
    player = viz.step_through(root)
    path = player.save(tmp_path / "backprop.html")
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert '<meta charset="utf-8">' in page
    film = _film(page)
    assert len(film["texts"]) == len(player) and "<script>" in page
    everything = page + film["svg"]  # the picture, as the script sees it
    # nothing to fetch: no src/href attribute but the still's inline data: URL, no CSS url()
    # or @import, and the only http(s) strings are XML namespace names
    sources = re.findall(r'\b(?:src|href)\s*=\s*"([^"]*)"', everything, re.I)
    assert len(sources) == 1 and sources[0].startswith("data:image/png;base64,")
    assert "url(" not in everything and "@import" not in everything
    urls = re.findall(r'([\w:-]*)="?(?:https?:)?//[^"\s]*', everything)
    assert urls and all(attr.startswith("xmlns") for attr in urls)


def _gif_frames(path):
    from PIL import Image, ImageSequence

    with Image.open(path) as gif:
        return gif.n_frames, [
            (frame.size, frame.info.get("duration")) for frame in ImageSequence.Iterator(gif)
        ]


def test_animate_writes_one_equal_sized_frame_per_step(dot_program, tmp_path, small_neuron):
    pytest.importorskip("PIL", reason="Pillow is in the dev extra (tracegrad[gif])")
    root = small_neuron()
    steps = len(list(root.backward_steps()))
    root.zero_grad()
    path = viz.animate(root, tmp_path / "backprop.gif", seconds_per_step=0.5)
    assert path.read_bytes()[:6] == b"GIF89a"
    count, frames = _gif_frames(path)
    assert count == steps
    assert len({size for size, _ in frames}) == 1  # all frames the same size
    assert {duration for _, duration in frames} == {500}
    assert root.grad == 1.0 and root.parents[0].grad == pytest.approx(0.5)  # it ran the pass


def test_animate_frames_differ_and_carry_the_chain_rule_text(dot_program, tmp_path, small_neuron):
    pytest.importorskip("PIL", reason="Pillow is in the dev extra (tracegrad[gif])")
    from PIL import Image, ImageChops, ImageSequence

    path = viz.animate(small_neuron(), tmp_path / "b.gif")
    with Image.open(path) as gif:
        pictures = [frame.convert("RGB") for frame in ImageSequence.Iterator(gif)]
    width, height = pictures[0].size
    # consecutive frames differ (the highlight moves, grads appear) ...
    assert all(ImageChops.difference(a, b).getbbox() for a, b in zip(pictures, pictures[1:]))
    # ... and each has text in a band under the picture (dark pixels in the bottom rows)
    for picture in pictures:
        band = picture.crop((0, height - 40, width, height)).convert("L")
        assert band.getextrema()[0] < 100


def test_animate_follows_max_nodes_and_checks_its_arguments(dot_program, tmp_path, small_neuron):
    pytest.importorskip("PIL", reason="Pillow is in the dev extra (tracegrad[gif])")
    x = Value(0.5, label="x")
    y = x
    for _ in range(60):
        y = y * 1.01
    with pytest.raises(ValueError, match="more than max_nodes=100"):
        viz.animate(y, tmp_path / "big.gif")
    assert x.grad == 0.0  # refused before the backward pass
    with pytest.raises(ValueError, match="seconds_per_step must be a positive number"):
        viz.animate(small_neuron(), tmp_path / "a.gif", seconds_per_step=0)
    with pytest.raises(ValueError, match="suffix must be .gif"):
        viz.animate(small_neuron(), tmp_path / "a.png")


def test_animate_without_pillow_says_how_to_install_it(tmp_path, monkeypatch, small_neuron):
    monkeypatch.setitem(sys.modules, "PIL", None)  # import PIL now raises ImportError
    root = small_neuron()
    with pytest.raises(ImportError, match=r"pip install tracegrad\[gif\]"):
        viz.animate(root, tmp_path / "a.gif")
    assert root.grad == 0.0 and not (tmp_path / "a.gif").exists()


def test_a_player_ships_one_picture_and_what_each_step_changes(dot_program, small_neuron):
    root = small_neuron()
    nodes = topological_order(root)
    index = {id(n): j for j, n in enumerate(nodes)}
    # what each step shows, from a pass over a twin graph: its node and every grad as it
    # stands (nodes are numbered in topological order, the same in both)
    twin = small_neuron()
    twin_nodes = topological_order(twin)
    expected = [
        ([id(n) for n in twin_nodes].index(id(step.node)), [fmt(n.grad) for n in twin_nodes])
        for step in twin.backward_steps()
    ]
    film = _film(viz.step_through(root)._repr_html_())
    assert film["svg"].count("<svg") == 1  # one picture ...
    assert [k for k, _ in expected] == film["order"]  # ... and each step's node on it
    assert film["parents"] == [[index[id(p)] for p in n.parents] for n in nodes]
    # the grads: the first step's all (None for a constant, which shows none), then changes
    grads = [film["grads"][0]]
    for changes in film["grads"][1:]:
        assert all(grads[-1][j] != text for j, text in changes)  # only what changed
        now = list(grads[-1])
        for j, text in changes:
            now[j] = text
        grads.append(now)
    consts = {j for j, n in enumerate(nodes) if node_kind(n, root) == "const"}
    for (_, want), got in zip(expected, grads):
        assert got == [None if j in consts else text for j, text in enumerate(want)]
    # every node and edge of the picture is one the script can find: n{j}, e{j}_{k}
    for j, node in enumerate(nodes):
        assert f"<title>n{j}</title>" in film["svg"]
        for k in range(len(node.parents)):
            assert f'id="e{j}_{k}"' in film["svg"]


def test_contribution_labels_ship_both_texts_for_the_script_to_choose(dot_program, small_neuron):
    import xml.etree.ElementTree as ET

    film = _film(viz.step_through(small_neuron(), edge_labels="contribution")._repr_html_())
    svg = "{http://www.w3.org/2000/svg}"
    edges = [g for g in ET.fromstring(film["svg"]).iter(svg + "g") if g.get("class") == "edge"]
    assert len(edges) == 5  # x1 and w1 into *, * and b into +, + into tanh
    for g in edges:
        before = [t.text for t in g.iter(svg + "text") if t.get("class") == "tg-before"]
        after = [t.text for t in g.iter(svg + "text") if t.get("class") == "tg-after"]
        assert len(before) == 1 and "=" not in before[0]  # the local gradient alone
        assert any("=" in text for text in after)  # x upstream = contribution


def test_a_100_node_player_is_one_picture_under_2_mb(dot_program, tmp_path):
    from PIL import Image

    player = viz.step_through(_mlp_loss())
    page = player.save(tmp_path / "mlp.html").read_bytes()
    assert len(page) < 2_000_000, len(page)
    assert len(_film(page.decode())["texts"]) == len(player) > 90
    assert page.count(b"<svg") + page.count(b"\\u003csvg") == 1
    with Image.open(io.BytesIO(player.still)) as still:  # drawn smaller, not cropped
        assert 1000 < still.width <= viz.frames.MAX_WIDTH


def test_gif_frames_are_at_most_1600_wide_and_100_nodes_make_under_3_mb(dot_program, tmp_path):
    pytest.importorskip("PIL", reason="Pillow is in the dev extra (tracegrad[gif])")
    from PIL import Image

    root = _mlp_loss()
    steps = len(list(root.backward_steps()))
    root.zero_grad()
    path = viz.animate(root, tmp_path / "mlp.gif")
    assert path.stat().st_size < 3_000_000, path.stat().st_size
    count, frames = _gif_frames(path)
    assert count == steps
    (width, height), *_ = {size for size, _ in frames}
    assert 1000 < width <= viz.frames.MAX_WIDTH and len({size for size, _ in frames}) == 1
    # the graph is drawn whole, smaller: the root (its box the yellow of a root, at the
    # right end of this left-to-right graph) is in the last frame
    with Image.open(path) as gif:
        gif.seek(count - 1)
        last = gif.convert("RGB")
    yellow = [
        x
        for x in range(width)
        for y in range(0, height, 2)
        if last.getpixel((x, y)) == (0xFD, 0xE6, 0x8A)
    ]
    assert yellow and max(yellow) > 0.9 * width
