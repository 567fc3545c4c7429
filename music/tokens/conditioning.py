"""Harmony and position features: what the model is told about where the next token starts.

At every step the LSTM gets, besides a token, a vector of ``feature_size()``
floats describing the grid position where the NEXT token starts: the chord
sounding there and the place in the bar.  Positions are grid units of
``music.tokens.exact_grammar.GRID`` (1/12 quarter) from the start of a bar; a bar of
L units has positions 0..L, where position L means "the bar is full, the
next token is the bar line".

Features, in ``FEATURE_NAMES`` order (45 numbers, each 0 or 1 unless said):

* ``quality=<q>`` (8): one-hot of ``music.chords.chord_quality`` of the
  chord sounding there (``Measure.chord_at``), or ``quality=none`` where no
  chord sounds.
* ``chord_pc=<i>`` (12): the chord's pitch classes, i semitones above its
  root (Dm7 sets 0, 3, 7, 10); all zero with no chord.  The tokens are
  root-relative, so the model never needs the root itself.
* ``next_root=+<i>`` (12): one-hot of the interval (mod 12) from the root
  of the chord sounding there up to the root of the next chord, the first
  later chord that differs from it (in root or pitch classes; no-chord
  spans are skipped); ii-V sets ``+5``.  All zero with no chord now or no
  other chord anywhere.
* ``change_within_beat`` (1): the harmony (chord or no chord) changes in the
  coming beat, i.e. at some position 1..12 units later.
* ``beat=<k>`` (5): one-hot of the quarter-note beat of the bar the
  position lies in, 1..4, with ``beat=5+`` for any later beat (a 6/8 bar
  counts three quarter beats); all zero on a full bar.
* ``sub=<class>`` (5): one-hot of the position inside its beat: ``on_beat``
  (0 units), ``eighth`` (6), ``sixteenth`` (3 or 9), ``triplet`` (4 or 8),
  ``other``; all zero on a full bar.
* ``bar_progress`` (1): position / bar length, from 0 to 1.
* ``bar_full`` (1): the bar is full (position == bar length).

On a full bar the harmony features are those of the start of the next bar,
where the music goes on after the bar line.  The chord bars are read as a
cycle (a form played chorus after chorus): after the last bar comes the
first, both for "next chord" and "changes within a beat" and when a token
stream has more bars than there are chord bars.

Training with a token stream: ``stream_features`` row t describes where
token t starts, so the input token t goes with row t + 1 (where the token
to predict starts).

A run may hear more (``structure``, one of ``music.tokens.structure.STRUCTURES``;
"none", the default, is the 45 above): the form features of the bar
(8 numbers, the same at every position of it, its full position included),
then the phrase features of the tokens so far (4 numbers), both described in
``music.tokens.structure``.  ``position_features`` fills the form columns
(given one ``FormPlace`` or None per bar) and leaves the phrase columns 0:
they depend on the tokens, which ``stream_features`` knows and sampling
fills in token by token (``PhraseTracker``).
"""
from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import numpy as np

from music.chords import QUALITIES, chord_quality
from music.tokens.exact_grammar import BAR_LINE, GRID, token_cost
from music.song import Measure, MusicError
from music.tokens.structure import (PHRASE_FEATURE_NAMES, check_structure, form_rows,
                                    phrase_rows, structure_feature_names, uses_form, uses_phrase)

BEATS = 5                 # beat one-hot slots: 1, 2, 3, 4 and 5+
UNITS_PER_BEAT = 12       # grid units in a quarter note
SUBDIVISIONS = ("on_beat", "eighth", "sixteenth", "triplet", "other")
_SUBDIVISION_OF_UNIT = (0, 4, 4, 2, 3, 4, 1, 4, 3, 2, 4, 4)   # index into SUBDIVISIONS

FEATURE_NAMES = (
    tuple(f"quality={quality}" for quality in QUALITIES) + ("quality=none",)
    + tuple(f"chord_pc={interval}" for interval in range(12))
    + tuple(f"next_root=+{interval}" for interval in range(12))
    + ("change_within_beat",)
    + tuple(f"beat={beat}" for beat in range(1, BEATS)) + (f"beat={BEATS}+",)
    + tuple(f"sub={name}" for name in SUBDIVISIONS)
    + ("bar_progress", "bar_full"))

_QUALITY = 0
_CHORD_PC = _QUALITY + len(QUALITIES) + 1
_NEXT_ROOT = _CHORD_PC + 12
_CHANGE = _NEXT_ROOT + 12
_BEAT = _CHANGE + 1
_SUBDIVISION = _BEAT + BEATS
_PROGRESS = _SUBDIVISION + len(SUBDIVISIONS)
_FULL = _PROGRESS + 1
_HARMONY_SIZE = _BEAT   # the features before this index describe the harmony


def feature_names(structure: str = "none") -> tuple:
    """The names of the features of a run with ``structure`` features, in order."""
    return FEATURE_NAMES + structure_feature_names(structure)


def feature_size(structure: str = "none") -> int:
    """Number of features per step (len(FEATURE_NAMES) without structure features)."""
    return len(feature_names(structure))


def phrase_columns(structure: str) -> slice:
    """Where the phrase features lie in a row (an empty slice without them)."""
    size = feature_size(structure)
    return slice(size - len(PHRASE_FEATURE_NAMES), size) if uses_phrase(structure) \
        else slice(size, size)


def _bar_units(bar_length_units, bar_count: int) -> list:
    if isinstance(bar_length_units, (list, tuple, np.ndarray)):
        units = [int(value) for value in bar_length_units]
        if len(units) != bar_count:
            raise MusicError(f"{len(units)} bar lengths given for {bar_count} bars of chords")
    else:
        units = [int(bar_length_units)] * bar_count
    if any(value <= 0 for value in units):
        raise MusicError(f"bar lengths must be > 0 grid units, got {min(units)}")
    return units


def _chord_timeline(chord_bars, bar_units) -> tuple:
    """(ids, chords): ids (total units,) int, the index into chords of the
    chord sounding at each grid unit of the bars laid end to end, -1 where
    no chord sounds; chords the distinct (root, pitch classes) met."""
    ids = np.empty(sum(bar_units), dtype=np.int64)
    chords, index_of = [], {}
    offset = 0
    for number, (bar_chords, units) in enumerate(zip(chord_bars, bar_units), start=1):
        try:
            harmony = Measure(length=Fraction(units) * GRID, chords=bar_chords, number=number)
        except ValueError as error:
            raise MusicError(f"chord bar {number}: {error}") from None
        # The sounding chord can only change where a chord starts or ends.
        edges = {0} | {min(units, -(-chord.start // GRID)) for chord in harmony.chords} \
            | {min(units, -(-chord.end // GRID)) for chord in harmony.chords}
        edges = sorted(int(edge) for edge in edges if edge < units) + [units]
        for start, end in zip(edges, edges[1:]):
            chord = harmony.chord_at(Fraction(start) * GRID)
            if chord is None:
                ids[offset + start:offset + end] = -1
                continue
            key = (chord.root, chord.pitch_classes)
            if key not in index_of:
                index_of[key] = len(chords)
                chords.append(chord)
            ids[offset + start:offset + end] = index_of[key]
        offset += units
    return ids, chords


def _next_chord_ids(ids) -> np.ndarray:
    """For each unit, the id of the next chord (see the module doc), or -1."""
    stretch_starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    stretch_ids = ids[stretch_starts]
    stretch_next = np.full(len(stretch_ids), -1, dtype=np.int64)
    # Walk the stretches backwards twice round the cycle, keeping the nearest
    # chord ahead and the nearest one ahead that differs from it.
    nearest, second = -1, -1
    for position in range(2 * len(stretch_ids) - 1, -1, -1):
        current = stretch_ids[position % len(stretch_ids)]
        if position < len(stretch_ids) and current >= 0:
            stretch_next[position] = nearest if nearest != current else second
        if current >= 0 and current != nearest:
            nearest, second = current, nearest
    return np.repeat(stretch_next, np.diff(np.r_[stretch_starts, len(ids)]))


def _units_to_change(ids) -> np.ndarray:
    """For each unit, how many units later the harmony changes (cyclically);
    a number above any bar when it never changes."""
    total = len(ids)
    doubled = np.concatenate([ids, ids])
    changes = np.flatnonzero(doubled[1:] != doubled[:-1]) + 1
    if len(changes) == 0:
        return np.full(total, 2 * total + UNITS_PER_BEAT, dtype=np.int64)
    positions = np.arange(total)
    following = np.searchsorted(changes, positions, side="right")
    return changes[np.minimum(following, len(changes) - 1)] - positions


def _harmony_rows(chord_bars, bar_units) -> np.ndarray:
    """(total units, harmony features) float32 for the bars end to end."""
    ids, chords = _chord_timeline(chord_bars, bar_units)
    table = np.zeros((len(chords) + 1, _HARMONY_SIZE), dtype=np.float32)
    table[-1, _QUALITY + len(QUALITIES)] = 1.0   # id -1: no chord
    for index, chord in enumerate(chords):
        table[index, _QUALITY + QUALITIES.index(chord_quality(chord))] = 1.0
        for pitch_class in chord.pitch_classes:
            table[index, _CHORD_PC + (pitch_class - chord.root) % 12] = 1.0
    rows = table[ids]
    next_ids = _next_chord_ids(ids)
    has_next = np.flatnonzero(next_ids >= 0)
    roots = np.array([chord.root for chord in chords] + [0], dtype=np.int64)
    intervals = (roots[next_ids[has_next]] - roots[ids[has_next]]) % 12
    rows[has_next, _NEXT_ROOT + intervals] = 1.0
    rows[:, _CHANGE] = _units_to_change(ids) <= UNITS_PER_BEAT
    return rows


@lru_cache(maxsize=64)
def _position_block(units: int) -> np.ndarray:
    """(units + 1, position features) float32 of a bar of units grid units."""
    block = np.zeros((units + 1, feature_size() - _BEAT), dtype=np.float32)
    positions = np.arange(units)
    block[positions, np.minimum(positions // UNITS_PER_BEAT, BEATS - 1)] = 1.0
    subdivisions = np.array(_SUBDIVISION_OF_UNIT)[positions % UNITS_PER_BEAT]
    block[positions, _SUBDIVISION - _BEAT + subdivisions] = 1.0
    block[:, _PROGRESS - _BEAT] = np.arange(units + 1) / units
    block[units, _FULL - _BEAT] = 1.0
    block.flags.writeable = False   # shared between calls through the cache
    return block


def position_features(chord_bars, bar_length_units, *, structure: str = "none",
                      form=None) -> np.ndarray:
    """Features at every grid position of every bar.

    chord_bars:       one list of Chords per bar (starts in quarter lengths)
    bar_length_units: grid units per bar, one int or one per bar
    structure:        which structure features the rows hold (module docstring)
    form:             with form features, one FormPlace or None per bar
    Returns float32 (bars, max units + 1, feature_size(structure)): row [b, u]
    holds the features at position u of bar b, row [b, L_b] those of the
    full bar; rows past a shorter bar's L_b are zero; phrase columns are 0.
    """
    if not chord_bars:
        raise MusicError("no chord bars to compute features for")
    bar_units = _bar_units(bar_length_units, len(chord_bars))
    harmony = _harmony_rows(chord_bars, bar_units)
    total = len(harmony)
    features = np.zeros((len(bar_units), max(bar_units) + 1, feature_size(structure)),
                        dtype=np.float32)
    base = feature_size()
    offset = 0
    for bar, units in enumerate(bar_units):
        features[bar, :units, :_HARMONY_SIZE] = harmony[offset:offset + units]
        features[bar, units, :_HARMONY_SIZE] = harmony[(offset + units) % total]
        features[bar, :units + 1, _BEAT:base] = _position_block(units)
        offset += units
    if uses_form(structure):
        if form is None or len(form) != len(bar_units):
            raise MusicError(f"form features need one form place per bar ({len(bar_units)})")
        rows = form_rows(form)
        for bar, units in enumerate(bar_units):
            features[bar, :units + 1, base:base + rows.shape[1]] = rows[bar]
    return features


def stream_features(tokens, chord_bars, bar_length_units, *, structure: str = "none",
                    form=None) -> np.ndarray:
    """Features where each token of an exact-grammar stream starts.

    Returns float32 (len(tokens) + 1, feature_size(structure)): row t for
    token t, row len(tokens) for what follows the last token.  The tokens'
    costs move along the bar (a bar overfilled by a generated stream stays
    full); a bar line moves to the start of the next bar, the chord bars
    cycling.  Phrase features, if any, are those of tokens[:t]
    (``music.tokens.structure.phrase_rows``).
    """
    check_structure(structure)
    table = position_features(chord_bars, bar_length_units, structure=structure, form=form)
    bar_units = _bar_units(bar_length_units, len(chord_bars))
    bars, positions = [], []
    bar, position = 0, 0
    for token in tokens:
        bars.append(bar)
        positions.append(position)
        if token == BAR_LINE:
            bar, position = (bar + 1) % len(bar_units), 0
        else:
            position = min(position + token_cost(token), bar_units[bar])
    bars.append(bar)
    positions.append(position)
    rows = table[np.array(bars), np.array(positions)]
    if uses_phrase(structure):
        rows[:, phrase_columns(structure)] = phrase_rows(tokens)
    return rows
