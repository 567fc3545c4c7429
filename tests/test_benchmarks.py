"""benchmarks.speed runs end to end on tiny sizes (no timings are asserted, ever)."""
import json

import numpy as np
import pytest

from benchmarks import speed
from lstm_np import kernels

pytestmark = pytest.mark.skipif(not kernels.numba_available(), reason="numba is not installed")


@pytest.mark.parametrize("preset", ["course", "deepjazz", "sample"])
def test_a_preset_runs_and_reports_every_contender(preset, capsys):
    speed.main(["--preset", preset, "--windows", "3", "--repeats", "1", "--json"])
    report = json.loads(capsys.readouterr().out)["speed"]
    expected = {"ours numba", "ours numpy"} | ({"pytorch"} if speed.torch is not None else set())
    assert set(report["results"]) == expected
    for stat in report["results"].values():
        assert stat["runs"] == 1 and stat["min"] <= stat["median"] <= stat["max"]
    assert ("ratio" in report) == (speed.torch is not None)


def test_shrunk_lofi_says_so(capsys):
    speed.main(["--preset", "lofi", "--windows", "2", "--repeats", "1", "--no-numpy"])
    assert "shrunk by --windows from 1024" in capsys.readouterr().out


def test_float32_and_float64_loss_curves_start_together():
    losses32, losses64 = speed.loss_curves(epochs=3)
    assert losses32.shape == losses64.shape == (3,)
    np.testing.assert_allclose(losses32, losses64, atol=1e-3)


def test_loss_curves_run_on_a_music_file():
    losses32, losses64 = speed.loss_curves(epochs=2, source="music21:leadSheet/fosterBrownHair.mxl")
    assert losses32.shape == losses64.shape == (2,)
    assert np.all(np.isfinite(losses32)) and abs(losses32[0] - losses64[0]) < 1e-4
