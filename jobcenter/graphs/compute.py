"""Running one library computation so that a stop lands in time (:class:`Control`).

igraph's C loops do not check for interruption, so a computation that may take longer than a
cancel may wait runs in a forked child process that is killed on a stop; one known to be short
runs in the worker itself (see :meth:`Control.compute`).
"""

from __future__ import annotations

import _thread
import contextlib
import os
import pickle
import select
import signal
import sys
import threading
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# igraph's OpenMP runtime (libgomp) is not fork-safe: once its thread pool exists in a process,
# a forked child that uses OpenMP hangs. Computations run in forked children (see
# Control.compute), so OpenMP runs single-threaded unless the operator says otherwise; it must
# be set before igraph is first imported (it is imported lazily, by the modules that use it).
os.environ.setdefault("OMP_NUM_THREADS", "1")


class AlgorithmStopped(Exception):
    """The job was asked to stop (cancel, shutdown, lost)."""


class AlgorithmFailed(Exception):
    """The algorithm cannot run on this graph (e.g. a negative weight); ``str()`` says why."""


@dataclass
class Control:
    """What an algorithm run reports and obeys. ``stop`` is set by the job's heartbeat."""

    stop: threading.Event = field(default_factory=threading.Event)
    phase: str = "starting"
    progress: float = 0.0  # percent
    done: int = 0  # rows read or written in the current phase
    total: int = 0
    expected_seconds: float | None = None  # of the next computation, when it can be told

    def check(self) -> None:
        if self.stop.is_set():
            raise AlgorithmStopped()

    def set_phase(self, phase: str, progress: float, total: int | None = None) -> None:
        """Enter a phase; with ``total`` its counters start again (rows to read or write),
        without it they keep showing what the previous phase counted."""
        self.check()
        self.phase, self.progress = phase, progress
        if total is not None:
            self.done, self.total = 0, total

    def compute(self, fn: Callable[[], Any], *, vector: str | None = None) -> Any:
        """One library computation, ``fn()``, in a forked child; a stop kills the child at
        once. The result comes back through a pipe: pickled, or with ``vector`` (an
        :mod:`array` typecode, "d" or "q") a list of numbers as the bytes of an array of that
        type (the computation's result is then that array, here as in the child). A
        computation known to be short (``expected_seconds``, see :meth:`_short`), or any
        without fork (not POSIX), runs here, stopping only after.

        Why a child process: igraph's C code does not check for interruption inside its long
        loops (measured with python-igraph 1.0: a signal raised during label propagation or
        all-pairs BFS is only seen when the call returns), so the only stop that always lands
        within the cancel deadline is killing the process that computes. The child shares the
        built graph copy-on-write; only the result travels back. Why ``vector``: unpickling
        200,000 floats costs the worker about 10 ms (a Python object each) where an array's
        bytes are copied in microseconds, and the result file stores such an array anyway."""
        self.check()
        if not hasattr(os, "fork") or self._short():
            try:
                value = _as_vector(fn(), vector)
            except Exception as exc:
                raise AlgorithmFailed(f"{type(exc).__name__}: {exc}") from exc
            self.check()
            return value
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: compute, send, leave without running any cleanup
            code = 0
            try:
                os.close(read_end)
                _child_signals()
                try:
                    value = _as_vector(fn(), vector)
                    if isinstance(value, array):
                        payload = b"V" + value.typecode.encode() + value.tobytes()
                    else:
                        payload = b"P" + pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
                except BaseException as exc:
                    payload, code = b"E" + f"{type(exc).__name__}: {exc}".encode(), 1
                view = memoryview(payload)
                while view:
                    view = view[os.write(write_end, view) :]
                os.close(write_end)  # the end of the result: the worker need not wait for exit
            finally:
                os._exit(code)
        os.close(write_end)
        chunks: list[bytes] = []
        ended = False
        try:
            while True:
                if self.stop.is_set():
                    os.kill(pid, signal.SIGKILL)
                    raise AlgorithmStopped()
                ready, _, _ = select.select([read_end], [], [], 0.1)
                if ready:
                    data = os.read(read_end, 1 << 20)
                    if not data:
                        ended = True
                        break
                    chunks.append(data)
        finally:
            os.close(read_end)
            _reap(pid, wait=not ended)
        data = b"".join(chunks)
        tag, body = data[:1], memoryview(data)[1:]
        if tag == b"V":
            value = array(chr(body[0]))
            value.frombytes(body[1:])
            return value
        if tag == b"P":
            return pickle.loads(body)  # noqa: S301 - our own child
        if tag == b"E":
            raise AlgorithmFailed(bytes(body).decode(errors="replace"))
        raise AlgorithmFailed("the algorithm's process ended without a result")

    def _short(self) -> bool:
        """A computation that ends sooner than a cancel can be seen anyway (a heartbeat
        interval) runs here: a child costs a fork, copy-on-write faults and the result's trip
        back (30 to 60 ms at 1,000,000 edges). Only with OpenMP single-threaded: a thread pool
        started here would hang the children forked later."""
        return (
            self.expected_seconds is not None
            and self.expected_seconds <= INLINE_SECONDS
            and os.environ.get("OMP_NUM_THREADS") == "1"
        )


# Longest computation run in the worker itself: a cancel arriving as it starts is seen at the
# next heartbeat (1 s) and the job stops when it returns, within the 2 s cancel deadline.
INLINE_SECONDS = 0.5


def _as_vector(value: Any, typecode: str | None) -> Any:
    """``value`` as an array of ``typecode`` when asked and it is a list of such numbers."""
    if typecode is None:
        return value
    try:
        return array(typecode, value)
    except (TypeError, OverflowError):
        return value


def _reap(pid: int, *, wait: bool) -> None:
    """Collect the ended child. One that sent its result is still exiting (unmapping its
    copy of the worker takes milliseconds): a thread of its own waits for it, so that the
    job does not."""
    if wait:
        os.waitpid(pid, 0)
    elif os.waitpid(pid, os.WNOHANG)[0] == 0:
        _thread.start_new_thread(_wait_quietly, (pid,))


def _wait_quietly(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def _child_signals() -> None:
    """In the computing child: leave Ctrl-C and SIGTERM to the worker (which stops the job and
    kills this child), and die with the worker if it is killed (Linux)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() == 1:  # the worker died before prctl took effect
            os._exit(1)
