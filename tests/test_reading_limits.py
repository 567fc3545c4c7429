"""Readers never trust a file (issue 22, causes 4 and 5): one odd file in a WJazzD folder is
skipped and reported, inputs are read with a byte budget, float overflow is one error line."""
import json
import os
import time

import pytest

from music.read.wjazzd_csv import MAX_CSV_BYTES, load_wjazzd_solo
from music.song import MusicError
from tests.test_cli import assert_clean_error, run_cli
from tests.test_wjazzd_csv import MELODY_HEADER, note_row, write_csv, write_solo

pytestmark = pytest.mark.bounded   # issue 22: within 60 s and 1.5 GB (tests/bounds.py)


def test_one_odd_file_in_a_wjazzd_folder_is_skipped_and_reported(tmp_path):
    """What sorts first, links, FIFOs, devices and big files: never the whole folder, and
    never more than the byte budget read (the command ends in seconds)."""
    melody = tmp_path / "db" / "melody"
    write_solo(tmp_path / "db", "Good_One", [note_row(1, 1, 60), note_row(1, 3, 64)])
    bom = write_solo(tmp_path / "db", "Good_Bom", [note_row(1, 1, 62), note_row(1, 3, 65)])
    bom.write_bytes(b"\xef\xbb\xbf" + bom.read_bytes())
    (melody / "000_garbage.csv").write_bytes(b"\x00\xff garbage, not, a, header\n")
    (melody / "001_folder.csv").mkdir()
    (melody / "002_dangling.csv").symlink_to(tmp_path / "nowhere.csv")
    (melody / "003_loop.csv").symlink_to(melody / "003_loop.csv")
    (melody / "004_zero.csv").symlink_to("/dev/zero")
    os.mkfifo(melody / "005_fifo.csv")
    big = write_csv(melody / "006_big.csv", MELODY_HEADER, [note_row(1, 1, 60)])
    with open(big, "a") as handle:
        handle.write("#" * MAX_CSV_BYTES)
    started = time.monotonic()
    result = run_cli("corpus", "--data", str(tmp_path / "db"), "--json", cwd=tmp_path)
    assert time.monotonic() - started < 60
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert sorted(piece["title"] for piece in summary["pieces"]) == ["Good_Bom", "Good_One"]
    odd = ["000_garbage", "001_folder", "002_dangling", "003_loop", "004_zero", "005_fifo",
           "006_big"]
    assert sorted(os.path.basename(label) for label in summary["skipped"]) == [
        f"{name}.csv" for name in odd]
    assert "is a character device" in result.stderr and "is a FIFO" in result.stderr
    assert f"over the limit of {MAX_CSV_BYTES:,} bytes" in result.stderr


@pytest.mark.parametrize("target, fragment", [
    ("/dev/zero", "is a character device, not a regular music file"),
    ("FIFO", "is a FIFO (named pipe), not a regular music file")])
def test_data_and_primer_never_read_a_device_or_wait_on_a_fifo(tmp_path, target, fragment):
    music = tmp_path / "song.mid"
    if target == "FIFO":
        os.mkfifo(music)
    else:
        music.symlink_to(target)
    started = time.monotonic()
    assert_clean_error(run_cli("corpus", "--data", str(music), cwd=tmp_path), fragment)
    # evaluate takes the bundled model when no run is there, and reads --data the same way
    evaluated = run_cli("evaluate", "--data", str(music), cwd=tmp_path)
    assert_clean_error(evaluated)
    assert fragment in evaluated.stderr or "no trained" in evaluated.stderr
    assert time.monotonic() - started < 60


@pytest.mark.parametrize("row, outcome", [
    (note_row(1, 1, 60, seconds=float("inf")), "duration inf is not a finite number >= 0"),
    (note_row(1, 1, 60, seconds=1e308), None),
    (note_row(1, 1, 60, seconds=0.25, beat_duration=5e-324), None),  # subnormal
])
def test_float_overflow_in_a_solo_is_one_line_and_spares_the_folder(tmp_path, row, outcome):
    bad = write_solo(tmp_path, "A_Bad", [row, note_row(1, 3, 64)])
    write_solo(tmp_path, "B_Good", [note_row(1, 1, 60), note_row(1, 3, 64)])
    if outcome is None:     # read: the endless note is cut at the next one
        assert load_wjazzd_solo(bad).measures[0].notes[0].duration == 2
    else:
        with pytest.raises(MusicError, match=outcome):
            load_wjazzd_solo(bad)
        assert_clean_error(run_cli("corpus", "--data", str(bad), cwd=tmp_path), outcome)
    result = run_cli("corpus", "--data", str(tmp_path), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "B_Good" in [piece["title"] for piece in json.loads(result.stdout)["pieces"]]


def test_a_76_mb_csv_is_refused_by_its_size_and_spares_the_folder(tmp_path):
    """The audit's 76 MB CSV (sparse here: its size without the disk space)."""
    write_solo(tmp_path / "db", "Good_One", [note_row(1, 1, 60), note_row(1, 3, 64)])
    big = write_solo(tmp_path / "db", "Huge_One", [note_row(1, 1, 60)])
    os.truncate(big, 76 * 1024 * 1024)
    fragment = f"over the limit of {MAX_CSV_BYTES:,} bytes"
    assert_clean_error(run_cli("corpus", "--data", str(big), cwd=tmp_path), fragment)
    result = run_cli("corpus", "--data", str(tmp_path / "db"), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert [piece["title"] for piece in summary["pieces"]] == ["Good_One"]
    assert [os.path.basename(label) for label in summary["skipped"]] == [big.name]
    assert fragment in result.stderr
