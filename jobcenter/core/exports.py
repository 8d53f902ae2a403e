"""Writing files only under the configured export roots (``JOBCENTER_EXPORT_ROOTS``).

A path a user names for an export or a backup is taken relative to the first export root (or,
when absolute, must lie inside one); its parent folders are resolved with symlinks followed and
must stay inside the root, so no ``..`` or link leads a write elsewhere. Restores read backups
from the export roots or the import roots. As with imports (jobcenter.core.paths), a path that
cannot name a file (too long a name or path, a NUL, unpaired surrogates) is refused with what
is wrong, no answer tells whether a file exists outside the roots, and paths are shown relative
to their root.

Many machines: the export roots are configured with the same paths on every machine, and what
an export or a backup wrote is also published to the shared storage (jobcenter.core.shared) as
``exports/<root number>/<path under the root>`` (:func:`export_publish`), so that a restore
submitted to any web server and run by any worker finds the backup (:func:`export_fetch`), and
a target that exists on another machine's disk counts as existing.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings

from jobcenter.core import shared
from jobcenter.core.errors import InvalidInput
from jobcenter.core.paths import (
    fs_limits,
    import_roots,
    inside_roots,
    path_problem,
    relative_to_roots,
    shown,
)

MAX_PATH = 1024


def export_roots() -> list[Path]:
    return [Path(r).resolve() for r in settings.JOBCENTER_EXPORT_ROOTS]


def export_display(path: Path) -> str:
    """A path under the export (or import) roots as shown to users: relative to its root."""
    return relative_to_roots(path, [*export_roots(), *import_roots()]) or path.name


def export_name(path: Path) -> str | None:
    """The shared storage's name of a path under an export root (None outside them)."""
    for number, root in enumerate(export_roots()):
        if path != root and path.is_relative_to(root):
            return f"exports/{number}/{path.relative_to(root).as_posix()}"
    return None


def export_publish(target: Path) -> None:
    """Publish what an export or a backup wrote at ``target`` (a file, or a folder of files)."""
    files = [target] if target.is_file() else sorted(p for p in target.rglob("*") if p.is_file())
    for file in files:
        name = export_name(file)
        if name is not None and not shared.is_local(name, file):
            shared.publish(file, name)


def export_fetch(path: Path) -> None:
    """Bring a file that an export or backup wrote on another machine to ``path`` here (when
    this machine has no such file and the shared storage has it)."""
    name = export_name(path)
    if name is None or path.exists():
        return
    existing = path.parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    # No link leads the copy elsewhere: what exists of its folders is inside an export root
    # (or is above a root not made yet).
    found, roots = existing.resolve(), export_roots()
    if inside_roots(found, roots) or any(root.is_relative_to(found) for root in roots):
        shared.fetch(name, path)


def _exists_elsewhere(target: Path) -> bool:
    """Whether an export wrote ``target`` (a file or a folder) on another machine."""
    name = export_name(target)
    if name is None or shared.is_local(name, target):
        return False
    return shared.exists(name) or any(shared.listdir(name))


def _spellings(roots: list[Path], configured: list) -> list[Path]:
    return [*roots, *(Path(os.path.abspath(r)) for r in configured)]


def _text_problem(raw: str, field: str, roots: list[Path]) -> None:
    name_max = min((fs_limits(root)[0] for root in roots), default=255)
    if problem := path_problem(raw, name_max=name_max):
        raise InvalidInput(f"{field} {shown(raw)!r} {problem}", field=field)


def export_target(raw: object, *, field: str, must_not_exist: bool = True) -> Path:
    """The absolute path ``raw`` names under an export root (not created yet); InvalidInput
    naming ``field`` when it is empty, cannot name a file, escapes the roots, or already
    exists."""
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidInput(f"{field} must be a path of 1 to {MAX_PATH} characters", field=field)
    roots = export_roots()
    if not roots:
        raise InvalidInput("no export root is configured (JOBCENTER_EXPORT_ROOTS)", field=field)
    text = raw.strip()
    _text_problem(text, field, roots)
    if len(raw) > MAX_PATH:
        raise InvalidInput(f"{field} must be a path of 1 to {MAX_PATH} characters", field=field)
    candidate = Path(text)
    if not candidate.is_absolute():
        candidate = roots[0] / candidate
    _text_problem(str(candidate), field, roots)  # joined to the root: still short enough?
    outside = InvalidInput(f"{field} {shown(text)!r} is outside the export roots", field=field)
    # Decided on the text first, so that nothing outside the roots is ever looked at.
    if not inside_roots(
        Path(os.path.normpath(candidate)), _spellings(roots, settings.JOBCENTER_EXPORT_ROOTS)
    ):
        raise outside
    if candidate.name in ("", ".", ".."):
        raise InvalidInput(f"{field} {shown(text)!r} is not a valid target", field=field)
    try:
        # Resolve what exists of the path (symlinks included), keep the rest as written.
        parent = candidate.parent
        existing = parent
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        resolved_parent = existing.resolve(strict=True) / parent.relative_to(existing)
        if ".." in resolved_parent.parts:
            raise InvalidInput(f"{field} {shown(text)!r} is not a valid target", field=field)
        target = resolved_parent / candidate.name
        if target.is_symlink() or not inside_roots(target, roots) or target in roots:
            raise outside
        if not existing.is_dir():
            raise InvalidInput(
                f"{field} {shown(text)!r} goes through a file as if it were a folder",
                field=field,
            )
        if must_not_exist and (target.exists() or _exists_elsewhere(target)):
            raise InvalidInput(f"{field} {shown(text)!r} already exists", field=field)
    except (OSError, RuntimeError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or "it cannot be resolved"
        raise InvalidInput(
            f"{field} {shown(text)!r} cannot be used ({reason})", field=field
        ) from None
    return target


def backup_source(raw: object, *, field: str) -> Path:
    """An existing file under the export or import roots (a backup to restore). Missing and
    outside the roots are one answer."""
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidInput(f"{field} must be a file path", field=field)
    roots = export_roots() + import_roots()
    text = raw.strip()
    _text_problem(text, field, roots)
    missing = InvalidInput(
        f"{field} {shown(text)!r} does not exist in the export or import roots", field=field
    )
    configured = [*settings.JOBCENTER_EXPORT_ROOTS, *settings.JOBCENTER_IMPORT_ROOTS]
    candidate = Path(text)
    candidates = [candidate] if candidate.is_absolute() else [root / candidate for root in roots]
    for each in candidates:
        _text_problem(str(each), field, roots)
        if not inside_roots(Path(os.path.normpath(each)), _spellings(roots, configured)):
            continue
        export_fetch(Path(os.path.normpath(each)))  # a backup another machine wrote
        try:
            resolved = each.resolve(strict=True)
        except (OSError, RuntimeError, ValueError):
            continue
        if not inside_roots(resolved, roots):
            continue
        if not resolved.is_file():
            raise InvalidInput(f"{field} {shown(text)!r} is not a file", field=field)
        return resolved
    raise missing
