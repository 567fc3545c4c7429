"""The targets of issue 14, checked against one run's figures.

``target_rows(report)`` reads the report ``python -m benchmarks.speed``
builds (keys "reading", "presets", "races"; any may be missing) and gives
one row per target it has a figure for: (figure, measured, target, holds).
A race holds only if its target loss is below what token frequencies alone
score (``unigram_validation``).
"""
from __future__ import annotations

# (report section, entry, what is measured, at most seconds), for reading.
READING_TARGETS = (
    ("metheny cold", "Metheny `corpus`, fresh process, caches cold", 1.0),
    ("wjazzd cold", "410 WJazzD solos, fresh process, cache cold", 5.0),
    ("wjazzd warm", "410 WJazzD solos, fresh process, cache warm", 1.0),
)
# (preset, what is measured, at least this ratio of PyTorch's median over ours).
PRESET_TARGETS = (
    ("jazz", "jazz preset epoch vs PyTorch", 1.0),
    ("sample", "sampling per token vs PyTorch", 5.0),
)
TIME_TO_QUALITY_TARGET = 5.0


def target_rows(report: dict) -> list:
    rows = []
    for figure, label, limit in READING_TARGETS:
        stat = report.get("reading", {}).get(figure)
        if stat is not None:
            rows.append((label, f"{stat['median']:.2f} s", f"<= {limit:g} s",
                         stat["median"] <= limit))
    for preset, label, least in PRESET_TARGETS:
        ratio = report.get("presets", {}).get(preset, {}).get("ratio", {}).get("ours numba")
        if ratio is not None:
            rows.append((label, f"{ratio:.2f}x", f">= {least:g}x", ratio >= least))
    for name, race in report.get("races", {}).items():
        shrunk = f" ({race['shrunk']})" if race["shrunk"] else ""
        # A loss that token frequencies alone reach shows no learning: it proves nothing.
        learned = race["target"] < race["unigram_validation"]
        rows.append((f"time to quality, {name}{shrunk}: every-step (ours) vs original "
                     "(PyTorch)", f"{race['ratio']:.1f}x" + ("" if learned else
                                                            " at a unigram's loss"),
                     f">= {TIME_TO_QUALITY_TARGET:g}x",
                     learned and race["ratio"] >= TIME_TO_QUALITY_TARGET))
    return rows


def print_targets(rows: list) -> None:
    width = max((len(label) for label, *_ in rows), default=0)
    print("targets (issue 14):")
    for label, measured, target, holds in rows:
        print(f"  {label:<{width}}  {measured:>9}  target {target:<8} "
              f"{'holds' if holds else 'MISSED'}")
