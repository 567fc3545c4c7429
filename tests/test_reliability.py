"""Reliability end to end: signals save, paths stay put, bad options and checkpoints get one line."""
import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jazz_lstm
from lstm_np.checkpoint import CheckpointError, checkpoint_bytes, load_checkpoint

from tests.test_cli import CLI, SMALL_PIECE, interrupt_training, run_cli

pytestmark = pytest.mark.bounded   # issue 22: within 60 s and 1.5 GB (tests/bounds.py)


def assert_one_error_line(result, *fragments):
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ") or "error:" in lines[-1], result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reliable")
    run = jazz_lstm.train(data=[SMALL_PIECE], epochs=2, hidden=8, seed=0, progress=False,
                          run_dir=folder / "runs" / "small")
    return folder, run


@pytest.mark.slow
@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_save_like_ctrl_c(tmp_path, signal_number):
    interrupt_training(tmp_path, "killed", 3, signal_number)
    saved = jazz_lstm.open_run(tmp_path / "runs" / "killed" / "model.safetensors").record
    assert saved.epoch >= 3
    assert not [path for path in (tmp_path / "runs" / "killed").iterdir()
                if "tmp" in path.name]


@pytest.mark.parametrize("name", ["../escaped", "/abs/path", "a/b", "..", ".hidden", ""])
def test_a_run_name_that_is_a_path_is_refused(tmp_path, name):
    result = run_cli("train", "--data", SMALL_PIECE, "--epochs", "1", "--run", name, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "--run" in result.stderr
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())
    assert not (tmp_path.parent / "escaped").exists()


@pytest.mark.parametrize("args", [
    ["train", "--seed", "-1"], ["train", "--hidden", "100000"], ["train", "--lr", "0"],
    ["train", "--lr", "nan"], ["sample", "--seed", "-1"], ["sample", "--tempo", "inf"],
    ["sample", "--tempo", "100000"], ["sample", "--tempo", "3.6"],
    ["sample", "--bars", "1000000000"], ["sample", "--length", "100000000"],
    ["evaluate", "--samples", "0"]])
def test_out_of_range_options_get_usage_and_status_2(tmp_path, args):
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "error:" in result.stderr and args[1] in result.stderr


def test_out_refuses_a_fifo_and_a_symlink_and_colliding_outputs(small_run, tmp_path):
    folder, run = small_run
    fifo = tmp_path / "pipe.mid"
    os.mkfifo(fifo)
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    link = tmp_path / "link.mid"
    link.symlink_to(target)
    for out in (fifo, link):
        result = run_cli("sample", "--checkpoint", str(run.path), "--out", str(out), cwd=folder)
        assert_one_error_line(result, str(out))
    assert fifo.is_fifo() and link.is_symlink() and target.read_text() == "keep me"
    # --out x.wav --wav: one WAV, not a WAV over the MIDI.
    result = run_cli("sample", "--checkpoint", str(run.path), "--out", str(tmp_path / "x.wav"),
                     "--wav", cwd=folder)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "x.wav").read_bytes()[:4] == b"RIFF" and not (tmp_path / "x.mid").exists()
    result = run_cli("sample", "--checkpoint", str(run.path), "--out", str(tmp_path / "y.mid"),
                     "--html", str(tmp_path / "y.mid"), cwd=folder)
    assert_one_error_line(result, "same file")
    result = run_cli("sample", "--checkpoint", str(run.path), "--out", str(tmp_path / "y.txt"),
                     cwd=folder)
    assert_one_error_line(result, "unknown file type")


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
def test_out_refuses_a_device_node(small_run, tmp_path):
    folder, run = small_run
    device = tmp_path / "null.mid"
    os.mknod(device, 0o666 | 0o020000, os.stat("/dev/null").st_rdev)
    result = run_cli("sample", "--checkpoint", str(run.path), "--out", str(device), cwd=folder)
    assert_one_error_line(result, "not a regular file")


def test_empty_chords_and_run_with_checkpoint_are_refused(small_run):
    folder, run = small_run
    assert_one_error_line(run_cli("sample", "--run", "small", "--chords", "", cwd=folder),
                          "--chords")
    assert_one_error_line(run_cli("sample", "--run", "small", "--checkpoint", str(run.path),
                                  cwd=folder), "not both")


def test_resume_refuses_a_seed_and_too_few_epochs(small_run):
    folder, _ = small_run
    assert_one_error_line(run_cli("train", "--resume", "--run", "small", "--seed", "99",
                                  cwd=folder), "--seed")
    assert_one_error_line(run_cli("train", "--resume", "--run", "small", "--epochs", "2",
                                  cwd=folder), "above 2")


@pytest.mark.parametrize("title", ["\x1b[2J cleared", "two\nlines", 7, "x" * 201])
def test_a_chords_title_that_cannot_be_printed_is_refused(small_run, tmp_path, title):
    _, run = small_run
    def retitle(record):
        record["music"]["chords_title"] = title
    with pytest.raises(CheckpointError, match="chords_title"):
        jazz_lstm.open_run(_with_record(run, tmp_path, retitle))


def _with_record(run, folder, change):
    """A copy of the run's checkpoint whose run record (as JSON) ``change`` edited."""
    checkpoint = load_checkpoint(run.path)
    metadata = json.loads(json.dumps(checkpoint.metadata))
    change(metadata)
    path = folder / "changed.safetensors"
    path.write_bytes(checkpoint_bytes(checkpoint.params, checkpoint.optimizer_state, metadata,
                                      checkpoint.data))
    return path


def test_a_vocabulary_its_grammar_cannot_read_is_refused(small_run, tmp_path):
    _, run = small_run
    assert run.record.grammar == "exact" and "|" in run.record.vocabulary

    def call_it_classic(record):
        record["train"]["grammar"] = "classic"
    with pytest.raises(CheckpointError, match="does not fit the classic grammar: bad grammar "
                                              "token"):
        jazz_lstm.open_run(_with_record(run, tmp_path, call_it_classic))

    def drop_bar_line(record):
        vocabulary = record["vocabulary"]
        vocabulary[vocabulary.index("|")] = "NC11+124,48"   # valid, but no bar line left
    with pytest.raises(CheckpointError, match="no bar line token"):
        jazz_lstm.open_run(_with_record(run, tmp_path, drop_bar_line))


def test_nan_weights_are_refused(small_run, tmp_path):
    _, run = small_run
    checkpoint = load_checkpoint(run.path)
    params = dict(checkpoint.params)
    name = next(iter(params))
    params[name] = params[name].copy()
    params[name].flat[0] = np.nan
    path = tmp_path / "nan.safetensors"
    with pytest.raises(CheckpointError):
        path.write_bytes(checkpoint_bytes(params, checkpoint.optimizer_state, checkpoint.metadata,
                                          checkpoint.data))
        jazz_lstm.open_run(path)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10 ** 12, 10 ** 12)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6),
                                                                        children, max_size=4),
    max_leaves=12)


def _paths(value, prefix=()):
    """Every key path into a JSON value."""
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, prefix + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value[:3]):
            yield from _paths(child, prefix + (index,))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_metadata_gives_a_solo_or_a_checkpoint_error(small_run, tmp_path, data):
    _, run = small_run
    checkpoint = load_checkpoint(run.path)
    metadata = json.loads(json.dumps(checkpoint.metadata))
    paths = [path for path in _paths(metadata) if path]
    path = data.draw(st.sampled_from(paths))
    holder = metadata
    for key in path[:-1]:
        holder = holder[key]
    if data.draw(st.booleans()) and isinstance(holder, dict):
        del holder[path[-1]]
    else:
        holder[path[-1]] = data.draw(JSON_VALUES)
    target = tmp_path / "mutated.safetensors"
    try:
        target.write_bytes(checkpoint_bytes(checkpoint.params, checkpoint.optimizer_state,
                                            metadata, checkpoint.data))
        solo = jazz_lstm.open_run(target).sample(bars=2, seed=1)
    except CheckpointError:
        return
    assert len(solo.song.measures) == 2


def test_a_closed_stderr_stops_nothing(tmp_path):
    result = subprocess.run(
        f"{sys.executable} {CLI} train --data {SMALL_PIECE} --epochs 2 --hidden 4 --run quiet 2>&-",
        shell=True, cwd=tmp_path, capture_output=False, stdout=subprocess.PIPE, text=True,
        timeout=300)
    assert result.returncode == 0
    assert "wrote runs/quiet/model.safetensors" in result.stdout
    assert jazz_lstm.open_run(tmp_path / "runs" / "quiet").record.epoch == 2
