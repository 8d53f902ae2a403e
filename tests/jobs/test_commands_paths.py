"""``manage.py jobs submit-import`` with paths of 200 to 5000 bytes (multi-byte UTF-8) in each
option that names a file: server-side data (--schema, --vertices, --edges) and the caller's own
files (--mapping, --graph-definition). What the file system takes runs to the end of its job;
anything else is a CommandError saying what is wrong, never a traceback."""

from __future__ import annotations

import io
import json
import os
import re

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from jobcenter.core.ids import new_id
from jobcenter.core.uploads import upload_root
from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.models import Job
from jobcenter.jobs.runner import execute_job
from tests.factories.files import shared_data
from tests.factories.projects import user_create
from tests.names import FITS, SIZES, name_of

pytestmark = pytest.mark.django_db(transaction=True)

MOVIE = shared_data("ges_movie")
MODERN = shared_data("modern_graph")


def submit(*args: str) -> Job:
    out = io.StringIO()
    call_command("jobs", "submit-import", "--project", "alpha", *args, "--json", stdout=out)
    job = Job.objects.get(pk=json.loads(out.getvalue())["id"])
    execute_job(job_id=job.pk)
    return Job.objects.get(pk=job.pk)


@pytest.fixture
def root(project):
    return user_create("root", superuser=True)


@pytest.mark.parametrize("size", SIZES)
def test_ges_files(root, imports_dir, size, monkeypatch):
    monkeypatch.chdir(imports_dir)  # a relative path is read from the current directory
    name = name_of(size, suffix=".csv")
    if size in FITS:
        (imports_dir / name).write_bytes((MOVIE / "vertex.csv").read_bytes())
    args = ["--graph", f"g{size}", "--create-graph", "--format", "ges"]
    args += ["--schema", str(MOVIE / "schema.xml"), "--vertices", name]
    if size not in FITS:
        with pytest.raises(CommandError, match=f"vertexset_path: path .* has a name of {size}"):
            submit(*args)
        assert not Job.objects.exists()
        return
    job = submit(*args)
    assert job.status == JobStatus.PARTIALLY_FAILED, job.fail_reason  # 4 bad lines
    assert job.files.get(index=1).path == name


@pytest.mark.parametrize("size", SIZES)
def test_graphscope_mapping_and_definition(root, imports_dir, tmp_path, size):
    mapping = yaml.safe_load((MODERN / "bulk_load.yaml").read_text())
    mapping.pop("graph", None)
    mapping["loading_config"]["data_source"]["location"] = str(MODERN)
    mapping_file = imports_dir / name_of(size, suffix=".yaml")
    definition = tmp_path / name_of(size, suffix=".yaml")
    if size in FITS:
        mapping_file.write_text(yaml.safe_dump(mapping))
        definition.write_bytes((MODERN / "graph.yaml").read_bytes())
    args = ["--graph", f"m{size}", "--create-graph", "--format", "graphscope"]
    if size not in FITS:
        good = {
            "--mapping": str(MODERN / "bulk_load.yaml"),
            "--graph-definition": str(MODERN / "graph.yaml"),
        }
        for option, value in (("--mapping", mapping_file), ("--graph-definition", definition)):
            given = {**good, option: str(value)}
            with pytest.raises(CommandError, match=f"{option} .* has a name of {size} bytes"):
                submit(*args, *(part for pair in given.items() for part in pair))
        assert not Job.objects.exists()
        return
    job = submit(*args, "--mapping", str(mapping_file), "--graph-definition", str(definition))
    assert job.status == JobStatus.SUCCEEDED, job.fail_reason
    assert len(job.files.all()) == 4


def test_local_files_that_cannot_be_read(root, tmp_path):
    args = ["--graph", "m", "--create-graph", "--format", "graphscope"]
    (tmp_path / "folder.yaml").mkdir()
    cases = {
        str(tmp_path / "missing.yaml"): "cannot be read: No such file or directory",
        str(tmp_path / "folder.yaml"): "cannot be read: Is a directory",
        "\ud800.yaml": "unpaired surrogates",
    }
    for path, fragment in cases.items():
        with pytest.raises(CommandError, match=re.escape(fragment)):
            submit(*args, "--mapping", str(MODERN / "bulk_load.yaml"), "--graph-definition", path)
    assert not Job.objects.exists()


def test_relative_paths_are_read_from_the_current_directory(
    root, project, imports_dir, tmp_path, monkeypatch
):
    """As every command line reads them; still only inside an import root or the project's
    uploads, with the one answer for outside and missing, naming the path as typed."""
    (imports_dir / "movie" / "v").mkdir(parents=True)
    (imports_dir / "movie" / "schema.xml").write_bytes((MOVIE / "schema.xml").read_bytes())
    (imports_dir / "movie" / "v" / "vertex.csv").write_bytes((MOVIE / "vertex.csv").read_bytes())
    uploads = upload_root(project.pk) / new_id()
    uploads.mkdir(parents=True)
    (uploads / "v.csv").write_bytes((MOVIE / "vertex.csv").read_bytes())
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "v.csv").write_bytes((MOVIE / "vertex.csv").read_bytes())
    (imports_dir / "movie" / "out").symlink_to(outside)

    monkeypatch.chdir(imports_dir.parent)
    args = ["--graph", "movies", "--create-graph", "--format", "ges"]
    job = submit(*args, "--schema", "imports/movie/schema.xml", "--vertices", "imports/movie/v")
    assert job.status == JobStatus.PARTIALLY_FAILED, job.fail_reason  # 4 bad lines
    assert [f.path for f in job.files.order_by("index")] == [
        "movie/schema.xml",
        "movie/v/vertex.csv",
    ]
    monkeypatch.chdir(uploads)  # the project's own uploads are readable too
    job = submit("--graph", "movies", "--format", "ges", "--vertices", "v.csv")
    assert job.files.get().path == f"{uploads.name}/v.csv"

    monkeypatch.chdir(imports_dir / "movie")
    for typed in (
        "nope.csv",  # missing
        os.path.relpath(outside / "v.csv"),  # outside, by ../..
        "out/v.csv",  # a symbolic link leading out of the roots
        str(outside / "v.csv"),  # absolute, outside
    ):
        with pytest.raises(CommandError) as info:
            submit("--graph", "movies", "--format", "ges", "--vertices", typed)
        assert str(info.value) == (
            f"vertexset_path: file {typed!r} does not exist in the import roots"
        )
    # A name relative to a root, not to here, is not looked up in the roots any more.
    monkeypatch.chdir(tmp_path)
    with pytest.raises(
        CommandError, match=re.escape("file 'movie/v/vertex.csv' does not exist in")
    ):
        submit("--graph", "movies", "--format", "ges", "--vertices", "movie/v/vertex.csv")
    assert Job.objects.count() == 2
