"""Every failed line is counted by reason, per file, as the loader goes (FileProgress.reasons):
the failed-line records stop at their cap, the counts do not. The job page's failures chart
draws them (jobcenter.jobs.insights)."""

from __future__ import annotations

from tests.graphs.conftest import Workspace


def test_reasons_are_counted_per_file_past_the_records_cap(workspace: Workspace, small_graph):
    vertices = "".join(f"v{i},user,V,notanumber\n" for i in range(30)) + "".join(
        f"w{i},spaceship,W,1\n" for i in range(12)
    )
    vertices += "ok,user,Ok,1\n"
    edges = "ok,ghost,friends\nok,ok,friends\nok,nobody,friends\n"
    run = workspace.run(small_graph(vertices=vertices, edges=edges, max_failed_records=5))
    assert dict(run.files[1].reasons) == {"bad_type": 30, "unknown_label": 12}
    assert dict(run.files[2].reasons) == {"missing_vertex": 2}
    assert dict(run.files[0].reasons) == {}  # the schema
    assert sum(run.files[1].reasons.values()) == run.files[1].failed_lines == 42
    assert len([f for f in run.progress.failed if f.file_index == 1]) == 5  # records: capped
    assert "42 of 43 lines failed (bad_type 30, unknown_label 12)" in run.files[1].cause


def test_the_movie_files_reasons_match_their_failed_lines(workspace: Workspace):
    run = workspace.ges_movie()
    for index, fp in enumerate(run.files):
        recorded: dict[str, int] = {}
        for line in run.progress.failed:
            if line.file_index == index:
                recorded[str(line.reason)] = recorded.get(str(line.reason), 0) + 1
        assert dict(fp.reasons) == recorded
