"""``manage.py jobs submit-import`` reads a GraphScope graph definition and mapping with the one
document reader (jobcenter.core.documents): every hostile file ends the command with an error
naming the file and what is wrong, quickly, and nothing is written (not even the graph that
--create-graph would have made)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from jobcenter.graphs.models import Graph
from jobcenter.jobs.models import Job
from tests.documents import HOSTILE_YAML, quickly
from tests.factories.files import shared_data
from tests.factories.projects import user_create

pytestmark = pytest.mark.django_db

MODERN = shared_data("modern_graph")


def submit(definition: Path, mapping: Path) -> None:
    call_command(
        "jobs",
        "submit-import",
        "--project",
        "alpha",
        "--graph",
        "modern",
        "--create-graph",
        "--format",
        "graphscope",
        "--graph-definition",
        str(definition),
        "--mapping",
        str(mapping),
        "--json",
        stdout=io.StringIO(),
    )


@pytest.mark.parametrize("option", ["--graph-definition", "--mapping"])
@pytest.mark.parametrize("name", list(HOSTILE_YAML))
def test_a_hostile_file_is_refused(project, tmp_path, name, option):
    user_create("root", superuser=True)
    text, message = HOSTILE_YAML[name]
    hostile = tmp_path / "hostile.yaml"
    hostile.write_text(text)
    definition, mapping = MODERN / "graph.yaml", MODERN / "bulk_load.yaml"
    if option == "--mapping":
        mapping = hostile
    else:
        definition = hostile
    with quickly(), pytest.raises(CommandError) as info:
        submit(definition, mapping)
    assert str(info.value).startswith(f"the {option} file {str(hostile)!r}: ")
    assert message in str(info.value)
    assert not Graph.objects.exists() and not Job.objects.exists()


def test_a_mapping_of_the_wrong_shape_is_refused_clearly(project, tmp_path):
    user_create("root", superuser=True)
    mapping = tmp_path / "bulk_load.yaml"
    mapping.write_text("loading_config: [1, 2]\nvertex_mappings: []\n")
    with pytest.raises(CommandError) as info:
        submit(MODERN / "graph.yaml", mapping)
    assert "loading_config must be an object" in str(info.value)
    assert not Graph.objects.exists() and not Job.objects.exists()


def test_a_missing_file_is_refused_clearly(project, tmp_path):
    user_create("root", superuser=True)
    with pytest.raises(CommandError, match="cannot be read: No such file or directory"):
        submit(MODERN / "graph.yaml", tmp_path / "nope.yaml")
    assert not Graph.objects.exists()
