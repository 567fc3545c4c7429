"""jazz-lstm gradcheck: a table of differences per parameter, and a failure for a wrong gradient."""
import numpy as np
import pytest

from jazz_lstm.cli import main
from jazz_lstm.presets import PRESETS
from lstm_np import gradcheck, layers, lstm


def test_the_command_checks_every_parameter_of_every_preset_with_and_without_features(capsys):
    assert main(["gradcheck"]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.split()[:1] and
            line.split()[0] in PRESETS]
    checked = {(row[0], row[1], row[2]) for row in rows}
    lofi_parameters = {"lstm0.W", "lstm0.b", "lstm1.W", "lstm1.b", "lstm2.W", "lstm2.b",
                       "bn0.gamma", "bn0.beta", "bn1.gamma", "bn1.beta", "hidden.W", "hidden.b",
                       "out.W", "out.b"}
    for features in ("no", "yes"):
        assert {name for preset, with_features, name in checked
                if preset == "lofi" and with_features == features} == lofi_parameters
        assert {preset for preset, with_features, _ in checked if with_features == features} \
            == set(PRESETS)
    assert all(float(row[4]) < gradcheck.THRESHOLD for row in rows)
    assert "all below the threshold" in out


def test_a_broken_lstm_gradient_fails_the_check(monkeypatch, capsys):
    right = lstm.cell_backward

    def forget_gate_slightly_wrong(da_next, dc_next, step, W_a):
        dz, da_prev, dc_prev = right(da_next, dc_next, step, W_a)
        n_a = da_next.shape[1]
        dz[:, n_a:2 * n_a] *= 1.01       # dz_f off by 1%
        return dz, da_prev, dc_prev

    monkeypatch.setattr(lstm, "cell_backward", forget_gate_slightly_wrong)
    assert gradcheck.report({"course": PRESETS["course"]}) == 1
    out = capsys.readouterr().out
    flagged = {line.split()[2] for line in out.splitlines() if line.endswith("too large")}
    # dz_f feeds W and b; the output layer's gradients do not depend on it.
    assert flagged == {"lstm0.W", "lstm0.b"}
    assert "at or above the threshold" in out


def test_a_broken_batch_norm_head_gradient_fails_the_check(monkeypatch, capsys):
    monkeypatch.setattr(layers, "relu_backward", lambda dy, y: dy)   # forgets the kink
    assert main(["gradcheck", "--backend", "numpy"]) == 1
    flagged = {(line.split()[0], line.split()[2]) for line in capsys.readouterr().out.splitlines()
               if line.endswith("too large")}
    assert flagged and {preset for preset, _ in flagged} <= {"lofi", "lofi-stream"}


def test_difference_is_the_courses():
    grad, gradapprox = np.array([3.0, 4.0]), np.array([3.0, 4.0 + 1e-6])
    assert gradcheck.difference(grad, gradapprox) == pytest.approx(1e-6 / (5 + np.hypot(3, 4 + 1e-6)))
    assert gradcheck.difference(np.zeros(2), np.zeros(2)) == 0.0
