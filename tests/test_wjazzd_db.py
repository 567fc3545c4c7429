"""music.read.wjazzd_db: the Weimar Jazz Database's SQLite file to Songs,
annotations, and choosing solos with --where.

Every test writes its own small database in MeloSpy's schema (columns in
another order than MeloSpy writes them, with columns the reader does not
use, so that only names can find them); expected Songs are worked out by
hand from the metrical columns (a beat of x/4 is one quarter).
"""
import csv
import json
import sqlite3
from dataclasses import replace
from fractions import Fraction as F
from pathlib import Path

import pytest

from music.read.wjazzd_csv import load_wjazzd_folder, load_wjazzd_solo
from music.read.wjazzd_db import load_wjazzd_database, parse_selection
from music.song import Annotations, MusicError, Span
from tests.test_cli import run_cli

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

SCHEMA = """
CREATE TABLE melody(melid INTEGER, f0_mod TEXT, denom INTEGER, num INTEGER, pitch REAL,
    beatdur REAL, tatum INTEGER, beat INTEGER, bar INTEGER, division INTEGER, period INTEGER,
    duration REAL, onset REAL, loud_max REAL, eventid INTEGER PRIMARY KEY AUTOINCREMENT);
CREATE TABLE beats(chorus_id INTEGER, bass_pitch INTEGER, form TEXT, chord TEXT,
    signature TEXT, beat INTEGER, bar INTEGER, onset REAL, melid INTEGER,
    beatid INTEGER PRIMARY KEY AUTOINCREMENT);
CREATE TABLE sections(value TEXT, end INTEGER, start INTEGER, type TEXT, melid INTEGER);
CREATE TABLE melody_type(type TEXT, melid INTEGER);
CREATE TABLE solo_info(chorus_count INTEGER, signature TEXT, key TEXT, rhythmfeel TEXT,
    tempoclass TEXT, avgtempo FLOAT, style TEXT, instrument TEXT, titleaddon TEXT, title TEXT,
    performer TEXT, melid INTEGER);
CREATE TABLE transcription_info(status TEXT, filename_sv TEXT, melid INTEGER);
CREATE TABLE esac_info(melid INTEGER, collection TEXT, title TEXT);
CREATE TABLE db_info(name TEXT, major INTEGER, minor INTEGER);
"""

# Solo A, 4/4 at 120 bpm (beats of 0.5 s): (bar, beat, tatum, division, pitch, seconds)
NOTES_A = [(0, 4, 1, 1, 67, 0.5),     # pickup, a quarter
           (1, 1, 1, 1, 69, 0.25),    # eighth
           (1, 1, 2, 2, 71, 0.25),    # eighth on the and of 1
           (1, 3, 1, 1, 72, 2.0),     # four quarters across the bar line
           (2, 3, 2, 3, 74, 0.1),     # a triplet eighth's place, 0.2 beat -> 2 steps
           (3, 1, 1, 1, 60, 0.5)]
# (bar, beat, signature, chord, form, chorus_id): signature, chord and form only where they change
BEATS_A = [(0, 1, "", "NC", "I1", 0), (0, 2, "", "", "", 0), (0, 3, "", "", "", 0),
           (0, 4, "", "", "", 0),
           (1, 1, "4/4", "Bb6", "A1", 1), (1, 2, "", "", "", 1), (1, 3, "", "G7/B", "", 1),
           (1, 4, "", "", "", 1),
           (2, 1, "", "C-7", "A2", 1), (2, 2, "", "", "", 1), (2, 3, "", "F7", "", 1),
           (2, 4, "", "", "", 1),
           (3, 1, "", "Bb6", "A1", 2), (3, 2, "", "", "", 2), (3, 3, "", "NC", "", 2),
           (3, 4, "", "", "", 2)]
SECTIONS_A = [("PHRASE", 0, 0, "1"), ("PHRASE", 1, 4, "2"), ("PHRASE", 5, 5, "3"),
              ("IDEA", 0, 2, "lick"), ("IDEA", 3, 5, "line"),
              ("CHORUS", 0, 0, "0"), ("CHORUS", 1, 4, "1"), ("CHORUS", 5, 5, "2"),
              ("FORM", 0, 0, "I1"), ("FORM", 1, 2, "A1"), ("FORM", 3, 4, "A2"),
              ("FORM", 5, 5, "A1"),
              ("CHORD", 0, 0, "NC"), ("CHORD", 1, 3, "Bb6"), ("CHORD", 4, 4, "C-7"),
              ("CHORD", 5, 5, "Bb6")]
# Solo B, 3/4 at 150 bpm (beats of 0.4 s), no beat track: chords from CHORD sections.
NOTES_B = [(1, 1, 1, 1, 62, 0.4), (1, 3, 1, 1, 65, 0.4), (2, 2, 1, 1, 69, 0.8)]
SECTIONS_B = [("PHRASE", 0, 2, "1"), ("CHORUS", 0, 2, "1"), ("FORM", 0, 2, "A1"),
              ("CHORD", 0, 1, "D-7"), ("CHORD", 2, 2, "G7")]

INFO_FIELDS = ("performer", "title", "instrument", "style", "tempoclass", "rhythmfeel", "key",
               "signature")
SOLOS = [  # melid, file name, info, notes, metre, beat seconds, beats, sections
    (3, "CharlieParker_DonnaLee_FINAL.sv",
     ("Charlie Parker", "Donna Lee", "as", "BEBOP", "UP", "SWING", "Ab-maj", "4/4"),
     NOTES_A, (4, 4), 0.5, BEATS_A, SECTIONS_A),
    (1, "SonnyRollins_Airegin_FINAL.sv",
     ("Sonny Rollins", "Airegin", "ts", "HARDBOP", "MEDIUM", "LATIN", "F-min", "3/4"),
     NOTES_B, (3, 4), 0.4, [], SECTIONS_B),
    (2, "CharlieParker_Ornithology_FINAL.sv",
     ("Charlie Parker", "Ornithology", "ts", "BEBOP", "MEDIUM", "SWING", "G-maj", "4/4"),
     NOTES_A, (4, 4), 0.5, BEATS_A, SECTIONS_A),
]


def write_database(path: Path, solos=SOLOS, *, melody_type="SOLO", schema=SCHEMA) -> Path:
    connection = sqlite3.connect(path)
    connection.executescript(schema)
    for melid, file_name, info, notes, (num, denom), beat_seconds, beats, sections in solos:
        for index, (bar, beat, tatum, division, pitch, seconds) in enumerate(notes):
            connection.execute(
                "INSERT INTO melody (melid, onset, pitch, duration, period, division, bar, beat,"
                " tatum, num, denom, beatdur) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (melid, 10.0 + index, float(pitch), seconds, num, division, bar, beat, tatum,
                 num, denom, beat_seconds))
        for bar, beat, signature, chord, form, chorus in beats:
            connection.execute(
                "INSERT INTO beats (melid, onset, bar, beat, signature, chord, form, chorus_id)"
                " VALUES (?,?,?,?,?,?,?,?)", (melid, 0.0, bar, beat, signature, chord, form,
                                              chorus))
        connection.executemany("INSERT INTO sections (melid, type, start, end, value) "
                               "VALUES (?,?,?,?,?)",
                               [(melid, *section) for section in sections])
        connection.execute("INSERT INTO melody_type (melid, type) VALUES (?, ?)",
                           (melid, melody_type))
        connection.execute(f"INSERT INTO solo_info (melid, {', '.join(INFO_FIELDS)}) "
                           "VALUES (?,?,?,?,?,?,?,?,?)", (melid, *info))
        connection.execute("INSERT INTO transcription_info (melid, filename_sv) VALUES (?, ?)",
                           (melid, file_name))
    connection.commit()
    connection.close()
    return path


@pytest.fixture
def database(tmp_path):
    return write_database(tmp_path / "wjazzd.db")


def shape(measure):
    return [(note.start, note.duration, note.pitch) for note in measure.notes]


def chord_shape(measure):
    return [(chord.start, chord.duration, chord.symbol, chord.bass) for chord in measure.chords]


def test_solos_come_in_file_name_order_with_their_metadata(database):
    songs = load_wjazzd_database(database)
    assert [song.title for song in songs] == ["Donna Lee", "Ornithology", "Airegin"]
    assert [song.source for song in songs] == [f"{database}#3", f"{database}#2", f"{database}#1"]
    info = songs[2].info
    assert (info.performer, info.title, info.instrument, info.style, info.tempo_class,
            info.rhythm_feel, info.key, info.signature) == SOLOS[1][2]


def test_notes_bars_and_chords_of_a_four_four_solo_with_a_pickup(database):
    song = load_wjazzd_database(database)[0]
    assert [measure.number for measure in song.measures] == [0, 1, 2, 3]
    assert song.tempo == pytest.approx(120.0) and song.time_signature == (4, 4)
    assert shape(song.measures[0]) == [(0, 3, None), (3, 1, 67)]
    assert shape(song.measures[1]) == [(0, F(1, 2), 69), (F(1, 2), F(1, 2), 71),
                                       (1, 1, None), (2, 2, 72)]
    assert shape(song.measures[2]) == [(0, 2, 72), (2, F(1, 3), None),
                                       (F(7, 3), F(1, 6), 74), (F(5, 2), F(3, 2), None)]
    assert shape(song.measures[3]) == [(0, 1, 60), (1, 3, None)]
    # NC is no chord; an empty chord cell continues the one before; G7/B keeps its bass B.
    assert chord_shape(song.measures[0]) == []
    assert chord_shape(song.measures[1]) == [(0, 2, "Bb6", None), (2, 2, "G7/B", 11)]
    assert chord_shape(song.measures[2]) == [(0, 2, "C-7", None), (2, 2, "F7", None)]
    assert chord_shape(song.measures[3]) == [(0, 2, "Bb6", None)]
    assert song.chord_source == "beat track"


def test_a_three_four_solo_without_beats_takes_its_chords_from_the_chord_sections(database):
    song = load_wjazzd_database(database)[2]
    assert song.time_signature == (3, 4) and song.tempo == pytest.approx(150.0)
    assert [measure.length for measure in song.measures] == [3, 3]
    assert shape(song.measures[0]) == [(0, 1, 62), (1, 1, None), (2, 1, 65)]
    assert shape(song.measures[1]) == [(0, 1, None), (1, 2, 69)]
    assert chord_shape(song.measures[0]) == [(0, 3, "D-7", None)]
    assert chord_shape(song.measures[1]) == [(0, 1, "D-7", None), (1, 2, "G7", None)]


def test_annotations_phrases_and_ideas_count_notes_choruses_and_form_parts_bars(database):
    donna_lee, _, airegin = load_wjazzd_database(database)
    # melody_notes: 67 | 69 71 72 (held into bar 2) | 74 | 60
    assert donna_lee.annotations == Annotations(
        phrases=(Span(0, 1, "1"), Span(1, 5, "2"), Span(5, 6, "3")),
        ideas=(Span(0, 3, "lick"), Span(3, 6, "line")),
        choruses=(Span(0, 1, "0"), Span(1, 3, "1"), Span(3, 4, "2")),
        form_parts=(Span(0, 1, "I1"), Span(1, 2, "A1"), Span(2, 3, "A2"), Span(3, 4, "A1")))
    # Without beats, choruses and form parts come from the note sections.
    assert airegin.annotations == Annotations(
        phrases=(Span(0, 3, "1"),), choruses=(Span(0, 2, "1"),),
        form_parts=(Span(0, 2, "A1"),))


def test_annotations_change_no_token_of_either_grammar(database):
    from jazz_lstm.grammars import grammar_named

    for song in load_wjazzd_database(database):
        assert song.annotations
        for name in ("exact", "classic"):
            grammar = grammar_named(name)
            bare = replace(song, annotations=Annotations(), info=None)
            assert grammar.piece(song).tokens == grammar.piece(bare).tokens


def test_song_bars_cuts_the_annotations_with_the_bars(database):
    song = load_wjazzd_database(database)[0]
    tail = song.bars(2)
    # bars 2 and 3 hold melody_notes 72 (held from bar 1, struck in the cut) 74 | 60,
    # the old indices 3, 4 and 5
    assert tail.annotations == Annotations(
        phrases=(Span(0, 2, "2"), Span(2, 3, "3")), ideas=(Span(0, 3, "line"),),
        choruses=(Span(0, 1, "1"), Span(1, 2, "2")),
        form_parts=(Span(0, 1, "A2"), Span(1, 2, "A1")))
    assert song.measures[2].notes[0].tied and not tail.measures[0].notes[0].tied


# ------------------------------------------------------- the CSV export

MELODY_HEADER = ["onset", "duration", "period", "division", "bar", "beat", "tatum",
                 "beat_duration", "signature", "pitch", "phrase_id", "chorus_id", "chord",
                 "form", "idea"]
BEAT_HEADER = ["onset", "duration", "period", "division", "bar", "beat", "signature", "chord",
               "form", "chorus_id"]


def write_export(root: Path, solo) -> Path:
    """The solo as MeloSpyGUI exports it: every cell filled on every row."""
    _, file_name, _, notes, (num, denom), beat_seconds, beats, sections = solo
    stem = file_name.removesuffix(".sv")

    def per_note(kind):
        labels = [""] * len(notes)
        for section_kind, start, end, value in sections:
            if section_kind == kind:
                labels[start:end + 1] = [value] * (end + 1 - start)
        return labels

    melody = root / "melody" / f"{stem}.csv"
    melody.parent.mkdir(parents=True, exist_ok=True)
    with open(melody, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(MELODY_HEADER)
        for (bar, beat, tatum, division, pitch, seconds), phrase, chorus, chord, form, idea in zip(
                notes, per_note("PHRASE"), per_note("CHORUS"), per_note("CHORD"),
                per_note("FORM"), per_note("IDEA")):
            writer.writerow([10.0, seconds, num, division, bar, beat, tatum, beat_seconds,
                             f'"{num}/{denom}"', pitch, phrase, chorus, chord, form, idea])
    if beats:
        (root / "beats").mkdir(exist_ok=True)
        with open(root / "beats" / f"{stem}_beattrack.csv", "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(BEAT_HEADER)
            chord = form = ""
            for bar, beat, _, beat_chord, beat_form, chorus in beats:
                chord, form = beat_chord or chord, beat_form or form
                writer.writerow([0.0, 0.5, num, 1, bar, beat, f"'{num}/{denom}'", chord, form,
                                 chorus])
    return melody


@pytest.mark.parametrize("index", [0, 1])
def test_the_database_and_its_csv_export_give_the_same_song(database, tmp_path, index):
    from_database = {song.source: song for song in load_wjazzd_database(database)}
    solo = SOLOS[index]
    from_csv = load_wjazzd_solo(write_export(tmp_path / "export", solo))
    song = from_database[f"{database}#{solo[0]}"]
    assert song.annotations and song.measures
    assert replace(song, title="", source="", info=None) == replace(from_csv, title="",
                                                                     source="")


def test_every_solo_of_the_development_database_equals_its_csv_export():
    if not (DATA / "wjazzd-410.db").exists() or not (DATA / "wjazzd").is_dir():
        pytest.skip(f"{DATA}/wjazzd-410.db and wjazzd/ are absent (they live beside the repo)")
    from_database = load_wjazzd_database(DATA / "wjazzd-410.db")
    from_csv = load_wjazzd_folder(DATA / "wjazzd")
    assert len(from_database) == len(from_csv) == 410
    assert sum(bool(song.annotations.phrases) for song in from_database) == 410
    for database_song, csv_song in zip(from_database, from_csv):
        assert Path(csv_song.source).stem.startswith(
            database_song.info.performer.replace(" ", "").replace(".", "")[:4])
        assert (replace(database_song, title="", source="", info=None)
                == replace(csv_song, title="", source="")), csv_song.source


# ------------------------------------------------------------ selection

@pytest.mark.parametrize("where, titles", [
    (["performer=charlie parker"], ["Donna Lee", "Ornithology"]),
    (["title=Airegin"], ["Airegin"]),
    (["instrument=ts"], ["Ornithology", "Airegin"]),
    (["style=HARDBOP"], ["Airegin"]),
    (["tempo_class=MEDIUM"], ["Ornithology", "Airegin"]),
    (["rhythm_feel=LATIN"], ["Airegin"]),
    (["key=Ab-maj"], ["Donna Lee"]),
    (["signature=3/4"], ["Airegin"]),
    (["performer=Charlie Parker", "instrument=ts"], ["Ornithology"]),
    (["style=hardbop,BEBOP"], ["Donna Lee", "Ornithology", "Airegin"]),
    (["instrument=as", "instrument=ts", "key=G-maj"], ["Ornithology"]),
])
def test_selection_by_each_field_and_combined(database, where, titles):
    songs = load_wjazzd_database(database, parse_selection(where))
    assert [song.title for song in songs] == titles


@pytest.mark.parametrize("where, message", [
    (["perfomer=Charlie Parker"], "unknown field 'perfomer'; the fields are performer, title"),
    (["style"], "write FIELD=VALUE"),
    (["style="], "give a value after '='"),
])
def test_a_selection_that_cannot_be_read_is_refused(where, message):
    with pytest.raises(MusicError, match=message):
        parse_selection(where)


def test_an_empty_selection_names_the_field_and_what_is_there(database):
    with pytest.raises(MusicError, match="no solo has style COOL; there: BEBOP 2, HARDBOP 1"):
        load_wjazzd_database(database, parse_selection(["style=COOL"]))
    with pytest.raises(MusicError, match="no solo with instrument=ts has key Ab-maj"):
        load_wjazzd_database(database, parse_selection(["instrument=ts", "key=Ab-maj"]))
    with pytest.raises(MusicError, match="did you mean BEBOP"):
        load_wjazzd_database(database, parse_selection(["style=BEBOB"]))


def error_line(result) -> str:
    """The one line of a refusal: status 2, a single 'error:' line, no traceback."""
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_corpus_counts_solos_by_performer_style_and_instrument(database, tmp_path):
    result = run_cli("corpus", "--data", str(database), "--where", "performer=Charlie Parker",
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "chosen by --where performer=Charlie Parker" in result.stdout
    assert "2 solos by performer: Charlie Parker 2" in result.stdout
    assert "2 solos by style: BEBOP 2" in result.stdout
    assert "2 solos by instrument: as 1, ts 1" in result.stdout


def test_cli_refuses_unknown_fields_empty_selections_and_where_without_a_database(database,
                                                                                  tmp_path):
    assert "unknown field 'colour'" in error_line(
        run_cli("corpus", "--data", str(database), "--where", "colour=blue", cwd=tmp_path))
    assert "no solo has style COOL" in error_line(
        run_cli("corpus", "--data", str(database), "--where", "style=COOL", cwd=tmp_path))
    melody = write_export(tmp_path / "export", SOLOS[0])
    assert "--where chooses solos of a Weimar Jazz Database file" in error_line(
        run_cli("corpus", "--data", str(melody), "--where", "style=BEBOP", cwd=tmp_path))


def test_a_run_records_its_selection_and_sample_evaluate_report_show_it(database, tmp_path):
    trained = run_cli("train", "--data", str(database), "--where", "instrument=ts",
                      "--epochs", "1", "--hidden", "8", "--run", "tenor", cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    assert "training on 2 piece(s)" in trained.stdout
    sampled = run_cli("sample", "--run", "tenor", "--bars", "2", "--out",
                      str(tmp_path / "solo.mid"), cwd=tmp_path)
    assert sampled.returncode == 0, sampled.stderr
    assert "by a model of the solos with instrument=ts" in sampled.stdout
    evaluated = run_cli("evaluate", "--run", "tenor", "--quick", "--data",
                        str(write_export(tmp_path / "export", SOLOS[0])), cwd=tmp_path)
    assert evaluated.returncode == 0, evaluated.stderr
    assert "trained on the solos with instrument=ts" in evaluated.stdout.splitlines()[0]
    as_json = run_cli("evaluate", "--run", "tenor", "--quick", "--json", "--data",
                      str(tmp_path / "export" / "melody" / "CharlieParker_DonnaLee_FINAL.csv"),
                      cwd=tmp_path)
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout)["model"]["where"] == "instrument=ts"
    reported = run_cli("report", "--run", "tenor", cwd=tmp_path)
    assert reported.returncode == 0, reported.stderr
    page = (tmp_path / "runs" / "tenor" / "report.html").read_text()
    assert "where" in page and "instrument=ts" in page


# ------------------------------------------------------- bad databases

def without_column(table: str, column: str) -> str:
    """SCHEMA with one column of one table left out."""
    lines = []
    for statement in SCHEMA.split(";"):
        if f"CREATE TABLE {table}(" in statement:
            statement = statement.replace(f"{column} ", "dropped_", 1)
        lines.append(statement)
    return ";".join(lines)


def test_a_file_that_is_not_sqlite_is_refused_with_one_line(tmp_path):
    bad = tmp_path / "wjazzd.db"
    bad.write_text("onset,duration\n1,2\n")
    assert "not an SQLite database" in error_line(
        run_cli("corpus", "--data", str(bad), cwd=tmp_path))


def test_a_melospy_database_of_another_kind_is_refused(tmp_path):
    esac = write_database(tmp_path / "esac.db", melody_type="ESAC")
    assert "without jazz solos (melody types: ESAC 3)" in error_line(
        run_cli("corpus", "--data", str(esac), cwd=tmp_path))


@pytest.mark.parametrize("schema, message", [
    (SCHEMA.replace("CREATE TABLE sections(", "CREATE TABLE other_sections("),
     "not a Weimar Jazz Database: it has no table sections"),
    (without_column("melody", "beatdur"), "its table melody has no column beatdur"),
    (without_column("beats", "chorus_id"), "its table beats has no column chorus_id"),
    (without_column("solo_info", "style"), "its table solo_info has no column style"),
])
def test_missing_tables_and_columns_are_refused(tmp_path, schema, message):
    database = tmp_path / "wjazzd.db"
    sqlite3.connect(database).executescript(schema)
    assert message in error_line(run_cli("corpus", "--data", str(database), cwd=tmp_path))


@pytest.mark.parametrize("update, message", [
    ("UPDATE melody SET pitch = NULL WHERE eventid = 2",
     "wjazzd.db: melody eventid 2 (solo #3): pitch is NULL"),
    ("UPDATE melody SET beatdur = NULL WHERE eventid = 8", "melody eventid 8 (solo #1): beatdur"),
    ("UPDATE beats SET bar = NULL WHERE beatid = 5", "beats beatid 5 (solo #3): bar is NULL"),
    ("UPDATE sections SET start = NULL WHERE melid = 1 AND type = 'CHORD'",
     "sections rowid 20 (solo #1): start is NULL"),
])
def test_nulls_where_values_belong_are_refused_naming_the_row(database, tmp_path, update,
                                                              message):
    change(database, update)
    assert message in error_line(run_cli("corpus", "--data", str(database), cwd=tmp_path))


def test_a_null_in_a_solo_left_out_by_the_selection_does_not_matter(database):
    change(database, "UPDATE melody SET pitch = NULL WHERE melid = 1")
    assert len(load_wjazzd_database(database, parse_selection(["style=BEBOP"]))) == 2


def test_a_solo_that_cannot_be_read_is_left_out_and_named(database, tmp_path):
    change(database, "UPDATE sections SET end = 99 WHERE melid = 1 AND type = 'PHRASE'")
    with pytest.raises(MusicError, match="#1 \\(SonnyRollins_Airegin\\): sections: PHRASE 0..99 "
                                         "is not a span of the solo's 3 notes"):
        load_wjazzd_database(database)
    result = run_cli("corpus", "--data", str(database), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "#1 (SonnyRollins_Airegin): sections: PHRASE 0..99" in result.stderr
    assert "2 solos by style: BEBOP 2" in result.stdout


def change(database: Path, statement: str) -> None:
    connection = sqlite3.connect(database)
    connection.execute(statement)
    connection.commit()
    connection.close()


def test_an_export_without_annotation_columns_gives_no_annotations(tmp_path):
    melody = write_export(tmp_path / "export", SOLOS[1])
    rows = list(csv.reader(open(melody)))
    kept = [MELODY_HEADER.index(name) for name in MELODY_HEADER
            if name not in ("phrase_id", "chorus_id", "form", "idea")]
    with open(melody, "w", newline="") as handle:
        csv.writer(handle).writerows([[row[index] for index in kept] for row in rows])
    song = load_wjazzd_solo(melody)
    assert song.annotations == Annotations() and not song.annotations
    assert [measure.length for measure in song.measures] == [3, 3]


def test_a_database_is_read_once_per_selection_then_comes_from_the_cache(database, tmp_path,
                                                                          monkeypatch):
    import music.read.wjazzd_db
    from jazz_lstm.corpus import read_songs

    reads = []
    load = music.read.wjazzd_db.load_wjazzd_database

    def counting(path, selection=None, on_skip=None):
        reads.append(selection)
        return load(path, selection, on_skip=on_skip)

    monkeypatch.setattr(music.read.wjazzd_db, "load_wjazzd_database", counting)
    monkeypatch.setenv("JAZZ_LSTM_CACHE", str(tmp_path / "cache"))
    first = read_songs([str(database)])
    assert read_songs([str(database)]) == first
    bebop = read_songs([str(database)], where=["style=BEBOP"])
    assert [song.title for song in bebop] == ["Donna Lee", "Ornithology"]
    assert reads == [{}, {"style": ("BEBOP",)}]
    moved = tmp_path / "moved.db"
    moved.write_bytes(database.read_bytes())
    assert [song.source for song in read_songs([str(moved)])] == [f"{moved}#3", f"{moved}#2",
                                                                  f"{moved}#1"]
    assert len(reads) == 2
