"""jazz_lstm.progress: how training reports its epochs (plain lines, a tqdm bar, one
notebook line or nothing), and which the API picks."""
import sys
import types

import pytest

from jazz_lstm import progress

ROW = {"epoch": 3, "loss": 1.23456, "accuracy": 0.5, "seconds": 2.0}
VALIDATED = {**ROW, "val_loss": 2.5, "val_accuracy": 0.25}


def test_a_line_per_epoch_with_the_total_and_rounded_figures():
    lines = []
    report = progress.Lines(lines.append)
    report.start(7, 2)
    report.epoch(ROW)
    report.epoch(VALIDATED)
    report.close()
    assert lines == [
        "epoch 3/7  loss 1.2346  accuracy 0.500  2.000s",
        "epoch 3/7  loss 1.2346  accuracy 0.500  val_loss 2.5000  val_accuracy 0.250  2.000s"]


def test_the_bar_counts_epochs_from_where_a_resumed_run_left_off(capsys):
    bar = progress.Bar()
    bar.start(5, 2)
    bar.epoch(VALIDATED)
    bar.close()
    bar.close()     # closing twice is harmless
    shown = capsys.readouterr().err
    assert "3/5" in shown
    assert "loss=1.235" in shown and "acc=0.500" in shown
    assert "val_loss=2.500" in shown and "val_acc=0.250" in shown


def test_silent_reports_nothing(capsys):
    silent = progress.Silent()
    silent.start(3, 0)
    silent.epoch(VALIDATED)
    silent.close()
    assert capsys.readouterr() == ("", "")


class FakeHandle:
    def __init__(self, shown):
        self.shown = shown

    def update(self, data, raw):
        self.shown.append(data["text/plain"])


@pytest.fixture
def fake_ipython(monkeypatch):
    """An IPython whose shell is a notebook kernel's and whose display() is recorded."""
    shown = []

    class ZMQInteractiveShell:
        pass

    def display(data, raw, display_id):
        assert raw and display_id
        shown.append(data["text/plain"])
        return FakeHandle(shown)

    ipython = types.ModuleType("IPython")
    ipython.get_ipython = ZMQInteractiveShell
    display_module = types.ModuleType("IPython.display")
    display_module.display = display
    ipython.display = display_module
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", display_module)
    return shown


def test_a_notebook_shows_one_line_rewritten_every_epoch(fake_ipython):
    line = progress.NotebookLine()
    line.start(4, 1)
    line.epoch(ROW)
    line.close()
    assert fake_ipython == ["epoch 1/4", "epoch 3/4  loss 1.2346  accuracy 0.500  2.000s"]


def test_the_api_reports_nothing_when_asked_else_a_bar_outside_jupyter(monkeypatch):
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    assert not progress.in_notebook()
    assert type(progress.for_api(False)) is progress.Silent
    assert type(progress.for_api(True)) is progress.Bar


def test_an_ipython_terminal_is_not_a_notebook(monkeypatch):
    class TerminalInteractiveShell:
        pass

    ipython = types.ModuleType("IPython")
    ipython.get_ipython = TerminalInteractiveShell
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    assert not progress.in_notebook()
    assert type(progress.for_api(True)) is progress.Bar


def test_in_jupyter_the_api_reports_in_one_notebook_line(fake_ipython):
    assert progress.in_notebook()
    assert type(progress.for_api(True)) is progress.NotebookLine
    assert type(progress.for_api(False)) is progress.Silent
