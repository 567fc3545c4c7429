"""cli.py end to end, in a subprocess as a user runs it, and its error lines."""
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import mido
import numpy as np
import pytest

from lstm_np.checkpoint import load_checkpoint

CLI = Path(__file__).resolve().parents[1] / "cli.py"
SMALL_PIECE = "music21:leadSheet/fosterBrownHair.mxl"


def run_cli(*args, cwd, env=None):
    environment = None if env is None else {**os.environ, **env}
    return subprocess.run([sys.executable, str(CLI), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300, env=environment)


def default_hangup():
    """In the child: SIGHUP back to its default, since under nohup it arrives ignored
    and the CLI leaves an ignored signal ignored."""
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def interrupt_training(folder, run, after_epoch: int, signal_number) -> str:
    """Train an endless run in ``folder``, send ``signal_number`` once epoch
    ``after_epoch`` is printed, check that it stopped with status 130 and an
    "interrupted" line and no traceback; its stderr."""
    process = subprocess.Popen(
        [sys.executable, str(CLI), "train", "--data", SMALL_PIECE, "--epochs", "100000",
         "--hidden", "8", "--run", run],
        cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=default_hangup)
    for line in process.stdout:
        if line.startswith(f"epoch {after_epoch}/"):
            break
    process.send_signal(signal_number)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    return stderr


def assert_clean_error(result, *fragments):
    """Exit status 2, one line 'error: ...' naming the culprit, no traceback."""
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One small run shared by the tests below: 3 epochs on a lead sheet, classic grammar."""
    folder = tmp_path_factory.mktemp("cli")
    result = run_cli("train", "--data", SMALL_PIECE, "--epochs", "3", "--run", "small",
                     "--hidden", "16", "--grammar", "classic", cwd=folder)
    assert result.returncode == 0, result.stderr
    return folder


def melody_and_chord_notes(path):
    midi = mido.MidiFile(path)
    names = [track.name for track in midi.tracks]
    tempos = [message.tempo for track in midi.tracks for message in track
              if message.type == "set_tempo"]
    notes = {name: [message.note for message in track
                    if message.type == "note_on" and message.velocity > 0]
             for name, track in zip(names, midi.tracks)}
    return names, tempos, notes


def test_train_writes_a_self_contained_run(trained):
    run = trained / "runs" / "small"
    history = (run / "history.csv").read_text().splitlines()
    assert history[0] == "epoch,loss,accuracy,seconds"
    assert [line.split(",")[0] for line in history[1:]] == ["1", "2", "3"]
    assert all(np.isfinite(float(line.split(",")[1])) for line in history[1:])
    assert load_checkpoint(run / "model.safetensors").params


def test_sample_writes_a_solo_that_opens_in_mido_and_music21(trained):
    import music21

    result = run_cli("sample", "--seed", "3", "--tempo", "96", "--measures", "8", cwd=trained)
    assert result.returncode == 0, result.stderr
    path = trained / "output" / "my_music.mid"
    assert "8 bars" in result.stdout and str(Path("output") / "my_music.mid") in result.stdout
    names, tempos, notes = melody_and_chord_notes(path)
    assert names[1:] == ["Melody", "Piano", "Bass", "Drums"]     # the default trio
    assert tempos == [mido.bpm2tempo(96)]
    assert notes["Melody"] and notes["Piano"] and notes["Bass"] and notes["Drums"]
    assert all(52 <= pitch <= 88 for pitch in notes["Melody"])
    score = music21.converter.parse(str(path))
    assert len(score.parts) >= 2
    assert score.flatten().notes


def test_same_seed_same_bytes_other_seed_other_notes(trained):
    outputs = {}
    for name, seed in (("a", "5"), ("b", "5"), ("c", "6")):
        result = run_cli("sample", "--seed", seed, "--out", f"output/{name}.mid", cwd=trained)
        assert result.returncode == 0, result.stderr
        outputs[name] = (trained / "output" / f"{name}.mid").read_bytes()
    assert outputs["a"] == outputs["b"]
    assert melody_and_chord_notes(trained / "output" / "a.mid")[2]["Melody"] != \
        melody_and_chord_notes(trained / "output" / "c.mid")[2]["Melody"]


def test_sample_over_given_chords_plays_chord_and_scale_tones(trained):
    from music.chords import parse_progression, scale_for

    progression = "Dm7 G7 | Cmaj7 | A7 | Dm7 G7 | Cmaj7"
    result = run_cli("sample", "--chords", progression, "--out", "output/ii.mid",
                     "--wav", cwd=trained)
    assert result.returncode == 0, result.stderr
    assert "5 bars" in result.stdout
    assert (trained / "output" / "ii.wav").stat().st_size > 1000
    midi = mido.MidiFile(trained / "output" / "ii.mid")
    melody = next(track for track in midi.tracks if track.name == "Melody")
    bars = parse_progression(progression)
    fitting = total = 0
    tick = 0
    for message in melody:
        tick += message.time
        if message.type == "note_on" and message.velocity > 0:
            beat = tick / midi.ticks_per_beat
            bar = bars[int(beat // 4)]
            chord = [c for c in bar if c.start <= beat % 4][-1]
            total += 1
            fitting += message.note % 12 in set(chord.pitch_classes) | scale_for(chord)
    # Pitches drawn at random fit 7 or 8 of the 12 classes (a seventh chord and its
    # scale): about 0.6.  The grammar decodes chord and scale roles to such pitches,
    # and the lead sheet this model learned is nearly all chord and scale tones.
    assert total > 0 and fitting / total >= 0.85, fitting / total


def test_resume_continues_from_the_last_epoch(trained):
    result = run_cli("train", "--resume", "--run", "small", "--epochs", "4", cwd=trained)
    assert result.returncode == 0, result.stderr
    history = (trained / "runs" / "small" / "history.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in history[1:]] == ["1", "2", "3", "4"]


def test_corpus_json_reports_the_counts(tmp_path):
    result = run_cli("corpus", "--data", SMALL_PIECE, "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["bars"] > 10
    assert summary["tokens"] >= summary["vocab_size"] > 5


# ------------------------------------------------------------- bad input
def test_missing_data_file(tmp_path):
    assert_clean_error(run_cli("train", "--data", "nowhere.mid", cwd=tmp_path), "nowhere.mid")


def test_text_file_named_mid(tmp_path):
    (tmp_path / "fake.mid").write_text("this is not a MIDI file\n")
    assert_clean_error(run_cli("corpus", "--data", "fake.mid", cwd=tmp_path), "fake.mid")


def test_unreadable_file(tmp_path):
    path = tmp_path / "locked.mid"
    path.write_bytes(b"MThd")
    path.chmod(0)
    try:
        assert_clean_error(run_cli("corpus", "--data", "locked.mid", cwd=tmp_path), "locked.mid")
    finally:
        path.chmod(0o644)


def test_folder_without_music(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("hello")
    assert_clean_error(run_cli("train", "--data", "empty", cwd=tmp_path), "empty")


def test_report_of_the_bundled_model_needs_an_out_path(tmp_path):
    # With no runs/, report picks the bundled model, whose folder is the installed package.
    assert_clean_error(run_cli("report", cwd=tmp_path), "--out")


def test_missing_checkpoint(tmp_path):
    assert_clean_error(run_cli("sample", "--checkpoint", "gone.npz", cwd=tmp_path), "gone.npz")


def test_corrupt_checkpoint(tmp_path, trained):
    data = (trained / "runs" / "small" / "model.safetensors").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    assert_clean_error(run_cli("sample", "--checkpoint", "cut.npz", cwd=tmp_path), "cut.npz")


def test_incompatible_checkpoint(tmp_path):
    from lstm_np.checkpoint import checkpoint_bytes

    (tmp_path / "other.safetensors").write_bytes(
        checkpoint_bytes({"w": np.zeros(3)}, {}, {"something": "else"}))
    assert_clean_error(run_cli("sample", "--checkpoint", "other.safetensors", cwd=tmp_path),
                       "other.safetensors", "not a usable jazz-lstm checkpoint")


def test_a_model_npz_of_the_earlier_format_is_refused_naming_it(tmp_path):
    np.savez(tmp_path / "model.npz", **{"param/w": np.zeros(3)})
    assert_clean_error(run_cli("sample", "--checkpoint", "model.npz", cwd=tmp_path),
                       "a model.npz checkpoint of format version 1")


def test_unparseable_chord_symbol(trained):
    assert_clean_error(run_cli("sample", "--chords", "Dm7 | Qxz9", cwd=trained),
                       "bar 2", "'Qxz9'")
    assert_clean_error(run_cli("sample", "--chords", "blues in F", cwd=trained),
                       "bar 1", "'blues'", "write blues:F")


def test_sample_plays_chords_as_musicians_type_them(trained):
    result = run_cli("sample", "--chords", "D13sus4 / G7alt / | % | Cmaj9#11 | Bb7(b9,#11)",
                     "--out", "output/typed.mid", cwd=trained)
    assert result.returncode == 0, result.stderr
    assert "4 bars" in result.stdout


def test_sample_names_the_run_it_took_and_why(trained):
    result = run_cli("sample", "--out", "output/which.mid", cwd=trained)
    assert result.returncode == 0, result.stderr
    assert (f"(model {Path('runs') / 'small' / 'model.safetensors'}, the only run in runs/, as no --run "
            "was given; seed 0") in result.stdout
    result = run_cli("sample", "--run", "small", "--out", "output/which.mid", cwd=trained)
    assert "small" in result.stdout and "given by --run; seed 0" in result.stdout


def test_the_newest_of_several_runs_is_chosen_and_said(tmp_path):
    from jazz_lstm.runs import choose_checkpoint

    for name, when in (("b", 2_000_000_000), ("a", 2_000_000_100), ("c", 1_000_000_000)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "model.safetensors").write_bytes(b"")
        os.utime(tmp_path / name / "model.safetensors", (when, when))
    chosen = choose_checkpoint(runs_root=tmp_path)
    assert chosen.path == tmp_path / "a" / "model.safetensors"
    assert chosen.reason == f"the newest of 3 runs in {tmp_path}/, as no --run was given"
    assert choose_checkpoint("c", runs_root=tmp_path).reason == "given by --run"
    assert choose_checkpoint(checkpoint="x.npz").reason == "given by --checkpoint"


def test_sample_help_lists_the_named_forms(tmp_path):
    result = run_cli("sample", "--help", cwd=tmp_path)
    text = " ".join(result.stdout.split())
    for name in ("blues", "minor-blues", "rhythm", "ii-V-I", "song-aaba", "modal-aaba"):
        assert name in text
    assert "NAME:KEY" in text and "%" in text


def test_existing_run_is_not_overwritten(trained):
    before = (trained / "runs" / "small" / "model.safetensors").read_bytes()
    assert_clean_error(run_cli("train", "--data", SMALL_PIECE, "--run", "small", cwd=trained),
                       "--resume")
    assert (trained / "runs" / "small" / "model.safetensors").read_bytes() == before


def test_debug_shows_the_traceback(tmp_path):
    result = run_cli("--debug", "train", "--data", "nowhere.mid", cwd=tmp_path)
    assert result.returncode != 0 and "Traceback" in result.stderr


@pytest.mark.parametrize("args", [["train", "--bogus"], ["train", "--epochs", "-3"],
                                  ["sample", "--temperature", "-1"], ["dance"]])
def test_malformed_command_lines_get_usage_and_status_2(tmp_path, args):
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert "usage:" in result.stderr and "error:" in result.stderr
    assert "Traceback" not in result.stderr


def test_ctrl_c_saves_the_last_finished_epoch_and_resume_goes_on(tmp_path):
    import signal

    interrupt_training(tmp_path, "stopped", 5, signal.SIGINT)
    run = tmp_path / "runs" / "stopped"
    history = (run / "history.csv").read_text().splitlines()[1:]
    saved_epoch = int(history[-1].split(",")[0])
    assert saved_epoch >= 5
    assert [int(line.split(",")[0]) for line in history] == list(range(1, saved_epoch + 1))
    result = run_cli("train", "--resume", "--run", "stopped", "--epochs", str(saved_epoch + 2),
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "resuming" in result.stdout and f"at epoch {saved_epoch + 1}" in result.stdout
    history = (run / "history.csv").read_text().splitlines()[1:]
    assert [int(line.split(",")[0]) for line in history] == list(range(1, saved_epoch + 3))


def test_resumed_training_equals_uninterrupted_training(tmp_path):
    common = ["--data", SMALL_PIECE, "--hidden", "8", "--preset", "deepjazz", "--seed", "4"]
    assert run_cli("train", *common, "--epochs", "4", "--run", "straight", cwd=tmp_path).returncode == 0
    assert run_cli("train", *common, "--epochs", "2", "--run", "split", cwd=tmp_path).returncode == 0
    assert run_cli("train", "--resume", "--run", "split", "--epochs", "4", cwd=tmp_path).returncode == 0
    straight = load_checkpoint(tmp_path / "runs" / "straight" / "model.safetensors")
    split = load_checkpoint(tmp_path / "runs" / "split" / "model.safetensors")
    for group in ("params", "optimizer_state", "data"):
        assert getattr(straight, group).keys() == getattr(split, group).keys()
        for name, array in getattr(straight, group).items():
            np.testing.assert_array_equal(getattr(split, group)[name], array, err_msg=name)


def test_resume_refuses_settings_it_cannot_change(trained):
    assert_clean_error(run_cli("train", "--resume", "--run", "small", "--hidden", "32", cwd=trained),
                       "--hidden")


def test_grammar_training_skips_a_broken_file_in_a_folder(tmp_path):
    import shutil
    from music21 import corpus

    folder = tmp_path / "songs"
    folder.mkdir()
    shutil.copy(corpus.getWork("leadSheet/fosterBrownHair.mxl"), folder / "foster.mxl")
    (folder / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x01")
    result = run_cli("train", "--data", "songs", "--epochs", "1", "--hidden", "8", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "broken.mid" in result.stderr and "skipped 1 file(s)" in result.stderr
    assert "training on 1 piece(s)" in result.stdout


def test_ctrl_c_while_reading_ends_quietly(tmp_path):
    import signal

    env = {**os.environ, "JAZZ_LSTM_CACHE": str(tmp_path / "cache")}
    process = subprocess.Popen([sys.executable, str(CLI), "corpus", "--encoding", "notes"],
                               cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    first_line = process.stderr.readline()   # "[1/8] parsing ...": music21 is at work
    assert "parsing" in first_line
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert stderr.strip().splitlines()[-1] == "interrupted" and "Traceback" not in stderr
