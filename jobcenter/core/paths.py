"""Reading files only from configured roots.

Every path a user names is resolved (symlinks included) and must land inside one of the import
roots or the upload directory; anything else is refused before a job exists.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from jobcenter.graphs.plan import PlanError


def allowed_roots() -> list[Path]:
    roots = [*settings.JOBCENTER_IMPORT_ROOTS, settings.JOBCENTER_UPLOAD_DIR]
    return [Path(r).resolve() for r in roots]


def inside_roots(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


class RootedResolver:
    """A :class:`~jobcenter.graphs.plan.PathResolver` bound to a set of roots."""

    def __init__(self, roots: Sequence[Path] | None = None) -> None:
        self.roots = [Path(r).resolve() for r in roots] if roots is not None else allowed_roots()

    def __call__(self, raw: str, *, base: str | None = None, allow_dir: bool = False) -> list[Path]:
        if not isinstance(raw, str) or not raw.strip():
            raise PlanError("a file path is required")
        if "\x00" in raw:
            raise PlanError("the path contains a NUL character")
        candidate = Path(raw).expanduser()
        if not candidate.is_absolute():
            if base:
                base_path = self.check(Path(base).expanduser(), original=base, allow_dir=True)
                candidate = base_path / candidate
            elif len(self.roots) >= 1:
                candidate = self.roots[0] / candidate
        resolved = self.check(candidate, original=raw, allow_dir=allow_dir)
        if resolved.is_dir():
            files = sorted(
                p for p in resolved.iterdir() if p.is_file() and not p.name.startswith(".")
            )
            files = [self.check(p, original=str(p), allow_dir=False) for p in files]
            if not files:
                raise PlanError(f"directory {raw!r} holds no files")
            return files
        return [resolved]

    def check(self, path: Path, *, original: str, allow_dir: bool) -> Path:
        if "\x00" in str(path):
            raise PlanError(f"path {original!r} is not a valid path (it contains a NUL character)")
        try:
            resolved = path.resolve(strict=True)
        except FileNotFoundError:
            raise PlanError(f"file {original!r} does not exist") from None
        except (OSError, RuntimeError, ValueError) as exc:  # ValueError: an embedded NUL
            raise PlanError(f"file {original!r} cannot be resolved: {exc}") from None
        if not inside_roots(resolved, self.roots):
            raise PlanError(
                f"path {original!r} is outside the import roots "
                f"({', '.join(str(r) for r in self.roots)})"
            )
        if resolved.is_dir():
            if not allow_dir:
                raise PlanError(f"path {original!r} is a directory, a file is expected")
            return resolved
        if not resolved.is_file():
            raise PlanError(f"path {original!r} is not a regular file")
        if not os.access(resolved, os.R_OK):
            raise PlanError(f"file {original!r} is not readable")
        return resolved


# --- dashboard additions (jobcenter.dashboard) ------------------------------------------------


@dataclass(frozen=True)
class BrowseEntry:
    name: str
    path: str
    is_dir: bool
    size: int | None
    modified: float


@dataclass(frozen=True)
class BrowseListing:
    """One directory under an import root (``path`` is None: the list of roots itself)."""

    path: str | None
    parent: str | None  # None at a root (go back to the list of roots)
    entries: list[BrowseEntry]
    truncated: bool


BROWSE_MAX_ENTRIES = 500


def import_roots_browse(path: str | None = None) -> BrowseListing:
    """What a user may pick as server-side import files: the import roots, or one directory
    inside them (sub-directories first, then files; hidden names left out). The upload
    directory is not offered: it holds other people's uploads. Raises PlanError for a path
    outside the import roots or one that is not a readable directory."""
    roots = [Path(r).resolve() for r in settings.JOBCENTER_IMPORT_ROOTS]
    if not path:
        entries = [
            BrowseEntry(name=str(root), path=str(root), is_dir=True, size=None, modified=0.0)
            for root in roots
            if root.is_dir()
        ]
        return BrowseListing(path=None, parent=None, entries=entries, truncated=False)
    resolver = RootedResolver(roots)
    directory = resolver.check(Path(path).expanduser(), original=path, allow_dir=True)
    if not directory.is_dir():
        raise PlanError(f"path {path!r} is not a directory")
    entries: list[BrowseEntry] = []
    truncated = False
    try:
        children = sorted(directory.iterdir(), key=lambda p: (not p.is_dir(), p.name.lower()))
    except OSError as exc:
        raise PlanError(f"directory {path!r} cannot be read: {exc.strerror}") from None
    for child in children:
        if child.name.startswith("."):
            continue
        try:
            resolved = child.resolve(strict=True)
            stat = resolved.stat()
        except (OSError, RuntimeError):
            continue
        if not inside_roots(resolved, roots):  # a symlink leading out of the roots
            continue
        if len(entries) >= BROWSE_MAX_ENTRIES:
            truncated = True
            break
        is_dir = resolved.is_dir()
        entries.append(
            BrowseEntry(
                name=child.name,
                path=str(directory / child.name),
                is_dir=is_dir,
                size=None if is_dir else stat.st_size,
                modified=stat.st_mtime,
            )
        )
    parent = None if directory in roots else str(directory.parent)
    return BrowseListing(path=str(directory), parent=parent, entries=entries, truncated=truncated)
