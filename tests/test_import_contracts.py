"""The layer rules of pyproject.toml's [tool.importlinter] hold (docs/architecture.md): faces never
import each other, faces over the job core over graphs and credentials over projects over core,
the graph engine imports no Django, no face nor job module names a graph store backend, no import
cycles inside an app."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CONTRACTS = ("faces-independent", "layers", "engine-no-django", "store-backends", "no-cycles")


def test_every_import_contract_is_kept():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint_imports), "--no-cache"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in done.stdout, done.stdout


def test_the_contracts_are_the_ones_written_down():
    import tomllib

    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    assert tuple(c["id"] for c in config["contracts"]) == CONTRACTS
