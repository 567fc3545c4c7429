"""A signal while the worker pool reads (issue 22, cause 9): status 130, one quiet line, no
worker left and no tracebacks, and the run's name stays free."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.test_cli import CLI
from tests.test_wjazzd_csv import note_row, write_solo

pytestmark = pytest.mark.bounded   # issue 22: within 60 s and 1.5 GB (tests/bounds.py)


def children_of(pid: int) -> list:
    """Process ids whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux's /proc")
@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_during_the_parallel_read_ends_quietly_and_frees_the_run(tmp_path,
                                                                          signal_number):
    root = tmp_path / "wjazzd"
    for number in range(300):
        write_solo(root, f"S{number:03d}_Solo", [note_row(bar, beat, 60 + (bar + beat) % 12)
                                                  for bar in range(1, 61) for beat in (1, 3)])
    process = subprocess.Popen(
        [sys.executable, str(CLI), "train", "--data", str(root), "--epochs", "1", "--run", "R"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "JAZZ_LSTM_CACHE": str(tmp_path / "cache"), "PYTHONFAULTHANDLER": "1"})
    deadline = time.monotonic() + 120
    workers = []
    while len(workers) < 2:
        assert time.monotonic() < deadline and process.poll() is None, process.stderr.read()
        time.sleep(0.05)
        workers = children_of(process.pid)
    process.send_signal(signal_number)
    try:
        _, stderr = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGABRT)   # the fault handler shows where it hangs
        raise AssertionError(process.communicate(timeout=30)[1]) from None
    assert process.returncode == 130, stderr
    assert stderr.strip() == "interrupted"
    assert not (tmp_path / "runs" / "R").exists()
    time.sleep(0.5)
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]


# The signal lands inside Pool(): after its workers and handler threads started, before its
# finalizer was registered (where a loaded machine once let the test above's signal land: the
# pool's handler thread went on starting workers that outlived the command and held its pipes).
INSIDE_POOL = """
import os, signal, sys
import multiprocessing.util as util
from jazz_lstm.signals import interrupts_as_keyboard_interrupt
from music.read.scores import read_in_parallel

class Finalize(util.Finalize):
    def __init__(self, obj, callback, *args, **kwargs):
        if getattr(callback, "__name__", "") == "_terminate_pool":
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(10 ** 6):       # the handler runs between bytecodes, here
                pass
        super().__init__(obj, callback, *args, **kwargs)

util.Finalize = Finalize
try:
    with interrupts_as_keyboard_interrupt():
        read_in_parallel(abs, [(number,) for number in range(100)], progress=False)
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(130)
print("not interrupted")
"""


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="POSIX signal masks")
def test_a_signal_inside_the_pools_start_leaves_no_worker_behind():
    repo = Path(__file__).resolve().parents[1]
    for _ in range(3):
        process = subprocess.Popen([sys.executable, "-c", INSIDE_POOL], cwd=repo,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # communicate ends only when every process holding the pipes has ended
        out, err = process.communicate(timeout=60)
        assert (process.returncode, out, err) == (130, "interrupted\n", "")
