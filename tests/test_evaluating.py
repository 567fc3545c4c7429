"""jazz_lstm.evaluating: evaluate holds out the pieces the run recorded (issue 22, cause 8)
and says when the data changed since training, as `train --resume` does; real segments are
chosen by the seed and halved while few; the bigram baseline fills every bar exactly."""
from fractions import Fraction as F

import numpy as np
import pytest

import jazz_lstm
from jazz_lstm import evaluating
from jazz_lstm.evaluating import recorded_validation
from jazz_lstm.evaluation import fit_baselines
from jazz_lstm.grammars import Exact, Piece
from music.song import Measure, Note, Song
from jazz_lstm.corpus import load_corpus
from tests.test_wjazzd_csv import note_row, write_solo

pytestmark = pytest.mark.bounded   # issue 22: within 60 s and 1.5 GB (tests/bounds.py)


def write_solos(root, names):
    for number, name in enumerate(names):
        write_solo(root, name, [note_row(bar, beat, 55 + (number * 3 + bar + beat) % 20)
                                for bar in (1, 2) for beat in (1, 2, 3, 4)])


@pytest.fixture
def run_on_ten_solos(tmp_path):
    root = tmp_path / "wjazzd"
    write_solos(root, [f"P{number:02d}_Solo" for number in range(10)])
    run = jazz_lstm.train(data=[str(root)], epochs=1, hidden=8, seed=3, validation_share=0.2,
                          progress=False, run_dir=tmp_path / "runs" / "ten")
    return root, run


def held_out_now(root, run):
    corpus = load_corpus([str(root)], grammar=run.record.grammar)
    pieces, notes = recorded_validation(run.record, run.stream, corpus.pieces)
    return [piece.source for piece in pieces], notes


def test_added_solos_never_join_the_validation_pieces(run_on_ten_solos):
    root, run = run_on_ten_solos
    recorded = list(run.record.corpus.validation_sources)
    assert len(recorded) == 2 and held_out_now(root, run) == (recorded, [])
    # Solos sorting before the others change the split a re-draw would make.
    write_solos(root, [f"A{number}_New" for number in range(5)])
    sources, notes = held_out_now(root, run)
    assert sources == recorded
    assert notes == ["warning: 5 piece(s) of the data were added since the run was trained and "
                     f"are left out ({root}/melody/A0_New_FINAL.csv, {root}/melody/"
                     f"A1_New_FINAL.csv, {root}/melody/A2_New_FINAL.csv and 2 more)"]


def test_a_training_solo_edited_in_place_is_said(run_on_ten_solos):
    root, run = run_on_ten_solos
    trained = run.record.corpus.sources[0]
    write_solo(root, trained.split("/")[-1].removesuffix("_FINAL.csv"),
               [note_row(1, 1, 80), note_row(2, 1, 81)])
    sources, notes = held_out_now(root, run)
    assert sources == list(run.record.corpus.validation_sources)
    assert len(notes) == 1 and "the training data changed since the run was trained" in notes[0]


# ------------------------------------------------------------ segments and the bigram's solos

def bars_piece(name, lengths):
    """A Piece whose song has bars of these lengths (quarters), bar k holding pitch 60 + k."""
    song = Song([Measure(length, [Note(0, length, 60 + k)]) for k, length in enumerate(lengths)])
    return Piece(name, name, [], None, song)


@pytest.mark.parametrize("lengths, signature", [
    ([4, 4], (4, 4)), ([3], (3, 4)), ([F(7, 2)], (7, 8)), ([F(5, 2), 4], (5, 8)), ([6], (6, 4))])
def test_a_segments_metre_is_read_off_its_first_bar(lengths, signature):
    assert evaluating._time_signature_of(bars_piece("p", lengths).song.measures) == signature


def test_segments_halve_while_fewer_than_ten_fit_the_held_out_music():
    # 24 bars: three of 8 bars, six of 4, then twelve of 2 (the first length with 10 or more)
    pieces = [bars_piece("a", [4] * 16), bars_piece("b", [4] * 8)]
    segments, bars, forms = evaluating._enough_segments(pieces, 8, count=40, seed=0)
    assert bars == 2 and len(segments) == 12 and len(forms) == 12
    assert [measure.notes[0].pitch for measure in segments[0]] == [60, 61]
    assert [measure.notes[0].pitch for measure in segments[8]] == [60, 61]   # piece b's first
    # never below 2 bars, however little music there is
    assert evaluating._enough_segments([bars_piece("c", [4] * 3)], 8, count=40, seed=0)[1] == 2


def test_at_most_count_segments_are_chosen_by_the_seed_and_kept_in_order():
    pieces = [bars_piece("a", [4] * 40)]
    chosen = evaluating._real_segments(pieces, 2, count=5, seed=1)[0]
    firsts = [segment[0].notes[0].pitch for segment in chosen]
    assert len(chosen) == 5 and firsts == sorted(firsts)
    assert all((pitch - 60) % 2 == 0 for pitch in firsts)            # whole segments of 2 bars
    assert [s[0].notes[0].pitch for s in evaluating._real_segments(pieces, 2, 5, seed=1)[0]] == firsts
    others = {tuple(s[0].notes[0].pitch for s in evaluating._real_segments(pieces, 2, 5, seed)[0])
              for seed in range(2, 8)}
    assert others != {tuple(firsts)}


def test_the_bigram_fills_every_exact_bar_to_its_length():
    vocabulary = ["|", "0=,6", "4+4,12", "R,3", "R,24", "7-4,9", "T,1"]
    costs = [0, 6, 12, 3, 24, 9, 1]
    pieces = [[1, 2, 3, 0, 4, 5, 0, 1, 1, 6], [2, 2, 0, 3, 3]]
    bigram = fit_baselines(pieces, len(vocabulary)).bigram
    for signature, units in (((4, 4), 48), ((3, 4), 36), ((7, 8), 42)):
        ids = evaluating._bigram_stream(bigram, Exact(), vocabulary, 3, signature,
                                        np.random.default_rng(5))
        bars, current = [], []
        for token_id in ids:
            if token_id == 0:
                bars.append(current)
                current = []
            else:
                current.append(costs[token_id])
        assert current == [] and len(bars) == 3
        assert all(sum(bar) == units for bar in bars), (signature, bars)
        assert ids == evaluating._bigram_stream(bigram, Exact(), vocabulary, 3, signature,
                                                np.random.default_rng(5))


def test_phrase_end_masks_pick_notes_and_ties_then_rests_of_a_beat_or_more():
    vocabulary = ["|", "0+4,6", "NC7=,3", "T,2", "R,9", "R,12", "R,24", "R,1"]
    after, following = evaluating.phrase_end_masks(vocabulary)
    assert after.tolist() == [False, True, True, True, False, False, False, False]
    assert following.tolist() == [False, False, False, False, False, True, True, False]


def test_the_phrase_end_section_counts_the_sampled_note_rest_pairs():
    vocabulary = ["|", "0+4,6", "T,2", "R,12", "R,3"]
    watch = evaluating.phrase_end_masks(vocabulary)
    # Pieces: note R,12 | note T,2 R,3 ... : 4 steps after a sounding note
    # (0+4,6 twice, T,2 twice), one of them followed by R,12.
    pieces = [[1, 3, 0, 1, 2, 4], [2, 0]]
    section = evaluating.phrase_end_section({"actual": 0.25, "predicted": 0.2, "steps": 8},
                                            pieces, watch)
    assert section == {"held_out_share": 0.25, "model_probability": 0.2,
                       "sampled_share": 0.25, "held_out_steps": 8, "sampled_steps": 4}
