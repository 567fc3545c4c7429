"""jazz_lstm: the pipeline between ``music`` (files, songs, tokens) and ``lstm_np``
(token ids, probabilities, gradients), and its public Python API.

    import jazz_lstm
    run = jazz_lstm.train(data=["music21:leadSheet/fosterBrownHair.mxl"], preset="course",
                          epochs=20, seed=0, run_dir="runs/demo")
    solo = run.sample(chords="Dm7 G7 | Cmaj7", bars=8, seed=1)
    solo.write_midi("solo.mid")

Modules: ``presets`` (training settings), ``corpus`` (files -> tokens),
``limits`` (the bounds options are checked against), ``record`` (what a run
stores), ``runs`` (run folders), ``training`` (the
train / resume loop), ``sampling`` (checkpoint + chords -> song),
``evaluating`` (a run's evaluate figures; the measures are in ``evaluation``),
``api`` (these names), ``cli`` and ``commands`` (the command line).
"""
from jazz_lstm.limits import UsageError
from jazz_lstm.presets import PRESETS, TrainConfig

__all__ = ["PRESETS", "Run", "Solo", "TrainConfig", "UsageError", "evaluate", "open_run",
           "report", "resume", "sample", "train"]
_API = ("Run", "Solo", "evaluate", "open_run", "report", "resume", "sample", "train")


def __getattr__(name: str):
    """The API's names, from jazz_lstm.api on first use."""
    if name in _API:
        # jazz_lstm.api brings the model (Numba), the readers and the writers: 0.39 s of
        # start-up (python -X importtime, median of 5) that `import jazz_lstm` and the
        # command line's --help do not pay.
        from jazz_lstm import api
        return getattr(api, name)
    raise AttributeError(f"module 'jazz_lstm' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_API))
