"""Uploads for the request-shaping tests: files as a request carries them, and an
:class:`~jobcenter.graphs.formats.common.UploadStore` keeping them in a folder (the app's own
store, jobs.kinds.imports.ProjectUploads, is used through the faces)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Sent:
    """A file sent with a request."""

    name: str | None
    data: bytes = b""


class FolderStore:
    """Each call stores its files in a new numbered folder under ``root``, as ``part-name``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.calls: list[str] = []

    def store(self, files: Sequence[Sent], part: str) -> list[str]:
        self.calls.append(part)
        folder = self.root / str(len(self.calls))
        folder.mkdir(parents=True)
        paths = []
        for i, sent in enumerate(files):
            target = folder / f"{part}_{i}-{self.name(sent.name or '')}"
            target.write_bytes(sent.data)
            paths.append(target.relative_to(self.root).as_posix())
        return paths

    def name(self, raw: str) -> str:
        return Path(raw).name
