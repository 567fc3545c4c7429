"""music.tokens.classic_grammar: the course's role-and-interval tokens encoded and decoded by hand."""
import re
from dataclasses import replace
from fractions import Fraction as F

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from music.chords import make_chord, parse_progression, scale_for
from music.tokens.classic_grammar import (decode, decode_measures, encode, encode_song, note_token,
                           parse_token, rest_token, window_for)
from music.tokens.prune import prune_measure
from music.song import Measure, MusicError, Note, Song

TOKEN = re.compile(r"^([CSAX]),(\d+\.\d{3}),<([+-]\d+),([+-]\d+)>$|^R,(\d+\.\d{3})$")
SYMBOLS = ["Dm7", "G7", "Cmaj7", "C", "A7", "F#m7b5", "Bø7", "Cdim7", "C+", "Csus4", "Eb-7",
           "Bb7", "C7b9", "C6"]
# Parsed here: music21's first import must not happen inside a Hypothesis strategy.
CHORDS = {symbol: make_chord(symbol) for symbol in SYMBOLS}


def expected_role(pitch, chord):
    """Roles as the grammar docstring defines them, written out independently."""
    if chord is None:
        return "X"
    pitch_class = pitch % 12
    if pitch_class in chord.pitch_classes:
        return "C"
    if pitch_class in scale_for(chord):
        return "S"
    if {(pitch_class + 1) % 12, (pitch_class - 1) % 12} & set(chord.pitch_classes):
        return "A"
    return "X"


def chord_sounding(chords, offset):
    started = [chord for chord in chords if chord.start <= offset]
    return started[-1] if started else chords[0]


def test_window_bins_by_hand():
    assert [window_for(i) for i in (0, 2, -2, 3, 7, -3, -7, 8, 12, -12, 13)] == [
        (-2, 2), (-2, 2), (-2, 2), (3, 7), (3, 7), (-7, -3), (-7, -3), (8, 12), (8, 12),
        (-12, -8), (13, 17)]


def test_encode_by_hand_over_cmaj7():
    chords = (make_chord("Cmaj7"),)
    notes = [Note(0, 1, 60), Note(1, F(1, 2), 64), Note(2, F(1, 3), 66),
             Note(F(7, 3), F(1, 3), None), Note(F(8, 3), F(1, 3), 62)]
    # 60 is 10 below the reference 70; F#=66 and D=62 are Lydian scale tones.
    assert encode(Measure(4, notes, chords)) == [
        "C,1.000,<-12,-8>", "C,0.500,<+3,+7>", "R,0.500", "S,0.333,<-2,+2>", "R,0.333",
        "S,0.333,<-7,-3>", "R,1.000"]


def test_encode_approach_and_other_tones_over_c_triad():
    chords = (make_chord("C"),)
    notes = [Note(0, 1, 61), Note(1, 1, 70), Note(2, 1, 65), Note(3, 1, 67)]
    assert encode(Measure(4, notes, chords), previous_pitch=60) == [
        "A,1.000,<-2,+2>", "X,1.000,<+8,+12>", "A,1.000,<-7,-3>", "C,1.000,<-2,+2>"]


def test_encode_uses_the_chord_at_each_onset():
    chords = parse_progression("Dm7 G7")[0]
    notes = [Note(0, 2, 71), Note(2, 2, 71)]
    assert encode(Measure(4, notes, chords), previous_pitch=71) == [
        "S,2.000,<-2,+2>", "C,2.000,<-2,+2>"]


def test_encode_joins_gaps_and_rests_and_snaps_to_the_grid():
    chords = (make_chord("C"),)
    notes = [Note(0, 1, None), Note(F(201, 100), F(199, 100), 72)]
    assert encode(Measure(4, notes, chords), previous_pitch=72) == [
        "R,2.000", "C,2.000,<-2,+2>"]


def test_encode_song_carries_the_previous_pitch_across_bars():
    chords = (make_chord("C"),)
    song = Song(measures=[Measure(4, [Note(0, 4, 60)], chords), Measure(4, [], chords),
                          Measure(4, [Note(0, 4, 67)], chords)])
    assert encode_song(song) == [["C,4.000,<-12,-8>"], ["R,4.000"], ["C,4.000,<+3,+7>"]]


@pytest.mark.parametrize("text, quarters", [
    ("0.333", F(1, 3)), ("0.667", F(2, 3)), ("1.333", F(4, 3)), ("0.167", F(1, 6)),
    ("0.125", F(1, 8)), ("0.083", F(1, 12)), ("0.042", F(1, 24)), ("0.250", F(1, 4)),
    ("4.000", F(4)), ("2.917", F(35, 12))])
def test_printed_durations_read_back_exactly(text, quarters):
    assert parse_token(f"R,{text}").duration == quarters
    assert parse_token(f"C,{text},<-2,+2>").duration == quarters


@pytest.mark.parametrize("token", ["Q,1.000,<-2,+2>", "C,1.000", "R,1.000,<-2,+2>", "R,0.000",
                                   "R,0.010", "C,1.000,<+2,-2>", "C,1.000,<2,3>", ""])
def test_malformed_tokens_are_refused(token):
    with pytest.raises(MusicError, match="bad grammar token"):
        parse_token(token)


def test_token_builders_by_hand():
    assert note_token("A", F(1, 3), -4) == "A,0.333,<-7,-3>"
    assert rest_token(F(5, 2)) == "R,2.500"
    with pytest.raises(MusicError, match="role"):
        note_token("R", 1, 0)


def test_decode_is_deterministic_for_a_seed():
    chords = parse_progression("Dm7 G7")[0]
    tokens = ["S,0.500,<-2,+2>", "C,0.500,<+3,+7>", "A,1.000,<-7,-3>", "R,1.000",
              "C,0.333,<-2,+2>", "S,0.667,<-2,+2>"]
    first = decode(tokens, chords, np.random.default_rng(7), 65)
    again = decode(tokens, chords, np.random.default_rng(7), 65)
    assert first == again


def test_decode_widens_the_window_when_the_role_is_absent():
    chords = [make_chord("C")]
    # 61 and 62 are no C-triad tones; one semitone wider reaches 60 (63 is none either).
    for seed in range(5):
        notes = decode(["C,1.000,<+1,+2>"], chords, np.random.default_rng(seed), 60)
        assert notes[0].pitch == 60


def test_decode_falls_back_to_the_nearest_chord_tone():
    # Under Cmaj7 every pitch class is C, S or A, so no X exists anywhere.
    chords = [make_chord("Cmaj7")]
    notes = decode(["X,1.000,<-2,+2>"], chords, np.random.default_rng(0), 62)
    assert notes[0].pitch == 60  # 60 and 64 are equally near 62: the lower wins


def test_decode_without_chords_treats_every_pitch_as_x():
    notes = decode(["X,1.000,<+3,+7>", "C,1.000,<-2,+2>"], [], np.random.default_rng(0), 60)
    assert 63 <= notes[0].pitch <= 67
    assert notes[1].pitch == notes[0].pitch  # no chord tone: the window's centre


def test_decode_moves_a_window_outside_midi_by_octaves():
    notes = decode(["C,1.000,<+13,+17>"], [make_chord("C")], np.random.default_rng(0), 120)
    # 133..137 moves down to 121..125, C# to F, where E (124) is the only C-triad tone.
    assert notes[0].pitch == 124


def test_decode_places_tokens_in_a_row_and_skips_those_past_the_bar():
    notes = decode(["R,3.000", "C,2.000,<-2,+2>", "C,1.000,<-2,+2>"], [make_chord("C")],
                   np.random.default_rng(0), 60, bar_length=4)
    assert [(note.start, note.duration, note.is_rest) for note in notes] == [
        (0, 3, True), (3, 2, False)]


def test_decode_measures_cycles_chords_and_fills_bars():
    bars = parse_progression("Dm7 G7 | Cmaj7")
    tokens = [["C,1.000,<-2,+2>"] * 3, ["S,2.000,<+3,+7>", "C,4.000,<-2,+2>"], ["R,1.000"]]
    measures = decode_measures(tokens, bars, np.random.default_rng(3), 4, previous_pitch=64)
    assert [measure.number for measure in measures] == [1, 2, 3]
    assert [measure.chords for measure in measures] == [tuple(bars[0]), tuple(bars[1]),
                                                        tuple(bars[0])]
    assert [sum(note.duration for note in measure.notes) for measure in measures] == [4, 4, 4]
    assert measures[2].notes == (Note(0, 4, None),)
    with pytest.raises(MusicError):
        decode_measures(tokens, [], np.random.default_rng(3))


# --- properties -------------------------------------------------------------

@st.composite
def bars_of_chords(draw, bar_length):
    symbols = draw(st.lists(st.sampled_from(SYMBOLS), min_size=1, max_size=3))
    share = F(bar_length) / len(symbols)
    return [replace(CHORDS[symbol], start=index * share, duration=share)
            for index, symbol in enumerate(symbols)]


@st.composite
def measures(draw):
    length = draw(st.sampled_from([F(4), F(3), F(5, 2)]))
    chords = draw(bars_of_chords(length))
    notes, cursor = [], F(0)
    for _ in range(draw(st.integers(0, 12))):
        gap = F(draw(st.sampled_from([0, 0, 0, 1, 2, 3, 4, 6, 12])), 24)
        duration = F(draw(st.one_of(st.sampled_from([2, 3, 4, 6, 8, 12, 16, 24]),
                                    st.integers(1, 48))), 24)
        if cursor + gap + duration > length:
            break
        pitch = draw(st.one_of(st.none(), st.integers(40, 96)))
        notes.append(Note(cursor + gap, duration, pitch))
        cursor += gap + duration
    return Measure(length, notes, chords)


@settings(max_examples=300, deadline=None)
@given(measure=measures(), previous_pitch=st.one_of(st.none(), st.integers(40, 96)),
       seed=st.integers(0, 2 ** 32 - 1))
def test_encode_decode_keeps_durations_and_roles(measure, previous_pitch, seed):
    tokens = encode(measure, previous_pitch)
    assert all(TOKEN.match(token) for token in tokens)
    decoded = decode(tokens, measure.chords, np.random.default_rng(seed), previous_pitch,
                     measure.length)
    assert sum(note.duration for note in decoded) == measure.length
    sounding = [note for note in measure.notes if not note.is_rest]
    decoded_sounding = [note for note in decoded if not note.is_rest]
    assert [(n.start, n.duration) for n in decoded_sounding] == [(n.start, n.duration)
                                                                 for n in sounding]
    note_tokens = [token for token in tokens if not token.startswith("R")]
    for original, new, token in zip(sounding, decoded_sounding, note_tokens):
        chord = chord_sounding(measure.chords, original.start)
        assert token[0] == expected_role(original.pitch, chord) == expected_role(new.pitch, chord)


@settings(max_examples=300, deadline=None)
@given(measure=measures(), previous_pitch=st.integers(40, 96), seed=st.integers(0, 1000))
def test_decoded_pitch_stays_in_the_window_when_it_can(measure, previous_pitch, seed):
    tokens = encode(measure, previous_pitch)
    decoded = decode(tokens, measure.chords, np.random.default_rng(seed), previous_pitch,
                     measure.length)
    reference = previous_pitch
    for token, note in zip(tokens, decoded):
        match = TOKEN.match(token)
        if match.group(1) is None:
            continue
        low, high = int(match.group(3)), int(match.group(4))
        chord = chord_sounding(measure.chords, note.start)
        fitting = [reference + step for step in range(low, high + 1)
                   if 0 <= reference + step <= 127
                   and expected_role(reference + step, chord) == match.group(1)]
        if fitting:
            assert note.pitch in fitting
        reference = note.pitch


def token_text(role, quarters_24ths, centre):
    duration = f"{quarters_24ths / 24:.3f}"
    if role == "R":
        return f"R,{duration}"
    return f"{role},{duration},<{centre - 2:+d},{centre + 2:+d}>"


valid_tokens = st.builds(token_text, st.sampled_from("CSAXR"), st.integers(1, 96),
                         st.integers(-4, 4).map(lambda k: 5 * k))


@st.composite
def bar_lengths_and_chords(draw):
    length = draw(st.sampled_from([F(4), F(3), F(5, 2)]))
    return length, draw(bars_of_chords(length))


@settings(max_examples=300, deadline=None)
@given(tokens=st.lists(valid_tokens, max_size=20), bar=bar_lengths_and_chords(),
       previous_pitch=st.one_of(st.none(), st.integers(20, 120)), seed=st.integers(0, 1000))
def test_any_tokens_decode_and_prune_to_a_full_playable_bar(tokens, bar, previous_pitch, seed):
    length, chords = bar
    decoded = decode(tokens, chords, np.random.default_rng(seed), previous_pitch, length)
    notes = prune_measure(decoded, length)
    assert sum(note.duration for note in notes) == length
    assert notes[0].start == 0
    assert all(a.end == b.start for a, b in zip(notes, notes[1:]))
    assert all(52 <= note.pitch <= 88 for note in notes if not note.is_rest)
    assert all(note.duration > 0 for note in notes)
    assert len({note.start for note in notes}) == len(notes)
    assert all(a.pitch != b.pitch for a, b in zip(notes, notes[1:]))
    Measure(length, notes, chords)  # a valid bar


def test_metheny_encodes_bar_by_bar(metheny_path):
    from music.read.scores import load_song

    song = load_song(metheny_path)
    token_lists = encode_song(song)
    assert len(token_lists) == len(song.measures)
    rng = np.random.default_rng(0)
    previous_pitch = None
    for tokens, measure in zip(token_lists, song.measures):
        assert sum(parse_token(token).duration for token in tokens) == measure.length
        decoded = decode(tokens, measure.chords, rng, previous_pitch, measure.length)
        for token, note in zip(tokens, decoded):
            if not note.is_rest:
                chord = measure.chord_at(note.start)
                assert token[0] == expected_role(note.pitch, chord)
        previous_pitch = next((n.pitch for n in reversed(measure.notes) if not n.is_rest),
                              previous_pitch)
