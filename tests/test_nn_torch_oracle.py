"""PyTorch (float64) as the oracle for nn: the same MLP's gradients, the losses, and ten
optimizer steps of SGD (momentum, nesterov, weight decay) and Adam, all within 1e-10.

This is the PyTorch XOR recipe of the course notes our XOR examples come from: the network
is the XOR MLP, trained on XOR."""

from __future__ import annotations

import numpy as np
import pytest

import nn

pytestmark = pytest.mark.oracle

X, Y = nn.datasets.xor()
TOL = 1e-10


def torch_twin(torch, model: nn.MLP):
    """A torch nn.Sequential with the same weights and activations."""
    acts = {"tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid, "relu": torch.nn.ReLU}
    layers = []
    state = model.state_dict()
    for i, layer in enumerate(model.layers):
        lin = torch.nn.Linear(layer.nin, layer.nout).double()
        with torch.no_grad():
            lin.weight.copy_(torch.tensor(state[f"layers.{i}.weight"]))
            lin.bias.copy_(torch.tensor(state[f"layers.{i}.bias"]))
        layers.append(lin)
        if layer.activation is not None:
            layers.append(acts[layer.activation]())
    return torch.nn.Sequential(*layers)


def our_grads(model: nn.MLP) -> dict[str, np.ndarray]:
    return {
        name: np.array([p.grad for p in params]).reshape(shape)
        for name, (shape, params) in model._slots().items()
    }


def torch_grads(twin) -> list[np.ndarray]:
    return [p.grad.numpy() for p in twin.parameters()]


ARCHS = [
    dict(nouts=[3, 1], activation="sigmoid", output_activation="sigmoid"),  # Keras's XOR MLP
    dict(nouts=[4, 4, 1], activation="tanh", output_activation="sigmoid"),
    dict(nouts=[5, 1], activation="relu", output_activation="sigmoid"),
]


@pytest.mark.parametrize("arch", ARCHS)
def test_mlp_gradients_match_torch(torch, arch):
    model = nn.MLP(2, seed=0, **arch)
    twin = torch_twin(torch, model)
    loss = nn.losses.bce([model(x) for x in X.tolist()], Y)
    loss.backward()
    tl = torch.nn.functional.binary_cross_entropy(
        twin(torch.tensor(X)).reshape(-1), torch.tensor(Y, dtype=torch.float64)
    )
    tl.backward()
    assert loss.data == pytest.approx(tl.item(), abs=TOL)
    ours = list(our_grads(model).values())
    for a, b in zip(ours, torch_grads(twin), strict=True):
        assert np.allclose(a, b, rtol=0, atol=TOL)


def _loss_pair(torch, name):
    F = torch.nn.functional
    if name == "mse":
        return nn.losses.mse, lambda out, t: F.mse_loss(out.reshape(-1), t)
    if name == "bce":
        return nn.losses.bce, lambda out, t: F.binary_cross_entropy(out.reshape(-1), t)
    if name == "bce_with_logits":
        return nn.losses.bce_with_logits, lambda out, t: F.binary_cross_entropy_with_logits(
            out.reshape(-1), t
        )
    if name == "hinge":  # torch has no hinge for ±1 labels: its definition written out
        return nn.losses.hinge, lambda out, t: torch.relu(1 - t * out.reshape(-1)).mean()
    raise AssertionError(name)


@pytest.mark.parametrize("name", ["mse", "bce", "bce_with_logits", "hinge"])
def test_binary_losses_match_torch(torch, name):
    model = nn.MLP(
        2, [4, 1], activation="tanh", output_activation="sigmoid" if name == "bce" else None, seed=1
    )
    twin = torch_twin(torch, model)
    targets = 2 * Y - 1 if name == "hinge" else Y
    ours_fn, torch_fn = _loss_pair(torch, name)
    loss = ours_fn([model(x) for x in X.tolist()], targets)
    loss.backward()
    tl = torch_fn(twin(torch.tensor(X)), torch.tensor(targets, dtype=torch.float64))
    tl.backward()
    assert loss.data == pytest.approx(tl.item(), abs=TOL)
    for a, b in zip(our_grads(model).values(), torch_grads(twin)):
        assert np.allclose(a, b, rtol=0, atol=TOL)


def test_cross_entropy_matches_torch(torch):
    model = nn.MLP(2, [4, 3], activation="relu", seed=2)
    twin = torch_twin(torch, model)
    labels = np.array([0, 2, 1, 2])
    loss = nn.losses.cross_entropy([model(x) for x in X.tolist()], labels)
    loss.backward()
    tl = torch.nn.functional.cross_entropy(twin(torch.tensor(X)), torch.tensor(labels))
    tl.backward()
    assert loss.data == pytest.approx(tl.item(), abs=TOL)
    for a, b in zip(our_grads(model).values(), torch_grads(twin)):
        assert np.allclose(a, b, rtol=0, atol=TOL)


OPTIMIZERS = {
    "sgd": (dict(lr=0.5), dict(lr=0.5)),
    "sgd_momentum": (dict(lr=0.3, momentum=0.9), dict(lr=0.3, momentum=0.9)),
    "sgd_nesterov_wd": (
        dict(lr=0.3, momentum=0.9, nesterov=True, weight_decay=0.01),
        dict(lr=0.3, momentum=0.9, nesterov=True, weight_decay=0.01),
    ),
    "adam": (dict(lr=0.05), dict(lr=0.05)),
    "adam_wd_betas": (
        dict(lr=0.1, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05),
        dict(lr=0.1, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05),
    ),
}


@pytest.mark.parametrize("which", sorted(OPTIMIZERS))
def test_ten_optimizer_steps_match_torch(torch, which):
    ours_kw, torch_kw = OPTIMIZERS[which]
    model = nn.MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid", seed=0)
    twin = torch_twin(torch, model)
    cls, tcls = (
        (nn.Adam, torch.optim.Adam) if which.startswith("adam") else (nn.SGD, torch.optim.SGD)
    )
    opt = cls(model.parameters(), **ours_kw)
    topt = tcls(twin.parameters(), **torch_kw)
    xt, yt = torch.tensor(X), torch.tensor(Y, dtype=torch.float64)
    start = model.state_dict()["layers.0.weight"]
    for step in range(10):
        opt.zero_grad()
        loss = nn.losses.bce([model(x) for x in X.tolist()], Y)
        loss.backward()
        opt.step()
        topt.zero_grad()
        tl = torch.nn.functional.binary_cross_entropy(twin(xt).reshape(-1), yt)
        tl.backward()
        topt.step()
        assert loss.data == pytest.approx(tl.item(), abs=TOL), f"loss at step {step}"
        ours = list(model.state_dict().values())
        theirs = [p.detach().numpy() for p in twin.parameters()]
        for a, b in zip(ours, theirs, strict=True):
            assert np.allclose(a, b, rtol=0, atol=TOL), f"parameters after step {step}"
    # The run moved the weights: the comparison was not of two idle models.
    assert np.abs(model.state_dict()["layers.0.weight"] - start).max() > 1e-3
