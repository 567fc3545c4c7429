"""music.band.arrange: the combo's tracks, silence under N.C., determinism, bad options."""
from fractions import Fraction as F

import pytest

from music.band.arrange import COMBO_OPTIONS, arrange
from music.chords import parse_progression
from music.song import Measure, MusicError, Note, Song
from music.write.midi import song_to_midi_bytes
from tests.band_helpers import (TICKS, MINOR7, MAJOR7, progression_song, II_V_I, read, track_notes,
                                tracks_by_name)


def test_trio_tracks_channels_and_programs():
    data = song_to_midi_bytes(progression_song(II_V_I), band="trio")
    midi = read(data)
    assert [track.name for track in midi.tracks[1:]] == ["Melody", "Piano", "Bass", "Drums"]
    programs = [[(m.channel, m.program) for m in track if m.type == "program_change"]
                for track in midi.tracks[1:]]
    assert programs == [[(0, 26)], [(1, 0)], [(2, 32)], [(9, 0)]]


def test_comp_band_is_melody_and_piano():
    midi = read(song_to_midi_bytes(progression_song(II_V_I), band="comp"))
    assert [track.name for track in midi.tracks[1:]] == ["Melody", "Piano"]


def assert_band_silent_between(song, gap_start, gap_end):
    """No band note sounds inside [gap_start, gap_end) ticks; the band plays before and after."""
    tracks = tracks_by_name(song_to_midi_bytes(song, band="trio", seed=3))
    for name in ("Piano", "Bass", "Drums"):
        notes = track_notes(tracks[name])
        assert not [n for n in notes if n[1] > gap_start and n[0] < gap_end], name
        assert [n for n in notes if n[0] < gap_start] and [n for n in notes if n[0] >= gap_end], name


def test_no_chord_silences_the_band_for_its_span():
    assert_band_silent_between(progression_song([[(2, MINOR7)], [], [(0, MAJOR7)]]),
                               4 * TICKS, 8 * TICKS)


def test_no_chord_inside_a_bar_silences_the_band_there():
    bars = parse_progression("Dm7 N.C. | Cmaj7")
    song = Song([Measure(4, chords=chords, number=n) for n, chords in enumerate(bars, 1)])
    assert_band_silent_between(song, 2 * TICKS, 4 * TICKS)


def test_same_inputs_give_the_same_bytes_and_the_seed_matters():
    melody = [[Note(F(k, 2), F(1, 2), 64 + k) for k in range(8)]] * 5
    song = progression_song(II_V_I, melody=melody)
    first = song_to_midi_bytes(song, **COMBO_OPTIONS, seed=7)
    assert first == song_to_midi_bytes(song, **COMBO_OPTIONS, seed=7)
    assert first != song_to_midi_bytes(song, **COMBO_OPTIONS, seed=8)


@pytest.mark.parametrize("options, culprit", [
    ({"band": "quartet"}, "band"), ({"seed": -1}, "seed"), ({"bass_program": 200}, "program"),
    ({"dynamics": "yes"}, "dynamics"), ({"swing": 9}, "swing")])
def test_bad_band_options_are_one_line_music_errors(options, culprit):
    with pytest.raises(MusicError, match=culprit) as error:
        arrange(progression_song(II_V_I), **options)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("signature", [(3, 4), (5, 4), (6, 8), (7, 8)])
def test_the_whole_band_plays_in_odd_metres(signature):
    song = progression_song(II_V_I, signature)
    bar_ticks = TICKS * 4 * signature[0] // signature[1]
    tracks = tracks_by_name(song_to_midi_bytes(song, **COMBO_OPTIONS))
    for name in ("Piano", "Bass", "Drums"):
        notes = track_notes(tracks[name])
        assert {start // bar_ticks for start, *_ in notes} == set(range(5)), name
        assert max(end for _, end, *_ in notes) <= 5 * bar_ticks
