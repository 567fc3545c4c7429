"""jazz_lstm.presets: the presets copy the models they are named after, and a
TrainConfig takes overrides."""
import pytest

from jazz_lstm.presets import GRAMMARS, OPTIMIZERS, PRESETS, WINDOW_SCHEMES, TrainConfig, preset_config


def test_the_course_preset_is_the_assignments_djmodel():
    course = PRESETS["course"]
    assert course == TrainConfig()
    assert (course.hidden_size, course.head, course.optimizer, course.lr, course.decay) == \
        (64, "every_step", "adam", 0.01, 0.01)
    assert (course.windows, course.window_count, course.window_length, course.epochs) == \
        ("course", 60, 30, 100)


def test_deepjazz_and_lofi_are_their_originals():
    deepjazz, lofi = PRESETS["deepjazz"], PRESETS["lofi"]
    assert (deepjazz.num_layers, deepjazz.hidden_size, deepjazz.dropout, deepjazz.head) == \
        (2, 128, 0.2, "last_step")
    assert (deepjazz.optimizer, deepjazz.window_length, deepjazz.window_step, deepjazz.epochs) == \
        ("rmsprop", 20, 3, 128)
    assert (lofi.num_layers, lofi.hidden_size, lofi.dropout, lofi.dense_size, lofi.batch_norm) == \
        (3, 512, 0.3, 256, True)
    assert (lofi.window_length, lofi.window_step, lofi.batch_size) == (100, 1, 64)


def test_every_preset_names_known_choices():
    for name, config in PRESETS.items():
        assert config.windows in WINDOW_SCHEMES, name
        assert config.optimizer in OPTIMIZERS, name
        assert config.grammar in GRAMMARS, name
        assert config.head in ("every_step", "last_step"), name
    for name in ("deepjazz-stream", "lofi-stream", "jazz"):
        assert PRESETS[name].windows == "stream" and PRESETS[name].patience > 0


def test_overrides_apply_all_but_none():
    config = TrainConfig().with_overrides(epochs=3, hidden_size=None, lr=0.5)
    assert (config.epochs, config.hidden_size, config.lr) == (3, 64, 0.5)
    assert TrainConfig().with_overrides() == TrainConfig()
    with pytest.raises(TypeError):
        TrainConfig().with_overrides(colour="blue")


def test_field_names_are_the_settings_in_order():
    names = TrainConfig.field_names()
    assert names[:3] == ("hidden_size", "num_layers", "dropout")
    assert names[-4:] == ("grammar", "validation_share", "patience", "structure")
    assert len(names) == 22


def test_presets_by_name():
    assert preset_config(None) is PRESETS["course"]
    assert preset_config("jazz") is PRESETS["jazz"]
    with pytest.raises(ValueError, match="unknown preset 'bebop'; choose one of course, deepjazz"):
        preset_config("bebop")
