"""Calls computed by a pool of worker processes, for reading many files at once.

Used by ``music.read.scores`` (music files) and the Weimar Jazz Database
readers (``music.read.wjazzd_csv``, ``music.read.wjazzd_db``).
"""
from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys

from tqdm import tqdm


_INTERRUPTS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                    if hasattr(signal, name))


@contextlib.contextmanager
def _interrupts_blocked():
    """Hold SIGINT, SIGTERM and SIGHUP back from this thread (and from what it forks or
    starts) inside the block; one that came meanwhile arrives when it ends."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _INTERRUPTS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _ignore_interrupts():
    # Ctrl-C reaches every process of the terminal; only the parent handles it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A forked worker inherits the parent's Python handlers, which turn SIGTERM
    # into KeyboardInterrupt (jazz_lstm.signals): the parent's terminate() must
    # end a worker quietly, without a traceback.  Ignored signals stay ignored.
    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None and callable(signal.getsignal(number)):
            signal.signal(number, signal.SIG_DFL)
    # Workers start with the parent's interrupts blocked (see read_in_parallel): a
    # terminate() sent before this point waits, pending, and ends the worker now.
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _INTERRUPTS)


def read_in_parallel(function, argument_tuples, *, progress: bool = True) -> list:
    """``[function(*arguments) for arguments in argument_tuples]``, computed
    by a pool of worker processes when there are several, in the given order.

    Workers: min(CPU count, number of calls); one call runs in this process.
    ``function`` must be a module-level function (workers pickle it) that
    reports its failures in its result rather than raising.  On a terminal
    and with ``progress``, a tqdm bar counts the finished calls.
    Ctrl-C stops the workers at once and raises KeyboardInterrupt here.
    """
    argument_tuples = list(argument_tuples)
    results = [None] * len(argument_tuples)
    workers = min(os.cpu_count() or 1, len(argument_tuples))
    bar = None
    if progress and len(argument_tuples) > 1 and sys.stderr.isatty():
        bar = tqdm(total=len(argument_tuples), unit="file", desc="reading", dynamic_ncols=True)
    try:
        if workers <= 1:
            finished = ((index, function(*arguments))
                        for index, arguments in enumerate(argument_tuples))
            results = _collect(finished, results, bar)
        else:
            # multiprocessing.Pool rather than concurrent.futures: its terminate()
            # ends the workers at once on Ctrl-C instead of waiting for their files.
            # An interrupt must not land inside Pool() (its workers and handler
            # threads started, its finalizer not yet registered): the handler thread
            # would go on starting workers that outlive this process and hang its
            # exit.  Nor inside terminate() and join(), which would leave them half
            # done.  So interrupts wait out both; one that came meanwhile arrives
            # when Pool() returns, and is handled below.
            pool = None
            try:
                with _interrupts_blocked():
                    pool = multiprocessing.Pool(workers, initializer=_ignore_interrupts)
                finished = pool.imap_unordered(_call_indexed, [
                    (index, function, arguments)
                    for index, arguments in enumerate(argument_tuples)])
                results = _collect(finished, results, bar)
                pool.close()
                pool.join()
            except BaseException:
                if pool is not None:
                    with _interrupts_blocked():
                        pool.terminate()
                        pool.join()
                raise
    finally:
        if bar is not None:
            bar.close()
    return results


def _call_indexed(task):
    index, function, arguments = task
    return index, function(*arguments)


def _collect(finished, results, bar) -> list:
    """``results`` filled from (index, result) pairs in finishing order."""
    for index, result in finished:
        results[index] = result
        if bar is not None:
            bar.update()
    return results
