"""Generated input files for imports. No Django here beyond its lazy settings: a benchmark may
write its files before it sets Django up."""

from __future__ import annotations

import random
from pathlib import Path

from django.conf import settings

#: vertex label n (one int property v), edge label e (one double property w)
GES_SCHEMA = (
    '<?xml version="1.0"?><PMML version="3.0"><labels>'
    '<label name="n"><properties><property name="v" cardinality="single" dataType="int"/>'
    "</properties></label>"
    '<label name="e"><properties><property name="w" cardinality="single" dataType="double"/>'
    "</properties></label></labels></PMML>"
)


#: The environment of a worker whose imports must still be running when a test acts on them
#: (cancels, stops, kills): a pace no machine can outrun, so a 2,000,000-line import lasts at
#: least 10 s however fast the machine (the test's stop ends it long before).
PACED = {"JOBCENTER_IMPORT_MAX_LINES_PER_SECOND": "200000"}


def shared_data(*parts: str) -> Path:
    return Path(settings.SHARED_DATA, *parts)


def write_ges_files(directory: Path, *, vertices: int, edges: int) -> dict[str, str]:
    """A generated GES graph: ``vertices`` vertices of label n, ``edges`` edges of label e."""
    directory.mkdir(parents=True, exist_ok=True)
    schema = directory / "schema.xml"
    schema.write_text(GES_SCHEMA)
    vfile = directory / "vertices.csv"
    with vfile.open("w") as fh:
        fh.writelines(f"v{i},n,{i}\n" for i in range(vertices))
    efile = directory / "edges.csv"
    with efile.open("w") as fh:
        fh.writelines(
            f"v{i % vertices},v{(i * 7919 + 1) % vertices},e,{i % 100}.5\n" for i in range(edges)
        )
    return {"schema_path": str(schema), "vertexset_path": str(vfile), "edgeset_path": str(efile)}


def failing_ges_files(directory: Path, *, vertices: int, edges: int) -> dict[str, str]:
    """A generated GES graph with failed lines of several reasons in both files."""
    directory.mkdir(parents=True, exist_ok=True)
    schema = directory / "schema.xml"
    schema.write_text(GES_SCHEMA)
    vfile, efile = directory / "vertices.csv", directory / "edges.csv"
    with vfile.open("w") as fh:
        for i in range(vertices):
            if i % 50 == 49:
                fh.write(f"v{i},n,x{i}\n")  # bad_type
            elif i % 97 == 96:
                fh.write(f"v{i},spaceship,{i}\n")  # unknown_label
            else:
                fh.write(f"v{i},n,{i}\n")
    with efile.open("w") as fh:
        for i in range(edges):
            if i % 40 == 39:
                fh.write(f"ghost{i},v1,e,1.5\n")  # missing_vertex
            elif i % 61 == 60:
                fh.write("v1,v2,e,heavy\n")  # bad_type
            else:
                fh.write(f"v{i % 1000},v{(i * 7 + 1) % 1000},e,{i % 100}.5\n")
    return {"schema_path": str(schema), "vertexset_path": str(vfile), "edgeset_path": str(efile)}


def random_ges_files(directory: Path, *, vertices: int, edges: int, seed: int) -> dict[str, str]:
    """A GES graph with uniformly random edges and no properties: no community structure, so
    community detection (louvain, label propagation) works hard on it."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    schema = directory / "schema.xml"
    schema.write_text(
        '<?xml version="1.0"?><PMML version="3.0"><labels><label name="n"></label>'
        '<label name="e"></label></labels></PMML>'
    )
    vfile, efile = directory / "v.csv", directory / "e.csv"
    vfile.write_text("".join(f"v{i},n\n" for i in range(vertices)))
    with efile.open("w") as fh:
        fh.writelines(
            f"v{rng.randrange(vertices)},v{rng.randrange(vertices)},e\n" for _ in range(edges)
        )
    return {"schema_path": str(schema), "vertexset_path": str(vfile), "edgeset_path": str(efile)}
