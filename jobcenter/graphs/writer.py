"""Store writes on a second thread: the loader prepares the next rows while SQLite inserts the
batch before (``sqlite3`` releases the GIL while a statement steps, pyarrow while it computes),
so an import uses both cores.

Batches are written in the order given, one at a time, by one thread that is the only user of
the store connection meanwhile (the loader uses it only when the key index is in memory, where
the reading side never touches the store). An error of a write is raised again in the loader's
thread at its next :meth:`BatchWriter.put` or at :meth:`BatchWriter.close`.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

from jobcenter.graphs.stores.base import RowBatch

Write = Callable[[Any, RowBatch], None]


class BatchWriter:
    # Batches waiting at most: enough to keep the writer busy, and the memory bounded.
    DEPTH = 2

    def __init__(self, write: Write) -> None:
        self.write = write
        self.queue: queue.Queue[tuple[Any, RowBatch] | None] = queue.Queue(self.DEPTH)
        self.error: BaseException | None = None  # raised once in the loader's thread
        self.failed = False  # a write failed: the batches after it are not written
        self.thread = threading.Thread(target=self._work, name="jobcenter-store-writer")
        self.thread.daemon = True
        self.thread.start()

    def _work(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            if not self.failed:
                try:
                    self.write(*item)
                except BaseException as exc:  # raised again in the loader's thread
                    self.error, self.failed = exc, True

    def put(self, fp: Any, batch: RowBatch) -> None:
        self._raise()
        self.queue.put((fp, batch))

    def close(self, *, quiet: bool = False) -> None:
        """Wait for every batch put to be written; raise a write's error (``quiet``: the
        loader is raising an error of its own already)."""
        if self.thread.is_alive():
            self.queue.put(None)
            self.thread.join()
        if not quiet:
            self._raise()

    def _raise(self) -> None:
        if self.error is not None:
            error, self.error = self.error, None
            raise error
