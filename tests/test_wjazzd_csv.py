"""music.read.wjazzd_csv: WJazzD melody and beat-track CSVs to Songs.

Every test writes its own tiny CSVs; expected times are worked out by hand
from the metrical columns (a beat of x/4 is one quarter = 12 grid steps).
"""
import csv
from fractions import Fraction as F
from pathlib import Path

import pytest

from music.song import MusicError, Note
from music.read.wjazzd_csv import is_wjazzd_source, load_wjazzd_folder, load_wjazzd_solo

MELODY_HEADER = ["onset", "duration", "period", "division", "bar", "beat", "tatum",
                 "beat_duration", "signature", "pitch", "loud_max", "loud_median", "phrase_id",
                 "phrase_begin", "chorus_id", "chord", "form", "idea"]
BEAT_HEADER = ["onset", "duration", "period", "division", "bar", "beat", "signature", "chord",
               "form", "chorus_id", "bass"]


def note_row(bar, beat, pitch, *, tatum=1, division=1, seconds=0.25, onset=None,
             beat_duration=0.5, period=4, signature='"4/4"', chord="C7"):
    """A melody row; onset (seconds) defaults to a value consistent with the
    metre at 120 bpm, but the reader must not use it for placing notes."""
    if onset is None:
        onset = ((bar - 1) * period + beat - 1 + (tatum - 1) / division) * beat_duration + 10
    return [onset, seconds, period, division, bar, beat, tatum, beat_duration, signature,
            pitch, 0.5, 70.0, 1, 0, 1, chord, "A1", "line"]


def beat_row(bar, beat, chord, *, period=4, signature="'4/4'"):
    return [0.0, 0.5, period, 1, bar, beat, signature, chord, "A1", 1, 40]


def write_csv(path: Path, header, rows) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_solo(root: Path, name, notes, beats=None) -> Path:
    """melody/NAME_FINAL.csv and, with beats, beats/NAME_FINAL_beattrack.csv."""
    melody = write_csv(root / "melody" / f"{name}_FINAL.csv", MELODY_HEADER, notes)
    if beats is not None:
        write_csv(root / "beats" / f"{name}_FINAL_beattrack.csv", BEAT_HEADER, beats)
    return melody


def shape(measure):
    return [(note.start, note.duration, note.pitch) for note in measure.notes]


def chord_shape(measure):
    return [(chord.start, chord.duration, chord.symbol) for chord in measure.chords]


def test_onsets_come_from_the_metrical_columns_not_the_seconds(tmp_path):
    # Onsets in seconds all say 0: only bar, beat, tatum and division place notes.
    notes = [
        note_row(1, 1, 60, onset=0.0),                           # 0
        note_row(1, 2, 62, tatum=2, division=2, onset=0.0),      # 1 + 1/2
        note_row(1, 3, 64, tatum=2, division=3, onset=0.0),      # 2 + 1/3 (triplet)
        note_row(1, 4, 65, tatum=4, division=4, onset=0.0),      # 3 + 3/4
    ]
    song = load_wjazzd_solo(write_solo(tmp_path, "A_B", notes))
    # Durations: 0.25 s over a 0.5 s beat = half a quarter, cut at nothing here.
    assert shape(song.measures[0]) == [
        (0, F(1, 2), 60), (F(1, 2), 1, None), (F(3, 2), F(1, 2), 62), (2, F(1, 3), None),
        (F(7, 3), F(1, 2), 64), (F(17, 6), F(11, 12), None), (F(15, 4), F(1, 4), 65)]


def test_durations_use_the_local_beat_and_are_cut_at_the_next_onset(tmp_path):
    notes = [
        note_row(1, 1, 60, seconds=1.0, beat_duration=0.5),      # 2 quarters, cut at 1
        note_row(1, 2, 62, seconds=0.3, beat_duration=0.6),      # half a beat
        note_row(1, 3, 64, seconds=0.01, beat_duration=0.5),     # rounds to 0: one grid step
    ]
    song = load_wjazzd_solo(write_solo(tmp_path, "A_B", notes))
    assert shape(song.measures[0]) == [
        (0, 1, 60), (1, F(1, 2), 62), (F(3, 2), F(1, 2), None), (2, F(1, 12), 64),
        (F(25, 12), F(23, 12), None)]


def test_quintuplets_round_to_the_nearest_twelfth(tmp_path):
    # Tatums of a fifth of a beat: 2/5 beat = 4.8 steps -> 5/12; 4/5 = 9.6 -> 10/12.
    # Half a step (1/24 of a beat) rounds up: 2 + 1/12.
    notes = [note_row(1, 1, 60, tatum=3, division=5, seconds=0.05),
             note_row(1, 1, 62, tatum=5, division=5, seconds=0.05),
             note_row(1, 3, 64, tatum=2, division=24, seconds=0.05)]
    song = load_wjazzd_solo(write_solo(tmp_path, "A_B", notes))
    onsets = [(note.start, note.pitch) for note in song.measures[0].notes if not note.is_rest]
    assert onsets == [(F(5, 12), 60), (F(10, 12), 62), (F(25, 12), 64)]


def test_notes_colliding_on_the_grid_keep_the_earlier_in_seconds(tmp_path):
    # 1/48 and 1/36 of a beat both round to onset 0 of beat 2 (0.25 and 0.33 steps).
    notes = [note_row(1, 2, 70, tatum=2, division=48, onset=11.0),
             note_row(1, 2, 60, tatum=1, division=1, onset=11.5),
             note_row(1, 2, 65, tatum=2, division=36, onset=10.9)]
    song = load_wjazzd_solo(write_solo(tmp_path, "A_B", notes))
    assert [note.pitch for note in song.melody_notes] == [65]


def test_a_note_crossing_the_bar_line_is_split_and_held_over_it(tmp_path):
    notes = [note_row(1, 4, 60, seconds=1.0), note_row(2, 2, 62)]
    song = load_wjazzd_solo(write_solo(tmp_path, "A_B", notes))
    assert shape(song.measures[0]) == [(0, 3, None), (3, 1, 60)]
    assert shape(song.measures[1]) == [(0, 1, 60), (1, F(1, 2), 62), (F(3, 2), F(5, 2), None)]
    # The part past the line is tied: the player held the note, it is struck once.
    assert [note.tied for note in song.measures[1].notes] == [True, False, False]
    assert [(note.pitch, note.time, note.duration) for note in song.melody_notes] == [
        (60, 3, 2), (62, 5, F(1, 2))]


def test_a_note_struck_again_on_the_bar_line_is_not_tied(tmp_path):
    notes = [note_row(1, 4, 60, seconds=0.5), note_row(2, 1, 60)]
    song = load_wjazzd_solo(write_solo(tmp_path, "A_B", notes))
    assert shape(song.measures[1])[0] == (0, F(1, 2), 60)
    assert not song.measures[1].notes[0].tied
    assert [(note.pitch, note.time) for note in song.melody_notes] == [(60, 3), (60, 4)]


def test_pickup_bar_starts_with_a_rest_and_bars_keep_their_numbers(tmp_path):
    notes = [note_row(0, 3, 60, seconds=0.5), note_row(0, 4, 62, seconds=0.5),
             note_row(1, 1, 64, seconds=2.0)]
    beats = [beat_row(0, beat, "NC") for beat in (1, 2, 3, 4)] + [
        beat_row(1, beat, "Bb7") for beat in (1, 2, 3, 4)]
    song = load_wjazzd_solo(write_solo(tmp_path, "A_B", notes, beats))
    assert [measure.number for measure in song.measures] == [0, 1]
    assert shape(song.measures[0]) == [(0, 2, None), (2, 1, 60), (3, 1, 62)]
    assert song.measures[0].chords == ()
    assert chord_shape(song.measures[1]) == [(0, 4, "Bb7")]


def test_beat_track_chords_merge_and_no_chord_is_a_gap(tmp_path):
    notes = [note_row(1, 1, 60), note_row(2, 1, 62)]
    beats = [beat_row(1, 1, "C-7"), beat_row(1, 2, "C-7"), beat_row(1, 3, "NC"),
             beat_row(1, 4, "NC"), beat_row(2, 1, "F7"), beat_row(2, 2, "F7"),
             beat_row(2, 3, "F7"), beat_row(2, 4, "")]  # an empty cell continues F7
    song = load_wjazzd_solo(write_solo(tmp_path, "A_B", notes, beats))
    first, second = song.measures
    assert chord_shape(first) == [(0, 2, "C-7")]
    assert first.chord_at(F(5, 2)) is None
    assert first.chord_at(1).pitch_classes == (0, 3, 7, 10)
    assert chord_shape(second) == [(0, 4, "F7")]
    assert song.chord_source == "beat track"


def test_a_chord_held_across_the_bar_line_is_cut_into_each_bar(tmp_path):
    notes = [note_row(1, 1, 60), note_row(2, 4, 62)]
    beats = [beat_row(1, beat, "Dm7b5") for beat in (1, 2)] + [
        beat_row(1, beat, "G79b") for beat in (3, 4)] + [
        beat_row(2, beat, "G79b") for beat in (1, 2)]  # bar 2's last beats not tracked
    song = load_wjazzd_solo(write_solo(tmp_path, "A_B", notes, beats))
    assert chord_shape(song.measures[0]) == [(0, 2, "Dm7b5"), (2, 2, "G79b")]
    assert chord_shape(song.measures[1]) == [(0, 2, "G79b")]
    assert song.measures[1].chord_at(3) is None


def test_slash_chords_record_their_bass(tmp_path):
    notes = [note_row(1, 1, 60)]
    beats = [beat_row(1, beat, "C7/E") for beat in (1, 2)] + [
        beat_row(1, beat, "F-/Ab") for beat in (3, 4)]
    song = load_wjazzd_solo(write_solo(tmp_path, "A_B", notes, beats))
    c7, f_minor = song.measures[0].chords
    assert (c7.root, c7.bass, c7.pitch_classes) == (0, 4, (0, 4, 7, 10))
    assert (f_minor.root, f_minor.bass, f_minor.pitch_classes) == (5, 8, (0, 5, 8))


def test_three_four_solo(tmp_path):
    notes = [note_row(1, 1, 60, period=3, signature='"3/4"'),
             note_row(1, 3, 62, period=3, signature='"3/4"', tatum=2, division=2),
             note_row(2, 2, 64, period=3, signature='"3/4"')]
    beats = [beat_row(bar, beat, "Eb6", period=3, signature="'3/4'")
             for bar in (1, 2) for beat in (1, 2, 3)]
    song = load_wjazzd_solo(write_solo(tmp_path, "Waltz", notes, beats))
    assert song.time_signature == (3, 4)
    assert [measure.length for measure in song.measures] == [3, 3]
    assert shape(song.measures[0]) == [(0, F(1, 2), 60), (F(1, 2), 2, None),
                                       (F(5, 2), F(1, 2), 62)]
    assert shape(song.measures[1]) == [(0, 1, None), (1, F(1, 2), 64), (F(3, 2), F(3, 2), None)]
    assert chord_shape(song.measures[1]) == [(0, 3, "Eb6")]


def test_tempo_title_and_source(tmp_path):
    # Beat lengths 0.5, 0.5, 0.4 s: median 0.5 s a quarter = 120 bpm.
    notes = [note_row(1, 1, 60, beat_duration=0.5), note_row(1, 2, 62, beat_duration=0.5),
             note_row(1, 3, 64, beat_duration=0.4)]
    melody = write_solo(tmp_path, "ArtPepper_Anthropology", notes)
    song = load_wjazzd_solo(melody)
    assert song.tempo == 120.0
    assert song.title == "ArtPepper_Anthropology"
    assert song.source == str(melody)


def test_without_a_beat_track_chords_come_from_the_melody(tmp_path):
    notes = [note_row(1, 2, 60, chord="Bbj7"), note_row(1, 4, 62, chord="Bbj7"),
             note_row(2, 2, 64, chord="NC"), note_row(2, 3, 65, chord="Eb7")]
    song = load_wjazzd_solo(write_solo(tmp_path, "A_B", notes))
    # The first chord covers the song's start; each starts at its first note.
    assert chord_shape(song.measures[0]) == [(0, 4, "Bbj7")]
    assert chord_shape(song.measures[1]) == [(0, 1, "Bbj7"), (2, 2, "Eb7")]
    assert song.measures[1].chord_at(F(3, 2)) is None
    assert song.chord_source == "melody chord column"


def test_the_beat_track_beside_the_melody_folder_is_found(tmp_path):
    notes = [note_row(1, 1, 60, chord="C7")]
    beats = [beat_row(1, beat, "A-7") for beat in (1, 2, 3, 4)]
    melody = write_solo(tmp_path, "A_B", notes, beats)
    assert chord_shape(load_wjazzd_solo(melody).measures[0]) == [(0, 4, "A-7")]
    other = write_csv(tmp_path / "elsewhere.csv", BEAT_HEADER, [beat_row(1, 1, "D7")])
    assert chord_shape(load_wjazzd_solo(melody, other).measures[0]) == [(0, 1, "D7")]


@pytest.mark.parametrize("row, message", [
    (note_row(1, "x", 60, onset=10.0), "row 2: beat 'x' is not a whole number"),
    (note_row(1, 5, 60), "row 2: beat 5 is above the period 4"),
    (note_row(1, 1, 60, tatum=3, division=2), "row 2: tatum 3 is above the division 2"),
    (note_row(1, 1, 130), "row 2: pitch 130 is above 127"),
    (note_row(1, 1, 60, beat_duration=0), "row 2: beat_duration is 0"),
    (note_row(1, 1, 60, seconds="nan"), "row 2: duration nan is not a finite number >= 0"),
    (note_row(1, 1, 60, signature="four"), "row 2: signature 'four' is not like 4/4"),
    (note_row(1, 1, 60, chord="H7"), "row 2: chord symbol 'H7'"),
])
def test_bad_cells_name_the_file_and_row(tmp_path, row, message):
    melody = write_solo(tmp_path, "Bad", [row])
    with pytest.raises(MusicError, match=f"Bad_FINAL.csv: {message}"):
        load_wjazzd_solo(melody)


def test_bad_files_raise_one_line_naming_them(tmp_path):
    wrong = write_csv(tmp_path / "wrong.csv", ["a", "b"], [[1, 2]])
    with pytest.raises(MusicError, match=r"wrong.csv: not a WJazzD melody CSV \(no column onset"):
        load_wjazzd_solo(wrong)
    empty = write_csv(tmp_path / "empty.csv", MELODY_HEADER, [])
    with pytest.raises(MusicError, match="empty.csv: no notes"):
        load_wjazzd_solo(empty)
    with pytest.raises(MusicError, match="missing.csv: cannot be read"):
        load_wjazzd_solo(tmp_path / "missing.csv")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(MusicError, match="binary.csv"):
        load_wjazzd_solo(binary)
    melody = write_csv(tmp_path / "ok.csv", MELODY_HEADER, [note_row(1, 1, 60)])
    beats = write_csv(tmp_path / "beats.csv", BEAT_HEADER, [beat_row(1, 1, "C7x")])
    with pytest.raises(MusicError, match="beats.csv: row 2: chord symbol 'C7x'"):
        load_wjazzd_solo(melody, beats)


def test_folder_skips_a_bad_solo_and_names_it(tmp_path):
    write_solo(tmp_path, "A_Good", [note_row(1, 1, 60)])
    bad = write_solo(tmp_path, "B_Bad", [note_row(1, 9, 60)])
    write_solo(tmp_path, "C_Good", [note_row(1, 1, 62)], [beat_row(1, 1, "F7")])
    skipped = []
    songs = load_wjazzd_folder(tmp_path, on_skip=lambda label, reason: skipped.append(
        (label, reason)))
    assert [song.title for song in songs] == ["A_Good", "C_Good"]
    assert skipped == [(str(bad), f"{bad}: row 2: beat 9 is above the period 4")]
    assert [song.title for song in load_wjazzd_folder(tmp_path / "melody", on_skip=print)] == [
        "A_Good", "C_Good"]
    with pytest.raises(MusicError, match="B_Bad_FINAL.csv: row 2"):
        load_wjazzd_folder(tmp_path)


def test_folder_with_nothing_readable_raises(tmp_path):
    with pytest.raises(MusicError, match="holds no WJazzD melody CSVs"):
        load_wjazzd_folder(tmp_path)
    write_solo(tmp_path, "Bad", [note_row(1, 9, 60)])
    with pytest.raises(MusicError, match="no solo could be read; the first: .*beat 9"):
        load_wjazzd_folder(tmp_path, on_skip=lambda label, reason: None)


def test_is_wjazzd_source(tmp_path):
    melody = write_solo(tmp_path, "A_B", [note_row(1, 1, 60)])
    other = write_csv(tmp_path / "other.csv", ["a", "b"], [[1, 2]])
    midi = tmp_path / "song.mid"
    midi.write_bytes(b"MThd")
    assert is_wjazzd_source(melody)
    assert is_wjazzd_source(tmp_path)
    assert is_wjazzd_source(tmp_path / "melody")
    assert not is_wjazzd_source(other)
    assert not is_wjazzd_source(midi)
    assert not is_wjazzd_source(tmp_path / "absent.csv")
    assert not is_wjazzd_source(tmp_path / "beats")


def test_same_files_same_song(tmp_path):
    notes = [note_row(1, beat, 60 + beat, tatum=2, division=3) for beat in (1, 2, 3, 4)]
    melody = write_solo(tmp_path, "A_B", notes, [beat_row(1, 1, "C7")])
    assert load_wjazzd_solo(melody) == load_wjazzd_solo(melody)


WJAZZD = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "wjazzd"


def test_real_solo_first_bar():
    melody = WJAZZD / "melody" / "ArtPepper_Anthropology_FINAL.csv"
    if not melody.exists():
        pytest.skip(f"{melody} is absent (it lives in ../shared/data beside the repo)")
    song = load_wjazzd_solo(melody)
    # From the file's first rows: bar 0, beat 1 (0.139 s of a 0.292 s beat
    # = 6 steps), beat 2 (0.171 s of 0.287 s = 7 steps), beat 2 tatum 4/4 ...
    pickup = song.measures[0]
    assert pickup.number == 0 and song.chord_source == "beat track"
    assert pickup.notes[:3] == (Note(0, F(1, 2), 65), Note(F(1, 2), F(1, 2)),
                                Note(1, F(7, 12), 63))
    assert chord_shape(pickup) == [(0, 4, "Bb6")]


def test_a_blank_line_inside_is_refused_but_blank_lines_at_the_end_are_not(tmp_path):
    melody = write_csv(tmp_path / "solo.csv", MELODY_HEADER, [note_row(1, 1, 60)])
    with open(melody, "a") as handle:
        handle.write("\n\n")
    assert len(load_wjazzd_solo(melody).melody_notes) == 1
    with open(melody, "a") as handle:
        handle.write(",".join(str(cell) for cell in note_row(1, 2, 62)) + "\n")
    with pytest.raises(MusicError, match="solo.csv: row 3: has 0 cells, not 18"):
        load_wjazzd_solo(melody)


def test_a_corrupt_bar_number_is_refused_not_padded_with_empty_bars(tmp_path):
    melody = write_solo(tmp_path, "Far", [note_row(1, 1, 60), note_row(30001, 1, 62, onset=99.0)])
    with pytest.raises(MusicError, match=r"Far_FINAL.csv: notes in bars 1..30001, more than"):
        load_wjazzd_solo(melody)
