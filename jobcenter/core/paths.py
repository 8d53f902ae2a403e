"""Reading files only from configured roots.

Every path a user names is resolved (symlinks included) and must land inside one of the import
roots or the upload directory; anything else is refused before a job exists.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from django.conf import settings

from jobcenter.graphs.plan import PlanError


def allowed_roots() -> list[Path]:
    roots = [*settings.JOBCENTER_IMPORT_ROOTS, settings.JOBCENTER_UPLOAD_DIR]
    return [Path(r).resolve() for r in roots]


def _inside(path: Path, roots: Sequence[Path]) -> bool:
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
        try:
            resolved = path.resolve(strict=True)
        except FileNotFoundError:
            raise PlanError(f"file {original!r} does not exist") from None
        except (OSError, RuntimeError) as exc:
            raise PlanError(f"file {original!r} cannot be resolved: {exc}") from None
        if not _inside(resolved, self.roots):
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
