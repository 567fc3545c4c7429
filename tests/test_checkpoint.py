"""Checkpoints: bit-exact round trips, byte-identical files, every bad or hostile file
refused clearly, quickly and without big allocations, atomic writes."""
import json
import os
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import safetensors.numpy

from lstm_np import checkpoint
from lstm_np.checkpoint import (Checkpoint, CheckpointError, arrays_digest, checkpoint_bytes,
                                load_checkpoint)
from lstm_np.optim import Adam
from music.files import write_file_atomically


def save_checkpoint(path, params, optimizer_state, metadata, data=None):
    """How the project saves a checkpoint: its bytes, through the one safe writer."""
    return write_file_atomically(path, checkpoint_bytes(params, optimizer_state, metadata, data))


REPO = Path(__file__).resolve().parents[1]

METADATA = {
    "config": {"n_a": 64, "n_values": 78, "dtype": "float32"},
    "vocabulary": ["C,0.250,<m2,P-4>", "S,0.500,<d1,P1>", "é ♭ ♯"],
    "epoch": 12,
    "seed": 1234,
}


def sample_params():
    rng = np.random.default_rng(0)
    extremes = np.array([-0.0, 5e-324, np.finfo(np.float64).max, -np.finfo(np.float64).tiny])
    return {
        "lstm0.W": rng.normal(size=(4, 12)).astype(np.float32),
        "lstm0.b": np.array([-0.0, 1e-45, 3.4e38, -1.5], dtype=np.float32),
        "head.W": rng.normal(size=(3, 4)),
        "head.b": extremes,
        "half": np.array([0.5, -2.0, 65504.0], dtype=np.float16),
        "fortran": np.asfortranarray(rng.normal(size=(3, 5))),
        "big_endian": np.arange(6, dtype=">f8").reshape(2, 3),
        "scalar": np.array(2.5),
        "empty": np.zeros((0, 3)),
        "resume/lstm0.W": rng.normal(size=(4, 12)).astype(np.float32),
    }


def sample_optimizer_state():
    return {"iterations": np.array(7, dtype=np.int64), "m/head.W": np.ones((3, 4)),
            "flags": np.array([True, False])}


def sample_data():
    return {"ids": np.array([3, 1, 2], dtype=np.int32),
            "state": np.array([2 ** 64 - 1, 0], dtype=np.uint64)}


def bits(array):
    """The raw bytes of an array, so that -0.0 and subnormals count."""
    return array.dtype.newbyteorder("="), array.shape, np.ascontiguousarray(
        array.astype(array.dtype.newbyteorder("="))).tobytes()


def save_sample(path):
    params, optimizer_state, data = sample_params(), sample_optimizer_state(), sample_data()
    path.write_bytes(checkpoint_bytes(params, optimizer_state, METADATA, data))
    return params, optimizer_state, data


def raw_file(header, data: bytes = b"", length=None) -> bytes:
    """A safetensors file written by hand: its header (a dict or JSON text) and data."""
    text = (header if isinstance(header, str) else json.dumps(header)).encode("utf-8")
    return struct.pack("<Q", len(text) if length is None else length) + text + data


def document(metadata=None, version=checkpoint.FORMAT_VERSION, sha256="") -> str:
    return json.dumps({"format_version": version, "metadata": metadata or {"epoch": 1},
                       "sha256": sha256})


def with_arrays(tensors: dict, text=None) -> dict:
    """A header: our metadata entry (``text``) and {name: (dtype, shape, start, end)}."""
    header = {"__metadata__": {checkpoint.METADATA_KEY: text or document()}}
    for name, (dtype, shape, start, end) in tensors.items():
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [start, end]}
    return header


def refused(path, **kwargs):
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(path, **kwargs)
    message = str(caught.value)
    assert str(path) in message and "\n" not in message
    return message


def refused_to_write(params, optimizer_state=None, metadata=None, data=None):
    with pytest.raises(CheckpointError) as caught:
        checkpoint_bytes(params, optimizer_state or {}, metadata or {}, data)
    assert "\n" not in str(caught.value)
    return str(caught.value)


# ------------------------------------------------------------ round trips
def test_round_trip_is_bit_exact(tmp_path):
    path = tmp_path / "model.safetensors"
    params, optimizer_state, data = save_sample(path)
    loaded = load_checkpoint(path)
    assert isinstance(loaded, Checkpoint)
    assert sorted(loaded.params) == sorted(params)
    for stored, group in ((params, loaded.params), (optimizer_state, loaded.optimizer_state),
                          (data, loaded.data)):
        for name, array in stored.items():
            assert bits(group[name]) == bits(array), name
    assert loaded.metadata == METADATA


def test_the_same_checkpoint_gives_the_same_bytes_in_any_process_and_key_order():
    """safetensors keeps header metadata in a hash map, whose order changes from one
    process to the next: two fresh Pythons must still write the same bytes."""
    script = ("import sys, numpy as np\n"
              "from lstm_np.checkpoint import checkpoint_bytes\n"
              "metadata = {f'key{i}': i for i in range(40)}\n"
              "arrays = {f'w{i}': np.arange(i + 1, dtype=np.float32) for i in range(40)}\n"
              "sys.stdout.buffer.write(checkpoint_bytes(arrays, {}, metadata, {'ids': np.arange(3)}))\n")
    outputs = {subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True,
                              check=True, timeout=120).stdout for _ in range(3)}
    assert len(outputs) == 1
    reordered = dict(reversed(list(METADATA.items())))
    params = dict(reversed(list(sample_params().items())))
    assert checkpoint_bytes(params, sample_optimizer_state(), reordered, sample_data()) == \
        checkpoint_bytes(sample_params(), sample_optimizer_state(), METADATA, sample_data())


def test_the_file_is_a_plain_safetensors_file(tmp_path):
    path = tmp_path / "model.safetensors"
    params, _, data = save_sample(path)
    arrays = safetensors.numpy.load(path.read_bytes())
    assert bits(arrays["param/head.b"]) == bits(params["head.b"])
    assert bits(arrays["data/ids"]) == bits(data["ids"])
    with safetensors.safe_open(path, framework="np") as file:
        stored = json.loads(file.metadata()[checkpoint.METADATA_KEY])
    assert stored == {"format_version": 2, "metadata": METADATA,
                      "sha256": arrays_digest(arrays)}


def test_save_checkpoint_uses_the_path_exactly_and_creates_parent_folders(tmp_path):
    path = tmp_path / "runs" / "deep" / "latest"  # no suffix
    assert save_checkpoint(path, {"w": np.zeros(2)}, {}, {}) == path
    assert os.listdir(path.parent) == ["latest"]
    assert path.read_bytes() == checkpoint_bytes({"w": np.zeros(2)}, {}, {})


def test_saving_over_a_checkpoint_replaces_it(tmp_path):
    path = tmp_path / "model.safetensors"
    save_checkpoint(path, {"w": np.zeros(2)}, {}, {"epoch": 1})
    save_checkpoint(path, {"w": np.ones(2)}, {}, {"epoch": 2})
    loaded = load_checkpoint(path)
    assert loaded.metadata == {"epoch": 2}
    assert np.array_equal(loaded.params["w"], np.ones(2))
    assert os.listdir(tmp_path) == ["model.safetensors"]


def test_optimizer_resumes_identically_through_a_checkpoint(tmp_path):
    rng = np.random.default_rng(5)
    grads = [{"w": rng.normal(size=(2, 3)).astype(np.float32)} for _ in range(6)]
    start = {"w": rng.normal(size=(2, 3)).astype(np.float32)}

    straight = {"w": start["w"].copy()}
    adam = Adam(lr=0.01, decay=0.01)
    for g in grads:
        adam.step(straight, g)

    first_half = {"w": start["w"].copy()}
    adam = Adam(lr=0.01, decay=0.01)
    for g in grads[:3]:
        adam.step(first_half, g)
    (tmp_path / "c.safetensors").write_bytes(checkpoint_bytes(first_half, adam.state_dict(), {}))
    loaded = load_checkpoint(tmp_path / "c.safetensors")
    resumed_adam = Adam(lr=0.01, decay=0.01)
    resumed_adam.load_state_dict(loaded.optimizer_state)
    for g in grads[3:]:
        resumed_adam.step(loaded.params, g)
    assert bits(loaded.params["w"]) == bits(straight["w"])


# ------------------------------------------------------------ refused when writing
def test_unserialisable_metadata_and_object_arrays_are_refused_on_save(tmp_path):
    path = tmp_path / "model.safetensors"
    with pytest.raises(CheckpointError, match="metadata is not JSON"):
        save_checkpoint(path, {"w": np.zeros(1)}, {}, {"seed": np.int64(3)})
    with pytest.raises(CheckpointError, match="param/w: it holds Python objects"):
        save_checkpoint(path, {"w": np.array([{}], dtype=object)}, {}, {})
    assert not path.exists()


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_weights_or_state_are_refused_on_save(bad):
    assert "'param/w' holds NaN or infinite" in refused_to_write({"w": np.array([1.0, bad])})
    message = refused_to_write({"w": np.zeros(1)}, {"m/w": np.array([bad], np.float32)})
    assert "'optim/m/w' holds NaN or infinite" in message
    assert "'data/x' holds NaN" in refused_to_write({}, data={"x": np.array([bad])})


@pytest.mark.parametrize("dtype", [np.int64, np.bool_, np.complex128, np.longdouble])
def test_weights_that_are_not_float16_32_64_are_refused_on_save(dtype):
    if np.dtype(dtype).itemsize <= 8 and np.dtype(dtype).kind == "f":
        pytest.skip("long double is plain float64 on this platform")
    assert "must be float16/32/64" in refused_to_write({"w": np.zeros(2, dtype=dtype)})


def test_nan_in_metadata_is_refused_on_save():
    assert "metadata is not JSON" in refused_to_write({"w": np.zeros(1)}, {}, {"loss": float("nan")})


def nested_lists(depth):
    value = []
    for _ in range(depth):
        value = [value]
    return value


def test_metadata_depth_limit_when_writing():
    # The document and the metadata dict are the first two levels.
    checkpoint_bytes({}, {}, {"deep": nested_lists(checkpoint.MAX_METADATA_DEPTH - 3)})
    assert "nested more than 64" in refused_to_write(
        {}, {}, {"deep": nested_lists(checkpoint.MAX_METADATA_DEPTH - 2)})
    assert "nested more than 64" in refused_to_write({}, {}, {"deep": nested_lists(100_000)})


def test_size_limits_when_writing(monkeypatch):
    monkeypatch.setattr(checkpoint, "MAX_METADATA_BYTES", 200)
    # '{"format_version": 2, "metadata": {"text": "x...x"}, "sha256": "<64 hex digits>"}'
    assert "metadata takes 225 bytes, more than the limit of 200" in refused_to_write(
        {}, {}, {"text": "x" * 100})
    monkeypatch.undo()
    monkeypatch.setattr(checkpoint, "MAX_ARRAYS", 2)
    assert "3 arrays, more than the limit of 2" in refused_to_write(
        {"a": np.zeros(1), "b": np.zeros(1)}, {"iterations": np.array(1)})


def test_a_checkpoint_at_the_size_limit_saves_and_loads_one_byte_under_neither(tmp_path, monkeypatch):
    params = {"a": np.zeros(100), "b": np.zeros(100)}
    data = checkpoint_bytes(params, {}, {})
    path = tmp_path / "model.safetensors"
    path.write_bytes(data)
    monkeypatch.setattr(checkpoint, "MAX_CHECKPOINT_BYTES", len(data))
    assert checkpoint_bytes(params, {}, {}) == data
    assert load_checkpoint(path).params.keys() == params.keys()
    monkeypatch.setattr(checkpoint, "MAX_CHECKPOINT_BYTES", len(data) - 1)
    assert f"would take {len(data)} bytes, more than the limit of {len(data) - 1}" in (
        refused_to_write(params))
    assert f"{len(data)} bytes, more than the limit of {len(data) - 1}" in refused(path)


# ------------------------------------------------------------ refused when reading
def test_missing_file(tmp_path):
    assert "no such checkpoint file" in refused(tmp_path / "absent.safetensors")


def test_a_folder_or_fifo_is_refused_without_waiting(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    assert "not a regular file" in refused(tmp_path / "pipe")
    assert "not a regular file" in refused(tmp_path)


@pytest.mark.parametrize("content", [b"", b"hello", np.random.default_rng(0).bytes(4096),
                                     b"\x80\x04K\x01.", b"\x00" * 64])
def test_files_that_are_not_checkpoints(tmp_path, content):
    path = tmp_path / "junk.safetensors"
    path.write_bytes(content)
    message = refused(path)
    assert "not a checkpoint" in message or "damaged" in message


def test_a_plain_npy_file(tmp_path):
    path = tmp_path / "array.npy"
    np.save(path, np.arange(3))
    assert "not a checkpoint" in refused(path)


def test_an_old_model_npz_is_refused_naming_its_format(tmp_path):
    path = tmp_path / "model.npz"
    header = np.frombuffer(json.dumps({"metadata": {"epoch": 3}, "format_version": 1}).encode(),
                           dtype=np.uint8)
    np.savez(path, **{"param/w": np.ones(3, np.float32), "header": header})
    message = refused(path)
    assert "a model.npz checkpoint of format version 1" in message
    assert "format version 2 (model.safetensors)" in message


def test_a_safetensors_file_of_another_program(tmp_path):
    path = tmp_path / "other.safetensors"
    path.write_bytes(safetensors.numpy.save({"weights": np.zeros(3)}))
    assert "not a jazz-lstm checkpoint" in refused(path)
    path.write_bytes(safetensors.numpy.save({"weights": np.zeros(3)}, {"format": "pt"}))
    assert "not a jazz-lstm checkpoint" in refused(path)


@pytest.mark.parametrize("text, expected", [
    ("{not json", "metadata is not JSON"),
    ('{"format_version": 2, "metadata": {"loss": NaN}}', "NaN is not allowed"),
    ('{"format_version": 2, "metadata": {"loss": -Infinity}}', "-Infinity is not allowed"),
    ('{"format_version": 2, "metadata": {"n": 1' + "0" * 5000 + "}}", "metadata is not JSON"),
    ('[1, 2]', "lacks the metadata object"),
    ('{"format_version": 3, "metadata": {}}', "format version 3, this program reads version 2"),
])
def test_bad_documents(tmp_path, text, expected):
    path = tmp_path / "m.safetensors"
    path.write_bytes(raw_file(with_arrays({}, text)))
    assert expected in refused(path)


@pytest.mark.parametrize("depth", [checkpoint.MAX_METADATA_DEPTH - 1, 100_000])
def test_metadata_nested_too_deeply_is_refused_quickly(tmp_path, depth):
    text = '{"format_version": 2, "metadata": {"deep": ' + "[" * depth + "]" * depth + "}}"
    path = tmp_path / "m.safetensors"
    path.write_bytes(raw_file(with_arrays({}, text)))
    started = time.perf_counter()
    assert "nested more than 64 levels" in refused(path)
    assert time.perf_counter() - started < 1.0


def test_metadata_at_the_depth_limit_loads(tmp_path):
    depth = checkpoint.MAX_METADATA_DEPTH - 2  # with the document and the metadata dict
    deep = {"deep": nested_lists(depth - 1)}
    path = tmp_path / "m.safetensors"
    path.write_bytes(raw_file(with_arrays({}, document(deep, sha256=arrays_digest({})))))
    assert load_checkpoint(path).metadata == deep


def test_metadata_of_a_million_tiny_objects_is_refused_before_parsing(tmp_path):
    # 3 bytes of text each, about 60 bytes each once parsed.
    many = {"x": [{}] * (checkpoint.MAX_METADATA_CONTAINERS + 1)}
    with pytest.raises(CheckpointError, match="objects and lists"):
        checkpoint_bytes({"w": np.zeros(1)}, {}, many)
    path = tmp_path / "many.safetensors"
    path.write_bytes(raw_file(with_arrays({}, document(many))))
    assert "objects and lists" in refused(path)


@pytest.mark.parametrize("keep", [0.01, 0.1, 0.5, 0.9, 0.999])
def test_truncated_files(tmp_path, keep):
    path = tmp_path / "model.safetensors"
    save_sample(path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    message = refused(path)
    assert "damaged or truncated" in message or "not a checkpoint" in message


def test_a_flipped_byte_inside_an_array_is_detected(tmp_path):
    path = tmp_path / "model.safetensors"
    path.write_bytes(checkpoint_bytes({"w": np.full(1000, 0.5)}, {}, {}))
    data = bytearray(path.read_bytes())
    where = data.index(np.full(8, 0.5).tobytes())
    data[where + 3] ^= 0xFF
    path.write_bytes(bytes(data))
    assert "do not match the digest" in refused(path)


def test_a_header_longer_than_the_file_or_the_limit_is_refused_before_reading(tmp_path):
    path = tmp_path / "m.safetensors"
    path.write_bytes(raw_file(with_arrays({}), length=10 ** 6))
    assert "its header announces 1000000 bytes" in refused(path)
    path.write_bytes(raw_file(with_arrays({}), length=checkpoint.MAX_HEADER_BYTES + 1))
    assert "more than the limit" in refused(path)


@pytest.mark.parametrize("shape", [(10**12,), (10**6, 10**6), (2**62, 4)])
def test_a_header_announcing_a_huge_array_is_refused_before_allocating(tmp_path, shape):
    path = tmp_path / "m.safetensors"
    path.write_bytes(raw_file(with_arrays({"param/w": ("F64", shape, 0, 64)}), b"\0" * 64))
    started = time.perf_counter()
    assert "damaged" in refused(path)
    assert time.perf_counter() - started < 1.0


@pytest.mark.slow
def test_a_huge_announced_array_is_refused_with_bounded_memory(tmp_path):
    path = tmp_path / "m.safetensors"
    path.write_bytes(raw_file(with_arrays({"param/w": ("F64", (500 << 17,), 0, 64)}),
                              b"\0" * 64))
    script = ("import resource, sys\n"
              "from lstm_np.checkpoint import CheckpointError, load_checkpoint\n"
              "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
              "try:\n"
              "    load_checkpoint(sys.argv[1])\n"
              "except CheckpointError as error:\n"
              "    print(error, file=sys.stderr)\n"
              "    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)\n")
    done = subprocess.run([sys.executable, "-c", script, str(path)], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert "damaged" in done.stderr
    assert int(done.stdout) < 50_000  # kilobytes


@pytest.mark.parametrize("dtype, data, expected", [
    ("F64", np.array([1.0, np.nan]).tobytes(), "holds NaN or infinite"),
    ("F32", np.array([np.inf], np.float32).tobytes(), "holds NaN or infinite"),
    ("I64", np.arange(3).tobytes(), "dtype int64; it must be float16/32/64"),
    ("BOOL", b"\x01", "dtype bool; it must be float16/32/64"),
    ("BF16", b"\0\0", "dtype BF16, not a plain number type"),
    ("C64", b"\0" * 8, "dtype C64, not a plain number type"),
])
def test_weights_that_are_not_finite_floats(tmp_path, dtype, data, expected):
    size = {"F64": 8, "F32": 4, "I64": 8, "BOOL": 1, "BF16": 2, "C64": 8}[dtype]
    path = tmp_path / "m.safetensors"
    path.write_bytes(raw_file(with_arrays({"param/w": (dtype, (len(data) // size,), 0,
                                                       len(data))}), data))
    message = refused(path)
    assert "'param/w'" in message and expected in message


def test_optimizer_state_may_hold_integers_but_not_nan(tmp_path):
    data = np.array(3).tobytes() + np.array([np.nan]).tobytes()
    path = tmp_path / "m.safetensors"
    path.write_bytes(raw_file(with_arrays({"optim/iterations": ("I64", (), 0, 8),
                                           "optim/m/w": ("F64", (1,), 8, 16)}), data))
    assert "'optim/m/w' holds NaN" in refused(path)


def test_an_unexpected_array(tmp_path):
    path = tmp_path / "m.safetensors"
    path.write_bytes(raw_file(with_arrays({"stray": ("F64", (1,), 0, 8)}), bytes(8)))
    assert "unexpected array 'stray'" in refused(path)


def test_an_array_named_twice(tmp_path):
    entry = '{"dtype": "F64", "shape": [1], "data_offsets": [0, 8]}'
    text = ('{"__metadata__": {"jazz-lstm": ' + json.dumps(document()) + '}, '
            f'"param/w": {entry}, "param/w": {entry}}}')
    path = tmp_path / "m.safetensors"
    path.write_bytes(raw_file(text, bytes(8)))
    assert "damaged" in refused(path)


def test_too_many_arrays(tmp_path, monkeypatch):
    path = tmp_path / "model.safetensors"
    path.write_bytes(checkpoint_bytes({"a": np.zeros(1), "b": np.zeros(1)}, {}, {}))
    monkeypatch.setattr(checkpoint, "MAX_ARRAYS", 1)
    assert "2 arrays, more than the limit of 1" in refused(path)


def test_size_limits_when_reading(tmp_path, monkeypatch):
    path = tmp_path / "model.safetensors"
    path.write_bytes(checkpoint_bytes({"a": np.zeros(1000), "b": np.zeros(1000)}, {},
                                      {"text": "x" * 300}))
    size = path.stat().st_size
    monkeypatch.setattr(checkpoint, "MAX_CHECKPOINT_BYTES", size - 1)
    assert f"{size} bytes, more than the limit of {size - 1}" in refused(path)
    monkeypatch.undo()
    monkeypatch.setattr(checkpoint, "MAX_METADATA_BYTES", 300)
    assert "metadata of more than 300 bytes" in refused(path)
    monkeypatch.undo()
    monkeypatch.setattr(checkpoint, "MAX_HEADER_BYTES", 100)
    assert "more than the limit of 100" in refused(path)


# ------------------------------------------------------------ atomic writes
@pytest.mark.parametrize("failure", ["fsync", "replace", "keyboard"])
def test_an_interrupted_save_keeps_the_old_checkpoint(tmp_path, monkeypatch, failure):
    path = tmp_path / "model.safetensors"
    params, _, _ = save_sample(path)
    error = {"fsync": OSError("I/O error"), "replace": OSError("EXDEV"),
             "keyboard": KeyboardInterrupt()}[failure]

    def fail(*args):
        raise error
    monkeypatch.setattr(os, "replace" if failure == "replace" else "fsync", fail)
    with pytest.raises(type(error)):
        save_checkpoint(path, {"w": np.ones(3)}, {}, {"epoch": 99})
    monkeypatch.undo()

    assert os.listdir(tmp_path) == ["model.safetensors"]  # no temporary files left behind
    loaded = load_checkpoint(path)
    assert loaded.metadata == METADATA
    assert bits(loaded.params["head.b"]) == bits(params["head.b"])
