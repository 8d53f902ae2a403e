"""Writing files only under the configured export roots (``JOBCENTER_EXPORT_ROOTS``).

A path a user names for an export or a backup is taken relative to the first export root (or,
when absolute, must lie inside one); its parent folders are resolved with symlinks followed and
must stay inside the root, so no ``..`` or link leads a write elsewhere. Restores read backups
from the export roots or the import roots.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from jobcenter.core.errors import InvalidInput
from jobcenter.core.paths import allowed_roots, inside_roots

MAX_PATH = 1024


def export_roots() -> list[Path]:
    return [Path(r).resolve() for r in settings.JOBCENTER_EXPORT_ROOTS]


def export_target(raw: object, *, field: str, must_not_exist: bool = True) -> Path:
    """The absolute path ``raw`` names under an export root (not created yet); InvalidInput
    naming ``field`` when it is empty, escapes the roots, or already exists."""
    if not isinstance(raw, str) or not raw.strip() or len(raw) > MAX_PATH or "\x00" in raw:
        raise InvalidInput(f"{field} must be a path of 1 to {MAX_PATH} characters", field=field)
    roots = export_roots()
    if not roots:
        raise InvalidInput("no export root is configured (JOBCENTER_EXPORT_ROOTS)", field=field)
    candidate = Path(raw.strip()).expanduser()
    if not candidate.is_absolute():
        candidate = roots[0] / candidate
    # Resolve what exists of the path (symlinks included), keep the rest as written.
    parent = candidate.parent
    existing = parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    try:
        resolved_parent = existing.resolve(strict=True) / parent.relative_to(existing)
    except (OSError, RuntimeError, ValueError):
        raise InvalidInput(f"{field} {raw!r} cannot be resolved", field=field) from None
    if ".." in resolved_parent.parts or candidate.name in ("", ".", ".."):
        raise InvalidInput(f"{field} {raw!r} is not a valid target", field=field)
    target = resolved_parent / candidate.name
    if target.is_symlink() or not inside_roots(target, roots) or target in roots:
        shown = ", ".join(str(r) for r in roots)
        raise InvalidInput(f"{field} {raw!r} is outside the export roots ({shown})", field=field)
    if must_not_exist and target.exists():
        raise InvalidInput(f"{field} {raw!r} already exists", field=field)
    return target


def backup_source(raw: object, *, field: str) -> Path:
    """An existing file under the export or import roots (a backup to restore)."""
    if not isinstance(raw, str) or not raw.strip() or "\x00" in raw:
        raise InvalidInput(f"{field} must be a file path", field=field)
    roots = export_roots() + allowed_roots()
    candidate = Path(raw.strip()).expanduser()
    if not candidate.is_absolute() and roots:
        candidate = roots[0] / candidate
    try:
        resolved = candidate.resolve(strict=True)
    except (OSError, RuntimeError):
        raise InvalidInput(f"{field} {raw!r} does not exist", field=field) from None
    if not inside_roots(resolved, roots):
        shown = ", ".join(str(r) for r in roots)
        raise InvalidInput(f"{field} {raw!r} is outside the allowed roots ({shown})", field=field)
    if not resolved.is_file():
        raise InvalidInput(f"{field} {raw!r} is not a file", field=field)
    return resolved
