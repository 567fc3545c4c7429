"""Checkpoints: parameters, optimiser state and metadata in one .npz file.

Layout of the (uncompressed) .npz archive:

* ``param/<name>``  one array per model parameter, dtype kept;
* ``optim/<name>``  one array per optimiser state entry (``Optimizer.state_dict()``);
* ``header``        UTF-8 JSON as a 1-D uint8 array:
  ``{"format_version": FORMAT_VERSION, "metadata": {...}}``, where metadata is
  the caller's JSON-serialisable dict (model config, vocabulary, epoch, seed...).

Nothing is pickled, and files are read with ``allow_pickle=False``, so loading
a checkpoint never runs code from the file.

Writes are atomic: the archive goes to a temporary file beside the target,
is flushed and fsynced, then renamed over the target with ``os.replace``.  A
write interrupted at any point leaves the previous checkpoint intact.
"""
from __future__ import annotations

import json
import os
import secrets
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FORMAT_VERSION = 1

PARAM_PREFIX = "param/"
OPTIM_PREFIX = "optim/"
HEADER_KEY = "header"
_ZIP_MAGIC = b"PK\x03\x04"

# What a damaged archive can raise from np.load or from reading one member.
_READ_ERRORS = (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError)


class CheckpointError(Exception):
    """A checkpoint that cannot be written or read; the one-line message names the file."""


@dataclass(frozen=True)
class Checkpoint:
    """A loaded checkpoint.

    params:          {name: array}, as saved (dtypes kept).
    optimizer_state: {name: array}, as given by ``Optimizer.state_dict()``.
    metadata:        the JSON dict passed to ``save_checkpoint``.
    """

    params: dict[str, np.ndarray]
    optimizer_state: dict[str, np.ndarray]
    metadata: dict


def save_checkpoint(path: str | os.PathLike, params: Mapping[str, np.ndarray],
                    optimizer_state: Mapping[str, np.ndarray], metadata: Mapping) -> Path:
    """Write a checkpoint atomically to exactly ``path`` (no suffix is added) and return it.

    params:          {name: numeric array of any shape}.
    optimizer_state: {name: numeric array of any shape}; may be empty.
    metadata:        JSON-serialisable dict.
    Creates the parent folder.  Raises CheckpointError naming the file when the
    metadata is not JSON or an array holds Python objects.
    """
    path = Path(path)
    arrays = {HEADER_KEY: _encode_header(path, metadata)}
    for prefix, group in ((PARAM_PREFIX, params), (OPTIM_PREFIX, optimizer_state)):
        for name, value in group.items():
            array = np.asarray(value)
            if array.dtype.hasobject:
                raise CheckpointError(f"{path}: cannot save {prefix}{name}: it holds Python objects")
            arrays[prefix + name] = array

    path.parent.mkdir(parents=True, exist_ok=True)
    # A random name beside the target: same file system, so os.replace is atomic.
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        # os.open (not mkstemp) so the file gets the usual umask-based permissions.
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(descriptor, "wb") as file:
            # Through a file object, np.savez writes to our name instead of appending ".npz".
            np.savez(file, **arrays)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)
    return path


def load_checkpoint(path: str | os.PathLike,
                    expected_shapes: Mapping[str, tuple[int, ...]] | None = None) -> Checkpoint:
    """Read a checkpoint written by ``save_checkpoint``.

    expected_shapes: {parameter name: shape}; when given, the checkpoint must
    hold exactly these parameters with exactly these shapes.
    Raises CheckpointError, with one line naming the file and the problem, for
    a missing file, a file that is not a checkpoint, a damaged (e.g. truncated)
    file, pickled objects, another format version, or parameters that do not
    match expected_shapes.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        with open(path, "rb") as file:
            magic = file.read(len(_ZIP_MAGIC))
    except OSError as error:
        raise CheckpointError(f"{path}: cannot read ({_one_line(error)})") from error
    # Checked first because np.load would take any other bytes for a pickle.
    if magic != _ZIP_MAGIC:
        raise CheckpointError(f"{path}: not a checkpoint (not an .npz archive)")
    try:
        archive = np.load(path, allow_pickle=False)
    except _READ_ERRORS as error:
        raise CheckpointError(f"{path}: damaged or truncated checkpoint ({_one_line(error)})") from error
    with archive:
        if HEADER_KEY not in archive.files:
            raise CheckpointError(f"{path}: not a jazz-lstm checkpoint (no '{HEADER_KEY}' entry)")
        metadata = _decode_header(path, _read_member(path, archive, HEADER_KEY))
        params, optimizer_state = {}, {}
        for key in archive.files:
            if key.startswith(PARAM_PREFIX):
                params[key[len(PARAM_PREFIX):]] = _read_member(path, archive, key)
            elif key.startswith(OPTIM_PREFIX):
                optimizer_state[key[len(OPTIM_PREFIX):]] = _read_member(path, archive, key)
            elif key != HEADER_KEY:
                raise CheckpointError(f"{path}: unexpected entry {key!r}; not a jazz-lstm checkpoint")
    if expected_shapes is not None:
        _check_shapes(path, params, expected_shapes)
    return Checkpoint(params=params, optimizer_state=optimizer_state, metadata=metadata)


def _encode_header(path: Path, metadata: Mapping) -> np.ndarray:
    try:
        text = json.dumps({"format_version": FORMAT_VERSION, "metadata": dict(metadata)},
                          ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise CheckpointError(f"{path}: metadata is not JSON-serialisable ({error})") from error
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def _decode_header(path: Path, header: np.ndarray) -> dict:
    if header.dtype != np.uint8 or header.ndim != 1:
        raise CheckpointError(f"{path}: header is not a 1-D uint8 array; not a jazz-lstm checkpoint")
    try:
        document = json.loads(header.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{path}: header is not UTF-8 JSON ({_one_line(error)})") from error
    if not isinstance(document, dict) or not isinstance(document.get("metadata"), dict):
        raise CheckpointError(f"{path}: header lacks the metadata object; not a jazz-lstm checkpoint")
    version = document.get("format_version")
    if version != FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format version {version!r}, this program reads version {FORMAT_VERSION}")
    return document["metadata"]


def _read_member(path: Path, archive: np.lib.npyio.NpzFile, key: str) -> np.ndarray:
    try:
        return archive[key]
    except ValueError as error:
        if "allow_pickle" in str(error):
            raise CheckpointError(
                f"{path}: entry {key!r} holds pickled Python objects; refusing to load it") from error
        raise CheckpointError(f"{path}: entry {key!r} is damaged ({_one_line(error)})") from error
    except _READ_ERRORS as error:
        raise CheckpointError(f"{path}: entry {key!r} is damaged ({_one_line(error)})") from error


def _check_shapes(path: Path, params: Mapping[str, np.ndarray],
                  expected_shapes: Mapping[str, tuple[int, ...]]) -> None:
    missing = sorted(expected_shapes.keys() - params.keys())
    if missing:
        raise CheckpointError(f"{path}: missing parameters {', '.join(missing)}")
    unexpected = sorted(params.keys() - expected_shapes.keys())
    if unexpected:
        raise CheckpointError(f"{path}: unexpected parameters {', '.join(unexpected)}")
    for name, shape in expected_shapes.items():
        if params[name].shape != tuple(shape):
            raise CheckpointError(
                f"{path}: parameter {name!r} has shape {params[name].shape}, expected {tuple(shape)}")


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable; not every platform can open a folder for this."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__
