"""Evaluation: what a model learned and how close its solos come to real ones.

References: L.-C. Yang and A. Lerch (2018), "On the evaluation of generative
models in music", Neural Computing and Applications (the mgeval toolbox:
per-segment measures, intra-/inter-set distances, overlapping area); and the
metrics of MusPy (H.-W. Dong et al., 2020: pitch range, pitch-class
histogram, scale consistency, empty-bar rate, ...).  Nothing here imports
music21 or lstm_np.

Every figure of a report
------------------------
Prediction (``ngram``), on held-out pieces of token ids; the training
vocabulary is ids 0..V-1, anything else is out of vocabulary (OOV):

* cross-entropy (nats/token) = mean of -ln P(target | context) over the
  scored targets: the in-vocabulary ones; OOV tokens are context only.
  Contexts never reach across pieces (each piece starts after BOS).
* accuracy = share of scored targets equal to the arg max of P (lowest id
  on a tie).
* OOV rate = share of held-out tokens outside 0..V-1.
* baselines: unigram, bigram, trigram with add-k smoothing,
  P_n(w | h) = (c(h, w) + k_n) / (c(h) + k_n V), and their linear
  interpolation l1 P_1 + l2 P_2 + l3 P_3; k_n and l are tuned on the last
  10% of the training tokens and the counts then refitted on all of them.

Generated vs real (``measures``, ``overlap``), on segments of bars:

* the measures of a segment (see ``measures`` for each definition):
  pitch-class, signed-interval, note-length and onset-in-beat histograms;
  notes per bar, pitch range, mean |interval|, repeated-pitch rate; the
  shares of chord, scale, approach and other notes under the sounding
  chord (the grammar's C/S/A/X roles); rest share, empty-bar share,
  off-grid-onset share (1/12-quarter grid).
* overlapping area (OA) of a measure = integral of min(p, q), p the KDE of
  the intra-set distances between real segments, q that of the inter-set
  distances between real and generated segments; 1 = generated segments
  lie from real ones as real ones lie from each other.  KL = KL(p || q).
  mean OA = the mean over all measures.
* real-vs-real OA: a seeded half of the real segments against the other
  half, the level a perfect generator could expect.

Copying (``copying``), generated token pieces against training pieces:

* copy share at n (8 and 16) = share of generated n-grams that occur
  verbatim in a training piece;
* longest copy = the longest stretch of generated tokens found verbatim in
  one training piece.

Phrasing and structure (``phrasing``, ``structureness``), on whole solos:
phrase lengths (a phrase ends at a rest of a beat or more), repeated
4-interval patterns, same-pitch repeats, and Wu and Yang's (ISMIR 2020)
pitch-class entropy H1/H4, grooving similarity GS and structureness
indicator SI from a melody-only chroma; definitions in those modules and
docs/evaluate.md.

Report (``report``): the sections prediction, similarity, copying, roles, structure
(C/S/A/X shares of all real and generated notes), ``format_table``,
``to_json`` and a summary line such as ``held-out CE 3.36 (bigram 3.70,
best n-gram 3.41); mean OA 0.84 (bigram 0.82, real-vs-real 0.91);
chord/scale/approach/other 79/16/4/0%``.
"""
from jazz_lstm.evaluation.copying import copy_share, copying, longest_copy
from jazz_lstm.evaluation.measures import segment_measures, split_segments
from jazz_lstm.evaluation.ngram import (CrossEntropy, NgramModel, cross_entropy, fit_baselines,
                                        oov_rate, sample)
from jazz_lstm.evaluation.overlap import compare_sets, overlapping_area, split_halves
from jazz_lstm.evaluation.report import Report, build_report, format_table, to_json

__all__ = ["CrossEntropy", "NgramModel", "Report", "build_report", "compare_sets", "copy_share",
           "copying", "cross_entropy", "fit_baselines", "format_table", "longest_copy",
           "oov_rate", "overlapping_area", "sample", "segment_measures", "split_halves",
           "split_segments", "to_json"]
