"""The learner's reading path is the code that trains: one training step on the
"reference" backend runs three short files, and trains like the fast backends."""
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from jazz_lstm.presets import PRESETS
from jazz_lstm.training import make_windows, model_config
from lstm_np import kernels
from lstm_np.model import SequenceModel
from lstm_np.optim import make_optimizer, train_epoch, train_step

ROOT = Path(__file__).resolve().parents[1]
COURSE = PRESETS["course"]
READING_FILES = {"lstm_np/lstm.py", "lstm_np/model.py", "lstm_np/optim.py"}
# The project's own code; a virtual environment inside the clone (CI makes
# .venv-ci there) holds NumPy's files, which are not the learner's reading.
PROJECT_PACKAGES = {"lstm_np", "music", "jazz_lstm", "benchmarks"}


def course_batch(rng, vocab_size=40, feature_size=12, dtype=np.float32):
    """A batch shaped as the course preset trains: 60 windows of 30 tokens, with features."""
    ids = rng.integers(0, vocab_size, (COURSE.window_count, COURSE.window_length))
    features = rng.random((*ids.shape, feature_size)).astype(dtype)
    return ids, np.roll(ids, -1, axis=1), features


def project_files_run_by(function, *args) -> set:
    """The repository's files whose code ``function(*args)`` runs."""
    files = set()

    def profile(frame, event, arg):
        if event == "call":
            path = Path(frame.f_code.co_filename)
            if path.is_relative_to(ROOT) and path.relative_to(ROOT).parts[0] in PROJECT_PACKAGES:
                files.add(path.relative_to(ROOT).as_posix())

    sys.setprofile(profile)
    try:
        function(*args)
    finally:
        sys.setprofile(None)
    return files


def test_one_reference_training_step_runs_three_files_of_at_most_600_lines():
    rng = np.random.default_rng(0)
    ids, targets, features = course_batch(rng)
    config = model_config(COURSE, vocab_size=40, feature_size=features.shape[2])
    model = SequenceModel(config, rng=rng, backend="reference")
    optimizer = make_optimizer(COURSE.optimizer, lr=COURSE.lr, decay=COURSE.decay)
    files = project_files_run_by(train_epoch, model, optimizer, ids, targets, rng,
                                 COURSE.batch_size, COURSE.clip_norm, features)
    assert files == READING_FILES
    lines = sum(len((ROOT / name).read_text(encoding="utf-8").splitlines()) for name in files)
    assert lines <= 600, f"{lines} lines to read for one training step"


def test_the_fast_backends_run_kernels_instead():
    rng = np.random.default_rng(0)
    ids, targets, features = course_batch(rng)
    model = SequenceModel(model_config(COURSE, 40, features.shape[2]), rng=rng, backend="numpy")
    files = project_files_run_by(train_step, model, make_optimizer("adam"), ids, targets, rng,
                                 COURSE.clip_norm, features)
    assert "lstm_np/kernels.py" in files


BACKENDS = ["numpy"] + (["numba"] if kernels.numba_available() else [])


@pytest.mark.parametrize("fast", BACKENDS)
def test_reference_backend_trains_the_course_preset_to_the_fast_backends_loss(fast, tmp_path):
    from jazz_lstm.training import prepare

    config = replace(COURSE, dtype="float64")
    session, _ = prepare(None, config, seed=0, folder=tmp_path)
    inputs, targets, features = make_windows(config, session.ids, session.window_rng,
                                             session.features)
    losses = {}
    for backend in ("reference", fast):
        model = SequenceModel(session.model.config, backend=backend,
                              params={name: array.copy()
                                      for name, array in session.model.params.items()})
        optimizer = make_optimizer(config.optimizer, lr=config.lr, decay=config.decay)
        rng = np.random.default_rng(1)
        losses[backend] = [train_epoch(model, optimizer, inputs, targets, rng, config.batch_size,
                                       config.clip_norm, features)[0] for _ in range(10)]
    assert losses["reference"][-1] < losses["reference"][0] - 0.5     # it did learn
    np.testing.assert_allclose(losses[fast], losses["reference"], rtol=0, atol=1e-10)
