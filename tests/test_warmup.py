"""jazz_lstm.warmup: before timing anything, a tiny model built like the real one trains
one epoch and samples once (so Numba compiles), with one notice when that takes long."""
import threading
import time

import numpy as np
import pytest

import lstm_np.generate
import lstm_np.optim
from jazz_lstm import warmup
from lstm_np import kernels
from lstm_np.model import ModelConfig


@pytest.fixture
def numba_reported(monkeypatch):
    """The default backend reads as Numba; what warm_up runs is replaced by the test."""
    monkeypatch.setattr(kernels, "resolve_backend", lambda backend=None: "numba")


def test_without_numba_nothing_runs(monkeypatch):
    monkeypatch.setenv("JAZZ_LSTM_NUMBA", "0")

    def fail(*args):
        raise AssertionError("nothing to compile without Numba")

    monkeypatch.setattr(warmup, "_exercise", fail)
    announced = []
    assert warmup.warm_up(ModelConfig(vocab_size=5), announced.append) == 0.0
    assert announced == []


def test_a_slow_warm_up_is_announced_once_while_it_works(numba_reported, monkeypatch):
    monkeypatch.setattr(warmup, "NOTICE_AFTER", 0.05)
    announced, during = [], []

    def slow(config, training):
        time.sleep(0.5)
        during.extend(announced)

    monkeypatch.setattr(warmup, "_exercise", slow)
    seconds = warmup.warm_up(ModelConfig(vocab_size=5), announced.append)
    assert during == [warmup.MESSAGE] and announced == [warmup.MESSAGE]
    assert 0.5 <= seconds < 5


def test_a_quick_warm_up_says_nothing_even_later(numba_reported, monkeypatch):
    monkeypatch.setattr(warmup, "NOTICE_AFTER", 0.2)
    monkeypatch.setattr(warmup, "_exercise", lambda config, training: None)
    announced = []
    warmup.warm_up(ModelConfig(vocab_size=5), announced.append)
    time.sleep(0.4)     # the timer was cancelled, not merely not yet due
    assert announced == []
    assert not [thread for thread in threading.enumerate() if isinstance(thread, threading.Timer)
                and thread.is_alive()]


def test_a_failed_warm_up_raises_and_cancels_its_notice(numba_reported, monkeypatch):
    monkeypatch.setattr(warmup, "NOTICE_AFTER", 0.2)

    def broken(config, training):
        raise RuntimeError("no compiler")

    monkeypatch.setattr(warmup, "_exercise", broken)
    announced = []
    with pytest.raises(RuntimeError, match="no compiler"):
        warmup.warm_up(ModelConfig(vocab_size=5), announced.append)
    time.sleep(0.4)
    assert announced == []


@pytest.fixture
def calls(monkeypatch):
    """The models the warm-up trains and samples with (the real functions still run,
    on NumPy)."""
    monkeypatch.setenv("JAZZ_LSTM_NUMBA", "0")
    seen = []
    for module, name in ((lstm_np.optim, "train_epoch"), (lstm_np.generate, "generate"),
                         (lstm_np.generate, "generate_segments")):
        original = getattr(module, name)

        def spy(model, *args, _name=name, _original=original, **options):
            seen.append((_name, model.config))
            return _original(model, *args, **options)

        monkeypatch.setattr(module, name, spy)
    return seen


@pytest.mark.parametrize("config, sampler", [
    (ModelConfig(vocab_size=80, hidden_size=64), "generate"),
    (ModelConfig(vocab_size=300, hidden_size=128, num_layers=2, dropout=0.2, dense_size=256,
                 head="last_step", batch_norm=True), "generate"),
    (ModelConfig(vocab_size=200, hidden_size=256, feature_size=41, dtype="float64"),
     "generate_segments"),
])
def test_a_tiny_model_of_the_same_build_trains_once_and_samples(calls, config, sampler):
    warmup._exercise(config, training=True)
    tiny = ModelConfig(vocab_size=3, hidden_size=2, num_layers=config.num_layers,
                       dropout=config.dropout, dense_size=min(config.dense_size, 2),
                       head=config.head, dtype=config.dtype, batch_norm=config.batch_norm,
                       feature_size=config.feature_size)
    assert calls == [("train_epoch", tiny), (sampler, tiny)]


def test_sampling_only_trains_nothing(calls):
    warmup._exercise(ModelConfig(vocab_size=80, feature_size=3), training=False)
    assert [name for name, _ in calls] == ["generate_segments"]


def test_the_warm_up_leaves_the_global_random_state_alone(calls):
    before = np.random.get_state()[1].copy()
    warmup._exercise(ModelConfig(vocab_size=10), training=True)
    assert np.array_equal(np.random.get_state()[1], before)
