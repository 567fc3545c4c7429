"""Time a training epoch (or a generated token) of lstm_np against PyTorch.

    python -m benchmarks.speed --preset course|deepjazz|lofi|sample [--json] [--repeats N]
    python -m benchmarks.speed --loss-curve 100      # float32 vs float64, course preset
    python -m benchmarks.speed --loss-curve 100 --data ../shared/data/original_metheny.mid
    python -m benchmarks.speed --compile-times       # Numba, cold and warm cache
    python -m benchmarks.speed --reading             # Metheny and WJazzD, caches cold and warm
    python -m benchmarks.speed --time-to-quality deepjazz|lofi|all
    python -m benchmarks.speed [--all]               # every figure of issue 14 and its target

Contenders: ours with the Numba kernels, ours on the NumPy path, and, when
torch imports, the same model in PyTorch (nn.LSTM, whose CPU kernel is
oneDNN's, on 2 threads).  Both sides see one-hot inputs: ours as token ids
whose one-hot product is a row gather, PyTorch as one-hot float tensors
built once before timing (what a Keras or PyTorch user feeds).  Data is
random tokens of the preset's shapes.

After a few untimed repetitions of each (the Numba kernels compile, memory is
allocated), the contenders take turns, one epoch each, in a rotating
order, so that a burst of load from elsewhere on the machine hits all of
them alike; medians are reported with min-max, and the ratio is PyTorch's
median over ours (above 1: ours is faster).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from lstm_np import kernels
from lstm_np.generate import generate
from lstm_np.model import ModelConfig, SequenceModel
from lstm_np.optim import Adam, train_epoch
from jazz_lstm.presets import PRESETS as TRAIN_PRESETS
from jazz_lstm.presets import TrainConfig
from jazz_lstm.record import model_config
from jazz_lstm.windows import cut_windows, window_starts
from music.read.scores import load_song
from music.tokens.classic_grammar import encode_song
from music.tokens.vocabulary import Vocabulary, build_vocabulary

from benchmarks.contenders import TORCH_THREADS, ours_trainer, torch, torch_trainer
from benchmarks import quality, reading, targets


@dataclass(frozen=True)
class Preset:
    """A jazz_lstm preset's model and optimizer on random data of a fixed shape."""

    name: str
    vocab_size: int
    windows: int
    repeats: int
    note: str
    feature_size: int = 0

    @property
    def train(self) -> TrainConfig:
        return TRAIN_PRESETS[self.name]

    @property
    def config(self) -> ModelConfig:
        return model_config(self.train, self.vocab_size, self.feature_size)

    @property
    def steps(self) -> int:
        return self.train.window_length

    @property
    def batch_size(self) -> int:
        return min(self.train.batch_size, self.windows)


PRESETS = {
    "course": Preset("course", vocab_size=78, windows=60, repeats=40,
                     note="one LSTM of 64, softmax at every step, Adam, one batch per epoch"),
    "deepjazz": Preset("deepjazz", vocab_size=78, windows=58, repeats=30,
                       note="two LSTMs of 128, dropout 0.2, softmax at the last step, RMSprop"),
    "lofi": Preset("lofi", vocab_size=300, windows=1024, repeats=3,
                   note="three LSTMs of 512, dropout 0.3, BatchNorm, Dense 256 + ReLU, "
                        "BatchNorm, softmax at the last step, RMSprop"),
    # WJazzD in the exact grammar: ~1300 tokens, 45 features of the place and the chords.
    "jazz": Preset("jazz", vocab_size=1300, windows=512, repeats=7, feature_size=45,
                   note="one LSTM of 256 hearing the token and 45 dense features, dropout 0.3, "
                        "softmax at every step, Adam"),
}
SAMPLE_TOKENS = 400


def random_data(preset: Preset, seed: int = 0):
    """(inputs (N, T), targets (N, T) or (N,), features (N, T, F) or None) of random tokens."""
    rng = np.random.default_rng(seed)
    vocab = preset.config.vocab_size
    inputs = rng.integers(0, vocab, size=(preset.windows, preset.steps))
    target_shape = inputs.shape if preset.config.head == "every_step" else (preset.windows,)
    targets = rng.integers(0, vocab, size=target_shape)
    features = (rng.standard_normal((*inputs.shape, preset.feature_size)).astype(np.float32)
                if preset.feature_size else None)
    return inputs, targets, features


# ----- contenders: each a zero-argument callable that runs one unit ------
def ours_epoch(preset: Preset, backend: str, seed: int = 0):
    return ours_trainer(preset.config, preset.train, random_data(preset, seed), backend, seed)[1]


def ours_sampler(backend: str, tokens: int, seed: int = 0):
    model = SequenceModel(PRESETS["course"].config, rng=np.random.default_rng(seed), backend=backend)
    primer = np.array([[1]])
    return lambda: generate(model, primer, tokens, np.random.default_rng(seed), temperature=0)


def torch_epoch(preset: Preset, seed: int = 0):
    return torch_trainer(preset.config, preset.train, random_data(preset, seed), seed)[1]


def torch_sampler(tokens: int, seed: int = 0):
    torch.manual_seed(seed)
    config = PRESETS["course"].config
    cell = torch.nn.LSTMCell(config.vocab_size, config.hidden_size)
    out = torch.nn.Linear(config.hidden_size, config.vocab_size)
    one_hot_rows = torch.eye(config.vocab_size)

    def sample():
        with torch.no_grad():
            h = torch.zeros(1, config.hidden_size)
            c = torch.zeros(1, config.hidden_size)
            token = 1
            for _ in range(tokens):
                h, c = cell(one_hot_rows[token:token + 1], (h, c))
                token = int(out(h).argmax())

    return sample


# ----- timing -------------------------------------------------------------
def interleaved(contenders: dict, repeats: int, untimed: int):
    """{name: [seconds per run]} with the contenders taking turns in rotating order,
    after ``untimed`` repetitions of each."""
    for run in contenders.values():
        for _ in range(untimed):
            run()
    names = list(contenders)
    times = {name: [] for name in names}
    for repeat in range(repeats):
        shift = repeat % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            contenders[name]()
            times[name].append(time.perf_counter() - start)
    return times


def summarize(times: dict, scale: float):
    return {name: {"median": statistics.median(values) * scale, "min": min(values) * scale,
                   "max": max(values) * scale, "runs": len(values)}
            for name, values in times.items()}


def bench_preset(name: str, repeats, windows, with_numpy: bool):
    if name == "sample":
        contenders = {"ours numba": ours_sampler("numba", SAMPLE_TOKENS)}
        if with_numpy:
            contenders["ours numpy"] = ours_sampler("numpy", SAMPLE_TOKENS)
        if torch is not None:
            contenders["pytorch"] = torch_sampler(SAMPLE_TOKENS)
        repeats = repeats or 30
        unit, scale = "us/token", 1e6 / SAMPLE_TOKENS
        shape = f"course model, batch 1, argmax fed back, {SAMPLE_TOKENS} tokens per run"
        untimed = 3
    else:
        preset = PRESETS[name]
        if windows:
            preset = replace(preset, windows=windows)
        contenders = {"ours numba": ours_epoch(preset, "numba")}
        if with_numpy:
            contenders["ours numpy"] = ours_epoch(preset, "numpy")
        if torch is not None:
            contenders["pytorch"] = torch_epoch(preset)
        repeats = repeats or preset.repeats
        unit, scale = ("s/epoch", 1.0) if preset.windows >= 512 else ("ms/epoch", 1e3)
        shape = (f"{preset.note}; m={preset.batch_size}, T={preset.steps}, "
                 f"{preset.config.vocab_size} tokens, {preset.windows} windows")
        if windows and windows != PRESETS[name].windows:
            shape += f" (shrunk by --windows from {PRESETS[name].windows})"
        untimed = 1 if preset.windows >= 512 else 5
    load_before = os.getloadavg()
    times = interleaved(contenders, repeats, untimed)
    stats = summarize(times, scale)
    result = {"preset": name, "shape": shape, "unit": unit, "results": stats,
              "inputs": "one-hot (ours: token-id row gather; PyTorch: one-hot float tensors)",
              "torch": None if torch is None else torch.__version__,
              "torch_threads": None if torch is None else torch.get_num_threads(),
              "load_before": load_before, "load_after": os.getloadavg()}
    if "pytorch" in stats:
        result["ratio"] = {contender: stats["pytorch"]["median"] / stats[contender]["median"]
                           for contender in stats if contender != "pytorch"}
    return result


def print_result(result):
    print(f"{result['preset']}: {result['shape']}")
    print(f"  inputs: {result['inputs']}; PyTorch {result['torch'] or 'not installed'}"
          + (f" on {result['torch_threads']} threads" if result["torch"] else ""))
    print("  load average before/after: "
          + " / ".join(f"{a:.2f} {b:.2f} {c:.2f}" for a, b, c in
                       (result["load_before"], result["load_after"])))
    unit = result["unit"]
    for name, stat in result["results"].items():
        line = (f"  {name:<11} median {stat['median']:9.3f} {unit}   "
                f"min-max {stat['min']:.3f}-{stat['max']:.3f}   ({stat['runs']} runs)")
        if name in result.get("ratio", {}):
            line += f"   ours vs PyTorch: {result['ratio'][name]:.2f}x"
        print(line)


# ----- float32 against float64 ---------------------------------------------
def markov_windows(preset: Preset, seed: int):
    """Windows from a random sparse Markov chain (a loss that actually falls)."""
    vocab = preset.config.vocab_size
    rng = np.random.default_rng(seed)
    transitions = rng.random((vocab, vocab)) ** 8
    transitions /= transitions.sum(axis=1, keepdims=True)
    sequences = np.empty((preset.windows, preset.steps + 1), np.int64)
    sequences[:, 0] = rng.integers(0, vocab, preset.windows)
    for t in range(preset.steps):
        cumulative = transitions[sequences[:, t]].cumsum(axis=1)
        sequences[:, t + 1] = (cumulative < rng.random((preset.windows, 1))).sum(axis=1)
    sequences = np.minimum(sequences, vocab - 1)
    return sequences[:, :-1], sequences[:, 1:], vocab


def music_windows(preset: Preset, source: str, seed: int):
    """The course's windows over the grammar tokens of a music file."""

    tokens = [token for bar in encode_song(load_song(source)) for token in bar]
    vocabulary = Vocabulary(build_vocabulary([tokens]))
    ids = vocabulary.encode(tokens)
    starts = window_starts("course", len(ids), preset.steps, count=preset.windows,
                           rng=np.random.default_rng(seed))
    inputs, targets, _ = cut_windows(ids, starts, preset.steps)
    return inputs, targets, len(vocabulary)


def loss_curves(epochs: int, seed: int = 0, source: str = ""):
    """The course preset trained in float32 and in float64 from the same start.

    Data: the grammar tokens of ``source`` (a music file) when given, else
    a random Markov chain.  Returns (losses32, losses64).
    """
    preset = PRESETS["course"]
    inputs, targets, vocab = (music_windows(preset, source, seed) if source
                              else markov_windows(preset, seed))
    shape = model_config(preset.train, vocab).to_dict()
    params64 = SequenceModel(ModelConfig(**{**shape, "dtype": "float64"}),
                             rng=np.random.default_rng(seed)).params
    curves = []
    for dtype in ("float32", "float64"):
        model = SequenceModel(ModelConfig(**{**shape, "dtype": dtype}),
                              params={k: v.copy() for k, v in params64.items()})
        optimizer = Adam(lr=preset.train.lr, decay=preset.train.decay)
        shuffle = np.random.default_rng(seed + 1)
        curves.append([train_epoch(model, optimizer, inputs, targets, shuffle,
                                   preset.batch_size)[0] for _ in range(epochs)])
    return np.array(curves[0]), np.array(curves[1])


# ----- compile time ----------------------------------------------------------
_FIRST_USE = """
import time, numpy as np
start = time.perf_counter()
from benchmarks.speed import ours_epoch, ours_sampler, PRESETS
ours_epoch(PRESETS["course"], "numba")()
ours_sampler("numba", 5)()
print(time.perf_counter() - start)
"""


def compile_times():
    """Seconds for import + first course epoch + first generation with the Numba
    kernels, in a fresh process: with an empty cache, then with the cache
    that run left behind."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache, "PYTHONPATH": root}
        runs = []
        for _ in range(2):
            out = subprocess.run([sys.executable, "-c", _FIRST_USE], env=env, cwd=root,
                                 capture_output=True, text=True, check=True)
            runs.append(float(out.stdout.strip().splitlines()[-1]))
    return {"cold_cache_s": runs[0], "warm_cache_s": runs[1]}


def run_presets(names, args) -> dict:
    report = {}
    for name in names:
        report[name] = bench_preset(name, args.repeats, args.windows, not args.no_numpy)
        if not args.json:
            print_result(report[name])
    return report


def run_races(names, args) -> dict:
    report = {}
    for name in names:
        race = quality.RACES[name]
        ids, vocab_size = quality.token_stream(args.wjazzd, race.tokens)
        # Progress goes to stderr, so it never mixes with --json.
        report[name] = quality.race_recipes(race, ids, vocab_size, on_epoch=quality.print_epoch)
        if not args.json:
            quality.print_race(report[name])
    return report


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", choices=sorted(PRESETS) + ["sample"])
    parser.add_argument("--repeats", type=int, default=0, help="timed runs per contender")
    parser.add_argument("--windows", type=int, default=0,
                        help="shrink the data set (lofi: 1024 windows take ~20 s per epoch)")
    parser.add_argument("--no-numpy", action="store_true", help="skip the NumPy path")
    parser.add_argument("--loss-curve", type=int, default=0, metavar="EPOCHS",
                        help="train the course preset in float32 and float64; report the gap")
    parser.add_argument("--data", default="", metavar="FILE",
                        help="--loss-curve on this music file's tokens (default: Markov data)")
    parser.add_argument("--compile-times", action="store_true",
                        help="Numba first use time with a cold and a warm cache")
    parser.add_argument("--reading", action="store_true",
                        help="Metheny and WJazzD read in fresh processes, caches cold and warm")
    parser.add_argument("--time-to-quality", choices=sorted(quality.RACES) + ["all"],
                        help="every-step training in lstm_np against the original last-step "
                             "recipe in PyTorch, to the same validation loss")
    parser.add_argument("--wjazzd", default=str(reading.WJAZZD), metavar="FOLDER",
                        help="the WJazzD folder for --time-to-quality and --reading")
    parser.add_argument("--all", action="store_true",
                        help="reading, jazz and sample presets, both races, and the targets")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not kernels.numba_available():
        parser.error("numba is not installed")
    if torch is not None:
        torch.set_num_threads(TORCH_THREADS)
    everything = args.all or not (args.preset or args.loss_curve or args.compile_times
                                  or args.reading or args.time_to_quality)
    report = {"load_before": os.getloadavg()}
    if args.reading or everything:
        report["reading"] = reading.reading_times(args.repeats or 3, wjazzd=Path(args.wjazzd))
        if not args.json:
            reading.print_reading(report["reading"])
    presets = [args.preset] if args.preset else []
    if everything:
        presets = ["jazz", "sample"]
    if presets:
        report["presets"] = run_presets(presets, args)
    if args.preset:
        report["speed"] = report["presets"][args.preset]
    races = [] if not args.time_to_quality else (
        sorted(quality.RACES) if args.time_to_quality == "all" else [args.time_to_quality])
    if everything:
        races = sorted(quality.RACES)
    if races:
        if torch is None:
            parser.error("--time-to-quality races PyTorch: pip install torch==2.13.0")
        if not Path(args.wjazzd).is_dir():
            parser.error(f"--time-to-quality needs the WJazzD folder; {args.wjazzd} is absent")
        report["races"] = run_races(races, args)
    if args.loss_curve:
        losses32, losses64 = loss_curves(args.loss_curve, source=args.data)
        gap = np.abs(losses32 - losses64)
        report["loss_curve"] = {"epochs": args.loss_curve, "max_abs_difference": float(gap.max()),
                                "first_loss": float(losses64[0]), "last_loss": float(losses64[-1])}
        if not args.json:
            print(f"course loss curve over {args.loss_curve} epochs (Adam lr 0.01, decay 0.01) "
                  f"on {args.data or 'Markov-chain data'}: "
                  f"float64 {losses64[0]:.4f} -> {losses64[-1]:.4f}; "
                  f"max |float32 - float64| = {gap.max():.2e} (epoch {gap.argmax() + 1})")
    if args.compile_times:
        report["compile"] = compile_times()
        if not args.json:
            print("Numba first use (import + course epoch + generation): "
                  f"cold cache {report['compile']['cold_cache_s']:.2f} s, "
                  f"warm cache {report['compile']['warm_cache_s']:.2f} s")
    report["load_after"] = os.getloadavg()
    report["targets"] = targets.target_rows(report)
    if args.json:
        print(json.dumps(report, indent=2))
    elif report["targets"]:
        targets.print_targets(report["targets"])
        print("load average before/after: " + " / ".join(
            f"{a:.2f} {b:.2f} {c:.2f}" for a, b, c in (report["load_before"],
                                                        report["load_after"])))


if __name__ == "__main__":
    main()
