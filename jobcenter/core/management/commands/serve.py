"""``manage.py serve``: the production web server (gunicorn) and one worker, together.

Ctrl-C (or SIGTERM) stops both: the worker puts a running job back in the queue and exits, the
web server finishes in-flight requests. If either process dies, the other is stopped too.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run the web server (gunicorn, static files by WhiteNoise) and a job worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--web-workers", type=int, default=3)

    def handle(self, *args: Any, **options: Any) -> None:
        bindir = Path(sys.executable).parent
        manage = Path(settings.BASE_DIR) / "manage.py"
        web = subprocess.Popen(
            [
                str(bindir / "gunicorn"),
                "jobcenter.wsgi:application",
                "--bind",
                f"{options['host']}:{options['port']}",
                "--workers",
                str(options["web_workers"]),
                "--threads",
                "4",
                "--worker-class",
                "gthread",
                "--graceful-timeout",
                "10",
                "--access-logfile",
                "-",
                "--log-level",
                "info",
                # Its default socket (~/.gunicorn/gunicorn.ctl) is shared by every instance of
                # the user; we do not use the control interface.
                "--no-control-socket",
            ],
            cwd=settings.BASE_DIR,
        )
        worker = subprocess.Popen(
            [sys.executable, str(manage), "db_worker", "--no-reload", "--queue-name", "*"],
            cwd=settings.BASE_DIR,
        )
        children = [web, worker]
        stopping = False

        def stop(signum: int, _frame: Any) -> None:
            nonlocal stopping
            if stopping:  # second Ctrl-C: force
                for child in children:
                    if child.poll() is None:
                        child.kill()
                return
            stopping = True
            self.stdout.write("\nStopping web server and worker...")
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        self.stdout.write(
            f"jobcenter is running at http://{options['host']}:{options['port']}/ (Ctrl-C stops it)"
        )
        while True:
            if all(child.poll() is not None for child in children):
                break
            if not stopping and any(child.poll() is not None for child in children):
                self.stderr.write("A process exited; stopping the other.")
                stop(signal.SIGTERM, None)
            time.sleep(0.2)
        self.stdout.write("Stopped.")
