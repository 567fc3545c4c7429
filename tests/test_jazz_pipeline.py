"""The exact-grammar pipeline on a small corpus of WJazzD-style solos the test writes:
a seeded split by piece, validation every epoch, the best epoch kept, exact resume,
early stopping, and solos whose bars are filled exactly over the user's chords."""
import json
from types import SimpleNamespace

import numpy as np
import pytest

import jazz_lstm
from jazz_lstm.corpus import load_corpus
from jazz_lstm.training import Session, _stopped_early
from music.tokens.exact_grammar import encode_song, token_cost, units_of
from tests.test_wjazzd_csv import beat_row, note_row, write_solo

CHANGES = ["Dm7", "G7", "Cj7", "Cj7"]


@pytest.fixture(scope="module")
def solos(tmp_path_factory):
    """Ten 8-bar solos of eighths and quarters over ii-V-I changes, seeded."""
    root = tmp_path_factory.mktemp("wjazzd")
    rng = np.random.default_rng(7)
    for index in range(10):
        notes, beats, pitch = [], [], 64
        for bar in range(1, 9):
            chord = CHANGES[(bar - 1) % 4]
            beats += [beat_row(bar, beat, chord) for beat in range(1, 5)]
            for beat in range(1, 5):
                for tatum in (1, 2) if rng.random() < 0.6 else (1,):
                    pitch = int(np.clip(pitch + rng.integers(-3, 4), 55, 79))
                    notes.append(note_row(bar, beat, pitch, tatum=tatum, division=2,
                                          seconds=0.2, chord=chord))
        write_solo(root, f"Player{index}_Tune{index}", notes, beats)
    return root


@pytest.fixture(scope="module")
def validated_run(solos, tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs")
    run = jazz_lstm.train(data=[str(solos)], preset="jazz", epochs=3, hidden=16, seed=3,
                          run_dir=folder / "full", progress=False)
    return folder, run


def test_the_split_is_by_piece_seeded_and_a_tenth(solos):
    first = load_corpus([str(solos)], validation_share=0.1, seed=3)
    again = load_corpus([str(solos)], validation_share=0.1, seed=3)
    other = [load_corpus([str(solos)], validation_share=0.1, seed=seed) for seed in range(4, 9)]
    assert len(first.pieces) == 9 and len(first.validation) == 1
    assert [p.source for p in first.validation] == [p.source for p in again.validation]
    assert any([p.source for p in corpus.validation] != [p.source for p in first.validation]
               for corpus in other)
    assert not {p.source for p in first.pieces} & {p.source for p in first.validation}


def test_features_mark_where_each_token_starts(solos):
    corpus = load_corpus([str(solos)], validation_share=0.0)
    piece = corpus.pieces[0]
    assert piece.features.shape == (len(piece.tokens) + 1, corpus.features.shape[1])
    # The stream's features are the pieces' rows laid end to end.
    assert len(corpus.features) == len(corpus.tokens) + 1
    np.testing.assert_array_equal(corpus.features[len(piece.tokens)],
                                  corpus.pieces[1].features[0])


def test_validation_is_measured_every_epoch_and_the_best_epoch_kept(validated_run):
    folder, run = validated_run
    rows = run.history
    assert [row["epoch"] for row in rows] == [1, 2, 3]
    assert all("val_loss" in row and "val_accuracy" in row for row in rows)
    best = min(rows, key=lambda row: row["val_loss"])
    assert run.record.best_epoch == best["epoch"]
    assert run.record.best_val_loss == pytest.approx(best["val_loss"])
    assert len(run.record.corpus.validation_sources) == 1
    header = (run.folder / "history.csv").read_text().splitlines()[0]
    assert header == "epoch,loss,accuracy,seconds,val_loss,val_accuracy"


def test_a_validated_run_resumes_exactly(solos, validated_run, tmp_path):
    _, straight = validated_run
    jazz_lstm.train(data=[str(solos)], preset="jazz", epochs=1, hidden=16, seed=3,
                    run_dir=tmp_path / "split", progress=False)
    resumed = jazz_lstm.resume(tmp_path / "split", epochs=3, progress=False)
    assert resumed.path.read_bytes() == straight.path.read_bytes()


def test_sampled_bars_are_filled_exactly_over_any_changes(validated_run):
    _, run = validated_run
    for chords, metre in (("Cm7 F7 | Bbmaj7 | Ebmaj7 | Am7b5 D7 | Gm6", None),
                          ("Dm7 | G7 | Cmaj7", (3, 4))):
        solo = run.sample(chords=chords, bars=6, seed=2, time_signature=metre)
        assert len(solo.song.measures) == 6
        for measure in solo.song.measures:
            assert sum(note.duration for note in measure.notes) == measure.length
        # The tokens of each generated bar cost exactly the bar.
        tokens = encode_song(solo.song)
        bar_units = units_of(solo.song.measures[0].length)
        costs, bar = [], 0
        for token in tokens:
            if token == "|":
                costs.append(bar)
                bar = 0
            else:
                bar += token_cost(token)
        assert costs == [bar_units] * 6


def test_without_chords_a_training_piece_is_played_and_named(validated_run):
    _, run = validated_run
    summary = run.sample(bars=2, seed=2).summary
    named = summary.split(" over the changes of ")[1].removesuffix(" (a training piece)")
    assert named.startswith("Player") and named.endswith(tuple("0123456789"))
    validation = run.record.corpus.validation_sources[0]
    assert named not in validation and any(named in source for source in run.record.corpus.sources)
    assert "changes of" not in run.sample(chords="Dm7 G7 | Cmaj7", bars=2, seed=2).summary


def test_patience_stops_after_that_many_epochs_without_improvement():
    session = Session.__new__(Session)
    session.record = SimpleNamespace(train=jazz_lstm.PRESETS["jazz"].with_overrides(patience=2),
                                     epoch=5, best_epoch=4)
    assert not _stopped_early(session)
    session.record.epoch = 6
    assert _stopped_early(session)
    session.record.train = session.record.train.with_overrides(patience=0)
    assert not _stopped_early(session)


def test_evaluate_reports_every_section_with_fixed_figures(validated_run):
    _, run = validated_run
    first = run.evaluate(quick=True, seed=5).to_json()
    again = run.evaluate(quick=True, seed=5, save=False).to_json()
    assert first == again
    # The keys the README documents.
    assert set(first) >= {"held_out", "notes", "prediction", "oov_rate", "similarity",
                          "copying", "roles", "means", "structure", "summary"}
    assert set(first["means"]) == {"real", "lstm", "bigram"}
    assert set(first["structure"]) == {"real", "lstm", "bigram"}
    # The 8-bar validation piece gives 4 "solos" of 2 bars, and says so.
    assert any(note.startswith("phrasing and structure: 4 real stretches of 2 bars")
               for note in first["notes"])
    # Every exact-grammar solo is on the grid: no onset off it.
    assert first["means"]["lstm"]["off_grid_share"] == 0.0
    assert list(first["prediction"])[:1] == ["lstm"]
    assert set(first["prediction"]) == {"lstm", "unigram", "bigram", "trigram", "interpolated"}
    for entry in first["prediction"].values():
        assert set(entry) == {"nats_per_token", "counted", "accuracy", "perplexity"}
        assert entry["perplexity"] == pytest.approx(np.exp(entry["nats_per_token"]))
    assert set(first["similarity"]) == {"lstm", "bigram", "real-vs-real"}
    assert set(first["copying"]["lstm"]) == {"share_8", "share_16", "longest_copy"}
    assert first["held_out"] == "the run's 1 validation piece(s)"
    assert first["summary"].startswith("held-out CE ")
    saved = json.loads((run.folder / "evaluation.json").read_text())
    assert saved["summary"] == first["summary"]


def test_the_run_page_shows_the_curves_and_the_latest_evaluation(validated_run):
    _, run = validated_run
    run.evaluate(quick=True, seed=5)
    page = run.report_html()
    summary = json.loads((run.folder / "evaluation.json").read_text())["summary"]
    assert "<svg" in page and summary.split(";")[0] in page
