"""``manage.py serve``: the production web server (gunicorn) and its workers (one unless
``--workers``), supervised.

Each child runs in a session of its own, so a terminal's Ctrl-C (SIGINT to every process of the
foreground group: ``make`` and serve) reaches serve only, which asks each child once to stop
(SIGTERM): the worker puts a running job back in the queue, gunicorn finishes in-flight
requests. (In serve's group, each would get the terminal's SIGINT too, take serve's SIGTERM for
a second Ctrl-C and be forced out, leaving the job ``running``.) A repeat within
``REPEAT_WINDOW`` of the first stop signal is the same stop delivered twice (``make`` passes a
SIGTERM on, a service manager signals the whole group); a later one kills every process of
both at once. SIGHUP (the terminal closed) stops like Ctrl-C; on Linux the children get SIGTERM
if serve itself dies, so no orphan keeps the port.

A child that dies is restarted after a back-off (:class:`Backoff`); a new worker is told the
ids of the workers that died, so its start-up recovery puts their jobs back in the queue at once
(``job_recover_stale``).

Once the web server answers, serve prints a short banner: the address, how to stop, and (with
``--bootstrap`` on a database without any user, as ``make run`` starts it) the password of the
``admin`` account it has just created, shown this once. Gunicorn logs warnings and requests
only, so the banner is not buried under start-up lines.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from jobcenter.core.ids import worker_id_for
from jobcenter.core.weblog import PROBE_AGENT
from jobcenter.projects.services import FIRST_ADMIN, first_start_bootstrap

REPEAT_WINDOW = 1.0  # seconds: a repeated stop signal within this is not a second Ctrl-C
STOP_TIMEOUT = 60.0  # seconds a graceful stop may take before the children are killed
POLL_SECONDS = 0.2
LOST_WORKERS_KEPT = 20  # ids of dead workers passed to the next worker's recovery
PR_SET_PDEATHSIG = 1


@dataclass
class Backoff:
    """Delay before restarting a child that died: ``first``, doubling up to ``longest`` while
    it keeps dying within ``healthy_after`` seconds of its start, ``first`` again after that."""

    first: float = 1.0
    longest: float = 60.0
    healthy_after: float = 30.0
    delay: float = 0.0

    def after_exit(self, *, ran_for: float) -> float:
        if not self.delay or ran_for >= self.healthy_after:
            self.delay = self.first
        else:
            self.delay = min(self.longest, self.delay * 2)
        return self.delay


def _prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


class Child:
    """One supervised process, leader of its own session (and so of its process group)."""

    def __init__(self, name: str, argv: Callable[[], list[str]]) -> None:
        self.name = name
        self.argv = argv
        self.proc: subprocess.Popen | None = None
        self.started = 0.0
        self.restart_at: float | None = None
        self.reaped = False
        self.died: list[int] = []  # pids of its earlier runs that died unasked
        self.backoff = Backoff()

    def start(self) -> None:
        parent, prctl = os.getpid(), _prctl()

        def stop_with_parent() -> None:  # runs in the child, before exec
            if prctl is not None:
                prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
            if os.getppid() != parent:  # serve died before that took effect
                os._exit(1)

        self.proc = subprocess.Popen(
            self.argv(),
            cwd=settings.BASE_DIR,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=stop_with_parent,  # serve has no threads, so this is safe
        )
        self.started = time.monotonic()
        self.restart_at = None
        self.reaped = False

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def just_exited(self) -> bool:
        """True once, when the process has ended; then kills what is left of its group (an
        orphaned gunicorn worker, an algorithm's forked child), which would hold the port or
        the CPU. The group id cannot be reused while any of its members lives."""
        if self.proc is None or self.reaped or self.proc.poll() is None:
            return False
        self.reaped = True
        self.kill_group()
        return True

    def kill_group(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)

    def how_it_ended(self) -> str:
        assert self.proc is not None and self.proc.returncode is not None
        code = self.proc.returncode
        if code < 0:
            return f"was killed by {signal.Signals(-code).name}"
        return f"exited with code {code}"


class Supervisor:
    """Runs the children until a stop signal, restarting any that dies (see module doc)."""

    def __init__(
        self,
        children: list[Child],
        *,
        out: Callable[[str], Any],
        err: Callable[[str], Any],
        ready: Callable[[], bool] = lambda: True,
        on_ready: Callable[[], Any] = lambda: None,
    ) -> None:
        self.children = children
        self.out, self.err = out, err
        self.ready, self.on_ready = ready, on_ready  # called once, when ready() first holds
        self.announced = False
        self.stop_at: float | None = None  # when the first stop signal came
        self.force = False
        self.stopping = False

    def on_signal(self, _signum: int, _frame: Any) -> None:
        now = time.monotonic()
        if self.stop_at is None:
            self.stop_at = now
        elif now - self.stop_at >= REPEAT_WINDOW:
            self.force = True

    def start(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self.on_signal)
        for child in self.children:
            child.start()

    def run(self) -> int:
        """Supervise until every child has stopped; the exit code (1 after a forced stop)."""
        while True:
            now = time.monotonic()
            if self.force:
                self.kill_all()
                return 1
            if self.stop_at is not None and not self.stopping:
                self.stop_gracefully()
            for child in self.children:
                if child.just_exited() and not self.stopping:
                    self.restart_later(child, now)
            if self.stopping:
                if not any(child.alive() for child in self.children):
                    self.out("Stopped.")
                    return 0
                if now - (self.stop_at or now) > STOP_TIMEOUT:
                    self.err(f"Not stopped after {STOP_TIMEOUT:g}s.")
                    self.force = True
            else:
                for child in self.children:
                    if child.restart_at is not None and now >= child.restart_at:
                        child.start()
                if not self.announced and self.ready():
                    self.announced = True
                    self.on_ready()
            time.sleep(POLL_SECONDS)

    def workers(self) -> str:
        """How the stop messages name the workers: "worker", or "workers" when several."""
        several = sum(child.name.startswith("worker") for child in self.children) > 1
        return "workers" if several else "worker"

    def stop_gracefully(self) -> None:
        self.stopping = True
        self.out(f"\nStopping web server and {self.workers()}... (Ctrl-C again to force)")
        for child in self.children:
            if child.alive():
                child.proc.send_signal(signal.SIGTERM)  # type: ignore[union-attr]

    def kill_all(self) -> None:
        for child in self.children:
            if child.proc is not None and not child.reaped:
                child.kill_group()
        for child in self.children:
            if child.proc is not None:
                child.proc.wait()
        self.err(f"Forced stop: killed the web server and the {self.workers()}.")

    def restart_later(self, child: Child, now: float) -> None:
        child.died.append(child.pid)
        ran_for = now - child.started
        delay = child.backoff.after_exit(ran_for=ran_for)
        child.restart_at = now + delay
        note = ""
        if delay > child.backoff.first:
            note = " (it keeps dying soon after it starts: see its output above)"
        self.err(
            f"The {child.name} (pid {child.pid}) {child.how_it_ended()} after {ran_for:.1f}s; "
            f"restarting it in {delay:g}s{note}."
        )


def port_free_or_fail(host: str, port: int) -> None:
    """A clear error at once when the port is taken (say, by a jobcenter already running),
    rather than a web server that the supervisor restarts forever."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise CommandError(
                f"cannot listen on {host}:{port}: {exc.strerror} (is jobcenter already "
                "running? PORT=9000 make run picks another port)"
            ) from exc


def answers(host: str, port: int) -> bool:
    """Whether the web server answers its health check on ``host:port``. Accepting connections
    is not enough: gunicorn's master listens before its workers have loaded Django, and the
    banner must not send anyone to a page that does not load yet."""
    probe = urllib.request.Request(
        f"http://{host}:{port}/api/health/", headers={"User-Agent": PROBE_AGENT}
    )
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
    try:
        with direct.open(probe, timeout=1) as resp:
            return resp.status == 200
    except (OSError, ValueError):
        return False


def change_password_hint() -> str:
    """The command that changes the first admin's password, as the operator would type it."""
    python = Path(sys.executable)
    with contextlib.suppress(ValueError):
        python = python.relative_to(Path.cwd())
    return f"{python} manage.py changepassword {FIRST_ADMIN}"


def first_admin_lines(password: str) -> list[str]:
    return [
        f"  First start: log in as {FIRST_ADMIN} with password {password}",
        f"    (shown only this once; change it with: {change_password_hint()})",
    ]


def banner(url: str, password: str | None) -> str:
    """What serve prints once the web server answers."""
    lines = ["", f"  jobcenter is running at {url}"]
    if password is not None:
        lines += first_admin_lines(password)
    lines += ["  Press Ctrl-C to stop it.", ""]
    return "\n".join(lines)


def worker_child(manage: Path, name: str) -> Child:
    """A job worker (``manage.py db_worker``), told at each restart which of its earlier runs
    died, so their jobs are recovered as it starts."""

    def argv() -> list[str]:
        return [
            sys.executable,
            str(manage),
            "db_worker",
            "--no-reload",
            "--queue-name",
            "*",
            *(
                arg
                for pid in child.died[-LOST_WORKERS_KEPT:]
                for arg in ("--lost-worker", worker_id_for(pid))
            ),
        ]

    child = Child(name, argv)
    return child


class Command(BaseCommand):
    help = "Run the web server (gunicorn, static files by WhiteNoise) and job workers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--web-workers", type=int, default=3)
        parser.add_argument(
            "--workers", type=int, default=1, help="Job workers (db_worker processes) to run."
        )
        parser.add_argument(
            "--bootstrap",
            action="store_true",
            help="On a database without any user, create the admin account and a default "
            "project, and show the admin's password in the banner (once).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host, port, count = options["host"], options["port"], options["workers"]
        if count < 1:
            raise CommandError(f"--workers must be at least 1, not {count}")
        port_free_or_fail(host, port)
        password = first_start_bootstrap() if options["bootstrap"] else None
        bindir = Path(sys.executable).parent
        manage = Path(settings.BASE_DIR) / "manage.py"
        web = Child(
            "web server",
            lambda: [
                str(bindir / "gunicorn"),
                "jobcenter.wsgi:application",
                "--bind",
                f"{host}:{port}",
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
                "--logger-class",
                "jobcenter.core.weblog.AccessLogger",
                "--log-level",  # requests still go to the access log
                "warning",
                # Its default socket (~/.gunicorn/gunicorn.ctl) is shared by every instance of
                # the user; we do not use the control interface.
                "--no-control-socket",
            ],
        )
        workers = [
            worker_child(manage, "worker" if count == 1 else f"worker {n}")
            for n in range(1, count + 1)
        ]

        def announce() -> None:
            self.stdout.write(banner(f"http://{host}:{port}/", password))
            self.stdout.flush()  # before the children's next lines, which do not go through it

        supervisor = Supervisor(
            [web, *workers],
            out=self.stdout.write,
            err=self.stderr.write,
            ready=lambda: answers(host, port),
            on_ready=announce,
        )
        supervisor.start()
        code = supervisor.run()
        if password is not None and not supervisor.announced:  # it never answered: say it now
            self.stdout.write("\n".join(["", *first_admin_lines(password), ""]))
        if code:
            sys.exit(1)
