"""Errors of the graph engine that more than one of its modules raises (no Django here)."""

from __future__ import annotations


class PlanError(ValueError):
    """A request or schema that cannot become a plan; the message names what is wrong."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
