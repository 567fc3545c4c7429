"""Shared test fixtures."""
import os
from pathlib import Path

import pytest

# The course's Metheny solo lives beside the repository, never inside it.
METHENY = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "original_metheny.mid"


@pytest.fixture
def metheny_path():
    if not METHENY.exists():
        pytest.skip(f"{METHENY} is absent (it lives in ../shared/data beside the repo)")
    return METHENY


@pytest.fixture(autouse=True)
def _quiet_numba_env(monkeypatch):
    # Tests choose the Numba or NumPy path explicitly; start from the default.
    monkeypatch.delenv("JAZZ_LSTM_NUMBA", raising=False)
    yield
