"""Text every database we support can store."""

from __future__ import annotations

import re

# NUL cannot be stored in PostgreSQL text (nor in jsonb), lone surrogates cannot be encoded as
# UTF-8 by either database: such strings would otherwise fail deep in a query with a 500.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> bool:
    """Whether ``text`` can be stored and compared in every database we support."""
    return _UNSTORABLE.search(text) is None
