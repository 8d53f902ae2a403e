"""Files uploaded with an import are stored by the app, one fresh folder per upload, under the
uploading project's own folder of the upload directory: ``<upload dir>/project-<id>/<upload
id>/``. That folder is an import root for its project only (jobcenter.core.paths): to other
projects an upload's path "does not exist".

Uploads are removed under their project's retention (``Project.effective_result_retention_days``)
once no waiting or running job needs them: ``jobs.services.job_results_expire`` asks
:func:`uploads_expire` with the uploads its active jobs name. A job names the uploads it reads in
``params["uploads"]``; submitting it again (a retry) refreshes their age, or says that they are
gone.
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
    return stored


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
    root = upload_root(project_id)
    return [i for i in ids if not (root / i).is_dir()]


def uploads_touch(project_id: Any, ids: Iterable[str]) -> None:
    """Mark the uploads as just used: their retention counts from now."""
    root = upload_root(project_id)
    for upload in ids:
        with contextlib.suppress(OSError):  # removed meanwhile: its files are then missing
            os.utime(root / upload)


def uploads_expire(*, project_id: Any, days: int, keep: Collection[str]) -> int:
    """Remove the project's uploads last used more than ``days`` days ago, except ``keep``
    (those an active job needs); returns how many were removed."""
    root = upload_root(project_id)
    return _remove_older(root, time.time() - days * 86400, keep)


def uploads_expire_unowned(*, days: int, projects: Collection[Any]) -> int:
    """Remove what no project owns any more, ``days`` days after its last use: the folders of
    deleted projects, and uploads stored before uploads had owners (directly under the upload
    directory, which no project may read)."""
    base = Path(settings.JOBCENTER_UPLOAD_DIR)
    if not base.is_dir():
        return 0
    cutoff = time.time() - days * 86400
    removed = 0
    existing = {int(p) for p in projects}
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
