"""evaluate holds out the pieces the run recorded (issue 22, cause 8), and says when the data
changed since training, as `train --resume` does."""
import pytest

import jazz_lstm
from jazz_lstm.evaluating import recorded_validation
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
