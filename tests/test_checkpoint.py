"""Checkpoints: bit-exact round trips, byte-identical files, every bad or hostile file
refused clearly, quickly and without big allocations, atomic writes."""
import io
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from numpy.lib import format as npy_format

from lstm_np import checkpoint
from lstm_np.checkpoint import Checkpoint, CheckpointError, checkpoint_bytes, load_checkpoint
from lstm_np.optim import Adam
from music.files import write_file_atomically


def save_checkpoint(path, params, optimizer_state, metadata):
    """How the project saves a checkpoint: its bytes, through the one safe writer."""
    return write_file_atomically(path, checkpoint_bytes(params, optimizer_state, metadata))

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
    }


def sample_optimizer_state():
    return {"iterations": np.array(7, dtype=np.int64), "m/head.W": np.ones((3, 4)),
            "flags": np.array([True, False])}


def bits(array):
    """The raw bytes of an array, so that -0.0 and subnormals count."""
    return array.dtype, array.shape, np.ascontiguousarray(array).tobytes()


def save_sample(path):
    params, optimizer_state = sample_params(), sample_optimizer_state()
    path.write_bytes(checkpoint_bytes(params, optimizer_state, METADATA))
    return params, optimizer_state


def npy(array):
    buffer = io.BytesIO()
    npy_format.write_array(buffer, np.asarray(array), allow_pickle=True)
    return buffer.getvalue()


def npy_header_only(shape, descr="<f8"):
    """A .npy header announcing ``shape`` with no data after it."""
    buffer = io.BytesIO()
    npy_format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def header_npy(text):
    return npy(np.frombuffer(text.encode("utf-8"), dtype=np.uint8))


GOOD_HEADER = json.dumps({"format_version": 1, "metadata": {"epoch": 1}})


def write_archive(path, entries, compression=zipfile.ZIP_STORED):
    """A zip of (name, bytes) entries, the header entry first unless given."""
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return path


def refused(path, **kwargs):
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(path, **kwargs)
    message = str(caught.value)
    assert str(path) in message and "\n" not in message
    return message


def refused_to_write(params, optimizer_state=None, metadata=None):
    with pytest.raises(CheckpointError) as caught:
        checkpoint_bytes(params, optimizer_state or {}, metadata or {})
    assert "\n" not in str(caught.value)
    return str(caught.value)


# ------------------------------------------------------------ round trips
def test_round_trip_is_bit_exact(tmp_path):
    path = tmp_path / "model.npz"
    params, optimizer_state = save_sample(path)
    loaded = load_checkpoint(path)
    assert isinstance(loaded, Checkpoint)
    assert list(loaded.params) == list(params)
    for name, array in params.items():
        assert bits(loaded.params[name]) == bits(array)
    for name, array in optimizer_state.items():
        assert bits(loaded.optimizer_state[name]) == bits(array)
    assert loaded.metadata == METADATA


def test_the_same_checkpoint_gives_the_same_bytes_whatever_the_time_or_key_order(monkeypatch):
    first = checkpoint_bytes(sample_params(), sample_optimizer_state(), METADATA)
    monkeypatch.setattr(time, "time", lambda: 2_000_000_000.0)
    monkeypatch.setattr(time, "localtime", lambda *a: time.gmtime(2_000_000_000))
    reordered = dict(reversed(list(METADATA.items())))
    assert checkpoint_bytes(sample_params(), sample_optimizer_state(), reordered) == first
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert archive.namelist()[0] == "header.npy"


def test_the_file_is_a_plain_npz_that_numpy_reads(tmp_path):
    path = tmp_path / "model.npz"
    params, _ = save_sample(path)
    with np.load(path, allow_pickle=False) as archive:
        assert bits(archive["param/head.b"]) == bits(params["head.b"])
        header = json.loads(archive["header"].tobytes())
    assert header == {"format_version": 1, "metadata": METADATA}


def test_a_checkpoint_written_by_np_savez_still_loads(tmp_path):
    path = tmp_path / "old.npz"
    header = np.frombuffer(json.dumps({"metadata": {"epoch": 3}, "format_version": 1}).encode(),
                           dtype=np.uint8)
    with open(path, "wb") as file:
        np.savez(file, **{"param/w": np.ones(3, np.float32), "optim/iterations": np.array(2),
                          "header": header})
    loaded = load_checkpoint(path)
    assert loaded.metadata == {"epoch": 3}
    assert bits(loaded.params["w"]) == bits(np.ones(3, np.float32))
    assert loaded.optimizer_state["iterations"] == 2


def test_deflated_entries_within_the_ratio_load(tmp_path):
    values = np.random.default_rng(1).normal(size=300_000)  # 2.4 MB, barely compressible
    path = write_archive(tmp_path / "z.npz", [("header.npy", header_npy(GOOD_HEADER)),
                                               ("param/w.npy", npy(values))], zipfile.ZIP_DEFLATED)
    assert bits(load_checkpoint(path).params["w"]) == bits(values)


def test_parameters_come_back_by_name_and_shape(tmp_path):
    path = tmp_path / "model.npz"
    params, _ = save_sample(path)
    loaded = load_checkpoint(path)
    assert loaded.params.keys() == params.keys()
    assert {name: array.shape for name, array in loaded.params.items()} == \
        {name: array.shape for name, array in params.items()}


def test_save_checkpoint_uses_the_path_exactly_and_creates_parent_folders(tmp_path):
    path = tmp_path / "runs" / "deep" / "latest"  # no .npz suffix
    assert save_checkpoint(path, {"w": np.zeros(2)}, {}, {}) == path
    assert os.listdir(path.parent) == ["latest"]
    assert path.read_bytes() == checkpoint_bytes({"w": np.zeros(2)}, {}, {})


def test_saving_over_a_checkpoint_replaces_it(tmp_path):
    path = tmp_path / "model.npz"
    save_checkpoint(path, {"w": np.zeros(2)}, {}, {"epoch": 1})
    save_checkpoint(path, {"w": np.ones(2)}, {}, {"epoch": 2})
    loaded = load_checkpoint(path)
    assert loaded.metadata == {"epoch": 2}
    assert np.array_equal(loaded.params["w"], np.ones(2))
    assert os.listdir(tmp_path) == ["model.npz"]


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
    (tmp_path / "c.npz").write_bytes(checkpoint_bytes(first_half, adam.state_dict(), {}))
    loaded = load_checkpoint(tmp_path / "c.npz")
    resumed_adam = Adam(lr=0.01, decay=0.01)
    resumed_adam.load_state_dict(loaded.optimizer_state)
    for g in grads[3:]:
        resumed_adam.step(loaded.params, g)
    assert bits(loaded.params["w"]) == bits(straight["w"])


# ------------------------------------------------------------ refused when writing
def test_unserialisable_metadata_and_object_arrays_are_refused_on_save(tmp_path):
    path = tmp_path / "model.npz"
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
    # The header document and the metadata dict are the first two levels.
    checkpoint_bytes({}, {}, {"deep": nested_lists(checkpoint.MAX_METADATA_DEPTH - 3)})
    assert "nested more than 64" in refused_to_write(
        {}, {}, {"deep": nested_lists(checkpoint.MAX_METADATA_DEPTH - 2)})
    assert "nested more than 64" in refused_to_write({}, {}, {"deep": nested_lists(100_000)})


def test_size_limits_when_writing(monkeypatch):
    monkeypatch.setattr(checkpoint, "MAX_ENTRY_BYTES", 1000)
    assert "entry param/w takes 1128 bytes" in refused_to_write({"w": np.zeros(125)})
    monkeypatch.setattr(checkpoint, "MAX_METADATA_BYTES", 100)
    # 128 bytes of .npy header + 97 of '{"format_version": 1, "metadata": {"text": "x...x"}}'
    assert "entry header takes 225 bytes" in refused_to_write({}, {}, {"text": "x" * 50})


def test_a_checkpoint_at_the_size_limit_saves_and_loads_one_byte_under_neither(tmp_path, monkeypatch):
    params = {"a": np.zeros(100), "b": np.zeros(100)}
    data = checkpoint_bytes(params, {}, {})
    path = tmp_path / "model.npz"
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
    assert "no such checkpoint file" in refused(tmp_path / "absent.npz")


def test_a_folder_or_fifo_is_refused_without_waiting(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    assert "not a regular file" in refused(tmp_path / "pipe")
    assert "not a regular file" in refused(tmp_path)


@pytest.mark.parametrize("content", [b"", b"hello", os.urandom(4096), b"\x80\x04K\x01."])
def test_files_that_are_not_archives(tmp_path, content):
    path = tmp_path / "junk.npz"
    path.write_bytes(content)
    assert "not a checkpoint" in refused(path)


def test_a_plain_npy_file(tmp_path):
    path = tmp_path / "array.npy"
    np.save(path, np.arange(3))
    assert "not a checkpoint" in refused(path)


def test_an_npz_without_our_entries(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, weights=np.zeros(3))
    assert "not a jazz-lstm checkpoint" in refused(path)


def test_an_npz_without_a_header(tmp_path):
    path = write_archive(tmp_path / "m.npz", [("param/w.npy", npy(np.zeros(2)))])
    assert "no 'header' entry" in refused(path)


@pytest.mark.parametrize("text, expected", [
    ("\udcff{not json", "not UTF-8 JSON"),
    ('{"format_version": 1, "metadata": {"loss": NaN}}', "NaN is not allowed"),
    ('{"format_version": 1, "metadata": {"loss": -Infinity}}', "-Infinity is not allowed"),
    ('{"format_version": 1, "metadata": {"n": 1' + "0" * 5000 + "}}", "not UTF-8 JSON"),
    ('[1, 2]', "lacks the metadata object"),
    ('{"format_version": 2, "metadata": {}}', "format version 2, this program reads version 1"),
])
def test_bad_headers(tmp_path, text, expected):
    data = text.encode("utf-8", "surrogateescape")
    path = write_archive(tmp_path / "m.npz", [("header.npy", npy(np.frombuffer(data, np.uint8)))])
    assert expected in refused(path)


def test_a_header_that_is_not_bytes(tmp_path):
    path = write_archive(tmp_path / "m.npz", [("header.npy", npy(np.zeros(3)))])
    assert "not a 1-D uint8 array" in refused(path)


@pytest.mark.parametrize("depth", [checkpoint.MAX_METADATA_DEPTH - 1, 100_000])
def test_metadata_nested_too_deeply_is_refused_quickly(tmp_path, depth):
    text = '{"format_version": 1, "metadata": {"deep": ' + "[" * depth + "]" * depth + "}}"
    path = write_archive(tmp_path / "m.npz", [("header.npy", header_npy(text))])
    started = time.perf_counter()
    assert "nested more than 64 levels" in refused(path)
    assert time.perf_counter() - started < 1.0


def test_metadata_at_the_depth_limit_loads(tmp_path):
    depth = checkpoint.MAX_METADATA_DEPTH - 2  # with the header document and the metadata dict
    text = '{"format_version": 1, "metadata": {"deep": ' + "[" * depth + "]" * depth + "}}"
    path = write_archive(tmp_path / "m.npz", [("header.npy", header_npy(text))])
    assert load_checkpoint(path).metadata == {"deep": nested_lists(depth - 1)}


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9, 0.999])
def test_truncated_files(tmp_path, keep):
    path = tmp_path / "model.npz"
    save_sample(path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    assert "damaged or truncated" in refused(path)


def test_a_flipped_byte_inside_an_array_is_detected(tmp_path):
    path = tmp_path / "model.npz"
    path.write_bytes(checkpoint_bytes({"w": np.full(1000, 0.5)}, {}, {}))
    data = bytearray(path.read_bytes())
    where = data.index(np.full(8, 0.5).tobytes())
    data[where + 3] ^= 0xFF
    path.write_bytes(bytes(data))
    assert "'param/w' is damaged" in refused(path)


def test_a_pickled_object_array(tmp_path):
    path = write_archive(tmp_path / "m.npz", [
        ("header.npy", header_npy(GOOD_HEADER)),
        ("param/evil.npy", npy(np.array([{"run": "code"}], dtype=object)))])
    message = refused(path)
    assert "'param/evil'" in message and "pickled" in message


@pytest.mark.parametrize("array, expected", [
    (np.array([1.0, np.nan]), "holds NaN or infinite"),
    (np.array([np.inf]), "holds NaN or infinite"),
    (np.arange(3), "dtype int64; it must be float16/32/64"),
    (np.array([True]), "dtype bool; it must be float16/32/64"),
    (np.zeros(2, np.complex64), "not a plain number type"),
    (np.zeros(2, dtype=[("a", "<f8")]), "not a plain number type"),
    (np.array(["text"]), "not a plain number type"),
])
def test_weights_that_are_not_finite_floats(tmp_path, array, expected):
    path = write_archive(tmp_path / "m.npz", [("header.npy", header_npy(GOOD_HEADER)),
                                               ("param/w.npy", npy(array))])
    message = refused(path)
    assert "'param/w'" in message and expected in message


def test_optimizer_state_may_hold_integers_but_not_nan(tmp_path):
    path = write_archive(tmp_path / "m.npz", [("header.npy", header_npy(GOOD_HEADER)),
                                               ("optim/iterations.npy", npy(np.array(3))),
                                               ("optim/m/w.npy", npy(np.array([np.nan])))])
    assert "'optim/m/w' holds NaN" in refused(path)


def test_an_unexpected_entry(tmp_path):
    path = write_archive(tmp_path / "m.npz", [("header.npy", header_npy(GOOD_HEADER)),
                                               ("stray.npy", npy(np.zeros(1)))])
    assert "'stray.npy'" in refused(path)


def test_an_entry_named_twice(tmp_path):
    with pytest.warns(UserWarning, match="Duplicate name"):
        path = write_archive(tmp_path / "m.npz", [("header.npy", header_npy(GOOD_HEADER)),
                                                   ("param/w.npy", npy(np.zeros(1))),
                                                   ("param/w.npy", npy(np.ones(1)))])
    assert "appears twice" in refused(path)


@pytest.mark.parametrize("shape", [(10**12,), (10**6, 10**6), (2**62, 4)])
def test_a_header_announcing_a_huge_array_is_refused_before_allocating(tmp_path, shape):
    path = write_archive(tmp_path / "m.npz", [("header.npy", header_npy(GOOD_HEADER)),
                                               ("param/w.npy", npy_header_only(shape) + b"\0" * 64)])
    started = time.perf_counter()
    message = refused(path)
    assert time.perf_counter() - started < 1.0
    assert f"announces shape {shape}" in message and "holds 64 bytes" in message


def test_a_header_announcing_fewer_bytes_than_the_entry_holds(tmp_path):
    path = write_archive(tmp_path / "m.npz", [("header.npy", header_npy(GOOD_HEADER)),
                                               ("param/w.npy", npy_header_only((2,)) + b"\0" * 24)])
    assert "announces shape (2,) of float64 (16 bytes) but holds 24 bytes" in refused(path)


def test_too_many_dimensions(tmp_path):
    shape = (1,) * (checkpoint.MAX_ARRAY_DIMENSIONS + 1)
    path = write_archive(tmp_path / "m.npz", [("header.npy", header_npy(GOOD_HEADER)),
                                               ("param/w.npy", npy_header_only(shape) + b"\0" * 8)])
    assert "impossible shape" in refused(path)


def test_bzip2_entries_are_refused(tmp_path):
    path = write_archive(tmp_path / "m.npz", [("header.npy", header_npy(GOOD_HEADER))],
                         zipfile.ZIP_BZIP2)
    assert "compression method 12" in refused(path)


def zip_bomb(path, unpacked_bytes):
    """A deflated float64 entry of zeros: ~1000 times smaller on disk than unpacked."""
    count = unpacked_bytes // 8
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("header.npy", header_npy(GOOD_HEADER))
        with archive.open("param/w.npy", "w", force_zip64=True) as entry:
            entry.write(npy_header_only((count,)))
            chunk = bytes(1 << 20)
            for _ in range(count * 8 // len(chunk)):
                entry.write(chunk)
    return path


def test_a_zip_bomb_is_refused_from_its_compression_ratio(tmp_path):
    path = zip_bomb(tmp_path / "bomb.npz", 64 << 20)
    assert path.stat().st_size < 100_000
    message = refused(path)
    assert "'param/w.npy' unpacks from" in message and "zip bomb" in message


@pytest.mark.slow
def test_a_zip_bomb_is_refused_with_bounded_memory(tmp_path):
    """The audit's 1.6 MB -> 1.6 GB entry reached 1.66 GB of memory before refusal;
    500 MiB stays under MAX_ENTRY_BYTES, so only the compression ratio stops it."""
    path = zip_bomb(tmp_path / "bomb.npz", 500 << 20)
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
    assert "zip bomb" in done.stderr
    assert int(done.stdout) < 50_000  # kilobytes


def test_size_limits_when_reading(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    path.write_bytes(checkpoint_bytes({"a": np.zeros(1000), "b": np.zeros(1000)}, {}, {}))
    assert path.stat().st_size == 16_735
    monkeypatch.setattr(checkpoint, "MAX_ENTRY_BYTES", 7000)
    assert "'param/a.npy' unpacks to 8128 bytes, more than the limit of 7000" in refused(path)
    monkeypatch.setattr(checkpoint, "MAX_CHECKPOINT_BYTES", 16_734)
    assert "16735 bytes, more than the limit of 16734" in refused(path)  # the file itself
    monkeypatch.undo()
    monkeypatch.setattr(checkpoint, "MAX_METADATA_BYTES", 10)
    assert "'header.npy' unpacks to" in refused(path)


def test_the_unpacked_total_is_limited_even_when_the_file_is_small(tmp_path, monkeypatch):
    path = write_archive(tmp_path / "m.npz", [("header.npy", header_npy(GOOD_HEADER)),
                                               ("param/a.npy", npy(np.zeros(1000))),
                                               ("param/b.npy", npy(np.zeros(1000)))],
                         zipfile.ZIP_DEFLATED)
    monkeypatch.setattr(checkpoint, "MAX_CHECKPOINT_BYTES", 16_000)
    assert path.stat().st_size < 2000
    assert "entries unpack to 16" in refused(path)


def test_directory_limits_when_reading(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    path.write_bytes(checkpoint_bytes({"a": np.zeros(1), "b": np.zeros(1)}, {}, {}))
    monkeypatch.setattr(checkpoint, "MAX_ENTRIES", 2)
    assert "3 entries, more than the limit of 2" in refused(path)
    monkeypatch.undo()
    monkeypatch.setattr(checkpoint, "MAX_DIRECTORY_BYTES", 100)
    assert "zip directory of" in refused(path)


def test_a_zip_comment_is_skipped_when_finding_the_directory(tmp_path):
    path = tmp_path / "model.npz"
    save_sample(path)
    with zipfile.ZipFile(path, "a") as archive:
        archive.comment = b"trained on the Weimar Jazz Database " * 10
    assert load_checkpoint(path).metadata == METADATA


def test_a_comment_holding_a_fake_end_record_is_refused(tmp_path):
    # zipfile itself trusts the last end record it finds, so such a file is unreadable.
    path = tmp_path / "model.npz"
    save_sample(path)
    with zipfile.ZipFile(path, "a") as archive:
        archive.comment = b"PK\x05\x06 looks like an end record" * 10
    refused(path)




# ------------------------------------------------------------ atomic writes
@pytest.mark.parametrize("failure", ["fsync", "replace", "keyboard"])
def test_an_interrupted_save_keeps_the_old_checkpoint(tmp_path, monkeypatch, failure):
    path = tmp_path / "model.npz"
    params, _ = save_sample(path)
    error = {"fsync": OSError("I/O error"), "replace": OSError("EXDEV"),
             "keyboard": KeyboardInterrupt()}[failure]

    def fail(*args):
        raise error
    monkeypatch.setattr(os, "replace" if failure == "replace" else "fsync", fail)
    with pytest.raises(type(error)):
        save_checkpoint(path, {"w": np.ones(3)}, {}, {"epoch": 99})
    monkeypatch.undo()

    assert os.listdir(tmp_path) == ["model.npz"]  # no temporary files left behind
    loaded = load_checkpoint(path)
    assert loaded.metadata == METADATA
    assert bits(loaded.params["head.b"]) == bits(params["head.b"])


def test_metadata_of_a_million_tiny_objects_is_refused_before_parsing(tmp_path):
    # 3 bytes of text each, about 60 bytes each once parsed: 64 MiB would be 3 GB.
    many = {"x": [{}] * (checkpoint.MAX_METADATA_CONTAINERS + 1)}
    with pytest.raises(CheckpointError, match="objects and lists"):
        checkpoint_bytes({"w": np.zeros(1)}, {}, many)
    header = json.dumps({"format_version": checkpoint.FORMAT_VERSION, "metadata": many})
    path = write_archive(tmp_path / "many.npz",
                         [("header.npy", npy(np.frombuffer(header.encode(), np.uint8))),
                          ("param/w.npy", npy(np.zeros(1)))])
    assert "objects and lists" in refused(path)
