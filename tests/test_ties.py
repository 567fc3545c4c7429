"""A note held over a bar line is one note: in the Song (``Note.tied``), in
every reader, in the exact grammar and in every writer.

The written piece used throughout (4/4 over Cmaj7, quarter lengths from the
start; every expected value below is worked out by hand from it):

* E4 from 3 to 5: held over the line of bars 1|2;
* G4 from 7 to 8, then G4 again from 8 to 9: struck again on the line 2|3;
* C5 from 11 to 17: held over the lines 3|4 and 4|5.
"""
import csv
import io
from fractions import Fraction as F
from pathlib import Path
from xml.etree import ElementTree

import mido
import numpy as np
import pytest

from jazz_lstm.evaluating import _bars_after, _last_fifth
from jazz_lstm.grammars import Exact
from jazz_lstm.solo_page import LABEL_WIDTH, QUARTER_WIDTH, SEMITONE_HEIGHT, solo_html
from music.band.arrange import arrange
from music.read.scores import load_song
from music.read.wjazzd_csv import load_wjazzd_folder
from music.song import Chord, Measure, Note, Song, detached, notes_in_bars, played_notes
from music.tokens import classic_grammar as classic
from music.tokens.exact_grammar import decode_song, encode_song
from music.write.midi import song_to_midi_bytes
from music.write.musicxml import song_to_musicxml_bytes
from music.write.wav import render_samples
from tests.page_helpers import Elements

CMAJ7 = Chord(0, 4, root=0, pitch_classes=(0, 4, 7, 11), symbol="Cmaj7")
TICKS = 480
# (pitch, start, end) in quarters of the written piece's notes, as played.
WRITTEN = [(64, 3, 5), (67, 7, 8), (67, 8, 9), (72, 11, 17)]
# Its bars: (start, duration, pitch, tied) of each note and rest.
WRITTEN_BARS = [
    [(0, 3, None, False), (3, 1, 64, False)],
    [(0, 1, 64, True), (1, 2, None, False), (3, 1, 67, False)],
    [(0, 1, 67, False), (1, 2, None, False), (3, 1, 72, False)],
    [(0, 4, 72, True)],
    [(0, 1, 72, True), (1, 3, None, False)],
]
# Over Cmaj7 from the reference G4: E4 is 3 down (motion -4), G4 3 up (+4), C5 5 up (+4).
WRITTEN_TOKENS = ["R,36", "4-4,12", "|",
                  "T,12", "R,24", "7+4,12", "|",
                  "7=,12", "R,24", "0+4,12", "|",
                  "T,48", "|",
                  "T,12", "R,36", "|"]
WJAZZD = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "wjazzd"


def bars_of(song) -> list:
    return [[(note.start, note.duration, note.pitch, note.tied) for note in measure.notes]
            for measure in song.measures]


def written_song() -> Song:
    return Song([Measure(4, [Note(start, duration, pitch, tied=tied)
                             for start, duration, pitch, tied in notes], [CMAJ7], number)
                 for number, notes in enumerate(WRITTEN_BARS, start=1)], tempo=120)


def melody_notes_of_midi(data: bytes) -> list:
    """(pitch, start, end) in quarters of the melody track's notes."""
    track = mido.MidiFile(file=io.BytesIO(data)).tracks[1]
    notes, sounding, tick = [], {}, 0
    for message in track:
        tick += message.time
        if message.type == "note_on" and message.velocity > 0:
            sounding[message.note] = tick
        elif message.type in ("note_on", "note_off"):
            notes.append((message.note, F(sounding.pop(message.note), TICKS), F(tick, TICKS)))
    return sorted(notes, key=lambda note: note[1])


def written_midi(path: Path) -> Path:
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS)
    track = mido.MidiTrack()
    events = sorted([(start * TICKS, 1, pitch) for pitch, start, _ in WRITTEN]
                    + [(end * TICKS, 0, pitch) for pitch, _, end in WRITTEN])
    tick = 0
    for at, is_on, pitch in events:
        track.append(mido.Message("note_on" if is_on else "note_off", note=pitch,
                                  velocity=90 if is_on else 0, time=at - tick))
        tick = at
    midi.tracks.append(track)
    midi.save(path)
    return path


def written_musicxml(path: Path) -> Path:
    """The piece as notated: ties over the bar lines, divisions of a quarter."""
    def note(step, octave, duration, ties=()):
        tie = "".join(f'<tie type="{kind}"/>' for kind in ties)
        tied = "".join(f'<tied type="{kind}"/>' for kind in ties)
        return (f"<note><pitch><step>{step}</step><octave>{octave}</octave></pitch>"
                f"<duration>{duration}</duration>{tie}<type>quarter</type>"
                f"<notations>{tied}</notations></note>" if ties else
                f"<note><pitch><step>{step}</step><octave>{octave}</octave></pitch>"
                f"<duration>{duration}</duration><type>quarter</type></note>")

    def rest(duration):
        return f"<note><rest/><duration>{duration}</duration></note>"

    bars = [rest(3) + note("E", 4, 1, ["start"]),
            note("E", 4, 1, ["stop"]) + rest(2) + note("G", 4, 1),
            note("G", 4, 1) + rest(2) + note("C", 5, 1, ["start"]),
            note("C", 5, 4, ["stop", "start"]),
            note("C", 5, 1, ["stop"]) + rest(3)]
    attributes = ("<attributes><divisions>1</divisions><time><beats>4</beats>"
                  "<beat-type>4</beat-type></time><clef><sign>G</sign><line>2</line></clef>"
                  "</attributes>")
    measures = "".join(f'<measure number="{number}">{attributes if number == 1 else ""}'
                       f"{content}</measure>" for number, content in enumerate(bars, start=1))
    path.write_text('<?xml version="1.0" encoding="UTF-8"?>'
                    '<score-partwise version="3.1"><part-list><score-part id="P1">'
                    "<part-name>Solo</part-name></score-part></part-list>"
                    f'<part id="P1">{measures}</part></score-partwise>')
    return path


# ----------------------------------------------------------------- the Song

def test_a_tied_note_must_go_on_from_a_note_of_its_pitch_ending_on_the_bar_line():
    held = Measure(4, [Note(0, 1, 64, tied=True)])
    with pytest.raises(ValueError, match="measure 0: its tied note goes on from no note"):
        Song([held])                                            # nothing before it
    with pytest.raises(ValueError, match="no note of pitch 64"):
        Song([Measure(4, [Note(3, 1, 65)]), held])              # another pitch
    with pytest.raises(ValueError, match="no note of pitch 64"):
        Song([Measure(4, [Note(2, 1, 64)]), held])              # ends before the line
    assert Song([Measure(4, [Note(3, 1, 64)]), held]).measures[1].starts_tied
    with pytest.raises(ValueError, match="a tied note must have a pitch and start its bar"):
        Note(1, 1, 64, tied=True)
    with pytest.raises(ValueError, match="a tied note must have a pitch and start its bar"):
        Note(0, 1, None, tied=True)


def test_played_notes_join_a_held_note_and_keep_a_struck_one():
    assert [(note.pitch, note.time, note.end, note.bar, note.start)
            for note in played_notes(written_song().measures)] == [
        (64, 3, 5, 0, 3), (67, 7, 8, 1, 3), (67, 8, 9, 2, 0), (72, 11, 17, 2, 3)]
    # Bars taken out of the song: the note held into the first of them starts there.
    assert [(note.pitch, note.time, note.end) for note in played_notes(
        written_song().measures[3:])] == [(72, 0, 5)]


def test_detached_bars_strike_the_note_held_into_them():
    bars = detached(written_song().measures[3:])
    assert [note.tied for note in bars[0].notes] == [False]
    assert [note.tied for note in bars[1].notes] == [True, False]
    Song(bars)  # a valid song of its own


def test_evaluate_holds_out_bars_starting_with_a_held_note():
    # The written piece's bars 4 and 5 both start with the held C5.
    tail, label = _last_fifth(written_song())
    assert label == "bars 5-5" and bars_of(tail) == [[(0, 1, 72, False), (1, 3, None, False)]]
    after = _bars_after(written_song(), 3)
    assert bars_of(after) == [[(0, 4, 72, False)], WRITTEN_BARS[4]]


def test_notes_in_bars_cut_at_the_lines_and_tie_the_parts_after_them():
    bars = notes_in_bars([(start, end, pitch, 90)
                          for pitch, start, end in WRITTEN], [0, 4, 8, 12, 16, 20])
    assert [[(note.start, note.duration, note.pitch, note.tied) for note in bar]
            for bar in bars] == WRITTEN_BARS


# ------------------------------------------------- readers, grammar, writers

def read_encoded_decoded(path: Path, cache: Path) -> Song:
    """The written piece read from path, checked, encoded, checked, decoded, checked."""
    song = load_song(path, chords="Cmaj7", cache_dir=cache)
    assert bars_of(song) == WRITTEN_BARS
    assert load_song(path, chords="Cmaj7", cache_dir=cache) == song   # from the cache
    assert encode_song(song) == WRITTEN_TOKENS
    decoded = Song(decode_song(WRITTEN_TOKENS, [[CMAJ7]], 4), tempo=120)
    assert bars_of(decoded) == WRITTEN_BARS
    return decoded


def test_midi_read_encode_decode_write_keeps_held_and_struck_notes(tmp_path):
    decoded = read_encoded_decoded(written_midi(tmp_path / "piece.mid"), tmp_path / "cache")
    assert melody_notes_of_midi(song_to_midi_bytes(decoded)) == [
        (pitch, F(start), F(end)) for pitch, start, end in WRITTEN]


def test_musicxml_read_encode_decode_write_keeps_held_and_struck_notes(tmp_path):
    decoded = read_encoded_decoded(written_musicxml(tmp_path / "piece.musicxml"),
                                   tmp_path / "cache")
    written = song_to_musicxml_bytes(decoded)
    notes = [(note.findtext("pitch/step") + note.findtext("pitch/octave"),
              [tie.get("type") for tie in note.findall("tie")])
             for note in ElementTree.fromstring(written).iter("note") if note.find("rest") is None]
    assert notes == [("E4", ["start"]), ("E4", ["stop"]), ("G4", []), ("G4", []),
                     ("C5", ["start"]), ("C5", ["stop", "start"]), ("C5", ["stop"])]
    (tmp_path / "written.musicxml").write_bytes(written)
    again = load_song(tmp_path / "written.musicxml", chords="Cmaj7", cache_dir=tmp_path / "cache")
    assert bars_of(again) == WRITTEN_BARS


def test_the_classic_grammar_writes_a_held_note_as_a_tie_and_decodes_it_tied():
    # From the reference Bb4 (70): E4 is 6 down (window <-7,-3>), G4 3 up and C5 5 up
    # (<+3,+7>), the second G4 0 (<-2,+2>); all are chord tones of Cmaj7.
    token_bars = classic.encode_song(written_song())
    assert token_bars == [["R,3.000", "C,1.000,<-7,-3>"],
                          ["T,1.000", "R,2.000", "C,1.000,<+3,+7>"],
                          ["C,1.000,<-2,+2>", "R,2.000", "C,1.000,<+3,+7>"],
                          ["T,4.000"],
                          ["T,1.000", "R,3.000"]]
    for seed in range(5):
        measures = classic.decode_measures(token_bars, [[CMAJ7]], np.random.default_rng(seed))
        song = Song(measures)  # valid: each tied note goes on from its bar before's last
        shape = [[(start, duration, pitch is None, tied) for start, duration, pitch, tied in bar]
                 for bar in bars_of(song)]
        assert shape == [[(start, duration, pitch is None, tied)
                          for start, duration, pitch, tied in bar] for bar in WRITTEN_BARS]
        assert len(melody_notes_of_midi(song_to_midi_bytes(song))) == 4
    # A tie after a bar ending in a rest holds nothing; inside a bar it lengthens the note.
    measures = classic.decode_measures([["C,3.000,<-2,+2>", "R,1.000"], ["T,1.000", "C,1.000,<-2,+2>",
                                        "T,2.000"]], [[CMAJ7]], np.random.default_rng(0))
    assert [(note.start, note.duration, note.pitch is None, note.tied)
            for note in measures[1].notes] == [(0, 1, True, False), (1, 3, False, False)]


def test_a_held_note_is_one_sound_and_one_attack():
    song = written_song()
    melody = arrange(song)[0]
    assert [(sound.pitch, sound.start, sound.end) for sound in melody.sounds] == WRITTEN
    # The held E4 renders exactly as one note from 3 to 5 written in a single long bar.
    one_bar = Song([Measure(8, [Note(3, 2, 64)])], tempo=120)
    held = Song([Measure(4, [Note(3, 1, 64)]), Measure(4, [Note(0, 1, 64, tied=True)])],
                tempo=120)
    assert np.array_equal(render_samples(held, sample_rate=8000),
                          render_samples(one_bar, sample_rate=8000))
    struck = Song([Measure(4, [Note(3, 1, 64)]), Measure(4, [Note(0, 1, 64)])], tempo=120)
    assert not np.array_equal(render_samples(struck, sample_rate=8000),
                              render_samples(one_bar, sample_rate=8000))
    # The band plays the same whether the melody holds the note or strikes it again.
    held_band, struck_band = (arrange(Song([Measure(4, notes, [CMAJ7]) for notes in bars]),
                                      band="trio", swing=2, dynamics=True, seed=3)
                              for bars in ([[Note(3, 1, 64)], [Note(0, 1, 64, tied=True)]],
                                           [[Note(3, 1, 64)], [Note(0, 1, 64)]]))
    assert len(held_band[0].sounds) == 1 and len(struck_band[0].sounds) == 2
    assert held_band[1:] == struck_band[1:]


def test_the_piano_roll_draws_a_held_note_as_one_bar_with_the_bar_line_through_it():
    html = solo_html(written_song(), settings={})
    page = Elements(html)
    notes = [(int(note["data-pitch"]), round((float(note["x"]) - LABEL_WIDTH - 0.5) / QUARTER_WIDTH),
              round((float(note["width"]) + 1.5) / QUARTER_WIDTH), float(note["y"]))
             for note in page.with_class("note")]
    # Rows of four bars: C5 runs on into the second row, where it shows again from its edge.
    assert [note[:3] for note in notes] == [(64, 3, 2), (67, 7, 1), (67, 8, 1), (72, 11, 5),
                                            (72, 0, 1)]
    short_lines = {(round((float(line["x1"]) - LABEL_WIDTH) / QUARTER_WIDTH), float(line["y1"]))
                   for line in page.with_class("bar")
                   if float(line["y2"]) - float(line["y1"]) == SEMITONE_HEIGHT}
    y_of = {pitch: y for pitch, _, _, y in notes}
    assert short_lines == {(4, y_of[64]), (12, y_of[72])}
    # The legend counts four notes, all chord tones of Cmaj7.
    assert '<span class="count">4 (100%)</span>' in html


def test_a_sampled_tie_after_the_bar_line_is_one_midi_note():
    # As sampling hands the grammar its tokens: a G4 held to the line, then a tie.
    song = Exact().decode(["7=,24", "R,12", "7=,12", "|", "T,24", "R,24", "|"], [[CMAJ7]], 2,
                          (4, 4), 120)
    assert melody_notes_of_midi(song_to_midi_bytes(song)) == [(67, 0, 2), (67, 3, 6)]
    # A tie after a bar that ended in a rest holds nothing: a rest.
    song = Exact().decode(["7=,36", "R,12", "|", "T,24", "7=,24", "|"], [[CMAJ7]], 2,
                          (4, 4), 120)
    assert melody_notes_of_midi(song_to_midi_bytes(song)) == [(67, 0, 3), (67, 6, 8)]


# ------------------------------------------------------------------ WJazzD

def metrical_beats(row) -> F:
    """Where a WJazzD melody row starts in its bar, in beats."""
    return int(row["beat"]) - 1 + F(int(row["tatum"]) - 1, int(row["division"]))


def test_wjazzd_solos_written_to_midi_strike_each_csv_note_once():
    """Every solo: the MIDI melody's pitches are the CSV's, in order, each note
    struck once; only notes that share an onset on the reader's 1/12-quarter
    grid with an earlier note (a grace note, a fast quintuplet) are left out."""
    melody_folder = WJAZZD / "melody"
    if not melody_folder.is_dir():
        pytest.skip(f"{melody_folder} is absent (it lives in ../shared/data beside the repo)")
    songs = {Path(song.source).name: song for song in load_wjazzd_folder(WJAZZD)}
    for name, song in songs.items():
        with open(melody_folder / name, newline="") as handle:
            rows = list(csv.DictReader(handle))
        written = [pitch for pitch, _, _ in melody_notes_of_midi(song_to_midi_bytes(song))]
        expected = [int(row["pitch"]) for row in rows]
        # A left-out row lies within a grid step of its neighbour: in beats
        # (beat - 1 + (tatum - 1) / division) a step is denominator / 48 (a
        # quarter is 12 steps); the first step of a bar also takes the bar line.
        close = set()
        for index in range(1, len(rows)):
            row, before = rows[index], rows[index - 1]
            step = F(int(row["signature"].strip("\"' ").split("/")[1]), 48)
            if int(row["bar"]) == int(before["bar"]):
                near = metrical_beats(row) - metrical_beats(before) < step
            else:
                near = int(row["bar"]) == int(before["bar"]) + 1 and metrical_beats(row) < step
            if near:
                close |= {index - 1, index}
        kept = 0
        for index, pitch in enumerate(expected):
            if kept < len(written) and written[kept] == pitch:
                kept += 1
            else:
                assert index in close, f"{name}: CSV note {index + 1} (pitch {pitch}) missing"
        assert kept == len(written), f"{name}: {len(written) - kept} MIDI notes not in the CSV"
