"""The contenders the benchmarks race: lstm_np and the same model in PyTorch.

``ours_trainer`` and ``torch_trainer`` each give a function that trains one
epoch of a model of the given ModelConfig and TrainConfig on the given data;
``torch_model`` is the PyTorch twin (nn.LSTM on one-hot inputs, or an
nn.Embedding when ``embedding`` is set), ``torch_inputs`` its input tensors.
``torch`` is None when PyTorch is not installed.  Shared by ``speed`` (time
per epoch) and ``quality`` (time to a target loss).
"""
from __future__ import annotations

import numpy as np

from lstm_np import kernels
from lstm_np.model import ModelConfig, SequenceModel
from lstm_np.optim import make_optimizer, train_epoch
from jazz_lstm.presets import TrainConfig

try:
    import torch
except ImportError:
    torch = None

TORCH_THREADS = 2
# Larger one-hot inputs are built batch by batch, inside the timed epoch
# (the LoFi recipe on 18,000 windows of 100 would need 26 GB at once).
ONE_HOT_BYTES_UP_FRONT = 2 << 30


def ours_trainer(config: ModelConfig, train: TrainConfig, data, backend: str = "numba",
                 seed: int = 0):
    """(model, epoch): one epoch of lstm_np training on ``data`` (inputs,
    targets, features or None) per call of ``epoch()``, returning its loss."""
    model = SequenceModel(config, rng=np.random.default_rng(seed), backend=backend)
    optimizer = make_optimizer(train.optimizer, lr=train.lr, decay=train.decay)
    inputs, targets, features = data
    rng = np.random.default_rng(seed + 1)
    batch_size = min(train.batch_size, len(inputs))

    def epoch():
        # As jazz_lstm.training runs an epoch: small products on one BLAS thread.
        with kernels.blas_threads_for(batch_size * config.hidden_size * 4 * config.hidden_size):
            return train_epoch(model, optimizer, inputs, targets, rng, batch_size,
                               train.clip_norm, features=features)[0]
    return model, epoch


def torch_model(config: ModelConfig, embedding: int = 0):
    """SequenceModel's twin; ``embedding`` > 0 puts an nn.Embedding of that width
    in front of the LSTMs instead of one-hot inputs (another, factorized model:
    what a PyTorch user would write; tokens only)."""
    nn = torch.nn
    if embedding and config.feature_size:
        raise ValueError("the embedding twin reads tokens only, not features")

    class Model(nn.Module):
        """nn.LSTM stack -> dropout -> (Dense + ReLU + dropout) -> Dense, like SequenceModel."""

        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(config.vocab_size, embedding) if embedding else None
            self.lstm = nn.LSTM(embedding or config.vocab_size + config.feature_size,
                                config.hidden_size, config.num_layers, batch_first=True,
                                dropout=config.dropout)
            # nn.LSTM drops out between layers only; SequenceModel also after the last.
            self.drop = nn.Dropout(config.dropout)
            features = config.hidden_size
            self.hidden = None
            norm = nn.BatchNorm1d if config.batch_norm else (lambda width: nn.Identity())
            self.norm_lstm = norm(config.hidden_size)
            if config.dense_size:
                self.hidden = nn.Linear(config.hidden_size, config.dense_size)
                self.norm_hidden = norm(config.dense_size)
                features = config.dense_size
            self.out = nn.Linear(features, config.vocab_size)

        def forward(self, inputs):
            hs, _ = self.lstm(inputs if self.embed is None else self.embed(inputs))
            features = hs if config.head == "every_step" else hs[:, -1]
            features = features.reshape(-1, config.hidden_size)
            features = self.drop(self.norm_lstm(features))
            if self.hidden is not None:
                features = self.drop(self.norm_hidden(torch.relu(self.hidden(features))))
            return self.out(features)

    return Model()


def torch_inputs(config: ModelConfig, ids, features=None, embedding: int = 0):
    """What the PyTorch twin reads: one-hot tokens, with the features beside them
    (the embedding twin: the token ids)."""
    if embedding:
        return torch.from_numpy(np.asarray(ids, np.int64))
    one_hot = torch.nn.functional.one_hot(torch.from_numpy(np.asarray(ids)),
                                          config.vocab_size).float()
    if features is None:
        return one_hot
    return torch.cat([one_hot, torch.from_numpy(np.asarray(features, np.float32))], dim=-1)


def torch_trainer(config: ModelConfig, train: TrainConfig, data, seed: int = 0,
                  embedding: int = 0):
    """(model, epoch) like ``ours_trainer``, in PyTorch (Keras's RMSprop: rho 0.9, eps 1e-7)."""
    torch.manual_seed(seed)
    model = torch_model(config, embedding).train()
    if train.optimizer == "adam":
        optimizer = torch.optim.Adam(model.parameters(), lr=train.lr, eps=1e-7)
    else:
        optimizer = torch.optim.RMSprop(model.parameters(), lr=train.lr, alpha=0.9, eps=1e-7)
    ids, targets, features = data
    width = 1 if embedding else config.vocab_size + config.feature_size
    up_front = np.asarray(ids).size * width * 4 <= ONE_HOT_BYTES_UP_FRONT
    # Built once before timing when it fits, else batch by batch inside the epoch.
    inputs = torch_inputs(config, ids, features, embedding) if up_front else None
    targets = torch.from_numpy(np.asarray(targets))
    generator = torch.Generator().manual_seed(seed + 1)
    batch_size = min(train.batch_size, len(ids))

    def batch_inputs(rows):
        if up_front:
            return inputs[rows]
        numbers = rows.numpy()
        return torch_inputs(config, ids[numbers], None if features is None
                            else features[numbers], embedding)

    def epoch():
        model.train()
        order = torch.randperm(len(ids), generator=generator)
        total = 0.0
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            optimizer.zero_grad(set_to_none=True)
            logits = model(batch_inputs(rows))
            loss = torch.nn.functional.cross_entropy(
                logits.reshape(-1, config.vocab_size), targets[rows].reshape(-1))
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(rows)
        return total / len(ids)

    return model, epoch
