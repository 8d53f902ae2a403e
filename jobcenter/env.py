"""Typed readers for settings that come from the environment."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from django.core.exceptions import ImproperlyConfigured


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


_N = TypeVar("_N", int, float)
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def env_bool(name: str, default: bool = False, *, strict: bool = True) -> bool:
    """On or off; any other word stops the start (``JOBCENTER_TLS=ture`` was off, silently),
    but for a name other programs use too (``strict=False``: any other word is off)."""
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    word = value.strip().lower()
    if strict and word not in _TRUE | _FALSE:
        raise ImproperlyConfigured(
            f"{name} must be one of 1, true, yes, on or 0, false, no, off, not {value!r}"
        )
    return word in _TRUE


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    """A whole number (underscores allowed: ``10_000_000``); a value that is not one, or is
    under ``minimum``, stops the start with an error that names the variable."""
    return _env_number(name, default, int, "a whole number", minimum)


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    """A number (``0.5``, ``1e3``), finite, checked as :func:`env_int` checks its."""
    return _env_number(name, default, float, "a number", minimum)


def _env_number(
    name: str, default: _N, parse: Callable[[str], _N], kind: str, minimum: _N | None
) -> _N:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = parse(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be {kind}, not {value!r}") from None
    if not math.isfinite(number) or (minimum is not None and number < minimum):
        least = f"at least {minimum:g}" if minimum is not None else "finite"
        raise ImproperlyConfigured(f"{name} must be {least}, not {value.strip()}")
    return number


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
