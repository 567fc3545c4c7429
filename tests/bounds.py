"""Every process a test starts is measured: wall time, peak memory (issue 22: every case of
the audit ends within 60 s and 1.5 GB).

``conftest.py`` puts ``MeasuredPopen`` in place of ``subprocess.Popen`` for the whole test
session, so ``subprocess.run``, the tests' own ``Popen`` calls and the programs the code
under test starts in-process (fluidsynth) are all measured:

* the wall time from start to exit (``os.wait4`` reaps it);
* the peak resident memory of the largest process of its tree: the kernel's high-water
  mark of each process (VmHWM in /proc/PID/status, exact up to the last 50 ms of a
  process's life) read every 50 ms for the child and its descendants (a pool's
  workers, fluidsynth).  Not wait4's ``ru_maxrss``: Linux carries the parent's
  high-water mark into a child through fork and exec, so every child of the test
  process would show at least the test process's own size;
* the peak of the summed resident memory of the whole tree at once (sampled likewise;
  pages a forked worker shares with its parent count twice, so this errs high).

The test process's own resident memory is sampled too while each test runs (for what a
test runs in-process).  In a test marked ``bounded`` a process still running after
``BOUND_SECONDS`` is killed with its descendants (a hang guard, not a speed test), and
the test fails when one of its processes hung or went over ``BOUND_BYTES``, or when the
test process itself did.  With $JAZZ_LSTM_BOUNDS_LOG set, one JSON
line per test goes to that file (``python -m tests.bounds FILE`` tabulates it).
"""
from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

BOUND_SECONDS = 60.0
BOUND_BYTES = 1_500_000_000
SAMPLE_SECONDS = 0.05
_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_PROC = Path("/proc")
_OriginalPopen = subprocess.Popen


@dataclass
class Measured:
    """One child process of a test, measured."""

    command: str
    seconds: float = 0.0
    peak_bytes: int = 0          # the largest process of the tree (its VmHWM)
    tree_peak_bytes: int = 0     # the whole tree at once (sampled)
    returncode: int | None = None
    hung: bool = False


@dataclass
class TestRecord:
    """What one test ran: its children, its own duration and the test process's peak."""

    test: str
    bounded: bool
    seconds: float = 0.0
    self_start_bytes: int = 0    # the test process's resident memory as the test began
    self_peak_bytes: int = 0     # and its peak during the test (sampled)
    children: list = field(default_factory=list)

    def problems(self) -> list:
        found = []
        for child in self.children:
            if child.hung:
                found.append(f"{child.command} was still running after {BOUND_SECONDS:g} s "
                             "and was killed")
            for what, value in (("its largest process", child.peak_bytes),
                                ("its process tree", child.tree_peak_bytes)):
                if value > BOUND_BYTES:
                    found.append(f"{child.command}: {what} peaked at {value:,} bytes, over "
                                 f"{BOUND_BYTES:,}")
        if self.self_peak_bytes > BOUND_BYTES:
            found.append(f"the test process peaked at {self.self_peak_bytes:,} bytes (from "
                         f"{self.self_start_bytes:,}), over {BOUND_BYTES:,}")
        return found


_current: TestRecord | None = None
_lock = threading.Lock()
_self_sampler = None


class _SelfSampler(threading.Thread):
    """The test process's own resident memory, sampled while a test runs."""

    def __init__(self, record: TestRecord):
        super().__init__(daemon=True)
        self.record, self.stop = record, threading.Event()
        record.self_start_bytes = record.self_peak_bytes = _resident_bytes(os.getpid())

    def run(self) -> None:
        while not self.stop.wait(SAMPLE_SECONDS):
            self.sample()

    def sample(self) -> None:
        self.record.self_peak_bytes = max(self.record.self_peak_bytes,
                                          _resident_bytes(os.getpid()))


def begin(test: str, bounded: bool) -> None:
    global _current, _self_sampler
    with _lock:
        _current = TestRecord(test, bounded)
    if _PROC.is_dir():
        _self_sampler = _SelfSampler(_current)
        _self_sampler.start()


def end(seconds: float) -> TestRecord:
    """The current test's record, closed; written to $JAZZ_LSTM_BOUNDS_LOG when set."""
    global _current, _self_sampler
    with _lock:
        record, _current = _current, None
    if _self_sampler is not None:
        _self_sampler.stop.set()
        _self_sampler.join()
        _self_sampler.sample()
        _self_sampler = None
    record.seconds = round(seconds, 3)
    log = os.environ.get("JAZZ_LSTM_BOUNDS_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(asdict(record)) + "\n")
    return record


def _descendants(pid: int) -> list:
    """``pid`` and the processes below it (Linux: /proc/PID/task/TID/children)."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        try:
            tasks = list((_PROC / str(current) / "task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                queue.extend(int(child) for child in (task / "children").read_text().split())
            except (OSError, ValueError):
                pass
    return found


def _high_water_bytes(pid: int) -> int:
    try:
        for line in (_PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _resident_bytes(pid: int) -> int:
    try:
        return int((_PROC / str(pid) / "statm").read_text().split()[1]) * _PAGE_BYTES
    except (OSError, ValueError, IndexError):
        return 0


class MeasuredPopen(_OriginalPopen):
    """``subprocess.Popen`` that measures its child (see the module's docstring)."""

    def __init__(self, *args, **kwargs):
        self._measured = None
        self._started = time.monotonic()
        super().__init__(*args, **kwargs)
        command = (str(self.args) if isinstance(self.args, (str, bytes, os.PathLike))
                   else " ".join(map(str, self.args)))
        self._measured = Measured(command[:200])
        with _lock:
            record = _current
            if record is not None:
                record.children.append(self._measured)
        self._guard = record is not None and record.bounded
        self._done = threading.Event()
        if _PROC.is_dir():
            threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        measured = self._measured
        while True:
            tree = _descendants(self.pid)
            if self._done.is_set():      # reaped: /proc has its pid no more, or another's
                return
            measured.peak_bytes = max([measured.peak_bytes, *map(_high_water_bytes, tree)])
            measured.tree_peak_bytes = max(measured.tree_peak_bytes,
                                           sum(map(_resident_bytes, tree)))
            if self._done.wait(SAMPLE_SECONDS):
                return
            if self._guard and time.monotonic() - self._started > BOUND_SECONDS:
                measured.hung = True
                for pid in reversed(tree):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
                return

    def _wait4(self, pid, flags):
        got, status, _ = os.wait4(pid, flags)
        if got == pid and self._measured is not None:
            self._done.set()
            self._measured.seconds = round(time.monotonic() - self._started, 3)
            self._measured.returncode = os.waitstatus_to_exitcode(status)
        return got, status

    def _try_wait(self, wait_flags):
        try:
            return self._wait4(self.pid, wait_flags)
        except ChildProcessError:
            return (self.pid, 0)     # as Popen does: waiting was disabled, status unknown

    def _internal_poll(self, _deadstate=None, _waitpid=None, _WNOHANG=os.WNOHANG,
                       _ECHILD=errno.ECHILD):
        return super()._internal_poll(_deadstate, self._wait4, _WNOHANG, _ECHILD)


def install() -> None:
    """Measure every subprocess started from now on (POSIX only)."""
    if hasattr(os, "wait4"):
        subprocess.Popen = MeasuredPopen


# ------------------------------------------------------------------ the table
def _megabytes(value: int) -> str:
    return f"{value / 1e6:,.0f} MB"


def summary(lines) -> list:
    """(test, bounded, children, max child seconds, max process peak, max tree peak,
    test seconds, test process peak) per test, from the JSON lines of a log."""
    rows = []
    for line in lines:
        record = json.loads(line)
        children = record["children"]
        rows.append((record["test"], record["bounded"], len(children),
                     max((child["seconds"] for child in children), default=0.0),
                     max((child["peak_bytes"] for child in children), default=0),
                     max((child["tree_peak_bytes"] for child in children), default=0),
                     record["seconds"], record["self_peak_bytes"],
                     any(child["hung"] for child in children)))
    return rows


if __name__ == "__main__":
    rows = summary(Path(sys.argv[1]).read_text(encoding="utf-8").splitlines())
    print("| test | processes | longest process | its peak RSS | tree peak RSS | test time | "
          "test process peak |")
    print("|---|---|---|---|---|---|---|")
    for test, bounded, count, seconds, peak, tree, test_seconds, self_peak, hung in rows:
        if bounded:
            print(f"| {test} | {count} | {seconds:.1f} s{' HUNG' if hung else ''} | "
                  f"{_megabytes(peak)} | {_megabytes(tree)} | {test_seconds:.1f} s | "
                  f"{_megabytes(self_peak)} |")
