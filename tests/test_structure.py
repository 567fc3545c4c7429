"""Phrase and form features (music.tokens.structure): hand-computed values, and the
sampler hearing exactly what training computes from the same tokens."""
import math

import numpy as np
import pytest

import jazz_lstm
from jazz_lstm.grammars import Exact, grammar_named
from lstm_np.generate import generate_segments
from lstm_np.model import ModelConfig, SequenceModel
from music.progressions import progression_bars
from music.song import Annotations, Span
from music.tokens.conditioning import (FEATURE_NAMES, feature_names, feature_size, phrase_columns,
                                       position_features, stream_features)
from music.tokens.exact_grammar import BAR_LINE, token_cost
from music.tokens.structure import (FORM_FEATURE_NAMES, PHRASE_FEATURE_NAMES, FormPlace,
                                    PhraseTracker, form_from_annotations, form_from_chords,
                                    form_row, phrase_rows)


def squash(value, scale):
    return 1.0 - math.exp(-value / scale)


# ----- phrase ---------------------------------------------------------------------
def test_phrase_features_by_hand():
    tokens = ["R,12", "|", "7+4,6", "0=,6", "R,6", "4-4,12", "R,12", "T,6", "3+4,6", "|",
              "T,12", "R,2"]
    # (open, beats since the phrase's first onset, notes, silence in units) before each token
    expected = [(0, 0, 0, 48), (0, 0, 0, 60), (0, 0, 0, 60),
                (1, 0.5, 1, 0), (1, 1.0, 2, 0), (1, 1.5, 2, 6), (1, 2.5, 3, 0),
                (0, 0, 0, 12),      # a beat of rest ends the phrase
                (0, 0, 0, 18),      # a tie after a rest continues nothing: silence
                (1, 0.5, 1, 0),     # the next note starts a new phrase
                (1, 0.5, 1, 0),     # the bar line changes nothing
                (1, 1.5, 1, 0),     # the tie after it holds the note
                (1, 1 + 8 / 12, 1, 2)]
    rows = phrase_rows(tokens)
    assert rows.shape == (len(tokens) + 1, len(PHRASE_FEATURE_NAMES)) and rows.dtype == np.float32
    for row, (is_open, beats, notes, silence) in zip(rows, expected, strict=True):
        want = [is_open, squash(beats, 8) if is_open else 0.0,
                squash(notes, 16) if is_open else 0.0, min(silence, 48) / 48]
        np.testing.assert_allclose(row, want, rtol=1e-6, atol=1e-7)


def test_a_tracker_fed_token_by_token_gives_the_rows():
    tokens = ["0=,6", "R,3", "4+4,3", "|", "R,24", "7=,12", "R,12", "|"]
    tracker, rows = PhraseTracker(), phrase_rows(tokens)
    for index, token in enumerate(tokens):
        np.testing.assert_array_equal(tracker.features(), rows[index])
        tracker.feed(token)
    np.testing.assert_array_equal(tracker.features(), rows[-1])


# ----- form -----------------------------------------------------------------------
def aaba_bars():
    a = progression_bars("C | Am7 | Dm7 | G7 | C | Am7 | Dm7 G7 | C")
    b = progression_bars("E7 | E7 | A7 | A7 | D7 | D7 | G7 | G7")
    return a + a + b + a


def test_form_from_chords_by_hand():
    places = form_from_chords(aaba_bars(), 40)
    assert [places[bar].letter for bar in (0, 8, 16, 24)] == ["A", "A", "B", "A"]
    assert places[19] == FormPlace(1, 19, 32, "B", 3, 8)
    assert places[35] == FormPlace(2, 3, 32, "A", 3, 8)
    np.testing.assert_allclose(form_row(places[35]), [3 / 32, 0, 1, 0, 1, 0, 0, 3 / 8])
    blues = form_from_chords(progression_bars("blues"), 110)
    assert blues[13] == FormPlace(2, 1, 12, "A", 1, 12)
    np.testing.assert_allclose(form_row(blues[100]), [4 / 12, 0, 0, 1, 1, 0, 0, 4 / 12])


def test_form_from_annotations_by_hand():
    annotations = Annotations(
        choruses=(Span(0, 1, "0"), Span(1, 5, "1"), Span(5, 9, "2")),
        form_parts=(Span(0, 1, "I1"), Span(1, 3, "A1"), Span(3, 5, "B1"), Span(5, 7, "A1"),
                    Span(7, 9, "C1")))
    places = form_from_annotations(annotations, 9)
    assert places[0] is None     # the pickup, before the first chorus
    assert places[1] == FormPlace(1, 0, 4, "A", 0, 2)
    assert places[4] == FormPlace(1, 3, 4, "B", 1, 2)
    assert places[8] == FormPlace(2, 3, 4, "C", 1, 2)
    np.testing.assert_array_equal(form_row(places[0]), np.zeros(8))
    np.testing.assert_allclose(form_row(places[8]), [3 / 4, 0, 1, 0, 0, 0, 1, 1 / 2])


def test_structure_features_follow_the_45_and_leave_them_alone():
    assert feature_names("none") == FEATURE_NAMES and feature_size() == 45
    assert feature_names("phrase+form") == FEATURE_NAMES + FORM_FEATURE_NAMES + \
        PHRASE_FEATURE_NAMES
    assert feature_size("phrase") == 49 and feature_size("form") == 53
    bars = progression_bars("Dm7 G7 | Cmaj7")
    tokens = ["2+4,24", "R,24", "|", "0=,12", "R,36", "|"]
    form = form_from_chords(bars, 2)
    plain = stream_features(tokens, bars, 48)
    full = stream_features(tokens, bars, 48, structure="phrase+form", form=form)
    np.testing.assert_array_equal(full[:, :45], plain)
    np.testing.assert_array_equal(full[:, phrase_columns("phrase+form")], phrase_rows(tokens))
    # Row t is where token t starts: rows 0-2 in bar 1 (its full position included).
    np.testing.assert_array_equal(full[:3, 45:53], np.tile(form_row(form[0]), (3, 1)))
    np.testing.assert_array_equal(full[3:6, 45:53], np.tile(form_row(form[1]), (3, 1)))
    # After the last bar line the chord bars cycle: bar 1 again.
    np.testing.assert_array_equal(full[6, 45:53], form_row(form[0]))
    assert not position_features(bars, 48, structure="phrase")[..., 45:].any()


def test_the_structure_needs_the_exact_grammar():
    with pytest.raises(ValueError, match="exact grammar"):
        grammar_named("classic", "phrase")
    with pytest.raises(ValueError, match="unknown structure"):
        Exact("verse")


# ----- sampling hears what training computes ------------------------------------
VOCABULARY = sorted({BAR_LINE, "R,1", "R,2", "R,3", "R,6", "R,12", "R,24", "T,6", "T,12",
                     "0=,6", "4+4,6", "7-4,3", "0=,12", "3+4,12", "10-8,3", "5=,2"})


def structure_model(structure, seed=0, backend=None):
    config = ModelConfig(vocab_size=len(VOCABULARY), hidden_size=8,
                         feature_size=feature_size(structure), dtype="float64")
    params = {name: value * 3.0 for name, value in
              SequenceModel(config, rng=np.random.default_rng(seed)).params.items()}
    return SequenceModel(config, params=params, backend=backend)


def sample(model, structure, chords, bars, time_signature, seed=0, form=None):
    rngs = [np.random.default_rng(child) for child in np.random.SeedSequence(seed).spawn(2)]
    return Exact(structure).solo(model, VOCABULARY, chords, bars, time_signature, 120.0,
                                 primer=(None, None), token_rng=rngs[0], decode_rng=rngs[1],
                                 temperature=1.0, top_k=0, form=form)


@pytest.mark.parametrize("structure", ["phrase", "form", "phrase+form"])
@pytest.mark.parametrize("time_signature, units", [((4, 4), 48), ((3, 4), 36)])
def test_sampling_with_structure_features_fills_every_bar_and_hears_the_training_rows(
        structure, time_signature, units):
    chords = progression_bars("Dm7 G7 | Cmaj7 | A7 | Dm7 | G7 | Cmaj7",
                              beats_per_bar=units // 12)
    bar_count = 9   # one and a half passes: the second chorus starts at bar 7
    model = structure_model(structure, backend="numpy")   # the loop that calls forward
    heard, forward = [], model.forward

    def listening(ids, state=None, **options):
        heard.extend(options["features"][0])
        return forward(ids, state, **options)

    model.forward = listening
    song, ids = sample(model, structure, chords, bar_count, time_signature)
    tokens = [VOCABULARY[token_id] for token_id in ids]
    # Every bar is filled exactly and closed by a bar line.
    bars, current = [], 0
    for token in tokens:
        if token == BAR_LINE:
            bars.append(current)
            current = 0
        else:
            current += token_cost(token)
    assert bars == [units] * bar_count and current == 0
    assert [measure.length * 12 for measure in song.measures] == [units] * bar_count
    assert all(sum(note.duration for note in measure.notes) == measure.length
               for measure in song.measures)
    # The rows the model heard are the rows training computes from these tokens.
    cycled = [chords[bar % len(chords)] for bar in range(bar_count)]
    form = form_from_chords(chords, bar_count)
    expected = stream_features(tokens, cycled, units, structure=structure, form=form)
    assert len(heard) == len(tokens) - 1
    np.testing.assert_array_equal(np.array(heard), expected[:len(heard)])
    if "form" in structure:
        assert expected[-2, 45 + FORM_FEATURE_NAMES.index("chorus=2")] == 1.0


def test_same_seed_same_solo_other_seed_another():
    chords = progression_bars("blues")
    model = structure_model("phrase+form")
    first, again, other = (sample(model, "phrase+form", chords, 12, (4, 4), seed=seed)
                           for seed in (3, 3, 4))
    np.testing.assert_array_equal(first[1], again[1])
    assert first[0] == again[0]
    assert not np.array_equal(first[1], other[1])


def test_given_form_places_are_heard_instead_of_the_derived_ones():
    chords = progression_bars("Dm7 G7 | Cmaj7")
    model = structure_model("form")
    given = [FormPlace(3, bar, 4, "B", bar, 4) for bar in range(4)]
    derived, told = (sample(model, "form", chords, 4, (4, 4), seed=1, form=form)
                     for form in (None, given))
    assert not np.array_equal(derived[1], told[1])


def test_a_hook_that_changes_nothing_changes_nothing():
    model = structure_model("phrase")
    rng = np.random.default_rng(0)
    table = rng.normal(size=(3, 5, feature_size("phrase")))
    costs = np.array([token_cost(token) if token != BAR_LINE else 0 for token in VOCABULARY])
    costs = np.where(costs > 4, 0, costs)    # tokens too long for these budgets never fit
    options = dict(token_costs=costs, budgets=[4, 4, 3], reset_token=VOCABULARY.index(BAR_LINE),
                   step_features=table, primer_features=table[None, :1, 0])
    seen = []

    def hook(token, row):
        seen.append(token)
        return row

    plain = generate_segments(model, np.array([[0]]), np.random.default_rng(5), **options)
    hooked = generate_segments(model, np.array([[0]]), np.random.default_rng(5),
                               feature_hook=hook, **options)
    np.testing.assert_array_equal(plain, hooked)
    assert seen == list(hooked[:-1])


# ----- a run with structure features ---------------------------------------------
def test_a_run_keeps_its_structure_and_samples_with_it(tmp_path):
    run = jazz_lstm.train(data=["music21:leadSheet/fosterBrownHair.mxl"], preset="course",
                          epochs=1, hidden=8, seed=0, run_dir=tmp_path / "runs" / "phrased",
                          structure="phrase+form", progress=False)
    reopened = jazz_lstm.Run(tmp_path / "runs" / "phrased")
    assert reopened.record.train.structure == "phrase+form"
    assert reopened.record.feature_size == feature_size("phrase+form")
    solos = [reopened.sample(bars=6, seed=2, chords="Dm7 G7 | Cmaj7", time_signature=signature)
             for signature in ((4, 4), (3, 4), (4, 4))]
    assert solos[0].midi_bytes() == solos[2].midi_bytes()
    for solo, units in zip(solos, (48, 36)):
        assert [measure.length * 12 for measure in solo.song.measures] == [units] * 6
    assert run.record.train == reopened.record.train
