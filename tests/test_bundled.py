"""The bundled jazz model: it ships intact, and sample, --run jazz and open_run("jazz") find it."""
import hashlib
import re
from types import SimpleNamespace

import mido
import pytest

import jazz_lstm
import jazz_lstm.api
from jazz_lstm.runs import BUNDLED_ATTRIBUTION, BUNDLED_MODELS, UsageError, choose_checkpoint
from lstm_np.checkpoint import CheckpointError
from tests.test_cli import run_cli

BUNDLE = BUNDLED_MODELS["jazz"]
CARD = BUNDLE.with_suffix(".md")


def test_the_bundle_matches_the_checksum_its_card_records():
    recorded = re.search(r"SHA-256: `([0-9a-f]{64})`", CARD.read_text(encoding="utf-8")).group(1)
    assert hashlib.sha256(BUNDLE.read_bytes()).hexdigest() == recorded


def test_the_bundle_stays_small():
    assert BUNDLE.stat().st_size <= 8 * 2 ** 20


def test_sample_with_no_runs_folder_plays_the_bundled_model(tmp_path):
    result = run_cli("sample", "--chords", "blues:F", "--bars", "12", "--out", "solo.mid",
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "the bundled jazz model, as there is no trained model in runs/" in result.stdout
    assert BUNDLED_ATTRIBUTION in result.stdout
    midi = mido.MidiFile(tmp_path / "solo.mid")
    assert sum(message.type == "note_on" and message.velocity > 0
               for message in midi.tracks[1]) > 12   # a solo, not a rest
    assert not (tmp_path / "runs").exists()


def test_run_jazz_means_the_bundle_only_when_no_such_run_exists(tmp_path):
    chosen = choose_checkpoint("jazz", runs_root=tmp_path / "runs")
    assert chosen.path == BUNDLE and "bundled" in chosen.reason
    (tmp_path / "runs" / "jazz").mkdir(parents=True)
    (tmp_path / "runs" / "jazz" / "model.safetensors").write_bytes(b"a user's own run")
    chosen = choose_checkpoint("jazz", runs_root=tmp_path / "runs")
    assert chosen.path == tmp_path / "runs" / "jazz" / "model.safetensors"
    assert chosen.reason == "given by --run"
    with pytest.raises(UsageError):
        choose_checkpoint("jazz", checkpoint="x.safetensors", runs_root=tmp_path / "runs")


def test_open_run_jazz_samples_over_a_blues(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)      # no folder named "jazz" here
    run = jazz_lstm.open_run("jazz")
    assert run.path == BUNDLE
    solo = run.sample(chords="blues:F", bars=12, seed=1)
    assert len(solo.song.measures) == 12
    assert solo.song.melody_notes


def test_the_bundle_cannot_be_resumed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CheckpointError, match="cannot be resumed"):
        jazz_lstm.resume("jazz", epochs=100, progress=False)


def test_evaluating_the_bundle_writes_nothing_into_the_package(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = sorted(path.name for path in BUNDLE.parent.iterdir())
    # The figures themselves are evaluate's business; here only where they go.
    figures = SimpleNamespace(to_json=lambda: {"summary": "figures"})
    monkeypatch.setattr(jazz_lstm.api, "evaluate_run", lambda run, **options: figures)
    assert jazz_lstm.open_run("jazz").evaluate() is figures
    assert sorted(path.name for path in BUNDLE.parent.iterdir()) == before
