"""The bounds every option and run record is checked against, the time
signatures a solo can be written in, and ``UsageError``, the error for an
option or a run that will not do.

Nothing here imports more than the standard library and the score grid, so the
command line's parser (``jazz_lstm.cli``) reads its ranges from this module
without loading the model or the readers.
"""
from __future__ import annotations

from fractions import Fraction

from music.grid import SCORE_GRID


class UsageError(Exception):
    """Bad input that is not a file's fault (an option, a missing run)."""


MAX_VOCABULARY = 100_000
MAX_TOKEN_CHARS = 200
MAX_CORPUS_IDS = 20_000_000
MAX_FEATURE_SIZE = 1024
MAX_HIDDEN_SIZE = 4096
MAX_LAYERS = 8
MAX_EPOCHS = 1_000_000
MAX_WINDOW_LENGTH = 10_000
MAX_BATCH_SIZE = 100_000
MAX_SEED = 2 ** 63 - 1
MIN_TEMPO, MAX_TEMPO = 20.0, 400.0
MAX_BEATS_PER_BAR = 32
DENOMINATORS = (1, 2, 4, 8, 16, 32)
MAX_CHORD_BARS = 10_000
MAX_SOURCES = 100_000
# --where FIELD=VALUE choices kept with the run.
MAX_WHERE = 100
# A --chords progression kept with the run: a few hundred bars of symbols.
MAX_CHORDS_TEXT = 100_000
DTYPES = ("float32", "float64")

# Bars of the training chords a grammar model plays when given no --bars.
MAX_DEFAULT_BARS = 32
# Tokens a notes-encoding sample writes by default (about two minutes of music).
NOTES_SAMPLE_LENGTH = 500
MAX_SAMPLE_BARS = 1000
MAX_SAMPLE_TOKENS = 100_000
MAX_TEMPERATURE = 100.0
MAX_SWING = 4.0


def time_signature_problem(value) -> str | None:
    """None for a (beats, beat note) pair a solo can be written in, else why not:
    beats 1..MAX_BEATS_PER_BAR over one of DENOMINATORS, the bar a whole number of
    grid steps (1/12 quarter: 1/32 is refused, its bar being 1/8 quarter)."""
    if (not isinstance(value, (tuple, list)) or len(value) != 2
            or not all(isinstance(part, int) and not isinstance(part, bool) for part in value)):
        return f"time_signature must be two whole numbers such as (3, 4), got {shown(value)}"
    beats, beat_note = value
    if not (1 <= beats <= MAX_BEATS_PER_BAR and beat_note in DENOMINATORS):
        return (f"time signature {beats}/{beat_note}: beats 1..{MAX_BEATS_PER_BAR} over one of "
                f"{', '.join(map(str, DENOMINATORS))}")
    bar = Fraction(4 * beats, beat_note)
    if bar % SCORE_GRID:
        return (f"time signature {beats}/{beat_note}: a bar of {bar} quarter does not fill "
                f"whole steps of the {SCORE_GRID}-quarter grid; give an even number of beats "
                f"over {beat_note}")
    return None


def shown(value) -> str:
    """A value as it is quoted in an error message: its repr, cut at 40 characters."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
