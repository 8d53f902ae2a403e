"""The web server's access log, without ``serve``'s own readiness probes."""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

# The User-Agent of the health check ``serve`` makes before it shows its banner.
PROBE_AGENT = "jobcenter-serve-probe"


class AccessLogger(Logger):
    """gunicorn's logger, minus the lines of ``serve``'s probes (they would come before the
    banner of an otherwise quiet start)."""

    def access(self, resp: Any, req: Any, environ: dict, request_time: Any) -> None:
        if environ.get("HTTP_USER_AGENT") == PROBE_AGENT:
            return
        super().access(resp, req, environ, request_time)
