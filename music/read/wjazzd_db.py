"""The Weimar Jazz Database as its authors distribute it: one SQLite file
(``wjazzd.db``, MeloSpy's database format) to Songs.

Tables and columns read, always by name (the Jazzomat site's "Database
Format" page documents them):

* ``melody_type (melid, type)``: the solos are the melodies of type
  ``SOLO``; a MeloSpy database of another kind (EsAC folk songs, pop
  songs) holds none and is refused.
* ``melody (eventid, melid, onset, pitch, duration, period, division, bar,
  beat, tatum, num, denom, beatdur)``: one row per note, in eventid order.
  The metre of a note is ``num/denom``; ``beatdur`` is the CSV export's
  ``beat_duration``.
* ``beats (beatid, melid, bar, beat, signature, chord, form, chorus_id)``:
  one row per beat in beatid order.  ``signature``, ``chord`` and ``form``
  are written where they change and empty in between; a bar's length is the
  numerator of the signature in force (beats before the first signature
  take it; a beat track without any takes the first note's metre).
* ``sections (melid, type, start, end, value)`` (rows named by rowid): spans of the solo's notes,
  ``start`` and ``end`` (included) counting its melody rows from 0:
  ``PHRASE``, ``IDEA``, ``CHORUS``, ``FORM`` become ``Song.annotations``;
  ``CHORD`` gives each note its chord, used when the solo has no beats.
* ``solo_info (melid, performer, title, instrument, style, tempoclass,
  rhythmfeel, key, signature)``: ``Song.info`` and the title.
* ``transcription_info (melid, filename_sv)``: the solos come in the order
  of these file names, as the files of the CSV export do (so a database and
  its export make the same corpus and the same seeded split).

From there a solo is read by the same code as a CSV export
(``music.read.wjazzd_csv.solo_song``): same grid, bars, chords and
annotations, so the same solo gives the same Song but for its title (the
database's ``title``), ``source`` (``PATH#melid``) and ``info``.  Not read:
loudness and pitch modulation, the other metadata (records, tracks,
compositions, average tempo, chord changes), KEY sections and the bass
pitches.

Every problem raises MusicError with one line: not an SQLite file, not a
jazz database, a missing table or column, a NULL where a value belongs (in
the melody columns above, beats' beatid, bar and beat, sections' type,
start and end) in a solo to be read.  What ``solo_song`` finds wrong in one
solo (a value out of range, a section outside its notes) leaves that solo
out through ``on_skip``, as in a folder of CSVs.
"""
from __future__ import annotations

import difflib
import sqlite3
from collections import Counter
from contextlib import closing
from pathlib import Path
from typing import NamedTuple

from music.read.parallel import read_in_parallel
from music.read.wjazzd_csv import (BEAT_COLUMNS, MELODY_COLUMNS, Table, kept_songs,
                                   parse_signature, solo_batches, solo_song, song_or_reason)
from music.song import MusicError, SoloInfo

SQLITE_HEADER = b"SQLite format 3\x00"
DATABASE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
SOLO_TYPE = "SOLO"
# The columns read from each table; a database lacking one is refused.
MELODY_TABLE_COLUMNS = ("eventid", "melid", "onset", "pitch", "duration", "period", "division",
                        "bar", "beat", "tatum", "num", "denom", "beatdur")
TABLES = {
    "melody_type": ("melid", "type"),
    "melody": MELODY_TABLE_COLUMNS,
    "beats": ("beatid", "melid", "bar", "beat", "signature", "chord", "form", "chorus_id"),
    "sections": ("melid", "type", "start", "end", "value"),
    "solo_info": ("melid", "performer", "title", "instrument", "style", "tempoclass",
                  "rhythmfeel", "key", "signature"),
    "transcription_info": ("melid", "filename_sv"),
}
# solo_info column -> SoloInfo field
INFO_COLUMNS = {"performer": "performer", "title": "title", "instrument": "instrument",
                "style": "style", "tempoclass": "tempo_class", "rhythmfeel": "rhythm_feel",
                "key": "key", "signature": "signature"}
# sections type -> the solo_song annotation it fills
SECTION_TYPES = {"PHRASE": "phrases", "IDEA": "ideas", "CHORUS": "choruses", "FORM": "form_parts"}


class SoloEntry(NamedTuple):
    """One solo of a database, before its notes are read."""

    melid: int
    name: str           # the transcription's file name without .sv and _FINAL
    info: SoloInfo


def is_wjazzd_database(path) -> bool:
    """True for a file named like a database (.db, .sqlite, .sqlite3) or
    starting like an SQLite one; whether it is a usable WJazzD is for the
    reader to say."""
    path = Path(path)
    if not path.is_file():
        return False
    if path.suffix.lower() in DATABASE_SUFFIXES:
        return True
    try:
        with open(path, "rb") as handle:
            return handle.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except OSError:
        return False


def database_solos(path) -> list:
    """The SoloEntry of every solo of the database, in file-name order."""
    with closing(_open(path)) as connection:
        return _solo_entries(connection, path)


def load_wjazzd_database(path, selection=None, on_skip=None) -> list:
    """The Songs of the database's solos (those ``selection`` chooses, see
    ``parse_selection``; all when None), in file-name order.

    on_skip: None to raise on the first unreadable solo; else a callable
             taking (label, one-line reason), told of each solo left out.
    Raises MusicError when the file is not a WJazzD, when the selection
    chooses no solo, or when no solo can be read.  The solos are read by a
    worker process per core, each opening the file itself.
    """
    with closing(_open(path)) as connection:
        entries = _solo_entries(connection, path)
        if selection:
            entries = select_solos(entries, selection, path)
        _refuse_nulls(connection, path, [entry.melid for entry in entries])
    batches = [(str(path), batch) for batch in solo_batches(entries)]
    results = [result for results in read_in_parallel(_solos_or_reasons, batches, progress=False)
               for result in results]
    return kept_songs(path, [_label(path, entry) for entry in entries], results, on_skip)


# ------------------------------------------------------------ selection

# --where field -> SoloInfo field; "tempo_class", "tempo-class" and "tempoclass" are one name.
SELECTION_FIELDS = {name.replace("_", ""): name for name in SoloInfo.__dataclass_fields__}


def parse_selection(texts) -> dict:
    """{SoloInfo field: values} from ``FIELD=VALUE`` texts (``style=BEBOP``,
    ``performer=Charlie Parker``, ``style=BEBOP,HARDBOP``).  A solo is chosen
    when, for every field named, its value is one of the values given (case
    is ignored); a field named twice takes the values of both."""
    selection = {}
    for text in texts:
        name, equals, values = text.partition("=")
        field = SELECTION_FIELDS.get(name.strip().lower().replace("_", "").replace("-", ""))
        if not equals or not name.strip():
            raise MusicError(f"--where {text!r}: write FIELD=VALUE, for example style=BEBOP, "
                             f"with quotes around a value with spaces ('performer=Charlie "
                             f"Parker'); fields: {', '.join(SELECTION_FIELDS.values())}")
        if field is None:
            raise MusicError(f"--where {text!r}: unknown field {name.strip()!r}; the fields are "
                             f"{', '.join(SELECTION_FIELDS.values())}")
        wanted = [value.strip() for value in values.split(",") if value.strip()]
        if not wanted:
            raise MusicError(f"--where {text!r}: give a value after '='")
        selection.setdefault(field, []).extend(wanted)
    return {field: tuple(values) for field, values in selection.items()}


def selection_text(selection: dict) -> str:
    """The selection as --where would take it: 'style=BEBOP instrument=ts'."""
    return " ".join(f"{field}={','.join(values)}" for field, values in selection.items())


def select_solos(entries, selection: dict, path) -> list:
    """The entries whose info matches every field of the selection; raises
    MusicError naming the field that left nothing, with the values there are."""
    chosen = list(entries)
    for field, values in selection.items():
        wanted = {value.casefold() for value in values}
        matching = [entry for entry in chosen
                    if getattr(entry.info, field).casefold() in wanted]
        if not matching:
            raise MusicError(f"{path}: no solo {_so_far(selection, field)}has {field} "
                             f"{' or '.join(values)}; {_choices(chosen, field, values)}")
        chosen = matching
    return chosen


def _so_far(selection: dict, field: str) -> str:
    before = dict(list(selection.items())[:list(selection).index(field)])
    return f"with {selection_text(before)} " if before else ""


def _choices(entries, field: str, values) -> str:
    """What the field holds among the entries, the closest to the values first."""
    counts = Counter(getattr(entry.info, field) for entry in entries)
    close = [match for value in values
             for match in difflib.get_close_matches(value, [name for name in counts if name],
                                                    n=3, cutoff=0.6)]
    if close:
        return f"did you mean {' or '.join(dict.fromkeys(close))}?"
    listed = ", ".join(f"{name or '(none)'} {count}" for name, count in counts.most_common(12))
    more = f" and {len(counts) - 12} more" if len(counts) > 12 else ""
    return f"there: {listed}{more}"


# -------------------------------------------------------------- reading

def _open(path) -> sqlite3.Connection:
    """A read-only connection to a file that holds every table and column
    read; MusicError otherwise."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as error:
        raise MusicError(f"{path}: cannot be read ({error.strerror or error})") from None
    if header != SQLITE_HEADER:
        raise MusicError(f"{path}: not an SQLite database (the Weimar Jazz Database is one "
                         "SQLite file, wjazzd.db)")
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        for table, columns in TABLES.items():
            present = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
            if not present:
                raise MusicError(f"{path}: not a Weimar Jazz Database: it has no table {table}")
            missing = [column for column in columns if column not in present]
            if missing:
                raise MusicError(f"{path}: not a Weimar Jazz Database: its table {table} has "
                                 f"no column {', '.join(missing)}")
    except sqlite3.Error as error:
        raise MusicError(f"{path}: cannot be read as an SQLite database ({error})") from None
    return connection


def _solo_entries(connection, path) -> list:
    try:
        types = Counter(row[0] for row in connection.execute("SELECT type FROM melody_type"))
        if not types.get(SOLO_TYPE):
            kinds = ", ".join(f"{kind} {count}" for kind, count in types.items()) or "none"
            raise MusicError(f"{path}: a MeloSpy database without jazz solos (melody types: "
                             f"{kinds}); the Weimar Jazz Database's solos have type {SOLO_TYPE}")
        names = dict(connection.execute("SELECT melid, filename_sv FROM transcription_info"))
        info_columns = ", ".join(INFO_COLUMNS)
        infos = {row[0]: row[1:] for row in connection.execute(
            f"SELECT melid, {info_columns} FROM solo_info")}
        melids = [row[0] for row in connection.execute(
            "SELECT melid FROM melody_type WHERE type = ?", (SOLO_TYPE,))]
    except sqlite3.Error as error:
        raise MusicError(f"{path}: cannot be read as an SQLite database ({error})") from None
    entries = []
    for melid in melids:
        if melid is None:
            raise MusicError(f"{path}: melody_type: a SOLO row has no melid (NULL)")
        name = Path(names.get(melid) or "").stem.removesuffix("_FINAL")
        info = SoloInfo(**{field: "" if value is None else str(value).strip()
                           for field, value in zip(INFO_COLUMNS.values(),
                                                   infos.get(melid, [None] * len(INFO_COLUMNS)))})
        entries.append(SoloEntry(melid, name, info))
    return sorted(entries, key=lambda entry: (Path(names.get(entry.melid) or "").name,
                                              entry.melid))


# The columns that must hold a value in the rows of the solos read: table -> (the
# column naming a row, the columns).
REQUIRED_VALUES = {"melody": ("eventid", MELODY_TABLE_COLUMNS),
                   "beats": ("beatid", ("beatid", "bar", "beat")),
                   "sections": ("rowid", ("type", "start", "end"))}


def _refuse_nulls(connection, path, melids) -> None:
    """MusicError naming the first NULL where a value belongs in the rows of
    these solos."""
    marks = ", ".join("?" * len(melids))
    for table, (row_column, columns) in REQUIRED_VALUES.items():
        nulls = " OR ".join(f"{column} IS NULL" for column in columns)
        try:
            row = connection.execute(
                f"SELECT {row_column}, melid, {', '.join(columns)} FROM {table} "
                f"WHERE melid IN ({marks}) AND ({nulls}) LIMIT 1", melids).fetchone()
        except sqlite3.Error as error:
            raise MusicError(f"{path}: cannot be read as an SQLite database ({error})") from None
        if row is not None:
            column = columns[row[2:].index(None)]
            raise MusicError(f"{path}: {table} {row_column} {row[0]} (solo #{row[1]}): "
                             f"{column} is NULL")


def _label(path, entry: SoloEntry) -> str:
    return f"{path}#{entry.melid}"


def _solos_or_reasons(path: str, entries) -> list:
    """``song_or_reason`` of each entry; runs in a worker process."""
    with closing(_open(path)) as connection:
        beats = _beat_rows(connection, [entry.melid for entry in entries])
        return [song_or_reason(_label(path, entry), _solo, connection, path, entry,
                               beats.get(entry.melid, []))
                for entry in entries]


def _beat_rows(connection, melids) -> dict:
    """{melid: its beats rows (BEAT_TABLE_COLUMNS) in beatid order}, in one
    query: the beats table has no index on melid, so a query per solo
    would scan it once per solo."""
    rows = {}
    for melid, *row in connection.execute(
            f"SELECT melid, {', '.join(BEAT_TABLE_COLUMNS)} FROM beats "
            f"WHERE melid IN ({', '.join('?' * len(melids))}) ORDER BY melid, beatid", melids):
        rows.setdefault(melid, []).append(row)
    return rows


def _solo(connection, path: str, entry: SoloEntry, beat_rows):
    label = _label(path, entry) + (f" ({entry.name})" if entry.name else "")
    melody_rows = connection.execute(
        f"SELECT {', '.join(MELODY_TABLE_COLUMNS)} FROM melody WHERE melid = ? "
        "ORDER BY eventid", (entry.melid,)).fetchall()
    sections = _sections(connection, label, entry.melid, len(melody_rows))
    chords = [""] * len(melody_rows)
    for start, end, value in sections.get("CHORD", []):
        chords[start:end + 1] = [value] * (end + 1 - start)
    column = {name: index for index, name in enumerate(MELODY_TABLE_COLUMNS)}
    melody_cells = [(row[column["onset"]], row[column["duration"]], row[column["period"]],
                     row[column["division"]], row[column["bar"]], row[column["beat"]],
                     row[column["tatum"]], row[column["beatdur"]],
                     f"{row[column['num']]}/{row[column['denom']]}", row[column["pitch"]], chord)
                    for row, chord in zip(melody_rows, chords)]
    event_ids = [row[column["eventid"]] for row in melody_rows]
    melody = Table(melody_cells, {name: index for index, name in enumerate(MELODY_COLUMNS)},
                   lambda row: f"{label}: melody eventid {event_ids[row]}")
    first_signature = melody_cells[0][8] if melody_cells else "4/4"
    beats = _beats(beat_rows, label, first_signature)
    note_spans = {name: sections.get(kind, []) for kind, name in SECTION_TYPES.items()}
    return solo_song(melody, beats, note_spans, label=label,
                     title=entry.info.title or entry.name, source=_label(path, entry),
                     info=entry.info)


BEAT_TABLE_COLUMNS = ("beatid", "bar", "beat", "signature", "chord", "form", "chorus_id")


def _beats(rows, label: str, first_signature: str):
    """The beat track of the solo's beats rows as a Table of BEAT_COLUMNS and
    chorus_id, form (the signature, form and chord carried over the beats
    that leave them empty: the chord by solo_song itself), or None when the
    solo has none."""
    if not rows:
        return None
    signatures = [(row[3] or "").strip() for row in rows]
    signature = next((text for text in signatures if text), first_signature)
    cells = []
    for (_, bar, beat, _, chord, form, chorus), text in zip(rows, signatures):
        signature = text or signature
        parsed = parse_signature(signature)
        period = 1 if isinstance(parsed, str) else parsed[0]  # a bad one is named by Table
        cells.append((bar, beat, period, signature, chord or "",
                      "" if chorus is None else str(chorus), form or ""))
    beat_ids = [row[0] for row in rows]
    return Table(cells, {name: index for index, name in
                         enumerate((*BEAT_COLUMNS, "chorus_id", "form"))},
                 lambda row: f"{label}: beats beatid {beat_ids[row]}")


def _sections(connection, label: str, melid: int, notes: int) -> dict:
    """{type: [(start, end, value), ...] sorted} of the solo's sections."""
    sections = {}
    for kind, start, end, value in connection.execute(
            "SELECT type, start, end, value FROM sections WHERE melid = ? "
            "ORDER BY type, start", (melid,)):
        if kind not in SECTION_TYPES and kind != "CHORD":
            continue
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start <= end < notes):
            raise MusicError(f"{label}: sections: {kind} {start}..{end} is not a span of the "
                             f"solo's {notes} notes (0..{notes - 1})")
        sections.setdefault(kind, []).append((start, end, "" if value is None else str(value)))
    return sections
