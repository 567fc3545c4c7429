"""Signals and closed pipes, handled the way a command-line tool should.

* ``interrupts_as_keyboard_interrupt()``: inside it, SIGTERM (``kill``, a
  container stopping) and SIGHUP (the terminal closing) raise
  ``SignalInterrupt``, a KeyboardInterrupt, in the main thread, so the one
  Ctrl-C path of a command also handles them.
* ``signals_deferred()``: inside it, SIGINT, SIGTERM and SIGHUP are only
  recorded, so a second Ctrl-C cannot cut a save in half.
* ``safe_print()``: print that survives a reader that has gone away
  (``jazz-lstm train | head -1``).

A signal the process was told to ignore (``nohup`` ignores SIGHUP) stays
ignored by both context managers.  Python runs signal handlers in the main
thread only, so in any other thread both context managers change nothing.

The intended shape of a command that saves its work::

    with interrupts_as_keyboard_interrupt():
        try:
            for epoch in epochs:
                train_one_epoch()
                with signals_deferred():   # Ctrl-C or kill here: the save finishes,
                    save()                 #   then KeyboardInterrupt is raised
        except KeyboardInterrupt:
            with signals_deferred(deliver=False):  # more signals cannot stop this save
                save()
            safe_print("interrupted; saved", file=sys.stderr)
            return 130                     # the shell's status for Ctrl-C
"""
from __future__ import annotations

import errno
import os
import signal
import sys
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

# SIGHUP does not exist on Windows.
INTERRUPTING_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP")
                             if hasattr(signal, name))
DEFERRED_SIGNALS = (signal.SIGINT, *INTERRUPTING_SIGNALS)

# A reader that went away (EPIPE), a terminal that hung up (EIO), a closed descriptor (EBADF).
_GONE_ERRNOS = frozenset({errno.EPIPE, errno.EIO, errno.EBADF})
_silenced_streams: weakref.WeakSet = weakref.WeakSet()


class SignalInterrupt(KeyboardInterrupt):
    """A KeyboardInterrupt raised for a signal; ``signal_number`` says which."""

    def __init__(self, signal_number: int):
        super().__init__(f"received {signal.Signals(signal_number).name}")
        self.signal_number = signal_number


@dataclass
class DeferredSignals:
    """What ``signals_deferred`` recorded: signal numbers in order of arrival."""

    received: list[int] = field(default_factory=list)


@contextmanager
def interrupts_as_keyboard_interrupt() -> Iterator[None]:
    """Inside the block, SIGTERM and SIGHUP raise SignalInterrupt (a KeyboardInterrupt).

    SIGINT keeps Python's own handler, which raises a plain KeyboardInterrupt.
    The previous handlers come back when the block ends, however it ends.
    """
    with _handlers(INTERRUPTING_SIGNALS, _raise_interrupt):
        yield


@contextmanager
def signals_deferred(deliver: bool = True) -> Iterator[DeferredSignals]:
    """Inside the block, SIGINT, SIGTERM and SIGHUP are recorded, not acted on.

    Yields a DeferredSignals whose ``received`` lists them as they arrive.
    When the block ends normally, the previous handlers come back and, with
    ``deliver``, each recorded signal (once, in order of arrival) is sent
    again to this process, so it does what it would have done at once:
    KeyboardInterrupt for SIGINT, SignalInterrupt inside
    ``interrupts_as_keyboard_interrupt``, the default action (the process
    ends) otherwise.  With ``deliver=False`` they are only recorded: use that
    where the process is ending anyway, e.g. for the save after an interrupt.
    When the block raises, its exception propagates and nothing is delivered.
    """
    deferred = DeferredSignals()

    def record(signal_number, frame):
        deferred.received.append(signal_number)

    with _handlers(DEFERRED_SIGNALS, record):
        yield deferred
    if deliver:
        for signal_number in dict.fromkeys(deferred.received):
            signal.raise_signal(signal_number)


def safe_print(*values, file=None, **options) -> bool:
    """``print(*values, file=file, **options)``, flushed, that never fails for a closed stream.

    file: a text stream; ``None`` means ``sys.stdout`` at the time of the call.
    When the stream is gone (BrokenPipeError or another EPIPE, EIO from a
    hung-up terminal, EBADF, a closed file object, or ``None`` as Python
    sets for a closed descriptor), nothing is printed and False is returned;
    from then on the stream is skipped, and its descriptor is pointed at
    os.devnull so that Python's flush at exit cannot print "Exception ignored
    ... BrokenPipeError" either.  Returns True when the text was written.
    Other errors (a full disk behind ``> file``) are raised as usual.
    """
    stream = sys.stdout if file is None else file
    if stream is None or stream in _silenced_streams:
        return False
    options.setdefault("flush", True)  # a broken pipe shows now, not at exit
    try:
        print(*values, file=stream, **options)
    except OSError as error:
        if error.errno not in _GONE_ERRNOS:
            raise
    except ValueError:
        if not getattr(stream, "closed", False):
            raise
    else:
        return True
    _silence(stream)
    return False


def _silence(stream) -> None:
    try:
        _silenced_streams.add(stream)
    except TypeError:
        pass  # not weakly referenceable: only the devnull redirection below helps
    try:
        descriptor = stream.fileno()
    except (OSError, ValueError, AttributeError):
        return  # closed, or not backed by a descriptor
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, descriptor)
    finally:
        os.close(devnull)


def _raise_interrupt(signal_number, frame):
    raise SignalInterrupt(signal_number)


@contextmanager
def _handlers(signal_numbers: tuple, handler: Callable) -> Iterator[None]:
    """Install ``handler`` for the signals that are neither ignored nor set outside Python,
    and put the previous handlers back afterwards."""
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signal_number in signal_numbers:
            current = signal.getsignal(signal_number)
            # None: installed by non-Python code, which could not be restored.
            if current is not None and current != signal.SIG_IGN:
                previous[signal_number] = signal.signal(signal_number, handler)
    try:
        yield
    finally:
        for signal_number, old_handler in previous.items():
            signal.signal(signal_number, old_handler)
