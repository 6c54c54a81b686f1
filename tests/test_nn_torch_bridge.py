"""nn.to_torch / nn.from_torch against PyTorch itself: the converted model's outputs equal
``model.predict`` within 1e-12 on either engine, a round trip keeps every weight, and
anything an MLP cannot be is refused by name. Without torch: a one-line ImportError."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import nn

pytestmark = pytest.mark.oracle

X = np.random.default_rng(7).normal(size=(16, 3))
ARCHS = [
    dict(nouts=[3, 1], activation="sigmoid", output_activation="sigmoid"),  # the XOR MLP
    dict(nouts=[4, 4, 2], activation="tanh", output_activation=None),
    dict(nouts=[5, 5, 1], activation="relu", output_activation="tanh"),
    dict(nouts=[2], activation="tanh", output_activation="relu"),
    dict(nouts=[4, 3], activation=None, output_activation="sigmoid"),
]


def trained(arch: dict, engine: str) -> nn.MLP:
    """A model whose biases are not zero any more (fresh ones are), a few SGD steps in."""
    model = nn.MLP(3, seed=1, engine=engine, **arch)
    y = np.random.default_rng(2).uniform(size=(len(X), arch["nouts"][-1]))
    nn.fit(
        model,
        X,
        y,
        loss="mse",
        optimizer=nn.SGD(model.parameters(), lr=0.1),
        epochs=3,
        verbose=0,
        seed=0,
    )
    assert any(np.abs(v).sum() > 0 for k, v in model.state_dict().items() if "bias" in k)
    return model


@pytest.mark.parametrize("engine", ["value", "tensor"])
@pytest.mark.parametrize("arch", ARCHS)
def test_to_torch_computes_what_the_model_predicts(torch, arch, engine):
    model = trained(arch, engine)
    twin = nn.to_torch(model)
    assert type(twin) is torch.nn.Sequential
    linears = [m for m in twin if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == list(
        zip([3, *arch["nouts"]], arch["nouts"])
    )
    assert all(p.dtype == torch.float64 for p in twin.parameters())
    acts = {"tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid, "relu": torch.nn.ReLU}
    hidden = [arch["activation"]] * (len(arch["nouts"]) - 1)
    expected = []
    for act in [*hidden, arch["output_activation"]]:
        expected += [torch.nn.Linear] + ([acts[act]] if act else [])
    assert [type(m) for m in twin] == expected
    with torch.no_grad():
        theirs = twin(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(theirs, model.predict(X), rtol=0, atol=1e-12)


def test_to_torch_copies_the_weights(torch):
    model = nn.MLP(2, [3, 1], seed=0)
    twin = nn.to_torch(model)
    with torch.no_grad():
        twin[0].weight.add_(1.0)
    assert np.array_equal(
        model.state_dict()["layers.0.weight"],
        nn.MLP(2, [3, 1], seed=0).state_dict()["layers.0.weight"],
    )


@pytest.mark.parametrize("engine", ["value", "tensor"])
@pytest.mark.parametrize("arch", ARCHS)
def test_round_trip_keeps_the_model(torch, arch, engine):
    model = trained(arch, engine)
    back = nn.from_torch(nn.to_torch(model), engine=engine)
    assert (back.nin, back.nouts, back.output_activation, back.engine) == (
        3,
        arch["nouts"],
        arch["output_activation"],
        engine,
    )
    if len(arch["nouts"]) > 1:
        assert back.activation == arch["activation"]
    ours, theirs = model.state_dict(), back.state_dict()
    assert ours.keys() == theirs.keys()
    assert all(np.array_equal(ours[k], theirs[k]) for k in ours)
    np.testing.assert_array_equal(back.predict(X), model.predict(X))


def test_from_torch_reads_a_model_built_in_torch(torch):
    torch.manual_seed(0)
    module = torch.nn.Sequential(
        torch.nn.Linear(3, 8),
        torch.nn.ReLU(),
        torch.nn.Linear(8, 8),
        torch.nn.ReLU(),
        torch.nn.Linear(8, 1),
        torch.nn.Sigmoid(),
    ).double()
    model = nn.from_torch(module)
    assert (model.nouts, model.activation, model.output_activation) == (
        [8, 8, 1],
        "relu",
        "sigmoid",
    )
    with torch.no_grad():
        theirs = module(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(model.predict(X), theirs, rtol=0, atol=1e-12)


def test_from_torch_widens_float32_and_fills_a_missing_bias(torch):
    module = torch.nn.Sequential(torch.nn.Linear(3, 2, bias=False), torch.nn.Tanh())
    model = nn.from_torch(module)
    state = model.state_dict()
    assert np.array_equal(state["layers.0.bias"], np.zeros(2))
    assert np.array_equal(state["layers.0.weight"], module[0].weight.detach().double().numpy())


@pytest.mark.parametrize(
    "build, message",
    [
        (
            lambda t: t.nn.Sequential(t.nn.Linear(2, 3), t.nn.Dropout(), t.nn.Linear(3, 1)),
            "cannot convert Dropout at position 1: only Linear, Tanh, Sigmoid and ReLU",
        ),
        (lambda t: t.nn.Sequential(t.nn.Linear(2, 3), t.nn.GELU()), "cannot convert GELU"),
        (lambda t: t.nn.Sequential(t.nn.Conv1d(1, 1, 1)), "cannot convert Conv1d at position 0"),
        (
            lambda t: t.nn.Sequential(t.nn.Sequential(t.nn.Linear(2, 1))),
            "cannot convert Sequential",
        ),
        (
            lambda t: t.nn.Sequential(t.nn.Tanh(), t.nn.Linear(2, 1)),
            "Tanh at position 0: before any Linear",
        ),
        (
            lambda t: t.nn.Sequential(t.nn.Linear(2, 1), t.nn.Tanh(), t.nn.ReLU()),
            "ReLU at position 2: right after another activation",
        ),
        (
            lambda t: t.nn.Sequential(
                t.nn.Linear(2, 3), t.nn.Tanh(), t.nn.Linear(3, 3), t.nn.ReLU(), t.nn.Linear(3, 1)
            ),
            "the hidden activations differ (Tanh after Linear 0, ReLU after Linear 1)",
        ),
        (
            lambda t: t.nn.Sequential(
                t.nn.Linear(2, 3), t.nn.Tanh(), t.nn.Linear(3, 3), t.nn.Linear(3, 1)
            ),
            "the hidden activations differ (Tanh after Linear 0, no activation after Linear 1)",
        ),
        (
            lambda t: t.nn.Sequential(t.nn.Linear(2, 3), t.nn.Linear(4, 1)),
            "Linear at position 1 takes 4 inputs but the layer before it gives 3",
        ),
        (lambda t: t.nn.Sequential(), "has no Linear layer"),
        (
            lambda t: t.nn.Linear(2, 1),
            "takes a torch.nn.Sequential of Linear layers and Tanh, Sigmoid or ReLU, got a Linear",
        ),
    ],
)
def test_from_torch_refuses_what_an_mlp_cannot_be(torch, build, message):
    with pytest.raises(ValueError) as info:
        nn.from_torch(build(torch))
    assert message in str(info.value)


def test_wrong_types_are_type_errors(torch):
    with pytest.raises(TypeError, match="takes an nn.MLP, got Layer"):
        nn.to_torch(nn.Layer(2, 1))
    with pytest.raises(TypeError, match="takes a torch.nn.Sequential, got list"):
        nn.from_torch([1, 2])


def test_the_xor_model_carries_to_torch_and_trains_there(torch):
    """The README's story: train XOR here (the demo's recipe), continue in PyTorch, bring
    it back."""
    from tracegrad.cli import xor_recipe

    X, y = nn.datasets.xor()
    model, _ = xor_recipe(seed=0)
    twin = nn.to_torch(model)
    inputs, targets = torch.from_numpy(X), torch.tensor(y, dtype=torch.float64).reshape(-1, 1)
    bce = torch.nn.functional.binary_cross_entropy
    before = bce(twin(inputs), targets).item()
    assert before == pytest.approx(
        nn.evaluate(model, X, y, loss="binary_crossentropy")["loss"], abs=1e-12
    )
    opt = torch.optim.SGD(twin.parameters(), lr=0.5)
    for _ in range(500):
        opt.zero_grad()
        bce(twin(inputs), targets).backward()
        opt.step()
    back = nn.from_torch(twin)
    after = nn.evaluate(back, X, y, loss="binary_crossentropy")["loss"]
    assert after < before
    with torch.no_grad():
        np.testing.assert_allclose(back.predict(X), twin(inputs).numpy(), rtol=0, atol=1e-12)


def test_without_torch_the_error_says_how_to_get_it():
    # torch blocked in a fresh interpreter (None in sys.modules makes its import fail), so
    # this runs where torch is installed too; nn itself must import without it.
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "import nn\n"
        "for call in (lambda: nn.to_torch(nn.MLP(2, [1])), lambda: nn.from_torch(None)):\n"
        "    try:\n"
        "        call()\n"
        "    except ImportError as err:\n"
        "        print(err)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == [
        "nn.to_torch needs PyTorch: pip install torch",
        "nn.from_torch needs PyTorch: pip install torch",
    ]


def test_import_nn_does_not_import_torch():
    code = "import sys, nn; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
