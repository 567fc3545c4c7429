"""MIDI output: round trips through mido and music21, layout, determinism, atomic writes."""
import io
import os
from fractions import Fraction as F

import mido
import music21
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from music.write.midi import song_seconds, song_to_midi_bytes, write_midi
from music.band.voicing import chord_voicing
from music.song import Chord, Measure, MusicError, Note, Song

TICKS = 480

DM7 = Chord(0, 2, root=2, pitch_classes=(0, 2, 5, 9), symbol="Dm7")
G7 = Chord(2, 2, root=7, pitch_classes=(2, 5, 7, 11), symbol="G7")
CMAJ7 = Chord(0, 4, root=0, pitch_classes=(0, 4, 7, 11), symbol="Cmaj7")


def ii_v_i_song(tempo=120.0, last_pitch=72):
    """Two bars of 4/4: a C-D-E triplet, a rest, a half-note A4, then a whole note."""
    first = Measure(4, notes=[Note(0, F(1, 3), 60), Note(F(1, 3), F(1, 3), 62),
                              Note(F(2, 3), F(1, 3), 64), Note(1, 1, None), Note(2, 2, 69)],
                    chords=[DM7, G7], number=1)
    second = Measure(4, notes=[Note(0, 4, last_pitch)], chords=[CMAJ7], number=2)
    return Song([first, second], tempo=tempo, title="ii-V-I")


# (onset, duration) in quarter lengths and MIDI pitch, written out by hand.
EXPECTED_MELODY = [(F(0), F(1, 3), 60), (F(1, 3), F(1, 3), 62), (F(2, 3), F(1, 3), 64),
                   (F(2), F(2), 69), (F(4), F(4), 72)]
EXPECTED_CHORD_CLASSES = {F(0): {0, 2, 5, 9}, F(2): {2, 5, 7, 11}, F(4): {0, 4, 7, 11}}


def read(song_bytes):
    return mido.MidiFile(file=io.BytesIO(song_bytes))


def absolute_messages(track):
    tick = 0
    for message in track:
        tick += message.time
        yield tick, message


def sounding_notes(track, ticks_per_beat=TICKS):
    """(onset, duration, pitch) in quarter lengths, sorted by onset then pitch."""
    held = {}
    notes = []
    for tick, message in absolute_messages(track):
        if message.type == "note_on" and message.velocity > 0:
            assert message.note not in held, f"pitch {message.note} struck twice without release"
            held[message.note] = tick
        elif message.type in ("note_off", "note_on"):
            start = held.pop(message.note)
            notes.append((F(start, ticks_per_beat), F(tick - start, ticks_per_beat), message.note))
    assert not held, "notes left hanging at the end of the track"
    return sorted(notes)


def test_melody_survives_a_mido_round_trip_including_the_triplet():
    melody_track = read(song_to_midi_bytes(ii_v_i_song())).tracks[1]
    assert sounding_notes(melody_track) == EXPECTED_MELODY


def test_chords_are_voiced_root_in_bass_and_close_above_middle_c():
    chord_track = read(song_to_midi_bytes(ii_v_i_song())).tracks[2]
    by_onset = {}
    for onset, _duration, pitch in sounding_notes(chord_track):
        by_onset.setdefault(onset, []).append(pitch)
    assert by_onset == {F(0): [50, 60, 65, 69],      # D3 | C4 F4 A4
                        F(2): [55, 62, 65, 71],      # G3 | D4 F4 B4
                        F(4): [48, 64, 67, 71]}      # C3 | E4 G4 B4
    assert {onset: {p % 12 for p in pitches} for onset, pitches in by_onset.items()} \
        == EXPECTED_CHORD_CLASSES


def test_chord_voicing_keeps_below_the_melody_register():
    b_flat_13 = Chord(0, 4, root=10, pitch_classes=(10, 2, 5, 8, 0, 7))
    assert chord_voicing(b_flat_13) == [58, 60, 62, 65, 67, 68]


def test_overlapping_chords_are_cut_where_the_next_begins():
    measure = Measure(4, chords=[Chord(0, 4, 0, (0, 4, 7)), Chord(2, 2, 0, (0, 4, 7))])
    notes = sounding_notes(read(song_to_midi_bytes(Song([measure]))).tracks[2])
    assert [(onset, duration) for onset, duration, _ in notes] == [(F(0), F(2))] * 3 + [(F(2), F(2))] * 3


def test_tempo_and_time_signature_are_in_the_conductor_track():
    song = Song([Measure(3, [Note(0, 3, 67)])], tempo=120, time_signature=(3, 4))
    conductor = read(song_to_midi_bytes(song)).tracks[0]
    tempos = [m.tempo for m in conductor if m.type == "set_tempo"]
    signatures = [(m.numerator, m.denominator) for m in conductor if m.type == "time_signature"]
    assert tempos == [500_000]  # microseconds per quarter at 120 bpm
    assert signatures == [(3, 4)]


def test_tempo_option_overrides_the_song_tempo():
    conductor = read(song_to_midi_bytes(ii_v_i_song(tempo=120), tempo=90)).tracks[0]
    assert [m.tempo for m in conductor if m.type == "set_tempo"] == [666_667]


def test_default_song_tempo_is_130_bpm():
    song = Song([Measure(4, [Note(0, 1, 60)])])
    conductor = read(song_to_midi_bytes(song)).tracks[0]
    tempo = [m.tempo for m in conductor if m.type == "set_tempo"][0]
    assert mido.tempo2bpm(tempo) == pytest.approx(130, abs=1e-3)


def test_tracks_are_named_and_programmed_as_documented():
    midi = read(song_to_midi_bytes(ii_v_i_song()))
    assert midi.type == 1
    assert midi.ticks_per_beat == TICKS
    names = [[m.name for m in track if m.type == "track_name"] for track in midi.tracks]
    assert names == [["ii-V-I"], ["Melody"], ["Chords"]]
    programs = [[(m.channel, m.program) for m in track if m.type == "program_change"]
                for track in midi.tracks]
    assert programs == [[], [(0, 26)], [(1, 0)]]


def test_programs_can_be_chosen():
    midi = read(song_to_midi_bytes(ii_v_i_song(), melody_program=65, chord_program=4))
    programs = [m.program for track in midi.tracks for m in track if m.type == "program_change"]
    assert programs == [65, 4]


def test_every_track_ends_at_the_end_of_the_song():
    rest_at_end = Song([Measure(4, [Note(0, 1, 60), Note(1, 3, None)])])
    for track in read(song_to_midi_bytes(rest_at_end)).tracks:
        assert sum(message.time for message in track) == 4 * TICKS


def test_rests_write_nothing():
    only_rests = Song([Measure(4, [Note(0, 2, None), Note(2, 2, None)])])
    melody_track = read(song_to_midi_bytes(only_rests)).tracks[1]
    assert [m for m in melody_track if m.type in ("note_on", "note_off")] == []


def test_repeated_pitch_is_released_before_it_is_struck_again():
    song = Song([Measure(2, [Note(0, 1, 64), Note(1, 1, 64)])])
    events = [(tick, m.type) for tick, m in absolute_messages(read(song_to_midi_bytes(song)).tracks[1])
              if m.type in ("note_on", "note_off")]
    assert events == [(0, "note_on"), (480, "note_off"), (480, "note_on"), (960, "note_off")]


def test_measures_are_laid_end_to_end():
    pickup = Measure(1, [Note(0, 1, 67)], number=0)
    full = Measure(4, [Note(F(1, 2), 1, 72)], chords=[CMAJ7], number=1)
    midi = read(song_to_midi_bytes(Song([pickup, full])))
    assert sounding_notes(midi.tracks[1]) == [(F(0), F(1), 67), (F(3, 2), F(1), 72)]
    assert {onset for onset, _, _ in sounding_notes(midi.tracks[2])} == {F(1)}


def test_ticks_per_beat_scales_every_time():
    midi = read(song_to_midi_bytes(ii_v_i_song(), ticks_per_beat=960))
    assert midi.ticks_per_beat == 960
    assert sounding_notes(midi.tracks[1], ticks_per_beat=960) == EXPECTED_MELODY


def test_same_song_gives_identical_bytes():
    assert song_to_midi_bytes(ii_v_i_song()) == song_to_midi_bytes(ii_v_i_song())


def test_different_songs_give_different_bytes():
    assert song_to_midi_bytes(ii_v_i_song(last_pitch=72)) != song_to_midi_bytes(ii_v_i_song(last_pitch=71))


def test_title_outside_latin1_does_not_break_the_write():
    song = Song([Measure(4, [Note(0, 1, 60)])], title="Solo \u266f 7")
    names = [m.name for m in read(song_to_midi_bytes(song)).tracks[0] if m.type == "track_name"]
    assert names == ["Solo ? 7"]


@pytest.mark.parametrize("options", [{"melody_program": 128}, {"chord_program": -1},
                                     {"ticks_per_beat": 0}, {"tempo": 0.5},
                                     {"chord_velocity": 0}])
def test_bad_options_raise_music_error(options):
    with pytest.raises(MusicError):
        song_to_midi_bytes(ii_v_i_song(), **options)


def test_song_seconds():
    assert song_seconds(ii_v_i_song(tempo=120)) == pytest.approx(4.0)
    assert song_seconds(ii_v_i_song(tempo=120), tempo=60) == pytest.approx(8.0)
    assert song_seconds(Song([Measure(3), Measure(F(5, 2))], tempo=90)) == pytest.approx(
        (3 + 2.5) * 60 / 90)


def test_music21_reads_back_melody_chords_and_tempo(tmp_path):
    path = write_midi(ii_v_i_song(tempo=120), tmp_path / "ii-v-i.mid")
    score = music21.converter.parse(str(path))
    melody_part, chord_part = score.parts

    melody = [(F(n.offset), F(n.quarterLength), n.pitch.midi)
              for n in melody_part.flatten().notes]
    assert melody == EXPECTED_MELODY
    assert [(i.partName, i.midiProgram) for i in melody_part.getInstruments(recurse=True)] \
        == [("Melody", 26)]

    chords = {F(c.offset): {p.pitchClass for p in c.pitches}
              for c in chord_part.flatten().getElementsByClass(music21.chord.Chord)}
    assert chords == EXPECTED_CHORD_CLASSES
    assert [(i.partName, i.midiProgram) for i in chord_part.getInstruments(recurse=True)] \
        == [("Chords", 0)]

    marks = score.flatten().getElementsByClass(music21.tempo.MetronomeMark)
    assert {mark.number for mark in marks} == {120}


def test_write_midi_creates_folders_and_leaves_no_temporary_files(tmp_path):
    target = tmp_path / "deep" / "er" / "song.mid"
    returned = write_midi(ii_v_i_song(), target)
    assert returned == target
    assert target.read_bytes() == song_to_midi_bytes(ii_v_i_song())
    assert sorted(os.listdir(target.parent)) == ["song.mid"]


def test_failed_write_keeps_the_old_file_and_cleans_up(tmp_path, monkeypatch):
    target = tmp_path / "song.mid"
    target.write_bytes(b"the previous take")

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError, match="disk full"):
        write_midi(ii_v_i_song(), target)
    assert target.read_bytes() == b"the previous take"
    assert os.listdir(tmp_path) == ["song.mid"]


# Grid of twelfths of a quarter: sixteenths and eighth-note triplets both land on it.
twelfths = st.integers(min_value=1, max_value=12).map(lambda n: F(n, 12))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(twelfths, twelfths, st.integers(0, 127) | st.none()),
                min_size=1, max_size=12))
def test_any_melody_on_a_twelfth_grid_round_trips_exactly(gaps_lengths_pitches):
    notes, expected, position = [], [], F(0)
    for gap, length, pitch in gaps_lengths_pitches:
        position += gap
        notes.append(Note(position, length, pitch))
        if pitch is not None:
            expected.append((position, length, pitch))
        position += length
    song = Song([Measure(position, notes)])
    assert sounding_notes(read(song_to_midi_bytes(song)).tracks[1]) == sorted(expected)


def test_written_files_get_the_usual_permissions(tmp_path):
    import os
    old_umask = os.umask(0o022)
    try:
        path = write_midi(ii_v_i_song(), tmp_path / "song.mid")
    finally:
        os.umask(old_umask)
    assert path.stat().st_mode & 0o777 == 0o644


def test_write_midi_passes_the_band_options(tmp_path):
    path = write_midi(ii_v_i_song(), tmp_path / "trio.mid", band="trio", swing=2, seed=1)
    midi = mido.MidiFile(str(path))
    assert [track.name for track in midi.tracks] == ["ii-V-I", "Melody", "Piano", "Bass", "Drums"]
    assert path.read_bytes() == song_to_midi_bytes(ii_v_i_song(), band="trio", swing=2, seed=1)


def test_the_notes_encoding_options_still_give_melody_and_held_chords():
    from music.tokens.note_tokens import MIDI_OPTIONS

    midi = read(song_to_midi_bytes(ii_v_i_song(), **MIDI_OPTIONS))
    assert [track.name for track in midi.tracks[1:]] == ["Melody", "Chords"]
    assert sounding_notes(midi.tracks[1]) == EXPECTED_MELODY
