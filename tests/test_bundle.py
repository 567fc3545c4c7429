"""Inference bundles (jazz_lstm.runs.export_bundle): weights, record and primer tokens only;
they sample and evaluate, and refuse to be resumed."""
import numpy as np
import pytest

import jazz_lstm
from jazz_lstm.runs import export_bundle
from lstm_np.checkpoint import CheckpointError, load_checkpoint
from tests.test_cli import SMALL_PIECE


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bundle")
    return jazz_lstm.train(data=[SMALL_PIECE], epochs=2, hidden=8, seed=0, progress=False,
                           run_dir=folder / "runs" / "X")


def test_a_bundle_with_the_whole_stream_samples_the_same_solo(run, tmp_path):
    path = export_bundle(run.folder, tmp_path / "whole.safetensors", primer_windows=None)
    stored = load_checkpoint(path)
    assert stored.optimizer_state == {} and "rng_state" not in stored.data
    assert path.stat().st_size < run.path.stat().st_size
    bundle = jazz_lstm.open_run(path)
    assert bundle.record.full_stream and bundle.record.epoch == run.record.epoch
    assert (bundle.sample(bars=4, seed=3).midi_bytes()
            == run.sample(bars=4, seed=3).midi_bytes())


def test_a_bundle_keeps_only_the_tokens_primers_need(run, tmp_path):
    window = run.record.train.window_length
    assert len(run.stream.ids) > 2 * window
    path = export_bundle(run.path, tmp_path / "small.safetensors", primer_windows=2)
    bundle = jazz_lstm.open_run(path)
    assert not bundle.record.full_stream
    np.testing.assert_array_equal(bundle.stream.ids, run.stream.ids[:2 * window])
    assert sum(bundle.stream.piece_lengths) == 2 * window
    for name, array in run.model.params.items():
        np.testing.assert_array_equal(bundle.model.params[name], array)
    solo = bundle.sample(bars=4, seed=3)
    assert len(solo.song.measures) == 4
    evaluation = bundle.evaluate(data=[SMALL_PIECE], samples=3, save=False)
    assert any("inference bundle keeps" in note for note in evaluation.notes)


def test_a_half_precision_bundle_holds_float16_weights_and_samples(run, tmp_path):
    path = export_bundle(run.folder, tmp_path / "half.safetensors", half=True)
    assert {array.dtype for array in load_checkpoint(path).params.values()} == {np.dtype("float16")}
    bundle = jazz_lstm.open_run(path)
    for name, array in run.model.params.items():
        np.testing.assert_allclose(bundle.model.params[name], array, rtol=1e-3, atol=1e-4)
    assert len(bundle.sample(bars=2, seed=1).song.measures) == 2


def test_a_bundle_cannot_be_resumed(run, tmp_path):
    path = export_bundle(run.folder, tmp_path / "b.safetensors")
    with pytest.raises(CheckpointError, match="inference bundle") as caught:
        jazz_lstm.resume(path, epochs=3, progress=False)
    assert "\n" not in str(caught.value)
