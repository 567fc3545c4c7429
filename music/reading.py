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

music21 reads the files (MIDI notes are quantized by music21 to sixteenths
and eighth-note triplets, so triplets come out as exact thirds) and keeps
its own parse cache; it is imported lazily so that the rest of the package
does not pay for it.

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
* Melody: the part with the best melody score (see ``music.parts``), or the
  part named by ``melody_part``; reduced to its top line; tied notes are
  joined, then every note crossing a bar line is split at the bar line.
  Each bar's notes tile the bar: silences become rests (``pitch=None``).
* Chords: from the chord symbols of the file (lead sheets) when it has any
  and ``chord_parts`` is not given.  Otherwise from the harmony of the
  other pitched parts (or the ``chord_parts``), per window: a bar whose
  time-signature numerator is even is cut into two halves (4/4 -> two half
  notes, 6/8 -> two dotted quarters), any other bar is one window.  The
  window's chord tones are chosen as described in ``music.parts``; the root
  is music21's ``Chord.root()`` of those tones stacked above the lowest
  sounding note, and the symbol is music21's name for them, or "" when
  music21 cannot name them.
* A chord lasts until the next different chord, so identical neighbours
  merge, and a window or bar with no harmony (or an N.C. symbol) carries
  the previous chord forward; bars before the first chord take the first
  chord.  Every chord is clipped to its bar.
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
from bisect import bisect_right
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

from music.parts import (PartNotes, SoundingNote, choose_melody_part, harmony_windows,
                         top_line)
from music.song import Chord, Measure, MusicError, Note, Song, as_fraction

MUSIC_EXTENSIONS = (".mid", ".midi", ".xml", ".mxl", ".musicxml", ".abc")
MIDI_EXTENSIONS = (".mid", ".midi")
CORPUS_PREFIX = "music21:"
DEFAULT_TEMPO = 120.0
DEFAULT_TIME_SIGNATURE = (4, 4)
DEFAULT_VELOCITY = 90
UNNAMED_CHORD = "Chord Symbol Cannot Be Identified"
# Longest excerpt of a library's error message quoted in a MusicError.
MAX_REASON_CHARS = 160


def load_song(source, *, melody_part=None, chord_parts=None, bars=None) -> Song:
    """Read one song.

    source:      a file path, a folder holding one music file, or
                 ``"music21:<corpus name>"``
    melody_part: the melody part as an index into music21's parts of the
                 file (0-based) or a part name (case-insensitive); None
                 picks the most melodic part
    chord_parts: indices or names of the parts to take the harmony from;
                 None uses chord symbols, else every other pitched part
    bars:        (first, last) bar numbers, 1-based and inclusive; None
                 keeps every bar
    Raises MusicError when the source gives no song or several.
    """
    songs = load_songs([source], melody_part=melody_part, chord_parts=chord_parts, bars=bars)
    if len(songs) != 1:
        raise MusicError(f"{source}: holds {len(songs)} songs, not one; use load_songs")
    return songs[0]


def load_songs(sources, *, melody_part=None, chord_parts=None, bars=None,
               on_skip=None) -> list:
    """Read every song of ``sources`` (a list of sources as for
    ``load_song``, or a single one), in order; the options apply to each.

    By default the first source or file that gives no song stops the
    reading with its MusicError, so that a corpus is never silently missing
    a piece.  With ``on_skip``, a callable taking (file label, one-line
    reason), a file found in a folder that gives no song is reported to it
    and left out instead; a file named on its own still raises, and so does
    a missing path, a folder with no music files, or a corpus where every
    file fails.
    """
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    songs, first_failure = [], None
    for source in sources:
        in_folder = not str(source).startswith(CORPUS_PREFIX) and Path(source).is_dir()
        for label, opener in _expand_source(source):
            try:
                songs.extend(_read_songs(label, opener, melody_part, chord_parts, bars))
            except MusicError as error:
                if on_skip is None or not in_folder:
                    raise
                reason = str(error).splitlines()[0]
                first_failure = first_failure or reason
                on_skip(label, reason)
    if not songs and first_failure:
        raise MusicError(f"no file could be read; the first: {first_failure}")
    return songs


def expand_source(source) -> list:
    """The music files of one source, as for ``load_song``, without reading them.

    Returns (label, parse) per file in load order: label is the file's path
    or the ``music21:`` name; ``parse()`` returns music21's parse of the
    file or raises MusicError naming it.  Raises MusicError for a missing
    path, an unknown file type or a folder with no music files.
    """
    return _expand_source(source)


# ----------------------------------------------------------------- sources

def _expand_source(source):
    """(label, opener) for every file of ``source``; ``opener()`` returns the
    music21 parse of that file."""
    text = str(source)
    if text.startswith(CORPUS_PREFIX):
        name = text[len(CORPUS_PREFIX):]
        return [(text, lambda: _parse_corpus(text, name))]
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
        return [(str(file), _file_opener(file)) for file in files]
    if not path.exists():
        raise MusicError(f"{path}: no such file or folder")
    if path.suffix.lower() not in MUSIC_EXTENSIONS:
        raise MusicError(f"{path}: unknown file type {path.suffix or '(no extension)'!r}; "
                         f"expected one of {', '.join(MUSIC_EXTENSIONS)}")
    return [(str(path), _file_opener(path))]


def _file_opener(path: Path):
    return lambda: _parse_file(path)


def _reason(error: Exception) -> str:
    """A library exception as a short single-line reason."""
    text = " ".join(str(error).split()) or "no details"
    if len(text) > MAX_REASON_CHARS:
        text = text[:MAX_REASON_CHARS - 3] + "..."
    return f"{type(error).__name__}: {text}"


def _check_midi_chunks(path: Path, data: bytes):
    """Raise MusicError unless ``data`` is a complete Standard MIDI File:
    music21 reads a truncated file without complaint, dropping its end."""
    if data[:4] != b"MThd":
        raise MusicError(f"{path}: not a MIDI file (no MThd header)")
    position = 0
    chunk_number = 0
    while position < len(data):
        if len(data) - position < 8:
            raise MusicError(f"{path}: truncated MIDI file (incomplete chunk header "
                             f"at byte {position})")
        declared = int.from_bytes(data[position + 4:position + 8], "big")
        remaining = len(data) - position - 8
        if declared > remaining:
            raise MusicError(f"{path}: truncated MIDI file (chunk {chunk_number} declares "
                             f"{declared} bytes, only {remaining} remain)")
        position += 8 + declared
        chunk_number += 1


def _parse_file(path: Path):
    try:
        data = path.read_bytes()
    except OSError as error:
        raise MusicError(f"{path}: cannot be read ({_reason(error)})") from None
    if not data.strip():
        raise MusicError(f"{path}: the file is empty")
    if path.suffix.lower() in MIDI_EXTENSIONS:
        _check_midi_chunks(path, data)
    import music21
    try:
        return music21.converter.parse(str(path))
    except Exception as error:  # music21 raises many unrelated types on bad files
        raise MusicError(f"{path}: not a readable music file ({_reason(error)})") from None


def _parse_corpus(label: str, name: str):
    import music21
    try:
        return music21.corpus.parse(name)
    except Exception as error:  # CorpusException, or a parse error of the found file
        raise MusicError(f"{label}: not found in music21's corpus ({_reason(error)})") from None


# ------------------------------------------------------------- one file

def _read_songs(label, opener, melody_part, chord_parts, bars) -> list:
    parsed = opener()
    try:
        scores = list(parsed.scores) if "Opus" in parsed.classes else [parsed]
        if not scores:
            raise MusicError(f"{label}: holds no tunes")
        return [_song_from_score(score, label, melody_part, chord_parts, bars)
                for score in scores]
    except MusicError:
        raise
    except Exception as error:  # a music21 object that does not behave as expected
        raise MusicError(f"{label}: cannot be turned into a song ({_reason(error)})") from None


def _song_from_score(score, label, melody_part, chord_parts, bars) -> Song:
    # A score without parts (music21 drops empty MIDI tracks) is read as one.
    parts = list(score.parts) or [score]
    pitched = []
    symbols = []
    for index, part in enumerate(parts):
        part_notes, part_symbols = _read_part(index, part)
        if part_notes.notes:
            pitched.append(part_notes)
        symbols.extend(part_symbols)
    if not pitched:
        if _has_unpitched_notes(score):
            raise MusicError(f"{label}: only drum parts (MIDI channel 10), no pitched notes")
        raise MusicError(f"{label}: no notes")

    if melody_part is None:
        melody = choose_melody_part(pitched)
    else:
        melody = _select_part(label, parts, pitched, melody_part, "melody_part")
    line = top_line(melody.notes)

    numerator, denominator = _time_signature(score)
    song_end = max(note.end for part in pitched for note in part.notes)
    bar_starts, bar_ends = _bar_grid(parts, numerator, denominator, song_end)

    if symbols and chord_parts is None:
        timeline = _chord_symbol_timeline(symbols)
        chord_source = "chord symbols"
    else:
        if chord_parts is None:
            harmony_parts = [part for part in pitched if part.index != melody.index]
            if not harmony_parts:
                raise MusicError(f"{label}: no chords found: no chord symbols and no "
                                 f"pitched part besides the melody")
        else:
            harmony_parts = [_select_part(label, parts, pitched, wanted, "chord_parts")
                             for wanted in chord_parts]
        timeline = _harmony_timeline(harmony_parts, bar_starts, bar_ends, numerator)
        if not timeline:
            raise MusicError(f"{label}: no chords found in the harmony parts")
        chord_source = "parts " + ", ".join(_describe(part) for part in harmony_parts)

    measures = _cut_into_measures(line, timeline, bar_starts, bar_ends)
    if bars is not None:
        measures = _select_bars(label, measures, bars)
    if not any(note.pitch is not None for measure in measures for note in measure.notes):
        raise MusicError(f"{label}: no melody notes"
                         + (f" in bars {bars[0]}..{bars[1]}" if bars is not None else ""))
    return Song(measures=measures, tempo=_tempo(score), time_signature=(numerator, denominator),
                title=_title(score, label), source=label, melody_part=_describe(melody),
                chord_source=chord_source)


def _describe(part: PartNotes) -> str:
    """A part for reports: its index, and its name when it has one."""
    return f"{part.index} ({part.name})" if part.name else str(part.index)


# ------------------------------------------------------- music21 -> plain

def _read_part(index, part):
    """The pitched notes of a music21 part, tied notes joined, and its chord
    symbols as (start, Chord template) with start in quarter lengths from
    the song start; N.C. symbols are left out."""
    notes = []
    symbols = []
    open_ties = {}
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
            tie_mark = component.tie or element.tie
            tie = tie_mark.type if tie_mark is not None else None
            pending = open_ties.get(pitch)
            if tie in ("stop", "continue") and pending is not None \
                    and notes[pending].end == start:
                notes[pending] = SoundingNote(notes[pending].start, start + duration,
                                              pitch, notes[pending].velocity)
                if tie == "stop":
                    del open_ties[pitch]
                continue
            notes.append(SoundingNote(start, start + duration, pitch, velocity))
            if tie in ("start", "continue"):
                open_ties[pitch] = len(notes) - 1
            else:
                open_ties.pop(pitch, None)
    notes.sort(key=lambda note: (note.start, note.pitch))
    return PartNotes(index=index, name=_part_name(part), notes=tuple(notes)), symbols


def _symbol_template(symbol) -> Chord:
    """A Chord template (start 0, duration 1) for a music21 ChordSymbol."""
    root = symbol.root().pitchClass
    # The root belongs to the chord even when a voicing leaves it out.
    pitch_classes = {pitch.pitchClass for pitch in symbol.pitches} | {root}
    return Chord(0, 1, root, tuple(pitch_classes), symbol.figure or "")


def _part_name(part) -> str:
    return str(getattr(part, "partName", None) or "")


def _has_unpitched_notes(score) -> bool:
    return any("Unpitched" in element.classes or "PercussionChord" in element.classes
               for element in score.recurse().notes)


def _select_part(label, parts, pitched, wanted, option) -> PartNotes:
    """The PartNotes of the part ``wanted`` (index or name) of ``parts``."""
    if isinstance(wanted, bool) or not isinstance(wanted, (int, str)):
        raise MusicError(f"{label}: {option} must be a part index or name, got {wanted!r}")
    if isinstance(wanted, int):
        if not 0 <= wanted < len(parts):
            raise MusicError(f"{label}: {option} {wanted} is out of range; the file has "
                             f"{len(parts)} parts (0..{len(parts) - 1})")
        index = wanted
    else:
        names = [_part_name(part).lower() for part in parts]
        if wanted.lower() not in names:
            known = ", ".join(repr(_part_name(part)) for part in parts if _part_name(part))
            raise MusicError(f"{label}: {option} {wanted!r} is not a part name; "
                             f"parts are {known or '(unnamed)'}")
        index = names.index(wanted.lower())
    for part in pitched:
        if part.index == index:
            return part
    raise MusicError(f"{label}: part {index} ({_part_name(parts[index]) or 'unnamed'}) "
                     f"has no pitched notes")


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


def _title(score, label) -> str:
    metadata = score.metadata
    if metadata is not None:
        for title in (metadata.title, metadata.movementName):
            if title:
                return str(title)
    return Path(label.removeprefix(CORPUS_PREFIX)).stem


def _bar_grid(parts, numerator, denominator, song_end):
    """Bar starts and ends in quarter lengths from the song start, covering
    ``song_end``: the measures of the part with most measures, then bars of
    the time signature's length."""
    measures = max((list(part.getElementsByClass("Measure")) for part in parts), key=len)
    starts = [as_fraction(measure.offset) for measure in measures]
    ends = starts[1:]
    if measures:
        last = measures[-1]
        last_length = as_fraction(last.duration.quarterLength) \
            or as_fraction(last.barDuration.quarterLength)
        ends.append(starts[-1] + last_length)
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
    from music21 import chord as m21_chord, harmony
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
    quarter lengths), cut at the bar lines."""
    bar_notes = [[] for _ in bar_starts]
    for note in line:
        bar = bisect_right(bar_starts, note.start) - 1
        start = note.start
        while start < note.end:
            end = min(note.end, bar_ends[bar])
            bar_notes[bar].append(Note(start - bar_starts[bar], end - start,
                                       note.pitch, note.velocity))
            start = end
            bar += 1

    spans = []
    for start, template in timeline:
        if spans and spans[-1][2] == template:
            continue
        if spans:
            spans[-1][1] = start
        spans.append([start, None, template])
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
        measures.append(Measure(length=length, notes=_with_rests(bar_notes[number - 1], length),
                                chords=chords, number=number))
    return measures


def _with_rests(notes, length) -> list:
    """``notes`` (sorted, non-overlapping) with the silences of a bar of
    ``length`` quarter lengths filled by rests."""
    filled = []
    position = Fraction(0)
    for note in notes:
        if note.start > position:
            filled.append(Note(position, note.start - position))
        filled.append(note)
        position = note.end
    if position < length:
        filled.append(Note(position, length - position))
    return filled


def _select_bars(label, measures, bars) -> list:
    try:
        first, last = (int(number) for number in bars)
    except (TypeError, ValueError):
        raise MusicError(f"{label}: bars must be (first, last) bar numbers, got {bars!r}") from None
    if not 1 <= first <= last <= len(measures):
        raise MusicError(f"{label}: bars {first}..{last} are outside the song's "
                         f"bars 1..{len(measures)}")
    return measures[first - 1:last]
