"""The run record: a record survives JSON unchanged, and every wrong field is refused by name."""
import copy
import json
from dataclasses import asdict, replace

import pytest

from jazz_lstm.presets import PRESETS, TrainConfig
from jazz_lstm.record import (CorpusRecord, MusicRecord, ReadOptions, RecordError, RunRecord,
                              check_stream, train_config_from_json)
from lstm_np.parameters import ModelConfig
from music.tokens.conditioning import feature_size

CHORDS = [[["0", "4", 2, [2, 5, 9, 0], "Dm7"]], [["0", "2", 7, [7, 11, 2, 5], "G7"],
                                                 ["2", "2", 0, [0, 4, 7, 11], "Cmaj7"]]]


def a_record(**changes) -> RunRecord:
    fields = dict(
        train=PRESETS["jazz"], vocabulary=("|", "R,3", "NC0=,12"),
        corpus=CorpusRecord("grammar", sources=("a.mid",), validation_sources=("b.mid",),
                            skipped=("c.mid",),
                            options=ReadOptions(data=("a.mid", "b.mid"), melody_part=0,
                                                chord_parts=("Piano",), bars=(1, 8),
                                                chords="Dm7 | G7 Cmaj7", chords_offset=1,
                                                where=("style=BEBOP", "instrument=ts"))),
        music=MusicRecord(tempo=140.0, time_signature=(4, 4), chords=CHORDS,
                          chords_title="Blue Bossa", pitch_range=(55, 84)),
        seed=7, feature_size=12, epoch=2,
        history=[[1, 3.5, 0.1, 3.4, 0.12], [2, 3.1, 0.2, 3.3, 0.13]], best_epoch=2,
        best_val_loss=3.3)
    fields.update(changes)
    return RunRecord(**fields)


def through_json(record: RunRecord) -> RunRecord:
    return RunRecord.from_json(json.loads(json.dumps(record.to_json())))


def test_a_record_comes_back_from_json_equal():
    record = a_record()
    assert through_json(record) == record
    notes = a_record(corpus=CorpusRecord("notes", sources=("x.mid",), notes_encoding_version=2),
                     music=MusicRecord(120.0), vocabulary=("C4", "E4"), feature_size=0,
                     best_epoch=None, best_val_loss=None, history=[[1, 5.0, 0.0], [2, 4.0, 0.1]])
    assert through_json(notes) == notes


def test_the_selection_is_the_where_choice_in_words():
    assert a_record().corpus.selection == "style=BEBOP instrument=ts"
    assert CorpusRecord("grammar").selection == ""
    assert "corpus.options.where" in refused(
        lambda data: data["corpus"]["options"].update(where=["a\nb"]))


def test_the_model_settings_are_those_the_training_settings_imply():
    record = a_record()
    assert record.model == ModelConfig(vocab_size=3, hidden_size=256, num_layers=1, dropout=0.3,
                                       dense_size=0, head="every_step", dtype="float32",
                                       batch_norm=False, feature_size=12)
    assert "model" not in record.to_json()   # each setting is stored once


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_is_a_training_setting_the_record_accepts(name):
    assert isinstance(PRESETS[name], TrainConfig)
    assert through_json(a_record(train=PRESETS[name])).train == PRESETS[name]


def refused(change) -> str:
    data = copy.deepcopy(a_record().to_json())
    change(data)
    with pytest.raises(RecordError) as caught:
        RunRecord.from_json(json.loads(json.dumps(data)))
    assert "\n" not in str(caught.value)
    return str(caught.value)


@pytest.mark.parametrize("setting, value", [
    ("hidden_size", 0), ("hidden_size", 4097), ("hidden_size", 64.0), ("num_layers", True),
    ("dropout", 1.0), ("lr", 0), ("epochs", -1), ("batch_norm", 1), ("head", "first_step"),
    ("windows", "random"), ("optimizer", "sgd"), ("dtype", "float16"), ("grammar", "other"),
    ("validation_share", 0.95), ("temperature", None), ("patience", "2")])
def test_each_training_setting_is_checked_by_name(setting, value):
    assert f"train.{setting}" in refused(lambda data: data["train"].update({setting: value}))


def test_unknown_and_missing_fields_are_named():
    assert "unknown fields ['colour']" in refused(lambda data: data["train"].update(colour=1))
    assert "lacks fields ['grammar']" in refused(lambda data: data["train"].pop("grammar"))
    assert "lacks fields ['music']" in refused(lambda data: data.pop("music"))
    assert "corpus lacks fields ['skipped']" in refused(lambda data: data["corpus"].pop("skipped"))


@pytest.mark.parametrize("change, expected", [
    (lambda data: data.update(vocabulary=["|", "|", "R4"]), "distinct"),
    (lambda data: data.update(vocabulary=["|"]), "vocabulary must be a list of 2.."),
    (lambda data: data.update(epoch=3), "one row per finished epoch (3)"),
    (lambda data: data.update(best_epoch=3), "best_epoch must be a whole number in 1..2"),
    (lambda data: data.update(best_val_loss=None), "go together"),
    (lambda data: data.update(seed=-1), "seed"),
    (lambda data: data.update(feature_size=2000), "feature_size"),
    (lambda data: data["history"][1].__setitem__(0, 5), "history row 2"),
    (lambda data: data["corpus"].update(encoding="midi"), "corpus.encoding"),
    (lambda data: data["corpus"].update(sources="a.mid"), "corpus.sources"),
    (lambda data: data["corpus"]["options"].update(bars=[1]), "corpus.options.bars"),
    (lambda data: data["corpus"]["options"].update(chords_offset=-1), "chords_offset"),
    (lambda data: data["music"].update(tempo=1000), "music.tempo"),
    (lambda data: data["music"].update(time_signature=[4, 3]), "time_signature"),
    (lambda data: data["music"].update(pitch_range=[60, 65]), "music.pitch_range"),
    (lambda data: data["music"].update(chords_title="a\nb"), "music.chords_title"),
    (lambda data: data["music"]["chords"][0][0].__setitem__(1, "5"), "outside its bar"),
    (lambda data: data["music"]["chords"][0][0].__setitem__(2, 3), "bad pitch classes"),
    (lambda data: data["vocabulary"].__setitem__(1, "no such token"),
     "does not fit the exact grammar"),
])
def test_wrong_values_are_named(change, expected):
    assert expected in refused(change)


def test_the_training_stream_must_fit_the_vocabulary():
    stream = check_stream([0, 2, 1, 1], [3, 1], 3)
    assert stream.pieces() == [[0, 2, 1], [1]]
    for ids, lengths, expected in [([0, 3], [2], "0..2"), ([0, 1], [1], "adding up"),
                                   ([0.5, 1.0], [2], "2..")]:
        with pytest.raises(RecordError, match=expected):
            check_stream(ids, lengths, 3)


def test_training_settings_are_stored_whole():
    """Every setting, but those added later (LATER_SETTINGS) only off their default,
    so that the records of runs saved before them read the same."""
    plain = replace(PRESETS["jazz"], structure="none")
    expected = asdict(plain)
    del expected["structure"]
    assert a_record(train=plain).to_json()["train"] == expected
    assert RunRecord.from_json(a_record(train=plain).to_json()).train == plain
    phrased = replace(plain, structure="phrase+form")
    data = a_record(train=phrased, feature_size=feature_size("phrase+form")).to_json()
    assert data["train"] == asdict(phrased)
    assert RunRecord.from_json(data).train == phrased


def test_structure_features_are_checked():
    phrased = replace(PRESETS["jazz"], structure="phrase")
    with pytest.raises(RecordError, match="does not fit the exact grammar with structure"):
        RunRecord.from_json(a_record(train=phrased, feature_size=45).to_json())
    with pytest.raises(RecordError, match="needs the exact grammar"):
        train_config_from_json(asdict(replace(phrased, grammar="classic")))
    with pytest.raises(RecordError, match="train.structure must be one of"):
        train_config_from_json({**asdict(phrased), "structure": "verse"})
