"""Paths at and beyond the file system's limits, in the code every face goes through: the import
resolver, the export target and the backup source. A name the file system takes is accepted; a
longer one, a path over PATH_MAX, or one that cannot be encoded is a clear error naming what is
wrong (never an OSError), and no message repeats a server path or a 5000-byte name."""

from __future__ import annotations

import os
import sqlite3

import pytest

from jobcenter.core.errors import InvalidInput
from jobcenter.core.exports import backup_source, export_target
from jobcenter.core.paths import RootedResolver
from jobcenter.graphs.plan import PlanError
from jobcenter.graphs.stores.base import NotABackup
from jobcenter.graphs.stores.factory import inspect_backup
from tests.names import FITS, SIZES, deep_path, name_of

MAX_MESSAGE = 400  # characters: a message quotes a long path shortened


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    return root


@pytest.fixture
def export_root(tmp_path, settings):
    root = tmp_path / "exports"
    root.mkdir()
    settings.JOBCENTER_EXPORT_ROOTS = [root]
    return root


def assert_clear(message: str, *server_paths: object) -> None:
    assert len(message) <= MAX_MESSAGE, message
    for path in server_paths:
        assert str(path) not in message, message


@pytest.mark.parametrize("size", SIZES)
def test_the_import_resolver_takes_every_name_the_file_system_takes(root, size):
    name = name_of(size, suffix=".csv")
    resolve = RootedResolver([root])
    if size in FITS:
        (root / name).write_text("a,user\n")
        assert resolve(name) == [root / name]
        assert resolve(str(root / name)) == [root / name]
        assert resolve.display(root / name) == name
        return
    for raw in (name, str(root / name), f"dir/{name}"):
        with pytest.raises(PlanError, match=f"has a name of {size} bytes") as info:
            resolve(raw)
        assert_clear(info.value.message, root)
        assert "at most 255 bytes" in info.value.message


def test_the_import_resolver_refuses_a_path_over_path_max_and_odd_text(root):
    resolve = RootedResolver([root])
    with pytest.raises(PlanError, match="a path may have at most 4095 bytes") as info:
        resolve(deep_path(5000))
    assert_clear(info.value.message, root)
    # within PATH_MAX as written, beyond it once joined to the root
    with pytest.raises(PlanError, match="a path may have at most 4095 bytes"):
        resolve(deep_path(4095 - len(os.fsencode(str(root))) + 10))
    with pytest.raises(PlanError, match="unpaired surrogates"):
        resolve("\ud800.csv")
    with pytest.raises(PlanError, match="NUL"):
        resolve("a\x00b.csv", base=str(root))
    with pytest.raises(PlanError, match="unpaired surrogates"):
        resolve("a.csv", base="\udfff")


def test_a_directory_of_long_names_is_read(root):
    folder = root / name_of(255)
    folder.mkdir()
    for size in (200, 255):
        (folder / name_of(size)).write_text("a,user\n")
    files = RootedResolver([root])(folder.name, allow_dir=True)
    assert len(files) == 2 and all(len(os.fsencode(f.name)) in (200, 255) for f in files)


@pytest.mark.parametrize("size", SIZES)
def test_export_targets_of_every_size(export_root, size):
    name = name_of(size, suffix=".csv")
    if size in FITS:
        assert export_target(name, field="path") == export_root / name
        assert export_target(f"sub/{name}", field="path") == export_root / "sub" / name
        return
    for raw in (name, str(export_root / name), f"sub/{name}", f"{name}/x.csv"):
        with pytest.raises(InvalidInput) as info:
            export_target(raw, field="path")
        assert info.value.field == "path" and f"has a name of {size} bytes" in info.value.message
        assert_clear(info.value.message, export_root)


def test_export_targets_that_cannot_be_used(export_root):
    (export_root / "taken.csv").write_text("x\n")
    cases = {
        "\ud800.csv": "unpaired surrogates",
        "a\x00.csv": "NUL",
        "taken.csv/x.csv": "goes through a file",
        "taken.csv": "already exists",
        "/etc/x.csv": "outside the export roots",
        "../x.csv": "outside the export roots",
    }
    for raw, fragment in cases.items():
        with pytest.raises(InvalidInput) as info:
            export_target(raw, field="path")
        assert info.value.field == "path" and fragment in info.value.message, raw
        assert_clear(info.value.message, export_root)


@pytest.mark.parametrize("size", SIZES)
def test_backup_sources_of_every_size(export_root, size):
    name = name_of(size, suffix=".db")
    if size in FITS:
        (export_root / name).write_bytes(b"")
        assert backup_source(name, field="path") == export_root / name
        return
    with pytest.raises(InvalidInput) as info:
        backup_source(name, field="path")
    assert info.value.field == "path" and f"has a name of {size} bytes" in info.value.message
    assert_clear(info.value.message, export_root)


@pytest.mark.parametrize("name", ["a?b.db", "a#b.db", "100%25.db", "x%.db", name_of(240)])
def test_backups_whose_names_look_like_uri_syntax_are_read(tmp_path, name):
    path = tmp_path / name
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE vertex (x)")
    conn.close()
    decoy = tmp_path / "a"  # what "file:.../a?b.db" would open
    decoy.write_bytes(b"not a database")
    with pytest.raises(NotABackup, match="tables are missing"):
        inspect_backup(path)
