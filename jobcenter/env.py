"""Typed readers for settings that come from the environment."""

from __future__ import annotations

import os
from pathlib import Path


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def env_list(name: str, default: list[str], sep: str = ",") -> list[str]:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return [item.strip() for item in value.split(sep) if item.strip()]


def env_paths(name: str, default: list[Path]) -> list[Path]:
    """A ``os.pathsep``-separated list of directories (like PATH)."""
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return [Path(p).expanduser() for p in value.split(os.pathsep) if p.strip()]
