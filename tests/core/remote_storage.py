"""A Django storage with no local path, as S3 and the other django-storages backends are:
Django's own FileSystemStorage behind the storage API only (``path()`` is not offered), so
that tests take the copying paths a remote storage takes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage


class RemoteStorage(Storage):
    def __init__(self, location: str) -> None:
        self.inner = FileSystemStorage(location=location)

    def _open(self, name: str, mode: str = "rb") -> File:
        return self.inner._open(name, mode)

    def _save(self, name: str, content: Any) -> str:
        return self.inner._save(name, content)

    def delete(self, name: str) -> None:
        self.inner.delete(name)

    def exists(self, name: str) -> bool:
        return self.inner.exists(name)

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        return self.inner.listdir(path)

    def size(self, name: str) -> int:
        return self.inner.size(name)

    def get_modified_time(self, name: str) -> datetime:
        return self.inner.get_modified_time(name)

    def url(self, name: str | None) -> str:
        raise NotImplementedError("no URLs")
