"""Running one library computation so that a stop lands in time (:class:`Control`).

igraph's C loops do not check for interruption, so a computation that may take longer than a
cancel may wait runs in a forked child process that is killed on a stop; one known to be short
runs in the worker itself (see :meth:`Control.compute`). An idle worker keeps that child forked
ahead (the standby, :func:`standby_keep`).
"""

from __future__ import annotations

import _thread
import contextlib
import io
import marshal
import os
import pickle
import select
import signal
import struct
import sys
import threading
import types
from array import array
from collections.abc import Callable, Iterable
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
        built graph copy-on-write; only the result travels back. The child is the standby
        forked ahead when it can take the call (:func:`standby_keep`), else forked now. Why
        ``vector``: unpickling 200,000 floats costs the worker about 10 ms (a Python object
        each) where an array's bytes are copied in microseconds, and the result file stores
        such an array anyway."""
        self.check()
        if not hasattr(os, "fork") or self._short():
            try:
                value = _as_vector(fn(), vector)
            except Exception as exc:
                raise AlgorithmFailed(f"{type(exc).__name__}: {exc}") from exc
            self.check()
            return value
        served = _serve_from_standby(fn, vector)
        pid, read_end = served if served is not None else _fork_child(fn, vector)
        received = _Received()
        ended = False
        try:
            while True:
                if self.stop.is_set():
                    os.kill(pid, signal.SIGKILL)
                    raise AlgorithmStopped()
                ready, _, _ = select.select([read_end], [], [], 0.1)
                if ready and not received.read(read_end):
                    ended = True
                    break
        finally:
            os.close(read_end)
            _reap(pid, wait=not ended)
        if received.vector is not None:
            complete = received.filled == len(received.target)
            received.target.release()  # the array is the caller's, resizable
            if not complete:  # the child died while sending
                raise AlgorithmFailed("the algorithm's process ended without a result")
            return received.vector
        data = bytes(received.head)
        tag, body = data[:1], memoryview(data)[1:]
        if tag == b"P":
            return pickle.loads(body)  # noqa: S301 - our own child
        if tag == b"E":
            raise AlgorithmFailed(bytes(body).decode(errors="replace"))
        if tag == b"R" and served is not None:  # the standby could not rebuild the call
            return self.compute(fn, vector=vector)  # (no standby now: a child of its own)
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


def _fork_child(fn: Callable[[], Any], vector: str | None) -> tuple[int, int]:
    """A child forked now to compute ``fn()``; returns its pid and the pipe its result comes
    through."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: compute, send, leave without running any cleanup
        code = 1
        try:
            os.close(read_end)
            _child_signals()
            code = _compute_and_send(fn, vector, write_end)
        finally:
            os._exit(code)
    os.close(write_end)
    return pid, read_end


def _compute_and_send(fn: Callable[[], Any], vector: str | None, write_end: int) -> int:
    """In a child: ``fn()``'s result (or its error) through ``write_end``; the exit code. An
    array goes as its typecode, its size and its own buffer (not copied into a payload)."""
    code = 0
    try:
        value = _as_vector(fn(), vector)
        if isinstance(value, array):
            data = memoryview(value).cast("B")
            parts: tuple[Any, ...] = (
                b"V" + value.typecode.encode() + struct.pack("<Q", len(data)),
                data,
            )
        else:
            parts = (b"P", pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    except BaseException as exc:
        parts, code = (b"E" + f"{type(exc).__name__}: {exc}".encode(),), 1
    _send(write_end, *parts)
    return code


def _send(fd: int, *parts: Any) -> None:
    for part in parts:
        view = memoryview(part)
        while view:
            view = view[os.write(fd, view) :]
    os.close(fd)  # the end of the result: the worker need not wait for exit


# An array's header: "V", its typecode, its size in bytes.
_VECTOR_HEAD = 2 + 8


class _Received:
    """A child's result as it comes through the pipe: an array's bytes ("V") are read straight
    into the array (no chunks joined, no copy: 1,200 page faults and 3 to 4 ms fewer in the
    worker for 200,000 doubles); any other result is kept as bytes (``head``)."""

    def __init__(self) -> None:
        self.head = bytearray()
        self.vector: array | None = None
        self.target = memoryview(b"")
        self.filled = 0

    def read(self, fd: int) -> bool:
        """One read from ``fd``; False at the end of the result."""
        if self.vector is not None and self.filled < len(self.target):
            count = os.readv(fd, [self.target[self.filled :]])
            self.filled += count
            return count > 0
        data = os.read(fd, 1 << 20)
        if not data:
            return False
        if self.vector is not None:
            return True  # more than announced: ignored until the end
        self.head += data
        if self.head[:1] == b"V" and len(self.head) >= _VECTOR_HEAD:
            typecode, size = chr(self.head[1]), struct.unpack("<Q", self.head[2:10])[0]
            self.vector = array(typecode, [0]) * (size // array(typecode).itemsize)
            self.target = memoryview(self.vector).cast("B")
            rest = self.head[_VECTOR_HEAD : _VECTOR_HEAD + len(self.target)]
            self.target[: len(rest)] = rest
            self.filled, self.head = len(rest), bytearray()
        return True


# --- the standby child ---------------------------------------------------------------------------
#
# Forking a worker that holds a graph of 1,000,000 edges takes 5 to 6 ms, and the child starts
# computing some 7 ms after the fork began (page tables copied, signals set up): time a job
# waits for. A worker with graphs in memory therefore keeps one child forked ahead, while it is
# idle (:func:`standby_keep`): a computation's call goes to it through a pipe and it computes
# as a freshly forked child would (a stop kills it; it serves one computation and exits), and
# the worker forks the next standby when it is idle again, off the job's path.
#
# Never a stale graph: the call is sent as its code and the values it uses; a graph the
# standby was forked with is sent as a reference to the standby's copy only when it is the very
# object the worker holds (the worker keeps a reference to each, so that no other object can
# take its identity while the standby lives), and every other value goes by value. A graph the
# worker loaded or replaced since (a new version of its data) is not the standby's: the
# computation then runs in a child forked for it, as without a standby, and the worker replaces
# the standby when it is idle again.

# Largest call sent to a standby (its values pickled): anything bigger is forked for.
STANDBY_CALL_BYTES = 1 << 20
# Most memory a standby faults in ahead (see _prefault_heap).
STANDBY_HEAP_MAX_BYTES = 256 << 20


@dataclass
class _Standby:
    pid: int
    commands: int  # the pipe's write end, where the call goes
    results: int  # the read end, where the result comes back
    graphs: tuple[Any, ...]  # held here: no other object takes their identity meanwhile

    def close(self, *, collected: bool = False) -> None:
        """End the standby (it was not used): kill it and collect it off this thread; only
        close its pipes when it was ``collected`` already (its pid may be another's now)."""
        for fd in (self.commands, self.results):
            with contextlib.suppress(OSError):
                os.close(fd)
        if collected:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        _reap(self.pid, wait=False)


_STANDBY: _Standby | None = None
_STANDBY_LOCK = threading.Lock()


def standby_keep(graphs: Iterable[Any], *, heap_bytes: int = 0) -> int | None:
    """Have a standby child forked with ``graphs`` (the objects of the graphs held in memory)
    ready for the next computation: the current one if it was forked with exactly these
    objects, otherwise a new one (the old one ends). No graph: no standby. Call from the
    thread that runs jobs, while idle (the standby dies with that thread, see
    :func:`_child_signals`). ``heap_bytes``: memory the standby faults in while it waits
    (see :func:`_prefault_heap`). Returns the standby's pid, or None."""
    global _STANDBY
    held = tuple(graphs)
    if not hasattr(os, "fork") or not held:
        standby_drop()
        return None
    with _STANDBY_LOCK:
        current = _STANDBY
        alive = current is not None and _alive(current.pid)
        if alive and _same(current.graphs, held):
            return current.pid
        _STANDBY = None
    if current is not None:
        current.close(collected=not alive)  # (killed from outside, say)
    standby = _fork_standby(held, min(heap_bytes, STANDBY_HEAP_MAX_BYTES))
    with _STANDBY_LOCK:
        old, _STANDBY = _STANDBY, standby
    if old is not None:
        old.close()
    return standby.pid


def standby_drop() -> None:
    """End the standby, if there is one (e.g. before a job that does not compute: the
    standby shares the worker's memory copy-on-write, and a job that writes much of it would
    have it copied)."""
    global _STANDBY
    with _STANDBY_LOCK:
        standby, _STANDBY = _STANDBY, None
    if standby is not None:
        standby.close()


def standby_pid() -> int | None:
    """The standby child's pid, or None."""
    standby = _STANDBY
    return standby.pid if standby is not None else None


def _same(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    return len(a) == len(b) and {id(x) for x in a} == {id(x) for x in b}


def _alive(pid: int) -> bool:
    """Whether child ``pid`` runs; one that ended is collected here."""
    try:
        return os.waitpid(pid, os.WNOHANG)[0] == 0
    except ChildProcessError:
        return False


def _fork_standby(graphs: tuple[Any, ...], heap_bytes: int) -> _Standby:
    command_read, command_write = os.pipe()
    result_read, result_write = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        for fd in (command_read, command_write, result_read, result_write):
            os.close(fd)
        raise
    if pid == 0:  # the standby: wait for one call, compute it, send, leave
        code = 1
        try:
            os.close(command_write)
            os.close(result_read)
            _child_signals()
            _prefault_heap(heap_bytes)
            code = _standby_serve(command_read, result_write, graphs)
        finally:
            os._exit(code)
    os.close(command_read)
    os.close(result_write)
    return _Standby(pid, command_write, result_read, graphs)


def _serve_from_standby(fn: Callable[[], Any], vector: str | None) -> tuple[int, int] | None:
    """Hand ``fn()`` to the standby: its pid and result pipe, as :func:`_fork_child` returns;
    None when there is no standby or the call cannot go to it (then the standby stays)."""
    global _STANDBY
    with _STANDBY_LOCK:
        standby = _STANDBY
        if standby is None:
            return None
        call = _encode_call(fn, vector, standby.graphs)
        if call is None:
            return None
        _STANDBY = None  # one computation each
    try:
        _send(standby.commands, struct.pack("<Q", len(call)) + call)
    except OSError:  # the standby died (killed from outside): fork instead
        standby.close()
        return None
    return standby.pid, standby.results


class _CallPickler(pickle.Pickler):
    """Pickles the values a call uses; the standby's graphs as references to its copies."""

    def __init__(self, file: io.BytesIO, graphs: tuple[Any, ...]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.graphs = {id(graph): index for index, graph in enumerate(graphs)}

    def persistent_id(self, obj: Any) -> Any:
        index = self.graphs.get(id(obj))
        if index is not None:
            return ("graph", index)
        if isinstance(obj, types.ModuleType):
            return ("module", obj.__name__)
        if type(obj).__module__.partition(".")[0] == "igraph":
            # a graph the standby was not forked with: never copied through the pipe
            raise pickle.PicklingError("not one of the standby's graphs")
        return None


class _CallUnpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, graphs: tuple[Any, ...]) -> None:
        super().__init__(file)
        self.graphs = graphs

    def persistent_load(self, pid: Any) -> Any:
        what, ref = pid
        if what == "graph":
            return self.graphs[ref]
        if what == "module":
            return sys.modules[ref]
        raise pickle.UnpicklingError(f"unknown reference {pid!r}")


def _encode_call(
    fn: Callable[[], Any], vector: str | None, graphs: tuple[Any, ...]
) -> bytes | None:
    """``fn`` (a function or lambda) as its module, code and the values it closes over, or
    None when it cannot be sent (not a plain function, a value that does not pickle, too big)."""
    if not isinstance(fn, types.FunctionType) or fn.__module__ not in sys.modules:
        return None
    buffer = io.BytesIO()
    try:
        cells = tuple(cell.cell_contents for cell in fn.__closure__ or ())
        # The module globals it reads, as the worker has them now (the standby's copies are as
        # they were at its fork): functions and classes by name, modules by name, data by value.
        names = _global_names(fn.__code__)
        known = fn.__globals__
        used = {name: known[name] for name in names if name in known}
        _CallPickler(buffer, graphs).dump(
            (
                fn.__module__,
                fn.__name__,
                marshal.dumps(fn.__code__),
                cells,
                used,
                fn.__defaults__,
                fn.__kwdefaults__,
                vector,
            )
        )
    except Exception:  # an empty cell, a value that does not pickle
        return None
    call = buffer.getvalue()
    return call if len(call) <= STANDBY_CALL_BYTES else None


def _global_names(code: types.CodeType) -> set[str]:
    """Names ``code`` (and the functions defined in it) may read as globals."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


def _standby_serve(commands: int, results: int, graphs: tuple[Any, ...]) -> int:
    """In the standby: read one call, rebuild it, compute, send; the exit code. A call it
    cannot rebuild is answered "R" (the worker then forks a child for it)."""
    header = _read_exactly(commands, 8)
    if header is None:  # the worker ended the standby
        return 0
    call = _read_exactly(commands, struct.unpack("<Q", header)[0])
    try:
        module, name, code, cells, used, defaults, kwdefaults, vector = _CallUnpickler(
            io.BytesIO(call or b""), graphs
        ).load()
        namespace = {**sys.modules[module].__dict__, **used}
        fn = types.FunctionType(
            marshal.loads(code),  # noqa: S302 - from the worker this process was forked from
            namespace,
            name,
            defaults,
            tuple(types.CellType(value) for value in cells),
        )
        fn.__kwdefaults__ = kwdefaults
    except Exception as exc:
        _send(results, b"R" + f"{type(exc).__name__}: {exc}".encode())
        return 1
    return _compute_and_send(fn, vector, results)


def _prefault_heap(size: int) -> None:
    """In the standby, while it waits: have ``size`` bytes of heap faulted in and kept, so that
    the computation's own allocations find them ready. A freshly forked child pays a page
    fault for every page it allocates or first writes (pagerank at 1,000,000 edges: 12,600
    faults, 4,700 after this with 44 MB). glibc only (Linux); elsewhere, nothing.

    The heap is taken in 1 MiB blocks, the free holes first (malloc's best fit; a hole whose
    pages were given back by ``malloc_trim`` faults again) and then a new top, all below
    glibc's mmap threshold (a block at or above it would be mapped apart and unmapped when
    freed: faulted in for nothing), its pages populated by the
    kernel in one call each (``MADV_POPULATE_WRITE``, Linux 5.14: about 60% of the CPU of
    writing them, which takes a fault per page), then freed, and kept: allocations up to the
    threshold come from the heap and it is not given back (a one-computation process)."""
    if size <= 0 or not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.malloc.restype = ctypes.c_void_p
        libc.malloc.argtypes = [ctypes.c_size_t]
        libc.free.argtypes = [ctypes.c_void_p]
        libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
        libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        # M_TRIM_THRESHOLD (-1), M_MMAP_THRESHOLD (-3; glibc takes at most 32 MiB)
        if not (libc.mallopt(-1, 2 * size + _HEAP_BLOCK) and libc.mallopt(-3, _HEAP_BLOCK)):
            return
        page = os.sysconf("SC_PAGE_SIZE")
        blocks, left = [], size
        try:
            while left > 0:
                length = min(left, _FAULT_BLOCK - page)  # with its header, within a block
                block = libc.malloc(length)
                if not block:
                    break
                blocks.append(block)
                left -= length
                first, end = -(-block // page) * page, (block + length) // page * page
                if end <= first or libc.madvise(first, end - first, _MADV_POPULATE_WRITE) != 0:
                    libc.memset(block, 0, length)  # an older kernel
        finally:
            for block in blocks:
                libc.free(block)


_HEAP_BLOCK = 32 << 20
# Faulted in a block at a time: malloc fills the heap's free holes first (best fit), so the
# holes a computation's allocations would take are populated too, not only a new top (after
# malloc_trim, the holes' pages are given back: faults again; 32 MiB blocks passed them by).
_FAULT_BLOCK = 1 << 20
_MADV_POPULATE_WRITE = 23


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        data = os.read(fd, min(left, 1 << 20))
        if not data:
            return None
        chunks.append(data)
        left -= len(data)
    return b"".join(chunks)


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
