from __future__ import annotations

import os

import pytest

from jobcenter.core.paths import RootedResolver
from jobcenter.graphs.plan import PlanError


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "a.csv").write_text("x\n")
    (root / "dir").mkdir()
    (root / "dir" / "b.csv").write_text("y\n")
    (root / "dir" / "c.csv").write_text("z\n")
    return root


def test_file_inside_root_resolves(root):
    assert RootedResolver([root])(str(root / "a.csv")) == [root / "a.csv"]


def test_relative_path_is_taken_from_the_base(root):
    assert RootedResolver([root])("b.csv", base=str(root / "dir")) == [root / "dir" / "b.csv"]


def test_directory_yields_its_files_sorted(root):
    files = RootedResolver([root])(str(root / "dir"), allow_dir=True)
    assert [f.name for f in files] == ["b.csv", "c.csv"]


def test_directory_not_allowed_where_a_file_is_expected(root):
    with pytest.raises(PlanError, match="is a directory"):
        RootedResolver([root])(str(root / "dir"))


@pytest.mark.parametrize("raw", ["/etc/passwd", "../outside.csv", "dir/../../outside.csv"])
def test_paths_outside_roots_are_rejected(root, raw):
    (root.parent / "outside.csv").write_text("secret\n")
    with pytest.raises(PlanError, match="does not exist in the import roots"):
        RootedResolver([root])(raw, base=str(root))


def test_symlink_escaping_the_root_is_rejected(root):
    secret = root.parent / "secret.csv"
    secret.write_text("secret\n")
    (root / "link.csv").symlink_to(secret)
    with pytest.raises(PlanError, match="does not exist in the import roots"):
        RootedResolver([root])(str(root / "link.csv"))


def test_missing_and_unreadable_files_are_rejected(root):
    with pytest.raises(PlanError, match="does not exist"):
        RootedResolver([root])(str(root / "nope.csv"))
    if os.geteuid() != 0:  # root reads everything
        (root / "a.csv").chmod(0)
        with pytest.raises(PlanError, match="not readable"):
            RootedResolver([root])(str(root / "a.csv"))


def test_base_outside_roots_is_rejected(root, tmp_path):
    with pytest.raises(PlanError, match="does not exist in the import roots"):
        RootedResolver([root])("a.csv", base=str(tmp_path))
