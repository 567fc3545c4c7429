"""The time grids and pitch folding, shared by the readers and the grammars.

* ``SCORE_GRID`` = 1/12 quarter: sixteenths and eighth and sixteenth
  triplets, the grid music21 quantises MIDI to, the WJazzD reader rounds
  onto and the exact grammar counts in.
* ``GRID`` = half of it, 1/24 quarter: also 32nds; the classic grammar's
  durations and the default of ``music.tokens.prune.snap_to_grid``.

All times are Fraction quarter lengths.
"""
from __future__ import annotations

from fractions import Fraction

from music.song import MusicError

SCORE_GRID = Fraction(1, 12)
GRID = SCORE_GRID / 2


def fold_pitch(pitch: int, low: int, high: int) -> int:
    """pitch moved by whole octaves into low..high (MIDI pitches, inclusive;
    the range must hold at least 12 pitches so every pitch class fits)."""
    if high - low < 11:
        raise MusicError(f"pitch range {low}..{high} is narrower than an octave")
    while pitch < low:
        pitch += 12
    while pitch > high:
        pitch -= 12
    return pitch


def grid_steps(time, grid=GRID) -> int:
    """The whole number of grid steps nearest to time (quarter lengths; half
    a step rounds to the even number, as Python's round does)."""
    return round(Fraction(time) / grid)


def round_to_grid(time, grid=GRID) -> Fraction:
    """time (quarter lengths) rounded to the nearest multiple of grid."""
    return grid_steps(time, grid) * grid
