"""No answer tells whether a file exists outside the roots: a path outside them and a path that
exists nowhere get the same words, in the import resolver, the backup source of a restore, the
export target and the file browser. Messages name paths relative to a root, as written, or
not at all: never a root's server path."""

from __future__ import annotations

import pytest

from jobcenter.core.errors import InvalidInput
from jobcenter.core.exports import backup_source, export_target
from jobcenter.core.paths import RootedResolver, import_roots_browse
from jobcenter.graphs.plan import PlanError


@pytest.fixture
def roots(tmp_path, settings):
    imports, exports, outside = tmp_path / "imports", tmp_path / "exports", tmp_path / "outside"
    for folder in (imports, exports, outside):
        folder.mkdir()
    (imports / "ges_movie").mkdir()
    (imports / "ges_movie" / "vertex.csv").write_text("a,user\n")
    (outside / "secret.csv").write_text("secret\n")
    (outside / "folder").mkdir()
    (imports / "link.csv").symlink_to(outside / "secret.csv")
    settings.JOBCENTER_IMPORT_ROOTS = [imports]
    settings.JOBCENTER_EXPORT_ROOTS = [exports]
    return {"imports": imports, "exports": exports, "outside": outside}


def same_answer(call, existing: str, missing: str) -> str:
    """The messages for ``existing`` (outside the roots) and ``missing`` (nowhere), each with
    its path replaced: they must be equal."""
    answers = []
    for path in (existing, missing):
        with pytest.raises((PlanError, InvalidInput)) as info:
            call(path)
        answers.append(info.value.message.replace(path, "PATH"))
    assert answers[0] == answers[1], answers
    return answers[0]


def test_import_paths(roots):
    resolve = RootedResolver()
    outside = roots["outside"]
    for existing, missing in [
        (str(outside / "secret.csv"), str(outside / "nothing.csv")),
        (str(outside / "folder"), str(outside / "nothing")),
        ("../outside/secret.csv", "../outside/nothing.csv"),
        ("link.csv", "nolink.csv"),  # a symlink leading out is as good as missing
    ]:
        message = same_answer(lambda p: resolve(p, allow_dir=True), existing, missing)
        assert message == "file 'PATH' does not exist in the import roots"
    # relative to the base of a GraphScope mapping's location
    message = same_answer(
        lambda p: resolve("x.csv", base=p), str(outside / "folder"), str(outside / "nothing")
    )
    assert message == "file 'PATH' does not exist in the import roots"


def test_messages_show_paths_relative_to_their_root(roots):
    resolve = RootedResolver()
    imports = roots["imports"]
    with pytest.raises(PlanError) as info:
        resolve(str(imports / "ges_movie" / "edge.csv"))
    assert info.value.message == "file 'ges_movie/edge.csv' does not exist in the import roots"
    with pytest.raises(PlanError) as info:
        resolve(str(imports / "ges_movie"))
    assert info.value.message == "path 'ges_movie' is a directory, a file is expected"
    (imports / "empty").mkdir()
    with pytest.raises(PlanError) as info:
        resolve(str(imports / "empty"), allow_dir=True)
    assert info.value.message == "directory 'empty' holds no files"
    assert resolve.display(resolve("ges_movie/vertex.csv")[0]) == "ges_movie/vertex.csv"


def test_backup_sources(roots):
    outside = roots["outside"]
    message = same_answer(
        lambda p: backup_source(p, field="path"),
        str(outside / "secret.csv"),
        str(outside / "nothing.csv"),
    )
    assert message == "path 'PATH' does not exist in the export or import roots"
    (roots["exports"] / "sub").mkdir()
    with pytest.raises(InvalidInput) as info:
        backup_source("sub", field="path")
    assert info.value.message == "path 'sub' is not a file"


def test_export_targets(roots):
    outside = roots["outside"]
    message = same_answer(
        lambda p: export_target(p, field="path"),
        str(outside / "secret.csv"),
        str(outside / "nothing" / "x.csv"),
    )
    assert message == "path 'PATH' is outside the export roots"
    assert str(roots["exports"]) not in message


def test_the_file_browser(roots):
    outside = roots["outside"]
    message = same_answer(import_roots_browse, str(outside / "folder"), str(outside / "nothing"))
    assert message == "folder 'PATH' does not exist in the import roots"
    listing = import_roots_browse(None)
    assert [(e.name, e.path) for e in listing.entries] == [("ges_movie", "ges_movie")]
    inside = import_roots_browse("ges_movie")
    assert inside.path == "ges_movie" and inside.parent is None
    assert [e.path for e in inside.entries] == ["ges_movie/vertex.csv"]
    assert import_roots_browse(str(roots["imports"] / "ges_movie")) == inside
