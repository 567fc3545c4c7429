"""music.band.dynamics: the melody's velocities, accented, ghosted and kept in MIDI range."""
from fractions import Fraction as F


from music.band.dynamics import melody_velocities
from music.song import Measure, Note, Song
from music.write.midi import song_to_midi_bytes
from tests.band_helpers import read, track_notes


def test_strong_beats_and_the_phrase_peak_are_accented():
    notes = [Note(beat, 1, pitch) for beat, pitch in enumerate([60, 62, 64, 65])]
    song = Song([Measure(4, notes)])
    # 90 + 10 on beats 1 and 3, + 4 on 2 and 4, + 12 on the top note (beat 4)
    assert melody_velocities(song) == [100, 94, 100, 106]


def test_a_low_short_offbeat_note_between_higher_ones_is_ghosted():
    notes = [Note(0, F(1, 2), 67), Note(F(1, 2), F(1, 2), 60), Note(1, 1, 67)]
    song = Song([Measure(2, notes)])
    # 100 + 12 (first top note), 90 - 24 (ghost), 94 (beat 2)
    assert melody_velocities(song) == [112, 66, 94]


def test_a_quarter_rest_starts_a_new_phrase_with_its_own_peak():
    notes = [Note(0, 1, 72), Note(1, 1, 60), Note(3, 1, 64)]
    song = Song([Measure(4, notes)])
    assert melody_velocities(song) == [112, 94, 94 + 12]


def test_velocities_stay_in_midi_range():
    song = Song([Measure(2, [Note(0, 1, 72, velocity=120), Note(F(3, 2), F(1, 2), 60, velocity=10),
                             ])])
    assert melody_velocities(song) == [127, 10]


def test_dynamics_option_shades_the_melody_track():
    notes = [Note(beat, 1, pitch) for beat, pitch in enumerate([60, 62, 64, 65])]
    song = Song([Measure(4, notes)])
    plain = [velocity for *_, velocity, _ in track_notes(read(song_to_midi_bytes(song)).tracks[1])]
    shaded = [velocity for *_, velocity, _ in
              track_notes(read(song_to_midi_bytes(song, dynamics=True)).tracks[1])]
    assert plain == [90] * 4 and shaded == [100, 94, 100, 106]
