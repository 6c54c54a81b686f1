"""`save` and `load`: a model's configuration and weights as JSON or .npz, never pickle.

Both formats hold the same two things: the configuration (``{"class": "MLP", "nin": 2, ...}``)
and the state dict (``"layers.0.weight"`` -> array, the same keys and shapes on both
engines: a state saved from a value model loads into a tensor model and back). JSON stores
``{"format": "tracegrad.nn", "version": 1, "config": {...}, "state": {name: nested lists}}``;
.npz stores each array under its name plus the JSON text of the header under ``__config__``,
read back with ``allow_pickle=False``. Anything malformed or inconsistent raises ValueError
saying what is wrong.
"""

from __future__ import annotations

import json
import os
import zipfile

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
        header["state"] = {k: v.tolist() for k, v in state.items()}
        with open(path, "w", encoding="utf-8") as f:
            json.dump(header, f)
    else:
        if "__config__" in state:
            raise ValueError("a parameter may not be named __config__")
        with open(path, "wb") as f:  # a file object: numpy would otherwise append .npz
            np.savez(f, __config__=np.array(json.dumps(header)), **state)


def _build(header, path) -> Module:
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError(f"{path} is not a tracegrad model file (no format {FORMAT!r})")
    if header.get("version") != VERSION:
        raise ValueError(f"{path} has unsupported version {header.get('version')!r}")
    config = header.get("config")
    if not isinstance(config, dict) or config.get("class") not in _CLASSES:
        raise ValueError(f"{path} has a missing or unknown model class in its config")
    kwargs = {k: v for k, v in config.items() if k != "class"}
    try:
        return _CLASSES[config["class"]](**kwargs)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path} has an invalid model config: {exc}") from None


def load(path: str | os.PathLike) -> Module:
    """Read a model written by `save` (format chosen by the suffix).

    >>> nn.load("missing.txt")  # doctest: +SKIP
    ValueError: unsupported model file suffix '.txt' in missing.txt: use .json or .npz
    """
    suffix = _suffix(path)
    if suffix == ".json":
        try:
            with open(path, encoding="utf-8") as f:
                header = json.load(f)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path} is not valid JSON: {exc}") from None
        model = _build(header, path)
        state = header.get("state")
        if not isinstance(state, dict):
            raise ValueError(f"{path} has no 'state' object")
    else:
        try:
            data = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            raise
        except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
            raise ValueError(f"{path} is not a readable .npz file: {exc}") from None
        if not hasattr(data, "files"):
            raise ValueError(f"{path} holds a single array, not an .npz archive")
        try:
            with data:
                arrays = {k: data[k] for k in data.files}
        except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
            # Object arrays land here: they would need unpickling, which we never do.
            raise ValueError(f"{path} has an unreadable entry: {exc}") from None
        text = arrays.pop("__config__", None)
        if text is None or text.shape != () or text.dtype.kind != "U":
            raise ValueError(f"{path} has no __config__ entry")
        try:
            header = json.loads(str(text))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path} has a malformed __config__: {exc}") from None
        model = _build(header, path)
        state = arrays
    try:
        model.load_state_dict(state)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    return model
