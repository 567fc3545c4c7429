"""jazz_lstm.training's parts in-process: seeded streams, training windows, settings checked
before any music is read, the save policy and the best validation epoch kept.  The loop
itself, end to end: test_jazz_pipeline.py."""
import time
from types import SimpleNamespace

import numpy as np
import pytest

from jazz_lstm import training
from jazz_lstm.presets import TrainConfig
from jazz_lstm.record import RecordError


def test_three_independent_streams_fixed_by_the_seed():
    first = [rng.integers(0, 2 ** 32, size=4).tolist() for rng in training.seeded_streams(7)]
    again = [rng.integers(0, 2 ** 32, size=4).tolist() for rng in training.seeded_streams(7)]
    other = [rng.integers(0, 2 ** 32, size=4).tolist() for rng in training.seeded_streams(8)]
    assert first == again and len(first) == 3
    assert len({tuple(draws) for draws in first}) == 3 and other != first


def test_stream_windows_by_hand():
    config = TrainConfig(windows="stream", window_length=4)
    ids = np.arange(11) * 10
    inputs, targets, features = training.make_windows(config, ids, None)
    # starts 0, 4, and 6 (the last start whose next token exists: 11 - 4 - 1)
    assert inputs.tolist() == [[0, 10, 20, 30], [40, 50, 60, 70], [60, 70, 80, 90]]
    assert targets.tolist() == [[10, 20, 30, 40], [50, 60, 70, 80], [70, 80, 90, 100]]
    assert features is None


def test_a_last_step_head_gets_one_target_per_window_and_features_ride_along():
    config = TrainConfig(windows="deepjazz", window_length=3, window_step=2, head="last_step")
    ids = np.arange(8)
    rows = np.arange(9, dtype=np.float32)[:, None]
    inputs, targets, features = training.make_windows(config, ids, None, rows)
    assert inputs.tolist() == [[0, 1, 2], [2, 3, 4], [4, 5, 6]]
    assert targets.tolist() == [3, 5, 7]
    assert features[:, :, 0].tolist() == [[1, 2, 3], [3, 4, 5], [5, 6, 7]]


def test_a_corpus_shorter_than_a_window_trains_on_shorter_windows():
    config = TrainConfig(windows="stream", window_length=30)
    inputs, targets, _ = training.make_windows(config, np.arange(5), None)
    assert inputs.tolist() == [[0, 1, 2, 3]] and targets.tolist() == [[1, 2, 3, 4]]


def test_course_windows_are_drawn_by_the_window_generator():
    config = TrainConfig(window_length=3, window_count=50)
    first = training.make_windows(config, np.arange(20), np.random.default_rng(1))[0]
    again = training.make_windows(config, np.arange(20), np.random.default_rng(1))[0]
    assert first.shape == (50, 3) and np.array_equal(first, again)
    assert set(first[:, 0].tolist()) <= set(range(17)) and len(set(first[:, 0].tolist())) > 5


@pytest.mark.parametrize("config, seed, culprit", [
    (TrainConfig(), -1, "seed must be a whole number"),
    (TrainConfig(), True, "seed must be a whole number"),
    (TrainConfig(), 2 ** 63, "seed must be a whole number"),
    (TrainConfig(hidden_size=0), 0, "train.hidden_size"),
    (TrainConfig(optimizer="sgd"), 0, "train.optimizer"),
    (TrainConfig(lr=float("nan")), 0, "train.lr"),
    (TrainConfig(batch_norm=1), 0, "train.batch_norm must be true or false"),
])
def test_settings_are_checked_as_a_saved_runs_are(config, seed, culprit):
    with pytest.raises(RecordError, match=culprit):
        training.check_settings(config, seed)


def test_good_settings_pass():
    training.check_settings(TrainConfig(), 0)
    training.check_settings(TrainConfig(hidden_size=256, dropout=0.3), 2 ** 63 - 1)


def test_a_save_is_due_after_an_epoch_as_long_as_the_last_save_or_after_a_while(tmp_path):
    saver = training._Saver(tmp_path / "model.safetensors")
    assert saver.due(0.0)                  # nothing saved yet: a save costs nothing known
    saver.save_seconds, saver.last_save = 2.0, time.monotonic()
    assert not saver.due(1.0) and saver.due(2.0)
    saver.last_save -= training.SAVE_EVERY_SECONDS
    assert saver.due(0.1)
    saver.flush()                          # no finished epoch: nothing written
    assert list(tmp_path.iterdir()) == []


def test_the_best_validation_epoch_keeps_a_copy_of_its_weights():
    weights = np.array([1.0, 2.0])
    session = SimpleNamespace(record=SimpleNamespace(best_epoch=None, best_val_loss=None),
                              model=SimpleNamespace(params={"w": weights}, buffers={}), best=None)
    training._keep_if_best(session, 1, 2.0)
    weights += 1                           # training goes on in place
    training._keep_if_best(session, 2, 2.5)
    training._keep_if_best(session, 3, float("nan"))
    assert (session.record.best_epoch, session.record.best_val_loss) == (1, 2.0)
    assert session.best["epoch"] == 1 and session.best["params"]["w"].tolist() == [1.0, 2.0]
    training._keep_if_best(session, 4, 1.23456789)
    assert (session.record.best_epoch, session.record.best_val_loss) == (4, 1.234568)
    assert session.best["params"]["w"].tolist() == [2.0, 3.0]
