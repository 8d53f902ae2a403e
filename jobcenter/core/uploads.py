"""Files uploaded with an import are stored by the app, one fresh folder per upload, under the
uploading project's own folder of the upload directory: ``<upload dir>/project-<id>/<upload
id>/``. That folder is an import root for its project only (jobcenter.core.paths): to other
projects an upload's path "does not exist".

Uploads are removed under their project's retention (``Project.effective_result_retention_days``)
once no waiting or running job needs them: ``jobs.services.job_results_expire`` asks
:func:`uploads_expire` with the uploads its active jobs name. A job names the uploads it reads in
``params["uploads"]``; submitting it again (a retry) refreshes their age, or says that they are
gone.

Many machines: each upload is also published to the shared storage (jobcenter.core.shared) as
``uploads/project-<id>/<upload id>/<file>``, and whoever needs it (the worker that imports it, a
web server that takes a retry) and has no local copy fetches it into its own upload directory
first (:func:`uploads_fetch`): an upload never changes once stored. Its last use is then the
time of ``uploads-used/project-<id>/<upload id>`` in the storage (written when it is stored and
when it is used again), which the retention goes by there; local copies go by their own age.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from jobcenter.core import shared
from jobcenter.core.errors import InvalidInput
from jobcenter.core.ids import new_id

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
_PROJECT_FOLDER = re.compile(r"^project-(\d+)$")


def safe_filename(name: str, fallback: str) -> str:
    base = Path(name or "").name
    cleaned = _UNSAFE.sub("_", base).strip("._")
    return cleaned[:120] or fallback


def upload_root(project_id: Any) -> Path:
    """The folder holding a project's uploads (not created here)."""
    return Path(settings.JOBCENTER_UPLOAD_DIR) / f"project-{int(project_id)}"


def _name(project_id: Any, upload: str, file: str = "") -> str:
    """An upload (or one of its files) in the shared storage."""
    folder = f"uploads/project-{int(project_id)}/{upload}"
    return f"{folder}/{file}" if file else folder


def _used_name(project_id: Any, upload: str) -> str:
    return f"uploads-used/project-{int(project_id)}/{upload}"


def _shared_apart(project_id: Any) -> bool:
    """Whether the shared storage's uploads are not this machine's upload directory."""
    return not shared.is_local(f"uploads/project-{int(project_id)}", upload_root(project_id))


def uploads_store(files: Mapping[str, UploadedFile], *, project_id: Any) -> dict[str, Path]:
    """Save each uploaded file in a new folder of the project's uploads; returns field name ->
    stored path. Streams in chunks."""
    limit = settings.JOBCENTER_MAX_UPLOAD_BYTES
    for field, upload in files.items():
        if upload.size is not None and upload.size > limit:
            raise InvalidInput(
                f"file {upload.name!r} is {upload.size} bytes; the limit is {limit}", field=field
            )
    folder = upload_root(project_id) / new_id()
    folder.mkdir(parents=True, exist_ok=False)
    stored: dict[str, Path] = {}
    for field, upload in files.items():
        target = folder / f"{field}-{safe_filename(upload.name, field)}"
        with target.open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        stored[field] = target
    if _shared_apart(project_id):
        for target in stored.values():
            shared.publish(target, _name(project_id, folder.name, target.name))
        shared.save_bytes(_used_name(project_id, folder.name), b"")
    return stored


def uploads_fetch(project_id: Any, ids: Iterable[str]) -> list[str]:
    """Make sure this machine has the project's uploads ``ids`` (fetched from the shared
    storage when it has no copy); returns those that exist nowhere (removed by retention)."""
    root = upload_root(project_id)
    missing = []
    for upload in ids:
        if (root / upload).is_dir():
            continue
        if not _shared_apart(project_id):
            missing.append(upload)
            continue
        files = shared.listdir(_name(project_id, upload))[1]
        if not files:
            missing.append(upload)
            continue
        # Fetched whole into a temporary folder, then renamed into place: a concurrent reader
        # sees all of its files or none.
        temp = root / f".{upload}.{os.getpid()}.fetch"
        shutil.rmtree(temp, ignore_errors=True)
        try:
            for file in files:
                if not shared.fetch(_name(project_id, upload, file), temp / file):
                    missing.append(upload)  # removed meanwhile
                    break
            else:
                try:
                    temp.rename(root / upload)
                except OSError:  # another process fetched it first
                    if not (root / upload).is_dir():
                        raise
        finally:
            shutil.rmtree(temp, ignore_errors=True)
    return missing


def uploads_discard(project_id: Any, folders: Iterable[Path]) -> None:
    """Remove uploads just stored (their import was refused), here and in the storage."""
    apart = _shared_apart(project_id)
    for folder in folders:
        if apart:
            for file in shared.listdir(_name(project_id, folder.name))[1]:
                shared.delete(_name(project_id, folder.name, file))
            shared.delete(_used_name(project_id, folder.name))
        shutil.rmtree(folder, ignore_errors=True)


def upload_of(path: Path, project_id: Any) -> str | None:
    """The id of the project's upload that ``path`` (resolved) lies in, or None."""
    root = upload_root(project_id).resolve()
    if not path.is_relative_to(root) or path == root:
        return None
    upload = path.relative_to(root).parts[0]
    return upload if UPLOAD_ID.match(upload) else None


def uploads_named(params: Any) -> list[str]:
    """The upload ids a job's ``params`` say it reads."""
    ids = params.get("uploads") if isinstance(params, dict) else None
    if not isinstance(ids, list):
        return []
    return [i for i in ids if isinstance(i, str) and UPLOAD_ID.match(i)]


def uploads_missing(project_id: Any, ids: Iterable[str]) -> list[str]:
    """The uploads that exist nowhere any more; the others are here after this (fetched)."""
    return uploads_fetch(project_id, ids)


def uploads_touch(project_id: Any, ids: Iterable[str]) -> None:
    """Mark the uploads as just used: their retention counts from now."""
    root = upload_root(project_id)
    apart = _shared_apart(project_id)
    for upload in ids:
        with contextlib.suppress(OSError):  # removed meanwhile: its files are then missing
            os.utime(root / upload)
        if apart:
            shared.save_bytes(_used_name(project_id, upload), b"")


def uploads_expire(*, project_id: Any, days: int, keep: Collection[str]) -> int:
    """Remove the project's uploads last used more than ``days`` days ago, except ``keep``
    (those an active job needs); returns how many were removed."""
    root = upload_root(project_id)
    cutoff = time.time() - days * 86400
    removed = _remove_older(root, cutoff, keep)
    if _shared_apart(project_id):
        removed += _shared_remove_older(f"uploads/project-{int(project_id)}", cutoff, keep)
    return removed


def _shared_remove_older(folder: str, cutoff: float, keep: Collection[str]) -> int:
    """The shared storage's uploads under ``folder`` last used before ``cutoff``."""
    removed = 0
    project = folder.rsplit("/", 1)[-1]
    for upload in shared.listdir(folder)[0]:
        if not UPLOAD_ID.match(upload) or upload in keep:
            continue
        used = f"uploads-used/{project}/{upload}"
        files = shared.listdir(f"{folder}/{upload}")[1]
        times = [shared.modified(used), *(shared.modified(f"{folder}/{upload}/{f}") for f in files)]
        last = max((t for t in times if t is not None), default=None)
        if last is not None and last < cutoff:
            for file in files:
                shared.delete(f"{folder}/{upload}/{file}")
            shared.delete(used)
            removed += 1
    return removed


def uploads_expire_unowned(*, days: int, projects: Collection[Any]) -> int:
    """Remove what no project owns any more, ``days`` days after its last use: the folders of
    deleted projects, and uploads stored before uploads had owners (directly under the upload
    directory, which no project may read)."""
    base = Path(settings.JOBCENTER_UPLOAD_DIR)
    cutoff = time.time() - days * 86400
    existing = {int(p) for p in projects}
    removed = 0
    if not shared.is_local("uploads", base):
        for folder in shared.listdir("uploads")[0]:
            owner = _PROJECT_FOLDER.match(folder)
            if owner and int(owner.group(1)) not in existing:
                removed += _shared_remove_older(f"uploads/{folder}", cutoff, ())
    if not base.is_dir():
        return removed
    for folder in base.iterdir():
        owner = _PROJECT_FOLDER.match(folder.name)
        if owner and int(owner.group(1)) in existing:
            continue
        if owner:
            removed += _remove_older(folder, cutoff, ())
            if _is_empty(folder):
                folder.rmdir()
        elif UPLOAD_ID.match(folder.name) and _older(folder, cutoff):
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def _remove_older(root: Path, cutoff: float, keep: Collection[str]) -> int:
    if not root.is_dir():
        return 0
    removed = 0
    for folder in root.iterdir():
        if not UPLOAD_ID.match(folder.name) or folder.name in keep:
            continue
        if _older(folder, cutoff):  # looked at last: a submission may have just touched it
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def _older(folder: Path, cutoff: float) -> bool:
    try:
        return folder.is_dir() and folder.stat().st_mtime < cutoff
    except OSError:
        return False


def _is_empty(folder: Path) -> bool:
    try:
        return not any(folder.iterdir())
    except OSError:
        return False
