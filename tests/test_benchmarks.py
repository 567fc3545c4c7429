"""benchmarks.speed runs end to end on tiny sizes (no timings are asserted, ever)."""
import json
from dataclasses import replace

import numpy as np
import pytest

from benchmarks import contenders, speed
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
    times = speed.interleaved(contenders, repeats=3, untimed=0)
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


def test_the_jazz_benchmark_hears_45_features_beside_the_token():
    preset = speed.PRESETS["jazz"]
    inputs, targets, features = speed.random_data(preset)
    assert preset.config.feature_size == 45 and preset.train.head == "every_step"
    assert inputs.shape == targets.shape == (preset.windows, preset.steps)
    assert features.shape == (preset.windows, preset.steps, 45)


@pytest.mark.skipif(speed.torch is None, reason="torch is not installed")
def test_the_pytorch_twin_reads_one_hot_tokens_with_the_features_beside_them():
    from lstm_np.model import ModelConfig

    config = ModelConfig(vocab_size=4, hidden_size=3, feature_size=2)
    inputs = contenders.torch_inputs(config, np.array([[2, 0]]), np.array([[[0.5, -1.0], [2.0, 3.0]]]))
    np.testing.assert_array_equal(inputs.numpy(), [[[0, 0, 1, 0, 0.5, -1.0],
                                                    [1, 0, 0, 0, 2.0, 3.0]]])
    model = contenders.torch_model(config)
    assert model.lstm.input_size == 6
    assert tuple(model(inputs).shape) == (2, 4)    # every step of the one window


@pytest.mark.skipif(speed.torch is None, reason="torch is not installed")
def test_the_embedding_twin_reads_token_ids():
    from lstm_np.model import ModelConfig

    config = ModelConfig(vocab_size=5, hidden_size=4, head="last_step")
    model = contenders.torch_model(config, embedding=3)
    ids = contenders.torch_inputs(config, np.array([[4, 1, 0]]), embedding=3)
    assert ids.tolist() == [[4, 1, 0]] and model.lstm.input_size == 3
    assert tuple(model(ids).shape) == (1, 5)
    with pytest.raises(ValueError, match="tokens only"):
        contenders.torch_model(ModelConfig(vocab_size=5, feature_size=2), embedding=3)


@pytest.mark.parametrize("name", ["deepjazz", "lofi"])
def test_the_stream_recipes_keep_the_model_and_change_the_schedule(name):
    from jazz_lstm.presets import PRESETS

    original, stream = PRESETS[name], PRESETS[f"{name}-stream"]
    architecture = ("hidden_size", "num_layers", "dropout", "dense_size", "batch_norm")
    assert ([getattr(stream, field) for field in architecture]
            == [getattr(original, field) for field in architecture])
    assert (original.head, stream.head, stream.windows) == ("last_step", "every_step", "stream")


# ----- time to quality ---------------------------------------------------------
def test_validation_windows_score_every_held_out_token_after_its_context():
    from benchmarks.quality import validation_windows

    inputs, targets = validation_windows(np.arange(10) * 10, cut=7, context=3)
    np.testing.assert_array_equal(inputs, [[40, 50, 60], [50, 60, 70], [60, 70, 80]])
    np.testing.assert_array_equal(targets, [70, 80, 90])
    with pytest.raises(ValueError, match="cut 2 must lie in"):
        validation_windows(np.arange(10), cut=2, context=3)


def test_time_to_a_target_counts_epochs_at_the_median_epoch_time():
    from benchmarks.quality import time_to

    # Epochs of 1, 3, 2 and 10 s (median 2.5 s); the loss first reaches 3.5 at epoch 3.
    assert time_to(3.5, [1.0, 3.0, 2.0, 10.0], [5.0, 4.0, 3.0, 2.0]) == {
        "epochs": 3, "seconds": 7.5, "seconds_summed": 6.0}
    assert time_to(1.0, [1.0], [2.0])["epochs"] is None


def test_the_unigram_baseline_is_add_one_smoothed_training_frequencies():
    from benchmarks.quality import unigram_validation

    # Training head [0, 0, 1]: counts 2, 1, 0 plus one each -> 3/6, 2/6, 1/6.
    loss = unigram_validation(np.array([0, 0, 1, 2, 0]), cut=3, vocab_size=3)
    assert loss == pytest.approx(-(np.log(1 / 6) + np.log(3 / 6)) / 2)


def test_the_race_runs_whoever_has_trained_least_and_stops_on_patience(monkeypatch):
    from benchmarks import quality

    clock = [0.0]
    monkeypatch.setattr(quality.time, "perf_counter", lambda: clock[0])
    calls = []

    def runner(name, seconds, losses, epochs, patience):
        def epoch():
            calls.append(name)
            clock[0] += seconds
        return quality.Runner(epoch, lambda: losses[len(calls_of(name)) - 1], epochs,
                              patience, [], [])

    def calls_of(name):
        return [call for call in calls if call == name]

    # slow: 3 s epochs, its budget of 2 epochs; fast: 1 s epochs, stops when
    # 2 epochs bring nothing better than its second (losses 5, 4, 4, 6).
    runners = {"slow": runner("slow", 3.0, [9, 8], 2, 10),
               "fast": runner("fast", 1.0, [5, 4, 4, 6], 50, 2)}
    quality.run_race(runners)
    assert calls == ["slow", "fast", "fast", "fast", "slow", "fast"]
    assert runners["fast"].losses == [5, 4, 4, 6] and runners["slow"].seconds == [3.0, 3.0]


@pytest.mark.slow   # ~8 s on a loaded machine: Numba and PyTorch warm up on new shapes
@pytest.mark.skipif(speed.torch is None, reason="torch is not installed")
def test_a_tiny_race_reports_both_recipes_against_one_target():
    from benchmarks import quality

    markov = speed.PRESETS["course"]
    inputs, _, vocab = speed.markov_windows(replace(markov, windows=4), seed=0)
    ids = inputs.reshape(-1)[:100]
    race = quality.Race("deepjazz", "deepjazz-stream", tokens=100, hidden_size=4, epochs=2,
                        patience=(5, 2), embedding=3)
    report = quality.race_recipes(race, ids, vocab)
    results = report["results"]
    assert [(result["preset"], result["embedding"]) for result in results.values()] == [
        ("deepjazz", 0), ("deepjazz-stream", 0), ("deepjazz", 3)]
    # The target is set by the two recipes of the same model, never by the embedding twin.
    raced = [results["original (pytorch)"], results["every-step (ours)"]]
    assert report["target"] == max(result["best_validation"] for result in raced)
    assert all(result["epochs"] is not None for result in raced)
    # The original stops at its cap of 2 epochs; the every-step recipe 2 epochs after its best.
    assert results["original (pytorch)"]["epochs_run"] == 2
    curve = results["every-step (ours)"]["validation_curve"]
    assert len(curve) - 1 - int(np.argmin(curve)) == 2
    assert report["ratio"] == report["ratios"]["original (pytorch)"]
    assert results["every-step (ours)"]["window_length"] == 64
    assert report["validation_tokens"] == 10 and report["context"] == 20


def test_shrinking_a_race_shrinks_both_recipes_alike():
    from benchmarks.quality import RACES
    from jazz_lstm.presets import PRESETS

    race = RACES["lofi"]
    original, every_step = race.recipe(race.original), race.recipe(race.every_step)
    assert (original.hidden_size, original.dense_size) == (64, 32)
    assert (every_step.hidden_size, every_step.dense_size) == (64, 32)
    assert "shrunk to LSTMs of 64, dense 32" == race.shrunk
    # The epoch cap is for the original recipe only.
    assert original.epochs == race.epochs < 50
    assert every_step.epochs == PRESETS["lofi-stream"].epochs


# ----- reading and targets ---------------------------------------------------------
def test_reading_times_a_wjazzd_folder_cold_then_warm(tmp_path):
    from benchmarks import reading
    from tests.test_wjazzd_csv import note_row, write_solo

    write_solo(tmp_path, "A_One", [note_row(1, 1, 60)])
    write_solo(tmp_path, "B_Two", [note_row(1, 2, 62)])
    figures = reading.reading_times(1, metheny=tmp_path / "absent.mid", wjazzd=tmp_path)
    assert set(figures) == {"wjazzd cold", "wjazzd warm"}
    assert all(figure["songs"] == 2 and figure["runs"] == 1 and figure["cache_bytes"] > 0
               for figure in figures.values())


def test_targets_say_which_figures_hold():
    from benchmarks.targets import target_rows

    report = {"reading": {"wjazzd warm": {"median": 1.5}, "metheny cold": {"median": 0.5}},
              "presets": {"jazz": {"ratio": {"ours numba": 1.2}},
                          "sample": {"ratio": {"ours numba": 4.0}}},
              "races": {"lofi": {"shrunk": "shrunk to LSTMs of 64", "ratio": 7.0, "target": 5.0,
                                 "unigram_validation": 5.5},
                        "deepjazz": {"shrunk": "", "ratio": 9.0, "target": 5.6,
                                     "unigram_validation": 5.5}}}
    assert [(measured, target, holds) for _, measured, target, holds in target_rows(report)] == [
        ("0.50 s", "<= 1 s", True), ("1.50 s", "<= 1 s", False), ("1.20x", ">= 1x", True),
        ("4.00x", ">= 5x", False), ("7.0x", ">= 5x", True),
        ("9.0x at a unigram's loss", ">= 5x", False)]


@pytest.mark.skipif(speed.torch is None, reason="torch is not installed")
def test_one_hot_inputs_too_big_to_build_at_once_are_built_per_batch(monkeypatch):
    from lstm_np.model import ModelConfig

    config = ModelConfig(vocab_size=6, hidden_size=3, feature_size=2)
    train = speed.TRAIN_PRESETS["course"].with_overrides(batch_size=2)
    rng = np.random.default_rng(0)
    data = (rng.integers(0, 6, (5, 4)), rng.integers(0, 6, (5, 4)),
            rng.standard_normal((5, 4, 2)).astype(np.float32))
    built, build = [], contenders.torch_inputs
    monkeypatch.setattr(contenders, "torch_inputs", lambda *args: built.append(1) or build(*args))
    losses, builds = [], []
    for limit in (1 << 30, 0):     # all at once, then batch by batch
        monkeypatch.setattr(contenders, "ONE_HOT_BYTES_UP_FRONT", limit)
        built.clear()
        _, epoch = contenders.torch_trainer(config, train, data, seed=3)
        losses.append([epoch() for _ in range(2)])
        builds.append(len(built))
    assert losses[0] == losses[1]
    assert builds == [1, 6]        # 5 windows in batches of 2: 3 batches in each of 2 epochs
