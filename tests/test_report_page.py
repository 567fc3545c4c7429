"""jazz_lstm.report_page: the run page draws the training and validation curves and shows
the summary, settings and latest evaluation."""
import re

import pytest

from jazz_lstm.report_page import TRAIN_COLOUR, VALIDATION_COLOUR, run_report_html
from tests.page_helpers import Elements


def _history(with_validation=True):
    """Loss falling 3, 2, 1.5, 1.2; accuracy rising; validation loss lowest
    (0.9) at epoch 3; 0.5 s per epoch."""
    rows = [{"epoch": 1, "loss": 3.0, "accuracy": 0.2, "seconds": 0.5},
            {"epoch": 2, "loss": 2.0, "accuracy": 0.4, "seconds": 0.5},
            {"epoch": 3, "loss": 1.5, "accuracy": 0.5, "seconds": 0.5},
            {"epoch": 4, "loss": 1.2, "accuracy": 0.6, "seconds": 0.5}]
    if with_validation:
        for row, val_loss in zip(rows, (3.1, 1.4, 0.9, 1.0)):
            row.update(val_loss=val_loss, val_accuracy=0.1 + row["accuracy"] / 2)
    return rows


def _curve_paths(page, colour):
    """The y coordinates of each SVG path drawn in ``colour``, one list per path."""
    paths = re.findall(r'<path d="([^"]*)"[^>]*style="fill: none;[^"]* stroke: ' + colour, page)
    return [[float(y) for y in re.findall(r"[ML] [-\d.]+ ([-\d.]+)", path)] for path in paths]


def test_run_page_draws_training_and_validation_curves():
    page = run_report_html(_history(), {"preset": "course"}, None)
    training = [ys for ys in _curve_paths(page, TRAIN_COLOUR) if len(ys) == 4]
    validation = [ys for ys in _curve_paths(page, VALIDATION_COLOUR) if len(ys) == 4]
    assert len(training) == 2 and len(validation) == 2
    loss_ys, accuracy_ys = training
    # SVG y grows downwards: a falling loss climbs down the page, a rising accuracy up.
    assert loss_ys == sorted(loss_ys) and accuracy_ys == sorted(accuracy_ys, reverse=True)
    assert "validation" in page


def test_run_page_without_validation_draws_training_only():
    page = run_report_html(_history(with_validation=False), {}, None)
    assert len([ys for ys in _curve_paths(page, TRAIN_COLOUR) if len(ys) == 4]) == 2
    assert _curve_paths(page, VALIDATION_COLOUR) == []
    assert "validation" not in page


def test_run_page_summary_settings_and_evaluation():
    page = run_report_html(_history(), {"hidden_size": 64, "seed": 3},
                           {"chord tone share": 0.61, "pitch range": [55, 84]})
    cells = Elements(page).cells
    for name, shown in [("epochs", "4"), ("final loss", "1.2"), ("final accuracy", "0.6"),
                        ("best validation loss", "0.9000 at epoch 3"),
                        ("training time", "2.0 s"), ("hidden_size", "64"), ("seed", "3"),
                        ("chord tone share", "0.61"), ("pitch range", "[55, 84]")]:
        assert cells[cells.index(name) + 1] == shown
    assert "http://" not in page and "https://" not in page


def test_run_page_without_evaluation_or_epochs():
    page = run_report_html([], {"seed": 1}, None)
    assert "No epoch has finished yet" in page
    assert "<svg" not in page and "Evaluation" not in page


def test_same_history_same_run_page():
    assert run_report_html(_history(), {"a": 1}, {"b": 2}) == run_report_html(
        _history(), {"a": 1}, {"b": 2})


@pytest.mark.parametrize("rows, message", [
    ([{"epoch": 1, "loss": 1.0}], "history row 1 lacks accuracy"),
    ([{"epoch": 1, "loss": 1.0, "accuracy": 0.5}, {"epoch": 2, "loss": "x", "accuracy": 0.5}],
     "history row 2: loss must be a number, got 'x'"),
    ([[1, 1.0, 0.5]], "history row 1 must be a dict"),
])
def test_bad_history_rows_are_named(rows, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        run_report_html(rows, {}, None)
