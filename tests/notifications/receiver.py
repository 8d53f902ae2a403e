"""A real HTTP receiver for webhook tests: http.server on 127.0.0.1, in a thread."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from jobcenter.projects.choices import Role
from jobcenter.projects.services import membership_set
from tests.factories.projects import user_create


def project_admin(project: Any, username: str = "ada") -> Any:
    """A user with the admin role in ``project`` (webhooks are project admins' business)."""
    user = user_create(username)
    membership_set(project=project, user=user, role=Role.ADMIN)
    return user


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.time() when it arrived

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """Records every POST; answers ``status`` (200 unless told otherwise). ``stop()`` closes the
    port (a receiver that is down), ``start()`` opens the same port again."""

    def __init__(self, status: int = 200, port: int = 0, tls: Any = None) -> None:
        self.status = status
        self.port = port
        self.tls = tls  # an ssl.SSLContext: serve HTTPS
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver.lock:
                    receiver.received.append(
                        Received(self.path, dict(self.headers.items()), body, time.time())
                    )
                    status = receiver.status
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        if self.tls is not None:
            self.server.socket = self.tls.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/jobcenter"

    def bodies(self) -> list[dict]:
        with self.lock:
            return [item.json for item in self.received]
