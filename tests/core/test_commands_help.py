"""``manage.py <command> --help`` of every management command we ship, and of each of their
subcommands (``jobs submit-import --help``...): exit 0 with a usage and a description, as an
operator first meets them (through ``manage.py``'s own entry point, in this process)."""

from __future__ import annotations

import argparse
import io
from contextlib import redirect_stderr, redirect_stdout

import pytest
from django.core.management import ManagementUtility, get_commands, load_command_class


def ours() -> list[str]:
    """Our commands (by the app that provides them: ``db_worker`` is our wrapper)."""
    return sorted(name for name, app in get_commands().items() if app.startswith("jobcenter."))


def _walk(parser: argparse.ArgumentParser, prefix: list[str]) -> list[list[str]]:
    found = [prefix]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _walk(sub, [*prefix, name])
    return found


def invocations() -> list[list[str]]:
    """``[command, subcommand...]`` for every command and every subcommand it has."""
    found: list[list[str]] = []
    for name in ours():
        command = load_command_class(get_commands()[name], name)
        found += _walk(command.create_parser("manage.py", name), [name])
    return found


def test_the_commands_we_ship_are_all_found():
    # A guard against the discovery finding nothing (and the test below passing vacuously).
    names = set(ours())
    assert {"jobs", "db_worker", "recover_jobs", "purge_results"} <= names
    assert {"bootstrap", "serve", "access_keys"} <= names
    subs = {tuple(argv) for argv in invocations()}
    assert {("jobs", "submit-import"), ("jobs", "list"), ("jobs", "show")} <= subs


@pytest.mark.parametrize("argv", invocations(), ids=" ".join)
def test_help(argv):
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err), pytest.raises(SystemExit) as info:
        ManagementUtility(["manage.py", *argv, "--help"]).execute()
    assert info.value.code in (0, None), err.getvalue()
    text = out.getvalue()
    assert text.startswith(f"usage: manage.py {' '.join(argv)}"), text[:300]
    assert "\noptions:\n  -h, --help" in text, text  # more than a usage line
