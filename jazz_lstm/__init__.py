"""jazz_lstm: the pipeline between ``music`` (files, songs, tokens) and ``lstm_np``
(token ids, probabilities, gradients), and its public Python API.

    import jazz_lstm
    run = jazz_lstm.train(data=["music21:leadSheet/fosterBrownHair.mxl"], preset="course",
                          epochs=20, seed=0, run_dir="runs/demo")
    solo = run.sample(chords="Dm7 G7 | Cmaj7", bars=8, seed=1)
    solo.write_midi("solo.mid")

Modules: ``presets`` (training settings), ``corpus`` (files -> tokens),
``record`` (what a run stores), ``runs`` (run folders), ``training`` (the
train / resume loop), ``sampling`` (checkpoint + chords -> song), ``api``
(these names), ``cli`` (the command line).
"""
import importlib

# The submodule jazz_lstm.evaluate is loaded before the API function of the same
# name is bound: a submodule loaded later would replace the package's attribute.
importlib.import_module("jazz_lstm.evaluate")

from jazz_lstm.api import Run, Solo, evaluate, open_run, report, resume, sample, train  # noqa: E402
from jazz_lstm.presets import PRESETS, TrainConfig  # noqa: E402
from jazz_lstm.runs import UsageError  # noqa: E402

__all__ = ["PRESETS", "Run", "Solo", "TrainConfig", "UsageError", "evaluate", "open_run",
           "report", "resume", "sample", "train"]
