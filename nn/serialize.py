"""`save` and `load`: a model's configuration and weights as JSON or .npz, never pickle.

Both formats hold the same two things: the configuration (``{"class": "MLP", "nin": 2, ...}``)
and the state dict (``"layers.0.weight"`` -> array, the same keys and shapes on both
engines: a state saved from a value model loads into a tensor model and back). JSON stores
``{"format": "tracegrad.nn", "version": 1, "config": {...}, "state": {name: nested lists}}``;
.npz stores each array under its name plus the JSON text of the header under ``__config__``,
read back entry by entry: every entry's .npy header (shape, dtype) is checked before any
entry's data is read or decompressed, so a small file cannot make us allocate gigabytes, and
an object array (which would need unpickling) is refused from its header. Anything malformed
or inconsistent raises ValueError saying what is wrong: JSON is read strictly (no NaN or
Infinity literals, which are not JSON; no number a float cannot hold, such as 1e999; no
nulls, booleans or strings as weights; no nesting deeper than any model file's), and a
config must describe exactly as many parameters as the file's state holds before any model
is built (so a doctored config cannot make us allocate a huge model). Weights that are not
finite can only be saved as .npz.
"""

from __future__ import annotations

import json
import math
import os
import re
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


_LARGEST_FLOAT = int(np.finfo(np.float64).max)  # a JSON int beyond it is no weight


def _check_json_state(state: dict, path) -> int:
    """Every JSON state entry a (nested) list of plain numbers, each a float can hold; the
    total count. ``true``/``false`` (which numpy would read as 1.0/0.0 among numbers), null
    and strings are refused, naming the entry."""
    total = 0
    for name, value in state.items():
        stack = [value]
        while stack:  # iterative: nesting is bounded by _check_depth, but never recurse
            x = stack.pop()
            if x.__class__ is list:
                stack.extend(x)
            elif x.__class__ is int:  # JSON has no int limit; a weight must fit a float
                if abs(x) > _LARGEST_FLOAT:
                    raise ValueError(
                        f"{path}: state entry {name!r} holds {_short(x)}, too large for a float"
                    )
            elif x.__class__ is not float:  # floats are finite: _strict_float saw them
                raise ValueError(
                    f"{path}: state entry {name!r} must hold numbers, got {_json_name(x)}"
                )
        try:
            array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as exc:  # ragged nested lists
            raise ValueError(f"{path}: state entry {name!r} is not an array: {exc}") from None
        total += array.size
    return total


def _json_name(x) -> str:
    """A JSON value as JSON spells it, for messages."""
    if x is None or isinstance(x, bool):
        return json.dumps(x)
    if isinstance(x, str):
        return f"the string {_short(json.dumps(x))}"
    return f"an object {_short(json.dumps(x))}" if isinstance(x, dict) else _short(x)


def _short(x) -> str:
    text = x if isinstance(x, str) else repr(x)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_header(header, path) -> None:
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError(f"{path} is not a tracegrad model file (no format {FORMAT!r})")
    if header.get("version") != VERSION:
        raise ValueError(f"{path} has unsupported version {header.get('version')!r}")
    config = header.get("config")
    if not isinstance(config, dict) or config.get("class") not in _CLASSES:
        raise ValueError(f"{path} has a missing or unknown model class in its config")


def _build(header: dict, path, stored: int) -> Module:
    """The model a checked header describes, built only once its config is found to describe
    exactly ``stored`` parameters (the numbers the file's state holds): so a doctored config
    cannot make us allocate a huge model."""
    config = header["config"]
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


# A model file nests 4 deep ({"state": {name: [[...]]}}); far deeper is hostile, and Python's
# json parser would recurse until RecursionError.
_MAX_DEPTH = 32
# Blanking out JSON strings first, since they may hold brackets.
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKET = re.compile(r"[\[\]{}]")


def _check_depth(text: str, what: str) -> None:
    depth = 0
    for match in _BRACKET.finditer(_JSON_STRING.sub('""', text)):
        depth += 1 if match.group() in "[{" else -1
        if depth > _MAX_DEPTH:
            raise ValueError(
                f"{what} nests arrays or objects more than {_MAX_DEPTH} levels deep; a model "
                "file nests 4"
            )


def _not_json(constant: str):
    raise ValueError(f"{constant} is not a JSON number")


def _strict_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999: valid JSON, but no float holds it
        raise ValueError(f"the number {_short(text)} is too large for a float")
    return value


def _parse_json(text: str, what: str):
    """JSON read strictly: NaN and Infinity (not JSON) and numbers no float holds are
    refused, and so is nesting beyond _MAX_DEPTH, each a ValueError saying which."""
    _check_depth(text, what)
    try:
        return json.loads(text, parse_constant=_not_json, parse_float=_strict_float)
    except ValueError as exc:  # JSONDecodeError too; and Python's limit on int digits
        raise ValueError(f"{what} is not valid JSON: {exc}") from None


# .npz: numpy's zip of .npy entries, read entry by entry from each one's header, so that no
# entry is read (or decompressed) before its declared size is known to be sane.
_NPY_MAGIC = b"\x93NUMPY"
# Declared array bytes allowed per byte of file: more than honest compression of weights
# gives (nn.save does not compress at all), and a small file cannot ask for gigabytes.
_MAX_EXPANSION = 16
_SLACK = 1 << 20  # plus a megabyte, for small files of mostly zeros (biases start at zero)
_MAX_CONFIG_BYTES = 1 << 20  # the __config__ entry's text (a few hundred bytes in practice)


def _npy_header(member, where: str) -> tuple[tuple, bool, np.dtype]:
    """(shape, fortran_order, dtype) from an .npy header, read without its data."""
    try:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(member)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(member)
        else:
            raise ValueError(f"unsupported .npy format version {version}")
    except (zipfile.BadZipFile, zlib.error, ValueError, TypeError, OSError, EOFError) as exc:
        reason = _one_line(exc)
        if "pickle" in reason:  # numpy's advice for long headers; we never unpickle
            reason = "its header is too long"
        raise ValueError(f"{where} has no valid .npy header: {reason}") from None
    if any(n < 0 for n in shape):
        raise ValueError(f"{where} declares a negative shape {shape}")
    return shape, fortran, dtype


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:197] + "..."


def _read_npz(path) -> tuple[str, dict[str, np.ndarray]]:
    """The __config__ text and the state arrays of an .npz written by `save` (or by numpy's
    savez/savez_compressed), checking every entry's header first: its name, its dtype
    (numbers only: object arrays would need unpickling) and its declared size, against the
    entry's own size and the file's. Only then is anything read, and then exactly the
    declared bytes of each entry."""
    with open(path, "rb") as f:  # FileNotFoundError as it is
        start = f.read(len(_NPY_MAGIC))
        size = f.seek(0, os.SEEK_END)
    if start == _NPY_MAGIC:
        raise ValueError(f"{path} holds a single array (numpy's .npy format), not an .npz archive")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zlib.error, ValueError, OSError, EOFError) as exc:
        raise ValueError(
            f"{path} is not a readable .npz archive (numpy's zip of .npy arrays): {_one_line(exc)}"
        ) from None
    with archive:
        entries, total = {}, 0
        for info in archive.infolist():
            key = info.filename[: -len(".npy")] if info.filename.endswith(".npy") else None
            where = f"{path}: entry {info.filename!r}"
            if key is None:
                raise ValueError(f"{where} is not an .npy array")
            if key in entries:
                raise ValueError(f"{where} appears twice")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise ValueError(f"{where} uses a compression numpy never writes")
            if info.flag_bits & 0x1:
                raise ValueError(f"{where} is encrypted")
            with archive.open(info) as member:
                shape, fortran, dtype = _npy_header(member, where)
                offset = member.tell()
            if key == "__config__":
                if dtype.kind != "U" or shape != () or dtype.itemsize > _MAX_CONFIG_BYTES:
                    raise ValueError(f"{where} is not the JSON text of a model's config")
            elif dtype.kind not in "iuf":  # bool, complex, str, object (pickle), records
                raise ValueError(f"{where} must hold numbers, got dtype {dtype}")
            nbytes = math.prod(shape) * dtype.itemsize
            if offset + nbytes > info.file_size:  # the header lies, or the entry is cut short
                raise ValueError(
                    f"{where} declares shape {shape} of {dtype} ({nbytes:,} bytes) but holds "
                    f"{max(info.file_size - offset, 0):,} bytes of data"
                )
            total += nbytes
            entries[key] = (info, shape, fortran, dtype, nbytes)
        limit = _MAX_EXPANSION * size + _SLACK
        if total > limit:
            raise ValueError(
                f"{path}: its entries declare {total:,} bytes of arrays, more than a "
                f"{size:,}-byte .npz may hold here ({limit:,}: {_MAX_EXPANSION} times the "
                "file's size and a megabyte), so it is not read (nn.save writes uncompressed "
                ".npz files, which always fit)"
            )
        if "__config__" not in entries:
            raise ValueError(f"{path} has no __config__ entry")
        arrays = {}
        for key, (info, shape, fortran, dtype, nbytes) in entries.items():
            where = f"{path}: entry {info.filename!r}"
            try:
                with archive.open(info) as member:
                    _npy_header(member, where)
                    data = member.read(nbytes)
                    rest = member.read(1)  # reading on to the end checks the entry's CRC
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
                raise ValueError(f"{where} is unreadable: {_one_line(exc)}") from None
            if len(data) != nbytes or rest:
                raise ValueError(f"{where} holds other than the {nbytes:,} bytes it declares")
            array = np.frombuffer(data, dtype=dtype)
            arrays[key] = array.reshape(shape[::-1]).T if fortran else array.reshape(shape)
    return str(arrays.pop("__config__").item()), arrays


def load(path: str | os.PathLike) -> Module:
    """Read a model written by `save` (format chosen by the suffix).

    Hostile files are a ValueError saying what is wrong, before any large allocation: JSON
    with numbers no float holds, booleans or nulls among the weights, or nesting beyond
    any model's; an .npz whose entries are not plain number arrays (nothing is unpickled),
    or declare more data than they hold or than such a file may (see `_read_npz`).

    >>> nn.load("missing.txt")  # doctest: +SKIP
    ValueError: unsupported model file suffix '.txt' in missing.txt: use .json or .npz
    """
    suffix = _suffix(path)
    if suffix == ".json":
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except UnicodeDecodeError as exc:
            raise ValueError(f"{path} is not valid JSON: {exc}") from None
        header = _parse_json(text, str(path))
        _check_header(header, path)
        state = header.get("state")
        if not isinstance(state, dict):
            raise ValueError(f"{path} has no 'state' object")
        model = _build(header, path, _check_json_state(state, path))
    else:
        text, state = _read_npz(path)
        header = _parse_json(text, f"{path}'s __config__")
        _check_header(header, path)
        model = _build(header, path, sum(a.size for a in state.values()))
    try:
        model.load_state_dict(state)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    return model
