"""Checkpoints: bit-exact round trips, every bad file refused clearly, atomic writes."""
import os

import numpy as np
import pytest

from lstm_np import checkpoint
from lstm_np.checkpoint import Checkpoint, CheckpointError, load_checkpoint, save_checkpoint
from lstm_np.optim import Adam

METADATA = {
    "config": {"n_a": 64, "n_values": 78, "dtype": "float32"},
    "vocabulary": ["C,0.250,<m2,P-4>", "S,0.500,<d1,P1>", "é ♭ ♯"],
    "epoch": 12,
    "seed": 1234,
}


def sample_params():
    rng = np.random.default_rng(0)
    special = np.array([np.nan, np.inf, -np.inf, -0.0, 5e-324, np.finfo(np.float64).max])
    return {
        "lstm0.W": rng.normal(size=(4, 12)).astype(np.float32),
        "lstm0.b": np.array([np.nan, -0.0, np.inf, 1e-45], dtype=np.float32),
        "head.W": rng.normal(size=(3, 4)),
        "head.b": special,
        "scalar": np.array(2.5),
    }


def bits(array):
    """The raw bytes of an array, so that nan payloads and -0.0 count."""
    return array.dtype, array.shape, array.tobytes()


def save_sample(path):
    params = sample_params()
    optimizer_state = {"iterations": np.array(7, dtype=np.int64), "m/head.W": np.ones((3, 4))}
    save_checkpoint(path, params, optimizer_state, METADATA)
    return params, optimizer_state


def resave_with(path, replacements, drop=()):
    """Rewrite a saved checkpoint's archive with entries replaced or dropped, format-agnostically."""
    with np.load(path, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files if key not in drop}
    arrays.update(replacements)
    with open(path, "wb") as file:
        np.savez(file, **arrays)


def header_key(path):
    with np.load(path) as archive:
        (key,) = [k for k in archive.files if not k.startswith(("param/", "optim/"))]
    return key


def refused(path, **kwargs):
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(path, **kwargs)
    message = str(caught.value)
    assert str(path) in message and "\n" not in message
    return message


def test_round_trip_is_bit_exact(tmp_path):
    path = tmp_path / "model.npz"
    params, optimizer_state = save_sample(path)
    loaded = load_checkpoint(path)
    assert isinstance(loaded, Checkpoint)
    assert loaded.params.keys() == params.keys()
    for name, array in params.items():
        assert bits(loaded.params[name]) == bits(array)
    for name, array in optimizer_state.items():
        assert bits(loaded.optimizer_state[name]) == bits(array)
    assert loaded.metadata == METADATA


def test_expected_shapes_that_match_are_accepted(tmp_path):
    path = tmp_path / "model.npz"
    params, _ = save_sample(path)
    loaded = load_checkpoint(path, expected_shapes={n: a.shape for n, a in params.items()})
    assert loaded.params.keys() == params.keys()


def test_path_is_used_exactly_and_parent_folders_are_created(tmp_path):
    path = tmp_path / "runs" / "deep" / "latest"  # no .npz suffix
    assert save_checkpoint(path, {"w": np.zeros(2)}, {}, {}) == path
    assert os.listdir(path.parent) == ["latest"]
    assert load_checkpoint(path).optimizer_state == {}


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
    save_checkpoint(tmp_path / "c.npz", first_half, adam.state_dict(), {})
    loaded = load_checkpoint(tmp_path / "c.npz", expected_shapes={"w": (2, 3)})
    resumed_adam = Adam(lr=0.01, decay=0.01)
    resumed_adam.load_state_dict(loaded.optimizer_state)
    for g in grads[3:]:
        resumed_adam.step(loaded.params, g)
    assert bits(loaded.params["w"]) == bits(straight["w"])


def test_unserialisable_metadata_and_object_arrays_are_refused_on_save(tmp_path):
    path = tmp_path / "model.npz"
    with pytest.raises(CheckpointError, match="metadata is not JSON"):
        save_checkpoint(path, {"w": np.zeros(1)}, {}, {"seed": np.int64(3)})
    with pytest.raises(CheckpointError, match="param/w: it holds Python objects"):
        save_checkpoint(path, {"w": np.array([{}], dtype=object)}, {}, {})
    assert not path.exists()


def test_missing_file(tmp_path):
    assert "no such checkpoint file" in refused(tmp_path / "absent.npz")


@pytest.mark.parametrize("content", [b"", b"hello", os.urandom(4096), b"\x80\x04K\x01."])
def test_files_that_are_not_archives(tmp_path, content):
    path = tmp_path / "junk.npz"
    path.write_bytes(content)
    assert "not a checkpoint" in refused(path)


def test_a_plain_npy_file(tmp_path):
    path = tmp_path / "array.npy"
    np.save(path, np.arange(3))
    assert "not a checkpoint" in refused(path)


def test_an_npz_without_our_header(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, weights=np.zeros(3))
    assert "not a jazz-lstm checkpoint" in refused(path)


def test_a_header_that_is_not_json(tmp_path):
    path = tmp_path / "model.npz"
    save_sample(path)
    resave_with(path, {header_key(path): np.frombuffer(b"\xff{not json", dtype=np.uint8)})
    assert "header" in refused(path)


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9, 0.999])
def test_truncated_files(tmp_path, keep):
    path = tmp_path / "model.npz"
    save_sample(path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    assert "damaged or truncated" in refused(path)


def test_a_flipped_byte_inside_an_array_is_detected(tmp_path):
    path = tmp_path / "model.npz"
    save_checkpoint(path, {"w": np.full(1000, 0.5)}, {}, {})
    data = bytearray(path.read_bytes())
    where = data.index(np.full(8, 0.5).tobytes())
    data[where + 3] ^= 0xFF
    path.write_bytes(bytes(data))
    assert "'param/w' is damaged" in refused(path)


def test_a_pickled_object_array(tmp_path):
    path = tmp_path / "model.npz"
    save_sample(path)
    resave_with(path, {"param/evil": np.array([{"run": "code"}], dtype=object)})
    message = refused(path)
    assert "'param/evil'" in message and "pickled" in message


def test_another_format_version(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    monkeypatch.setattr(checkpoint, "FORMAT_VERSION", 2)
    save_sample(path)
    monkeypatch.undo()
    message = refused(path)
    assert "format version 2" in message and "version 1" in message


def test_an_unexpected_entry(tmp_path):
    path = tmp_path / "model.npz"
    save_sample(path)
    resave_with(path, {"stray": np.zeros(1)})
    assert "'stray'" in refused(path)


def test_shapes_that_do_not_match(tmp_path):
    path = tmp_path / "model.npz"
    params, _ = save_sample(path)
    shapes = {name: array.shape for name, array in params.items()}
    message = refused(path, expected_shapes={**shapes, "lstm0.W": (4, 16)})
    assert "'lstm0.W'" in message and "(4, 12)" in message and "(4, 16)" in message


def test_missing_and_unexpected_parameters(tmp_path):
    path = tmp_path / "model.npz"
    params, _ = save_sample(path)
    shapes = {name: array.shape for name, array in params.items()}
    assert "missing parameters lstm1.W" in refused(path, expected_shapes={**shapes, "lstm1.W": (2, 2)})
    del shapes["scalar"]
    assert "unexpected parameters scalar" in refused(path, expected_shapes=shapes)


class Interrupted(Exception):
    pass


def failing_savez_after_partial_write(file, **arrays):
    file.write(b"PK\x03\x04 half a checkpoint")
    raise Interrupted("disk full")


@pytest.mark.parametrize("failure", ["savez", "fsync", "replace", "keyboard"])
def test_an_interrupted_write_keeps_the_old_checkpoint(tmp_path, monkeypatch, failure):
    path = tmp_path / "model.npz"
    params, _ = save_sample(path)
    if failure == "savez":
        monkeypatch.setattr(np, "savez", failing_savez_after_partial_write)
        expected = Interrupted
    elif failure == "fsync":
        monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(OSError("I/O error")))
        expected = OSError
    elif failure == "replace":
        monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(OSError("EXDEV")))
        expected = OSError
    else:
        def interrupt(file, **arrays):
            file.write(b"PK\x03\x04")
            raise KeyboardInterrupt
        monkeypatch.setattr(np, "savez", interrupt)
        expected = KeyboardInterrupt

    with pytest.raises(expected):
        save_checkpoint(path, {"w": np.ones(3)}, {}, {"epoch": 99})
    monkeypatch.undo()

    assert os.listdir(tmp_path) == ["model.npz"]  # no temporary files left behind
    loaded = load_checkpoint(path)
    assert loaded.metadata == METADATA
    assert bits(loaded.params["head.b"]) == bits(params["head.b"])


def test_an_interrupted_first_write_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(np, "savez", failing_savez_after_partial_write)
    with pytest.raises(Interrupted):
        save_checkpoint(tmp_path / "model.npz", {"w": np.ones(3)}, {}, {})
    assert os.listdir(tmp_path) == []
