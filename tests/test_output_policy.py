"""One output policy for every command (issue 22, causes 2 and 3): an output is never one of
the command's inputs, never a folder, link or FIFO, and is checked before anything is written."""
import os
import stat

import pytest

import jazz_lstm
from tests.test_cli import assert_clean_error, run_cli

pytestmark = pytest.mark.bounded   # issue 22: within 60 s and 1.5 GB (tests/bounds.py)


def run_files(folder):
    return {path.name: path.read_bytes() for path in (folder / "runs" / "X").iterdir()}


@pytest.mark.parametrize("arguments, culprit", [
    (["report", "--run", "X", "--out", "runs/X/model.safetensors"], "runs/X/model.safetensors"),
    (["sample", "--run", "X", "--out", "solo.mid", "--html", "runs/X/model.safetensors"],
     "runs/X/model.safetensors"),
    (["sample", "--run", "X", "--out", "solo.mid", "--musicxml", "runs/X/model.safetensors"],
     "runs/X/model.safetensors"),
    (["sample", "--run", "X", "--out", "solo.mid", "--html", "runs/X/history.csv"],
     "runs/X/history.csv"),
    (["sample", "--run", "X", "--primer", "primer.mid", "--out", "solo.mid",
      "--musicxml", "primer.mid"], "primer.mid"),
])
def test_an_output_is_never_one_of_the_commands_inputs(small_run, arguments, culprit):
    jazz_lstm.open_run(small_run / "runs" / "X").sample(bars=2).write_midi(small_run / "primer.mid")
    before, primer = run_files(small_run), (small_run / "primer.mid").read_bytes()
    result = run_cli(*arguments, cwd=small_run)
    assert_clean_error(result, culprit, "which this command reads")
    assert run_files(small_run) == before
    assert (small_run / "primer.mid").read_bytes() == primer
    assert not (small_run / "solo.mid").exists()


def test_html_onto_a_folder_is_refused_before_out_is_written(small_run):
    (small_run / "page").mkdir(exist_ok=True)
    result = run_cli("sample", "--run", "X", "--out", "first.mid", "--html", "page", cwd=small_run)
    assert_clean_error(result, "page: is a folder")
    assert not (small_run / "first.mid").exists()


def test_a_wav_over_the_length_limit_is_refused_before_any_output(small_run):
    result = run_cli("sample", "--run", "X", "--bars", "1000", "--tempo", "20", "--out",
                     "long.mid", "--wav", cwd=small_run)
    assert_clean_error(result, "a WAV file holds at most 30")
    assert not (small_run / "long.mid").exists() and not (small_run / "long.wav").exists()


@pytest.mark.parametrize("kind", ["symlink", "fifo", pytest.param("device", marks=pytest.mark.skipif(
    os.geteuid() != 0, reason="making a device node needs root"))])
def test_a_wav_output_that_is_no_regular_file_is_left_alone(small_run, tmp_path, kind):
    wav = tmp_path / "solo.wav"
    if kind == "symlink":
        (tmp_path / "precious").write_text("keep me")
        wav.symlink_to(tmp_path / "precious")
    elif kind == "device":      # a /dev/null of its own
        os.mknod(wav, 0o666 | stat.S_IFCHR, os.stat("/dev/null").st_rdev)
    else:
        os.mkfifo(wav)
    result = run_cli("sample", "--run", "X", "--out", str(tmp_path / "solo.mid"), "--wav",
                     cwd=small_run)
    assert_clean_error(result, str(wav), "not a regular file")
    assert not (tmp_path / "solo.mid").exists()
    if kind == "symlink":
        assert wav.is_symlink() and (tmp_path / "precious").read_text() == "keep me"
    elif kind == "device":
        assert wav.is_char_device()
    else:
        assert wav.is_fifo()


def test_a_later_start_cleans_what_a_killed_writer_left(small_run, tmp_path):
    dead = 2 ** 22 + 12345  # above the usual pid_max of 2**22: no such process
    stale = tmp_path / f".solo.wav.jazz-lstm-tmp-{dead}-0badcafe"
    stale.write_bytes(b"half a WAV")
    result = run_cli("sample", "--run", "X", "--out", str(tmp_path / "solo.mid"), cwd=small_run)
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(tmp_path)) == ["solo.mid"]
