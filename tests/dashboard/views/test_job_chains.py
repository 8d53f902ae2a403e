"""A job's dependencies and dependents on its page (links with their status), and what a waiting
job waits for, on its page and in its row of the job list (issue 17, job chains)."""

from __future__ import annotations

import re

import pytest

from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.kinds.algorithm import job_submit_algorithm
from tests.dashboard.conftest import HTMX
from tests.factories.jobs import job_after, job_end

pytestmark = pytest.mark.django_db


def html(response) -> str:
    assert response.status_code in (200, 286), response.status_code
    return response.content.decode()


def links(body: str, list_id: str) -> list[tuple[str, str]]:
    """(linked job id, status shown) of each entry of the list ``list_id``."""
    block = re.search(rf'<ul class="chain-links" id="{list_id}">(.*?)</ul>', body, re.S)
    assert block, f"no {list_id} list"
    return re.findall(
        r'<a href="/jobs/([0-9a-f]+)/">.*?</a> <span class="badge [^"]*">([^<]+)</span>',
        block.group(1),
    )


@pytest.fixture
def chain(graph, operator):
    first = job_submit_algorithm(graph=graph, algorithm="pagerank", user=operator)
    second = job_submit_algorithm(graph=graph, algorithm="pagerank", user=operator)
    after = job_after(graph, first, second, user=operator)
    job_end(first, JobStatus.SUCCEEDED)
    return first, second, after


def test_the_page_links_dependencies_and_dependents_with_their_status(oscar, chain):
    first, second, after = chain
    body = html(oscar.get(f"/jobs/{after.pk}/"))
    assert links(body, "depends-on") == sorted([(first.pk, "Succeeded"), (second.pk, "Waiting")])
    assert 'id="dependents"' not in body
    assert "Waiting for 1 job to end…" in body
    waits = re.search(r'<div class="notice tone-info" id="waits-for"><p>(.*?)</p>', body, re.S)
    assert waits and f'<a href="/jobs/{second.pk}/"><code>{second.pk[-8:]}</code></a>' in (
        waits.group(1)
    )
    assert '<span class="dim">(algorithm, waiting)</span> to succeed' in waits.group(1)
    assert first.pk not in waits.group(1)
    body = html(oscar.get(f"/jobs/{second.pk}/"))
    assert links(body, "dependents") == [(after.pk, "Waiting")]
    assert 'id="waits-for"' not in body and "Waiting for a worker…" in body


def test_the_live_part_follows_the_dependencies(oscar, chain):
    first, second, after = chain
    job_end(second, JobStatus.FAILED)
    body = html(oscar.get(f"/jobs/{after.pk}/live/", **HTMX))
    assert sorted(links(body, "depends-on")) == sorted(
        [(first.pk, "Succeeded"), (second.pk, "Failed")]
    )
    assert 'id="waits-for"' not in body
    assert f"dependency job {second.pk} (algorithm, failed) did not succeed" in body


def test_a_waiting_row_of_the_list_says_what_it_waits_for(oscar, chain):
    first, second, after = chain
    body = html(oscar.get("/?project=alpha"))
    row = re.search(rf'<tr id="job-{after.pk}".*?</tr>', body, re.S).group(0)
    waits = re.search(r'<small class="rate waits-for">(.*?)</small>', row, re.S)
    assert waits, row
    assert f'href="/jobs/{second.pk}/"' in waits.group(1) and first.pk not in waits.group(1)
    other = re.search(rf'<tr id="job-{second.pk}".*?</tr>', body, re.S).group(0)
    assert "waits-for" not in other
    live = html(oscar.get(f"/jobs/live/?project=alpha&live={after.pk}", **HTMX))
    assert 'class="rate waits-for"' in live and f'href="/jobs/{second.pk}/"' in live
