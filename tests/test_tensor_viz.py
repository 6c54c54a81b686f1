"""viz on Tensor graphs: nodes show their shape (and values when small), edges the shape of the
gradient flowing along them (its value when it has one element), and the backward frames and
player run over a Tensor pass, constant operands included.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import viz
from autograd import Tensor


def small_graph():
    """loss = mean(tanh(x @ w + b) * 2): a matrix, a vector, a broadcast bias, a constant."""
    x = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], label="x")
    w = Tensor([[0.1], [-0.2], [0.3]], label="w")
    b = Tensor([0.5], label="b")
    loss = ((x @ w + b).tanh() * 2).mean()
    loss.label = "loss"
    return x, w, b, loss


def node_lines(source: str) -> dict[str, str]:
    """DOT node name -> its statement, for the statements that define nodes."""
    return {m.group(1): m.group(0) for m in re.finditer(r"^\s*(n\d+) \[.*$", source, re.M)}


def edge_labels(source: str) -> list[tuple[str, str, str]]:
    """(parent, node, label) per edge; a label is quoted when it has spaces: "(2, 3)"."""
    found = re.findall(r'(n\d+) -> (n\d+) \[label=(?:"([^"]*)"|(\S+))', source)
    return [(src, dst, quoted or bare) for src, dst, quoted, bare in found]


def test_nodes_show_shape_and_small_values():
    x, w, b, loss = small_graph()
    loss.backward()
    source = viz.draw(loss).source
    x_line = next(line for line in node_lines(source).values() if "<i>x</i>" in line)
    assert "shape (2, 3)" in x_line
    assert "data [[1 2 3] [4 5 6]]" in x_line  # six elements: small enough to show
    assert "grad [[" in x_line  # the gradient, an array of x's shape, shown after backward
    loss_line = next(line for line in node_lines(source).values() if "<i>loss</i>" in line)
    assert "<b>mean</b>" in loss_line


def test_big_tensors_show_their_shape_not_their_values():
    t = Tensor(np.arange(20.0).reshape(4, 5), label="big")
    source = viz.draw(t.sum()).source
    line = next(line for line in node_lines(source).values() if "<i>big</i>" in line)
    assert "shape (4, 5)" in line and "data shape (4, 5)" in line
    assert "19" not in line


def test_edges_carry_the_shape_of_the_gradient_flowing_to_each_parent():
    x, w, b, loss = small_graph()
    nodes = viz.graph.nodes_in_order(loss)
    name = {id(n): f"n{i}" for i, n in enumerate(nodes)}
    source = viz.draw(loss).source
    labels = {(src, dst): label for src, dst, label in edge_labels(source)}
    matmul = loss.parents[0].parents[0].parents[0].parents[0]
    assert matmul.op == "@"
    assert labels[(name[id(x)], name[id(matmul)])] == "(2, 3)"
    assert labels[(name[id(w)], name[id(matmul)])] == "(3, 1)"
    add = loss.parents[0].parents[0].parents[0]
    assert labels[(name[id(b)], name[id(add)])] == "(1,)"  # b was broadcast: summed back


def test_a_one_element_parent_s_edge_shows_the_local_gradient_value():
    a = Tensor(3.0, label="a")
    y = a * Tensor(2.0, label="two")
    source = viz.draw(y).source
    labels = [label for _, _, label in edge_labels(source)]
    assert sorted(labels) == ["2", "3"]  # d y / d a = 2, d y / d two = 3


def test_the_same_tensor_graph_gives_the_same_dot_source():
    assert viz.draw(small_graph()[-1]).source == viz.draw(small_graph()[-1]).source


def test_to_svg_on_tensors(dot_program):
    *_, loss = small_graph()
    loss.backward()
    svg = viz.to_svg(loss)
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "shape (2, 3)" in svg


def test_backward_frames_one_per_step_with_grads_as_they_stand(dot_program):
    *_, loss = small_graph()
    frames = viz.backward_frames(loss)
    fresh = small_graph()[-1]
    steps = list(fresh.backward_steps())
    assert len(frames) == len(steps) > 0
    assert all(f.lstrip().startswith("<?xml") and "<svg" in f for f in frames)
    # the first frame is the seed: no grad of x yet; the last has x's final gradient
    assert frames[0].count("grad None") > frames[-1].count("grad None")


def test_step_through_a_tensor_pass_is_a_player(dot_program):
    *_, loss = small_graph()
    player = viz.step_through(loss)
    page = player._repr_html_()
    film = json.loads(re.search(r'class="tg-steps">(.*?)</script>', page, re.S)[1])
    assert 'type="range"' in page and film["svg"].startswith("<svg")
    assert film["texts"][0].startswith("dloss/dloss")  # str(step) under the picture
    assert "None" in film["grads"][0]  # a Tensor's grad before anything reached it


def test_too_many_tensor_nodes_is_refused():
    t = Tensor([1.0])
    for _ in range(20):
        t = t * 1.5
    with pytest.raises(ValueError, match="max_nodes"):
        viz.draw(t, max_nodes=10)
