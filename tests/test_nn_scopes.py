"""nn opens name_scopes: a layer per ``layer<i>``, a neuron per ``neuron<j>`` on the value
engine, ``loss`` in every loss; parameters carry the scope of what they belong to."""

from __future__ import annotations

import numpy as np
import pytest

import nn
from autograd import Tensor, Value, name_scope, topological_order


def test_value_mlp_parameters_carry_their_layer_and_neuron():
    model = nn.MLP(2, [3, 2, 1], seed=0)
    for i, layer in enumerate(model.layers):
        for j, neuron in enumerate(layer.neurons):
            assert {p.scope for p in neuron.parameters()} == {(f"layer{i}", f"neuron{j}")}


def test_value_mlp_forward_builds_each_neuron_in_its_scope():
    model = nn.MLP(2, [3, 1], seed=0)
    x = [Value(0.5, label="x0"), Value(-1.0, label="x1")]
    out = model(x)
    assert out.scope == ("layer1", "neuron0")
    nodes = topological_order(out)
    inputs = {id(v) for v in x}
    scopes = {n.scope for n in nodes if id(n) not in inputs}
    assert scopes == {("layer0", f"neuron{j}") for j in range(3)} | {("layer1", "neuron0")}
    assert {n.scope for n in nodes if id(n) in inputs} == {()}  # made outside the model
    tanhs = [n for n in nodes if n.op == "tanh"]  # the hidden neurons' outputs
    assert [n.scope for n in tanhs] == [("layer0", f"neuron{j}") for j in range(3)]
    assert Value(1.0).scope == ()  # every scope closed again


def test_number_inputs_become_constants_inside_the_neuron():
    out = nn.MLP(2, [1], seed=0)([1.0, 2.0])
    consts = [n for n in topological_order(out) if n.is_constant]
    assert len(consts) == 2 and {c.scope for c in consts} == {("layer0", "neuron0")}


def test_a_standalone_layer_scopes_its_neurons():
    layer = nn.Layer(2, 2, seed=0)
    outs = layer([1.0, 2.0])
    assert [o.scope for o in outs] == [("neuron0",), ("neuron1",)]
    assert layer.neurons[1].b.scope == ("neuron1",)


def test_a_model_built_and_called_in_a_user_scope_nests_under_it():
    with name_scope("model"):
        model = nn.MLP(2, [2, 1], seed=0)
        out = model([1.0, 2.0])
    assert out.scope == ("model", "layer1", "neuron0")
    assert model.layers[0].neurons[1].w[0].scope == ("model", "layer0", "neuron1")


def test_tensor_mlp_scopes_layers():
    model = nn.MLP(2, [3, 1], seed=0, engine="tensor")
    assert [(layer.W.scope, layer.b.scope) for layer in model.layers] == [
        (("layer0",), ("layer0",)),
        (("layer1",), ("layer1",)),
    ]
    out = model(np.ones((4, 2)))
    assert out.scope == ("layer1",)
    scopes = {n.scope for n in topological_order(out)}
    assert scopes == {("layer0",), ("layer1",)}


@pytest.mark.parametrize(
    "loss, preds, targets",
    [
        (nn.losses.mse, [0.5, 2.0], [0.0, 2.0]),
        (nn.losses.bce, [0.3, 0.9], [0.0, 1.0]),
        (nn.losses.bce_with_logits, [0.3, -0.9], [0.0, 1.0]),
        (nn.losses.hinge, [0.3, -0.9], [1.0, -1.0]),
    ],
)
@pytest.mark.parametrize("engine", ["value", "tensor"])
def test_losses_build_their_nodes_in_the_loss_scope(loss, preds, targets, engine):
    p = [Value(v) for v in preds] if engine == "value" else Tensor(preds)
    out = loss(p, targets)
    assert out.scope == ("loss",)
    made = [n for n in topological_order(out) if n.parents]
    assert made and all(n.scope == ("loss",) for n in made)
    assert Value(1.0).scope == ()


def test_cross_entropy_opens_the_loss_scope_on_both_engines():
    assert nn.losses.cross_entropy([[Value(0.0), Value(1.0)]], [1]).scope == ("loss",)
    assert nn.losses.cross_entropy(Tensor([[0.0, 1.0]]), [1]).scope == ("loss",)


def test_a_failing_loss_closes_its_scope():
    with pytest.raises(ValueError):
        nn.losses.hinge([Value(1.0)], [0.5])
    assert Value(1.0).scope == ()
