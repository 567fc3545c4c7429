"""benchmarks.speed runs end to end on tiny sizes (no timings are asserted, ever)."""
import json

import numpy as np
import pytest

from benchmarks import speed
from lstm_np import kernels

pytestmark = pytest.mark.skipif(not kernels.numba_available(), reason="numba is not installed")


@pytest.mark.parametrize("preset", ["course", "deepjazz", "sample"])
def test_a_preset_runs_and_reports_every_contender(preset, capsys):
    speed.main(["--preset", preset, "--windows", "3", "--repeats", "1", "--json"])
    report = json.loads(capsys.readouterr().out)["speed"]
    expected = {"ours numba", "ours numpy"} | ({"pytorch"} if speed.torch is not None else set())
    assert set(report["results"]) == expected
    assert all(stat["runs"] == 1 for stat in report["results"].values())
    assert ("ratio" in report) == (speed.torch is not None)


def test_summaries_are_medians_scaled_to_the_unit():
    stats = speed.summarize({"a": [0.003, 0.001, 0.002, 0.010]}, scale=1e3)["a"]
    assert stats == {"median": 2.5, "min": 1.0, "max": 10.0, "runs": 4}


def test_contenders_take_turns_in_rotating_order():
    calls = []
    contenders = {name: (lambda name=name: calls.append(name)) for name in "abc"}
    times = speed.interleaved(contenders, repeats=3, warmup=0)
    assert calls == list("abc" "bca" "cab")
    assert {name: len(values) for name, values in times.items()} == {"a": 3, "b": 3, "c": 3}


@pytest.mark.parametrize("name", ["course", "deepjazz", "lofi"])
def test_benchmark_models_are_the_training_presets(name):
    from jazz_lstm.presets import PRESETS

    preset, train = speed.PRESETS[name], PRESETS[name]
    config = preset.config
    assert (config.hidden_size, config.num_layers, config.dropout, config.dense_size,
            config.head, config.batch_norm) == (train.hidden_size, train.num_layers,
                                                train.dropout, train.dense_size, train.head,
                                                train.batch_norm)
    assert preset.steps == train.window_length


def test_shrunk_lofi_says_so(capsys):
    speed.main(["--preset", "lofi", "--windows", "2", "--repeats", "1", "--no-numpy"])
    assert "shrunk by --windows from 1024" in capsys.readouterr().out


def test_float32_and_float64_loss_curves_start_together():
    losses32, losses64 = speed.loss_curves(epochs=3)
    assert losses32.shape == losses64.shape == (3,)
    np.testing.assert_allclose(losses32, losses64, atol=1e-3)


def test_loss_curves_run_on_a_music_file():
    losses32, losses64 = speed.loss_curves(epochs=2, source="music21:leadSheet/fosterBrownHair.mxl")
    assert losses32.shape == losses64.shape == (2,)
    assert np.all(np.isfinite(losses32)) and abs(losses32[0] - losses64[0]) < 1e-4
