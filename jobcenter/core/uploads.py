"""Files uploaded with an import are stored by the app, under the upload directory (which is
one of the roots imports may read from), one fresh folder per upload."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from jobcenter.core.errors import InvalidInput
from jobcenter.core.ids import new_id

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_filename(name: str, fallback: str) -> str:
    base = Path(name or "").name
    cleaned = _UNSAFE.sub("_", base).strip("._")
    return cleaned[:120] or fallback


def uploads_store(files: Mapping[str, UploadedFile]) -> dict[str, Path]:
    """Save each uploaded file; returns field name -> stored path. Streams in chunks."""
    limit = settings.JOBCENTER_MAX_UPLOAD_BYTES
    for field, upload in files.items():
        if upload.size is not None and upload.size > limit:
            raise InvalidInput(
                f"file {upload.name!r} is {upload.size} bytes; the limit is {limit}", field=field
            )
    folder = Path(settings.JOBCENTER_UPLOAD_DIR) / new_id()
    folder.mkdir(parents=True, exist_ok=False)
    stored: dict[str, Path] = {}
    for field, upload in files.items():
        target = folder / f"{field}-{safe_filename(upload.name, field)}"
        with target.open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        stored[field] = target
    return stored
