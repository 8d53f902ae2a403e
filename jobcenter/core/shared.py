"""Files that every web and worker process reads, whichever machine it runs on: job results and
their vertex-name snapshots (jobcenter.jobs.results), uploads (jobcenter.core.uploads).

They go through Django's storage API, the storage named ``jobcenter`` in ``STORAGES``: by
default a ``FileSystemStorage`` at ``JOBCENTER_SHARED_DIR`` (which defaults to
``JOBCENTER_DATA_DIR``, so that on one machine the shared copy *is* the local file and nothing
is copied); on many machines a directory they all mount, or any django-storages backend (S3,
Azure, GCS...). A file is written on local disk as before, then :func:`publish`-ed under its
storage name; a process that needs it and has no local copy :func:`fetch`-es it into its own
local directory first. Only files that never change once published go through here (a result
of one job, the names of one graph version, an upload), so a local copy never goes stale: it
is right until the file is deleted, which the job database says (a purged result, a deleted
job).

Storage names: ``results/<job id>.sqlite3``, ``results/names/<key>.sqlite3``,
``uploads/project-<id>/<upload id>/<file>`` (the local layout under the data directory).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

from django.core.files import File
from django.core.files.storage import Storage, storages

ALIAS = "jobcenter"


class SharedFileIncomplete(Exception):
    """A file fetched from the shared storage is not whole (still being written elsewhere)."""


def shared_storage() -> Storage:
    return storages[ALIAS]


def local_path_of(name: str) -> Path | None:
    """The storage's own path of ``name`` when it is a local file system, else None."""
    try:
        return Path(shared_storage().path(name))
    except NotImplementedError:
        return None


def is_local(name: str, local: Path) -> bool:
    """Whether ``local`` is the shared file itself (one machine: nothing to copy)."""
    own = local_path_of(name)
    return own is not None and os.path.abspath(own) == os.path.abspath(local)


def publish(local: Path, name: str) -> None:
    """Put the local file ``local`` in the shared storage as ``name`` (replacing one there)."""
    if is_local(name, local):
        return
    storage = shared_storage()
    if storage.exists(name):
        storage.delete(name)
    with local.open("rb") as handle:
        saved = storage.save(name, File(handle, name=local.name))
    if saved != name:  # another writer got there between the delete and the save
        storage.delete(saved)


def save_bytes(name: str, data: bytes) -> None:
    """Write a small file ``name`` (replacing one there)."""
    from django.core.files.base import ContentFile

    storage = shared_storage()
    if storage.exists(name):
        storage.delete(name)
    saved = storage.save(name, ContentFile(data))
    if saved != name:
        storage.delete(saved)


def modified(name: str) -> float | None:
    """When ``name`` was last written (seconds since the epoch), None when it is not there
    or the storage cannot say."""
    try:
        return shared_storage().get_modified_time(name).timestamp()
    except (FileNotFoundError, NotImplementedError):
        return None


def exists(name: str) -> bool:
    return shared_storage().exists(name)


def fetch(name: str, local: Path, *, check: Callable[[Path], None] | None = None) -> bool:
    """Make sure ``local`` holds the shared file ``name``: copied from the storage when there
    is no local copy yet. False when the storage has no such file. ``check`` looks at the copy
    before it is put in place (raising :class:`SharedFileIncomplete` when it is not whole:
    nothing is kept then)."""
    if local.exists():
        return True
    if is_local(name, local):
        return False
    storage = shared_storage()
    if not storage.exists(name):
        return False
    local.parent.mkdir(parents=True, exist_ok=True)
    temp = local.with_name(f".{local.name}.{os.getpid()}.{threading.get_ident()}.fetch")
    try:
        try:
            source = storage.open(name, "rb")
        except FileNotFoundError:
            return False  # deleted meanwhile
        with source, temp.open("wb") as out:
            shutil.copyfileobj(source, out, 1024 * 1024)
        if check is not None:
            check(temp)
        os.replace(temp, local)
    finally:
        temp.unlink(missing_ok=True)
    return True


def delete(name: str) -> None:
    """Remove ``name`` from the shared storage (nothing when it is not there)."""
    with contextlib.suppress(FileNotFoundError):
        shared_storage().delete(name)


def listdir(name: str) -> tuple[list[str], list[str]]:
    """The folders and files in the storage folder ``name`` (empty when there is none)."""
    storage = shared_storage()
    try:
        dirs, files = storage.listdir(name)
    except FileNotFoundError:
        return [], []
    return list(dirs), list(files)


def sqlite_whole(path: Path) -> None:
    """Raise :class:`SharedFileIncomplete` unless ``path`` is a whole SQLite file: as long as
    its header says (page size times page count; our files are written without a journal and
    closed before they are published)."""
    with path.open("rb") as handle:
        header = handle.read(100)
    size = path.stat().st_size
    if len(header) < 100 or not header.startswith(b"SQLite format 3\x00"):
        raise SharedFileIncomplete(f"{path.name} is not a whole SQLite file")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    if size != page_size * pages:
        raise SharedFileIncomplete(f"{path.name} is {size} bytes of {page_size * pages}")
