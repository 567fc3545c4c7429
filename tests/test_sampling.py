"""jazz_lstm.sampling: settings checked when made, primers cut from the training stream
or a file, and a checkpoint plus chords giving the same solo for the same seed."""
import math
from dataclasses import replace
from fractions import Fraction as F

import numpy as np
import pytest

from jazz_lstm.grammars import Exact
from jazz_lstm.runs import UsageError, load_model
from jazz_lstm.sampling import SampleSettings, Solo, primer_inputs, sample_song
from music.song import Measure, Note, Song
from tests.test_cli import SMALL_PIECE


def test_the_default_settings_are_valid():
    settings = SampleSettings()
    assert (settings.seed, settings.band, settings.swing, settings.top_k) == (0, "trio", 2.0, 0)


@pytest.mark.parametrize("options, message", [
    ({"bars": 0}, "bars must be a whole number in 1..1000, got 0"),
    ({"bars": 1001}, "bars must be a whole number in 1..1000"),
    ({"bars": True}, "bars must be a whole number"),
    ({"bars": 2.0}, "bars must be a whole number"),
    ({"length": 100_001}, "length must be a whole number in 1..100000"),
    ({"seed": -1}, "seed must be a whole number in 0.."),
    ({"seed": None}, "seed must be a whole number"),
    ({"top_k": 1.5}, "top_k must be a whole number"),
    ({"temperature": float("nan")}, "temperature must be a number in 0..100, got nan"),
    ({"temperature": 100.5}, "temperature must be a number in 0..100"),
    ({"temperature": "hot"}, "temperature must be a number"),
    ({"tempo": 19.9}, "tempo must be a number in 20..400"),
    ({"swing": 4.5}, "swing must be a number in 0..4"),
    ({"swing": None}, "swing must be a number"),
    ({"band": "quartet"}, "band must be one of none, comp, trio, got 'quartet'"),
    ({"chords": ["Dm7"]}, "chords must be text, got list"),
    ({"primer": b"x.mid"}, "primer must be text, got bytes"),
    ({"time_signature": (0, 4)}, "time signature 0/4: beats 1..32 over one of 1, 2, 4, 8, 16, 32"),
    ({"chords": "x" * 100, "bars": -1}, "bars"),
])
def test_a_wrong_setting_is_refused_by_name(options, message):
    with pytest.raises(UsageError) as error:
        SampleSettings(**options)
    assert message in str(error.value) and len(str(error.value)) < 200


def test_settings_at_the_limits_are_taken():
    SampleSettings(bars=1000, length=1, seed=2 ** 63 - 1, temperature=0, tempo=400, swing=4,
                   band="none", top_k=np.int64(5), time_signature=(32, 32))


@pytest.fixture(scope="module")
def loaded(small_run):
    return load_model(small_run / "runs" / "X" / "model.safetensors")


def test_without_a_primer_file_the_model_is_primed_with_a_window_of_its_stream(loaded):
    ids = loaded.stream.ids
    length = min(loaded.record.train.window_length, len(ids))
    starts = set()
    for seed in range(8):
        primer, features = primer_inputs(None, loaded.record, loaded.stream,
                                         np.random.default_rng(seed))
        assert primer.shape == (1, length) and features is None
        window = primer[0].tolist()
        found = [start for start in range(len(ids) - length + 1)
                 if ids[start:start + length].tolist() == window]
        assert found
        starts.update(found)
    assert len(starts) > 1     # the start is drawn


def test_a_primer_file_primes_with_its_last_tokens_and_the_places_after_them(loaded):
    record = loaded.record
    from jazz_lstm.corpus import read_songs

    piece = Exact().piece(read_songs([SMALL_PIECE])[0])
    index = {token: token_id for token_id, token in enumerate(record.vocabulary)}
    known = [position for position, token in enumerate(piece.tokens) if token in index]
    last = known[-record.train.window_length:]
    primer, features = primer_inputs(SMALL_PIECE, record, loaded.stream, np.random.default_rng(0))
    assert primer[0].tolist() == [index[piece.tokens[position]] for position in last]
    # token t is read with the feature row of t + 1
    assert np.array_equal(features[0], piece.features[np.array(last) + 1])


def test_a_primer_with_no_known_token_is_refused(loaded):
    record = replace(loaded.record, vocabulary=("not a token", "nor this"))
    with pytest.raises(UsageError, match="none of its .* tokens is in the model's vocabulary"):
        primer_inputs(SMALL_PIECE, record, loaded.stream, np.random.default_rng(0))


def test_the_same_seed_gives_the_same_solo_and_another_seed_another(loaded):
    def solo(seed):
        return sample_song(loaded.model, loaded.record, loaded.stream,
                           SampleSettings(chords="Dm7 G7 | Cmaj7 | A7", bars=6, seed=seed))

    first, again, other = solo(3), solo(3), solo(4)
    assert first.midi_bytes() == again.midi_bytes()
    assert first.midi_bytes() != other.midi_bytes()
    assert len(first.song.measures) == 6
    assert [[chord.symbol for chord in measure.chords] for measure in first.song.measures] == \
        [["Dm7", "G7"], ["Cmaj7"], ["A7"]] * 2
    for measure in first.song.measures:
        assert sum(note.duration for note in measure.notes) == 4
    notes = sum(1 for measure in first.song.measures for note in measure.notes
                if note.pitch is not None and not note.tied)
    assert first.summary == f"6 bars, {notes} notes"
    assert first.temperature == loaded.record.train.temperature


def test_given_chords_play_all_their_bars_and_the_training_chords_at_most_32(loaded):
    settings = SampleSettings(chords="C7 | F7 | C7 | G7 | F7", seed=1, temperature=0.5)
    solo = sample_song(loaded.model, loaded.record, loaded.stream, settings)
    assert len(solo.song.measures) == 5 and solo.temperature == 0.5
    training = sample_song(loaded.model, loaded.record, loaded.stream, SampleSettings(seed=1))
    bars = len(loaded.record.music.chords)
    assert len(training.song.measures) == min(bars, 32)
    assert "over the changes of" in training.summary


def test_a_time_signature_changes_the_bars(loaded):
    settings = SampleSettings(chords="Dm7 | G7", time_signature=(3, 4), seed=2)
    solo = sample_song(loaded.model, loaded.record, loaded.stream, settings)
    assert solo.song.time_signature == (3, 4)
    assert [measure.length for measure in solo.song.measures] == [3, 3]


@pytest.mark.parametrize("settings, message", [
    (SampleSettings(chords=" | | "), "--chords is empty"),
    (SampleSettings(length=10), "is a grammar model: --length applies to the notes encoding"),
])
def test_options_of_the_other_encoding_are_refused(loaded, settings, message):
    with pytest.raises(UsageError, match=message):
        sample_song(loaded.model, loaded.record, loaded.stream, settings, label="run X")


def test_a_notes_model_refuses_chords_and_bars(loaded):
    record = replace(loaded.record, corpus=replace(loaded.record.corpus, encoding="notes"))
    for settings in (SampleSettings(chords="Dm7"), SampleSettings(bars=4)):
        with pytest.raises(UsageError, match="run X is a notes-encoding model: --chords and --bars"):
            sample_song(loaded.model, record, loaded.stream, settings, label="run X")


def test_more_chord_bars_than_a_solo_holds_are_refused(loaded):
    with pytest.raises(UsageError, match="--chords gives 1001 bars; a solo has at most 1000"):
        sample_song(loaded.model, loaded.record, loaded.stream, SampleSettings(chords="C7 | " * 1001))


def one_bar_solo():
    settings = SampleSettings(seed=5)
    song = Song([Measure(4, [Note(0, 2, 60), Note(2, 2, 64)])], tempo=90, title="Bar")
    return Solo(song, {}, "1 bar, 2 notes", settings, 0.7)


def test_a_solo_shows_its_settings_and_its_length():
    solo = one_bar_solo()
    page = solo.html(embed_audio=False)
    # the settings given, and the temperature used; unset ones (None) are left out
    for name, value in (("seed", "5"), ("top_k", "0"), ("band", "trio"), ("swing", "2"),
                        ("temperature", "0.7")):
        assert f"<th>{name}</th><td>{value}</td>" in page
    assert "<th>tempo</th>" not in page and "<th>chords</th>" not in page
    assert solo.seconds() == pytest.approx(4 * 60 / 90)
    assert repr(solo) == ("<Solo 'Bar': 1 bar, 2 notes, 2.7 s at 90 bpm; seed 5, "
                          "temperature 0.7>")
    assert math.isclose(solo.check_wav_length(), 4 * 60 / 90)


def test_a_solo_writes_what_it_shows(tmp_path):
    solo = one_bar_solo()
    assert solo.write_midi(tmp_path / "a.mid").read_bytes() == solo.midi_bytes()
    assert solo.midi_bytes().startswith(b"MThd")
    wav = solo.wav_bytes(sample_rate=8000)
    assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE"
    page = solo.html(embed_audio=False)
    assert "<!DOCTYPE html>" in page and "data:audio/wav" not in page
    assert F(solo.song.measures[0].length) == 4
