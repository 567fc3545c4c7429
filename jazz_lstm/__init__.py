"""jazz_lstm: the pipeline between ``music`` (files, songs, tokens) and ``lstm_np``
(token ids, probabilities, gradients), and its public Python API.

    import jazz_lstm
    run = jazz_lstm.train(data=["music21:leadSheet/fosterBrownHair.mxl"], preset="course",
                          epochs=20, seed=0, run_dir="runs/demo")
    solo = run.sample(chords="Dm7 G7 | Cmaj7", bars=8, seed=1)
    solo.write_midi("solo.mid")

Modules: ``presets`` (training settings), ``corpus`` (files -> tokens),
``record`` (what a run stores), ``runs`` (run folders), ``training`` (the
train / resume loop), ``sampling`` (checkpoint + chords -> song),
``evaluating`` (a run's evaluate figures; the measures are in ``evaluation``),
``api`` (these names), ``cli`` (the command line).
"""
from jazz_lstm.api import Run, Solo, evaluate, open_run, report, resume, sample, train
from jazz_lstm.presets import PRESETS, TrainConfig
from jazz_lstm.runs import UsageError

__all__ = ["PRESETS", "Run", "Solo", "TrainConfig", "UsageError", "evaluate", "open_run",
           "report", "resume", "sample", "train"]
