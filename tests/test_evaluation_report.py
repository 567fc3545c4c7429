import json
import re
from fractions import Fraction as F

import numpy as np
import pytest

from jazz_lstm.evaluation import report as report_module
from jazz_lstm.evaluation.measures import MEASURE_NAMES
from jazz_lstm.evaluation.report import (Report, build_report, format_table, role_shares,
                                         similarity_section, to_json)
from music.song import Chord, Measure, Note

CMAJ7 = Chord(0, 4, root=0, pitch_classes=(0, 4, 7, 11), symbol="Cmaj7")


def scores(nats):
    return {"nats_per_token": nats, "counted": 100, "accuracy": 0.3}


def similarity(mean_oa):
    return {"mean_oa": mean_oa, "measures": {"pitch_range": {"oa": mean_oa, "kl": 0.1}}}


def hand_report():
    return Report(
        prediction={"lstm": scores(3.36), "unigram": scores(4.2), "bigram": scores(3.7),
                    "trigram": scores(3.5), "interpolated": scores(3.41)},
        oov_rate=0.005,
        similarity={"lstm": similarity(0.84), "bigram": similarity(0.82),
                    "real-vs-real": similarity(0.91)},
        copying={"lstm": {"share_8": 0.25, "share_16": 0.05, "longest_copy": 19}},
        roles={"real": {"chord": 0.5, "scale": 0.3, "approach": 0.1, "other": 0.1},
               "lstm": {"chord": 0.79, "scale": 0.16, "approach": 0.04, "other": 0.0}})


def test_summary_line_by_hand():
    assert hand_report().summary == (
        "held-out CE 3.36 (bigram 3.70, best n-gram 3.41); "
        "mean OA 0.84 (bigram 0.82, real-vs-real 0.91); "
        "chord/scale/approach/other 79/16/4/0%")


def test_summary_without_a_model_names_only_the_baselines():
    report = Report(prediction={"bigram": scores(3.7), "trigram": scores(3.5)})
    assert report.summary == "held-out n-gram CE bigram 3.70, best n-gram 3.50"


def test_summary_with_only_the_real_reference():
    report = Report(similarity={"real-vs-real": similarity(0.91)})
    assert report.summary == "mean OA real-vs-real 0.91"
    assert Report().summary == ""


def test_table_shows_every_section():
    table = format_table(hand_report())
    assert "prediction on held-out tokens (100 scored, 0.5% out of vocabulary)" in table
    assert re.search(r"^  lstm\s+3\.360\s+0\.300$", table, re.MULTILINE)
    assert re.search(r"^  measure\s+lstm\s+bigram\s+real-vs-real$", table, re.MULTILINE)
    assert re.search(r"^  mean\s+0\.84\s+0\.82\s+0\.91$", table, re.MULTILINE)
    assert re.search(r"^  lstm\s+25\.0%\s+5\.0%\s+19$", table, re.MULTILINE)
    assert re.search(r"^  lstm\s+79\.0%\s+16\.0%\s+4\.0%\s+0\.0%$", table, re.MULTILINE)
    assert table.endswith("summary: " + hand_report().summary)


def test_role_shares_pool_the_notes_of_all_segments():
    # One chord tone in the first segment, three notes without a chord in the second:
    # pooled 1/4 chord, 3/4 other (a mean of per-segment shares would say 1/2).
    first = [Measure(4, notes=(Note(0, 4, 64),), chords=(CMAJ7,))]
    second = [Measure(4, notes=(Note(0, 1, 61), Note(1, 1, 62), Note(2, 2, 63)))]
    assert role_shares([first, second]) == {"chord": 0.25, "scale": 0.0, "approach": 0.0,
                                            "other": 0.75}


def stepwise_segment(rng):
    pitch, notes = int(rng.integers(60, 72)), []
    for index in range(8):
        notes.append(Note(F(index, 2), F(1, 2), pitch))
        pitch += int(rng.choice([-2, -1, 1, 2]))
    return [Measure(4, notes=tuple(notes), chords=(CMAJ7,))]


def segments(count, seed):
    rng = np.random.default_rng(seed)
    return [stepwise_segment(rng) for _ in range(count)]


def solo(seed):
    """Four one-bar segments as one solo."""
    return [measure for segment in segments(4, seed) for measure in segment]


def pieces(count, seed, vocabulary_size=12):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, vocabulary_size, 60) for _ in range(count)]


def small_report(seed=0):
    training = pieces(6, seed=1)
    return build_report(training_pieces=training, held_out_pieces=pieces(2, seed=2),
                        vocabulary_size=12, real_segments=segments(12, seed=3),
                        generated_segments={"lstm": segments(6, seed=4),
                                            "bigram": segments(6, seed=5)},
                        generated_pieces={"lstm": [training[0][:30]], "bigram": pieces(1, 6)},
                        model_scores={"lstm": (2.0, 120, 0.5)}, seed=seed,
                        real_solos=[solo(seed=7 + index) for index in range(3)],
                        generated_solos={"lstm": [solo(seed=10)], "bigram": [solo(seed=11)]})


def test_build_report_fills_every_section_in_order():
    report = small_report()
    assert list(report.prediction) == ["lstm", "unigram", "bigram", "trigram", "interpolated"]
    assert report.prediction["lstm"] == {"nats_per_token": 2.0, "counted": 120, "accuracy": 0.5}
    assert report.prediction["bigram"]["counted"] == 120
    assert list(report.similarity) == ["lstm", "bigram", "real-vs-real"]
    assert list(report.similarity["lstm"]["measures"]) == list(MEASURE_NAMES)
    assert report.copying["lstm"] == {"share_8": 1.0, "share_16": 1.0, "longest_copy": 30}
    assert list(report.roles) == ["real", "lstm", "bigram"]
    assert list(report.structure) == ["real", "lstm", "bigram"]
    assert report.summary.startswith("held-out CE 2.00 (bigram ")


def test_report_is_deterministic_and_plain_json():
    first = json.dumps(to_json(small_report(seed=7)), sort_keys=True)
    assert first == json.dumps(to_json(small_report(seed=7)), sort_keys=True)
    assert set(json.loads(first)) == {"prediction", "oov_rate", "similarity", "copying",
                                      "roles", "means", "structure", "phrase_ends", "summary"}
    # The seed picks the real-vs-real halves.
    assert first != json.dumps(to_json(small_report(seed=8)), sort_keys=True)


def test_means_are_the_plain_averages_of_the_scalar_measures():
    # Two one-bar segments of 4/4 over C: 4 quarter notes, and 2 half notes.
    from music.chords import make_chord
    from music.song import Measure, Note

    c = make_chord("C")
    four = [Measure(4, [Note(i, 1, 60 + 2 * i) for i in range(4)], [c])]
    two = [Measure(4, [Note(0, 2, 60), Note(2, 2, 67)], [c])]
    means = report_module.means_section([four, two], {"model": [two, two]})
    assert means["real"]["notes_per_bar"] == 3.0 and means["model"]["notes_per_bar"] == 2.0
    assert means["real"]["pitch_range"] == (6 + 7) / 2 and means["model"]["pitch_range"] == 7.0


def test_real_segments_are_capped_by_a_seeded_sample(monkeypatch):
    monkeypatch.setattr(report_module, "MAX_REAL_SEGMENTS", 4)
    sizes, compare_sets = [], report_module.compare_sets

    def counting_compare_sets(real, generated):
        sizes.append((len(real), len(generated)))
        return compare_sets(real, generated)

    monkeypatch.setattr(report_module, "compare_sets", counting_compare_sets)
    real, generated = segments(10, seed=3), {"lstm": segments(3, seed=4)}
    sample = similarity_section(real, generated, seed=1)
    assert sizes == [(4, 3), (2, 2)]     # 4 real vs 3 generated; halves of the 4
    assert sample == similarity_section(real, generated, seed=1)


def test_too_few_real_segments_raise_value_error():
    with pytest.raises(ValueError, match="at least 3 of them, got 2"):
        similarity_section(segments(2, seed=0), {"lstm": segments(2, seed=1)})


def test_the_phrase_end_block_shows_the_three_shares():
    report = Report(phrase_ends={"held_out_share": 0.0264, "model_probability": 0.0208,
                                 "sampled_share": 0.0113, "held_out_steps": 6775,
                                 "sampled_steps": 8689})
    table = format_table(report)
    assert "phrase ends: after a sounding note, the next token is a rest of a beat or more" \
        in table
    assert re.search(r"^  held-out solos\s+0\.026\s+6775$", table, re.MULTILINE)
    assert re.search(r"^  model's probability there\s+0\.021\s+6775$", table, re.MULTILINE)
    assert re.search(r"^  model's own solos\s+0\.011\s+8689$", table, re.MULTILINE)
