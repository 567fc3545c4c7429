"""Chords given as text for a melody: ``train --chords`` and ``NAME.chords`` files.

Transcribed solos are mostly melody-only files.  Their chords can be given
as a progression (``music.progressions.progression_bars``: chord symbols
with bar lines, ``%`` and ``/``, or a named form such as ``rhythm:Bb``):

* for every file read, as one text (``train --chords``);
* per piece, in a file ``NAME.chords`` beside ``NAME.mid`` (or any music
  file): the progression over one or more lines, each line ending a bar
  (``|`` at a line's ends is optional); blank lines and text after ``#``
  are left out.

A piece's own ``NAME.chords`` wins over the text given for every file,
which wins over the chords found in the file itself.

The progression repeats over the melody's bars from bar 1: bar ``b``
(1-based) takes the progression's bar ``(b - 1 - offset) mod n``.  With
``offset`` pickup bars, the progression's first bar falls on bar
``offset + 1`` and the pickup bars take its last bars, as a pickup leads
into the top of the form from the end of the chorus before.  A bar shorter
or longer than the time signature's (a pickup measure of a MusicXML file)
holds its progression bar's chords scaled to its length.
"""
from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import NamedTuple

from music.files import InputError, read_bounded
from music.progressions import progression_bars
from music.song import MusicError

CHORDS_SUFFIX = ".chords"
MAX_CHORDS_FILE_BYTES = 1 << 20
GIVEN_TEXT = "the given chords"


class GivenChords(NamedTuple):
    """A progression for a melody: its text, the pickup bars before its first
    bar, and where it came from (a NAME.chords path or GIVEN_TEXT)."""

    text: str
    offset: int
    origin: str


def chords_for(label: str, text: str | None, offset: int) -> GivenChords | None:
    """The chords given for the music file ``label``: its NAME.chords file,
    else ``text``, else None.  Raises MusicError naming a chords file that
    cannot be read."""
    beside = Path(label).with_suffix(CHORDS_SUFFIX)
    if beside.is_file():
        return GivenChords(read_chords_file(beside), offset, str(beside))
    if text is not None:
        return GivenChords(text, offset, GIVEN_TEXT)
    return None


def read_chords_file(path: Path) -> str:
    """The progression of a NAME.chords file, one line per bar or more."""
    try:
        text = read_bounded(path, MAX_CHORDS_FILE_BYTES, "chords file").decode("utf-8")
    except InputError as error:
        raise MusicError(str(error)) from None
    except (OSError, UnicodeDecodeError) as error:
        raise MusicError(f"{path}: cannot be read as UTF-8 text ({error})") from None
    lines = [line.partition("#")[0].strip().strip("|").strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise MusicError(f"{path}: holds no chords")
    return " | ".join(lines)


def check_given_chords(text: str) -> None:
    """Raise MusicError (naming the bar and symbol) when ``text`` is no progression."""
    try:
        progression_bars(text)
    except MusicError as error:
        raise MusicError(f"chords {text!r}: {error}") from None


def with_given_chords(measures, given: GivenChords, bar_length: Fraction) -> list:
    """``measures`` with their chords replaced by the given progression, laid
    over them as the module docstring says; bar_length is the time
    signature's bar in quarter lengths."""
    try:
        bars = progression_bars(given.text, beats_per_bar=bar_length)
    except MusicError as error:
        raise MusicError(f"{given.origin}: {error}") from None
    laid = []
    for index, measure in enumerate(measures):
        scale = measure.length / bar_length
        chords = [replace(chord, start=chord.start * scale, duration=chord.duration * scale)
                  for chord in bars[(index - given.offset) % len(bars)]]
        laid.append(replace(measure, chords=chords))
    return laid
