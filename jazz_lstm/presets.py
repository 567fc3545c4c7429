"""Training settings: one dataclass, and the presets named after the models they copy.

Everything a training run needs to know besides its data lives in
``TrainConfig``; the checkpoint stores it whole, so a run can be resumed and
sampled with exactly the settings it was trained with.  ``benchmarks`` and the
command line take their presets from here.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace

# The default grammar corpus: music21's two lead sheets and a rag (data/README.md).
DEFAULT_GRAMMAR_DATA = (
    "music21:leadSheet/berlinAlexandersRagtime.mxl",
    "music21:leadSheet/fosterBrownHair.mxl",
    "music21:joplin/maple_leaf_rag.mxl",
)
ENCODINGS = ("grammar", "notes")
GRAMMARS = ("exact", "classic")
WINDOW_SCHEMES = ("course", "deepjazz", "stream")
OPTIMIZERS = ("adam", "rmsprop")
STRUCTURES = ("none", "phrase", "form", "phrase+form")   # music.tokens.structure.STRUCTURES


@dataclass(frozen=True)
class TrainConfig:
    """Every training setting, with the course's values as defaults.

    windows: where windows start (``jazz_lstm.windows``): "course",
    ``window_count`` at random; "deepjazz", every ``window_step`` tokens;
    "stream", back to back so every token is a target in every epoch.
    grammar: "exact" (lossless tokens with bar lines; the model hears the
    chords) or "classic" (the course's and deepjazz's tokens).
    validation_share: the share of pieces held out, by a seeded draw, to
    measure validation loss every epoch (none when that rounds to 0 pieces).
    patience: stop when validation loss has not improved for this many
    epochs (0: never stop early); the checkpoint keeps the best epoch.
    structure: exact grammar only: "none", or the phrase and form features
    the model hears beside the harmony ("phrase", "form", "phrase+form";
    ``music.tokens.structure``).  A record without it is "none", and a
    record keeps it only when it is not "none".
    """

    hidden_size: int = 64
    num_layers: int = 1
    dropout: float = 0.0
    dense_size: int = 0
    head: str = "every_step"
    windows: str = "course"
    window_length: int = 30
    window_count: int = 60
    window_step: int = 3
    optimizer: str = "adam"
    lr: float = 0.01
    decay: float = 0.01
    clip_norm: float = 5.0
    epochs: int = 100
    batch_size: int = 60
    temperature: float = 1.0
    batch_norm: bool = False
    dtype: str = "float32"
    grammar: str = "exact"
    validation_share: float = 0.1
    patience: int = 0
    structure: str = "none"

    def with_overrides(self, **overrides) -> "TrainConfig":
        """A copy with every override that is not None applied."""
        return replace(self, **{key: value for key, value in overrides.items()
                                if value is not None})

    @classmethod
    def field_names(cls) -> tuple:
        return tuple(field.name for field in fields(cls))


PRESETS = {
    # The assignment's djmodel: LSTM(64), Dense(78) + softmax at every step,
    # Adam(lr=0.01, beta_1=0.9, beta_2=0.999, decay=0.01), 60 windows of 30, 100 epochs.
    "course": TrainConfig(),
    # deepjazz: LSTM(128) -> Dropout(0.2) -> LSTM(128) -> Dropout(0.2) -> Dense + softmax
    # on the last step, RMSprop, windows of 20 taken every 3 tokens, 128 epochs.
    "deepjazz": TrainConfig(hidden_size=128, num_layers=2, dropout=0.2, head="last_step",
                            windows="deepjazz", window_length=20, optimizer="rmsprop",
                            lr=0.001, decay=0.0, epochs=128, batch_size=128, temperature=0.5),
    # The LoFi generator (after Classical-Piano-Composer): three LSTMs of 512 with
    # dropout 0.3, BatchNorm, Dense 256 + ReLU, BatchNorm, softmax on the last step of
    # windows of 100 tokens, RMSprop, batches of 64.
    "lofi": TrainConfig(hidden_size=512, num_layers=3, dropout=0.3, dense_size=256,
                        head="last_step", windows="deepjazz", window_length=100, window_step=1,
                        optimizer="rmsprop", lr=0.001, decay=0.0, epochs=50, batch_size=64,
                        batch_norm=True),
    # The same two models trained with a target at every step of windows laid back
    # to back, so each token passes through the network once per epoch instead of
    # window_length times.  Measured on WJazzD tokens against the original recipes in
    # PyTorch: deepjazz-stream reaches their validation loss 11x sooner (and ends
    # better), lofi-stream (shrunk to LSTMs of 64) 53x sooner but peaks 0.08 nat above
    # the original's best; both overfit small corpora within tens of epochs, hence
    # the patience (benchmarks/README.md: time to quality).
    "deepjazz-stream": TrainConfig(hidden_size=128, num_layers=2, dropout=0.2,
                                   head="every_step", windows="stream", window_length=64,
                                   optimizer="rmsprop", lr=0.005, decay=0.0, epochs=200,
                                   batch_size=16, temperature=0.5, patience=10),
    "lofi-stream": TrainConfig(hidden_size=512, num_layers=3, dropout=0.3, dense_size=256,
                               head="every_step", windows="stream", window_length=100,
                               optimizer="rmsprop", lr=0.005, decay=0.0, epochs=200,
                               batch_size=8, batch_norm=True, patience=10),
    # Real jazz (the Weimar Jazz Database solos) in the exact grammar: every token a
    # target in every epoch, sizes chosen by validation loss (see the README; dropout
    # 0.3 against 0.2: best validation loss 2.960 against 2.969, both at epoch 20).
    # Windows of 128 tokens (about 11 bars) in batches of 16, the same tokens a step
    # as 32 windows of 64, predict better: best validation loss 2.941 against 2.961
    # (seed 0) and 2.998 against 3.007 (seed 1), about 11 min to the best epoch;
    # its solos phrase no worse (docs/evaluate.md).
    "jazz": TrainConfig(hidden_size=256, num_layers=1, dropout=0.3, head="every_step",
                        windows="stream", window_length=128, optimizer="adam", lr=0.003,
                        decay=0.0, epochs=40, batch_size=16, temperature=0.8, patience=4),
}


def preset_config(name: str | None) -> TrainConfig:
    """The named preset (None: the course's); ValueError naming the choices otherwise."""
    name = name or "course"
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(sorted(PRESETS))}")
    return PRESETS[name]
