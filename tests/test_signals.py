"""Signals become KeyboardInterrupt, deferred signals wait for the save, closed pipes
never crash a writer."""
import errno
import io
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from jazz_lstm.signals import (SignalInterrupt, interrupts_as_keyboard_interrupt, safe_print,
                               signals_deferred)

pytestmark = pytest.mark.bounded   # issue 22: within 60 s and 1.5 GB (tests/bounds.py)

REPO = Path(__file__).resolve().parents[1]


def python(script, **options):
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(script)], cwd=REPO,
                            text=True, **options)


def send_self(signal_number):
    os.kill(os.getpid(), signal_number)
    time.sleep(0.01)  # Python runs the handler at the next bytecode; be sure it has


HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def current_handlers():
    return {number: signal.getsignal(number) for number in HANDLED}


@pytest.fixture
def handlers_kept():
    """Put back the handlers a test changes, so that it cannot upset the next ones;
    start from the default SIGTERM and SIGHUP, which the code leaves alone when
    ignored (as under nohup, which would otherwise decide these tests)."""
    before = current_handlers()
    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, signal.SIG_DFL)
    yield
    for number, handler in before.items():
        signal.signal(number, handler)


# ------------------------------------------------------------ interrupts
@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_raise_keyboard_interrupt(handlers_kept, signal_number):
    with pytest.raises(KeyboardInterrupt) as caught:
        with interrupts_as_keyboard_interrupt():
            send_self(signal_number)
    assert isinstance(caught.value, SignalInterrupt)
    assert caught.value.signal_number == signal_number
    assert str(caught.value) == f"received {signal.Signals(signal_number).name}"


@pytest.mark.parametrize("block", [interrupts_as_keyboard_interrupt, signals_deferred])
def test_the_previous_handlers_come_back(handlers_kept, block):
    seen = []
    for number in HANDLED:
        signal.signal(number, lambda number, frame: seen.append(number))
    before = current_handlers()
    with block():
        assert current_handlers() != before
    assert current_handlers() == before
    with pytest.raises(ZeroDivisionError):
        with block():
            seen.append(1 // 0)
    assert current_handlers() == before
    send_self(signal.SIGTERM)
    assert seen == [signal.SIGTERM]


def test_an_ignored_signal_stays_ignored(handlers_kept):
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as under nohup
    with interrupts_as_keyboard_interrupt():
        send_self(signal.SIGHUP)
    with signals_deferred() as deferred:
        send_self(signal.SIGHUP)
    assert deferred.received == []


def test_a_running_loop_is_interrupted_by_kill():
    child = python("""
        import sys, time
        from jazz_lstm.signals import interrupts_as_keyboard_interrupt
        try:
            with interrupts_as_keyboard_interrupt():
                print("ready", flush=True)
                while True:
                    sum(range(1000))
        except KeyboardInterrupt as interrupt:
            print("interrupted by", interrupt.signal_number, flush=True)
            sys.exit(130)
        """, stdout=subprocess.PIPE)
    assert child.stdout.readline() == "ready\n"
    child.send_signal(signal.SIGTERM)
    assert child.stdout.readline() == f"interrupted by {int(signal.SIGTERM)}\n"
    assert child.wait(timeout=30) == 130


# ------------------------------------------------------------ deferred signals
def test_signals_during_a_deferred_block_wait_for_its_end(handlers_kept):
    steps = []
    with pytest.raises(KeyboardInterrupt) as caught:
        with interrupts_as_keyboard_interrupt():
            with signals_deferred() as deferred:
                send_self(signal.SIGTERM)
                send_self(signal.SIGINT)
                send_self(signal.SIGTERM)
                steps.append("saved")
            steps.append("after the block")
    assert steps == ["saved"]
    assert deferred.received == [signal.SIGTERM, signal.SIGINT, signal.SIGTERM]
    assert isinstance(caught.value, SignalInterrupt)  # the first to arrive is delivered first
    assert caught.value.signal_number == signal.SIGTERM


def test_a_deferred_ctrl_c_arrives_as_keyboard_interrupt(handlers_kept):
    with pytest.raises(KeyboardInterrupt) as caught:
        with signals_deferred():
            send_self(signal.SIGINT)
    assert type(caught.value) is KeyboardInterrupt


def test_signals_are_only_recorded_when_not_delivered(handlers_kept):
    with interrupts_as_keyboard_interrupt():
        with signals_deferred(deliver=False) as deferred:
            send_self(signal.SIGINT)
            send_self(signal.SIGHUP)
        time.sleep(0.01)
    assert deferred.received == [signal.SIGINT, signal.SIGHUP]


def test_an_error_in_the_block_wins_over_deferred_signals(handlers_kept):
    with pytest.raises(OSError, match="disk full"):
        with signals_deferred():
            send_self(signal.SIGINT)
            raise OSError("disk full")


def test_a_deferred_sigterm_without_a_handler_ends_the_process_after_the_block():
    child = python("""
        import os, signal
        from jazz_lstm.signals import signals_deferred
        with signals_deferred():
            os.kill(os.getpid(), signal.SIGTERM)
            print("saved", flush=True)
        print("not reached", flush=True)
        """, stdout=subprocess.PIPE)
    out, _ = child.communicate(timeout=30)
    assert out == "saved\n" and child.returncode == -signal.SIGTERM


def test_a_second_signal_cannot_cut_the_emergency_save(tmp_path):
    saved = tmp_path / "saved"
    child = python(f"""
        import sys, time
        from jazz_lstm.signals import interrupts_as_keyboard_interrupt, signals_deferred
        try:
            with interrupts_as_keyboard_interrupt():
                print("training", flush=True)
                while True:
                    time.sleep(0.01)
        except KeyboardInterrupt:
            with signals_deferred(deliver=False) as deferred:
                print("saving", flush=True)
                deadline = time.monotonic() + 20
                while len(deferred.received) < 2 and time.monotonic() < deadline:
                    time.sleep(0.01)  # a save slow enough for both signals to land in it
                open({str(saved)!r}, "w").write("epoch 3")
            print("saved; also got", deferred.received, flush=True)
            sys.exit(130)
        """, stdout=subprocess.PIPE)
    assert child.stdout.readline() == "training\n"
    child.send_signal(signal.SIGTERM)
    assert child.stdout.readline() == "saving\n"
    child.send_signal(signal.SIGINT)
    child.send_signal(signal.SIGTERM)
    assert child.wait(timeout=30) == 130
    assert saved.read_text() == "epoch 3"
    assert child.stdout.read() == f"saved; also got [{int(signal.SIGINT)}, {int(signal.SIGTERM)}]\n"


# ------------------------------------------------------------ closed pipes
WRITER = """
    import sys
    from jazz_lstm.signals import safe_print
    written = sum(safe_print("line", number) for number in range(100_000))
    print("after the reader left")  # a plain print must not fail either
    with open(sys.argv[1], "w") as report:
        report.write(str(written))
    """


def test_a_writer_survives_its_reader_leaving_like_head_1(tmp_path):
    report = tmp_path / "written"
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent(WRITER), str(report)],
                             cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdout.readline() == b"line 0\n"
    child.stdout.close()
    assert child.wait(timeout=60) == 0
    assert child.stderr.read() == b""
    assert 1 <= int(report.read_text()) < 100_000


def test_plain_print_would_have_failed_there(tmp_path):
    plain = "for number in range(100_000):\n    print('line', number, flush=True)\n"
    child = subprocess.Popen([sys.executable, "-c", plain], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    child.stdout.readline()
    child.stdout.close()
    assert child.wait(timeout=60) != 0
    assert b"BrokenPipeError" in child.stderr.read()


def test_a_closed_stderr_is_survived_too():
    child = python("""
        import sys
        from jazz_lstm.signals import safe_print
        sys.stderr.close()
        print(safe_print("warning", file=sys.stderr), flush=True)
        """, stdout=subprocess.PIPE)
    out, _ = child.communicate(timeout=30)
    assert out == "False\n" and child.returncode == 0


class GoneStream:
    """A stream whose reader has gone, without a descriptor."""

    def __init__(self, error):
        self.error, self.attempts = error, 0

    def write(self, text):
        self.attempts += 1
        raise self.error

    def flush(self):
        pass


def test_printing_to_a_working_stream():
    stream = io.StringIO()
    assert safe_print("a", 1, sep="-", end="!", file=stream) is True
    assert stream.getvalue() == "a-1!"


@pytest.mark.parametrize("error", [BrokenPipeError(errno.EPIPE, "Broken pipe"),
                                   OSError(errno.EIO, "Input/output error"),
                                   OSError(errno.EBADF, "Bad file descriptor")])
def test_a_gone_stream_is_skipped_from_then_on(error):
    stream = GoneStream(error)
    assert safe_print("x", file=stream) is False
    assert safe_print("y", file=stream) is False
    assert stream.attempts == 1


def test_a_closed_stream_or_none_is_skipped(monkeypatch):
    closed = io.StringIO()
    closed.close()
    assert safe_print("x", file=closed) is False
    monkeypatch.setattr(sys, "stdout", None)  # what Python sets when descriptor 1 is closed
    assert safe_print("x") is False


def test_other_errors_are_still_raised():
    with pytest.raises(OSError, match="No space"):
        safe_print("x", file=GoneStream(OSError(errno.ENOSPC, "No space left on device")))
    with pytest.raises(ValueError, match="bad value"):
        safe_print("x", file=GoneStream(ValueError("bad value")))


def test_standard_output_is_the_default(capsys):
    assert safe_print("to stdout") is True
    assert capsys.readouterr().out == "to stdout\n"


def test_outside_the_main_thread_nothing_changes(handlers_kept):
    seen = {}

    def in_thread():
        before = current_handlers()
        with interrupts_as_keyboard_interrupt(), signals_deferred() as deferred:
            seen["during"] = current_handlers() == before
        seen["received"] = deferred.received

    worker = threading.Thread(target=in_thread)
    worker.start()
    worker.join(timeout=30)
    assert seen == {"during": True, "received": []}
