"""The smaller cases of issue 22 (cause 11): limits that options could bypass, error lines
that stay short and name the file, and the Python API's boundary, which takes any wrong type
or value with one of the documented exceptions."""
import errno
import math
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jazz_lstm
from jazz_lstm.runs import UsageError
from lstm_np.checkpoint import CheckpointError
from music.files import write_file_atomically
from music.song import MusicError
from tests.test_cli import assert_clean_error, run_cli

pytestmark = pytest.mark.bounded   # issue 22: within 60 s and 1.5 GB (tests/bounds.py)

DOCUMENTED = (UsageError, MusicError, CheckpointError, ValueError)


@pytest.mark.parametrize("arguments, fragment", [
    (["--chords", "C7 | " * 5000], "--chords gives 5000 bars; a solo has at most 1000"),
    (["--time-signature", "1/32"], "a bar of 1/8 quarter does not fill whole steps"),
    (["--chords", "C7" + "x" * 10_000], "C7xxx"),
])
def test_sample_options_cannot_bypass_a_limit_and_errors_stay_one_short_line(
        small_run, arguments, fragment):
    result = run_cli("sample", "--run", "X", "--out", "solo.mid", *arguments, cwd=small_run)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]   # argparse's usage may come before it
    assert "error: " in last and fragment in last and len(last) < 500
    assert not (small_run / "solo.mid").exists()


def test_a_csv_that_is_no_wjazzd_solo_says_what_it_lacks(tmp_path):
    table = tmp_path / "scores.csv"
    table.write_text("name,score\nx,1\n")
    assert_clean_error(run_cli("corpus", "--data", str(table), cwd=tmp_path),
                       "scores.csv: not a WJazzD melody CSV (no column onset")


def test_a_full_disk_names_the_file_and_the_epoch_kept(tmp_path, monkeypatch):
    def full(descriptor):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError) as caught:
        write_file_atomically(tmp_path / "solo.mid", b"MThd")
    assert str(tmp_path / "solo.mid") in str(caught.value) and "No space" in str(caught.value)
    assert os.listdir(tmp_path) == []
    with pytest.raises(OSError) as caught:
        jazz_lstm.train(data=["music21:leadSheet/fosterBrownHair.mxl"], epochs=1, hidden=8,
                        progress=False, run_dir=tmp_path / "runs" / "full")
    assert str(caught.value) == (f"cannot save epoch 1 to {tmp_path / 'runs' / 'full' / 'model.safetensors'}"
                                 " (No space left on device); it keeps what it held before")


WRONG = st.one_of(st.none(), st.booleans(), st.integers(-10, 10 ** 12),
                  st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
                  st.lists(st.integers(-3, 40), max_size=3), st.tuples(st.integers(-3, 40)))
SAMPLE_OPTIONS = ("chords", "bars", "seed", "temperature", "top_k", "tempo", "length", "band",
                  "swing", "time_signature")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(SAMPLE_OPTIONS), WRONG, min_size=1, max_size=3))
def test_run_sample_takes_wrong_types_and_values_with_documented_exceptions(small_run, options):
    run = jazz_lstm.open_run(small_run / "runs" / "X")
    try:
        solo = run.sample(**options)
    except DOCUMENTED:
        return
    # Accepted: then every value was one sample allows.
    assert solo.song.measures and math.isfinite(solo.seconds())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(WRONG)
def test_open_run_and_the_writers_take_wrong_paths_with_documented_exceptions(small_run, path):
    with pytest.raises(DOCUMENTED + (OSError,)):
        jazz_lstm.open_run(path)
    solo = jazz_lstm.open_run(small_run / "runs" / "X").sample(bars=1)
    for write in (solo.write_midi, solo.write_musicxml, solo.write_html):
        if not isinstance(path, str):
            with pytest.raises(ValueError, match="an output is named by text or a path"):
                write(path)


# Not epochs or hidden: a valid draw of 500,000 epochs or 4096 units would train for hours
# (their wrong values are in the parametrized test above).
TRAIN_OPTIONS = ("seed", "validation_share", "lr", "batch_size", "patience")


@pytest.fixture(scope="module")
def tiny_solos(tmp_path_factory):
    from tests.test_wjazzd_csv import note_row, write_solo

    root = tmp_path_factory.mktemp("tiny") / "db"
    for number in range(3):
        write_solo(root, f"T{number}_Solo", [note_row(1, beat, 60 + number + beat)
                                             for beat in (1, 2, 3, 4)])
    return root


@pytest.mark.parametrize("options", [
    {"seed": None}, {"seed": 1.5}, {"validation_share": 2}, {"lr": math.nan}, {"epochs": 0},
    {"epochs": "3"}, {"epochs": 2.5}, {"data": 5}, {"data": "absent.csv"}])
def test_train_refuses_what_would_not_open_before_the_first_epoch(tiny_solos, tmp_path, options):
    arguments = {"data": [str(tiny_solos)], "epochs": 1, "hidden": 8, **options}
    with pytest.raises(DOCUMENTED) as caught:
        jazz_lstm.train(progress=False, run_dir=tmp_path / "run", **arguments)
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "run" / "model.safetensors").exists()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(TRAIN_OPTIONS), WRONG, min_size=1, max_size=2))
def test_train_takes_wrong_settings_with_documented_exceptions_or_a_run_that_opens(
        tiny_solos, tmp_path_factory, options):
    folder = tmp_path_factory.mktemp("hypothesis") / "run"
    arguments = {"epochs": 1, "hidden": 8, **options}
    try:
        jazz_lstm.train(data=[str(tiny_solos)], progress=False, run_dir=folder, **arguments)
    except DOCUMENTED:
        assert not (folder / "model.safetensors").exists()
        return
    assert jazz_lstm.open_run(folder).sample(bars=1).song.measures
