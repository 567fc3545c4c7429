"""Time to quality: the original last-step recipe in PyTorch against the
every-step recipe of the same model in lstm_np.

    python -m benchmarks.speed --time-to-quality deepjazz|lofi|all

Data: the first solos of the Weimar Jazz Database in the exact grammar
(``load_corpus([WJAZZD], grammar="exact")``, the first ``Race.tokens``
tokens of its stream), cut 90/10 into a training head and a held-out tail.
(The default notes corpus was tried first: 2963 tokens of 630 kinds, its
tail another piece; no model did better there than a uniform guess.)

Validation loss, the same for every model: the mean cross-entropy (nats)
of each held-out token given the C tokens before it, C the original
recipe's window length (20 for deepjazz, 100 for the LoFi generator):

    val = mean over j in tail of -log p(ids[j] | ids[j - C : j])

read from the model's last step (the every-step model is asked only there).

The race: both recipes train side by side, the one with less training
time so far running the next epoch, so a burst of load from elsewhere
hits both alike; validation is measured after every epoch and is not
counted as training time.  Each stops after its epoch budget, or when its
validation loss has not improved for ``patience`` epochs.  The target is
the worse of the two best validation losses (both reach it); each
recipe's time to it is (epochs until it first reaches it) x (its median
epoch time) -- robust to a slow epoch -- and the plain sum is reported too.
"""
from __future__ import annotations

import statistics
import sys
import time
from dataclasses import dataclass, replace
from functools import partial

import numpy as np

from benchmarks.contenders import ours_trainer, torch, torch_inputs, torch_trainer
from jazz_lstm.corpus import load_corpus
from jazz_lstm.presets import PRESETS as TRAIN_PRESETS
from jazz_lstm.presets import TrainConfig
from jazz_lstm.record import model_config
from jazz_lstm.training import make_windows
from lstm_np.model import softmax_cross_entropy

VALIDATION_SHARE = 0.1


@dataclass(frozen=True)
class Race:
    """The original recipe (a last-step preset) against its every-step twin.

    tokens: how much of the WJazzD stream to race on;
    hidden_size, dense_size: > 0 shrinks both models alike (the original
    LoFi recipe runs every token through three LSTMs of 512 a hundred
    times per epoch: minutes per epoch even on a few thousand tokens);
    epochs: > 0 caps the original recipe's epoch budget (its epochs take
    minutes here: stopped while still improving, its time to its best is a
    lower bound on its time to any better loss, so the ratio is too);
    patience: epochs without a better validation loss before a recipe
    stops (original, every-step);
    embedding: > 0 adds a third runner, the original recipe in PyTorch with
    an nn.Embedding of that width instead of one-hot inputs (a factorized
    model, not the same one: it shows how much of the race is the one-hot
    product); it is timed to the same target, which it may never reach.
    """

    original: str
    every_step: str
    tokens: int
    hidden_size: int = 0
    dense_size: int = 0
    epochs: int = 0
    patience: tuple = (10, 40)
    embedding: int = 0

    def recipe(self, name: str) -> TrainConfig:
        train = TRAIN_PRESETS[name]
        shrunk = train.with_overrides(hidden_size=self.hidden_size or None,
                                      dense_size=self.dense_size if train.dense_size else None)
        if name != self.original or not self.epochs:
            return shrunk
        return replace(shrunk, epochs=min(train.epochs, self.epochs))

    @property
    def context(self) -> int:
        return TRAIN_PRESETS[self.original].window_length

    @property
    def shrunk(self) -> str:
        if not self.hidden_size:
            return ""
        dense = f", dense {self.dense_size}" if self.dense_size else ""
        return f"shrunk to LSTMs of {self.hidden_size}{dense}"


RACES = {
    "deepjazz": Race("deepjazz", "deepjazz-stream", tokens=60_000, epochs=5,
                     patience=(3, 15), embedding=128),
    "lofi": Race("lofi", "lofi-stream", tokens=20_000, hidden_size=64, dense_size=32,
                 epochs=6, patience=(2, 15)),
}


def token_stream(source, tokens: int):
    """(ids, vocab_size): the first ``tokens`` exact-grammar tokens of
    ``source`` (e.g. the WJazzD folder) as ids of their sorted vocabulary."""

    stream = load_corpus([str(source)], grammar="exact").tokens[:tokens]
    index = {token: number for number, token in enumerate(sorted(set(stream)))}
    return np.array([index[token] for token in stream], np.int64), len(index)


def validation_windows(ids, cut: int, context: int) -> tuple:
    """(inputs (n, context), targets (n,)): every token from ``cut`` on, after
    the ``context`` tokens before it (which may lie before ``cut``)."""
    if not context <= cut < len(ids):
        raise ValueError(f"cut {cut} must lie in [{context}, {len(ids)}) for "
                         f"{context} tokens of context")
    starts = np.arange(cut - context, len(ids) - context)
    return ids[starts[:, None] + np.arange(context)], ids[starts + context]


def ours_validation(model, inputs, targets):
    """Validation loss of an lstm_np model, read at the last step."""

    logits, _, _ = model.forward(inputs, all_steps=False)
    return softmax_cross_entropy(logits, targets)[0]


def torch_validation(model, config, inputs, targets, embedding: int = 0):
    """Validation loss of the PyTorch twin (a last-step model)."""


    model.eval()
    with torch.no_grad():
        logits = model(torch_inputs(config, inputs, embedding=embedding))
    return float(torch.nn.functional.cross_entropy(logits, torch.from_numpy(targets)))


@dataclass
class Runner:
    """One recipe in the race: ``epoch()`` trains, ``validate()`` measures."""

    epoch: object
    validate: object
    epochs: int
    patience: int
    seconds: list
    losses: list

    @property
    def done(self) -> bool:
        best = int(np.argmin(self.losses)) if self.losses else 0
        return (len(self.seconds) >= self.epochs
                or (bool(self.losses) and len(self.losses) - 1 - best >= self.patience))


def run_race(runners: dict, on_epoch=None) -> None:
    """Train every runner to its end, the one with the least training time next;
    ``on_epoch(name, runner)`` after each epoch."""
    while True:
        waiting = [name for name, runner in runners.items() if not runner.done]
        if not waiting:
            return
        name = min(waiting, key=lambda name: sum(runners[name].seconds))
        runner = runners[name]
        start = time.perf_counter()
        runner.epoch()
        runner.seconds.append(time.perf_counter() - start)
        runner.losses.append(runner.validate())
        if on_epoch is not None:
            on_epoch(name, runner)


def print_epoch(name: str, runner: Runner) -> None:
    print(f"    {name} epoch {len(runner.seconds)}: {runner.seconds[-1]:.2f} s, "
          f"validation {runner.losses[-1]:.4f}", file=sys.stderr, flush=True)


def time_to(target: float, seconds, losses) -> dict:
    """Epochs and seconds until ``losses`` first reach ``target`` (None: never)."""
    reached = [epoch for epoch, loss in enumerate(losses) if loss <= target]
    if not reached:
        return {"epochs": None, "seconds": None, "seconds_summed": None}
    epochs = reached[0] + 1
    return {"epochs": epochs, "seconds": epochs * statistics.median(seconds),
            "seconds_summed": float(sum(seconds[:epochs]))}


def unigram_validation(ids, cut: int, vocab_size: int) -> float:
    """The validation loss of token frequencies in the training head (add-one
    smoothed): what a model that ignores the context scores."""
    counts = np.bincount(ids[:cut], minlength=vocab_size) + 1.0
    return float(-np.log(counts[ids[cut:]] / counts.sum()).mean())


def race_recipes(race: Race, ids, vocab_size: int, seed: int = 0, on_epoch=None) -> dict:
    """Race the original recipe (PyTorch) against the every-step one (lstm_np)."""

    cut = int(len(ids) * (1 - VALIDATION_SHARE))
    inputs, targets = validation_windows(ids, cut, race.context)
    runners, recipes = {}, {}
    contenders = [("original (pytorch)", race.original, race.patience[0], 0),
                  ("every-step (ours)", race.every_step, race.patience[1], 0)]
    if race.embedding:
        contenders.append(("original embedding (pytorch)", race.original, race.patience[0],
                           race.embedding))
    for name, preset, patience, embedding in contenders:
        train = race.recipe(preset)
        config = model_config(train, vocab_size)
        data = make_windows(train, ids[:cut], np.random.default_rng(seed))
        if name.startswith("original"):
            model, epoch = torch_trainer(config, train, data, seed, embedding)
            validate = partial(torch_validation, model, config, inputs, targets, embedding)
        else:
            model, epoch = ours_trainer(config, train, data, seed=seed)
            validate = partial(ours_validation, model, inputs, targets)
        runners[name] = Runner(epoch, validate, train.epochs, patience, [], [])
        recipes[name] = {"preset": preset, "windows": len(data[0]),
                         "window_length": data[0].shape[1], "batch_size": train.batch_size,
                         "optimizer": f"{train.optimizer} lr {train.lr:g}",
                         "epoch_budget": train.epochs, "embedding": embedding}
    run_race(runners, on_epoch)
    # The embedding twin is another model: it does not set the target.
    target = max(min(runners[name].losses) for name, *_ in contenders[:2])
    results = {}
    for name, runner in runners.items():
        results[name] = {**recipes[name], "epochs_run": len(runner.seconds),
                         "median_epoch_seconds": statistics.median(runner.seconds),
                         "best_validation": min(runner.losses),
                         "validation_curve": [round(loss, 4) for loss in runner.losses],
                         **time_to(target, runner.seconds, runner.losses)}
    every_step = results["every-step (ours)"]["seconds"]
    ratios = {name: result["seconds"] / every_step for name, result in results.items()
              if name != "every-step (ours)" and result["seconds"] is not None}
    return {"race": race.original, "shrunk": race.shrunk, "context": race.context,
            "training_tokens": cut, "validation_tokens": len(ids) - cut,
            "vocab_size": vocab_size, "target": target, "results": results,
            "unigram_validation": unigram_validation(ids, cut, vocab_size),
            "ratio": ratios["original (pytorch)"], "ratios": ratios}


def print_race(report: dict) -> None:
    shrunk = f" ({report['shrunk']})" if report["shrunk"] else ""
    print(f"time to quality, {report['race']}{shrunk}: WJazzD exact grammar, "
          f"{report['training_tokens']} training / {report['validation_tokens']} held-out "
          f"tokens, {report['vocab_size']} token kinds; validation = nats per held-out token "
          f"after {report['context']} tokens of context")
    print(f"  target (the worse of the two best validation losses): {report['target']:.4f}; "
          f"token frequencies alone score {report['unigram_validation']:.4f}")
    for name, result in report["results"].items():
        print(f"  {name:<29} {result['preset']}: {result['windows']} windows of "
              f"{result['window_length']}, batch {result['batch_size']}, {result['optimizer']}; "
              f"best {result['best_validation']:.4f} after {result['epochs_run']} epochs "
              f"of {result['median_epoch_seconds']:.3f} s (median); "
              + (f"target at epoch {result['epochs']}: {result['seconds']:.2f} s "
                 f"(summed {result['seconds_summed']:.2f} s)" if result["epochs"]
                 else "never reaches the target"))
    for name, ratio in report["ratios"].items():
        print(f"  every-step (ours) reaches the target {ratio:.1f}x sooner than {name}")
