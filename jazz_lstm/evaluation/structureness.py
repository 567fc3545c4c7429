"""The structureness indicator SI of Wu and Yang (ISMIR 2020, "The Jazz
Transformer on the Front Line", section 5), on the melody of a solo.

SI is the peak of a fitness scape plot (Müller, Jiang and Grosche,
"A robust fitness measure for capturing repetitions in music recordings",
2013) over a range of segment lengths: high when some stretch of that
length is repeated (or transposed) elsewhere in the solo and the repeats
cover much of it.  Wu and Yang compute it from audio; here it is computed
from the notes, so that only the melody counts.

Chroma (``melody_chroma``)
    12 rows (C..B) of the time each pitch class sounds in every fine frame
    of 1/FINE_FRAMES_PER_BEAT quarter; each row smoothed by a centred
    moving average of SMOOTHING fine frames and kept every
    FINE_FRAMES_PER_BEAT-th frame: one frame per quarter note; every frame
    scaled to unit length, and a frame with (almost) nothing sounding is the
    uniform 1/sqrt(12).  This is Wu and Yang's audio chroma at 120 bpm: 10 Hz
    frames, a 21-frame (2.1 s) smoothing, kept at 2 Hz.  Frames are beats
    rather than seconds so that a solo and a generated one over the same
    changes are measured alike whatever the tempo.

Self-similarity (``self_similarity``)
    S(n, m) = the largest over the 12 transpositions of the dot product of
    frame n with frame m transposed, each product first smoothed along
    diagonals: the mean over PATH_SMOOTHING frames forward and, separately,
    backward, along lines of slope 0.5 .. 2 (TEMPO_RATES, 7 log-spaced
    slopes; the larger of all these).  Then the largest THRESHOLD_SHARE of
    the cells are scaled linearly to 0..1, every other cell becomes
    PENALTY, and the diagonal is set to 1.

Fitness (``fitness_scape_plot``)
    For a segment of M frames from frame s: the best path family, paths
    through the rows of S under the segment's columns, each from the
    segment's first column to its last in steps (1, 1), (2, 1), (1, 2)
    (rows, columns), the paths following one another in the rows.  Its
    score sigma is the sum of S over its cells (at least M: the segment's
    own diagonal), kappa the number of cells, gamma the rows its paths cover.
    Normalised: sigma' = (sigma - M) / kappa and gamma' = (gamma - M) / N,
    which leave out the segment's trivial match with itself; the fitness is
    their harmonic mean 2 sigma' gamma' / (sigma' + gamma'), 0 when either
    is not positive.

SI (``structureness``)
    The largest fitness over the segments whose length in frames lies in
    [2 a, 2 b] for a range of a..b seconds at 120 bpm: SI short, mid and long
    are Wu and Yang's 3-8, 8-15 and 15-128 s, i.e. 6-16, 16-30 and 30-256
    beats (SI_RANGES); 0 when the solo is shorter than the range.
"""
from __future__ import annotations

import math

import numpy as np

try:
    import numba
except ImportError:  # the plain Python loops below run as they are (slowly)
    numba = None

FINE_FRAMES_PER_BEAT = 5
SMOOTHING = 21
SILENCE = 0.001
PATH_SMOOTHING = 16
TEMPO_RATES = np.exp(np.linspace(np.log(0.5), np.log(2.0), 7))
THRESHOLD_SHARE = 0.25
PENALTY = -2.0
SI_RANGES = {"short": (6, 16), "mid": (16, 30), "long": (30, 256)}


def melody_chroma(melody) -> np.ndarray:
    """(12, beats) unit-length chroma of a ``phrasing.Melody`` (module docstring)."""
    beats = math.ceil(sum(measure.length for measure in melody.measures))
    fine = np.zeros((12, beats * FINE_FRAMES_PER_BEAT))
    for onset, end, pitch in zip(melody.onsets, melody.ends, melody.pitches):
        first = int(onset * FINE_FRAMES_PER_BEAT)
        last = min(math.ceil(end * FINE_FRAMES_PER_BEAT), fine.shape[1])
        frames = np.arange(first, last)
        starts = frames / FINE_FRAMES_PER_BEAT
        overlap = (np.minimum(float(end), starts + 1 / FINE_FRAMES_PER_BEAT)
                   - np.maximum(float(onset), starts))
        fine[pitch % 12, first:last] += np.maximum(overlap, 0.0)
    kernel = np.ones(SMOOTHING) / SMOOTHING
    smoothed = np.array([np.convolve(row, kernel, mode="same") for row in fine])
    chroma = smoothed[:, ::FINE_FRAMES_PER_BEAT]
    norms = np.linalg.norm(chroma, axis=0)
    return np.where(norms > SILENCE, chroma / np.where(norms > SILENCE, norms, 1.0),
                    1 / np.sqrt(12))


def _smoothed_along(similarity: np.ndarray, rate: float, backward: bool) -> np.ndarray:
    """Mean over PATH_SMOOTHING cells along lines of slope ``rate`` (module docstring):
    the columns are stretched by 1/rate, smoothed on the diagonal, and stretched back."""
    size = similarity.shape[0]
    columns = math.ceil(size / rate)
    stretch = np.maximum(np.rint(np.arange(1, columns + 1) / columns * size).astype(int) - 1, 0)
    padded = np.zeros((size + 2 * PATH_SMOOTHING, columns + 2 * PATH_SMOOTHING))
    padded[PATH_SMOOTHING:PATH_SMOOTHING + size,
           PATH_SMOOTHING:PATH_SMOOTHING + columns] = similarity[:, stretch]
    step = -1 if backward else 1
    total = np.zeros((size, columns))
    for offset in range(PATH_SMOOTHING):
        shift = PATH_SMOOTHING + step * offset
        total += padded[shift:shift + size, shift:shift + columns]
    back = np.maximum(np.rint(np.arange(1, size + 1) / size * columns).astype(int) - 1, 0)
    return total[:, back] / PATH_SMOOTHING


def self_similarity(chroma: np.ndarray) -> np.ndarray:
    """(N, N) thresholded, transposition-invariant, path-smoothed SSM (module docstring)."""
    best = None
    for shift in range(12):
        products = np.roll(chroma, shift, axis=0).T @ chroma
        for rate in TEMPO_RATES:
            for backward in (False, True):
                smoothed = _smoothed_along(products, rate, backward)
                best = smoothed if best is None else np.maximum(best, smoothed)
    cutoff = np.sort(best, axis=None)[int(round(best.size * (1 - THRESHOLD_SHARE)))
                                      if best.size > 1 else 0]
    kept = best >= cutoff
    low, high = best[kept].min(), best[kept].max()
    scaled = (best - low) / (high - low) if high > low else np.zeros_like(best)
    result = np.where(kept, scaled, PENALTY)
    np.fill_diagonal(result, 1.0)
    return result


def _jit(function):
    return numba.njit(cache=True, nogil=True)(function) if numba is not None else function


@_jit
def _segment_fitness(similarity, start, length):
    """Fitness of the segment of ``length`` frames from ``start`` (module docstring).

    A dynamic programme over the rows n: column 0 of each table is the
    "elevator" (the best family whose paths all ended before row n), column
    m >= 1 the best family whose last path reaches the segment's column m - 1
    at row n.  Beside each score it carries the family's cells, the rows its
    finished paths cover and the first row of its open path; ties go to the
    first-listed step and, between ending a path and not, to not ending it."""
    size = similarity.shape[0]
    width = length + 1
    score = np.full((3, width), -np.inf)
    cells = np.zeros((3, width), dtype=np.int64)
    covered = np.zeros((3, width), dtype=np.int64)
    first_row = np.zeros((3, width), dtype=np.int64)
    for row in range(size):
        now, before, twice = row % 3, (row - 1) % 3, (row - 2) % 3
        score[now, :] = -np.inf
        if row == 0:
            score[now, 0] = 0.0
            cells[now, 0] = 0
            covered[now, 0] = 0
        elif score[before, length] > score[before, 0]:
            score[now, 0] = score[before, length]
            cells[now, 0] = cells[before, length]
            covered[now, 0] = covered[before, length] + row - first_row[before, length]
        else:
            score[now, 0] = score[before, 0]
            cells[now, 0] = cells[before, 0]
            covered[now, 0] = covered[before, 0]
        score[now, 1] = score[now, 0] + similarity[row, start]
        cells[now, 1] = cells[now, 0] + 1
        covered[now, 1] = covered[now, 0]
        first_row[now, 1] = row
        if row == 0:
            continue
        for column in range(2, width):
            best_row, best_column = before, column - 1
            best = score[before, column - 1]
            if row >= 2 and score[twice, column - 1] > best:
                best_row, best = twice, score[twice, column - 1]
            if column >= 3 and score[before, column - 2] > best:
                best_row, best_column, best = before, column - 2, score[before, column - 2]
            if best == -np.inf:
                continue
            score[now, column] = best + similarity[row, start + column - 1]
            cells[now, column] = cells[best_row, best_column] + 1
            covered[now, column] = covered[best_row, best_column]
            first_row[now, column] = first_row[best_row, best_column]
    last = (size - 1) % 3
    if score[last, length] >= score[last, 0]:
        total = score[last, length]
        family_cells = cells[last, length]
        family_rows = covered[last, length] + size - first_row[last, length]
    else:
        total = score[last, 0]
        family_cells = cells[last, 0]
        family_rows = covered[last, 0]
    normalised_score = (total - length) / family_cells
    normalised_cover = (family_rows - length) / size
    if normalised_score <= 0.0 or normalised_cover <= 0.0:
        return 0.0
    return 2 * normalised_score * normalised_cover / (normalised_score + normalised_cover)


@_jit
def _scape_plot(similarity, shortest, longest):
    size = similarity.shape[0]
    plot = np.zeros((size, size))
    for length in range(shortest, min(longest, size) + 1):
        for start in range(size - length + 1):
            plot[length - 1, start] = _segment_fitness(similarity, start, length)
    return plot


def fitness_scape_plot(similarity: np.ndarray, shortest: int = 1,
                       longest: int | None = None) -> np.ndarray:
    """(N, N): row length - 1, column start, the fitness of each segment with
    ``shortest`` <= length <= ``longest`` (others 0)."""
    similarity = np.ascontiguousarray(similarity, dtype=np.float64)
    longest = similarity.shape[0] if longest is None else longest
    return _scape_plot(similarity, int(shortest), int(longest))


def structureness(melody) -> dict:
    """{"short", "mid", "long"}: SI of a ``phrasing.Melody`` (module docstring)."""
    similarity = self_similarity(melody_chroma(melody))
    shortest = min(low for low, _ in SI_RANGES.values())
    longest = max(high for _, high in SI_RANGES.values())
    plot = fitness_scape_plot(similarity, shortest, longest)
    return {name: float(plot[low - 1:high].max()) if low <= plot.shape[0] else 0.0
            for name, (low, high) in SI_RANGES.items()}
