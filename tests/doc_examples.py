"""Runs a documentation page's examples, as its readers would, and checks what they print.

A page's ``sh`` blocks run in order, in one bash session, against a live server (pytest-django's
live_server) with a real worker; what each block prints must match the ``json`` or ``text``
block that follows it on the page. ``JC``, ``IMPORTS``, ``DATA`` and ``PASSWORD`` are set in the
environment (a page's set-up block keeps them: ``${JC:-...}``); the server's address in the
output is compared as ``http://127.0.0.1:8000``; in an expected block ``…`` matches anything.
Blocks shown as ``console`` are not run. Used by tests/api/test_docs.py (docs/api.md) and
tests/compat/test_docs.py (docs/compat.md).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from django.conf import settings

from tests.conftest import REPO

DOC_BASE = "http://127.0.0.1:8000"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.M | re.S)


def examples(text: str) -> list[tuple[str, str | None, str | None]]:
    """``(script, expected language, expected output)`` for every sh block, in page order."""
    blocks = [(m.group(1), m.group(2)) for m in FENCE.finditer(text)]
    out: list[tuple[str, str | None, str | None]] = []
    for i, (lang, body) in enumerate(blocks):
        if lang != "sh":
            continue
        following = blocks[i + 1] if i + 1 < len(blocks) else ("", "")
        if following[0] in ("json", "text"):
            out.append((body, following[0], following[1]))
        else:
            out.append((body, None, None))
    return out


def matches(expected: Any, actual: Any) -> bool:
    """``expected`` (from the page) against ``actual``: same keys, same lengths, equal values,
    where a string containing ``…`` is a pattern (``…`` standing for anything)."""
    if isinstance(expected, str) and "…" in expected:
        if not isinstance(actual, str):
            return True  # e.g. an id shown as "…"
        pattern = ".*".join(re.escape(part) for part in expected.split("…"))
        return re.fullmatch(pattern, actual, re.S) is not None
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and set(expected) == set(actual)
            and all(matches(expected[k], actual[k]) for k in expected)
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(matches(e, a) for e, a in zip(expected, actual, strict=True))
        )
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return expected == actual  # jq writes 100.0 as 100
    return type(expected) is type(actual) and expected == actual


def check_output(lang: str, expected: str, actual: str) -> None:
    if lang == "json":
        assert matches(json.loads(expected), json.loads(actual)), actual
    else:
        want = expected.strip("\n").splitlines()
        got = actual.strip("\n").splitlines()
        assert len(want) == len(got) and all(
            matches(w, g) if "…" in w else w == g for w, g in zip(want, got, strict=True)
        ), actual


def run_page(doc: Path, *, server_url: str, password: str) -> None:
    """Run every sh block of ``doc`` against ``server_url`` and check what each prints."""
    found = examples(doc.read_text())
    script = ["set -euo pipefail"]
    for i, (body, _, _) in enumerate(found):
        script += [f"printf '\\n@@@ {i} @@@\\n'", body.rstrip("\n")]
    script.append("printf '\\n@@@ end @@@\\n'")
    env = {
        **os.environ,
        "JC": server_url,
        "IMPORTS": str(settings.IMPORTS_DIR),
        "DATA": str(settings.SHARED_DATA),
        "PASSWORD": password,
    }
    Path(settings.IMPORTS_DIR).mkdir(parents=True, exist_ok=True)
    run = subprocess.run(
        [shutil.which("bash") or "/bin/bash", "-c", "\n".join(script)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = run.stdout.replace(server_url, DOC_BASE)
    parts = re.split(r"^@@@ (\d+|end) @@@\n", output, flags=re.M)
    printed = {parts[k]: parts[k + 1] for k in range(1, len(parts) - 1, 2)}
    for i, (body, lang, expected) in enumerate(found):
        assert str(i) in printed, (
            f"{doc.name}: block {i} did not run; the one before failed:\n{found[i - 1][0]}\n"
            f"stderr:\n{run.stderr[-3000:]}"
        )
        if lang is not None:
            try:
                check_output(lang, expected, printed[str(i)])
            except (AssertionError, ValueError) as exc:
                raise AssertionError(
                    f"{doc.name}: block {i} printed something else than the page says.\n"
                    f"--- block:\n{body}\n--- printed:\n{printed[str(i)]}\n--- page:\n{expected}"
                ) from exc
    assert run.returncode == 0 and "end" in printed, run.stderr[-3000:]
