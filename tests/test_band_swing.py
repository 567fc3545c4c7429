"""music.band.swing: off-beat eighths moved by exact ticks, never overlapping; what is never swung."""
from fractions import Fraction as F

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from music.band.swing import checked_swing, swing_sounds
from music.performance import Sound
from music.song import Measure, MusicError, Note, Song
from music.write.midi import song_to_midi_bytes
from tests.band_helpers import MAJOR7, progression_song, read, track_notes, tracks_by_name


def eighths_song(time_signature=(4, 4), bar_length=4):
    notes = [Note(F(k, 2), F(1, 2), 60 + k) for k in range(int(2 * bar_length))]
    return Song([Measure(bar_length, notes)], time_signature=time_signature)


@pytest.mark.parametrize("ratio, ticks_per_beat, offbeat_tick", [
    (2, 480, 320),            # 480 * 2/3
    (F(3, 2), 480, 288),      # 480 * 3/5
    (3, 480, 360),            # 480 * 3/4
    (2, 960, 640),            # 960 * 2/3
    (1, 480, 240),            # straight
    (0, 480, 240),            # 0 also means straight
])
def test_offbeat_eighths_move_by_the_exact_ticks(ratio, ticks_per_beat, offbeat_tick):
    data = song_to_midi_bytes(eighths_song(), swing=ratio, ticks_per_beat=ticks_per_beat)
    notes = track_notes(read(data).tracks[1])
    expected_onsets = []
    for beat in range(4):
        expected_onsets += [beat * ticks_per_beat, beat * ticks_per_beat + offbeat_tick]
    assert [start for start, *_ in notes] == expected_onsets
    # the note before the off-beat grows to meet it: nothing overlaps, nothing falls silent
    assert all(end == next_start for (_, end, *_), (next_start, *_) in zip(notes, notes[1:]))


def test_beats_with_sixteenths_or_triplets_are_not_swung():
    sixteenths = [Note(F(k, 4), F(1, 4), 60 + k) for k in range(4)]
    triplets = [Note(1 + F(k, 3), F(1, 3), 70 + k) for k in range(3)]
    eighths = [Note(2, F(1, 2), 80), Note(F(5, 2), F(1, 2), 81)]
    song = Song([Measure(3, sixteenths + triplets + eighths)], time_signature=(3, 4))
    notes = track_notes(read(song_to_midi_bytes(song, swing=2)).tracks[1])
    assert [start for start, *_ in notes] == [0, 120, 240, 360, 480, 640, 800, 960, 960 + 320]


def test_compound_metres_are_never_swung():
    song = eighths_song(time_signature=(6, 8), bar_length=3)
    notes = track_notes(read(song_to_midi_bytes(song, swing=2)).tracks[1])
    assert [start for start, *_ in notes] == [240 * k for k in range(6)]


def test_an_offbeat_rest_moves_the_note_end_before_it():
    song = Song([Measure(1, [Note(0, F(1, 2), 60)])])
    notes = track_notes(read(song_to_midi_bytes(song, swing=2)).tracks[1])
    assert [(start, end) for start, end, *_ in notes] == [(0, 320)]


@pytest.mark.parametrize("swing", [F(1, 2), 5, -1, "medium", None, float("inf"), float("nan")])
def test_bad_swing_is_a_music_error(swing):
    with pytest.raises(MusicError, match="swing"):
        checked_swing(swing)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(1, 4)), min_size=1, max_size=16),
       st.sampled_from([F(3, 2), F(2), F(3)]))
def test_swing_keeps_order_and_never_overlaps(gaps_lengths, ratio):
    sounds, position = [], F(0)
    for gap, length in gaps_lengths:
        position += F(gap, 4)
        sounds.append(Sound(position, position + F(length, 4), 60, 90))
        position += F(length, 4)
    bar_length = max(4, -(-position // 1))
    swung = swing_sounds(sounds, [F(0)], [bar_length], (4, 4), ratio)
    for before, after in zip(swung, swung[1:]):
        assert before.start < before.end <= after.start < after.end
    for written, played in zip(sounds, swung):
        for old, new in ((written.start, played.start), (written.end, played.end)):
            if old != new:  # only the middle of a beat moves, and only to r / (1 + r)
                assert old % 1 == F(1, 2) and new == old - F(1, 2) + ratio / (1 + ratio)


def test_swing_moves_the_ride_skip_notes_too():
    song = progression_song([[(0, MAJOR7)]])
    notes = track_notes(tracks_by_name(song_to_midi_bytes(song, band="trio", swing=2))["Drums"])
    assert [start for start, _, pitch, *_ in notes if pitch == 51] == [0, 480, 800, 960, 1440, 1760]
