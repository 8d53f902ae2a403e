"""Runs inside the gs_interactive==0.3 virtualenv: validates JSON payloads with the SDK's own
(strict) models. stdin: {"model": "JobStatus", "items": [...]}; stdout: one error text or
null per item."""

from __future__ import annotations

import json
import sys

import gs_interactive.models as models


def main() -> None:
    spec = json.load(sys.stdin)
    model = getattr(models, spec["model"])
    errors = []
    for item in spec["items"]:
        try:
            model.from_dict(item)
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        else:
            errors.append(None)
    json.dump(errors, sys.stdout)


if __name__ == "__main__":
    main()
