"""Shared test fixtures."""
from pathlib import Path

import pytest

# The course's Metheny solo lives beside the repository, never inside it.
METHENY = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "original_metheny.mid"


@pytest.fixture
def metheny_path():
    if not METHENY.exists():
        pytest.skip(f"{METHENY} is absent (it lives in ../shared/data beside the repo)")
    return METHENY

