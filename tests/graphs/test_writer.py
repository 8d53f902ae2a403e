"""The store writer thread (jobcenter/graphs/writer.py): batches are written in order, one at a
time, and a write's error comes back to the loader's thread."""

from __future__ import annotations

import threading

import pytest

from jobcenter.graphs.writer import BatchWriter


def test_batches_are_written_in_order_on_another_thread():
    seen: list[tuple[str, list[tuple], str]] = []
    writer = BatchWriter(
        lambda fp, batch: seen.append((fp, batch, threading.current_thread().name))
    )
    for i in range(20):
        writer.put("fp", [(i,)])
    writer.close()
    assert [batch for _, batch, _ in seen] == [[(i,)] for i in range(20)]
    assert {name for _, _, name in seen} == {"jobcenter-store-writer"}


def test_a_write_error_is_raised_in_the_loader_thread_and_later_batches_are_dropped():
    written: list[int] = []

    def write(fp, batch):
        if batch[0][0] == 3:
            raise OSError("disk full")
        written.append(batch[0][0])

    writer = BatchWriter(write)
    with pytest.raises(OSError, match="disk full"):
        for i in range(100):
            writer.put("fp", [(i,)])
        writer.close()
    writer.close(quiet=True)
    assert written == [0, 1, 2]


def test_close_quiet_leaves_the_loader_error_alone():
    writer = BatchWriter(lambda fp, batch: (_ for _ in ()).throw(ValueError("store")))
    writer.put("fp", [(1,)])
    writer.close(quiet=True)  # the loader is raising its own error: no second one
    assert not writer.thread.is_alive()
