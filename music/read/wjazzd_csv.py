"""Weimar Jazz Database (WJazzD) solos, as exported by MeloSpyGUI, to Songs.

Files
-----
A solo is a melody CSV, one row per note (``onset, duration`` in seconds;
``period`` beats per bar; ``bar, beat, tatum, division`` the metrical
position: tatum ``tatum`` of ``division`` equal tatums of beat ``beat`` of
bar ``bar``; ``beat_duration`` seconds; ``signature`` such as 4/4, quoted
in various ways; ``pitch`` MIDI; ``chord`` Jazzomat chord symbol; and,
when the export has them, ``phrase_id``, ``idea``, ``chorus_id``, ``form``:
the note's phrase number, midlevel unit, chorus and form part), and
optionally a beat track CSV (one row per beat, rests included: ``bar,
beat, period, signature, chord`` and, when there, ``chorus_id, form``).  A folder is the database root holding
``melody/`` and ``beats/``, or the ``melody/`` folder itself; the beat
track of ``melody/NAME.csv`` is ``beats/NAME_beattrack.csv``.

Time grid
---------
Everything is placed on a grid of 1/12 quarter (``music.grid.SCORE_GRID``)
from the METRICAL columns, never from the seconds of the onsets:

* onset in the bar = ``(beat - 1 + (tatum - 1) / division)`` beats, rounded
  to the nearest grid step (halves up); a beat is ``4 / denominator``
  quarters of the row's signature (a quarter in x/4).
* duration = ``duration / beat_duration`` beats (seconds over the local
  beat length), rounded to the grid, at least one step, then cut at the
  next note's onset and at the end of the last bar.

What the grid keeps: straight eighths and sixteenths, eighth and
sixteenth triplets (1/12 quarter is a sixteenth triplet), so the tatum
grids MeloSpy annotates most (divisions 1, 2, 3, 4, 6, 12) land exactly.
What it loses: quintuplets, septuplets and finer divisions are rounded to
the nearest twelfth of a quarter; swing and every other expressive timing
(the seconds) is gone, as is loudness.
Notes that collide on the grid (the same rounded onset) keep the earlier
one by ``onset`` seconds; the later is dropped.

Bars and Song
-------------
* Bars run from the first to the last bar holding a note, numbered as in
  the data (``Measure.number``; pickups are bars <= 0, intros can be far
  below 0).  Every bar is full: ``period`` beats long (its row's, beat
  track first; a bar no row names takes the previous bar's length), so a
  pickup bar starts with a rest up to its first note.  Notes crossing a
  bar line are split there, the parts after it tied (``Note.tied``: the
  player held the note over the line); silences become rests.  Solos annotated
  without metre (signature 1/4, period 1) come out as one-beat bars.
* Chords come from the beat track when there is one, else from the
  melody's chord column (a chord then starts at the first note carrying
  it; the first one covers the time before it).  ``NC`` leaves a gap in
  the bar's chord list (no chord sounds there, ``Measure.chord_at`` gives
  None), and so do beats the beat track does not cover; an empty chord
  cell continues the chord before it.  Consecutive beats with the same
  chord merge; chords are cut at bar lines.  Symbols are read by
  ``music.read.jazzomat_chords``.
* Tempo: 60 / the median of ``beat_duration`` (per quarter) in quarter
  notes per minute; time signature: the most frequent one of the melody
  rows; title: the file name without ``_FINAL`` (``ArtPepper_Anthropology``);
  source: the melody file's path.

Annotations (``Song.annotations``)
----------------------------------
* Phrases and ideas are note spans: the notes with the same ``phrase_id``
  (``idea``) one after another make one span; the spans count
  ``Song.melody_notes`` (a note held over a bar line counts once), and a
  note dropped on the grid is in none (a span left with no note is
  dropped).  Two neighbouring ideas with the same label read as one.
* Choruses and form parts are bar spans, from the beat track's
  ``chorus_id`` and ``form`` columns when it has them, else from the
  melody's: a chorus (a form part, which also ends with its chorus) starts
  at the bar of its first beat (note) that does not share a bar with the
  part before, and lasts until the next one starts.  An empty ``form``
  cell continues the part before it.

The same building code reads the Weimar Jazz Database's SQLite file
(``music.read.wjazzd_db``): ``solo_song`` takes the tables of either.

Every problem raises MusicError with one line naming the file (and row).
A CSV is read only when it is a regular file of at most ``MAX_CSV_BYTES``
(counted while reading); a byte-order mark is allowed.  In a folder, a solo
that cannot be read (garbage, a folder or a dangling link named .csv, an
unreadable melody or beat track) is skipped and reported, never the folder.
"""
from __future__ import annotations

import csv
import io
import math
import os
import re
import statistics
from collections import Counter
from fractions import Fraction
from functools import cache, lru_cache
from pathlib import Path
from typing import NamedTuple

from music.files import InputError, read_bounded
from music.read.jazzomat_chords import jazzomat_chord, parse_jazzomat_chord
from music.read.parallel import read_in_parallel
from music.grid import SCORE_GRID
from music.song import (Annotations, Chord, Measure, MusicError, Note, Song, Span,
                        notes_in_bars)

TICKS_PER_QUARTER = SCORE_GRID.denominator  # grid steps per quarter: 12
MELODY_COLUMNS = ("onset", "duration", "period", "division", "bar", "beat", "tatum",
                  "beat_duration", "signature", "pitch", "chord")
BEAT_COLUMNS = ("bar", "beat", "period", "signature", "chord")
# The annotation columns an export may hold: Song.annotations field -> melody column.
NOTE_LABEL_COLUMNS = {"phrases": "phrase_id", "ideas": "idea", "choruses": "chorus_id",
                      "form_parts": "form"}
BEAT_LABEL_COLUMNS = ("chorus_id", "form")
BEAT_TRACK_SUFFIX = "_beattrack"
DEFAULT_VELOCITY = 90  # the CSVs hold no loudness
MAX_BARS = 20_000  # the longest WJazzD solo has under 1000
MAX_NOTE_BEATS = MAX_BARS * 64  # bars of the longest period
# As a run allows (jazz_lstm.record.MAX_BEATS_PER_BAR): a solo read is a run that opens.
MAX_BEATS_PER_BAR = 32
# The largest CSV of the 410 solos (a melody) has 239 kB.
MAX_CSV_BYTES = 4 * 1024 * 1024
HEADER_BYTES = 64 * 1024
_SIGNATURE = re.compile(r"""^[\s"']*(\d+)\s*/\s*(\d+)[\s"']*$""")


def is_wjazzd_source(path) -> bool:
    """True for a .csv file with a WJazzD melody header, or a folder holding
    ``melody/*.csv`` (or such .csv files itself) of which at least one has it:
    one odd file (garbage, a folder or a dangling link named .csv) does not
    hide the others, it is skipped and reported when they are read."""
    path = Path(path)
    if path.is_dir():
        return any(_has_melody_header(file) for file in _melody_files(_melody_folder(path)))
    return path.suffix.lower() == ".csv" and _has_melody_header(path)


def load_wjazzd_solo(melody_csv, beats_csv=None) -> Song:
    """The Song of one solo (see the module docstring).

    beats_csv: the beat track; None looks for ``../beats/NAME_beattrack.csv``
    beside the melody's folder and, when there is none, takes the chords
    from the melody's chord column.
    """
    melody_path = Path(melody_csv)
    beats_path = Path(beats_csv) if beats_csv is not None else _beat_track_of(melody_path)
    melody = Table.from_csv(melody_path, MELODY_COLUMNS, "melody", NOTE_LABEL_COLUMNS.values())
    beats = (Table.from_csv(beats_path, BEAT_COLUMNS, "beat track", BEAT_LABEL_COLUMNS)
             if beats_path is not None else None)
    note_spans = {name: _label_stretches(melody, column) for name, column in NOTE_LABEL_COLUMNS.items()}
    return solo_song(melody, beats, note_spans, label=str(melody_path),
                     title=melody_path.stem.removesuffix("_FINAL"), source=str(melody_path))


def solo_song(melody: Table, beats, note_spans: dict, *, label: str, title: str, source: str,
              info=None) -> Song:
    """The Song of a solo's tables, read as the module docstring says.

    melody:     a Table with MELODY_COLUMNS, one row per note in time order
    beats:      a Table with BEAT_COLUMNS (and BEAT_LABEL_COLUMNS when it
                has them), one row per beat in time order, or None
    note_spans: {"phrases", "ideas", "choruses", "form_parts": [(first row,
                last row, label), ...]}: the annotations as stretches of melody
                rows (form parts not crossing a chorus), as the sources keep them
    label:      names the solo in errors; title, source, info: the Song's
    """
    if not melody.rows:
        raise MusicError(f"{label}: no notes")
    grid_notes, melody_bar_ticks, seconds_per_quarter, signatures = _read_melody(melody)
    grid_beats, beat_bar_ticks = _read_beats(beats) if beats is not None else ([], {})
    bar_ticks = {**melody_bar_ticks, **beat_bar_ticks}  # the beat track wins

    first_bar = min(note.bar for note in grid_notes)
    last_bar = max(note.bar for note in grid_notes)
    if last_bar - first_bar >= MAX_BARS:
        raise MusicError(f"{label}: notes in bars {first_bar}..{last_bar}, more than "
                         f"{MAX_BARS} bars: the bar column looks corrupt")
    bar_starts = _bar_starts(bar_ticks, first_bar, last_bar)
    notes = _place_notes(grid_notes, bar_starts)
    if grid_beats:
        spans = _beat_spans(grid_beats, bar_starts, first_bar, last_bar)
    else:
        spans = _melody_chord_spans(notes, bar_starts[first_bar], bar_starts[last_bar + 1])
    measures = _measures(notes, spans, bar_starts, first_bar, last_bar)
    # Each note kept on the grid is one of Song.melody_notes (a held note counts once).
    played = {row: index for index, (*_, row) in enumerate(notes)}

    tempo = 60.0 / statistics.median(seconds_per_quarter)
    if not 0 < tempo < 1000:
        raise MusicError(f"{label}: tempo {tempo:.1f} bpm (from beat_duration) is "
                         f"not between 0 and 1000")
    bar_labels = _beat_bar_labels(beats, grid_beats) or _note_bar_labels(grid_notes, note_spans)
    annotations = Annotations(
        phrases=_note_spans(note_spans["phrases"], played),
        ideas=_note_spans(note_spans["ideas"], played),
        **{name: _bar_spans(labels, first_bar, last_bar) for name, labels in bar_labels.items()})
    return Song(measures=measures, tempo=tempo,
                time_signature=signatures.most_common(1)[0][0], title=title, source=source,
                melody_part="WJazzD solo",
                chord_source="beat track" if grid_beats else "melody chord column",
                annotations=annotations, info=info)


def load_wjazzd_folder(folder, on_skip=None) -> list:
    """The Songs of every melody CSV of a WJazzD folder, in file-name order.

    folder:  the database root holding melody/ and beats/, or melody/ itself
    on_skip: None to raise on the first unreadable solo (in file-name order);
             else a callable taking (file label, one-line reason), told of
             each solo that is left out.  Raises MusicError when no solo can
             be read.
    The solos are read by a worker process per core
    (``music.read.parallel.read_in_parallel``), each taking one batch of consecutive
    files: a worker's songs share their Fractions, which come back in one
    pickle at a third of the cost of one pickle per song (410 solos: 3.4 s on
    one core, 0.4 s to unpickle in two parts against 1.4 s in 410).
    """
    files = _melody_files(_melody_folder(Path(folder)))
    if not files:
        raise MusicError(f"{folder}: holds no WJazzD melody CSVs (melody/*.csv)")
    batches = [(batch,) for batch in solo_batches(files)]
    results = [result for results in read_in_parallel(_solos_or_reasons, batches, progress=False)
               for result in results]
    return kept_songs(folder, [str(file) for file in files], results, on_skip)


def _solos_or_reasons(melody_csvs) -> list:
    """``song_or_reason`` of each melody CSV; runs in a worker process."""
    return [song_or_reason(melody_csv, load_wjazzd_solo, melody_csv)
            for melody_csv in melody_csvs]


def solo_batches(items) -> list:
    """The items cut into one batch of consecutive items per core (a worker's
    songs share their Fractions, see ``load_wjazzd_folder``)."""
    batch_length = -(-len(items) // max(1, min(os.cpu_count() or 1, len(items))))
    return [items[start:start + batch_length] for start in range(0, len(items), batch_length)]


def song_or_reason(label, read, *arguments) -> tuple:
    """(read(*arguments), None), or (None, the one-line reason) when the solo
    labelled ``label`` cannot be read; a reader bug skips its solo rather
    than the others."""
    try:
        return read(*arguments), None
    except MusicError as error:
        return None, str(error).splitlines()[0]
    except Exception as error:  # a reader bug: this solo is reported, the others are read
        return None, (f"{label}: cannot be read ({type(error).__name__}: "
                      f"{str(error).splitlines()[0] if str(error) else ''})")


def kept_songs(source, labels, results, on_skip) -> list:
    """The songs of (song, reason) results, in order; each reason goes to
    ``on_skip(label, reason)``, or is raised without one.  MusicError naming
    ``source`` when no song is left."""
    songs, first_failure = [], None
    for label, (song, reason) in zip(labels, results):
        if song is not None:
            songs.append(song)
            continue
        if on_skip is None:
            raise MusicError(reason)
        first_failure = first_failure or reason
        on_skip(label, reason)
    if not songs:
        raise MusicError(f"{source}: no solo could be read; the first: {first_failure}")
    return songs


# ----------------------------------------------------------------- files

def _melody_folder(folder: Path) -> Path:
    return folder / "melody" if (folder / "melody").is_dir() else folder


def _melody_files(melody_folder: Path) -> list:
    return sorted(file for file in melody_folder.glob("*.csv")
                  if not file.stem.endswith(BEAT_TRACK_SUFFIX))


def _beat_track_of(melody_path: Path):
    candidate = melody_path.parent.parent / "beats" / (
        melody_path.stem + BEAT_TRACK_SUFFIX + ".csv")
    return candidate if candidate.is_file() else None


def _has_melody_header(path: Path) -> bool:
    try:
        start = read_bounded(path, HEADER_BYTES, "WJazzD CSV", whole=False)
        header = next(csv.reader(io.StringIO(start.decode("utf-8-sig", "replace"))), [])
    except (OSError, csv.Error):
        return False
    return set(MELODY_COLUMNS) <= {name.strip() for name in header}


@cache
def parse_signature(text: str):
    """(numerator, denominator) of a signature cell such as '"4/4"', or a
    one-line reason it is unusable."""
    match = _SIGNATURE.match(text)
    if match is None or int(match.group(1)) < 1:
        return f"signature {text!r} is not like 4/4"
    numerator, denominator = int(match.group(1)), int(match.group(2))
    if numerator > MAX_BEATS_PER_BAR:
        return f"signature {numerator}/{denominator}: more than {MAX_BEATS_PER_BAR} beats in a bar"
    if denominator not in (1, 2, 4, 8, 16):
        return (f"signature {numerator}/{denominator}: the beat must be a whole, half, "
                f"quarter, eighth or sixteenth note")
    return numerator, denominator


class Table:
    """The cells of a solo's melody or beat table, read column by column (a
    whole column at a time is several times faster than row by row); a bad
    cell raises MusicError naming the row (``row_name(row index)``).

    Cells are text (CSV) or SQLite values; ``index`` maps a column name to
    its place in the rows, so columns are always found by name.
    """

    def __init__(self, rows: list, index: dict, row_name):
        self.rows = rows
        self.index = index
        self.row_name = row_name

    @classmethod
    def from_csv(cls, path: Path, columns, kind: str, optional=()) -> Table:
        """A CSV's table: ``columns`` must be in its header, ``optional``
        ones are read when there."""
        try:
            text = read_bounded(path, MAX_CSV_BYTES, f"WJazzD {kind} CSV").decode("utf-8-sig")
            reader = csv.reader(io.StringIO(text, newline=""))
            header = [name.strip() for name in next(reader, [])]
            missing = [name for name in columns if name not in header]
            if missing:
                raise MusicError(f"{path}: not a WJazzD {kind} CSV "
                                 f"(no column {', '.join(missing)})")
            rows = list(reader)
        except InputError as error:
            raise MusicError(str(error)) from None
        except (OSError, UnicodeDecodeError, csv.Error) as error:
            raise MusicError(f"{path}: cannot be read ({type(error).__name__}: "
                             f"{error.strerror if isinstance(error, OSError) else error})") from None
        while rows and not rows[-1]:
            rows.pop()  # blank lines at the end of the file
        table = cls(rows, {name: header.index(name) for name in (*columns, *optional)
                           if name in header}, lambda row: f"{path}: row {row + 2}")
        width = len(header)
        short = [index for index, row in enumerate(rows) if len(row) < width]
        if short:
            raise table.error(short[0], f"has {len(rows[short[0]])} cells, not {width}")
        return table

    def has(self, name) -> bool:
        return name in self.index

    def error(self, row_index: int, message: str) -> MusicError:
        return MusicError(f"{self.row_name(row_index)}: {message}")

    def require(self, flags: list, message):
        """Raise for the first row whose flag is False; message(row index)."""
        if not all(flags):
            row_index = flags.index(False)
            raise self.error(row_index, message(row_index))

    def texts(self, name) -> list:
        index = self.index[name]
        return [row[index].strip() if isinstance(row[index], str) else row[index]
                for row in self.rows]

    def converted(self, name, convert, what: str) -> list:
        """The column converted by ``convert`` (_whole or float)."""
        texts = self.texts(name)
        try:
            return [convert(text) for text in texts]
        except (ValueError, TypeError):
            self.require([_converts(convert, text) for text in texts],
                         lambda row: f"{name} {texts[row]!r} is not {what}")
            raise

    def wholes(self, name, low, high=None) -> list:
        values = self.converted(name, _whole, "a whole number")
        self.require([low <= value and (high is None or value <= high) for value in values],
                     lambda row: f"{name} {values[row]} is below {low}" if values[row] < low
                     else f"{name} {values[row]} is above {high}")
        return values

    def numbers(self, name, low) -> list:
        values = self.converted(name, float, "a number")
        self.require([value >= low and value != math.inf for value in values],  # and not NaN
                     lambda row: f"{name} {values[row]} is not a finite number >= {low}")
        return values

    def signatures(self) -> list:
        values = [parse_signature(text) for text in self.texts("signature")]
        self.require([not isinstance(value, str) for value in values],
                     lambda row: values[row])
        return values

    def chords(self) -> list:
        symbols = self.texts("chord")
        readable = {symbol: _readable_chord(symbol) for symbol in set(symbols)}
        self.require([readable[symbol] is None for symbol in symbols],
                     lambda row: readable[symbols[row]])
        return symbols

    def beats(self):
        """Per row: (bar, beat in the bar from 0, beat length in grid steps,
        bar length in grid steps)."""
        beat_ticks = [4 * TICKS_PER_QUARTER // denominator
                      for _, denominator in self.signatures()]
        periods = self.wholes("period", 1, 64)
        beats = self.wholes("beat", 1)
        self.require([beat <= period for beat, period in zip(beats, periods)],
                     lambda row: f"beat {beats[row]} is above the period {periods[row]}")
        return list(zip(self.wholes("bar", -10**6), [beat - 1 for beat in beats], beat_ticks,
                        [period * ticks for period, ticks in zip(periods, beat_ticks)]))


def _whole(cell) -> int:
    """A whole number from a text or SQLite cell (a REAL must have no fraction)."""
    if type(cell) is int:
        return cell
    if isinstance(cell, float) and not cell.is_integer():
        raise ValueError(f"{cell} is not whole")
    return int(cell)


def _converts(convert, text) -> bool:
    try:
        convert(text)
    except (ValueError, TypeError):
        return False
    return True


def _readable_chord(symbol: str):
    """None when the chord cell can be used ("" or a Jazzomat symbol), else why not."""
    if not symbol:
        return None
    try:
        parse_jazzomat_chord(symbol)
    except MusicError as error:
        return str(error)
    return None


# ----------------------------------------------------------------- rows

class _GridNote(NamedTuple):
    seconds: float      # onset in seconds: which of two colliding notes came first
    bar: int
    start: int          # grid steps from the start of the bar
    duration: int       # grid steps
    pitch: int
    chord: str
    row: int            # the melody row it came from


class _GridBeat(NamedTuple):
    bar: int
    start: int          # grid steps from the start of the bar
    duration: int       # grid steps
    chord: str


class _Melody(NamedTuple):
    notes: list
    bar_ticks: dict             # bar number -> length in grid steps
    seconds_per_quarter: list
    signatures: Counter


def _read_melody(table: Table) -> _Melody:
    beats = table.beats()
    divisions = table.wholes("division", 1)
    tatums = table.wholes("tatum", 1)
    table.require([tatum <= division for tatum, division in zip(tatums, divisions)],
                  lambda row: f"tatum {tatums[row]} is above the division {divisions[row]}")
    beat_seconds = table.numbers("beat_duration", 0)
    table.require([seconds > 0 for seconds in beat_seconds], lambda row: "beat_duration is 0")
    notes, bar_ticks = [], {}
    for row, ((bar, beat, beat_ticks, ticks), division, tatum, seconds, onset, duration, pitch,
              chord) in enumerate(zip(beats, divisions, tatums, beat_seconds,
                                      table.numbers("onset", -1e9),
                                      table.numbers("duration", 0),
                                      table.wholes("pitch", 0, 127), table.chords())):
        start = beat * beat_ticks + _round_half_up((tatum - 1) * beat_ticks, division)
        # A note longer than the longest solo is cut at the song's end anyway; the
        # bound keeps 1e308 seconds, or a subnormal beat_duration, a finite number.
        length = max(1, int(min(duration / seconds, MAX_NOTE_BEATS) * beat_ticks + 0.5))
        notes.append(_GridNote(onset, bar, start, length, pitch, chord, row))
        bar_ticks.setdefault(bar, ticks)
    seconds_per_quarter = [seconds * TICKS_PER_QUARTER / beat_ticks
                           for seconds, (_, _, beat_ticks, _) in zip(beat_seconds, beats)]
    return _Melody(notes, bar_ticks, seconds_per_quarter, Counter(table.signatures()))


def _read_beats(table: Table):
    beats, bar_ticks = [], {}
    for (bar, beat, beat_ticks, ticks), chord in zip(table.beats(), table.chords()):
        beats.append(_GridBeat(bar, beat * beat_ticks, beat_ticks, chord))
        bar_ticks.setdefault(bar, ticks)
    return beats, bar_ticks


def _round_half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


# ------------------------------------------------------------ the grid

def _bar_starts(bar_ticks: dict, first_bar: int, last_bar: int) -> dict:
    """Bar number -> start in grid steps from the first bar, for the bars
    first_bar..last_bar and, as the song's end, last_bar + 1."""
    starts = {}
    position = 0
    length = bar_ticks[first_bar]
    for bar in range(first_bar, last_bar + 2):
        starts[bar] = position
        length = bar_ticks.get(bar, length)
        position += length
    return starts


def _place_notes(grid_notes, bar_starts) -> list:
    """(start, end, pitch, chord, melody row) in grid steps from the song start, sorted;
    of notes with the same start only the earliest in seconds is kept, and
    each note is cut at the next onset and at the song's end."""
    song_end = bar_starts[max(bar_starts)]
    ordered = sorted((bar_starts[note.bar] + note.start, note.seconds, note)
                     for note in grid_notes)
    kept = []
    for start, _, note in ordered:
        if start >= song_end or (kept and kept[-1][0] == start):
            continue
        kept.append((start, note))
    placed = []
    for index, (start, note) in enumerate(kept):
        next_start = kept[index + 1][0] if index + 1 < len(kept) else song_end
        placed.append((start, min(start + note.duration, next_start), note.pitch, note.chord,
                       note.row))
    return placed


def _beat_spans(beats, bar_starts, first_bar, last_bar) -> list:
    """(start, end, symbol) chord spans from the beat track: an empty cell
    continues the chord before it, equal neighbours merge, NC is left out."""
    symbols = []
    previous = ""
    for beat in sorted(beats):
        symbol = beat.chord or previous
        previous = symbol
        if first_bar <= beat.bar <= last_bar:
            start = bar_starts[beat.bar] + beat.start
            if symbols and start < symbols[-1][1]:
                continue  # a beat listed twice: the first row counts
            symbols.append((start, start + beat.duration, symbol))
    return _merged(symbols)


def _melody_chord_spans(notes, song_start, song_end) -> list:
    """(start, end, symbol) chord spans from the melody's chord column: a
    chord starts at the first note carrying it; the first covers the song's
    start, each lasts until the next."""
    changes = []
    for start, _, _, symbol, _ in notes:
        if symbol and (not changes or symbol != changes[-1][1]):
            changes.append([start, symbol])
    if not changes:
        return []
    changes[0][0] = song_start
    ends = [start for start, _ in changes[1:]] + [song_end]
    return _merged([(start, end, symbol) for (start, symbol), end in zip(changes, ends)])


def _merged(spans) -> list:
    """Spans with touching equal neighbours joined and no-chord ones (NC, or
    empty before any chord) left out."""
    merged = []
    for start, end, symbol in spans:
        if merged and merged[-1][2] == symbol and merged[-1][1] == start:
            merged[-1] = (merged[-1][0], end, symbol)
        else:
            merged.append((start, end, symbol))
    return [span for span in merged if span[2] and parse_jazzomat_chord(span[2]) is not None]


@cache
def _quarters(ticks: int) -> Fraction:
    return Fraction(ticks, TICKS_PER_QUARTER)


@lru_cache(maxsize=1 << 16)
def _note(start: int, duration: int, pitch=None, velocity=DEFAULT_VELOCITY,
          tied=False) -> Note:
    """A Note from grid steps; Notes are immutable, so equal ones are shared
    (a corpus repeats a few thousand of them hundreds of thousands of times)."""
    return Note(_quarters(start), _quarters(duration), pitch, velocity, tied)


@lru_cache(maxsize=1 << 16)
def _chord(symbol: str, start: int, duration: int) -> Chord:
    """A Chord from grid steps, shared like ``_note``."""
    return jazzomat_chord(symbol, _quarters(start), _quarters(duration))


def _measures(notes, spans, bar_starts, first_bar, last_bar) -> list:
    """One Measure per bar: the notes cut at the bar lines
    (``music.song.notes_in_bars``) and the chord spans cut at the bar lines."""
    bar_numbers = range(first_bar, last_bar + 1)
    bar_notes = notes_in_bars([(start, end, pitch, DEFAULT_VELOCITY)
                               for start, end, pitch, *_ in notes],
                              [bar_starts[bar] for bar in range(first_bar, last_bar + 2)], _note)
    measures = []
    span_index = 0
    for bar, notes_of_bar in zip(bar_numbers, bar_notes):
        bar_start, bar_end = bar_starts[bar], bar_starts[bar + 1]
        while span_index < len(spans) and spans[span_index][1] <= bar_start:
            span_index += 1
        chords = []
        index = span_index
        while index < len(spans) and spans[index][0] < bar_end:
            start, end, symbol = spans[index]
            start, end = max(start, bar_start), min(end, bar_end)
            chords.append(_chord(symbol, start - bar_start, end - start))
            index += 1
        measures.append(Measure(_quarters(bar_end - bar_start), notes_of_bar, chords, bar))
    return measures


# ---------------------------------------------------------- annotations

def _label_stretches(melody: Table, column: str) -> list:
    """(first row, last row, label) of each stretch of rows with the same label
    in ``column`` ([] when the table has no such column); empty cells are in
    no stretch, and form parts also end with their chorus."""
    if not melody.has(column):
        return []
    labels = [str(label) for label in melody.texts(column)]
    keys = (list(zip(labels, melody.texts("chorus_id")))
            if column == "form" and melody.has("chorus_id") else labels)
    stretches = []
    for row, (label, key) in enumerate(zip(labels, keys)):
        if stretches and stretches[-1][3] == key and stretches[-1][1] == row - 1:
            stretches[-1][1] = row
        elif label:
            stretches.append([row, row, label, key])
    return [(first, last, label) for first, last, label, _ in stretches]


def _note_spans(stretches, played: dict) -> tuple:
    """Spans of Song.melody_notes from stretches of melody rows (``played``: melody
    row -> its index there, for the notes kept on the grid): from the stretch's
    first note kept to its last; stretches with no note kept are left out."""
    spans = []
    for first, last, label in stretches:
        kept = [played[row] for row in range(first, last + 1) if row in played]
        if not kept:
            continue
        # A span overlapping the one before (a database may hold such) starts after it.
        start = max(kept[0], spans[-1].stop) if spans else kept[0]
        if start <= kept[-1]:
            spans.append(Span(start, kept[-1] + 1, label))
    return tuple(spans)


def _beat_bar_labels(beats, grid_beats) -> dict:
    """{"choruses", "form_parts": [(bar, key, label) per beat]} from the beat
    track's chorus_id and form columns; {} when it lacks them.  An empty form
    cell continues the form part before it."""
    if beats is None or not (beats.has("chorus_id") and beats.has("form")):
        return {}
    choruses = [str(chorus) for chorus in beats.texts("chorus_id")]
    forms, form = [], ""
    for cell in beats.texts("form"):
        form = cell or form
        forms.append(form)
    bars = [beat.bar for beat in grid_beats]
    return {"choruses": list(zip(bars, choruses, choruses)),
            "form_parts": list(zip(bars, zip(choruses, forms), forms))}


def _note_bar_labels(grid_notes, note_spans: dict) -> dict:
    """{"choruses", "form_parts": [(bar, key, label) per note]} from the stretches
    of melody rows; each stretch is its own key."""
    labels = {}
    for name in ("choruses", "form_parts"):
        labels[name] = [(grid_notes[row].bar, index, label)
                        for index, (first, last, label) in enumerate(note_spans[name])
                        for row in range(first, last + 1)]
    return labels


def _bar_spans(labelled, first_bar: int, last_bar: int) -> tuple:
    """Bar spans (indices into the song's measures, first_bar..last_bar)
    from (bar, key, label) in time order: a new key starts a span at its bar
    unless an earlier key already starts there; each span lasts until the
    next one starts, the last until the song's end; spans before the song's
    first bar are cut at it."""
    starts = []
    previous = None
    for bar, key, label in labelled:
        if key == previous:
            continue
        previous = key
        if label and (not starts or bar > starts[-1][0]):
            starts.append((bar, label))
    spans = []
    for index, (bar, label) in enumerate(starts):
        stop = starts[index + 1][0] if index + 1 < len(starts) else last_bar + 1
        start, stop = max(bar, first_bar), min(stop, last_bar + 1)
        if start < stop:
            spans.append(Span(start - first_bar, stop - first_bar, label))
    return tuple(spans)
