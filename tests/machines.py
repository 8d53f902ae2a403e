"""Several machines played on one: each with its own local directories, sharing only the
shared storage (jobcenter.core.shared), which is either a directory they all mount
(FileSystemStorage) or a storage with no local path (tests/core/remote_storage.py, as S3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

STORAGE_KINDS = ("directory", "remote")


def shared_storage_setting(kind: str, location: Path) -> dict[str, Any]:
    backend = {
        "directory": "django.core.files.storage.FileSystemStorage",
        "remote": "tests.core.remote_storage.RemoteStorage",
    }[kind]
    return {"BACKEND": backend, "OPTIONS": {"location": str(location)}}


def shared_storage_env(kind: str, location: Path) -> dict[str, str]:
    """The environment of a worker process using that shared storage."""
    import json

    setting = shared_storage_setting(kind, location)
    return {
        "JOBCENTER_SHARED_STORAGE": setting["BACKEND"],
        "JOBCENTER_SHARED_STORAGE_OPTIONS": json.dumps(setting["OPTIONS"]),
    }


class Machines:
    """Switches this process (the pytest-django ``settings`` fixture) between machines: each
    has its own result and upload directories under ``base``; all share ``shared``."""

    def __init__(self, settings: Any, base: Path, kind: str) -> None:
        self.settings = settings
        self.base = base
        self.kind = kind
        self.shared = base / "shared"
        settings.STORAGES = {
            **settings.STORAGES,
            "jobcenter": shared_storage_setting(kind, self.shared),
        }

    def data_dir(self, name: str) -> Path:
        return self.base / name

    def on(self, name: str) -> Path:
        """Act as machine ``name`` from now on; returns its data directory."""
        data = self.data_dir(name)
        self.settings.JOBCENTER_RESULT_DIR = data / "results"
        self.settings.JOBCENTER_UPLOAD_DIR = data / "uploads"
        return data


def worker_env(settings: Any, data_dir: Path, kind: str, shared: Path) -> dict[str, str]:
    """The environment of a worker process playing another machine: a data directory of its
    own (graphs, results, uploads), the test's job database and import root, and the shared
    storage."""
    return {
        "JOBCENTER_DATA_DIR": str(data_dir),
        "JOBCENTER_TEST_SQLITE": str(Path(settings.DATA_DIR) / "test.sqlite3"),
        "JOBCENTER_TEST_IMPORTS_DIR": str(settings.IMPORTS_DIR),
        **shared_storage_env(kind, shared),
    }
