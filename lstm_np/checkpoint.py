"""Checkpoints: parameters, optimiser state and metadata in one .npz file.

Layout of the (uncompressed) .npz archive, in this order:

* ``header.npy``        UTF-8 JSON as a 1-D uint8 array:
  ``{"format_version": FORMAT_VERSION, "metadata": {...}}``, keys sorted, where
  metadata is the caller's JSON dict (model config, vocabulary, epoch, seed...);
* ``param/<name>.npy``  one float array per model parameter, dtype kept;
* ``optim/<name>.npy``  one numeric array per optimiser state entry
  (``Optimizer.state_dict()``).

``checkpoint_bytes`` makes the file's bytes: the same arguments always give
the same bytes (every zip entry is dated 1980-01-01, the header's keys are
sorted).  Nothing is pickled, and loading never runs code from the file.

Loading is bounded: a file is checked against the limits below before
anything big is read or allocated, so a hostile or damaged file costs at
most about its own (limited) size in memory and is refused with
``CheckpointError``:

* the file, and the sum of its entries once unpacked: MAX_CHECKPOINT_BYTES;
* one entry once unpacked: MAX_ENTRY_BYTES (the metadata: MAX_METADATA_BYTES);
* MAX_ENTRIES entries, a zip central directory of MAX_DIRECTORY_BYTES;
* entries stored or deflated only; a deflated entry over RATIO_FREE_BYTES may
  unpack to at most MAX_COMPRESSION_RATIO times its packed size;
* an array's .npy header must announce exactly the bytes the entry holds;
* metadata nested at most MAX_METADATA_DEPTH levels, no NaN or infinity;
* parameters are float16/32/64, optimiser state bool/int/float, all finite.

Writing refuses what loading would refuse, so a saved checkpoint always loads.
"""
from __future__ import annotations

import io
import json
import math
import os
import struct
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

FORMAT_VERSION = 1

MAX_CHECKPOINT_BYTES = 1 << 30  # 1 GiB: a 3-layer, 512-unit model with Adam is ~0.1 GiB
MAX_ENTRY_BYTES = 512 << 20
MAX_METADATA_BYTES = 64 << 20  # the corpus ids of all 410 Weimar solos take a few MiB
MAX_ENTRIES = 4096
MAX_DIRECTORY_BYTES = 4 << 20
MAX_COMPRESSION_RATIO = 100
RATIO_FREE_BYTES = 1 << 20
MAX_METADATA_DEPTH = 64
# Every JSON object or list costs Python about 60 bytes however short its text:
# 64 MiB of "{}," would become 3 GB of dicts.  Real metadata holds a few thousand.
MAX_METADATA_CONTAINERS = 1_000_000
MAX_ARRAY_DIMENSIONS = 32
MAX_NPY_HEADER_BYTES = 10_000  # numpy's own default bound on the .npy header text

PARAM_PREFIX = "param/"
OPTIM_PREFIX = "optim/"
HEADER_KEY = "header"
NPY_SUFFIX = ".npy"
_ZIP_MAGIC = b"PK\x03\x04"
_END_OF_DIRECTORY = struct.Struct("<4s4H2LH")  # the zip "end of central directory" record
_END_MAGIC = b"PK\x05\x06"
_FIXED_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can hold
_PARAM_KINDS = "f"
_READ_CHUNK_BYTES = 1 << 20
_OPTIM_KINDS = "biuf"

# What a damaged archive can raise while its directory or an entry is read.
_READ_ERRORS = (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError, NotImplementedError)


class CheckpointError(Exception):
    """A checkpoint that cannot be written or read; the one-line message names the file."""


@dataclass(frozen=True)
class Checkpoint:
    """A loaded checkpoint.

    params:          {name: float array}, as saved (dtypes kept).
    optimizer_state: {name: numeric array}, as given by ``Optimizer.state_dict()``.
    metadata:        the JSON dict given when saving.
    """

    params: dict[str, np.ndarray]
    optimizer_state: dict[str, np.ndarray]
    metadata: dict


def checkpoint_bytes(params: Mapping[str, np.ndarray], optimizer_state: Mapping[str, np.ndarray],
                     metadata: Mapping) -> bytes:
    """The bytes of a checkpoint file (write them with an atomic file writer).

    params:          {name: float16/32/64 array of any shape, all finite}.
    optimizer_state: {name: bool/int/float array of any shape, floats finite}; may be empty.
    metadata:        JSON-serialisable dict, nested at most MAX_METADATA_DEPTH levels.
    Raises CheckpointError naming the entry when anything breaks the rules
    that ``load_checkpoint`` enforces, limits included.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for key, array in _entries(params, optimizer_state, metadata):
            entry = io.BytesIO()
            npy_format.write_array(entry, array, allow_pickle=False)
            data = entry.getvalue()
            _check_entry_size(key, len(data))
            info = zipfile.ZipInfo(key + NPY_SUFFIX, date_time=_FIXED_DATE)
            info.external_attr = 0o644 << 16  # rw-r--r-- for unzip tools
            archive.writestr(info, data)
    # Stored entries: the file is at least as big as its entries unpacked.
    if buffer.tell() > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(f"checkpoint would take {buffer.tell()} bytes, "
                              f"more than the limit of {MAX_CHECKPOINT_BYTES}")
    return buffer.getvalue()


def load_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """Read a checkpoint made by ``checkpoint_bytes``, within the module's limits.

    Raises CheckpointError, with one line naming the file and the problem, for
    a missing file, a file that is not a checkpoint, a damaged (e.g. truncated)
    file, pickled objects, another format version, anything over a limit, or
    non-float or non-finite weights.  Whether the parameters fit a model is the
    model's to check (``SequenceModel`` compares them with its config).
    """
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path}: no such checkpoint file")
    if not path.is_file():  # opening a FIFO or a terminal would wait for ever
        raise CheckpointError(f"{path}: not a regular file, so not a checkpoint")
    try:
        with open(path, "rb") as file:
            entries = _read_entries(path, file)
    except _READ_ERRORS as error:
        raise CheckpointError(f"{path}: damaged or truncated checkpoint ({_one_line(error)})") from error
    if HEADER_KEY not in entries:
        raise CheckpointError(f"{path}: not a jazz-lstm checkpoint (no '{HEADER_KEY}' entry)")
    metadata = _decode_header(path, entries.pop(HEADER_KEY))
    params, optimizer_state = {}, {}
    for key, array in entries.items():
        group, kinds = (params, _PARAM_KINDS) if key.startswith(PARAM_PREFIX) else (
            optimizer_state, _OPTIM_KINDS)
        _check_values(key, array, kinds, path)
        group[key.partition("/")[2]] = array
    return Checkpoint(params=params, optimizer_state=optimizer_state, metadata=metadata)


# ------------------------------------------------------------------ writing
def _entries(params, optimizer_state, metadata):
    """(key, array) for every entry, header first, each checked as loading would check it."""
    yield HEADER_KEY, _encode_header(metadata)
    for prefix, group, kinds in ((PARAM_PREFIX, params, _PARAM_KINDS),
                                 (OPTIM_PREFIX, optimizer_state, _OPTIM_KINDS)):
        for name, value in group.items():
            key = prefix + name
            array = np.asarray(value)
            if array.dtype.hasobject:
                raise CheckpointError(f"cannot save {key}: it holds Python objects")
            _check_values(key, array, kinds)
            yield key, array


def _encode_header(metadata: Mapping) -> np.ndarray:
    document = {"format_version": FORMAT_VERSION, "metadata": dict(metadata)}
    try:
        _check_depth(document)
        text = json.dumps(document, ensure_ascii=False, allow_nan=False, sort_keys=True)
    except (TypeError, ValueError, RecursionError) as error:
        raise CheckpointError(f"metadata is not JSON-serialisable ({_one_line(error)})") from error
    _check_containers(text)
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


# ------------------------------------------------------------------ reading
def _read_entries(path: Path, file) -> dict[str, np.ndarray]:
    """{key: array} of every entry, header included, each within the limits."""
    if file.read(len(_ZIP_MAGIC)) != _ZIP_MAGIC:
        # Checked first because np.load would take any other bytes for a pickle.
        raise CheckpointError(f"{path}: not a checkpoint (not an .npz archive)")
    size = os.fstat(file.fileno()).st_size
    if size > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(f"{path}: {size} bytes, more than the limit of {MAX_CHECKPOINT_BYTES}")
    _check_directory(path, file, size)
    with zipfile.ZipFile(file) as archive:
        infos = archive.infolist()
        keys = [_entry_key(path, info) for info in infos]
        if len(set(keys)) != len(keys):
            raise CheckpointError(f"{path}: an entry name appears twice; not a jazz-lstm checkpoint")
        total = 0
        for info in infos:
            _check_packing(path, info)
            total += info.file_size
        if total > MAX_CHECKPOINT_BYTES:
            raise CheckpointError(f"{path}: entries unpack to {total} bytes, "
                                  f"more than the limit of {MAX_CHECKPOINT_BYTES}")
        return {key: _read_array(path, archive, info, key) for key, info in zip(keys, infos)}


def _check_directory(path: Path, file, size: int) -> None:
    """Bound the zip directory before zipfile reads it all into memory.

    The end record sits in the last 22 bytes, or up to 64 KiB earlier after a
    comment; like zipfile, try the comment-less place first, then the last match.
    """
    tail_length = min(size, _END_OF_DIRECTORY.size + 0xFFFF)
    file.seek(size - tail_length)
    tail = file.read(tail_length)
    start = len(tail) - _END_OF_DIRECTORY.size
    if not tail.startswith(_END_MAGIC, start):
        start = tail.rfind(_END_MAGIC)
    if start < 0 or len(tail) - start < _END_OF_DIRECTORY.size:
        raise CheckpointError(f"{path}: damaged or truncated checkpoint (no zip directory)")
    record = _END_OF_DIRECTORY.unpack_from(tail, start)
    entries, directory_bytes = record[4], record[5]
    if entries > MAX_ENTRIES:
        raise CheckpointError(f"{path}: {entries} entries, more than the limit of {MAX_ENTRIES}")
    if directory_bytes > MAX_DIRECTORY_BYTES:
        raise CheckpointError(f"{path}: a zip directory of {directory_bytes} bytes, "
                              f"more than the limit of {MAX_DIRECTORY_BYTES}")
    file.seek(0)


def _entry_key(path: Path, info: zipfile.ZipInfo) -> str:
    name = info.filename
    key = name[:-len(NPY_SUFFIX)]
    if not name.endswith(NPY_SUFFIX) or not (
            key == HEADER_KEY or key.startswith((PARAM_PREFIX, OPTIM_PREFIX))):
        raise CheckpointError(f"{path}: unexpected entry {name!r}; not a jazz-lstm checkpoint")
    return key


def _check_packing(path: Path, info: zipfile.ZipInfo) -> None:
    """Refuse, from the directory alone, an entry too big to unpack or packed suspiciously."""
    name = info.filename
    if info.flag_bits & 0x1:
        raise CheckpointError(f"{path}: entry {name!r} is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        # bzip2 and lzma would unpack a whole block at once, beyond any read size.
        raise CheckpointError(f"{path}: entry {name!r} uses zip compression method "
                              f"{info.compress_type}; only stored or deflated entries are read")
    limit = MAX_METADATA_BYTES if name == HEADER_KEY + NPY_SUFFIX else MAX_ENTRY_BYTES
    if info.file_size > limit:
        raise CheckpointError(f"{path}: entry {name!r} unpacks to {info.file_size} bytes, "
                              f"more than the limit of {limit}")
    if (info.file_size > RATIO_FREE_BYTES
            and info.file_size > MAX_COMPRESSION_RATIO * info.compress_size):
        raise CheckpointError(f"{path}: entry {name!r} unpacks from {info.compress_size} to "
                              f"{info.file_size} bytes, more than {MAX_COMPRESSION_RATIO} times; "
                              "refusing a likely zip bomb")


def _read_array(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo, key: str) -> np.ndarray:
    """One entry's array, allocated only once its .npy header matches the entry's size."""
    try:
        with archive.open(info) as stream:
            version = npy_format.read_magic(stream)
            if version == (1, 0):
                header = npy_format.read_array_header_1_0(stream, MAX_NPY_HEADER_BYTES)
            elif version == (2, 0):
                header = npy_format.read_array_header_2_0(stream, MAX_NPY_HEADER_BYTES)
            else:
                raise CheckpointError(f"{path}: entry {key!r} has .npy format version {version}")
            shape, fortran_order, dtype = header
            array = _allocate(path, key, shape, dtype, info.file_size - stream.tell())
            _read_exactly(stream, memoryview(array.view(np.uint8)))
            if stream.read(1):  # also makes zipfile compare the CRC of every byte
                raise CheckpointError(f"{path}: entry {key!r} is longer than its header says")
    except _READ_ERRORS as error:
        raise CheckpointError(f"{path}: entry {key!r} is damaged ({_one_line(error)})") from error
    # Fortran order stores the transpose's C order.
    return array.reshape(shape[::-1]).T if fortran_order else array.reshape(shape)


def _allocate(path: Path, key: str, shape: tuple, dtype: np.dtype, data_bytes: int) -> np.ndarray:
    if dtype.hasobject:
        raise CheckpointError(f"{path}: entry {key!r} holds pickled Python objects; refusing to load it")
    if dtype.kind not in "biuf" or dtype.fields is not None or dtype.subdtype is not None:
        raise CheckpointError(f"{path}: entry {key!r} has dtype {dtype}, not a plain number type")
    if len(shape) > MAX_ARRAY_DIMENSIONS or any(size < 0 for size in shape):
        raise CheckpointError(f"{path}: entry {key!r} has impossible shape {shape}")
    announced = math.prod(shape) * dtype.itemsize
    if announced != data_bytes:
        raise CheckpointError(f"{path}: entry {key!r} announces shape {shape} of {dtype} "
                              f"({announced} bytes) but holds {data_bytes} bytes")
    return np.empty(math.prod(shape), dtype=dtype)


def _read_exactly(stream, target: memoryview) -> None:
    """Fill target from stream in bounded reads (one huge read would hold a second copy)."""
    filled = 0
    while filled < len(target):
        count = stream.readinto(target[filled:filled + _READ_CHUNK_BYTES])
        if not count:
            raise EOFError("entry ends early")
        filled += count


def _decode_header(path: Path, header: np.ndarray) -> dict:
    if header.dtype != np.uint8 or header.ndim != 1:
        raise CheckpointError(f"{path}: header is not a 1-D uint8 array; not a jazz-lstm checkpoint")
    try:
        text = header.tobytes().decode("utf-8")
        try:
            _check_containers(text)
        except CheckpointError as error:
            raise CheckpointError(f"{path}: {error}") from None
        document = json.loads(text, parse_constant=_refuse_constant)
        _check_depth(document)
    except RecursionError:
        raise CheckpointError(
            f"{path}: metadata nested more than {MAX_METADATA_DEPTH} levels deep") from None
    except (UnicodeDecodeError, ValueError) as error:
        raise CheckpointError(f"{path}: header is not UTF-8 JSON ({_one_line(error)})") from error
    if not isinstance(document, dict) or not isinstance(document.get("metadata"), dict):
        raise CheckpointError(f"{path}: header lacks the metadata object; not a jazz-lstm checkpoint")
    version = document.get("format_version")
    if version != FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format version {version!r}, this program reads version {FORMAT_VERSION}")
    return document["metadata"]


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


def _check_entry_size(key: str, size: int) -> None:
    limit = MAX_METADATA_BYTES if key == HEADER_KEY else MAX_ENTRY_BYTES
    if size > limit:
        raise CheckpointError(f"entry {key} takes {size} bytes, more than the limit of {limit}")


def _check_values(key: str, array: np.ndarray, kinds: str, path: Path | None = None) -> None:
    """Parameters must be float16/32/64, optimiser state plain numbers; floats all finite."""
    where = f"{path}: " if path is not None else ""
    if array.dtype.kind not in kinds or array.dtype.itemsize > 8:
        wanted = "float16/32/64" if kinds == _PARAM_KINDS else "bool, integer or float16/32/64"
        raise CheckpointError(f"{where}entry {key!r} has dtype {array.dtype}; it must be {wanted}")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise CheckpointError(f"{where}entry {key!r} holds NaN or infinite values")


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__
