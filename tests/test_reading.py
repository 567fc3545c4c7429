"""music.read.scores: files in, Song out.

The MIDI files are built here with mido, so every expected value below is
written down by hand from the notes that were put in.
"""
import os
import shutil
import subprocess
import sys
import time
from fractions import Fraction as F
from pathlib import Path

import mido
import pytest

from music.read import scores as reading
from music.read.scores import load_song, load_songs
from music.song import MusicError

TICKS_PER_QUARTER = 480


def write_midi(path, tracks, *, bpm=120, time_signature=(4, 4)):
    """Write a type-1 MIDI file.

    tracks: list of (name, channel, program, notes), notes being
            (start, duration, pitch) with start and duration in quarter
            lengths (Fractions are fine: 1/3 of a quarter is 160 ticks)
    """
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_QUARTER)
    conductor = mido.MidiTrack([
        mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0),
        mido.MetaMessage("time_signature", numerator=time_signature[0],
                         denominator=time_signature[1], time=0),
        mido.MetaMessage("end_of_track", time=0),
    ])
    midi.tracks.append(conductor)
    for name, channel, program, notes in tracks:
        events = []
        for start, duration, pitch in notes:
            on = int(F(start) * TICKS_PER_QUARTER)
            off = int((F(start) + F(duration)) * TICKS_PER_QUARTER)
            # At equal ticks the note-off goes first so that repeated notes re-attack.
            events.append((on, 1, mido.Message("note_on", channel=channel, note=pitch,
                                               velocity=80)))
            events.append((off, 0, mido.Message("note_off", channel=channel, note=pitch,
                                                velocity=0)))
        events.sort(key=lambda event: (event[0], event[1]))
        track = mido.MidiTrack([mido.MetaMessage("track_name", name=name, time=0)])
        if channel != 9:
            track.append(mido.Message("program_change", channel=channel, program=program, time=0))
        now = 0
        for tick, _, message in events:
            track.append(message.copy(time=tick - now))
            now = tick
        track.append(mido.MetaMessage("end_of_track", time=0))
        midi.tracks.append(track)
    midi.save(str(path))
    return path


def whole_note_chords(bars_of_pitches, bar_length=4):
    """Pad notes: one chord held through each bar."""
    return [(bar * bar_length, bar_length, pitch)
            for bar, pitches in enumerate(bars_of_pitches) for pitch in pitches]


# Bar 1: quarter, two eighths, an eighth-note triplet, a quarter rest.
# Bar 2: a quarter rest, then a note of 4 quarters crossing into bar 3.
HAND_MELODY = [
    (0, 1, 72), (1, F(1, 2), 74), (F(3, 2), F(1, 2), 76),
    (2, F(1, 3), 77), (F(7, 3), F(1, 3), 79), (F(8, 3), F(1, 3), 81),
    (5, 4, 71),
]
CMAJ7, DM7, G7 = (48, 52, 55, 59), (50, 53, 57, 60), (43, 47, 50, 53)


@pytest.fixture
def hand_song_path(tmp_path):
    return write_midi(tmp_path / "hand.mid", [
        ("Lead", 0, 65, HAND_MELODY),
        ("Pad", 1, 89, whole_note_chords([CMAJ7, DM7, G7])),
    ], bpm=100)


def as_tuples(notes):
    return [(note.start, note.duration, note.pitch) for note in notes]


def test_hand_built_midi_reads_back_into_measures(hand_song_path):
    song = load_song(hand_song_path)
    assert song.tempo == 100
    assert song.time_signature == (4, 4)
    assert song.source == str(hand_song_path)
    assert (song.melody_part, song.chord_source) == ("0 (Lead)", "parts 1 (Pad)")
    assert [measure.length for measure in song.measures] == [4, 4, 4]
    assert [measure.number for measure in song.measures] == [1, 2, 3]

    first, second, third = song.measures
    assert as_tuples(first.notes) == [
        (0, 1, 72), (1, F(1, 2), 74), (F(3, 2), F(1, 2), 76),
        (2, F(1, 3), 77), (F(7, 3), F(1, 3), 79), (F(8, 3), F(1, 3), 81),
        (3, 1, None)]
    assert all(isinstance(note.start, F) and isinstance(note.duration, F) for note in first.notes)
    # The long note is split at the bar line.
    assert as_tuples(second.notes) == [(0, 1, None), (1, 3, 71)]
    assert as_tuples(third.notes) == [(0, 1, 71), (1, 3, None)]


def test_hand_built_midi_chords(hand_song_path):
    song = load_song(hand_song_path)
    chords = [measure.chords for measure in song.measures]
    assert [len(bar_chords) for bar_chords in chords] == [1, 1, 1]
    cmaj7, dm7, g7 = (bar_chords[0] for bar_chords in chords)
    assert (cmaj7.start, cmaj7.duration) == (0, 4)
    assert (cmaj7.root, cmaj7.pitch_classes) == (0, (0, 4, 7, 11))
    assert (dm7.root, dm7.pitch_classes) == (2, (0, 2, 5, 9))
    assert (g7.root, g7.pitch_classes) == (7, (2, 5, 7, 11))
    assert cmaj7.symbol == "Cmaj7"
    assert dm7.symbol == "Dm7"
    assert g7.symbol == "G7"


def test_chord_change_at_half_bar_and_carry_forward(tmp_path):
    pad = [(0, 2, pitch) for pitch in CMAJ7] + [(2, 2, pitch) for pitch in G7]
    path = write_midi(tmp_path / "halves.mid", [
        ("Lead", 0, 65, [(0, 8, 76)]),
        ("Pad", 1, 89, pad),  # silent in bar 2
    ])
    first, second = load_song(path).measures
    assert [(chord.start, chord.duration, chord.root) for chord in first.chords] == [
        (0, 2, 0), (2, 2, 7)]
    assert [(chord.start, chord.duration, chord.root, chord.pitch_classes)
            for chord in second.chords] == [(0, 4, 7, (2, 5, 7, 11))]


def test_melody_detected_over_bass_and_pad(tmp_path):
    walking_bass = [(beat, 1, 36 + (beat * 5) % 12) for beat in range(16)]
    melody = [(beat * 2, 2, pitch) for beat, pitch in enumerate([76, 79, 77, 74, 72, 76, 79, 84])]
    path = write_midi(tmp_path / "trio.mid", [
        ("Bass", 1, 32, walking_bass),
        ("Pad", 2, 89, whole_note_chords([CMAJ7, DM7, G7, CMAJ7])),
        ("Melody", 0, 65, melody),
    ])
    song = load_song(path)
    assert [note.pitch for note in song.melody_notes] == [76, 79, 77, 74, 72, 76, 79, 84]
    assert all(measure.chords for measure in song.measures)


def test_melody_part_override_by_index_and_name(tmp_path):
    walking_bass = [(beat, 1, 36 + beat % 5) for beat in range(8)]
    path = write_midi(tmp_path / "override.mid", [
        ("Bass", 1, 32, walking_bass),
        ("Pad", 2, 89, whole_note_chords([CMAJ7, DM7])),
        ("Melody", 0, 65, [(0, 4, 76), (4, 4, 77)]),
    ])
    expected = [36, 37, 38, 39, 40, 36, 37, 38]
    assert [note.pitch for note in load_song(path, melody_part=0).melody_notes] == expected
    assert [note.pitch for note in load_song(path, melody_part="bass").melody_notes] == expected


def test_chord_parts_override(tmp_path):
    path = write_midi(tmp_path / "chordparts.mid", [
        ("Melody", 0, 65, [(0, 4, 76)]),
        ("Pad", 1, 89, whole_note_chords([CMAJ7])),
        ("Other", 2, 89, whole_note_chords([G7])),
    ])
    (measure,) = load_song(path, melody_part="Melody", chord_parts=["Other"]).measures
    assert [(chord.root, chord.pitch_classes) for chord in measure.chords] == [(7, (2, 5, 7, 11))]


def test_polyphonic_melody_reduces_to_top_line(tmp_path):
    melody = [
        # a three-note chord: only its top note counts
        (0, 1, 72), (0, 1, 76), (0, 1, 79),
        # a held top note with an inner note under it, which is dropped
        (1, 2, 84), (F(3, 2), F(1, 2), 76),
        # two notes together: the higher one
        (3, 1, 74), (3, 1, 77),
        # legato overlap: the first note is cut where the next one starts
        (4, F(5, 4), 79), (5, 1, 77),
        # a lower note outlasting the note above it continues the line
        (6, 1, 81), (F(13, 2), F(3, 2), 74),
    ]
    path = write_midi(tmp_path / "poly.mid", [
        ("Lead", 0, 0, melody),
        ("Pad", 1, 89, whole_note_chords([CMAJ7, CMAJ7])),
    ])
    first, second = load_song(path, melody_part="Lead").measures
    assert as_tuples(first.notes) == [(0, 1, 79), (1, 2, 84), (3, 1, 77)]
    assert as_tuples(second.notes) == [
        (0, 1, 79), (1, 1, 77), (2, F(1, 2), 81), (F(5, 2), F(3, 2), 74)]


def test_lead_sheet_chords_come_from_symbols():
    song = load_song("music21:leadSheet/berlinAlexandersRagtime.xml")
    measures = song.measures
    assert song.source == "music21:leadSheet/berlinAlexandersRagtime.xml"
    assert song.chord_source == "chord symbols"
    # The symbols of bars 2..6 are F, (none), C7, F, Bb; bar 3 carries F on.
    expected = [("F", 5, (0, 5, 9)), ("F", 5, (0, 5, 9)), ("C7", 0, (0, 4, 7, 10)),
                ("F", 5, (0, 5, 9)), ("B-", 10, (2, 5, 10))]
    got = [(chord.symbol, chord.root, chord.pitch_classes)
           for measure in measures[1:6] for chord in measure.chords]
    assert got == expected
    assert all(measure.chords for measure in measures)
    assert len(song.melody_notes) > 100


def test_bars_range_keeps_numbers(hand_song_path):
    song = load_song(hand_song_path, bars=(2, 3))
    assert [measure.number for measure in song.measures] == [2, 3]
    assert as_tuples(song.measures[0].notes) == [(0, 1, None), (1, 3, 71)]
    assert song.measures[0].chords[0].root == 2


@pytest.mark.parametrize("bars", [(0, 2), (2, 1), (3, 4), "1-2"])
def test_bad_bars_range(hand_song_path, bars):
    with pytest.raises(MusicError, match="hand.mid: bars"):
        load_song(hand_song_path, bars=bars)


def test_folder_loads_sorted_recursively(tmp_path):
    tracks = [("Lead", 0, 65, [(0, 4, 76)]), ("Pad", 1, 89, whole_note_chords([CMAJ7]))]
    for name in ["b.mid", "a.midi", "sub/c.mid", "10.mid"]:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        write_midi(tmp_path / name, tracks)
    (tmp_path / "notes.txt").write_text("not music")
    songs = load_songs([tmp_path])
    assert [Path(song.source).relative_to(tmp_path).as_posix() for song in songs] == [
        "10.mid", "a.midi", "b.mid", "sub/c.mid"]
    with pytest.raises(MusicError, match="holds 4 songs"):
        load_song(tmp_path)


ABC_TWO_TUNES = """X:1
T:First Tune
M:4/4
L:1/4
Q:1/4=90
K:C
"C"c d e f|"G7"g f e d|]

X:2
T:Second Tune
M:3/4
L:1/4
K:G
"G"G A B|"D7"A2 F|]
"""


def test_abc_file_with_two_tunes(tmp_path):
    path = tmp_path / "tunes.abc"
    path.write_text(ABC_TWO_TUNES)
    first, second = load_songs(path)
    assert (first.title, second.title) == ("First Tune", "Second Tune")
    assert first.tempo == 90 and second.tempo == 120
    assert second.time_signature == (3, 4)
    assert [note.pitch for note in first.melody_notes] == [72, 74, 76, 77, 79, 77, 76, 74]
    assert [[chord.symbol for chord in measure.chords] for measure in first.measures] == [
        ["C"], ["G7"]]
    assert [[(note.start, note.duration, note.pitch) for note in measure.notes]
            for measure in second.measures] == [
        [(0, 1, 67), (1, 1, 69), (2, 1, 71)], [(0, 2, 69), (2, 1, 66)]]
    with pytest.raises(MusicError, match="holds 2 songs"):
        load_song(path)


def test_importing_reading_does_not_import_music21():
    code = "import sys, music.read.scores; print('music21' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[1], check=True)
    assert result.stdout.strip() == "False"


def test_metheny_picks_the_guitar_part(metheny_song):
    # The course took part 5 of music21's parse, the guitar (tests/test_midi_reading.py
    # checks that the parts are numbered as music21 numbers them).
    assert metheny_song.melody_part == "5 (Guitar)"
    # Drums (parts 10..18) and the guitar itself give no harmony.
    assert metheny_song.chord_source == (
        "parts 0 (Piano), 1 (Bass), 2 (Organ), 3 (String), 4 (Piano Elec.), 6 (Trumpet), "
        "7 (French Horn), 8 (Syn), 9 (Synth Brass)")


def test_metheny_is_sane(metheny_song):
    measures = metheny_song.measures
    assert len(measures) == 217
    assert all(measure.length == 4 for measure in measures)
    assert metheny_song.tempo == 112
    assert sum(1 for measure in measures if measure.chords) >= 0.95 * len(measures)
    assert 800 < len(metheny_song.melody_notes) < 1400
    # The guitar plays in its upper-middle register.
    pitches = [note.pitch for note in metheny_song.melody_notes]
    assert 60 < sum(pitches) / len(pitches) < 76


def test_musicxml_ties_join_within_a_bar_and_split_at_bar_lines(tmp_path):
    from music21 import chord, harmony, meter, note, stream, tie

    def tied(pitch, quarter_length, tie_type):
        tied_note = note.Note(pitch, quarterLength=quarter_length)
        tied_note.tie = tie.Tie(tie_type)
        return tied_note

    melody = stream.Part(id="Voice")
    melody.partName = "Voice"
    first_bar, second_bar = stream.Measure(number=1), stream.Measure(number=2)
    first_bar.append(meter.TimeSignature("3/4"))
    first_bar.insert(0, harmony.ChordSymbol("Dm7"))
    # A quarter tied to an eighth is one dotted quarter.
    first_bar.append([tied("E5", 1, "start"), tied("E5", 0.5, "stop"),
                      note.Note("F5", quarterLength=0.5), tied("G5", 1, "start")])
    second_bar.insert(0, harmony.ChordSymbol("G7"))
    second_bar.append([tied("G5", 1, "stop"), note.Rest(quarterLength=2)])
    melody.append([first_bar, second_bar])
    piano = stream.Part(id="Piano")
    piano.partName = "Piano"
    for number in (1, 2):
        bar = stream.Measure(number=number)
        bar.append(chord.Chord(["C3", "E3", "G3"], quarterLength=3))
        piano.append(bar)
    path = tmp_path / "tied.musicxml"
    stream.Score([melody, piano]).write("musicxml", fp=str(path))

    song = load_song(path, melody_part="Voice")
    assert song.time_signature == (3, 4)
    first, second = song.measures
    assert first.length == 3
    assert as_tuples(first.notes) == [(0, F(3, 2), 76), (F(3, 2), F(1, 2), 77), (2, 1, 79)]
    assert as_tuples(second.notes) == [(0, 1, 79), (1, 2, None)]
    # Chord symbols win over the piano part.
    assert [[chord.symbol for chord in measure.chords] for measure in song.measures] == [
        ["Dm7"], ["G7"]]


def test_on_skip_reports_and_leaves_out_unreadable_files(tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    good = load_song("music21:leadSheet/fosterBrownHair.mxl")
    (folder / "b_broken.mid").write_text("not a MIDI file")
    from music21 import corpus
    shutil.copy(corpus.getWork("leadSheet/fosterBrownHair.mxl"), folder / "a_good.mxl")
    skipped = []
    songs = load_songs([folder], on_skip=lambda label, reason: skipped.append((label, reason)))
    assert len(songs) == 1 and len(songs[0].measures) == len(good.measures)
    assert len(skipped) == 1 and skipped[0][0].endswith("b_broken.mid")
    assert "b_broken.mid" in skipped[0][1]
    with pytest.raises(MusicError, match="b_broken.mid"):
        load_songs([folder])
    with pytest.raises(MusicError, match="b_broken.mid"):
        load_songs([folder / "b_broken.mid"], on_skip=lambda label, reason: None)
    (folder / "a_good.mxl").unlink()
    with pytest.raises(MusicError, match="no file could be read"):
        load_songs([folder], on_skip=lambda label, reason: None)


# ------------------------------------------------------------ cache, workers

def test_a_second_read_comes_from_the_cache_whatever_the_file_name(hand_song_path, tmp_path,
                                                                   monkeypatch):
    cache = tmp_path / "cache"
    first = load_song(hand_song_path, cache_dir=cache)
    assert len(list((cache / "songs").glob("*.json"))) == 1

    def no_parsing(*args):
        raise AssertionError("parsed although cached")
    monkeypatch.setattr(reading, "_plain_scores_of_file", no_parsing)
    assert load_song(hand_song_path, cache_dir=cache) == first
    copy = tmp_path / "copy.mid"
    shutil.copy(hand_song_path, copy)
    again = load_song(copy, cache_dir=cache)
    assert again.measures == first.measures
    assert (again.source, again.title, first.title) == (str(copy), "copy", "hand")
    # Other options are another entry: this one must be parsed.
    with pytest.raises(AssertionError, match="parsed although cached"):
        load_song(hand_song_path, cache_dir=cache, bars=(1, 2))


def test_a_damaged_song_cache_entry_is_read_again(hand_song_path, tmp_path):
    cache = tmp_path / "cache"
    first = load_song(hand_song_path, cache_dir=cache)
    (entry,) = (cache / "songs").glob("*.json")
    entry.write_bytes(b"not JSON")
    assert load_song(hand_song_path, cache_dir=cache) == first
    assert entry.read_bytes() != b"not JSON"


def wait_then_return(index, seconds):
    time.sleep(seconds)
    return index, os.getpid()


def test_workers_finishing_in_any_order_give_results_in_call_order():
    calls = [(index, 0.3 - 0.1 * index) for index in range(3)]   # the last finishes first
    results = reading.read_in_parallel(wait_then_return, calls, progress=False)
    assert [index for index, _ in results] == [0, 1, 2]
    if (os.cpu_count() or 1) > 1:
        assert all(pid != os.getpid() for _, pid in results)


def test_a_folder_read_by_workers_equals_one_read_at_a_time(tmp_path, monkeypatch):
    folder = tmp_path / "songs"
    folder.mkdir()
    for number in range(3):
        melody = [(beat, 1, 72 + number + beat % 3) for beat in range(8)]
        write_midi(folder / f"{number}.mid",
                   [("Lead", 0, 65, melody), ("Pad", 1, 89, whole_note_chords([CMAJ7, G7]))])
    (folder / "3_broken.mid").write_bytes(b"MThd")
    skipped = []
    pooled = load_songs(folder, cache_dir=tmp_path / "a",
                        on_skip=lambda *entry: skipped.append(entry))
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    alone = load_songs(folder, cache_dir=tmp_path / "b", on_skip=lambda *entry: None)
    assert pooled == alone
    assert [song.source for song in pooled] == [str(folder / f"{n}.mid") for n in range(3)]
    assert [label for label, _ in skipped] == [str(folder / "3_broken.mid")]


def printed_by_two_fresh_pythons(code: str) -> list:
    """The words ``code`` prints in each of two fresh Pythons run one after the other
    in the repository (the second one meets the caches the first one left)."""
    return [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           cwd=Path(__file__).resolve().parents[1], check=True).stdout.split()
            for _ in range(2)]


def test_a_cached_song_needs_neither_music21_nor_parsing(hand_song_path, tmp_path):
    code = ("import sys; from music.read.scores import load_song; "
            f"song = load_song({str(hand_song_path)!r}, cache_dir={str(tmp_path)!r}); "
            "print(len(song.measures), 'music21' in sys.modules)")
    runs = printed_by_two_fresh_pythons(code)
    # The first read names the pad's chords with music21; the second is all cache.
    assert runs == [["3", "True"], ["3", "False"]]
