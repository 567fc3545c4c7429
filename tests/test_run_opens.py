"""A run that trains is a run that opens (issue 22, cause 1): what the WJazzD reader accepts,
the run's checks accept too, so sample works after training, never "not a usable checkpoint"."""
import shutil
from pathlib import Path

import pytest

import jazz_lstm
from tests.test_cli import assert_clean_error, run_cli
from tests.test_wjazzd_csv import beat_row, note_row, write_solo

pytestmark = pytest.mark.bounded   # issue 22: within 60 s and 1.5 GB (tests/bounds.py)

WJAZZD = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "wjazzd"


def trains_and_samples(root, run_dir):
    run = jazz_lstm.train(data=[str(root)], epochs=1, hidden=8, seed=0, progress=False,
                          run_dir=run_dir)
    reopened = jazz_lstm.open_run(run.path)
    assert reopened.sample(seed=1).song.measures
    return reopened


def test_a_five_four_bar_among_four_four_ones(tmp_path):
    notes = [note_row(1, 1, 60), note_row(1, 3, 62), note_row(2, 5, 64, period=5,
                                                               signature='"5/4"'),
             note_row(3, 1, 65), note_row(4, 2, 67)]
    beats = ([beat_row(1, beat, "C7") for beat in range(1, 5)]
             + [beat_row(2, beat, "F7" if beat < 5 else "Bb7", period=5, signature="'5/4'")
                for beat in range(1, 6)]
             + [beat_row(bar, beat, "C7") for bar in (3, 4) for beat in range(1, 5)])
    write_solo(tmp_path / "db", "MB_Mixed", notes, beats)
    run = trains_and_samples(tmp_path / "db", tmp_path / "runs" / "mixed")
    assert [len(bar) for bar in run.record.music.chords] == [1, 1, 1, 1]


def test_a_solo_longer_than_the_chords_a_run_keeps(tmp_path):
    write_solo(tmp_path / "db", "Long_Solo", [note_row(1, 1, 60), note_row(1, 3, 64),
                                              note_row(10_500, 1, 67)])
    run = trains_and_samples(tmp_path / "db", tmp_path / "runs" / "long")
    assert len(run.record.music.chords) == 10_000


def test_more_beats_than_a_run_allows_is_refused_when_read(tmp_path):
    solo = write_solo(tmp_path / "db", "Wide_Bar", [note_row(1, 1, 60, period=33,
                                                              signature='"33/4"')])
    assert_clean_error(run_cli("corpus", "--data", str(solo), cwd=tmp_path),
                       "signature 33/4: more than 32 beats in a bar")


def test_the_real_solo_with_five_four_bars_trains_into_a_run_that_opens(tmp_path):
    melody = WJAZZD / "melody" / "MichaelBrecker_NeverAlone_FINAL.csv"
    if not melody.exists():
        pytest.skip(f"{melody} is absent (WJazzD lives in ../shared/data beside the repo)")
    (tmp_path / "db" / "melody").mkdir(parents=True)
    (tmp_path / "db" / "beats").mkdir()
    shutil.copy(melody, tmp_path / "db" / "melody")
    shutil.copy(WJAZZD / "beats" / "MichaelBrecker_NeverAlone_FINAL_beattrack.csv",
                tmp_path / "db" / "beats")
    trains_and_samples(tmp_path / "db", tmp_path / "runs" / "brecker")
