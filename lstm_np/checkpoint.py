"""Checkpoints: named arrays and a JSON document in one safetensors file.

The file is a plain safetensors file (https://huggingface.co/docs/safetensors),
which any safetensors reader opens:

* one tensor per array, named ``<group>/<name>``: ``param/`` the model's
  weights (float16/32/64), ``optim/`` the optimizer state and ``data/``
  anything else the caller keeps as numbers (bool, integer or float), all
  finite;
* the header's metadata holds one entry, ``jazz-lstm``: UTF-8 JSON text
  ``{"format_version": FORMAT_VERSION, "metadata": {...}, "sha256": ...}``
  with keys sorted, where metadata is the caller's JSON dict and sha256 the
  digest of every array (``arrays_digest``): safetensors has no checksum,
  and a flipped bit must not pass for a weight.

``checkpoint_bytes`` makes the file's bytes: the same arguments always give
the same bytes (safetensors orders the tensors itself; one metadata entry,
as it keeps several in a hash map whose order changes from run to run).
Nothing is pickled, and loading never runs code from the file.

Loading is bounded: the file's size and its header's length are checked
before safetensors reads anything, and safetensors checks that the arrays'
offsets, shapes and dtypes fit the file, so a hostile or damaged file costs
at most about its own (limited) size in memory and is refused with
``CheckpointError``:

* the file: MAX_CHECKPOINT_BYTES; its header: MAX_HEADER_BYTES; the JSON
  document in it: MAX_METADATA_BYTES; MAX_ARRAYS arrays;
* metadata nested at most MAX_METADATA_DEPTH levels, at most
  MAX_METADATA_CONTAINERS objects and lists, no NaN or infinity;
* an array's dtype must be one its group allows, its values finite, its
  bytes those the digest names.

Writing refuses what loading would refuse, so a saved checkpoint always loads.
The zip-based ``model.npz`` of format version 1 is refused with one line
naming it.
"""
from __future__ import annotations

import hashlib
import json
import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import safetensors
import safetensors.numpy

FORMAT_VERSION = 2
# The one metadata entry of the safetensors header.
METADATA_KEY = "jazz-lstm"

MAX_CHECKPOINT_BYTES = 1 << 30  # 1 GiB: a 3-layer, 512-unit model with Adam is ~0.1 GiB
MAX_METADATA_BYTES = 32 << 20   # 100,000 tokens of 200 characters would take 20 MB
# The JSON document escaped into the header, and the arrays' index (safetensors' own limit: 100 MB).
MAX_HEADER_BYTES = 2 * MAX_METADATA_BYTES + (8 << 20)
MAX_ARRAYS = 4096
MAX_METADATA_DEPTH = 64
# Every JSON object or list costs Python about 60 bytes however short its text:
# 32 MiB of "{}," would become 1.5 GB of dicts.  Real metadata holds a few thousand.
MAX_METADATA_CONTAINERS = 1_000_000

PARAM_GROUP, OPTIM_GROUP, DATA_GROUP = "param", "optim", "data"
# The dtype kinds each group may hold (f: float, b: bool, i/u: integers).
_GROUP_KINDS = {PARAM_GROUP: "f", OPTIM_GROUP: "biuf", DATA_GROUP: "biuf"}
_KIND_NAMES = {"f": "float16/32/64", "biuf": "bool, integer or float16/32/64"}
# safetensors' names of the dtypes numpy reads; others (BF16, F8...) are refused.
_SAFETENSORS_DTYPES = {"F16", "F32", "F64", "BOOL", "U8", "I8", "U16", "I16", "U32", "I32",
                       "U64", "I64"}
_HEADER_LENGTH = struct.Struct("<Q")  # a safetensors file starts with its header's length
_ZIP_MAGIC = b"PK\x03\x04"


class CheckpointError(Exception):
    """A checkpoint that cannot be written or read; the one-line message names the file."""


@dataclass(frozen=True)
class Checkpoint:
    """A loaded checkpoint.

    params:          {name: float array}, as saved (dtypes kept).
    optimizer_state: {name: numeric array}, as given by ``Optimizer.state_dict()``.
    data:            {name: numeric array}: whatever else the caller kept.
    metadata:        the JSON dict given when saving.
    """

    params: dict[str, np.ndarray]
    optimizer_state: dict[str, np.ndarray]
    data: dict[str, np.ndarray]
    metadata: dict


def checkpoint_bytes(params: Mapping[str, np.ndarray], optimizer_state: Mapping[str, np.ndarray],
                     metadata: Mapping, data: Mapping[str, np.ndarray] | None = None) -> bytes:
    """The bytes of a checkpoint file (write them with an atomic file writer).

    params:          {name: float16/32/64 array of any shape, all finite}.
    optimizer_state: {name: bool/int/float array of any shape, floats finite}; may be empty.
    metadata:        JSON-serialisable dict, nested at most MAX_METADATA_DEPTH levels.
    data:            {name: bool/int/float array}: other arrays to keep; may be None.
    Raises CheckpointError naming the array when anything breaks the rules
    that ``load_checkpoint`` enforces, limits included.
    """
    arrays = {}
    for group, named in ((PARAM_GROUP, params), (OPTIM_GROUP, optimizer_state),
                         (DATA_GROUP, data or {})):
        for name, value in named.items():
            key = f"{group}/{name}"
            array = np.asarray(value)
            if array.dtype.hasobject:
                raise CheckpointError(f"cannot save {key}: it holds Python objects")
            _check_values(key, array)
            arrays[key] = np.require(array, requirements="C")
    if len(arrays) > MAX_ARRAYS:
        raise CheckpointError(f"{len(arrays)} arrays, more than the limit of {MAX_ARRAYS}")
    text = _document_text(metadata, arrays_digest(arrays))
    try:
        encoded = safetensors.numpy.save(arrays, {METADATA_KEY: text})
    except (safetensors.SafetensorError, ValueError, TypeError) as error:
        raise CheckpointError(f"cannot save the checkpoint ({_one_line(error)})") from error
    if len(encoded) > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(f"checkpoint would take {len(encoded)} bytes, "
                              f"more than the limit of {MAX_CHECKPOINT_BYTES}")
    header_bytes = _HEADER_LENGTH.unpack_from(encoded)[0]
    if header_bytes > MAX_HEADER_BYTES:
        raise CheckpointError(f"checkpoint header would take {header_bytes} bytes, "
                              f"more than the limit of {MAX_HEADER_BYTES}")
    return encoded


def load_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """Read a checkpoint made by ``checkpoint_bytes``, within the module's limits.

    Raises CheckpointError, with one line naming the file and the problem, for
    a missing file, a file that is not a checkpoint (an old model.npz named as
    such), a damaged (truncated, altered) file, another format version,
    anything over a limit, or non-float or non-finite weights.  Whether the
    parameters fit a model is the model's to check (``SequenceModel``).
    """
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path}: no such checkpoint file")
    if not path.is_file():  # opening a FIFO or a terminal would wait for ever
        raise CheckpointError(f"{path}: not a regular file, so not a checkpoint")
    _check_start(path)
    try:
        with safetensors.safe_open(path, framework="np") as file:
            header_metadata = file.metadata() or {}
            names = list(file.keys())
            if len(names) > MAX_ARRAYS:
                raise CheckpointError(f"{path}: {len(names)} arrays, more than the limit of "
                                      f"{MAX_ARRAYS}")
            document = _decode_document(path, header_metadata)
            arrays = {name: _read_array(path, file, name) for name in names}
    except (safetensors.SafetensorError, OSError, ValueError, TypeError) as error:
        raise CheckpointError(f"{path}: damaged or truncated checkpoint ({_one_line(error)})") from error
    if arrays_digest(arrays) != document.get("sha256"):
        raise CheckpointError(f"{path}: damaged checkpoint (its arrays do not match the "
                              "digest it was saved with)")
    groups = {PARAM_GROUP: {}, OPTIM_GROUP: {}, DATA_GROUP: {}}
    for key, array in arrays.items():
        group, _, name = key.partition("/")
        groups[group][name] = array
    return Checkpoint(params=groups[PARAM_GROUP], optimizer_state=groups[OPTIM_GROUP],
                      data=groups[DATA_GROUP], metadata=document["metadata"])


def arrays_digest(arrays: Mapping[str, np.ndarray]) -> str:
    """SHA-256 of every array's name, dtype, shape and little-endian bytes, by name."""
    digest = hashlib.sha256()
    for name in sorted(arrays):
        array = np.asarray(arrays[name])
        little = array.astype(array.dtype.newbyteorder("<"), copy=False)
        digest.update(f"{name}\0{little.dtype.str}\0{array.shape}\0".encode("utf-8"))
        digest.update(np.require(little, requirements="C").tobytes())
    return digest.hexdigest()


# ------------------------------------------------------------------ writing
def _document_text(metadata: Mapping, sha256: str) -> str:
    document = {"format_version": FORMAT_VERSION, "metadata": dict(metadata), "sha256": sha256}
    try:
        _check_depth(document)
        text = json.dumps(document, ensure_ascii=False, allow_nan=False, sort_keys=True)
    except (TypeError, ValueError, RecursionError) as error:
        raise CheckpointError(f"metadata is not JSON-serialisable ({_one_line(error)})") from error
    _check_containers(text)
    size = len(text.encode("utf-8"))
    if size > MAX_METADATA_BYTES:
        raise CheckpointError(f"metadata takes {size} bytes, more than the limit of "
                              f"{MAX_METADATA_BYTES}")
    return text


# ------------------------------------------------------------------ reading
def _check_start(path: Path) -> None:
    """Refuse, from the file's size and first bytes, what is no checkpoint or too big."""
    size = path.stat().st_size
    if size > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(f"{path}: {size} bytes, more than the limit of {MAX_CHECKPOINT_BYTES}")
    with open(path, "rb") as file:
        start = file.read(_HEADER_LENGTH.size + 1)
    if start.startswith(_ZIP_MAGIC):
        raise CheckpointError(f"{path}: a model.npz checkpoint of format version 1 (an earlier "
                              f"jazz-lstm); this one reads format version {FORMAT_VERSION} "
                              "(model.safetensors): train the model again")
    if len(start) < _HEADER_LENGTH.size + 1 or start[-1:] != b"{":
        raise CheckpointError(f"{path}: not a checkpoint (not a safetensors file)")
    header_bytes = _HEADER_LENGTH.unpack_from(start)[0]
    if header_bytes > MAX_HEADER_BYTES:
        raise CheckpointError(f"{path}: a header of {header_bytes} bytes, more than the limit "
                              f"of {MAX_HEADER_BYTES}")
    if header_bytes > size - _HEADER_LENGTH.size:
        raise CheckpointError(f"{path}: damaged or truncated checkpoint (its header announces "
                              f"{header_bytes} bytes, the file holds {size})")


def _decode_document(path: Path, header_metadata: dict) -> dict:
    if set(header_metadata) != {METADATA_KEY}:
        raise CheckpointError(f"{path}: not a jazz-lstm checkpoint (no {METADATA_KEY!r} entry "
                              "alone in its metadata)")
    text = header_metadata[METADATA_KEY]
    if len(text.encode("utf-8")) > MAX_METADATA_BYTES:
        raise CheckpointError(f"{path}: metadata of more than {MAX_METADATA_BYTES} bytes")
    try:
        try:
            _check_containers(text)
        except CheckpointError as error:
            raise CheckpointError(f"{path}: {error}") from None
        document = json.loads(text, parse_constant=_refuse_constant)
        _check_depth(document)
    except RecursionError:
        raise CheckpointError(
            f"{path}: metadata nested more than {MAX_METADATA_DEPTH} levels deep") from None
    except ValueError as error:
        raise CheckpointError(f"{path}: metadata is not JSON ({_one_line(error)})") from error
    if not isinstance(document, dict) or not isinstance(document.get("metadata"), dict):
        raise CheckpointError(f"{path}: its document lacks the metadata object; not a "
                              "jazz-lstm checkpoint")
    version = document.get("format_version")
    if version != FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format version {version!r}, this program reads version {FORMAT_VERSION}")
    return document


def _read_array(path: Path, file, key: str) -> np.ndarray:
    group, _, name = key.partition("/")
    if group not in _GROUP_KINDS or not name:
        raise CheckpointError(f"{path}: unexpected array {key!r}; not a jazz-lstm checkpoint")
    dtype = file.get_slice(key).get_dtype()
    if dtype not in _SAFETENSORS_DTYPES:
        raise CheckpointError(f"{path}: array {key!r} has dtype {dtype}, not a plain number type")
    array = file.get_tensor(key)
    _check_values(key, array, path)
    return array


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not allowed in metadata")


# ------------------------------------------------------------------ rules both ways
def _check_containers(text: str) -> None:
    """Refuse JSON text with more than MAX_METADATA_CONTAINERS objects and lists,
    counted in the text (brackets inside strings count too: a safe overestimate)."""
    if text.count("{") + text.count("[") > MAX_METADATA_CONTAINERS:
        raise CheckpointError(f"metadata holds more than {MAX_METADATA_CONTAINERS:,} objects "
                              "and lists; refusing to parse it")


def _check_depth(document) -> None:
    """Raise RecursionError when lists and dicts nest more than MAX_METADATA_DEPTH levels.

    Walks with an explicit stack, so the check itself never recurses.
    """
    stack = [(document, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list, tuple)):
            if depth >= MAX_METADATA_DEPTH:
                raise RecursionError(f"metadata nested more than {MAX_METADATA_DEPTH} levels deep")
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)


def _check_values(key: str, array: np.ndarray, path: Path | None = None) -> None:
    """Weights must be float16/32/64, other groups plain numbers; floats all finite."""
    where = f"{path}: " if path is not None else ""
    kinds = _GROUP_KINDS[key.partition("/")[0]]
    if array.dtype.kind not in kinds or array.dtype.itemsize > 8:
        raise CheckpointError(f"{where}array {key!r} has dtype {array.dtype}; it must be "
                              f"{_KIND_NAMES[kinds]}")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise CheckpointError(f"{where}array {key!r} holds NaN or infinite values")


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__
