"""How close generated segments come to real ones: the overlapping area of
intra-set and inter-set distance distributions (Yang & Lerch 2018, mgeval).

For one measure f, real segments r_1..r_n and generated g_1..g_m::

    intra = { ||f(r_i) - f(r_j)|| : i < j }        n(n-1)/2 distances
    inter = { ||f(r_i) - f(g_j)|| : every i, j }   n m distances

(Euclidean norm; plain |a - b| for a scalar measure).  Each set of N
distances d_1..d_N becomes a Gaussian kernel density estimate::

    p(x) = 1 / (N h) * sum_i phi((x - d_i) / h),   phi = the standard normal density

with Scott's bandwidth h = s N^(-1/5) (s the sample standard deviation),
never narrower than BANDWIDTH_FLOOR times the range of both sets together
(nor 1e-9), so that a set of equal distances (s = 0, say a measure that is
always 0) still has a density.  Both densities are evaluated on one grid of
GRID_POINTS points reaching 5 bandwidths past the outermost distance (the
samples are spread linearly onto the two nearest grid points and the
kernel applied by FFT convolution) and normalised to integrate to 1 by the
trapezoid rule.  Then::

    OA = integral of min(p_intra, p_inter)                 (1: the same, 0: disjoint)
    KL = integral of p_intra ln((p_intra + e) / (p_inter + e)),   e = 1e-10

Intra-set distances say how far real segments lie from one another; when
generated segments lie as far from the real ones, the two distributions
overlap and OA nears 1.  The mean OA is the plain mean over measures.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

BANDWIDTH_FLOOR = 0.01
GRID_POINTS = 2048
GRID_REACH = 5.0
KL_FLOOR = 1e-10


class MeasureOverlap(NamedTuple):
    overlapping_area: float
    kl_divergence: float


class Comparison(NamedTuple):
    """measures: measure name -> MeasureOverlap, in the order given;
    mean_oa: mean overlapping area over the measures."""

    measures: dict
    mean_oa: float


def scott_bandwidth(samples) -> float:
    """s N^(-1/5), s the sample standard deviation (0 for fewer than 2 samples)."""
    samples = np.asarray(samples, dtype=float)
    if samples.size < 2:
        return 0.0
    return float(np.std(samples, ddof=1) * samples.size ** -0.2)


def kde_on_grid(samples, bandwidth: float, grid) -> np.ndarray:
    """Gaussian KDE of samples on an evenly spaced grid (shape (G,)), by
    linear binning and FFT convolution."""
    samples = np.asarray(samples, dtype=float)
    grid = np.asarray(grid, dtype=float)
    size, step = grid.size, grid[1] - grid[0]
    position = np.clip((samples - grid[0]) / step, 0, size - 1)
    left = np.minimum(np.floor(position).astype(np.int64), size - 2)
    right_share = position - left
    weights = (np.bincount(left, 1 - right_share, size)
               + np.bincount(left + 1, right_share, size)) / samples.size
    offsets = np.arange(-(size - 1), size) * step
    kernel = np.exp(-0.5 * (offsets / bandwidth) ** 2) / (bandwidth * np.sqrt(2 * np.pi))
    length = 1 << int(np.ceil(np.log2(weights.size + kernel.size - 1)))
    full = np.fft.irfft(np.fft.rfft(weights, length) * np.fft.rfft(kernel, length), length)
    return np.maximum(full[size - 1:2 * size - 1], 0.0)


def overlapping_area(intra, inter) -> MeasureOverlap:
    """OA and KL of the KDEs of two non-empty sets of distances (module docstring)."""
    intra, inter = np.asarray(intra, dtype=float), np.asarray(inter, dtype=float)
    if not intra.size or not inter.size:
        raise ValueError("overlapping area needs at least one distance in each set")
    both = np.concatenate([intra, inter])
    least = max(BANDWIDTH_FLOOR * (both.max() - both.min()), 1e-9)
    bandwidths = [max(scott_bandwidth(values), least) for values in (intra, inter)]
    reach = GRID_REACH * max(bandwidths)
    grid = np.linspace(both.min() - reach, both.max() + reach, GRID_POINTS)
    densities = []
    for values, bandwidth in zip((intra, inter), bandwidths):
        density = kde_on_grid(values, bandwidth, grid)
        densities.append(density / np.trapezoid(density, grid))
    real, generated = densities
    kl = np.trapezoid(real * np.log((real + KL_FLOOR) / (generated + KL_FLOOR)), grid)
    return MeasureOverlap(float(np.trapezoid(np.minimum(real, generated), grid)), float(kl))


def _matrix(measure_dicts, name: str) -> np.ndarray:
    try:
        return np.array([np.atleast_1d(np.asarray(measures[name], dtype=float))
                         for measures in measure_dicts])
    except KeyError:
        raise ValueError(f"a segment's measures lack {name!r}") from None


def compare_sets(real_measures, generated_measures) -> Comparison:
    """Per-measure OA and KL of real vs generated segments, each given as a
    list of measure dicts (``measures.segment_measures``); the measures are
    those of the first real segment.  Needs >= 2 real and >= 1 generated."""
    real_measures, generated_measures = list(real_measures), list(generated_measures)
    if len(real_measures) < 2 or not generated_measures:
        raise ValueError(f"comparing sets needs at least 2 real and 1 generated segments, "
                         f"got {len(real_measures)} and {len(generated_measures)}")
    results = {}
    upper = np.triu_indices(len(real_measures), k=1)
    for name in real_measures[0]:
        real, generated = _matrix(real_measures, name), _matrix(generated_measures, name)
        intra = np.linalg.norm(real[:, None, :] - real[None, :, :], axis=-1)[upper]
        inter = np.linalg.norm(real[:, None, :] - generated[None, :, :], axis=-1).ravel()
        results[name] = overlapping_area(intra, inter)
    mean_oa = float(np.mean([result.overlapping_area for result in results.values()]))
    return Comparison(results, mean_oa)


def split_halves(items, seed: int) -> tuple:
    """Two halves of a seeded shuffle of items (the first holds the extra
    one of an odd count): for the real-vs-real reference comparison."""
    items = list(items)
    order = np.random.default_rng(seed).permutation(len(items))
    middle = (len(items) + 1) // 2
    return [items[index] for index in order[:middle]], [items[index] for index in order[middle:]]
