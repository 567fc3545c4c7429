"""Shared test fixtures, and the measuring of every process a test starts (tests/bounds.py)."""
import signal
import time
from pathlib import Path

import pytest

from tests import bounds

# A suite started in the background by a script (`pytest &`) inherits Ctrl-C ignored,
# and the program rightly leaves an ignored signal alone; the tests of Ctrl-C need it
# delivered, here and in the programs they start (which see the default again).
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# The course's Metheny solo lives beside the repository, never inside it.
METHENY = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "original_metheny.mid"


def pytest_configure(config):
    config.addinivalue_line("markers", "bounded: an audited case of issue 22: each process "
                            "it starts, and the test process, within 60 s and 1.5 GB")
    bounds.install()


@pytest.fixture(autouse=True)
def measured(request):
    """Measure the processes this test starts; in a ``bounded`` test, fail any over the
    bounds (tests/bounds.py)."""
    bounded = request.node.get_closest_marker("bounded") is not None
    bounds.begin(request.node.nodeid, bounded)
    started = time.monotonic()
    yield
    record = bounds.end(time.monotonic() - started)
    if bounded:
        problems = record.problems()
        assert not problems, "; ".join(problems)


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory):
    """Every test (and every CLI it starts) caches into a fresh folder, never
    into the user's ~/.cache/jazz-lstm."""
    folder = tmp_path_factory.mktemp("jazz-lstm-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JAZZ_LSTM_CACHE", str(folder))
        yield folder


@pytest.fixture
def metheny_path():
    if not METHENY.exists():
        pytest.skip(f"{METHENY} is absent (it lives in ../shared/data beside the repo)")
    return METHENY


@pytest.fixture(scope="session")
def metheny_song():
    """The Metheny file read once per test session (uncached: its own folder)."""
    if not METHENY.exists():
        pytest.skip(f"{METHENY} is absent (it lives in ../shared/data beside the repo)")
    import tempfile

    from music.read.scores import load_song
    with tempfile.TemporaryDirectory() as cache:
        return load_song(METHENY, cache_dir=cache)



@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """A folder holding runs/X: 2 epochs of a tiny model on a lead sheet (a few seconds)."""
    import jazz_lstm
    from tests.test_cli import SMALL_PIECE

    folder = tmp_path_factory.mktemp("small-run")
    jazz_lstm.train(data=[SMALL_PIECE], epochs=2, hidden=8, seed=0, progress=False,
                    run_dir=folder / "runs" / "X")
    return folder
