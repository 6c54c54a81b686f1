"""Exports that play anywhere: Player.save (one HTML file) and animate (an animated GIF)."""

from __future__ import annotations

import json
import re
import sys

import pytest

import viz
from autograd import Value


def test_saved_player_is_one_html_file_with_no_external_url(dot_program, tmp_path, small_neuron):
    root = small_neuron()
    player = viz.step_through(root)
    path = player.save(tmp_path / "backprop.html")
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert '<meta charset="utf-8">' in page
    steps = json.loads(re.search(r'class="tg-steps">(.*?)</script>', page, re.S)[1])
    assert len(steps) == len(player) and "<script>" in page
    everything = page + "".join(svg for svg, _ in steps)  # the frames, as the script sees them
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
