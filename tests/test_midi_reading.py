"""music.read.midi: MIDI files read with mido give what music21 gives.

The small files are built here with mido; their expected values are worked
out by hand from music21's rules (see the module doc of music.read.midi).
The comparisons with music21 itself parse with music21 in the test.
"""
import io
import sys
from fractions import Fraction as F

import mido
import pytest

from music.read import midi as midi_reading
from music.read import scores as reading
from music.read.midi import PROGRAM_NAMES, read_midi
from music.read.parts import PartNotes
from music.read.scores import load_song
from music.song import MusicError, as_fraction

TPQ = 480


def midi_bytes(tracks, *, ticks_per_beat=TPQ, conductor=None) -> bytes:
    """A type-1 file: a conductor track (4/4, 120 bpm unless given) and one
    track per list of messages given as (absolute tick, message)."""
    midi = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat)
    if conductor is None:
        conductor = [(0, mido.MetaMessage("time_signature", numerator=4, denominator=4)),
                     (0, mido.MetaMessage("set_tempo", tempo=500000))]
    for events in [conductor] + list(tracks):
        track, now = mido.MidiTrack(), 0
        for tick, message in sorted(events, key=lambda event: event[0]):
            track.append(message.copy(time=tick - now))
            now = tick
        midi.tracks.append(track)
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def note(on, off, pitch, velocity=80, channel=0):
    return [(on, mido.Message("note_on", note=pitch, velocity=velocity, channel=channel)),
            (off, mido.Message("note_off", note=pitch, velocity=0, channel=channel))]


def spans(part: PartNotes):
    return [(n.start, n.end, n.pitch) for n in part.notes]


# ------------------------------------------------------------ hand-worked

def test_starts_and_lengths_snap_to_sixteenths_or_triplets():
    # tick 150 = 0.3125 q: 1/3 is 0.0208 away, 1/4 is 0.0625 away -> 1/3.
    # tick 1000 = 2.0833 q: 2 and 2 1/12?  grid points 2 (0.083 away) and
    # 2 1/3 / 2 1/4 further -> 2.  Length 100 ticks = 0.208 q -> 1/4
    # (0.042 away; 1/3 is 0.125 away), never 0.
    # The last note: 10 ticks long (0.02 q) rounds to 0, which a note may
    # not: the 1/4 grid is nearer than 1/3 -> 1/4.
    data = midi_bytes([[event for spec in [(150, 150 + 480, 60), (1000, 1100, 62),
                                           (1920, 1930, 64)]
                        for event in note(*spec)]])
    (part,) = read_midi("x.mid", data).parts
    assert spans(part) == [(F(1, 3), F(4, 3), 60), (2, F(9, 4), 62), (4, F(17, 4), 64)]


def test_a_length_prefers_the_grid_that_reaches_the_next_start():
    # Notes every 160 ticks (a triplet eighth) held 150 ticks (0.3125 q):
    # nearest alone would be 1/3 anyway; held 125 ticks (0.26 q) the 1/4 grid
    # is nearer (0.01 vs 0.07), but the next start is 1/3 away and 1/3 fills
    # that gap exactly, so music21's look-ahead picks 1/3.
    data = midi_bytes([note(0, 125, 60) + note(160, 285, 62) + note(320, 445, 64)])
    (part,) = read_midi("x.mid", data).parts
    assert spans(part) == [(0, F(1, 3), 60), (F(1, 3), F(2, 3), 62), (F(2, 3), F(11, 12), 64)]


def test_notes_struck_within_a_sixteenth_and_ending_together_are_one_chord():
    # 60 at tick 0 and 64 at tick 100 (< 120 = a sixteenth), both ending at
    # 480: one chord at 0, as long as its last note (380 ticks = 0.79 q ->
    # 3/4), velocity the rounded mean (80 + 91) / 2 = 85.5 -> 86.
    # 67 starts with them but ends elsewhere: a note of its own.  55 ends
    # with them but starts 130 ticks late: a note of its own at 1/4 (130
    # ticks = 0.27 q), 350 ticks (0.73 q) -> 3/4 long.
    data = midi_bytes([note(0, 480, 60, velocity=80) + note(100, 480, 64, velocity=91)
                       + note(10, 1440, 67, velocity=50) + note(130, 480, 55, velocity=60)])
    (part,) = read_midi("x.mid", data).parts
    assert [(n.start, n.end, n.pitch, n.velocity) for n in part.notes] == [
        (0, F(3, 4), 60, 86), (0, F(3, 4), 64, 86), (0, 3, 67, 50), (F(1, 4), 1, 55, 60)]


def test_note_off_matching_and_bar_ties():
    # Two note-ons of 60 before one note-off both end there; a note-on
    # without a note-off is dropped; a note across the bar line is one note.
    events = [(0, mido.Message("note_on", note=60, velocity=70)),
              (480, mido.Message("note_on", note=60, velocity=71)),
              (960, mido.Message("note_off", note=60)),
              (960, mido.Message("note_on", note=72, velocity=72))]
    data = midi_bytes([events + note(1440, 2880, 65)])
    (part,) = read_midi("x.mid", data).parts
    assert spans(part) == [(0, 2, 60), (1, 2, 60), (3, 6, 65)]


def test_drum_tracks_names_tempo_and_meter():
    conductor = [(0, mido.MetaMessage("time_signature", numerator=3, denominator=4)),
                 (0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(97))),
                 (960, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(140)))]
    lead = [(0, mido.MetaMessage("track_name", name="Lead")),
            (0, mido.Message("program_change", program=26))] + note(0, 480, 72)
    unnamed = [(0, mido.MetaMessage("track_name", name="Inst 2")),
               (0, mido.Message("program_change", channel=1, program=26))] \
        + note(0, 480, 48, channel=1)
    drums = [(0, mido.MetaMessage("track_name", name="Kit"))] + note(0, 240, 36, channel=9)
    plain = read_midi("x.mid", midi_bytes([lead, unnamed, drums], conductor=conductor))
    assert [(part.name, len(part.notes)) for part in plain.parts] == [
        ("Lead", 1), ("Electric Guitar", 1), ("Kit", 0)]
    assert plain.has_drums
    # 60e6 / 618557 us = 97.00 bpm, rounded to 2 decimals as music21 does.
    assert (plain.tempo, plain.time_signature) == (97.0, (3, 4))
    assert plain.measures == ((0, 3),)


def test_a_program_change_before_a_known_instrument_name_names_the_part():
    # music21 makes an instrument of "Soprano" (a name it knows) that
    # disagrees with program 52's "Choir", so the first event, the program,
    # names the part; "Lead" is no instrument, so the events merge to "Lead".
    def track(name):
        return [(0, mido.Message("program_change", program=52)),
                (0, mido.MetaMessage("track_name", name=name))] + note(0, 480, 72)
    plain = read_midi("x.mid", midi_bytes([track("Soprano"), track("Lead")]))
    assert [part.name for part in plain.parts] == ["Choir", "Lead"]


def test_meter_changes_cut_the_measures():
    conductor = [(0, mido.MetaMessage("time_signature", numerator=3, denominator=4)),
                 (1440, mido.MetaMessage("time_signature", numerator=6, denominator=8))]
    plain = read_midi("x.mid", midi_bytes([note(0, 9 * 480, 60)], conductor=conductor))
    # 3/4 from 0, 6/8 (3 quarters too) from 3; the note ends at 9.
    assert plain.measures == ((0, 3), (3, 3), (6, 3))
    assert spans(plain.parts[0]) == [(0, 9, 60)]


def test_program_names_are_music21s():
    from music21 import instrument
    assert PROGRAM_NAMES == tuple(instrument.instrumentFromMidiProgram(program).instrumentName
                                  for program in range(128))


# ----------------------------------------------------------------- limits

def test_too_many_notes_is_refused(monkeypatch):
    monkeypatch.setattr(midi_reading, "MAX_NOTES", 3)
    data = midi_bytes([[event for pitch in (60, 62, 64, 65) for event in note(0, 480, pitch)]])
    with pytest.raises(MusicError, match="x.mid: more than 3 notes"):
        read_midi("x.mid", data)


def test_the_note_limit_stops_at_the_track_that_crosses_it(monkeypatch):
    monkeypatch.setattr(midi_reading, "MAX_NOTES", 3)
    parsed = []
    real_track = midi_reading._mido_track
    monkeypatch.setattr(midi_reading, "_mido_track",
                        lambda label, chunk: parsed.append(chunk) or real_track(label, chunk))
    two_notes = note(0, 480, 60) + note(480, 960, 62)
    with pytest.raises(MusicError, match="more than 3 notes"):
        read_midi("x.mid", midi_bytes([two_notes, two_notes, two_notes]))
    assert len(parsed) == 3   # the conductor and two tracks; the third is never parsed


def test_a_file_over_the_size_limit_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "big.mid"
    path.write_bytes(midi_bytes([note(0, 480, 60)]))
    monkeypatch.setattr(reading, "MAX_FILE_BYTES", 20)
    with pytest.raises(MusicError, match=r"big.mid: over the limit of 20 bytes for a music file"):
        load_song(path, cache_dir=tmp_path / "cache")


def test_a_slow_read_shows_progress_on_a_terminal(tmp_path, monkeypatch, capsys):
    path = tmp_path / "song.mid"
    path.write_bytes(midi_bytes([note(0, 1920, 72), note(0, 1920, 48) + note(0, 1920, 55)]))
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    monkeypatch.setattr(reading, "PROGRESS_DELAY_SECONDS", 0)
    load_song(path, cache_dir=tmp_path / "cache")
    assert "reading song.mid" in capsys.readouterr().err


def test_a_file_mido_refuses_is_read_by_music21(tmp_path):
    data = bytearray(midi_bytes([[(0, mido.MetaMessage("key_signature", key="C"))]
                                 + note(0, 480, 72), note(0, 480, 48) + note(0, 480, 52)]))
    key_at = data.index(b"\xff\x59\x02")
    data[key_at + 3] = 20  # 20 sharps: mido raises, music21 reads on
    path = tmp_path / "odd_key.mid"
    path.write_bytes(bytes(data))
    with pytest.raises(midi_reading.MidoCannotRead):
        read_midi(str(path), bytes(data))
    song = load_song(path, cache_dir=tmp_path / "cache")
    assert [n.pitch for n in song.melody_notes] == [72]


# --------------------------------------------------- against music21 itself

def music21_plain(path):
    """music21's reading of a file, and which parts music21 misplaced: music21
    10 moves the measures after one whose voices it mismeasures (makeRests
    repositions measures by a stale highestTime after makeTies)."""
    import music21
    score = music21.converter.parse(str(path), forceSource=True)
    moved = []
    for part in score.parts:
        position = F(0)
        for measure in part.getElementsByClass("Measure"):
            if as_fraction(measure.offset) != position:
                moved.append(part.partName)
                break
            position += as_fraction(measure.barDuration.quarterLength)
    return reading._plain_from_score(score), moved


def assert_same_reading(path, expect_moved=()):
    ours = read_midi(str(path), path.read_bytes())
    theirs, moved = music21_plain(path)
    assert moved == list(expect_moved)
    assert (ours.time_signature, ours.tempo, ours.has_drums, ours.measures) == (
        theirs.time_signature, theirs.tempo, theirs.has_drums, theirs.measures)
    assert [part.name for part in ours.parts] == [part.name for part in theirs.parts]
    for our_part, their_part in zip(ours.parts, theirs.parts):
        if their_part.name not in moved:
            assert our_part.notes == their_part.notes, our_part.name
    return ours, theirs


def export(name, path):
    import music21
    score = music21.corpus.parse(name)
    score.write("midi", fp=str(path))
    return path


def test_a_chorale_reads_as_music21_reads_it(tmp_path):
    path = export("bach/bwv66.6", tmp_path / "chorale.mid")
    ours, theirs = assert_same_reading(path)
    assert reading._song_from_plain(ours, "c", None, None, None) == \
        reading._song_from_plain(theirs, "c", None, None, None)


def test_a_lead_sheet_with_its_chords_as_a_part_reads_as_music21_reads_it(tmp_path):
    import music21
    from music21 import chord, harmony, stream
    sheet = music21.corpus.parse("leadSheet/fosterBrownHair.mxl")
    melody = stream.Part([element for element in sheet.parts[0].flatten().notesAndRests
                          if not isinstance(element, harmony.ChordSymbol)])
    melody.partName = "Melody"
    symbols = list(sheet.parts[0].flatten().getElementsByClass(harmony.ChordSymbol))
    comping = stream.Part()
    comping.partName = "Chords"
    end = sheet.parts[0].flatten().highestTime
    for symbol, following in zip(symbols, symbols[1:] + [None]):
        length = (following.offset if following is not None else end) - symbol.offset
        comping.insert(symbol.offset, chord.Chord([p.midi - 12 for p in symbol.pitches],
                                                  quarterLength=length))
    path = tmp_path / "lead_sheet.mid"
    stream.Score([melody, comping]).write("midi", fp=str(path))
    ours, theirs = assert_same_reading(path)
    assert reading._song_from_plain(ours, "s", None, None, None) == \
        reading._song_from_plain(theirs, "s", None, None, None)


def test_a_piano_piece_reads_as_music21_reads_it(tmp_path):
    path = export("mozart/k545/movement1_exposition.mxl", tmp_path / "k545.mid")
    ours, theirs = assert_same_reading(path)
    assert reading._song_from_plain(ours, "k", None, None, None) == \
        reading._song_from_plain(theirs, "k", None, None, None)


@pytest.mark.slow
def test_metheny_reads_as_music21_reads_it_but_for_two_misplaced_parts(metheny_path):
    # music21 misplaces the organ from bar 39 and the strings from bar 106 on
    # (see music21_plain); every other part, the bars, names, tempo and meter agree.
    ours, theirs = assert_same_reading(metheny_path, expect_moved=("Organ", "String"))
    our_song = reading._song_from_plain(ours, "m", None, None, None)
    their_song = reading._song_from_plain(theirs, "m", None, None, None)
    assert [m.notes for m in our_song.measures] == [m.notes for m in their_song.measures]
    assert (our_song.melody_part, our_song.chord_source, our_song.tempo) == (
        their_song.melody_part, their_song.chord_source, their_song.tempo)
    assert our_song.melody_part == "5 (Guitar)"
    # Chords agree up to bar 38, before the first misplaced organ note.
    assert [m.chords for m in our_song.measures[:38]] == \
        [m.chords for m in their_song.measures[:38]]
