"""docs/notifications.md stays true: its receiver's ``verify`` accepts real deliveries and
refuses tampered, wrongly keyed and old ones."""

from __future__ import annotations

import re
import time

import pytest

from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.transitions import job_claim, job_finish
from jobcenter.notifications.sender import send_due
from jobcenter.notifications.services import webhook_create
from tests.conftest import REPO
from tests.factories.graphs import ges_graph
from tests.factories.jobs import ges_movie_import
from tests.notifications.receiver import Receiver, project_admin

pytestmark = pytest.mark.django_db

DOC = REPO / "docs" / "notifications.md"


def doc_verify():
    [code] = re.findall(r"^```python\n(.*?)^```", DOC.read_text(), re.M | re.S)
    scope: dict = {}
    exec(compile(code, str(DOC), "exec"), scope)  # noqa: S102 (our own documentation)
    return scope["verify"]


def test_the_documented_check_verifies_real_deliveries(project, settings):
    settings.JOBCENTER_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.JOBCENTER_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    receiver = Receiver().start()
    try:
        _, secret = webhook_create(project=project, user=project_admin(project), url=receiver.url)
        job = ges_movie_import(ges_graph(project))
        assert job_claim(job_id=job.pk, worker_id="w1") is not None
        assert job_finish(job_id=job.pk, worker_id="w1", status=JobStatus.SUCCEEDED)
        assert send_due() == 1
    finally:
        receiver.stop()
    [got] = receiver.received
    verify = doc_verify()
    assert verify(secret, got.headers, got.body)
    assert not verify(secret, got.headers, got.body.replace(b"succeeded", b"failed"))
    assert not verify("whsec_other", got.headers, got.body)
    old = {**got.headers, "Jobcenter-Timestamp": str(int(time.time()) - 3600)}
    assert not verify(secret, old, got.body)
    # Documented headers are the ones sent.
    text = DOC.read_text()
    for header in (
        "Jobcenter-Delivery",
        "Jobcenter-Event",
        "Jobcenter-Timestamp",
        "Jobcenter-Signature",
    ):
        assert header in got.headers and header in text
