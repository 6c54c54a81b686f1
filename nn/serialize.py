"""`save` and `load`: a model's configuration and weights as JSON or .npz, never pickle.

Both formats hold the same two things: the configuration (``{"class": "MLP", "nin": 2, ...}``)
and the state dict (``"layers.0.weight"`` -> array, the same keys and shapes on both
engines: a state saved from a value model loads into a tensor model and back). JSON stores
``{"format": "tracegrad.nn", "version": 1, "config": {...}, "state": {name: nested lists}}``;
.npz stores each array under its name plus the JSON text of the header under ``__config__``,
read back with ``allow_pickle=False``. Anything malformed or inconsistent raises ValueError
saying what is wrong: JSON is read strictly (no NaN or Infinity literals, which are not JSON;
no nulls or booleans as weights), and a config must describe exactly as many parameters as
the file's state holds before any model is built (so a doctored config cannot make us
allocate a huge model). Weights that are not finite can only be saved as .npz.
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib

import numpy as np

from .module import MLP, Layer, Module, Neuron, TensorLayer

FORMAT, VERSION = "tracegrad.nn", 1
_CLASSES = {"MLP": MLP, "Layer": Layer, "Neuron": Neuron, "TensorLayer": TensorLayer}


def _suffix(path) -> str:
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix not in (".json", ".npz"):
        raise ValueError(f"unsupported model file suffix {suffix!r} in {path}: use .json or .npz")
    return suffix


def save(model: Module, path: str | os.PathLike) -> None:
    """Write ``model`` to exactly ``path``: JSON for ``.json``, numpy's format for ``.npz``.

    >>> import nn, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "xor.json")
    >>> nn.save(nn.MLP(2, [3, 1], seed=0), path)
    >>> nn.load(path).num_parameters()
    13
    """
    suffix = _suffix(path)
    if not hasattr(model, "_config"):
        raise ValueError(
            f"cannot save a {type(model).__name__}: only Neuron, Layer, TensorLayer and MLP"
        )
    header = {"format": FORMAT, "version": VERSION, "config": model._config()}
    state = model.state_dict()
    if suffix == ".json":
        for name, array in state.items():
            if not np.isfinite(array).all():
                raise ValueError(
                    f"cannot save {name} as JSON: it holds nan or inf, which JSON cannot "
                    "represent; save to .npz instead"
                )
        header["state"] = {k: v.tolist() for k, v in state.items()}
        with open(path, "w", encoding="utf-8") as f:
            json.dump(header, f, allow_nan=False)
    else:
        if "__config__" in state:
            raise ValueError("a parameter may not be named __config__")
        with open(path, "wb") as f:  # a file object: numpy would otherwise append .npz
            np.savez(f, __config__=np.array(json.dumps(header)), **state)


def _sizes(config: dict) -> list[int]:
    """The layer widths a config describes, input first (checked to be positive ints)."""
    cls = config["class"]
    if cls == "MLP":
        nouts = config.get("nouts")
        if not isinstance(nouts, list) or not nouts:
            raise ValueError(f"nouts must be a non-empty list of ints, got {nouts!r}")
        sizes = [config.get("nin"), *nouts]
    elif cls == "Neuron":
        sizes = [config.get("nin"), 1]
    else:
        sizes = [config.get("nin"), config.get("nout")]
    for n in sizes:
        if n.__class__ is not int or n < 1:
            raise ValueError(f"layer sizes must be positive ints, got {n!r}")
    return sizes


def _check_state_arrays(state: dict, path) -> int:
    """Every entry numeric (ints or floats, no bools, nulls or strings); the total count."""
    total = 0
    for name, value in state.items():
        try:
            array = np.asarray(value)
        except (TypeError, ValueError) as exc:  # ragged nested lists
            raise ValueError(f"{path}: state entry {name!r} is not an array: {exc}") from None
        if array.dtype.kind not in "iuf":
            raise ValueError(
                f"{path}: state entry {name!r} must hold numbers, got {array.dtype} values"
            )
        total += array.size
    return total


def _build(header, path, state) -> Module:
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError(f"{path} is not a tracegrad model file (no format {FORMAT!r})")
    if header.get("version") != VERSION:
        raise ValueError(f"{path} has unsupported version {header.get('version')!r}")
    config = header.get("config")
    if not isinstance(config, dict) or config.get("class") not in _CLASSES:
        raise ValueError(f"{path} has a missing or unknown model class in its config")
    if not isinstance(state, dict):
        raise ValueError(f"{path} has no 'state' object")
    stored = _check_state_arrays(state, path)
    try:
        sizes = _sizes(config)
    except ValueError as exc:
        raise ValueError(f"{path} has an invalid model config: {exc}") from None
    described = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    if described != stored:
        raise ValueError(
            f"{path}: the config describes {described:,} parameters but the state holds "
            f"{stored:,} numbers"
        )
    kwargs = {k: v for k, v in config.items() if k != "class"}
    try:
        return _CLASSES[config["class"]](**kwargs)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path} has an invalid model config: {exc}") from None


def _not_json(constant: str):
    raise ValueError(f"{constant} is not a JSON number")


def load(path: str | os.PathLike) -> Module:
    """Read a model written by `save` (format chosen by the suffix).

    >>> nn.load("missing.txt")  # doctest: +SKIP
    ValueError: unsupported model file suffix '.txt' in missing.txt: use .json or .npz
    """
    suffix = _suffix(path)
    if suffix == ".json":
        try:
            with open(path, encoding="utf-8") as f:
                header = json.load(f, parse_constant=_not_json)
        except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as exc:
            raise ValueError(f"{path} is not valid JSON: {exc}") from None
        state = header.get("state") if isinstance(header, dict) else None
        model = _build(header, path, state)
    else:
        try:
            data = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            raise
        except (zipfile.BadZipFile, zlib.error, ValueError, OSError, EOFError) as exc:
            raise ValueError(f"{path} is not a readable .npz file: {exc}") from None
        if not hasattr(data, "files"):
            raise ValueError(f"{path} holds a single array, not an .npz archive")
        try:
            with data:
                arrays = {k: data[k] for k in data.files}
        except (zipfile.BadZipFile, zlib.error, ValueError, OSError, EOFError) as exc:
            # Object arrays land here: they would need unpickling, which we never do.
            raise ValueError(f"{path} has an unreadable entry: {exc}") from None
        text = arrays.pop("__config__", None)
        if text is None or text.shape != () or text.dtype.kind != "U":
            raise ValueError(f"{path} has no __config__ entry")
        try:
            header = json.loads(str(text))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path} has a malformed __config__: {exc}") from None
        state = arrays
        model = _build(header, path, state)
    try:
        model.load_state_dict(state)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    return model
