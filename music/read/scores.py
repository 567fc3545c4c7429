"""Files in, a plain Song out.

Sources
-------
``load_song`` and ``load_songs`` accept:

* a MIDI (``.mid``, ``.midi``), MusicXML (``.xml``, ``.mxl``, ``.musicxml``)
  or ABC (``.abc``) file;
* a folder: every music file inside it, recursively, in sorted order of
  their paths relative to the folder (hidden files are skipped);
* ``music21:<name>``: a piece of music21's bundled corpus, e.g.
  ``music21:leadSheet/berlinAlexandersRagtime.xml``.

An ABC file holding several tunes gives one Song per tune to ``load_songs``;
``load_song`` wants exactly one song, so it refuses such a file (and a
folder with several files) rather than silently picking one.

Reading
-------
MIDI files are read with mido by ``music.read.midi``, which reproduces
music21's MIDI import (notes quantized to sixteenths and eighth-note
triplets, so triplets come out as exact thirds) in a fraction of its time,
without a bug of music21 that shifts parts by whole beats (see there); a
file mido refuses is handed to music21.  music21 reads everything else,
imported on first use (``music.m21``) so that the rest of the package does not pay
for it.
Either reader gives a ``music.read.parts.PlainScore``, from which the Song is
made.  Files over ``MAX_FILE_BYTES`` are refused, MIDI files with more than
``music.read.midi.MAX_NOTES`` notes too.

Several files are read by a pool of worker processes (as many as there are
CPUs, at most one per file), with a progress bar on a terminal; the songs
come in the order of the sources whatever order the workers finish in.

Cache
-----
Each file's songs are cached by ``music.read.cache`` under a key made of
the file's bytes, the source code of the reading modules (any change to
the reader is a new key), music21's version and the options, so a file
read before comes back at once.  Only the song's ``source`` (and the title
when it is the file name) is set from the file name it is read under.

Song
----
* tempo: the first metronome mark of the file, else 120 quarter notes per
  minute; time signature: the first one, else 4/4; title: the file's title,
  else its movement name, else the file name.
* Bars come from the measures of the part with the most measures (pickups
  and meter changes included), extended with bars of the first time
  signature if any note sounds later; they are numbered 1, 2, ... in file
  order and ``bars=(first, last)`` keeps an inclusive range of those
  numbers.
* Melody: the part with the best melody score (see ``music.read.parts``), or the
  part named by ``melody_part``; reduced to its top line; tied notes are
  joined, then every note crossing a bar line is split at the bar line,
  the parts after it tied (``Note.tied``), so a note held over the line,
  tied in MusicXML or sustained in MIDI, stays one note.
  Each bar's notes tile the bar: silences become rests (``pitch=None``).
* Chords: from the chord symbols of the file (lead sheets) when it has any
  and ``chord_parts`` is not given.  Otherwise from the harmony of the
  other pitched parts (or the ``chord_parts``), per window: a bar whose
  time-signature numerator is even is cut into two halves (4/4 -> two half
  notes, 6/8 -> two dotted quarters), any other bar is one window.  The
  window's chord tones are chosen as described in ``music.read.parts``; the root
  is music21's ``Chord.root()`` of those tones stacked above the lowest
  sounding note, and the symbol is music21's name for them, or "" when
  music21 cannot name them.
* A chord lasts until the next different chord, so identical neighbours
  merge, and a window or bar with no harmony (or an N.C. symbol) carries
  the previous chord forward; bars before the first chord take the first
  chord.  Every chord is clipped to its bar.
* Chords given as text (the ``chords`` option, or a NAME.chords file beside
  the music file) take the place of all that, laid over the bars as
  ``music.read.given_chords`` says: melody-only files need them.
* Drum parts (MIDI channel 10, unpitched notes) are ignored everywhere.
* ``Song.melody_part`` names the melody part ("5 (Guitar)") and
  ``Song.chord_source`` says where the chords came from ("chord symbols"
  or "parts 0 (Piano), 1 (Bass)").

music21 names a chord in about 10 ms, so chord names are cached for the
whole process, keyed by pitch-class set and bass.

Every problem with a source raises ``MusicError`` with one line naming the
source and what is wrong; no music21 or mido exception escapes.
"""
from __future__ import annotations

import os
import sys
import threading
from dataclasses import replace
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

from tqdm import tqdm

from music.m21 import load_music21
from music.read.parallel import read_in_parallel
from music.read.midi import (DEFAULT_TEMPO, DEFAULT_TIME_SIGNATURE, MidoCannotRead,
                                 read_midi)
from music.read.given_chords import (CHORDS_SUFFIX, GivenChords, check_given_chords, chords_for,
                                     with_given_chords)
from music.read.parts import (PartNotes, PlainScore, choose_melody_part, harmony_windows, join_ties,
                         top_line)
from music.song import Chord, Measure, MusicError, Song, as_fraction, detached, notes_in_bars
from music.read.cache import (CORPUS_PREFIX, TokenCache, content_key, decode_songs,
                              default_cache_dir, encode_songs, file_bytes, music21_version,
                              source_fingerprint)

MUSIC_EXTENSIONS = (".mid", ".midi", ".xml", ".mxl", ".musicxml", ".abc")
MIDI_EXTENSIONS = (".mid", ".midi")
MAX_FILE_BYTES = 16 * 1024 * 1024
DEFAULT_VELOCITY = 90
UNNAMED_CHORD = "Chord Symbol Cannot Be Identified"
# Longest excerpt of a library's error message quoted in a MusicError.
MAX_REASON_CHARS = 160
# A read taking longer than this shows progress (on a terminal).
PROGRESS_DELAY_SECONDS = 1.0
SONG_CACHE_NAMESPACE = "songs"
# The modules whose code decides a file's songs: their source is part of the cache key.
READER_MODULES = ("read/scores.py", "read/midi.py", "read/parts.py", "read/given_chords.py",
                  "song.py", "chords.py", "progressions.py")


def load_song(source, *, melody_part=None, chord_parts=None, bars=None, chords=None,
              chords_offset: int = 0, cache_dir=None) -> Song:
    """Read one song.

    source:      a file path, a folder holding one music file, or
                 ``"music21:<corpus name>"``
    melody_part: the melody part as an index into the parts of the file
                 (0-based, in music21's order) or a part name
                 (case-insensitive); None picks the most melodic part
    chord_parts: indices or names of the parts to take the harmony from;
                 None uses chord symbols, else every other pitched part
    bars:        (first, last) bar numbers, 1-based and inclusive; None
                 keeps every bar
    chords:      a progression (text) to lay over the melody instead of the
                 file's chords; a NAME.chords file beside the music file
                 wins over it (see ``music.read.given_chords``)
    chords_offset: pickup bars before the given progression's first bar
    cache_dir:   folder of the song cache (None: ``default_cache_dir()``)
    Raises MusicError when the source gives no song or several.
    """
    songs = load_songs([source], melody_part=melody_part, chord_parts=chord_parts, bars=bars,
                       chords=chords, chords_offset=chords_offset, cache_dir=cache_dir)
    if len(songs) != 1:
        raise MusicError(f"{source}: holds {len(songs)} songs, not one; use load_songs")
    return songs[0]


def load_songs(sources, *, melody_part=None, chord_parts=None, bars=None, chords=None,
               chords_offset: int = 0, on_skip=None, cache_dir=None,
               progress: bool = True) -> list:
    """Read every song of ``sources`` (a list of sources as for
    ``load_song``, or a single one), in order; the options apply to each.

    By default the first source or file that gives no song stops the
    reading with its MusicError, so that a corpus is never silently missing
    a piece.  With ``on_skip``, a callable taking (file label, one-line
    reason), a file found in a folder that gives no song is reported to it
    and left out instead; a file named on its own still raises, and so does
    a missing path, a folder with no music files, or a corpus where every
    file fails.  ``progress`` allows a progress bar on a terminal.
    ``chords`` that are no progression raise MusicError before any file is read.
    """
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    if chords is not None:
        if chord_parts is not None:
            raise MusicError("chord_parts and chords both say where the chords come from; "
                             "give one")
        check_given_chords(chords)
    options = (melody_part, tuple(chord_parts) if chord_parts is not None else None,
               tuple(bars) if isinstance(bars, (list, tuple)) else bars)
    files = []  # (label, whether it was found in a folder)
    for source in sources:
        in_folder = not str(source).startswith(CORPUS_PREFIX) and Path(source).is_dir()
        files.extend((label, in_folder) for label in _file_labels(source))
    cache = TokenCache((Path(cache_dir) if cache_dir is not None else default_cache_dir())
                       / SONG_CACHE_NAMESPACE,
                       encode=encode_songs, decode=lambda data: decode_songs(data)["songs"],
                       suffix=".json")
    results = [None] * len(files)   # (songs, None) or ([], one-line reason)
    keys = [None] * len(files)
    file_options = [options + (None,)] * len(files)
    for number, (label, _) in enumerate(files):
        try:
            data = None if label.startswith(CORPUS_PREFIX) else _checked_bytes(label)
            file_options[number] = options + (chords_for(label, chords, chords_offset),)
            keys[number] = content_key(label, data, source_fingerprint(*READER_MODULES),
                                       music21_version(), repr(file_options[number]))
        except MusicError as error:
            results[number] = ([], str(error).splitlines()[0])
            continue
        cached = cache.get(keys[number])
        if cached is not None:
            results[number] = ([_as_read_from(song, label) for song in cached], None)
    missing = [number for number, result in enumerate(results) if result is None]
    # One file alone may show its own progress; the pool's bar counts files.
    parsed = read_in_parallel(_songs_or_reason, [
        (files[number][0], file_options[number], len(missing) == 1) for number in missing],
        progress=progress)
    for number, (file_songs, reason) in zip(missing, parsed):
        results[number] = (file_songs, reason)
        if reason is None:
            cache.put(keys[number], [replace(song, source="") for song in file_songs],
                      lambda line: print(line, file=sys.stderr, flush=True))
    songs, first_failure = [], None
    for (label, in_folder), (file_songs, reason) in zip(files, results):
        if reason is None:
            songs.extend(_as_read_from(song, label) for song in file_songs)
            continue
        if on_skip is None or not in_folder:
            raise MusicError(reason)
        first_failure = first_failure or reason
        on_skip(label, reason)
    if not songs and first_failure:
        raise MusicError(f"no file could be read; the first: {first_failure}")
    return songs


def expand_source(source) -> list:
    """The music files of one source, as for ``load_song``, without reading them.

    Returns (label, read) per file in load order: label is the file's path
    or the ``music21:`` name; ``read()`` returns the PlainScores of the
    file's tunes or raises MusicError naming it.  Raises MusicError for a
    missing path, an unknown file type or a folder with no music files.
    """
    return [(label, _reader_of(label)) for label in _file_labels(source)]


def read_plain_scores(label: str, *, progress: bool = False) -> list:
    """The PlainScores of the tunes of one file (a path or a ``music21:``
    name), uncached; ``progress`` shows a bar on a terminal when the read
    takes more than a second.  Raises MusicError naming the file."""
    if label.startswith(CORPUS_PREFIX):
        return _plain_scores(label, _parse_corpus(label, label[len(CORPUS_PREFIX):]))
    return _plain_scores_of_file(label, _checked_bytes(label), progress)


# ----------------------------------------------------------------- sources

def _file_labels(source) -> list:
    """The label of every music file of ``source``, in load order."""
    text = str(source)
    if text.startswith(CORPUS_PREFIX):
        return [text]
    path = Path(source)
    if path.is_dir():
        files = sorted(
            (candidate for candidate in path.rglob("*")
             if candidate.is_file() and candidate.suffix.lower() in MUSIC_EXTENSIONS
             and not any(part.startswith(".") for part in candidate.relative_to(path).parts)),
            key=lambda candidate: candidate.relative_to(path).as_posix())
        if not files:
            raise MusicError(
                f"{path}: folder holds no music files ({', '.join(MUSIC_EXTENSIONS)})")
        return [str(file) for file in files]
    if not path.exists():
        raise MusicError(f"{path}: no such file or folder")
    if path.suffix.lower() not in MUSIC_EXTENSIONS:
        raise MusicError(f"{path}: unknown file type {path.suffix or '(no extension)'!r}; "
                         f"expected one of {', '.join(MUSIC_EXTENSIONS)}")
    return [str(path)]


def _reader_of(label: str):
    return lambda: read_plain_scores(label)


def _reason(error: Exception) -> str:
    """A library exception as a short single-line reason."""
    text = " ".join(str(error).split()) or "no details"
    if len(text) > MAX_REASON_CHARS:
        text = text[:MAX_REASON_CHARS - 3] + "..."
    return f"{type(error).__name__}: {text}"


def _checked_bytes(label: str) -> bytes:
    """The bytes of a music file, refused when empty, not a regular file or over
    the size limit (counted while reading: /dev/zero or a FIFO never hang)."""
    data = file_bytes(label, MAX_FILE_BYTES)
    if not data.strip():
        raise MusicError(f"{label}: the file is empty")
    return data


def _check_midi_chunks(label: str, data: bytes):
    """Raise MusicError unless ``data`` is a complete Standard MIDI File:
    music21 reads a truncated file without complaint, dropping its end."""
    if data[:4] != b"MThd":
        raise MusicError(f"{label}: not a MIDI file (no MThd header)")
    position = 0
    chunk_number = 0
    while position < len(data):
        if len(data) - position < 8:
            raise MusicError(f"{label}: truncated MIDI file (incomplete chunk header "
                             f"at byte {position})")
        declared = int.from_bytes(data[position + 4:position + 8], "big")
        remaining = len(data) - position - 8
        if declared > remaining:
            raise MusicError(f"{label}: truncated MIDI file (chunk {chunk_number} declares "
                             f"{declared} bytes, only {remaining} remain)")
        position += 8 + declared
        chunk_number += 1


def _plain_scores_of_file(label: str, data: bytes, progress: bool) -> list:
    if Path(label).suffix.lower() in MIDI_EXTENSIONS:
        _check_midi_chunks(label, data)
        bar = _ProgressBar(label, "track") if progress else None
        try:
            return [read_midi(label, data, progress=bar.update if bar else None)]
        except MidoCannotRead:
            pass  # music21's own MIDI parser is more lenient
        finally:
            if bar is not None:
                bar.close()
    with _SlowReadNotice(label, progress):
        return _plain_scores(label, _parse_file(label))


def _parse_file(label: str):
    music21 = load_music21()
    try:
        return music21.converter.parse(label)
    except Exception as error:  # music21 raises many unrelated types on bad files
        raise MusicError(f"{label}: not a readable music file ({_reason(error)})") from None


def _parse_corpus(label: str, name: str):
    music21 = load_music21()
    try:
        return music21.corpus.parse(name)
    except Exception as error:  # CorpusException, or a parse error of the found file
        raise MusicError(f"{label}: not found in music21's corpus ({_reason(error)})") from None


# ------------------------------------------------------ progress, workers

class _ProgressBar:
    """A tqdm bar on a terminal that appears only when a read is slow."""

    def __init__(self, label: str, unit: str):
        self.bar = None
        if sys.stderr.isatty():
            self.bar = tqdm(desc=f"reading {Path(label).name}", unit=unit, leave=False,
                            delay=PROGRESS_DELAY_SECONDS, dynamic_ncols=True)

    def update(self, done: int, total: int) -> None:
        if self.bar is not None:
            self.bar.total = total
            self.bar.n = done
            self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class _SlowReadNotice:
    """Prints "reading <file> with music21 ..." on a terminal when a read
    outlasts PROGRESS_DELAY_SECONDS (music21 reports no progress of its own)."""

    def __init__(self, label: str, enabled: bool):
        self.timer = None
        if enabled and sys.stderr.isatty():
            self.timer = threading.Timer(PROGRESS_DELAY_SECONDS, print, args=(
                f"reading {label} with music21 ...",), kwargs={"file": sys.stderr, "flush": True})
            self.timer.daemon = True

    def __enter__(self):
        if self.timer is not None:
            self.timer.start()
        return self

    def __exit__(self, *exc_info):
        if self.timer is not None:
            self.timer.cancel()


# ------------------------------------------------------------- one file

def _songs_or_reason(label, options, progress) -> tuple:
    """(songs, None) for a file, or ([], one-line reason); runs in a worker.
    The songs' titles are "" where the file has none."""
    try:
        if label.startswith(CORPUS_PREFIX):
            plain_scores = read_plain_scores(label)
        else:
            plain_scores = _plain_scores_of_file(label, _checked_bytes(label), progress)
        return _songs_from_plain(label, plain_scores, *options), None
    except MusicError as error:
        return [], str(error).splitlines()[0]


def _as_read_from(song: Song, label: str) -> Song:
    """A song as read from ``label``: its source, and the file name as its
    title when the file gives none (so that cached songs fit any name)."""
    return replace(song, source=label, title=song.title or _name_title(label))


def _songs_from_plain(label, plain_scores, melody_part, chord_parts, bars, given) -> list:
    """The songs of a file's PlainScores, with the title left empty when the
    file has none (``_as_read_from`` names it after the file)."""
    return [_song_from_plain(plain, label, melody_part, chord_parts, bars, given)
            for plain in plain_scores]


def _plain_scores(label, parsed) -> list:
    """The PlainScores of music21's parse of a file (one per tune)."""
    try:
        scores = list(parsed.scores) if "Opus" in parsed.classes else [parsed]
        if not scores:
            raise MusicError(f"{label}: holds no tunes")
        return [_plain_from_score(score) for score in scores]
    except MusicError:
        raise
    except Exception as error:  # a music21 object that does not behave as expected
        raise MusicError(f"{label}: cannot be turned into a song ({_reason(error)})") from None


def _song_from_plain(plain: PlainScore, label, melody_part, chord_parts, bars,
                     given: GivenChords | None = None) -> Song:
    parts = plain.parts
    pitched = plain.pitched
    if not pitched:
        if plain.has_drums:
            raise MusicError(f"{label}: only drum parts (MIDI channel 10), no pitched notes")
        raise MusicError(f"{label}: no notes")

    if melody_part is None:
        melody = choose_melody_part(pitched)
    else:
        melody = _select_part(label, parts, melody_part, "melody_part")
    line = top_line(melody.notes)

    numerator, denominator = plain.time_signature
    song_end = max(note.end for part in pitched for note in part.notes)
    bar_starts, bar_ends = _bar_grid(plain.measures, numerator, denominator, song_end)

    if given is not None:
        timeline = []
        chord_source = given.origin + (f" after {given.offset} pickup bar(s)" if given.offset
                                       else "")
    elif plain.symbols and chord_parts is None:
        timeline = _chord_symbol_timeline(plain.symbols)
        chord_source = "chord symbols"
    else:
        if chord_parts is None:
            harmony_parts = [part for part in pitched if part.index != melody.index]
            if not harmony_parts:
                raise MusicError(f"{label}: no chords found: no chord symbols and no "
                                 f"pitched part besides the melody; give them as text "
                                 f"(train --chords, or a {CHORDS_SUFFIX} file beside it)")
        else:
            harmony_parts = [_select_part(label, parts, wanted, "chord_parts")
                             for wanted in chord_parts]
        timeline = _harmony_timeline(harmony_parts, bar_starts, bar_ends, numerator)
        if not timeline:
            raise MusicError(f"{label}: no chords found in the harmony parts")
        chord_source = "parts " + ", ".join(_describe(part) for part in harmony_parts)

    measures = _cut_into_measures(line, timeline, bar_starts, bar_ends)
    if given is not None:
        measures = with_given_chords(measures, given, Fraction(4 * numerator, denominator))
    if bars is not None:
        measures = _select_bars(label, measures, bars)
    if not any(note.pitch is not None for measure in measures for note in measure.notes):
        raise MusicError(f"{label}: no melody notes"
                         + (f" in bars {bars[0]}..{bars[1]}" if bars is not None else ""))
    return Song(measures=measures, tempo=plain.tempo, time_signature=(numerator, denominator),
                title=plain.title, source=label, melody_part=_describe(melody),
                chord_source=chord_source)


def _describe(part: PartNotes) -> str:
    """A part for reports: its index, and its name when it has one."""
    return f"{part.index} ({part.name})" if part.name else str(part.index)


def _name_title(label: str) -> str:
    return Path(label.removeprefix(CORPUS_PREFIX)).stem


def _select_part(label, parts, wanted, option) -> PartNotes:
    """The part ``wanted`` (index or name) of ``parts`` (all PartNotes of
    the file), which must have pitched notes."""
    if isinstance(wanted, bool) or not isinstance(wanted, (int, str)):
        raise MusicError(f"{label}: {option} must be a part index or name, got {wanted!r}")
    if isinstance(wanted, int):
        if not 0 <= wanted < len(parts):
            raise MusicError(f"{label}: {option} {wanted} is out of range; the file has "
                             f"{len(parts)} parts (0..{len(parts) - 1})")
        index = wanted
    else:
        names = [part.name.lower() for part in parts]
        if wanted.lower() not in names:
            known = ", ".join(repr(part.name) for part in parts if part.name)
            raise MusicError(f"{label}: {option} {wanted!r} is not a part name; "
                             f"parts are {known or '(unnamed)'}")
        index = names.index(wanted.lower())
    if not parts[index].notes:
        raise MusicError(f"{label}: part {index} ({parts[index].name or 'unnamed'}) "
                         f"has no pitched notes")
    return parts[index]


def _bar_grid(measures, numerator, denominator, song_end):
    """Bar starts and ends in quarter lengths from the song start, covering
    ``song_end``: the (start, length) ``measures``, then bars of the time
    signature's length."""
    starts = [start for start, _ in measures]
    ends = starts[1:] + ([starts[-1] + measures[-1][1]] if measures else [])
    # Zero-length measures (music21 keeps some for layout) hold nothing.
    grid = [(start, end) for start, end in zip(starts, ends) if end > start]
    bar_length = Fraction(4 * numerator, denominator)
    if not grid:
        grid = [(Fraction(0), bar_length)]
    elif grid[0][0] > 0:
        grid.insert(0, (Fraction(0), grid[0][0]))  # so that every note has a bar
    while grid[-1][1] < song_end:
        grid.append((grid[-1][1], grid[-1][1] + bar_length))
    return [start for start, _ in grid], [end for _, end in grid]


# ------------------------------------------------------- music21 -> plain

def _plain_from_score(score) -> PlainScore:
    """What the Song needs from one music21 score."""
    # A score without parts (music21 drops empty MIDI tracks) is read as one.
    parts = list(score.parts) or [score]
    part_notes, symbols = [], []
    for index, part in enumerate(parts):
        notes, part_symbols = _read_part(index, part)
        part_notes.append(notes)
        symbols.extend(part_symbols)
    measures = max((list(part.getElementsByClass("Measure")) for part in parts), key=len)
    spans = [(as_fraction(measure.offset), as_fraction(measure.duration.quarterLength))
             for measure in measures]
    if measures and not spans[-1][1]:
        spans[-1] = (spans[-1][0], as_fraction(measures[-1].barDuration.quarterLength))
    return PlainScore(parts=tuple(part_notes), symbols=tuple(symbols),
                      time_signature=_time_signature(score), tempo=_tempo(score),
                      title=_title(score), measures=tuple(spans),
                      has_drums=_has_unpitched_notes(score))


def _read_part(index, part):
    """The pitched notes of a music21 part, tied notes joined, and its chord
    symbols as (start, Chord template) with start in quarter lengths from
    the song start; N.C. symbols are left out."""
    pieces = []
    symbols = []
    for element in part.flatten().notes:
        classes = element.classes
        if "ChordSymbol" in classes:
            if "NoChord" not in classes and element.pitches:
                symbols.append((as_fraction(element.offset), _symbol_template(element)))
            continue
        # Drum hits and analytic harmony (roman numerals) are not melody or chord notes.
        if "Unpitched" in classes or "PercussionChord" in classes or "Harmony" in classes:
            continue
        duration = as_fraction(element.duration.quarterLength)
        if duration <= 0:
            continue  # grace notes take no time in the bar
        start = as_fraction(element.offset)
        velocity = element.volume.velocity or DEFAULT_VELOCITY
        velocity = max(1, min(127, int(velocity)))
        components = element.notes if "Chord" in classes else (element,)
        for component in components:
            pitch = component.pitch.midi
            if not 0 <= pitch <= 127:
                continue
            tie = component.tie or element.tie
            pieces.append((start, start + duration, pitch, velocity,
                           tie.type if tie is not None else None))
    name = str(getattr(part, "partName", None) or "")
    return PartNotes(index=index, name=name, notes=join_ties(pieces)), symbols


def _symbol_template(symbol) -> Chord:
    """A Chord template (start 0, duration 1) for a music21 ChordSymbol."""
    root = symbol.root().pitchClass
    # The root belongs to the chord even when a voicing leaves it out.
    pitch_classes = {pitch.pitchClass for pitch in symbol.pitches} | {root}
    return Chord(0, 1, root, tuple(pitch_classes), symbol.figure or "")


def _has_unpitched_notes(score) -> bool:
    return any("Unpitched" in element.classes or "PercussionChord" in element.classes
               for element in score.recurse().notes)


def _time_signature(score):
    for signature in score.recurse().getElementsByClass("TimeSignature"):
        return signature.numerator, signature.denominator
    return DEFAULT_TIME_SIGNATURE


def _tempo(score) -> float:
    for mark in score.recurse().getElementsByClass("MetronomeMark"):
        bpm = mark.getQuarterBPM()
        if bpm and 0 < bpm < 1000:
            return float(bpm)
    return DEFAULT_TEMPO


def _title(score) -> str:
    """The score's title, else its movement name, else ""."""
    metadata = score.metadata
    if metadata is not None:
        for title in (metadata.title, metadata.movementName):
            if title:
                return str(title)
    return ""


# ------------------------------------------------------------- chords

def _chord_symbol_timeline(symbols) -> list:
    """The (start, Chord template) chord symbols of all parts in time order,
    one per start: lead sheets may repeat a symbol in several staves."""
    by_start = {}
    for start, template in symbols:
        by_start.setdefault(start, template)
    return sorted(by_start.items(), key=lambda entry: entry[0])


def _harmony_timeline(harmony_parts, bar_starts, bar_ends, numerator) -> list:
    """(start, Chord template) for each harmony window with sound."""
    window_starts = []
    for start, end in zip(bar_starts, bar_ends):
        window_starts.append(start)
        if numerator % 2 == 0:
            window_starts.append(start + (end - start) / 2)
    notes = [note for part in harmony_parts for note in part.notes]
    return [(window.start, _named_chord(window.pitch_classes, window.bass % 12))
            for window in harmony_windows(notes, window_starts, bar_ends[-1])]


@lru_cache(maxsize=None)
def _named_chord(pitch_classes, bass) -> Chord:
    """A Chord template (start 0, duration 1) for ``pitch_classes`` (sorted
    pitch classes 0..11) over ``bass`` (a pitch class among them), root and
    symbol by music21.  Cached for the whole process: music21 needs about
    10 ms per chord and songs repeat their chords."""
    music21 = load_music21()
    m21_chord, harmony = music21.chord, music21.harmony
    # The bass in octave 3 and the other tones stacked within the octave above it.
    bass_pitch = 48 + bass
    pitches = [bass_pitch] + [bass_pitch + (pc - bass) % 12 for pc in pitch_classes if pc != bass]
    stacked = m21_chord.Chord(pitches)
    figure = harmony.chordSymbolFigureFromChord(stacked)
    symbol = "" if not figure or figure == UNNAMED_CHORD else figure
    return Chord(0, 1, stacked.root().pitchClass, pitch_classes, symbol)


# ------------------------------------------------------------- measures

def _cut_into_measures(line, timeline, bar_starts, bar_ends) -> list:
    """Measures from the melody line and the chord timeline (absolute
    quarter lengths), cut at the bar lines (``music.song.notes_in_bars``:
    a note held over a bar line is tied)."""
    bar_notes = notes_in_bars([(note.start, note.end, note.pitch, note.velocity)
                               for note in line], bar_starts + bar_ends[-1:])

    spans = []
    for start, template in timeline:
        if spans and spans[-1][2] == template:
            continue
        if spans:
            spans[-1][1] = start
        spans.append([start, None, template])
    if spans:
        spans[0][0] = bar_starts[0]
        spans[-1][1] = bar_ends[-1]

    measures = []
    span_index = 0
    for number, (bar_start, bar_end) in enumerate(zip(bar_starts, bar_ends), start=1):
        length = bar_end - bar_start
        chords = []
        while span_index < len(spans) and spans[span_index][1] <= bar_start:
            span_index += 1
        scan = span_index
        while scan < len(spans) and spans[scan][0] < bar_end:
            span_start, span_end, template = spans[scan]
            start = max(span_start, bar_start)
            end = min(span_end, bar_end)
            if end > start:
                chords.append(Chord(start - bar_start, end - start, template.root,
                                    template.pitch_classes, template.symbol))
            scan += 1
        measures.append(Measure(length=length, notes=bar_notes[number - 1], chords=chords,
                                number=number))
    return measures


def _select_bars(label, measures, bars) -> list:
    try:
        first, last = (int(number) for number in bars)
    except (TypeError, ValueError):
        raise MusicError(f"{label}: bars must be (first, last) bar numbers, got {bars!r}") from None
    if not 1 <= first <= last <= len(measures):
        raise MusicError(f"{label}: bars {first}..{last} are outside the song's "
                         f"bars 1..{len(measures)}")
    return detached(measures[first - 1:last])
