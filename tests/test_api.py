"""The public Python API: the README snippet runs, and it agrees with the CLI byte for byte."""
import subprocess
import sys
from pathlib import Path

import mido
import pytest

import jazz_lstm

CLI = Path(__file__).resolve().parents[1] / "cli.py"
SMALL_PIECE = "music21:leadSheet/fosterBrownHair.mxl"


@pytest.fixture(scope="module")
def api_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("api")
    run = jazz_lstm.train(data=[SMALL_PIECE], preset="course", epochs=3, hidden=16, seed=0,
                          run_dir=folder / "runs" / "demo", progress=False)
    return folder, run


def test_the_readme_snippet_runs(api_run, tmp_path):
    folder, trained = api_run
    run = jazz_lstm.open_run(folder / "runs" / "demo")
    assert isinstance(run, jazz_lstm.Run)
    solo = run.sample(chords="Dm7 G7 | Cmaj7", bars=8, seed=1, temperature=1.0)
    midi_path = solo.write_midi(tmp_path / "solo.mid")
    wav_path = solo.write_wav(tmp_path / "solo.wav")
    assert wav_path.read_bytes()[:4] == b"RIFF"
    midi = mido.MidiFile(midi_path)
    bar_ticks = 4 * midi.ticks_per_beat
    assert midi.length > 0 and len(solo.song.measures) == 8
    last_note_on = max(sum(message.time for message in track[:index + 1])
                       for track in midi.tracks for index, message in enumerate(track)
                       if message.type == "note_on")
    assert last_note_on < 8 * bar_ticks
    assert [row["epoch"] for row in run.history] == [1, 2, 3]
    assert all(set(row) >= {"epoch", "loss", "accuracy", "seconds"} for row in run.history)
    assert run.history == trained.history


def test_a_checkpoint_path_opens_too(api_run):
    folder, _ = api_run
    run = jazz_lstm.open_run(folder / "runs" / "demo" / "model.safetensors")
    assert run.record.epoch == 3 and run.record.encoding == "grammar"


def test_cli_and_api_give_the_same_model_and_the_same_solo(api_run):
    folder, run = api_run
    result = subprocess.run([sys.executable, str(CLI), "train", "--data", SMALL_PIECE,
                             "--epochs", "3", "--hidden", "16", "--seed", "0", "--run", "cli"],
                            cwd=folder, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    cli_checkpoint = folder / "runs" / "cli" / "model.safetensors"
    assert cli_checkpoint.read_bytes() == run.path.read_bytes()

    chords = "Dm7 G7 | Cmaj7 | A7"
    result = subprocess.run([sys.executable, str(CLI), "sample", "--run", "cli", "--chords",
                             chords, "--bars", "6", "--seed", "7", "--out", "cli.mid"],
                            cwd=folder, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    # A CLI-trained run opens from Python and samples the same bytes.
    from_python = jazz_lstm.open_run(cli_checkpoint).sample(chords=chords, bars=6, seed=7)
    assert from_python.midi_bytes() == (folder / "cli.mid").read_bytes()


def test_an_existing_run_folder_is_refused(api_run):
    folder, _ = api_run
    with pytest.raises(jazz_lstm.UsageError, match="already exists"):
        jazz_lstm.train(data=[SMALL_PIECE], epochs=1, hidden=4, run_dir=folder / "runs" / "demo",
                        progress=False)


def test_the_module_functions_the_cli_calls_take_a_run_or_its_path(api_run, tmp_path):
    folder, run = api_run
    solo = jazz_lstm.sample(folder / "runs" / "demo", chords="Dm7 G7 | Cmaj7", bars=3, seed=2)
    assert isinstance(solo, jazz_lstm.Solo)
    assert solo.midi_bytes() == run.sample(chords="Dm7 G7 | Cmaj7", bars=3, seed=2).midi_bytes()
    written = jazz_lstm.report(run, tmp_path / "page.html")
    assert written == tmp_path / "page.html" and "<svg" in written.read_text()
    evaluation = jazz_lstm.evaluate(run.path, samples=3, save=False)
    assert evaluation.to_json() == run.evaluate(samples=3, save=False).to_json()


def test_resume_refuses_a_run_that_has_finished_its_epochs(api_run):
    _, run = api_run
    with pytest.raises(jazz_lstm.UsageError, match="finished 3 epochs already"):
        jazz_lstm.resume(run.folder, epochs=3, progress=False)
