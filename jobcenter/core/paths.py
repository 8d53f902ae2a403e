"""Reading files only from configured roots.

Every path a user names is resolved (symlinks included) and must land inside one of the import
roots (``JOBCENTER_IMPORT_ROOTS``) or, for a project, inside that project's own upload folder;
anything else is refused before a job exists.

- A relative path is looked up in the roots in order (the first root holding it wins), so the
  roots read as one tree; an absolute path must lie inside one of them.
- A path outside the roots and a path that does not exist get the same answer ("does not exist
  in the import roots"): the answer never tells whether a file exists elsewhere on the server.
- Messages and the paths shown for a job's files are relative to their root, never server paths.
- A path that cannot name a file at all (a NUL, an unpaired surrogate, a name longer than the
  file system allows, a path longer than ``PATH_MAX``) is refused with what is wrong.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from django.conf import settings

from jobcenter.core.errors import PlanError

NAME_MAX = 255  # bytes per name, when the file system does not say
PATH_MAX = 4096  # bytes per path (with its terminating NUL), when the file system does not say
SHOWN_MAX = 120  # characters of a user's path repeated in a message

# Errors that mean "there is nothing there" (a missing part, or a file used as a folder).
_MISSING = {errno.ENOENT, errno.ENOTDIR}


def fs_limits(path: Path) -> tuple[int, int]:
    """``(NAME_MAX, PATH_MAX)`` of the file system holding ``path`` (or its nearest existing
    parent), in bytes; the POSIX defaults when it cannot be asked."""
    probe = path
    try:
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        return (
            int(os.pathconf(probe, "PC_NAME_MAX")),
            int(os.pathconf(probe, "PC_PATH_MAX")),
        )
    except (OSError, ValueError):
        return NAME_MAX, PATH_MAX


def path_problem(text: str, *, name_max: int = NAME_MAX, path_max: int = PATH_MAX) -> str | None:
    """Why ``text`` cannot name a file on this server (in words, to follow the path in a
    message), or None. Looks at the text only, never at the file system."""
    if "\x00" in text:
        return "is not a valid path (it contains a NUL character)"
    try:
        encoded = os.fsencode(text)
    except UnicodeError:
        return "is not a valid path (it contains unpaired surrogates)"
    longest = max(len(part) for part in encoded.split(b"/"))
    if longest > name_max:
        return (
            f"has a name of {longest} bytes; the file system allows at most {name_max} bytes "
            "per file or folder name"
        )
    if len(encoded) >= path_max:
        return f"is {len(encoded)} bytes long; a path may have at most {path_max - 1} bytes"
    return None


def shown(text: str) -> str:
    """A user's path as repeated in a message: at most SHOWN_MAX characters."""
    if len(text) <= SHOWN_MAX:
        return text
    half = SHOWN_MAX // 2 - 1
    return f"{text[:half]}…{text[-half:]}"


def inside_roots(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


def import_roots() -> list[Path]:
    return [Path(r).resolve() for r in settings.JOBCENTER_IMPORT_ROOTS]


def allowed_roots(project_id: Any = None) -> list[Path]:
    """The import roots, and the project's upload folder when a project is given. The upload
    directory as a whole is nobody's root: one project never reads another's uploads."""
    from jobcenter.core.uploads import upload_root

    roots = import_roots()
    if project_id is not None:
        roots.append(upload_root(project_id).resolve())
    return roots


def relative_to_roots(path: Path, roots: Sequence[Path]) -> str | None:
    """``path`` (resolved) relative to the first root holding it, or None."""
    for root in roots:
        if path == root:
            return "."
        if path.is_relative_to(root):
            return path.relative_to(root).as_posix()
    return None


class RootedResolver:
    """A :class:`~jobcenter.graphs.plan.PathResolver` bound to a set of roots."""

    def __init__(self, roots: Sequence[Path] | None = None) -> None:
        configured = list(roots) if roots is not None else settings.JOBCENTER_IMPORT_ROOTS
        self.roots = [Path(r).resolve() for r in configured]
        # As configured, too: an absolute path may spell a root through a symbolic link.
        self.spellings = [*self.roots, *(Path(os.path.abspath(r)) for r in configured)]

    @classmethod
    def for_project(cls, project_id: Any) -> RootedResolver:
        """The import roots and the project's own uploads."""
        return cls(allowed_roots(project_id))

    # --- what users see ---------------------------------------------------------------------

    def display(self, path: Path) -> str:
        """A resolved path as shown to users: relative to its root."""
        return relative_to_roots(path, self.roots) or path.name

    def shown(self, raw: str) -> str:
        """What the user wrote, for a message: relative to its root when it is an absolute
        path inside one (no server path is ever repeated), else as written."""
        if os.path.isabs(raw):
            lexical = Path(os.path.normpath(raw))
            for root in self.spellings:
                if lexical.is_relative_to(root):
                    return shown(lexical.relative_to(root).as_posix() or ".")
        return shown(raw)

    def missing(self, raw: str) -> PlanError:
        return PlanError(f"file {self.shown(raw)!r} does not exist in the import roots")

    # --- resolving --------------------------------------------------------------------------

    def __call__(self, raw: str, *, base: str | None = None, allow_dir: bool = False) -> list[Path]:
        if not isinstance(raw, str) or not raw.strip():
            raise PlanError("a file path is required")
        self.check_text(raw)
        if base and not os.path.isabs(raw):  # an absolute path needs no base
            self.check_text(base)
            folder = self.locate(base, allow_dir=True)
            if not folder.is_dir():
                raise PlanError(f"path {self.shown(base)!r} is not a directory")
            resolved = self.check(folder / raw, original=raw, allow_dir=allow_dir)
        else:
            resolved = self.locate(raw, allow_dir=allow_dir)
        if resolved.is_dir():
            try:
                entries = sorted(resolved.iterdir())
                files = [p for p in entries if not p.name.startswith(".") and p.is_file()]
            except OSError as exc:
                raise PlanError(
                    f"directory {self.shown(raw)!r} cannot be read ({exc.strerror})"
                ) from None
            files = [self.check(p, original=self.display(p), allow_dir=False) for p in files]
            if not files:
                raise PlanError(f"directory {self.shown(raw)!r} holds no files")
            return files
        return [resolved]

    def check_text(self, raw: str) -> None:
        """Refuse a path that cannot name a file at all, before touching the file system."""
        if problem := path_problem(raw, name_max=self.name_max):
            raise PlanError(f"path {self.shown(raw)!r} {problem}")

    @cached_property
    def name_max(self) -> int:
        return min((fs_limits(root)[0] for root in self.roots), default=NAME_MAX)

    def locate(self, raw: str, *, allow_dir: bool) -> Path:
        """An absolute path checked as it is; a relative one looked up in each root in turn."""
        candidate = Path(raw)
        if candidate.is_absolute():
            return self.check(candidate, original=raw, allow_dir=allow_dir)
        for root in self.roots:
            try:
                return self.check(root / candidate, original=raw, allow_dir=allow_dir)
            except _Missing:
                continue
        raise self.missing(raw)

    def check(self, path: Path, *, original: str, allow_dir: bool) -> Path:
        """The resolved ``path``, which must be a readable file (or, with ``allow_dir``, a
        directory) inside the roots; PlanError saying what is wrong otherwise."""
        if problem := path_problem(str(path), name_max=self.name_max):
            # Joined to a root, the path became too long: still a property of the text.
            raise PlanError(f"path {self.shown(original)!r} {problem}")
        lexical = Path(os.path.normpath(path))
        within = inside_roots(lexical, self.spellings)
        try:
            resolved = path.resolve(strict=True)
        except OSError as exc:
            if not within or exc.errno in _MISSING:
                raise _Missing(self.missing(original).message) from None
            raise PlanError(
                f"file {self.shown(original)!r} cannot be read ({exc.strerror})"
            ) from None
        except (RuntimeError, ValueError):  # a symbolic link loop; an encoding problem
            raise _Missing(self.missing(original).message) from None
        if not inside_roots(resolved, self.roots):  # outside, or a symlink leading out
            raise _Missing(self.missing(original).message)
        if resolved.is_dir():
            if not allow_dir:
                raise PlanError(f"path {self.shown(original)!r} is a directory, a file is expected")
            return resolved
        if not resolved.is_file():
            raise PlanError(f"path {self.shown(original)!r} is not a regular file")
        if not os.access(resolved, os.R_OK):
            raise PlanError(f"file {self.shown(original)!r} is not readable")
        return resolved


class _Missing(PlanError):
    """Nothing (the user may see) is there: looked for in the next root, if any."""


# --- dashboard additions (jobcenter.dashboard) ------------------------------------------------


@dataclass(frozen=True)
class BrowseEntry:
    name: str
    path: str  # relative to the import roots, as an import names it
    is_dir: bool
    size: int | None
    modified: float


@dataclass(frozen=True)
class BrowseListing:
    """One directory of the import roots (``path`` is None: their top level)."""

    path: str | None
    parent: str | None  # None: the parent is the top level
    entries: list[BrowseEntry]
    truncated: bool


BROWSE_MAX_ENTRIES = 500


def import_roots_browse(path: str | None = None) -> BrowseListing:
    """What a user may pick as server-side import files. The import roots read as one tree
    (as a relative path is resolved: the first root holding a name wins): ``path`` names a
    directory of it (relative, or absolute inside a root); sub-directories come first, then
    files; hidden names are left out. Upload folders are not offered. Raises PlanError for a
    path that is not a directory of the roots."""
    resolver = RootedResolver(import_roots())
    relative = ""
    if path:
        resolver.check_text(path)
        try:
            directory = resolver.locate(path, allow_dir=True)
        except _Missing:
            raise PlanError(
                f"folder {resolver.shown(path)!r} does not exist in the import roots"
            ) from None
        if not directory.is_dir():
            raise PlanError(f"path {resolver.shown(path)!r} is not a directory")
        relative = resolver.display(directory)
        relative = "" if relative == "." else relative
    folders: list[Path] = []
    for root in resolver.roots:
        try:
            folder = (root / relative).resolve(strict=True) if relative else root
            if folder.is_dir() and inside_roots(folder, resolver.roots):
                folders.append(folder)
        except (OSError, RuntimeError):
            continue
    entries: dict[str, BrowseEntry] = {}
    truncated = False
    for folder in folders:
        try:
            children = sorted(folder.iterdir(), key=lambda p: p.name)
        except OSError as exc:
            if folder is folders[0]:
                raise PlanError(
                    f"directory {shown(relative)!r} cannot be read ({exc.strerror})"
                ) from None
            continue
        for child in children:
            if child.name.startswith(".") or child.name in entries:
                continue
            try:
                resolved = child.resolve(strict=True)
                stat = resolved.stat()
            except (OSError, RuntimeError):
                continue
            if not inside_roots(resolved, resolver.roots):  # a symlink leading out of the roots
                continue
            if len(entries) >= BROWSE_MAX_ENTRIES:
                truncated = True
                break
            is_dir = resolved.is_dir()
            entries[child.name] = BrowseEntry(
                name=child.name,
                path=f"{relative}/{child.name}" if relative else child.name,
                is_dir=is_dir,
                size=None if is_dir else stat.st_size,
                modified=stat.st_mtime,
            )
    ordered = sorted(entries.values(), key=lambda e: (not e.is_dir, e.name.lower()))
    if not relative:
        return BrowseListing(path=None, parent=None, entries=ordered, truncated=truncated)
    parent = relative.rpartition("/")[0] or None
    return BrowseListing(path=relative, parent=parent, entries=ordered, truncated=truncated)
