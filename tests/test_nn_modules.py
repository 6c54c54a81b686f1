"""nn modules: forward maths, seeded initialisation, parameters, summary, state and save/load."""

from __future__ import annotations

import contextlib
import json
import math
import tracemalloc
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
from autograd import Value

ACTS = {
    "tanh": np.tanh,
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "relu": lambda z: np.maximum(z, 0.0),
    None: lambda z: z,
}


def numpy_forward(model: nn.MLP, x: np.ndarray) -> np.ndarray:
    """The MLP's function written independently with numpy from its state dict."""
    state = model.state_dict()
    for i, layer in enumerate(model.layers):
        x = ACTS[layer.activation](state[f"layers.{i}.weight"] @ x + state[f"layers.{i}.bias"])
    return x


@pytest.mark.parametrize("act", ["tanh", "sigmoid", "relu", None])
def test_mlp_forward_matches_numpy(act):
    model = nn.MLP(3, [4, 2], activation=act, output_activation=act, seed=1)
    # Non-zero biases, so a bias that is ignored or misplaced shows.
    state = model.state_dict()
    state["layers.0.bias"] = np.array([0.1, -0.2, 0.3, -0.4])
    state["layers.1.bias"] = np.array([0.5, -0.6])
    model.load_state_dict(state)
    x = np.array([0.7, -1.3, 2.0])
    out = model(x.tolist())
    assert [v.data for v in out] == pytest.approx(numpy_forward(model, x).tolist(), abs=1e-12)


def test_neuron_and_layer_outputs():
    n = nn.Neuron(2, activation=None, seed=0)
    w = n.state_dict()["weight"]
    assert n([2.0, 3.0]).data == pytest.approx(2.0 * w[0] + 3.0 * w[1])
    layer = nn.Layer(2, 3, activation="tanh", seed=0)
    out = layer([1.0, -1.0])
    assert isinstance(out, list) and len(out) == 3
    single = nn.Layer(2, 1, seed=0)([1.0, -1.0])
    assert isinstance(single, Value)  # micrograd's convention for one unit
    assert isinstance(nn.MLP(2, [3, 1], seed=0)([1.0, 0.0]), Value)
    assert len(nn.MLP(2, [3, 2], seed=0)([1.0, 0.0])) == 2


def test_inputs_may_be_values_and_gradients_reach_them():
    model = nn.MLP(2, [3, 1], seed=0)
    x = [Value(0.5), Value(-0.25)]
    model(x).backward()
    assert any(xi.grad != 0.0 for xi in x)
    assert any(p.grad != 0.0 for p in model.parameters())


def test_wrong_input_length_raises():
    with pytest.raises(ValueError, match="expects 2 inputs, got 3"):
        nn.MLP(2, [3, 1], seed=0)([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="expects 2 inputs"):
        nn.Neuron(2)([1.0])


def test_parameter_counts_and_order():
    model = nn.MLP(784, [10, 10], seed=0)
    assert model.num_parameters() == 784 * 10 + 10 + 10 * 10 + 10 == 7960
    params = model.parameters()
    assert len(params) == len({id(p) for p in params}) == 7960
    # Order: layer by layer, neuron by neuron, weights then bias.
    first = model.layers[0].neurons[0]
    assert params[:785] == [*first.w, first.b]
    assert nn.Neuron(5).num_parameters() == 6
    assert nn.Layer(3, 4).num_parameters() == 16


def test_summary_table():
    text = nn.MLP(784, [10, 10], seed=0).summary()
    lines = text.splitlines()
    assert lines[0].split() == ["Layer", "Output", "shape", "Params"]
    assert "7,850" in lines[2] and "(10,)" in lines[2] and "tanh" in lines[2]
    assert "110" in lines[3] and "linear" in lines[3]
    assert lines[-1] == "Total params: 7,960"
    assert repr(text) == text  # shows as a table at a prompt, not as an escaped string


def test_labels_name_every_weight():
    model = nn.MLP(2, [3, 1], seed=0)
    assert model.layers[1].neurons[0].w[2].label == "w1.0.2"
    assert model.layers[0].neurons[1].b.label == "b0.1"


# --- initialisation ---------------------------------------------------------------------


def test_seed_reproduces_and_varies():
    a = nn.MLP(3, [5, 2], seed=7).state_dict()
    b = nn.MLP(3, [5, 2], seed=7).state_dict()
    c = nn.MLP(3, [5, 2], seed=8).state_dict()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["layers.0.weight"], c["layers.0.weight"])


@pytest.mark.parametrize(
    "init, limit",
    [
        ("glorot_uniform", lambda fi, fo: math.sqrt(6 / (fi + fo))),
        ("he_uniform", lambda fi, fo: math.sqrt(6 / fi)),
        ("uniform", lambda fi, fo: 1.0),
    ],
)
def test_documented_draw_order(init, limit):
    """Layers in order from one generator, each an (nout, nin) uniform matrix; zero biases."""
    model = nn.MLP(3, [4, 2], seed=11, init=init)
    rng = np.random.default_rng(11)
    state = model.state_dict()
    for i, (fi, fo) in enumerate([(3, 4), (4, 2)]):
        lim = limit(fi, fo)
        expected = rng.uniform(-lim, lim, size=(fo, fi))
        assert np.array_equal(state[f"layers.{i}.weight"], expected)
        assert np.array_equal(state[f"layers.{i}.bias"], np.zeros(fo))


def test_glorot_fills_its_range():
    w = nn.Layer(784, 10, seed=0).state_dict()["weight"]
    limit = math.sqrt(6 / (784 + 10))
    assert np.abs(w).max() <= limit
    assert np.abs(w).max() > 0.99 * limit  # 7,840 uniform draws reach the edge
    assert abs(w.mean()) < 0.05 * limit


def test_neuron_init_uses_fan_out_one():
    n = nn.Neuron(4, seed=3)
    lim = math.sqrt(6 / 5)
    assert np.array_equal(n.state_dict()["weight"], np.random.default_rng(3).uniform(-lim, lim, 4))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(nin=2, nouts=[3, 1], activation="softmax"), "unknown activation"),
        (dict(nin=2, nouts=[3, 1], output_activation="gelu"), "unknown activation"),
        (dict(nin=2, nouts=[3, 1], engine="jax"), "unknown engine 'jax'"),
        (dict(nin=2, nouts=[3, 1], init="xavier"), "unknown init 'xavier'"),
        (dict(nin=0, nouts=[3, 1]), "nin must be a positive integer"),
        (dict(nin=2, nouts=[]), "non-empty list"),
        (dict(nin=2, nouts=3), "non-empty list"),
        (dict(nin=2, nouts=[3, 0]), "layer size must be a positive integer"),
        (dict(nin=2.5, nouts=[3]), "nin must be a positive integer"),
    ],
)
def test_bad_constructor_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        nn.MLP(**kwargs)


def test_tensor_engine_builds_tensor_layers():
    model = nn.MLP(2, [3, 1], engine="tensor")
    assert [type(layer) for layer in model.layers] == [nn.TensorLayer, nn.TensorLayer]


# --- gradients, state -------------------------------------------------------------------


def test_zero_grad_resets_every_parameter():
    model = nn.MLP(2, [3, 1], seed=0)
    (model([1.0, 2.0]) * 3.0).backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_state_dict_layout_and_round_trip():
    src = nn.MLP(2, [3, 1], seed=0)
    state = src.state_dict()
    assert {k: v.shape for k, v in state.items()} == {
        "layers.0.weight": (3, 2),
        "layers.0.bias": (3,),
        "layers.1.weight": (1, 3),
        "layers.1.bias": (1,),
    }
    # PyTorch's layout: row i of a weight is neuron i's weights.
    assert state["layers.0.weight"][1].tolist() == [w.data for w in src.layers[0].neurons[1].w]
    dst = nn.MLP(2, [3, 1], seed=1)
    dst.load_state_dict(state)
    assert dst.predict([[0.3, 0.9]]).tolist() == src.predict([[0.3, 0.9]]).tolist()
    state["layers.0.weight"][0, 0] = 123.0  # a copy: editing it leaves the model alone
    assert src.layers[0].neurons[0].w[0].data != 123.0


def test_load_state_dict_rejects_mismatches_and_changes_nothing():
    model = nn.MLP(2, [3, 1], seed=0)
    before = model.state_dict()
    bad_shape = dict(before, **{"layers.1.weight": np.zeros((3, 1))})
    with pytest.raises(ValueError, match=r"layers.1.weight.*shape \(3, 1\).*\(1, 3\)"):
        model.load_state_dict(bad_shape)
    missing = {k: v for k, v in before.items() if k != "layers.0.bias"}
    with pytest.raises(ValueError, match=r"missing \['layers.0.bias'\]"):
        model.load_state_dict(missing)
    with pytest.raises(ValueError, match=r"unexpected \['extra'\]"):
        model.load_state_dict(dict(before, extra=np.zeros(1)))
    with pytest.raises(ValueError, match="not numeric"):
        model.load_state_dict(dict(before, **{"layers.0.bias": ["a", "b", "c"]}))
    after = model.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)


def test_custom_module_gets_the_generic_machinery():
    class Affine(nn.Module):
        def __init__(self):
            self.a, self.b = Value(2.0), Value(1.0)

        def __call__(self, x):
            return self.a * x[0] + self.b

        def parameters(self):
            return [self.a, self.b]

    m = Affine()
    assert m.num_parameters() == 2
    assert set(m.state_dict()) == {"0", "1"}
    m.load_state_dict({"0": np.array(3.0), "1": np.array(0.5)})
    assert m.predict([[2.0]]).tolist() == [[6.5]]
    assert "Total params: 2" in m.summary()


def test_predict_shape_and_values():
    model = nn.MLP(2, [4, 3], seed=0)
    X = np.array([[0.0, 1.0], [2.0, -1.0]])
    out = model.predict(X)
    assert out.shape == (2, 3) and out.dtype == np.float64
    assert out[1].tolist() == [v.data for v in model(X[1].tolist())]
    assert nn.MLP(2, [4, 1], seed=0).predict(X).shape == (2, 1)


# --- save / load ------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".json", ".npz"])
def test_save_load_round_trip(tmp_path, suffix):
    model = nn.MLP(2, [5, 3, 1], activation="relu", output_activation="sigmoid", seed=4)
    path = tmp_path / f"model{suffix}"
    nn.save(model, path)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # exactly the path given
    loaded = nn.load(path)
    assert isinstance(loaded, nn.MLP)
    assert (loaded.nouts, loaded.activation, loaded.output_activation) == (
        [5, 3, 1],
        "relu",
        "sigmoid",
    )
    X = np.random.default_rng(0).normal(size=(6, 2))
    assert np.array_equal(loaded.predict(X), model.predict(X))


@pytest.mark.parametrize("cls", ["Neuron", "Layer"])
def test_save_load_smaller_modules(tmp_path, cls):
    model = nn.Neuron(3, seed=0) if cls == "Neuron" else nn.Layer(3, 2, seed=0)
    nn.save(model, tmp_path / "m.json")
    loaded = nn.load(tmp_path / "m.json")
    assert type(loaded) is type(model)
    assert np.array_equal(loaded.predict([[1.0, 2.0, 3.0]]), model.predict([[1.0, 2.0, 3.0]]))


def test_load_rejects_malformed_json(tmp_path):
    path = tmp_path / "m.json"
    nn.save(nn.MLP(2, [3, 1], seed=0), path)
    good = json.loads(path.read_text())

    path.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        nn.load(path)
    path.write_text(json.dumps(dict(good, format="keras")))
    with pytest.raises(ValueError, match="not a tracegrad model file"):
        nn.load(path)
    path.write_text(json.dumps(dict(good, version=99)))
    with pytest.raises(ValueError, match="unsupported version 99"):
        nn.load(path)
    path.write_text(json.dumps(dict(good, config=dict(good["config"], **{"class": "os.system"}))))
    with pytest.raises(ValueError, match="unknown model class"):
        nn.load(path)
    path.write_text(json.dumps(dict(good, config=dict(good["config"], nouts=[3, 2]))))
    with pytest.raises(ValueError, match="config describes 17 parameters but the state holds 13"):
        nn.load(path)
    # Same count, other shapes: the state dict's own check names the entry.
    state = dict(good["state"], **{"layers.1.weight": [[0.0], [0.0], [0.0]]})
    path.write_text(json.dumps(dict(good, state=state)))
    with pytest.raises(ValueError, match=r"layers.1.weight.*\(3, 1\).*\(1, 3\)"):
        nn.load(path)
    path.write_text(json.dumps({k: v for k, v in good.items() if k != "state"}))
    with pytest.raises(ValueError, match="no 'state'"):
        nn.load(path)


@pytest.mark.parametrize(
    "text, match",
    [
        ("[null, null, null]", "'layers.0.bias' must hold numbers, got null"),
        ("[true, false, true]", "'layers.0.bias' must hold numbers, got true"),
        ("[0.5, false, 0.0]", "'layers.0.bias' must hold numbers, got false"),  # numpy: 0.0
        ("[NaN, 0.0, 0.0]", "NaN is not a JSON number"),
        ("[0.0, Infinity, 0.0]", "Infinity is not a JSON number"),
        ("[0.0, -Infinity, 0.0]", "-Infinity is not a JSON number"),
        ("[1e999, 0.0, 0.0]", "the number 1e999 is too large for a float"),  # else inf
        ("[0.0, -1e400, 0.0]", "the number -1e400 is too large for a float"),
        ("[0.0, 0.0, 1" + "0" * 400 + "]", "too large for a float"),  # a JSON int
        ('["0.5", 0.0, 0.0]', "must hold numbers, got the string"),
        ('[{"a": 1}, 0.0, 0.0]', "must hold numbers, got an object"),
        ("[[0.0], 0.0, 0.0]", "is not an array"),
        ("[" * 100_000 + "]" * 100_000, "more than 32 levels deep"),  # else RecursionError
    ],
)
def test_load_reads_json_weights_strictly(tmp_path, text, match):
    path = tmp_path / "m.json"
    nn.save(nn.MLP(2, [3, 1], seed=0), path)
    raw = path.read_text()
    bias = json.dumps(json.loads(raw)["state"]["layers.0.bias"])
    path.write_text(raw.replace(f'"layers.0.bias": {bias}', f'"layers.0.bias": {text}'))
    with pytest.raises(ValueError, match=match):
        nn.load(path)


def test_a_doctored_config_is_refused_before_any_model_is_built(tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    nn.save(nn.MLP(2, [3, 1], seed=0), path)
    header = json.loads(path.read_text())
    built = []
    monkeypatch.setattr(nn.MLP, "__init__", lambda self, *a, **k: built.append(a))
    for config, match in [
        (dict(header["config"], nin=10**6, nouts=[10**6]), "describes 1,000,001,000,000"),
        (dict(header["config"], nouts="31"), "nouts must be a non-empty list"),
        (dict(header["config"], nin=True), "positive ints, got True"),
        (dict(header["config"], nin=0), "positive ints, got 0"),
    ]:
        path.write_text(json.dumps(dict(header, config=config)))
        with pytest.raises(ValueError, match=match):
            nn.load(path)
    assert built == []


def test_non_finite_weights_save_as_npz_but_not_as_json(tmp_path):
    model = nn.MLP(2, [1], seed=0)
    model.parameters()[0].data = float("nan")  # a diverged run
    with pytest.raises(ValueError, match="layers.0.weight as JSON: it holds nan or inf"):
        nn.save(model, tmp_path / "m.json")
    assert not (tmp_path / "m.json").exists()
    nn.save(model, tmp_path / "m.npz")
    assert np.isnan(nn.load(tmp_path / "m.npz").state_dict()["layers.0.weight"][0, 0])


def test_a_corrupt_compressed_npz_entry_is_a_value_error(tmp_path):
    path = tmp_path / "m.npz"
    with open(path, "wb") as f:
        header = {"format": "tracegrad.nn", "version": 1}
        header["config"] = {"class": "Neuron", "nin": 2, "activation": None}
        np.savez_compressed(
            f, __config__=np.array(json.dumps(header)), weight=np.zeros(2), bias=np.zeros(())
        )
    data = bytearray(path.read_bytes())
    start = data.index(b"weight.npy") + len(b"weight.npy")  # the entry's compressed bytes
    data[start + 5 : start + 25] = b"\xff" * 20
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"m\.npz"):
        nn.load(path)


def test_load_rejects_malformed_npz_and_never_unpickles(tmp_path):
    path = tmp_path / "m.npz"
    path.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(ValueError, match="not a readable .npz archive"):
        nn.load(path)
    # An object array would need pickle: refused, never loaded.
    header = json.dumps(
        {
            "format": "tracegrad.nn",
            "version": 1,
            "config": {"class": "Neuron", "nin": 1, "activation": None},
        }
    )
    with open(path, "wb") as f:
        np.savez(
            f,
            __config__=np.array(header),
            weight=np.array([{"x": 1}], dtype=object),
            bias=np.array(0.0),
        )
    with pytest.raises(ValueError, match="'weight.npy' must hold numbers, got dtype object"):
        nn.load(path)
    with open(path, "wb") as f:
        np.savez(f, weight=np.zeros(1), bias=np.array(0.0))
    with pytest.raises(ValueError, match="no __config__"):
        nn.load(path)
    with open(path, "wb") as f:
        np.save(f, np.zeros(3))
    with pytest.raises(ValueError, match="single array"):
        nn.load(path)


def _npz_config(nin: int) -> str:
    header = {"format": "tracegrad.nn", "version": 1}
    header["config"] = {"class": "Neuron", "nin": nin, "activation": None}
    return json.dumps(header)


def _write_npz(path, entries: dict, compress=zipfile.ZIP_STORED) -> None:
    """An .npz built by hand: each entry a declared .npy header and whatever data we write
    (bytes, or a count of zero bytes written in chunks, so a huge entry costs no memory)."""
    with zipfile.ZipFile(path, "w", compression=compress) as archive:
        for name, (header, data) in entries.items():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array_header_1_0(member, header)
                if isinstance(data, int):
                    chunk = bytes(1 << 20)
                    for start in range(0, data, len(chunk)):
                        member.write(chunk[: data - start])
                else:
                    member.write(data)


def _f8(shape) -> dict:
    return {"descr": "<f8", "fortran_order": False, "shape": shape}


def _config_entry(nin: int) -> tuple:
    text = np.array(_npz_config(nin))
    return {"descr": text.dtype.str, "fortran_order": False, "shape": ()}, text.tobytes()


@contextlib.contextmanager
def _allocations_under(limit: int):
    """Fails if the block's peak of traced allocations (numpy's arrays are traced) reaches
    ``limit`` bytes: a count of bytes, not a time."""
    tracemalloc.start()
    try:
        yield
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < limit, f"load allocated {peak:,} bytes at its peak"


def test_an_npz_header_declaring_10_12_numbers_is_a_value_error_not_an_allocation(tmp_path):
    path = tmp_path / "m.npz"
    _write_npz(path, {"__config__": _config_entry(1), "weight": (_f8((10**12,)), bytes(8)),
                      "bias": (_f8(()), bytes(8))})  # fmt: skip
    with _allocations_under(10 * 2**20):
        with pytest.raises(ValueError, match=r"'weight.npy' declares shape "
                           r"\(1000000000000,\) of float64 \(8,000,000,000,000 bytes\) but "
                           r"holds 8 bytes"):  # fmt: skip
            nn.load(path)


def test_a_small_compressed_npz_cannot_make_load_allocate_much(tmp_path):
    """An honest entry of 64 MB of zeros deflates to about 64 KB: its declared size is
    refused from the header, before a byte of it is decompressed."""
    path = tmp_path / "m.npz"
    n = 8 * 2**20  # 64 MB of float64 zeros
    config = _config_entry(n - 1)
    _write_npz(path, {"__config__": config, "weight": (_f8((n - 1,)), 8 * (n - 1)),
                      "bias": (_f8(()), 8)}, compress=zipfile.ZIP_DEFLATED)  # fmt: skip
    size, declared = path.stat().st_size, 8 * n + len(config[1])
    assert size < 2**20  # the file is small
    with _allocations_under(8 * 2**20):
        with pytest.raises(ValueError, match=rf"declare {declared:,} bytes of arrays, more "
                           rf"than a {size:,}-byte .npz may hold"):  # fmt: skip
            nn.load(path)


@pytest.mark.parametrize("order", ["C", "F"])  # F: numpy writes fortran_order=True headers
def test_a_compressed_npz_written_by_numpy_still_loads(tmp_path, order):
    model = nn.MLP(3, [4, 2], seed=0)
    path = tmp_path / "m.npz"
    state = {k: np.asarray(v, order=order) for k, v in model.state_dict().items()}
    with open(path, "wb") as f:
        np.savez_compressed(f, __config__=np.array(json.dumps(
            {"format": "tracegrad.nn", "version": 1, "config": model._config()})),
            **state)  # fmt: skip
    X = np.random.default_rng(0).normal(size=(3, 3))
    assert np.array_equal(nn.load(path).predict(X), model.predict(X))


@pytest.mark.parametrize(
    "entries, message",
    [
        ({"weight": (_f8((2,)), bytes(16)), "bias": (_f8(()), bytes(8))}, "no __config__"),
        (
            {"__config__": _config_entry(2), "weight": (_f8((2,)), bytes(8)),
             "bias": (_f8(()), bytes(8))},
            r"'weight.npy' declares shape \(2,\) of float64 \(16 bytes\) but holds 8 bytes",
        ),
        (
            {"__config__": _config_entry(2), "weight": (_f8((2,)), bytes(24)),
             "bias": (_f8(()), bytes(8))},
            r"'weight.npy' holds other than the 16 bytes it declares",
        ),
        (
            {"__config__": _config_entry(2),
             "weight": ({"descr": "<c16", "fortran_order": False, "shape": (2,)}, bytes(32)),
             "bias": (_f8(()), bytes(8))},
            r"'weight.npy' must hold numbers, got dtype complex128",
        ),
        (
            {"__config__": (_f8(()), bytes(8)), "weight": (_f8((2,)), bytes(16)),
             "bias": (_f8(()), bytes(8))},
            r"'__config__.npy' is not the JSON text of a model's config",
        ),
        (
            {"__config__": _config_entry(3), "weight": (_f8((2,)), bytes(16)),
             "bias": (_f8(()), bytes(8))},
            "the config describes 4 parameters but the state holds 3 numbers",
        ),
    ],
)  # fmt: skip
def test_load_checks_each_npz_entry_from_its_header(tmp_path, entries, message):
    path = tmp_path / "m.npz"
    _write_npz(path, entries)
    with pytest.raises(ValueError, match=message):
        nn.load(path)


def test_an_npz_built_by_hand_with_honest_headers_loads(tmp_path):
    """The hand-built files above fail for their flaw alone: the same builder with honest
    headers and data gives a model."""
    path = tmp_path / "m.npz"
    weight, bias = np.array([0.5, -2.0]), np.array(0.25)
    _write_npz(path, {"__config__": _config_entry(2), "weight": (_f8((2,)), weight.tobytes()),
                      "bias": (_f8(()), bias.tobytes())})  # fmt: skip
    assert nn.load(path).predict([[1.0, 1.0]]).item() == 0.5 - 2.0 + 0.25


@pytest.mark.parametrize("text", ["weight,bias\n0.5,0.1\n", "", "\x93NUMPY"])
def test_a_file_that_is_no_zip_is_said_to_be_no_npz_archive(tmp_path, text):
    path = tmp_path / "m.npz"
    path.write_text(text)
    with pytest.raises(ValueError, match=r"m\.npz is not a readable \.npz archive") as info:
        nn.load(path)
    assert "pickl" not in str(info.value)


def test_brackets_inside_json_strings_do_not_count_as_nesting(tmp_path):
    path = tmp_path / "m.json"
    nn.save(nn.MLP(2, [3, 1], seed=0), path)
    header = json.loads(path.read_text())
    header["config"]["activation"] = "[" * 1000
    path.write_text(json.dumps(header))
    with pytest.raises(ValueError, match="unknown activation"):  # not "levels deep"
        nn.load(path)


def test_save_load_bad_suffix(tmp_path):
    with pytest.raises(ValueError, match=r"suffix '.pkl'.*\.json or \.npz"):
        nn.save(nn.MLP(2, [1], seed=0), tmp_path / "m.pkl")
    with pytest.raises(ValueError, match="suffix"):
        nn.load(tmp_path / "m.txt")


@settings(max_examples=25)
@given(
    nin=st.integers(1, 4),
    nouts=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    act=st.sampled_from(["tanh", "sigmoid", "relu", None]),
    seed=st.integers(0, 2**32 - 1),
    suffix=st.sampled_from([".json", ".npz"]),
)
def test_save_load_round_trip_property(tmp_path_factory, nin, nouts, act, seed, suffix):
    """Any architecture survives save/load bit for bit (JSON floats round-trip exactly)."""
    model = nn.MLP(nin, nouts, activation=act, output_activation=act, seed=seed)
    path = tmp_path_factory.mktemp("m") / f"model{suffix}"
    nn.save(model, path)
    loaded = nn.load(path)
    X = np.random.default_rng(seed).normal(size=(3, nin))
    assert np.array_equal(loaded.predict(X), model.predict(X))
    assert loaded.summary() == model.summary()
