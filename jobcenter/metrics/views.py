"""``GET /metrics``: the Prometheus text format, for a scraper holding JOBCENTER_METRICS_TOKEN
(``Authorization: Bearer <token>``). Without the setting the endpoint does not exist (404)."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from jobcenter.metrics.collector import JobcenterCollector


def _authorized(request: HttpRequest, token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.JOBCENTER_METRICS_TOKEN
    if not token:
        raise Http404("metrics are off (JOBCENTER_METRICS_TOKEN is not set)")
    if not _authorized(request, token):
        response = HttpResponse(
            "401 Unauthorized: send Authorization: Bearer <JOBCENTER_METRICS_TOKEN>\n",
            status=401,
            content_type="text/plain; charset=utf-8",
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    registry = CollectorRegistry(auto_describe=False)
    registry.register(JobcenterCollector())
    response = HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
