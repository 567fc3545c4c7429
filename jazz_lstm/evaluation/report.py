"""The evaluation report: its sections, a table and a JSON form.

Sections (each a dict keyed by a source name, in insertion order):

prediction   name -> {"nats_per_token", "counted", "accuracy"} on the
             held-out pieces: the caller's models first (e.g. "lstm"), then
             the tuned baselines "unigram", "bigram", "trigram", "interpolated".
similarity   name -> {"mean_oa", "measures": {measure: {"oa", "kl"}}}: each
             generated source against the real segments, then "real-vs-real"
             (a seeded half of the real segments against the other half: the
             overlap real data reaches, the ceiling to read the others by).
copying      name -> {"share_8", "share_16", "longest_copy"} of each generated
             source's token pieces against the training pieces (``copying``).

The held-out cross-entropy of the caller's models must follow the n-gram
rules (``ngram``): ids outside the training vocabulary are context only and
never scored, and contexts start afresh in every piece.
roles        name -> {"chord", "scale", "approach", "other"}: shares of all the
             notes of "real" and of each generated source (pooled over segments).
means        name -> {scalar measure: plain mean over the segments} for "real"
             and each generated source (notes per bar, range, off-grid share...).
structure    name -> {STRUCTURE_FIGURES: value} for "real" and each generated
             source, over whole solos (``phrasing``, ``structureness``):
             phrase statistics pooled over the phrases, the repetition and
             same-pitch shares pooled over the patterns and intervals, H1,
             H4, GS and SI the means over the solos (None when no solo has a
             value); "phrase_length_oa" is the overlapping area of the
             source's notes-per-phrase values against the real ones (for
             "real": one seeded half of the solos against the other).
phrase_ends  {"held_out_share", "model_probability", "sampled_share",
             "held_out_steps", "sampled_steps"} (exact grammar only, filled by
             ``jazz_lstm.evaluating``): after a sounding note, how often the
             next token is a rest of a beat or more in the held-out solos, the
             probability the model gives it there, and how often its own
             32-bar solos play one.

At most MAX_REAL_SEGMENTS real segments are compared (a seeded sample when
there are more) so that the pairwise distances stay cheap.  The summary
line reads the primary model (the first name of the prediction and
similarity sections) against the "bigram" baseline.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from jazz_lstm.evaluation.copying import COPY_LENGTHS, copying
from jazz_lstm.evaluation.measures import MEASURE_NAMES, ROLE_MEASURES, segment_measures
from jazz_lstm.evaluation.ngram import cross_entropy, fit_baselines, oov_rate
from jazz_lstm.evaluation.overlap import compare_sets, overlapping_area, split_halves
from jazz_lstm.evaluation.phrasing import (PHRASE_BARS, groove_similarity, melody_of,
                                           phrase_lengths, pitch_class_entropy,
                                           repeated_patterns, same_pitch_repeats)
from jazz_lstm.evaluation.structureness import SI_RANGES, structureness

MAX_REAL_SEGMENTS = 200
REAL_VS_REAL = "real-vs-real"
ROLE_NAMES = ("chord", "scale", "approach", "other")
BASELINE = "bigram"


@dataclass(frozen=True)
class Report:
    """The four sections (module docstring) and the held-out OOV rate."""

    prediction: dict = field(default_factory=dict)
    oov_rate: float = 0.0
    similarity: dict = field(default_factory=dict)
    copying: dict = field(default_factory=dict)
    roles: dict = field(default_factory=dict)
    means: dict = field(default_factory=dict)
    structure: dict = field(default_factory=dict)
    phrase_ends: dict = field(default_factory=dict)

    @property
    def summary(self) -> str:
        """One line: held-out CE, mean OA and the primary source's roles."""
        return "; ".join(part for part in (_prediction_summary(self.prediction),
                                           _similarity_summary(self.similarity),
                                           _role_summary(self.roles)) if part)


def _score_entry(scores) -> dict:
    nats_per_token, counted, accuracy = scores
    return {"nats_per_token": float(nats_per_token), "counted": int(counted),
            "accuracy": float(accuracy)}


def prediction_section(training_pieces, held_out_pieces, vocabulary_size: int,
                       model_scores=None) -> dict:
    """model_scores: name -> (nats_per_token, counted, accuracy) of the
    caller's models on the same held-out pieces; the baselines are fitted
    here on the training pieces."""
    section = {name: _score_entry(scores) for name, scores in (model_scores or {}).items()}
    for model in fit_baselines(training_pieces, vocabulary_size):
        section[model.name] = _score_entry(cross_entropy(model, held_out_pieces))
    return section


def _real_sample(real_segments, seed: int) -> list:
    real_segments = list(real_segments)
    if len(real_segments) <= MAX_REAL_SEGMENTS:
        return real_segments
    chosen = np.sort(np.random.default_rng(seed).permutation(len(real_segments))
                     [:MAX_REAL_SEGMENTS])
    return [real_segments[index] for index in chosen]


def _comparison_entry(comparison) -> dict:
    return {"mean_oa": comparison.mean_oa,
            "measures": {name: {"oa": result.overlapping_area, "kl": result.kl_divergence}
                         for name, result in comparison.measures.items()}}


def similarity_section(real_segments, generated_segments: dict, seed: int = 0) -> dict:
    """generated_segments: name -> list of segments (lists of Measures).
    Needs at least 3 real segments (2 in the first half)."""
    real = [segment_measures(segment) for segment in _real_sample(real_segments, seed)]
    if len(real) < 3:
        raise ValueError(f"comparing with real segments needs at least 3 of them, got {len(real)}")
    section = {name: _comparison_entry(compare_sets(
        real, [segment_measures(segment) for segment in segments]))
        for name, segments in generated_segments.items()}
    section[REAL_VS_REAL] = _comparison_entry(compare_sets(*split_halves(real, seed)))
    return section


def copying_section(training_pieces, generated_pieces: dict) -> dict:
    """generated_pieces: name -> list of generated token-id pieces."""
    section = {}
    for name, pieces in generated_pieces.items():
        result = copying(pieces, training_pieces, COPY_LENGTHS)
        section[name] = {**{f"share_{length}": share for length, share in result.shares.items()},
                         "longest_copy": result.longest_copy}
    return section


def role_shares(segments) -> dict:
    """{"chord", "scale", "approach", "other"}: shares of all notes of the segments."""
    bars = [bar for segment in segments for bar in segment]
    if not bars:
        raise ValueError("role shares need at least one segment with one bar")
    measures = segment_measures(bars)
    return {role: measures[name] for role, name in zip(ROLE_NAMES, ROLE_MEASURES)}


SCALAR_MEASURES = tuple(name for name in MEASURE_NAMES if not name.endswith("_histogram"))


def means_section(real_segments, generated_segments: dict) -> dict:
    """source -> {scalar measure: its plain mean over the source's segments}, for
    "real" and each generated source: the figures behind the overlapping areas."""
    sources = {"real": list(real_segments), **generated_segments}
    return {name: {measure: float(np.mean([segment_measures(segment)[measure]
                                           for segment in segments]))
                   for measure in SCALAR_MEASURES}
            for name, segments in sources.items()}


def role_section(real_segments, generated_segments: dict) -> dict:
    section = {"real": role_shares(real_segments)}
    section.update({name: role_shares(segments) for name, segments in generated_segments.items()})
    return section


STRUCTURE_FIGURES = ("notes_per_phrase", "notes_per_phrase_median", "notes_per_phrase_q1",
                     "notes_per_phrase_q3", "beats_per_phrase", "phrases_per_8_bars",
                     "phrase_length_oa", "repeated_4_interval_patterns", "same_pitch_repeats",
                     "H1", "H4", "GS", "SI_short", "SI_mid", "SI_long")


def _solo_means(values) -> float | None:
    """The mean of the values that are not None (None when there are none)."""
    values = [value for value in values if value is not None]
    return float(np.mean(values)) if values else None


def _phrase_notes(solos) -> list:
    """Notes per phrase of every phrase of the solos."""
    return [length for solo in solos for length in phrase_lengths(melody_of(solo))[0]]


def _phrase_oa(reference: list, lengths: list) -> float | None:
    return overlapping_area(reference, lengths).overlapping_area if reference and lengths else None


def _source_structure(solos, reference_lengths) -> dict:
    """The STRUCTURE_FIGURES of one source's solos, its phrase lengths
    compared with ``reference_lengths`` (module docstring)."""
    melodies = [melody_of(solo) for solo in solos]
    notes, beats = [], []
    for melody in melodies:
        phrase_notes, phrase_beats = phrase_lengths(melody)
        notes += phrase_notes
        beats += phrase_beats
    repeated, patterns = np.sum([repeated_patterns(melody) for melody in melodies], axis=0)
    same, intervals = np.sum([same_pitch_repeats(melody) for melody in melodies], axis=0)
    quartiles = np.percentile(notes, [25, 50, 75]).tolist() if notes else [None] * 3
    indicators = [structureness(melody) for melody in melodies]
    return {
        "notes_per_phrase": _solo_means(notes),
        "notes_per_phrase_median": quartiles[1],
        "notes_per_phrase_q1": quartiles[0],
        "notes_per_phrase_q3": quartiles[2],
        "beats_per_phrase": _solo_means(beats),
        "phrases_per_8_bars": PHRASE_BARS * len(notes) / sum(len(solo) for solo in solos),
        "phrase_length_oa": _phrase_oa(reference_lengths, notes),
        "repeated_4_interval_patterns": float(repeated / patterns) if patterns else None,
        "same_pitch_repeats": float(same / intervals) if intervals else None,
        "H1": _solo_means([pitch_class_entropy(solo, 1) for solo in solos]),
        "H4": _solo_means([pitch_class_entropy(solo, 4) for solo in solos]),
        "GS": _solo_means([groove_similarity(solo) for solo in solos]),
        **{f"SI_{name}": _solo_means([indicator[name] for indicator in indicators])
           for name in SI_RANGES},
    }


def structure_section(real_solos, generated_solos: dict, seed: int = 0) -> dict:
    """source -> STRUCTURE_FIGURES for "real" and each generated source
    (name -> list of solos, each a non-empty list of Measures); needs 2 real solos."""
    real_solos = list(real_solos)
    if len(real_solos) < 2:
        raise ValueError(f"the structure section needs at least 2 real solos, "
                         f"got {len(real_solos)}")
    real_lengths = _phrase_notes(real_solos)
    section = {"real": _source_structure(real_solos, None)}
    section["real"]["phrase_length_oa"] = _phrase_oa(
        *(_phrase_notes(half) for half in split_halves(real_solos, seed)))
    for name, solos in generated_solos.items():
        section[name] = _source_structure(solos, real_lengths)
    return section


def build_report(*, training_pieces, held_out_pieces, vocabulary_size: int, real_segments,
                 generated_segments: dict, generated_pieces: dict, model_scores=None,
                 seed: int = 0, real_solos=(), generated_solos=None) -> Report:
    """Every section (structure only with real_solos).  generated_segments,
    generated_pieces and generated_solos are keyed by source name (e.g. "lstm",
    "bigram"; the first is the primary); the same seed gives the same report."""
    return Report(
        prediction=prediction_section(training_pieces, held_out_pieces, vocabulary_size,
                                      model_scores),
        oov_rate=oov_rate(held_out_pieces, vocabulary_size),
        similarity=similarity_section(real_segments, generated_segments, seed),
        copying=copying_section(training_pieces, generated_pieces),
        roles=role_section(real_segments, generated_segments),
        means=means_section(real_segments, generated_segments),
        structure=(structure_section(real_solos, generated_solos or {}, seed)
                   if real_solos else {}))


BASELINE_NAMES = ("unigram", "bigram", "trigram", "interpolated")


def _primary(section: dict, others) -> str | None:
    """The first name of a section that is not among others."""
    return next((name for name in section if name not in others), None)


def _figure(label: str, value, references) -> str:
    """"label value (reference, ...)", or "label reference, ..." without a value."""
    listed = ", ".join(references)
    if value is None:
        return f"{label} {listed}" if references else ""
    return f"{label} {value:.2f}" + (f" ({listed})" if references else "")


def _prediction_summary(prediction: dict) -> str:
    baselines = {name: entry["nats_per_token"] for name, entry in prediction.items()
                 if name in BASELINE_NAMES}
    references = [f"{BASELINE} {baselines[BASELINE]:.2f}"] if BASELINE in baselines else []
    if baselines:
        references.append(f"best n-gram {min(baselines.values()):.2f}")
    primary = _primary(prediction, BASELINE_NAMES)
    if primary is None:
        return _figure("held-out n-gram CE", None, references)
    return _figure("held-out CE", prediction[primary]["nats_per_token"], references)


def _similarity_summary(similarity: dict) -> str:
    primary = _primary(similarity, (REAL_VS_REAL,))
    references = [f"{name} {similarity[name]['mean_oa']:.2f}"
                  for name in (BASELINE, REAL_VS_REAL) if name in similarity and name != primary]
    return _figure("mean OA", None if primary is None else similarity[primary]["mean_oa"],
                   references)


def _role_summary(roles: dict) -> str:
    primary = _primary(roles, ("real",))
    if primary is None:
        return ""
    percentages = "/".join(f"{100 * roles[primary][role]:.0f}" for role in ROLE_NAMES)
    return f"{'/'.join(ROLE_NAMES)} {percentages}%"


def _rows(header, rows) -> list:
    """Lines of a left-aligned first column and right-aligned others."""
    table = [list(header)] + [list(row) for row in rows]
    widths = [max(len(row[column]) for row in table) for column in range(len(header))]
    return ["  " + "  ".join(cell.ljust(width) if column == 0 else cell.rjust(width)
                             for column, (cell, width) in enumerate(zip(row, widths)))
            for row in table]


def format_table(report: Report) -> str:
    """The report as readable plain text, one block per section."""
    lines = []
    if report.prediction:
        counted = next(iter(report.prediction.values()))["counted"]
        lines.append(f"prediction on held-out tokens ({counted} scored, "
                     f"{100 * report.oov_rate:.1f}% out of vocabulary)")
        lines += _rows(("model", "nats/token", "accuracy"),
                       [(name, f"{entry['nats_per_token']:.3f}", f"{entry['accuracy']:.3f}")
                        for name, entry in report.prediction.items()])
    if report.similarity:
        names = list(report.similarity)
        measures = list(report.similarity[names[0]]["measures"])
        lines.append("generated vs real: overlapping area (1 = as close as real segments are "
                     "to one another)")
        rows = [[measure] + [f"{report.similarity[name]['measures'][measure]['oa']:.2f}"
                             for name in names] for measure in measures]
        rows.append(["mean"] + [f"{report.similarity[name]['mean_oa']:.2f}" for name in names])
        lines += _rows(["measure"] + names, rows)
    if report.means:
        names = list(report.means)
        lines.append("scalar measures: plain means over the segments")
        lines += _rows(["measure"] + names,
                       [[measure] + [f"{report.means[name][measure]:.3f}" for name in names]
                        for measure in SCALAR_MEASURES])
    if report.structure:
        names = list(report.structure)
        lines.append("phrasing and structure of whole solos (phrase_length_oa of real: one "
                     "half of the real solos against the other)")
        lines += _rows(["figure"] + names,
                       [[figure] + [_cell(report.structure[name][figure]) for name in names]
                        for figure in STRUCTURE_FIGURES])
    if report.phrase_ends:
        ends = report.phrase_ends
        lines.append("phrase ends: after a sounding note, the next token is a rest of a beat "
                     "or more")
        lines += _rows(("where", "share", "after notes"),
                       [("held-out solos", _cell(ends["held_out_share"]),
                         str(ends["held_out_steps"])),
                        ("model's probability there", _cell(ends["model_probability"]),
                         str(ends["held_out_steps"])),
                        ("model's own solos", _cell(ends["sampled_share"]),
                         str(ends["sampled_steps"]))])
    if report.copying:
        lines.append("copying: generated token n-grams found verbatim in the training pieces")
        lines += _rows(("source", "8-grams", "16-grams", "longest copy"),
                       [(name, f"{entry['share_8']:.1%}", f"{entry['share_16']:.1%}",
                         str(entry["longest_copy"])) for name, entry in report.copying.items()])
    if report.roles:
        lines.append("note roles against the sounding chord")
        lines += _rows(("source",) + ROLE_NAMES,
                       [(name,) + tuple(f"{shares[role]:.1%}" for role in ROLE_NAMES)
                        for name, shares in report.roles.items()])
    lines.append(f"summary: {report.summary}")
    return "\n".join(lines)


def _cell(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def to_json(report: Report) -> dict:
    """Plain JSON types: {"prediction", "oov_rate", "similarity", "copying",
    "roles", "means", "structure", "phrase_ends", "summary"}, the sections as in
    the module docstring."""
    return {"prediction": report.prediction, "oov_rate": float(report.oov_rate),
            "similarity": report.similarity, "copying": report.copying,
            "roles": report.roles, "means": report.means, "structure": report.structure,
            "phrase_ends": report.phrase_ends, "summary": report.summary}
