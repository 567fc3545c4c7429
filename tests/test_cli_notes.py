"""The notes encoding (the LoFi generator) through the command line."""
from collections import Counter

import mido
import numpy as np
import pytest

from lstm_np.checkpoint import load_checkpoint

from tests.test_cli import assert_clean_error, run_cli


def write_piece(path, seed, length=150):
    """A one-track piano piece: notes of three lengths, a triad every seventh onset."""
    rng = np.random.default_rng(seed)
    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    for index in range(length):
        root = int(rng.choice([60, 62, 64, 65, 67, 69, 71, 72]))
        ticks = int(rng.choice([120, 240, 480]))
        pitches = [root, root + 4, root + 7] if index % 7 == 0 else [root]
        for pitch in pitches:
            track.append(mido.Message("note_on", note=pitch, velocity=80, time=0))
        for number, pitch in enumerate(pitches):
            track.append(mido.Message("note_off", note=pitch, velocity=0,
                                      time=ticks if number == 0 else 0))
    midi.save(path)


@pytest.fixture(scope="module")
def lofi_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lofi")
    pieces = folder / "pieces"
    pieces.mkdir()
    for seed in range(3):
        write_piece(pieces / f"piece{seed}.mid", seed)
    # A MIDI header that promises a track the file does not hold.
    (pieces / "broken.mid").write_bytes(
        b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0MTrk\x00\x00\x10\x00\x90\x3c")
    env = {"JAZZ_LSTM_CACHE": str(folder / "cache")}
    result = run_cli("train", "--encoding", "notes", "--preset", "lofi", "--data", "pieces",
                     "--epochs", "1", "--hidden", "64", "--run", "lofi", cwd=folder, env=env)
    return folder, env, result


def test_a_broken_file_is_named_and_skipped(lofi_run):
    _, _, result = lofi_run
    assert result.returncode == 0, result.stderr
    assert "broken.mid" in result.stderr and "skipped 1 file" in result.stderr
    assert "training on 3 file(s)" in result.stdout


def test_sample_writes_hundreds_of_sounds_of_several_lengths(lofi_run):
    from jazz_lstm.note_corpus import encode_score_tokens

    folder, env, _ = lofi_run
    result = run_cli("sample", "--run", "lofi", "--temperature", "1", "--out", "output/lofi.mid",
                     cwd=folder, env=env)
    assert result.returncode == 0, result.stderr
    assert "500 tokens" in result.stdout
    tokens = encode_score_tokens(str(folder / "output" / "lofi.mid"))
    sounds = [token for token in tokens if not token.startswith("R:")]
    assert len(sounds) >= 400
    assert len({token.split(":")[1] for token in sounds}) > 1
    most_common_share = Counter(tokens).most_common(1)[0][1] / len(tokens)
    assert most_common_share <= 0.20


def test_second_run_reads_the_cache_and_primer_file_works(lofi_run):
    folder, env, _ = lofi_run
    cached = list((folder / "cache").rglob("*.json"))
    assert len(cached) == 3
    result = run_cli("corpus", "--encoding", "notes", "--data", "pieces", "--json",
                     cwd=folder, env=env)
    assert result.returncode == 0, result.stderr
    assert sorted(path.stat().st_mtime_ns for path in (folder / "cache").rglob("*.json")) == \
        sorted(path.stat().st_mtime_ns for path in cached)
    result = run_cli("sample", "--run", "lofi", "--primer", "pieces/piece1.mid", "--length", "50",
                     "--out", "output/primed.mid", cwd=folder, env=env)
    assert result.returncode == 0, result.stderr
    assert "50 tokens" in result.stdout


def test_grammar_options_are_refused_for_a_notes_model(lofi_run):
    folder, env, _ = lofi_run
    assert_clean_error(run_cli("sample", "--run", "lofi", "--chords", "C | F", cwd=folder, env=env),
                       "--chords")


def test_checkpoint_carries_the_batchnorm_statistics(lofi_run):
    folder, _, _ = lofi_run
    params = load_checkpoint(folder / "runs" / "lofi" / "model.safetensors").params
    running = [name for name in params if "running_mean" in name]
    assert running
    assert any(np.any(params[name] != 0) for name in running)
