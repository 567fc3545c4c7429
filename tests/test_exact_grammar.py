from fractions import Fraction as F

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from music.tokens.exact_grammar import (BAR_LINE, DURATIONS, decode_song, encode_song, filler_tokens,
                                 motion_between, note_token, parse_token, pitch_from,
                                 split_duration, token_cost, units_of)
from music.song import Chord, Measure, MusicError, Note, Song

# Chords built by hand: parsing symbols would import music21 (seconds).
D7 = Chord(0, 4, root=2, pitch_classes=(2, 6, 9, 0), symbol="D7")
CMAJ7 = Chord(0, 4, root=0, pitch_classes=(0, 4, 7, 11), symbol="Cmaj7")
UNIT = F(1, 12)


def spans(measure):
    """(start, duration, pitch) of the sounding notes, easy to write by hand."""
    return [(note.start, note.duration, note.pitch) for note in measure.notes if not note.is_rest]


def bar(notes, chords=(CMAJ7,), length=4):
    return Measure(length, [Note(start, duration, pitch) for start, duration, pitch in notes],
                   chords)


def test_docstring_example_by_hand():
    # A4 (69) then D5 (74, 5 up, the root of D7), rest, F#5 (78, 4 up, D7's third).
    song = Song([bar([(0, 4, 69)], [D7]),
                 bar([(0, F(1, 2), 74), (1, 3, 78)], [D7])])
    # 69 is E, 7 above the root D, and 2 semitones up from the reference G4 (67):
    # steps of 2, 5 and 4 all round to the motion +4.
    assert encode_song(song) == ["7+4,48", "|", "0+4,6", "R,6", "4+4,36", "|"]


def test_motion_by_hand():
    # The signed step rounded to a multiple of 4, ties (2, 6, ...) away from zero.
    pitches = (60, 61, 62, 64, 65, 66, 72, 73, 84, 85, 59, 58, 54, 48, 47, 0, 127)
    assert [motion_between(60, pitch) for pitch in pitches] == [
        0, 0, 4, 4, 4, 8, 12, 12, 24, 24, 0, -4, -8, -12, -12, -60, 68]
    # 127 would round to 128, past the largest motion: 124, still within a tritone.
    assert motion_between(127, 0) == -124 and motion_between(0, 127) == 124
    assert motion_between(0, 126) == 124 and motion_between(0, 125) == 124


def test_pitch_from_by_hand():
    # The step's target and the class agree: the target itself.
    assert pitch_from(60, 0, 0) == 60
    assert pitch_from(60, 1, 1) == 61
    assert pitch_from(60, 0, 12) == 72       # an octave up
    assert pitch_from(60, 1, 13) == 73
    assert pitch_from(60, 11, -1) == 59
    assert pitch_from(60, 0, -24) == 36      # two octaves down
    assert pitch_from(60, 10, -14) == 46     # A#2, 14 below C4
    # They disagree: the class's pitch nearest the target.
    assert pitch_from(60, 7, 0) == 55        # G: 5 below C4 is nearer than 7 above
    assert pitch_from(60, 7, 2) == 67        # target D4 (62): G4 5 above, not G3 7 below
    assert pitch_from(60, 2, -14) == 50      # target A#2 (46): D3 4 above, not D2 8 below
    assert pitch_from(60, 7, -20) == 43      # target E2 (40): G2 3 above, not G1 9 below
    assert pitch_from(60, 0, 11) == 72       # target B4 (71): C5 1 above
    # Ties, a tritone each way: the step's direction, down for no step.
    assert pitch_from(60, 6, 0) == 54        # target C4: F#3 (54) or F#4 (66), down
    assert pitch_from(60, 7, 1) == 67        # target C#4 (61): G3 (55) or G4 (67), up
    assert pitch_from(60, 5, -1) == 53       # target B3 (59): F3 (53) or F4 (65), down
    assert pitch_from(60, 1, 19) == 85       # target G5 (79): C#5 (73) or C#6 (85), up
    assert pitch_from(60, 11, -23) == 35     # target C#3 (37): B2 (35) 2 below
    assert pitch_from(60, 7, -23) == 31      # target C#3 (37): G2 (31) or G3 (43), down
    # The result may leave MIDI 0..127; decoding folds it.
    assert pitch_from(120, 0, 24) == 144
    assert pitch_from(3, 11, -10) == -13     # target -7: -1 or -13 (a tie), down


def test_split_duration_by_hand():
    assert split_duration(13) == [12, 1]
    assert split_duration(10) == [9, 1]
    assert split_duration(50) == [48, 2]
    assert split_duration(48) == [48]
    assert split_duration(0) == []


def test_long_notes_and_rests_are_tied_and_split():
    # A note of 13 units (1 1/12 quarters), then a rest of 35 units.
    song = Song([bar([(0, F(13, 12), 67)])])
    assert encode_song(song) == ["7=,12", "T,1", "R,32", "R,3", "|"]


def test_a_note_held_over_the_bar_line_is_a_tie():
    held = Measure(4, [Note(0, 1, 64, tied=True), Note(1, 1, 64)], [CMAJ7])
    song = Song([bar([(3, 1, 64)]), held])
    # The held E continues as a tie; the next E is struck again ("="); E4 is 3
    # below the reference G4, motion -4.
    assert encode_song(song) == ["R,36", "4-4,12", "|", "T,12", "4=,12", "R,24", "|"]
    measures = decode_song(encode_song(song), [[CMAJ7]], 4)
    assert spans(measures[1]) == [(0, 1, 64), (1, 1, 64)]
    assert [note.tied for note in measures[1].notes] == [True, False, False]


def test_a_note_struck_again_on_the_bar_line_is_a_note():
    song = Song([bar([(3, 1, 64)]), bar([(0, 1, 64), (1, 1, 64)])])
    assert encode_song(song) == ["R,36", "4-4,12", "|", "4=,12", "4=,12", "R,24", "|"]
    measures = decode_song(encode_song(song), [[CMAJ7]], 4)
    assert not any(note.tied for note in measures[1].notes)


def test_a_note_ending_before_the_bar_line_is_struck_again():
    song = Song([bar([(2, F(23, 12), 64)]), bar([(0, 1, 64)])])
    assert encode_song(song)[-4:] == ["|", "4=,12", "R,36", "|"]


def test_notes_with_no_chord_are_relative_to_c_and_marked():
    song = Song([bar([(0, 1, 62), (1, 1, 70)], chords=())])
    # D4 (62) is 5 below the reference G4 (67), motion -4; A#4 (70) is 8 above D4.
    assert encode_song(song) == ["NC2-4,12", "NC10+8,12", "R,24", "|"]


def test_the_chord_at_each_onset_gives_the_interval():
    chords = (Chord(0, 2, 2, (2, 5, 9, 0), "Dm7"), Chord(2, 2, 7, (7, 11, 2, 5), "G7"))
    song = Song([bar([(0, 2, 65), (2, 2, 65)], chords)])
    # F is the minor third of Dm7 and the seventh of G7; F4 (65) is 2 below G4,
    # which rounds away from zero to the motion -4.
    assert encode_song(song) == ["3-4,24", "10=,24", "|"]


def test_steps_beyond_an_octave_by_hand():
    # C4 (60), D6 (86), F2 (41) over Cmaj7: steps of -7, +26 and -45 from G4,
    # written as the motions -8, +28 and -44; each target (59, 88, 42) is within
    # 2 semitones of the pitch of its class.
    song = Song([bar([(0, 1, 60), (1, 1, 86), (2, 1, 41)])])
    tokens = encode_song(song)
    assert tokens == ["0-8,12", "2+28,12", "5-44,12", "R,12", "|"]
    assert spans(decode_song(tokens, [[CMAJ7]], 4)[0]) == [(0, 1, 60), (1, 1, 86), (2, 1, 41)]


def test_off_grid_times_round_to_the_grid():
    song = Song([bar([(F(1, 10), F(2, 5), 67)])])   # 1.2 units to 6 units: 1 to 6
    assert encode_song(song) == ["R,1", "7=,5", "R,36", "R,6", "|"]  # 42 = 36 + 6


def test_token_costs_and_builders():
    assert [token_cost(token) for token in ["7+2,6", "NC0=,48", "R,1", "T,9", BAR_LINE]] == [
        6, 48, 1, 9, 0]
    assert note_token(10, -14, 3) == "10-14,3"
    assert note_token(10, 2, 3) == "10+2,3"
    assert note_token(0, 0, 12, no_chord=True) == "NC0=,12"
    assert note_token(11, -127, 48) == "11-127,48"
    assert parse_token("10-14,3") == (("note", 3, 10, -14, False))
    assert parse_token("NC4+127,6") == (("note", 6, 4, 127, True))
    assert parse_token("0=,1") == (("note", 1, 0, 0, False))
    with pytest.raises(MusicError, match="interval"):
        note_token(12, 0, 6)
    with pytest.raises(MusicError, match="10 grid units"):
        note_token(0, 0, 10)
    with pytest.raises(MusicError, match="motion must be -127..127 semitones.*got 128"):
        note_token(0, 128, 6)      # no MIDI step is that long, and the parser refuses it


@pytest.mark.parametrize("token", [
    "7+2,10", "12+2,6", "R,0", "T,", "7,6", "7+-,6", "X", "", "R,6,1", "NC,6", "||",
    "7+2,6 ", "07+2,6", "7+2,06", "T,-1",
    "7+,6", "7++,6", "10--,3",             # the old direction-only motions
    "7+0,6", "7-0,6", "7=0,6",             # no step is written "="
    "7+02,6", "7+2-,6", "7 +2,6", "7+-2,6", "7+1.5,6",
    "7+128,6", "7-999,6", "7+1000,6"])     # longer than any step between MIDI pitches
def test_malformed_tokens_are_refused(token):
    with pytest.raises(MusicError, match="bad exact-grammar token"):
        parse_token(token)


def test_units_of_refuses_times_off_the_grid():
    assert units_of(F(3, 2)) == 18
    with pytest.raises(MusicError, match="1/24"):
        units_of(F(1, 24))


@pytest.mark.parametrize("bar_units", [48, 36, 30, 1, 7])
def test_filler_tokens_can_finish_any_bar(bar_units):
    fillers = filler_tokens(bar_units)
    assert "R,1" in fillers
    assert all(token_cost(token) <= bar_units for token in fillers)
    assert max(token_cost(token) for token in fillers) == max(
        units for units in DURATIONS if units <= bar_units)


# --- decoding streams no encoding gives ---------------------------------------

def test_decode_cuts_overflow_and_pads_an_unfilled_bar():
    tokens = ["R,36", "7=,24", "0+5,6", "|", "7=,12", "|"]
    first, second = decode_song(tokens, [[CMAJ7]], 4)
    assert spans(first) == [(3, 1, 67)]
    assert spans(second) == [(0, 1, 67)]
    assert sum(note.duration for note in second.notes) == 4


def test_decode_of_unusual_tokens():
    # "=" naming another class takes the nearest pitch of it; a tie opening a
    # bar after a rest is a rest; trailing tokens make a last bar.
    # From E4 (64) a step of -5 aims at B3 (59): the C nearest it is C4 (60).
    tokens = ["R,48", "|", "T,12", "4=,12", "|", "0-5,12"]
    measures = decode_song(tokens, [[CMAJ7]], 4, previous_pitch=60)
    assert [spans(measure) for measure in measures] == [[], [(1, 1, 64)], [(0, 1, 60)]]


def test_a_dropped_note_does_not_move_the_next_one():
    # The bar is full after G4, so C6 (+17) is dropped: the next bar's +2 moves
    # from G4 to A4 (69), whose G is G4 (67); from C6 (84) it would be G6 (91).
    tokens = ["7=,48", "0+17,6", "|", "7+2,12", "|"]
    first, second = decode_song(tokens, [[CMAJ7]], 4, previous_pitch=67)
    assert spans(first) == [(0, 4, 67)]
    assert spans(second) == [(0, 1, 67)]


def test_decode_folds_pitches_into_midi():
    measures = decode_song(["0+24,12", "|"], [[CMAJ7]], 4, previous_pitch=120)
    assert spans(measures[0]) == [(0, 1, 120)]   # 144 folds down by two octaves


def test_decode_folds_pitches_into_the_given_range():
    # From C4 +24 aims at C6 (84), folded into 40..80 to C5 (72); the next
    # note moves from the folded pitch: C5 - 3 is A4 (69), whose E is E4 (64)
    # (from the unfolded C6 it would aim at A5 (81) and give E6 (76)).
    tokens = ["0+24,12", "4-3,12", "|"]
    measures = decode_song(tokens, [[CMAJ7]], 4, previous_pitch=60, pitch_range=(40, 80))
    assert spans(measures[0]) == [(0, 1, 72), (1, 1, 64)]
    with pytest.raises(MusicError, match="narrower than an octave"):
        decode_song(tokens, [[CMAJ7]], 4, pitch_range=(60, 70))


def test_decode_cycles_chords_and_takes_bar_lengths_per_bar():
    tokens = ["0=,12", "|", "0=,12", "|", "0=,12", "|"]
    chords = [[CMAJ7], [Chord(0, 3, 2, (2, 6, 9, 0), "D7")]]
    measures = decode_song(tokens, chords, [4, 3, 4], previous_pitch=60)
    assert [spans(measure)[0][2] for measure in measures] == [60, 62, 60]
    assert [measure.length for measure in measures] == [4, 3, 4]
    assert [measure.number for measure in measures] == [1, 2, 3]
    with pytest.raises(MusicError, match="2 bar lengths given for 3 bars"):
        decode_song(tokens, chords, [4, 4])
    with pytest.raises(MusicError, match="chords"):
        decode_song(tokens, [], 4)


# --- properties ------------------------------------------------------------------

BAR_UNITS = [48, 36, 30, 42, 24]   # 4/4, 3/4 or 6/8, 5/8, 7/8, 2/4


@st.composite
def chord_lists(draw, bar_units):
    """Chords with gaps between them (no-chord spans), or none at all."""
    chords, cursor = [], 0
    while cursor < bar_units and draw(st.booleans()):
        start = cursor + draw(st.sampled_from([0, 0, 6, 12]))
        length = draw(st.integers(1, bar_units))
        if start + length > bar_units:
            break
        root = draw(st.integers(0, 11))
        others = draw(st.sets(st.integers(0, 11), max_size=4))
        chords.append(Chord(start * UNIT, length * UNIT, root, tuple(others | {root})))
        cursor = start + length
    return chords


@st.composite
def songs(draw):
    measures = []
    previous = None
    for number in range(1, draw(st.integers(1, 4)) + 1):
        bar_units = draw(st.sampled_from(BAR_UNITS))
        notes, cursor = [], 0
        for _ in range(draw(st.integers(0, 10))):
            cursor += draw(st.sampled_from([0, 0, 0, 1, 2, 3, 5, 13]))
            length = draw(st.one_of(st.sampled_from(DURATIONS), st.integers(1, 60)))
            if cursor + length > bar_units:
                break
            pitch = draw(st.one_of(st.integers(0, 127), st.sampled_from([0, 127]),
                                   st.just(previous or 60)))
            rest = draw(st.integers(0, 5)) == 0
            notes.append(Note(cursor * UNIT, length * UNIT, None if rest else pitch))
            previous = previous if rest else pitch
            cursor += length
        measures.append(Measure(bar_units * UNIT, notes, draw(chord_lists(bar_units)), number))
    return Song(measures)


@settings(max_examples=300, deadline=None)
@given(song=songs())
def test_encode_then_decode_is_exact(song):
    tokens = encode_song(song)
    chord_bars = [list(measure.chords) for measure in song.measures]
    decoded = decode_song(tokens, chord_bars, [measure.length for measure in song.measures])
    assert [spans(measure) for measure in decoded] == [spans(measure) for measure in song.measures]
    for measure in decoded:
        assert sum(note.duration for note in measure.notes) == measure.length


@settings(max_examples=300, deadline=None)
@given(song=songs())
def test_every_bar_costs_its_length(song):
    tokens = encode_song(song)
    bars, cost = [], 0
    for token in tokens:
        if token == BAR_LINE:
            bars.append(cost)
            cost = 0
        else:
            assert token_cost(token) > 0
            cost += token_cost(token)
    assert cost == 0 and tokens[-1] == BAR_LINE
    assert bars == [measure.length / UNIT for measure in song.measures]


any_token = st.one_of(
    st.builds(note_token, st.integers(0, 11), st.integers(-127, 127),
              st.sampled_from(DURATIONS), st.booleans()),
    st.sampled_from(DURATIONS).map(lambda units: f"R,{units}"),
    st.sampled_from(DURATIONS).map(lambda units: f"T,{units}"),
    st.just(BAR_LINE))


@settings(max_examples=300, deadline=None)
@given(tokens=st.lists(any_token, max_size=30), previous=st.integers(0, 127),
       bar_units=st.sampled_from(BAR_UNITS))
def test_any_stream_decodes_to_full_valid_bars(tokens, previous, bar_units):
    chords = [[Chord(0, bar_units * UNIT / 2, 5, (5, 9, 0))], []]
    measures = decode_song(tokens, chords, bar_units * UNIT, previous_pitch=previous)
    assert len(measures) == tokens.count(BAR_LINE) + (bool(tokens) and tokens[-1] != BAR_LINE)
    for measure in measures:
        assert measure.notes[0].start == 0
        assert all(a.end == b.start for a, b in zip(measure.notes, measure.notes[1:]))
        assert measure.notes[-1].end == measure.length


@settings(max_examples=300, deadline=None)
@given(previous=st.integers(0, 127), pitch=st.integers(0, 127))
def test_the_motion_and_the_class_give_back_the_pitch(previous, pitch):
    motion = motion_between(previous, pitch)
    assert motion % 4 == 0 and abs(motion) <= 124
    assert abs(previous + motion - pitch) <= (2 if abs(pitch - previous) < 126 else 3)
    assert pitch_from(previous, pitch % 12, motion) == pitch


@settings(max_examples=300, deadline=None)
@given(interval=st.integers(0, 11), motion=st.integers(-127, 127),
       units=st.sampled_from(DURATIONS), no_chord=st.booleans())
def test_note_tokens_parse_back(interval, motion, units, no_chord):
    token = note_token(interval, motion, units, no_chord)
    assert parse_token(token) == ("note", units, interval, motion, no_chord)
    assert ("=" in token) == (motion == 0)


@settings(max_examples=300, deadline=None)
@given(reference=st.integers(-50, 180), pitch_class=st.integers(0, 11),
       motion=st.integers(-127, 127))
def test_pitch_from_lands_on_its_class_within_a_tritone_of_the_target(reference, pitch_class,
                                                                       motion):
    pitch = pitch_from(reference, pitch_class, motion)
    target = reference + motion
    assert pitch % 12 == pitch_class
    assert abs(pitch - target) <= 6
    if abs(pitch - target) == 6:     # a tie: the step's direction, down for none
        assert (pitch > target) == (motion > 0)


@pytest.mark.slow
def test_metheny_round_trip_is_exact(metheny_path):
    from music.read.scores import load_song

    song = load_song(metheny_path)
    chord_bars = [list(measure.chords) for measure in song.measures]
    decoded = decode_song(encode_song(song), chord_bars,
                          [measure.length for measure in song.measures])
    assert [spans(measure) for measure in decoded] == [spans(measure) for measure in song.measures]
