"""Runs inside the gs_interactive==0.3 virtualenv (never imported by the test suite itself).

Reads one JSON command per line on stdin, runs it with the official SDK against the admin
endpoint given in INTERACTIVE_ADMIN_ENDPOINT, and writes one JSON answer per line on stdout:
``{"ok", "code", "message", "value", "value_type"}`` for SDK calls, or ``{"crash": "..."}`` when
the SDK raised (e.g. a response its strict models rejected).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import time
import traceback

from gs_interactive.client.driver import Driver
from gs_interactive.models import CreateGraphRequest, SchemaMapping


def jsonable(value):
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return value


def answer(result):
    status = result.get_status()
    value = result.get_value()
    return {
        "ok": result.is_ok(),
        "code": int(getattr(status.get_code(), "value", status.get_code())),
        "message": result.get_status_message(),
        "value": jsonable(value),
        "value_type": (
            [type(v).__name__ for v in value] if isinstance(value, list) else type(value).__name__
        ),
    }


class Runner:
    def __init__(self) -> None:
        self.session = None

    def connect(self):
        driver = Driver(admin_endpoint=os.environ["INTERACTIVE_ADMIN_ENDPOINT"])
        try:
            self.session = driver.session()  # GET /v1/service/status
        except Exception as exc:  # the SDK raises when the service status is not 200
            return {"ok": False, "message": repr(exc)}
        return {"ok": True, "value": self.session.admin_uri()}

    def create_graph(self, definition):
        return answer(self.session.create_graph(CreateGraphRequest.from_dict(definition)))

    def list_graphs(self):
        return answer(self.session.list_graphs())

    def get_graph(self, graph_id):
        return answer(self.session.get_graph_meta(graph_id))

    def delete_graph(self, graph_id):
        return answer(self.session.delete_graph(graph_id))

    def bulk_loading(self, graph_id, mapping):
        return answer(self.session.bulk_loading(graph_id, SchemaMapping.from_dict(mapping)))

    def list_jobs(self):
        return answer(self.session.list_jobs())

    def get_job(self, job_id):
        return answer(self.session.get_job(job_id))

    def cancel_job(self, job_id):
        return answer(self.session.cancel_job(job_id))

    def wait_job(self, job_id, timeout=60.0, until=("SUCCESS", "FAILED", "CANCELLED")):
        """Poll get_job the way the SDK's own tests do (but also stopping on CANCELLED)."""
        deadline = time.monotonic() + timeout
        polls = 0
        while True:
            result = self.session.get_job(job_id)
            polls += 1
            if not result.is_ok():
                return answer(result)
            if result.get_value().status in until or time.monotonic() > deadline:
                return {**answer(result), "polls": polls}
            time.sleep(0.1)

    def wait_running(self, job_id, timeout=60.0):
        return self.wait_job(job_id, timeout=timeout, until=("RUNNING",))


def main() -> None:
    runner = Runner()
    for line in sys.stdin:
        command = json.loads(line)
        op = command.pop("op")
        sink = io.StringIO()  # the SDK prints debug text; keep stdout for answers
        try:
            with contextlib.redirect_stdout(sink):
                reply = getattr(runner, op)(**command)
        except Exception:
            reply = {"crash": traceback.format_exc()}
        reply["stdout"] = sink.getvalue()[-4000:]
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
