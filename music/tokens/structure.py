"""Phrase and form features: where a step lies in its phrase and in the chorus.

Two optional groups of features that ``music.tokens.conditioning`` appends to
the harmony and position features (issue 20, item 3), chosen by one setting,
``STRUCTURES``: "none", "phrase", "form" or "phrase+form".

Phrase (``PHRASE_FEATURE_NAMES``, 4 numbers), from the exact-grammar tokens
before the step alone, so that training (the tokens of a Song) and sampling
(the tokens the model has drawn so far) compute them by the same code,
``PhraseTracker``.  A phrase ends where the melody rests a beat or more
(12 grid units of silence between a note's end and the next onset, bar
lines not counting), as ``evaluate``'s phrase figures count it
(docs/evaluate.md, "Phrasing and structure"):

* ``phrase_open``: 1 while a phrase goes on (a note has sounded and less
  than a beat of silence has followed it), else 0.
* ``phrase_beats``: 1 - exp(-b / 8), b the beats since the phrase's first
  onset (its notes, ties and short rests); 0 when no phrase is open.
* ``phrase_notes``: 1 - exp(-n / 16), n the notes struck in the phrase so
  far; 0 when no phrase is open.
* ``rest_beats``: min(r, 4) / 4, r the beats of silence since the last
  sounding note ended (since the start of the piece before any note).

A tie sounds when it follows a sounding note (no silence since); otherwise
(which only generated streams write) it counts as silence, as the decoder
plays it.  The squashed counts stay in 0..1 and keep changing over the
phrase lengths players use (a phrase of 19 notes and 10 beats, the mean of
the Weimar Jazz Database's held-out solos, gives 0.70 and 0.71).

Form (``FORM_FEATURE_NAMES``, 8 numbers), one row per bar (``FormPlace``):

* ``chorus_progress``: the bar's index in its chorus / the chorus's bars.
* ``chorus=1``, ``chorus=2``, ``chorus=3+``: one-hot of the chorus number.
* ``part=A``, ``part=B``, ``part=C+``: one-hot of the letter of the form
  part (the tune's A, B, C... sections); intros and unknown letters set none.
* ``part_progress``: the bar's index in its form part / the part's bars.

A bar outside every chorus (a pickup) has all form features 0.  Where they
come from:

* training, a Song with chorus annotations (Weimar Jazz Database solos):
  ``form_from_annotations``, the transcribers' choruses and form parts;
* anything else (a Song without them; sampling over a user's chords):
  ``form_from_chords``, one chorus being one pass of the given chord bars
  (chorus number counting passes, as the bars cycle), its parts 8 bars long
  when the chorus has a multiple of 8 bars (16 or more), else one part the
  whole chorus (a 12-bar blues is one A, as the database marks it); a part
  whose chords repeat an earlier part's takes its letter, any other the next
  letter (AABA for a 32-bar song whose bridge differs).
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import NamedTuple, Optional

import numpy as np

from music.tokens.exact_grammar import parse_token

STRUCTURES = ("none", "phrase", "form", "phrase+form")
PHRASE_FEATURE_NAMES = ("phrase_open", "phrase_beats", "phrase_notes", "rest_beats")
FORM_FEATURE_NAMES = ("chorus_progress", "chorus=1", "chorus=2", "chorus=3+",
                      "part=A", "part=B", "part=C+", "part_progress")
UNITS_PER_BEAT = 12     # grid units in a quarter note (music.tokens.exact_grammar.GRID)
PHRASE_BREAK_UNITS = UNITS_PER_BEAT   # a rest this long or longer ends a phrase
BEATS_SCALE = 8.0
NOTES_SCALE = 16.0
REST_CAP_BEATS = 4
PART_BARS = 8


def check_structure(structure: str) -> str:
    if structure not in STRUCTURES:
        raise ValueError(f"unknown structure features {structure!r}; choose one of "
                         f"{', '.join(STRUCTURES)}")
    return structure


def uses_phrase(structure: str) -> bool:
    return check_structure(structure) in ("phrase", "phrase+form")


def uses_form(structure: str) -> bool:
    return check_structure(structure) in ("form", "phrase+form")


def structure_feature_names(structure: str) -> tuple:
    """The names of the features ``structure`` adds, in order (form, then phrase)."""
    return ((FORM_FEATURE_NAMES if uses_form(structure) else ())
            + (PHRASE_FEATURE_NAMES if uses_phrase(structure) else ()))


# ----------------------------------------------------------------------------- phrase
@lru_cache(maxsize=8192)
def _kind_and_units(token: str) -> tuple:
    parsed = parse_token(token)
    return parsed.kind, parsed.units


def phrase_end_rests(vocabulary) -> np.ndarray:
    """(V,) booleans: the rest tokens of PHRASE_BREAK_UNITS or more, the rests
    that end a phrase (sampling keeps their untempered probability)."""
    parsed = [_kind_and_units(token) for token in vocabulary]
    return np.array([kind == "rest" and units >= PHRASE_BREAK_UNITS for kind, units in parsed],
                    dtype=bool)


class PhraseTracker:
    """The phrase features after the tokens fed so far (module docstring).

    ``feed(token)`` one exact-grammar token at a time; ``features()`` gives
    the 4 numbers (float32) of the place where the next token starts.
    """

    def __init__(self):
        self.notes = 0                       # notes struck in the open phrase
        self.units = 0                       # grid units since its first onset
        self.silence = REST_CAP_BEATS * UNITS_PER_BEAT   # units since the last sound

    @property
    def open(self) -> bool:
        return self.notes > 0 and self.silence < PHRASE_BREAK_UNITS

    def feed(self, token: str) -> None:
        kind, units = _kind_and_units(token)
        if kind == "bar":
            return
        if kind == "note":
            if not self.open:
                self.notes, self.units = 0, 0
            self.notes += 1
            self.units += units
            self.silence = 0
        elif kind == "tie" and self.notes > 0 and self.silence == 0:
            self.units += units
        else:   # a rest, or a tie that continues nothing
            self.units += units
            self.silence += units

    def features(self) -> np.ndarray:
        row = np.zeros(len(PHRASE_FEATURE_NAMES), dtype=np.float32)
        if self.open:
            row[0] = 1.0
            row[1] = 1.0 - math.exp(-self.units / UNITS_PER_BEAT / BEATS_SCALE)
            row[2] = 1.0 - math.exp(-self.notes / NOTES_SCALE)
        row[3] = min(self.silence, REST_CAP_BEATS * UNITS_PER_BEAT) / (
            REST_CAP_BEATS * UNITS_PER_BEAT)
        return row


def phrase_rows(tokens) -> np.ndarray:
    """(len(tokens) + 1, 4) float32: row t the phrase features before token t."""
    tracker = PhraseTracker()
    rows = np.empty((len(tokens) + 1, len(PHRASE_FEATURE_NAMES)), dtype=np.float32)
    for index, token in enumerate(tokens):
        rows[index] = tracker.features()
        tracker.feed(token)
    rows[len(tokens)] = tracker.features()
    return rows


# ------------------------------------------------------------------------------- form
class FormPlace(NamedTuple):
    """Where a bar lies in the form: chorus number (1 = the first), its index
    in the chorus of ``chorus_bars`` bars, the part's letter ("" unknown) and
    its index in the part of ``part_bars`` bars."""

    chorus: int
    bar_in_chorus: int
    chorus_bars: int
    letter: str = ""
    bar_in_part: int = 0
    part_bars: int = 1


def form_row(place: Optional[FormPlace]) -> np.ndarray:
    """The 8 form features of a bar (all 0 for None, a bar outside the choruses)."""
    row = np.zeros(len(FORM_FEATURE_NAMES), dtype=np.float32)
    if place is None:
        return row
    row[0] = place.bar_in_chorus / place.chorus_bars
    row[1 + min(place.chorus, 3) - 1] = 1.0
    if place.letter:
        row[4 + {"A": 0, "B": 1}.get(place.letter, 2)] = 1.0
        row[7] = place.bar_in_part / place.part_bars
    return row


def form_rows(places) -> np.ndarray:
    """(bars, 8) float32 of a list of FormPlace or None."""
    rows = np.zeros((len(places), len(FORM_FEATURE_NAMES)), dtype=np.float32)
    for index, place in enumerate(places):
        rows[index] = form_row(place)
    return rows


def _letter(label: str) -> str:
    """The form part's letter of a label like "A1", "B2", "A'2"; "" for intros
    ("I1") and anything that is no section letter."""
    letter = label[:1].upper()
    return letter if letter.isalpha() and letter != "I" else ""


def form_from_annotations(annotations, bar_count: int) -> list:
    """FormPlace or None per bar from a Song's chorus and form-part spans."""
    places = [None] * bar_count
    parts = [None] * bar_count
    for span in annotations.form_parts:
        for bar in range(span.start, min(span.stop, bar_count)):
            parts[bar] = (span.label, bar - span.start, span.stop - span.start)
    for span in annotations.choruses:
        try:
            number = int(span.label)
        except ValueError:
            continue
        if number < 1:
            continue
        for bar in range(span.start, min(span.stop, bar_count)):
            label, bar_in_part, part_bars = parts[bar] or ("", 0, 1)
            places[bar] = FormPlace(number, bar - span.start, span.stop - span.start,
                                    _letter(label), bar_in_part, part_bars)
    return places


def _chord_key(bar) -> tuple:
    return tuple((chord.start, chord.root, tuple(chord.pitch_classes)) for chord in bar)


def form_from_chords(chord_bars, bar_count: int) -> list:
    """FormPlace per bar of ``bar_count`` bars played over ``chord_bars`` again
    and again, one pass a chorus (module docstring)."""
    length = len(chord_bars)
    part_bars = PART_BARS if length % PART_BARS == 0 and length >= 2 * PART_BARS else length
    letters, seen = [], {}
    for start in range(0, length, part_bars):
        key = tuple(_chord_key(bar) for bar in chord_bars[start:start + part_bars])
        if key not in seen:
            seen[key] = chr(ord("A") + min(len(seen), 25))
        letters.append(seen[key])
    return [FormPlace(bar // length + 1, bar % length, length,
                      letters[(bar % length) // part_bars], bar % length % part_bars, part_bars)
            for bar in range(bar_count)]


def song_form(song) -> list:
    """FormPlace or None per bar of a Song: its annotations' choruses when it
    has any, else its own chord bars as one chorus."""
    if song.annotations.choruses:
        return form_from_annotations(song.annotations, len(song.measures))
    return form_from_chords([list(measure.chords) for measure in song.measures],
                            len(song.measures))
