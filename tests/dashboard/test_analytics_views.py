"""The dashboard's analytics pages through Django's test client: a graph's page, the algorithm
and query forms (inline errors from the services' own checks), index builds and graph
operations, a job's result (paged table, CSV, export), progress text, permissions and CSRF.

Jobs run in this process (``execute_job``), as the worker would run them."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from django.conf import settings

from jobcenter.graphs.algorithms import ALGORITHMS
from jobcenter.jobs.choices import JobStatus, JobType
from jobcenter.jobs.models import Job
from jobcenter.jobs.results import result_path
from jobcenter.jobs.runner import execute_job
from jobcenter.jobs.services import job_cancel, job_submit_algorithm, job_submit_query
from jobcenter.jobs.transitions import job_claim, job_heartbeat
from jobcenter.projects.services import project_create
from tests.dashboard.conftest import HTMX, post
from tests.factories.graphs import ges_graph
from tests.factories.jobs import ges_movie_import

pytestmark = pytest.mark.django_db(transaction=True)

REPO = Path(__file__).resolve().parents[2]


def html(response) -> str:
    return response.content.decode()


@pytest.fixture
def movies(project, operator):
    """Graph movies of project alpha with the example data (6 vertices, 5 edges loaded)."""
    graph = ges_graph(project)
    execute_job(job_id=ges_movie_import(graph, user=operator).pk)
    graph.refresh_from_db()
    return graph


def run(job_or_response) -> Job:
    """Run the job the submission created (found from the redirect, or given) in-process."""
    if isinstance(job_or_response, Job):
        job_id = job_or_response.pk
    else:
        assert job_or_response.status_code in (200, 302), job_or_response.status_code
        target = job_or_response.get("HX-Redirect") or job_or_response["Location"]
        job_id = re.search(r"/jobs/([0-9a-f]{32})/", target).group(1)
    execute_job(job_id=job_id)
    return Job.objects.get(pk=job_id)


# --- a graph's page ----------------------------------------------------------------------------


def test_graph_page_for_an_operator(oscar, movies):
    body = html(oscar.get(f"/graphs/{movies.pk}/"))
    assert "<h1>movies</h1>" in body
    for label in ("user", "movie", "rate", "friends"):
        assert f"<strong>{label}</strong>" in body
    assert "<code>Age</code>" in body and "char_array(5)" in body
    assert f'href="/graphs/{movies.pk}/algorithm/"' in body
    assert f'href="/graphs/{movies.pk}/query/"' in body
    assert 'id="index-form"' in body and 'id="operations"' in body
    for op in ("export", "backup", "restore"):
        assert f'id="op-{op}"' in body
    assert 'data-confirm-yes="Clear graph"' in body and 'data-confirm-yes="Restore"' in body
    assert body.count('name="csrfmiddlewaretoken"') >= 6
    assert "No index yet" in body
    assert "Recent jobs" in body and "Import" in body  # the import job


def test_graph_page_for_a_viewer_has_no_forms(vera, movies):
    response = vera.get(f"/graphs/{movies.pk}/")
    assert response.status_code == 200
    body = html(response)
    assert "<h1>movies</h1>" in body
    for needle in ('id="index-form"', 'id="operations"', "/algorithm/", "/query/", "/operation/"):
        assert needle not in body, needle
    assert vera.get(f"/graphs/{movies.pk}/algorithm/").status_code == 403
    assert vera.get(f"/graphs/{movies.pk}/query/").status_code == 403


def test_graph_list_links_to_the_graph_page_and_its_forms(oscar, vera, movies):
    body = html(oscar.get("/graphs/"))
    assert f'href="/graphs/{movies.pk}/"' in body
    assert f'href="/graphs/{movies.pk}/algorithm/"' in body
    assert f'href="/graphs/{movies.pk}/query/"' in body
    viewer = html(vera.get("/graphs/"))
    assert f'href="/graphs/{movies.pk}/"' in viewer and "/algorithm/" not in viewer


def test_graphs_of_other_projects_and_nonsense_ids_are_404(client_for, oscar, movies):
    from django.contrib.auth import get_user_model

    outsider = client_for(get_user_model().objects.get(username="outsider"))
    for url in (
        f"/graphs/{movies.pk}/",
        f"/graphs/{movies.pk}/algorithm/",
        f"/graphs/{movies.pk}/query/",
    ):
        assert outsider.get(url).status_code == 404, url
    for ref in ("nope", "0" * 33, "%00", "ZZ"):
        assert oscar.get(f"/graphs/{ref}/").status_code == 404
        assert oscar.get(f"/graphs/{ref}/algorithm/").status_code == 404


# --- the algorithm form ------------------------------------------------------------------------


def test_algorithm_form_offers_every_algorithm_with_its_parameters(oscar, movies):
    response = oscar.get(f"/graphs/{movies.pk}/algorithm/")
    assert response.status_code == 200
    body = html(response)
    for name, definition in ALGORITHMS.items():
        assert f'value="{name}"' in body, name
        assert f'data-algorithm="{name}"' in body, name
        for param in definition.params:
            if param.endswith("_label"):
                continue  # GES ids are global: no vertex type to choose
            assert f'for="id_{name}-{param}"' in body, (name, param)
    assert re.search(r'value="pagerank"[^>]*checked', body)  # the default choice
    assert 'name="pagerank-alpha"' in body and 'value="0.85"' in body
    assert '<option value="Score">Score</option>' in body  # the numeric edge property: a weight
    assert "Damping factor (alpha)" in body and "Random seed" in body
    assert "source_label" not in body


def test_every_algorithm_has_a_css_rule_that_shows_its_parameters():
    css = (REPO / "static" / "dashboard" / "dashboard.css").read_text()
    for name in ALGORITHMS:
        assert f'[value="{name}"]:checked) [data-algorithm="{name}"]' in css, name


def test_algorithm_parameter_errors_are_shown_next_to_the_field(oscar, movies):
    before = Job.objects.count()
    response = post(
        oscar,
        f"/graphs/{movies.pk}/algorithm/",
        {
            "algorithm": "personalized_pagerank",
            "personalized_pagerank-source": "Nobody",
            "personalized_pagerank-alpha": "0.85",
            "personalized_pagerank-directed": "on",
        },
        htmx=True,
    )
    assert response.status_code == 422
    body = html(response)
    assert body.lstrip().startswith('<form id="algorithm-form"')
    assert 'id="id_personalized_pagerank-source_error"' in body
    assert "parameter [source] is invalid! vertex &#x27;Nobody&#x27; does not exist" in body
    assert re.search(r'name="personalized_pagerank-source"[^>]*aria-invalid="true"', body)
    assert 'value="Nobody"' in body  # what was typed stays
    # a number out of range and a required parameter left empty, by the service's words
    response = post(
        oscar,
        f"/graphs/{movies.pk}/algorithm/",
        {"algorithm": "pagerank", "pagerank-alpha": "1.5"},
        htmx=True,
    )
    assert response.status_code == 422
    assert "parameter [alpha] is invalid! expected a number in (0.0, 1.0)" in html(response)
    assert 'id="id_pagerank-alpha_error"' in html(response)
    response = post(
        oscar, f"/graphs/{movies.pk}/algorithm/", {"algorithm": "k_core", "k_core-k": "x"}
    )
    assert response.status_code == 422
    assert "parameter [k] is invalid! expected a whole number" in html(response)
    assert "<html" in html(response)  # without htmx: the whole page
    response = post(oscar, f"/graphs/{movies.pk}/algorithm/", {"algorithm": "shortest_path"})
    assert response.status_code == 422 and "parameter [source] is invalid! it is required" in html(
        response
    )
    response = post(oscar, f"/graphs/{movies.pk}/algorithm/", {"algorithm": "nope"})
    assert response.status_code == 422 and 'id="id_algorithm_error"' in html(response)
    assert Job.objects.count() == before


def test_run_an_algorithm_and_read_its_result(oscar, vera, movies):
    response = post(
        oscar,
        f"/graphs/{movies.pk}/algorithm/",
        {
            "algorithm": "personalized_pagerank",
            "personalized_pagerank-source": "Eric",
            "personalized_pagerank-alpha": "0.9",
        },
        htmx=True,
    )
    assert response.status_code == 200 and response["HX-Redirect"].startswith("/jobs/")
    job = Job.objects.get(type=JobType.ALGORITHM)
    # the form's values, typed as the service wants them; the unchecked box is false
    assert job.params == {
        "algorithm": "personalized_pagerank",
        "parameters": {"source": "Eric", "source_label": None, "alpha": 0.9, "directed": False},
    }
    page = html(oscar.get(f"/jobs/{job.pk}/"))
    assert "Personalized PageRank" in page and "Damping factor (alpha)" in page
    assert 'id="result"' in page and "as soon as the job has finished" in page
    assert f'hx-get="/jobs/{job.pk}/result/"' in page  # reloads itself when the job ends
    assert 'id="cancel-job"' in page
    job = run(job)
    assert job.status == JobStatus.SUCCEEDED
    page = html(oscar.get(f"/jobs/{job.pk}/"))
    assert 'class="table result"' in page
    # its header sorts it (and it is shown highest first: see views/test_results.py)
    assert re.search(
        r'<th scope="col" class="num" aria-sort="descending"><a class="sort"[^>]*>pagerank<', page
    )
    assert 'data-label="id">Eric<' in page and 'data-label="label">user<' in page
    assert "6 vertices" in page  # the count pill
    assert "<dt>source</dt><dd" in page  # summary figures
    assert "<dt>graph</dt><dd" in page and "read from the store in" in page
    again = run(job_submit_algorithm(graph=movies, algorithm="pagerank"))
    assert "in the worker&#x27;s memory" in html(oscar.get(f"/jobs/{again.pk}/"))
    assert f'href="/jobs/{job.pk}/result.csv"' in page
    assert 'id="retry-job"' in page and 'id="cancel-job"' not in page
    # a viewer reads the result too, but cannot export it or retry
    viewer = html(vera.get(f"/jobs/{job.pk}/"))
    assert 'class="table result"' in viewer
    assert 'id="result-export-form"' not in viewer and 'id="retry-job"' not in viewer
    csv_response = vera.get(f"/jobs/{job.pk}/result.csv")
    assert csv_response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(csv_response.streaming_content).decode())))
    assert rows[0] == ["id", "label", "pagerank"] and len(rows) == 7
    assert abs(sum(float(r[2]) for r in rows[1:]) - 1.0) < 1e-6


def test_result_pages(oscar, project, operator):
    from jobcenter.jobs.results import ResultWriter

    graph = ges_graph(project)
    job = Job.objects.create(
        type=JobType.ALGORITHM,
        name="Algorithm",
        project=project,
        graph=graph,
        graph_name=graph.name,
        params={"algorithm": "degree_statistics", "parameters": {}},
        status=JobStatus.SUCCEEDED,
        result={"kind": "vertices", "total": 120},
    )
    writer = ResultWriter(job.pk, kind="vertices", columns=["id", "label", "degree"])
    writer.add((f"v{i}", "n", i) for i in range(120))
    writer.finish({"vertices": 120})
    writer.publish()
    first = html(oscar.get(f"/jobs/{job.pk}/"))
    assert "Rows 1\u201350 of 120" in first and "Page 1 of 3" in first
    assert f'hx-get="/jobs/{job.pk}/result/?rpage=2&amp;rsort=-degree"' in first
    second = oscar.get(f"/jobs/{job.pk}/result/?rpage=2", **HTMX)
    assert second.status_code == 200
    body = html(second)
    assert body.lstrip().startswith('<section id="result"')
    assert 'data-label="id">v50<' in body and "Rows 51\u2013100 of 120" in body
    last = html(oscar.get(f"/jobs/{job.pk}/result/?rpage=99", **HTMX))
    assert "Rows 101\u2013120 of 120" in last
    for odd in ("abc", "-1", "0", "%00", "9" * 30):
        assert oscar.get(f"/jobs/{job.pk}/result/?rpage={odd}", **HTMX).status_code == 200
    # without htmx: the job's page at that result page
    plain = oscar.get(f"/jobs/{job.pk}/result/?rpage=2")
    assert plain.status_code == 302 and plain["Location"] == f"/jobs/{job.pk}/?rpage=2#result"
    assert "Rows 51\u2013100 of 120" in html(oscar.get(f"/jobs/{job.pk}/?rpage=2"))
    # the result removed by the retention policy: said so, no 500
    result_path(job.pk).unlink()
    Job.objects.filter(pk=job.pk).update(result={"purged": True})
    assert "removed (retention)" in html(oscar.get(f"/jobs/{job.pk}/"))
    assert oscar.get(f"/jobs/{job.pk}/result.csv").status_code == 404


# --- the query form ----------------------------------------------------------------------------


def test_query_form_adds_and_removes_conditions(oscar, movies):
    body = html(oscar.get(f"/graphs/{movies.pk}/query/"))
    assert 'name="f0-property"' in body and 'name="f1-property"' not in body
    assert '<optgroup label="user">' in body and '<option value="Age">Age · int</option>' in body
    assert 'value="add"' in body
    added = post(
        oscar,
        f"/graphs/{movies.pk}/query/",
        {"rows": "1", "action": "add", "target": "vertices", "f0-property": "Age", "f0-op": ">="},
        htmx=True,
    )
    assert added.status_code == 200
    body = html(added)
    assert 'name="f1-property"' in body and 'name="f2-property"' not in body
    assert re.search(r'<option value="Age" selected>', body)  # what was chosen stays
    assert "field-error" not in body  # redrawing shows no errors
    removed = post(
        oscar,
        f"/graphs/{movies.pk}/query/",
        {
            "rows": "2",
            "action": "remove-0",
            "target": "vertices",
            "f0-property": "Age",
            "f1-property": "Name",
            "f1-op": "contains",
            "f1-value": "Ad",
        },
        htmx=True,
    )
    body = html(removed)
    assert 'name="f1-property"' not in body
    assert re.search(r'<option value="Name" selected>', body) and 'value="Ad"' in body
    assert Job.objects.filter(type=JobType.QUERY).count() == 0


def test_query_errors_are_shown_next_to_the_condition(oscar, movies):
    response = post(
        oscar,
        f"/graphs/{movies.pk}/query/",
        {
            "rows": "2",
            "target": "vertices",
            "vertex_labels": ["user"],
            "f0-property": "",
            "f1-property": "Age",
            "f1-op": ">=",
            "f1-value": "old",
            "limit": "10",
        },
        htmx=True,
    )
    assert response.status_code == 422
    body = html(response)
    # the empty first row is skipped; the error lands on the second row's value
    assert 'id="id_f1-value_error"' in body and "parameter [filters.0.values.0] is invalid!" in body
    assert re.search(r'name="f1-value"[^>]*aria-invalid="true"', body)
    response = post(
        oscar,
        f"/graphs/{movies.pk}/query/",
        {"rows": "1", "target": "vertices", "f0-op": "=", "f0-value": "x", "limit": "0"},
        htmx=True,
    )
    body = html(response)
    assert "Choose the property this value is for." in body
    response = post(
        oscar,
        f"/graphs/{movies.pk}/query/",
        {
            "rows": "1",
            "target": "edges",
            "edge_labels": ["rate"],
            "f0-property": "Age",
            "f0-op": "=",
            "f0-value": "3",
        },
        htmx=True,
    )
    assert "no selected label has a property" in html(response)
    assert 'id="id_f0-property_error"' in html(response)
    response = post(
        oscar,
        f"/graphs/{movies.pk}/query/",
        {
            "rows": "1",
            "target": "vertices",
            "f0-property": "Age",
            "f0-op": "range",
            "f0-value": "1",
        },
        htmx=True,
    )
    assert "range takes 2 (low, high) value(s)" in html(response)
    response = post(
        oscar,
        f"/graphs/{movies.pk}/query/",
        {"rows": "1", "target": "edges", "limit": "0"},
        htmx=True,
    )
    assert 'id="id_limit_error"' in html(response)
    assert Job.objects.filter(type=JobType.QUERY).count() == 0


def test_run_a_query_and_read_the_matching_rows(oscar, movies):
    response = post(
        oscar,
        f"/graphs/{movies.pk}/query/",
        {
            "rows": "2",
            "target": "vertices",
            "vertex_labels": ["user"],
            "f0-property": "Age",
            "f0-op": "range",
            "f0-value": "30",
            "f0-value2": "40",
            "f1-property": "Gender",
            "f1-op": "in",
            "f1-value": "F, M",
            "sort_property": "Age",
            "sort_order": "desc",
            "offset": "0",
            "limit": "100",
        },
        htmx=True,
    )
    job = run(response)
    assert job.status == JobStatus.SUCCEEDED, job.fail_reason
    page = html(oscar.get(f"/jobs/{job.pk}/"))
    assert "Age from 30 to 40" in page and "Gender in F, M" in page
    assert "Age, descending" in page
    ids = re.findall(r'data-label="id">([^<]+)<', page)
    assert ids == ["Ada", "Vivian"]
    for column in ("Name", "Gender", "Age", "Zip", "Tags"):
        assert re.search(rf'<th scope="col" class="prop-col"><a class="sort"[^>]*>{column}<', page)
    assert 'data-label="Tags">mathematician; writer<' in page
    assert "2 vertices" in page


# --- indexes and graph operations --------------------------------------------------------------


def test_build_an_index_from_the_graph_page(oscar, movies):
    response = post(
        oscar, f"/graphs/{movies.pk}/index/", {"target": "vertices", "column": ""}, htmx=True
    )
    assert response.status_code == 422
    assert html(response).lstrip().startswith('<form id="index-form"') and "required" in html(
        response
    )
    response = post(
        oscar, f"/graphs/{movies.pk}/index/", {"target": "vertices", "column": "0:2"}, htmx=True
    )
    job = run(response)
    assert job.type == JobType.INDEX and job.status == JobStatus.SUCCEEDED
    assert job.params["label"] == "user" and job.params["property"] == "Age"
    body = html(oscar.get(f"/graphs/{movies.pk}/"))
    assert "<code>user.Age</code>" in body
    detail = html(oscar.get(f"/jobs/{job.pk}/"))
    assert "Outcome" in detail and "Index on" in detail and "user.Age" in detail
    for odd in ("9:9", "x", "0:99", "-1:0"):
        response = post(
            oscar, f"/graphs/{movies.pk}/index/", {"target": "vertices", "column": odd}, htmx=True
        )
        assert response.status_code == 422, odd


def test_graph_operations_from_the_graph_page(oscar, movies):
    url = f"/graphs/{movies.pk}/operation/"
    # a path outside the export root: the error is shown next to the path field
    response = post(oscar, url, {"operation": "export", "export-path": "/etc/x"}, htmx=True)
    assert response.status_code == 422
    body = html(response)
    assert body.lstrip().startswith('<section id="operations"')
    assert 'id="id_export-path_error"' in body and "outside the export roots" in body
    response = post(oscar, url, {"operation": "backup", "backup-path": ""}, htmx=True)
    assert response.status_code == 422 and 'id="id_backup-path_error"' in html(response)
    # export, back up, clear, restore: each a job, each doing what it says
    export = run(post(oscar, url, {"operation": "export", "export-path": "ui/movies"}, htmx=True))
    assert export.status == JobStatus.SUCCEEDED, export.fail_reason
    folder = Path(settings.JOBCENTER_EXPORT_ROOTS[0]) / "ui" / "movies"
    assert sorted(p.name for p in folder.iterdir()) == ["edge.csv", "schema.xml", "vertex.csv"]
    backup = run(
        post(oscar, url, {"operation": "backup", "backup-path": "ui/movies.bak"}, htmx=True)
    )
    assert backup.status == JobStatus.SUCCEEDED, backup.fail_reason
    cleared = run(post(oscar, url, {"operation": "clear"}, htmx=True))
    assert cleared.status == JobStatus.SUCCEEDED and cleared.type == JobType.GRAPH_OPERATION
    restored = run(
        post(oscar, url, {"operation": "restore", "restore-path": "ui/movies.bak"}, htmx=True)
    )
    assert restored.status == JobStatus.SUCCEEDED, restored.fail_reason
    assert restored.result["vertices"] == 6
    page = html(oscar.get(f"/jobs/{restored.pk}/"))
    assert "Operation" in page and "restore" in page and 'id="cancel-job"' not in page
    assert post(oscar, url, {"operation": "nope"}, htmx=True).status_code == 404
    assert post(oscar, url, {}, htmx=False).status_code == 404


def test_export_a_result_to_a_file(oscar, movies):
    job = run(job_submit_algorithm(graph=movies, algorithm="connected_components"))
    url = f"/jobs/{job.pk}/result/export/"
    response = post(oscar, url, {"result-path": "/etc/passwd"}, htmx=True)
    assert response.status_code == 422 and 'id="id_result-path_error"' in html(response)
    assert html(response).lstrip().startswith('<section id="result"')
    export = run(post(oscar, url, {"result-path": "cc.csv"}, htmx=True))
    assert export.status == JobStatus.SUCCEEDED, export.fail_reason
    written = (Path(settings.JOBCENTER_EXPORT_ROOTS[0]) / "cc.csv").read_text().splitlines()
    assert written[0] == "id,label,component" and len(written) == 7


# --- permissions, CSRF -------------------------------------------------------------------------


def test_a_viewer_cannot_submit_anything_even_with_a_forged_request(vera, movies):
    posts = {
        f"/graphs/{movies.pk}/algorithm/": {"algorithm": "pagerank"},
        f"/graphs/{movies.pk}/query/": {"rows": "1", "target": "vertices"},
        f"/graphs/{movies.pk}/index/": {"target": "vertices", "column": "0:2"},
        f"/graphs/{movies.pk}/operation/": {"operation": "clear"},
        f"/graphs/{movies.pk}/index/?bad": {"target": "vertices", "column": ""},
        f"/graphs/{movies.pk}/operation/?bad": {"operation": "backup", "backup-path": ""},
    }
    for url, data in posts.items():
        for htmx in (False, True):
            response = post(vera, url, data, htmx=htmx)
            assert response.status_code == 403, (url, htmx, response.status_code)
    job = run(job_submit_algorithm(graph=movies, algorithm="pagerank"))
    assert post(vera, f"/jobs/{job.pk}/result/export/", {"result-path": "x.csv"}).status_code == 403
    assert Job.objects.exclude(type=JobType.IMPORT).count() == 1


def test_state_changes_need_the_csrf_token(oscar, movies):
    for url in (
        f"/graphs/{movies.pk}/algorithm/",
        f"/graphs/{movies.pk}/query/",
        f"/graphs/{movies.pk}/index/",
        f"/graphs/{movies.pk}/operation/",
    ):
        assert oscar.post(url, {"algorithm": "pagerank", "operation": "clear"}).status_code == 403
    assert Job.objects.exclude(type=JobType.IMPORT).count() == 0


def test_cancel_an_algorithm_and_a_forged_cancel_by_a_viewer(oscar, vera, movies, operator):
    job = job_submit_algorithm(graph=movies, algorithm="louvain", user=operator)
    page = html(oscar.get(f"/jobs/{job.pk}/"))
    assert 'id="cancel-job"' in page and "keeps no partial result" not in page  # waiting
    assert 'id="cancel-job"' not in html(vera.get(f"/jobs/{job.pk}/"))
    assert post(vera, f"/jobs/{job.pk}/cancel/", htmx=True).status_code == 403
    assert Job.objects.get(pk=job.pk).status == JobStatus.WAITING
    job_claim(job_id=job.pk, worker_id="w1")
    running = html(oscar.get(f"/jobs/{job.pk}/"))
    assert "keeps no partial result" in running
    response = post(oscar, f"/jobs/{job.pk}/cancel/", htmx=True)
    assert response.status_code == 200 and "Cancelling" in html(response)
    assert Job.objects.get(pk=job.pk).status == JobStatus.CANCELLING


# --- the job list and progress -----------------------------------------------------------------


def test_job_list_shows_types_and_algorithm_phases(oscar, movies, operator):
    job = job_submit_algorithm(graph=movies, algorithm="pagerank", user=operator)
    query = job_submit_query(graph=movies, query={"target": "vertices"}, user=operator)
    job_claim(job_id=job.pk, worker_id="w1")
    job_heartbeat(
        job_id=job.pk,
        worker_id="w1",
        progress=20.0,
        lines_done=12000,
        lines_total=600000,
        lines_per_second=0.0,
    )
    body = html(oscar.get("/?type=algorithm"))
    assert f'id="job-{job.pk}"' in body and f'id="job-{query.pk}"' not in body
    assert '<span class="type-pill t-algorithm">Algorithm</span>' in body
    assert "<small>pagerank</small>" in body
    assert "loading 12k/600k edges" in body
    assert re.search(r'<option value="algorithm" selected>Algorithm</option>', body)
    detail = html(oscar.get(f"/jobs/{job.pk}/"))
    assert "Loading the graph: 12,000 of 600,000 edges read" in detail
    job_heartbeat(
        job_id=job.pk,
        worker_id="w1",
        progress=60.0,
        lines_done=600000,
        lines_total=600000,
        lines_per_second=0.0,
    )
    live = oscar.get(f"/jobs/live/?project=alpha&live={job.pk}&live={query.pk}", **HTMX)
    assert live.status_code == 200 and "computing" in html(live)
    assert len(live.content) <= 2048 * 2
    assert "Computing pagerank" in html(oscar.get(f"/jobs/{job.pk}/live/", **HTMX))
    job_heartbeat(
        job_id=job.pk,
        worker_id="w1",
        progress=90.0,
        lines_done=3,
        lines_total=6,
        lines_per_second=0.0,
    )
    assert "writing 3/6 rows" in html(oscar.get("/?type=algorithm"))
    job_cancel(job=Job.objects.get(pk=query.pk), user=operator)
    both = html(oscar.get("/"))
    assert '<span class="type-pill t-query">Query</span>' in both
    assert '<span class="type-pill t-import">Import</span>' in both


def test_no_server_error_on_odd_analytics_input(oscar, movies):
    urls = [
        f"/graphs/{movies.pk}/algorithm/?algorithm=%00",
        f"/graphs/{movies.pk}/algorithm/?algorithm=nope",
        f"/graphs/{movies.pk}/query/?rows=99999",
        f"/jobs/{'a' * 32}/result/",
        f"/jobs/{'a' * 32}/result.csv",
        "/jobs/%00/result/",
    ]
    for url in urls:
        assert oscar.get(url).status_code in (200, 404), url
    odd_posts = [
        (f"/graphs/{movies.pk}/algorithm/", {"algorithm": "pagerank", "pagerank-alpha": "\x00"}),
        (f"/graphs/{movies.pk}/algorithm/", {"algorithm": "louvain", "louvain-seed": "1e99"}),
        (
            f"/graphs/{movies.pk}/algorithm/",
            {
                "algorithm": "shortest_path",
                "shortest_path-source": "\x00",
                "shortest_path-target": "a" * 5000,
            },
        ),
        (
            f"/graphs/{movies.pk}/algorithm/",
            {
                "algorithm": "single_source_shortest_paths",
                "single_source_shortest_paths-source": "Eric",
                "single_source_shortest_paths-weight": "nope",
            },
        ),
        (f"/graphs/{movies.pk}/query/", {"rows": "-5", "action": "remove-99"}),
        (
            f"/graphs/{movies.pk}/query/",
            {"rows": "abc", "target": "x", "f0-property": "Age", "f0-op": "in", "f0-value": ",,,"},
        ),
        (
            f"/graphs/{movies.pk}/query/",
            {
                "rows": "1",
                "target": "vertices",
                "f0-property": "Age",
                "f0-op": "<",
                "f0-value": "\x00",
                "offset": "-1",
                "limit": "9" * 40,
            },
        ),
        (
            f"/graphs/{movies.pk}/query/",
            {
                "rows": "1",
                "target": "vertices",
                "f0-property": "Tags",
                "f0-op": "contains",
                "f0-value": "",
            },
        ),
        (f"/graphs/{movies.pk}/index/", {"target": "nope", "column": "0:0"}),
        (f"/graphs/{movies.pk}/operation/", {"operation": "restore", "restore-path": "\x00"}),
        (f"/graphs/{movies.pk}/operation/", {"operation": "backup", "backup-path": "../../x"}),
        (f"/jobs/{'b' * 32}/result/export/", {"result-path": "x.csv"}),
    ]
    for url, data in odd_posts:
        for htmx in (False, True):
            response = post(oscar, url, data, htmx=htmx)
            assert response.status_code in (200, 302, 404, 409, 422), (
                url,
                data,
                response.status_code,
            )


def test_a_job_of_another_project_is_not_found(client_for, movies):
    from django.contrib.auth import get_user_model

    job = run(job_submit_algorithm(graph=movies, algorithm="pagerank"))
    stranger = get_user_model().objects.get(username="outsider")
    other = project_create(name="beta", admin=stranger)
    assert other.pk
    client = client_for(stranger)
    for url in (f"/jobs/{job.pk}/", f"/jobs/{job.pk}/result.csv", f"/jobs/{job.pk}/result/"):
        assert client.get(url, **HTMX).status_code == 404, url


def test_vertex_types_are_asked_where_ids_are_per_type(oscar, project):
    from tests.factories.graphs import graphscope_graph

    graph = graphscope_graph(project)
    body = html(oscar.get(f"/graphs/{graph.pk}/algorithm/"))
    assert 'name="shortest_path-source_label"' in body
    assert 'name="shortest_path-target_label"' in body
    assert '<option value="person">person</option>' in body
    assert re.search(r'<option value=""( selected)?>Any type</option>', body)
    response = post(
        oscar,
        f"/graphs/{graph.pk}/algorithm/",
        {"algorithm": "personalized_pagerank", "personalized_pagerank-source": "1"},
        htmx=True,
    )
    assert response.status_code == 422  # no data yet: the vertex does not exist
    assert 'id="id_personalized_pagerank-source_error"' in html(response)


def test_progress_text_by_type_and_phase():
    from types import SimpleNamespace

    from jobcenter.dashboard.templatetags.dashboard import progress_text

    def job(type_, status="running", progress=0.0, done=0, total=0, **params):
        return SimpleNamespace(
            type=type_,
            status=status,
            progress=progress,
            lines_done=done,
            lines_total=total,
            params=params,
            result=None,
        )

    algorithm = {"algorithm": "louvain"}
    assert progress_text(job("algorithm", progress=10, done=5, total=50, **algorithm)) == (
        "Loading the graph: 5 of 50 edges read"
    )
    assert progress_text(job("algorithm", progress=45, **algorithm), "short") == "building"
    assert progress_text(job("algorithm", progress=60, **algorithm)) == "Computing louvain"
    assert progress_text(job("algorithm", progress=90, done=2, total=4), "short") == (
        "writing 2/4 rows"
    )
    assert progress_text(job("query", done=12, total=100)) == "12 rows found (at most 100)"
    assert progress_text(job("index", progress=1)) == "Waiting for other writes to the graph"
    assert progress_text(job("export", done=1500, total=20000), "short") == "1.5k/20k rows"
    assert progress_text(job("graph_operation", done=3, total=9, operation="backup")) == (
        "3 of 9 pages copied"
    )
    assert progress_text(job("import", done=400, total=1000)) == "400 of 1,000 lines read"
    aborted = job("import", status="failed", done=6, total=1_000_006)
    assert progress_text(aborted) == "6 of 1,000,006 lines read, none committed"
    assert progress_text(aborted, "short") == "6/1.0M lines"
    assert progress_text(job("algorithm", status="waiting")) == ""
    done = job("query", status="succeeded")
    done.result = {"total": 1}
    assert progress_text(done) == "1 result row"
