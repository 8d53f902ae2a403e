"""``manage.py serve`` (what ``make run`` starts): gunicorn + a worker, supervised.

The end-to-end tests start real processes the way a terminal does: ``make run``'s recipe (or
``manage.py serve``) as the leader of a new session, stopped by signals to its whole process
group as Ctrl-C sends them, on the test's job database.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from jobcenter.graphs.models import Graph
from jobcenter.graphs.stores.factory import open_store, store_exists
from jobcenter.jobs.choices import TERMINAL_STATUSES, EventKind, JobStatus
from jobcenter.jobs.models import Job
from jobcenter.jobs.registry import register, unregister
from jobcenter.jobs.services import job_submit_import
from tests.factories.files import PACED, write_ges_files
from tests.factories.graphs import ges_graph
from tests.factories.waiting import wait_for
from tests.jobs import sleepy_kind

REPO = Path(__file__).resolve().parents[2]

VERTICES = 20_000
EDGES = 6_000_000  # at least 30 s of import at PACED: still running when the test stops it


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children_of(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        kids = children_of(todo.pop())
        found += kids
        todo += kids
    return found


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def gone(pid: int) -> bool:
    """Exited (a zombie counts: PID 1 of a container may never reap it)."""
    try:
        return "zombie" in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True


def answers(url: str) -> bool:
    assert url.startswith("http://127.0.0.1:")
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 (checked above)
            return resp.status == 200
    except OSError:
        return False


def job_db_env(**env: str) -> dict[str, str]:
    """The environment of processes that work on the test's job database (as WorkerProcess)."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "JOBCENTER_TEST_WORKER": "1",
        "JOBCENTER_DATA_DIR": str(settings.DATA_DIR),
        "JOBCENTER_WARM_ON_START": "0",
        # Progress is seen within 0.2 s (a stop signal is noticed at once, a cancel at a
        # heartbeat): a stop lands early in the import.
        "JOBCENTER_HEARTBEAT_INTERVAL": "0.2",
        "PYTHONUNBUFFERED": "1",
        **env,
    }


class Serve:
    """A real ``manage.py serve`` on the test database, leading its own session like a
    terminal's foreground job; ``via_make`` starts it through ``make run``'s recipe."""

    def __init__(self, tmp: Path, *, via_make: bool = False, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = job_db_env(**env)
        self.log = tmp / f"serve-{self.port}.log"
        serve = ["serve", "--port", str(self.port), "--web-workers", "1"]
        if via_make:
            # The exact line of the Makefile's run target, run by make as `make run` runs it.
            lines = (REPO / "Makefile").read_text().splitlines()
            recipe = [line for line in lines if "manage.py serve" in line]
            assert len(recipe) == 1, recipe
            makefile = tmp / "Makefile"
            makefile.write_text(f"SHELL := /bin/bash\nrun:\n{recipe[0]} --web-workers 1\n")
            argv = ["make", "-s", "-f", str(makefile), "run", f"PY={sys.executable}"]
            argv.append(f"PORT={self.port}")
        else:
            argv = [sys.executable, str(REPO / "manage.py"), *serve]
        self.proc = subprocess.Popen(
            argv,
            cwd=REPO,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.via_make = via_make

    def output(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def serve_pid(self) -> int:
        if not self.via_make:
            return self.proc.pid
        return wait_for(lambda: next(iter(children_of(self.proc.pid)), None), timeout=10)

    def child(self, name: str) -> int | None:
        """The pid of serve's child whose command line holds ``name`` (gunicorn, db_worker)."""
        kids = [pid for pid in children_of(self.serve_pid()) if name in command_line(pid)]
        return kids[0] if kids else None

    def wait_up(self, timeout: float = 60) -> None:
        wait_for(lambda: answers(f"{self.url}/api/health/"), timeout=timeout)
        wait_for(lambda: self.child("db_worker"), timeout=timeout)

    def ctrl_c(self) -> None:
        """What a terminal does on Ctrl-C: SIGINT to every process of the foreground group."""
        os.killpg(self.proc.pid, signal.SIGINT)

    def wait(self, timeout: float) -> int:
        return self.proc.wait(timeout=timeout)

    def kill(self) -> None:
        for pid in [*descendants(self.proc.pid), self.proc.pid]:
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)


@pytest.fixture
def serve(tmp_path) -> Iterator:
    started: list[Serve] = []

    def start(**options: object) -> Serve:
        server = Serve(tmp_path, **options)
        started.append(server)
        return server

    yield start
    for server in started:
        if server.proc.poll() is None:
            server.kill()


def status_of(job: Job) -> str:
    return Job.objects.get(pk=job.pk).status


def graph_counts(graph: Graph) -> dict:
    if not store_exists(graph):
        return {"vertices": {}, "edges": {}}
    store = open_store(graph)
    try:
        return store.counts()
    finally:
        store.close()


def big_import(project, imports_dir, *, edges: int = EDGES) -> tuple[Graph, Job]:
    graph = ges_graph(project)
    files = write_ges_files(imports_dir / f"big-{graph.pk}", vertices=VERTICES, edges=edges)
    job = job_submit_import(graph=graph, params={"format": "ges", "request": files})
    return graph, job


def running_with_progress(job: Job) -> bool:
    fresh = Job.objects.get(pk=job.pk)
    assert fresh.status not in TERMINAL_STATUSES, (fresh.status, fresh.fail_reason)
    return fresh.status == JobStatus.RUNNING and fresh.lines_done > 0


def assert_imported_exactly(graph: Graph, job: Job) -> None:
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, (job.status, job.fail_reason)
    assert (job.lines_done, job.lines_total) == (VERTICES + EDGES, VERTICES + EDGES)
    files = {f.role: (f.total_lines, f.successful_lines, f.failed_lines) for f in job.files.all()}
    assert files["vertex"] == (VERTICES, VERTICES, 0)
    assert files["edge"] == (EDGES, EDGES, 0)
    assert graph_counts(graph) == {"vertices": {"n": VERTICES}, "edges": {"e": EDGES}}
    assert Graph.objects.get(pk=graph.pk).write_lock == ""


def test_backoff_doubles_for_quick_deaths_and_resets_after_a_good_run():
    from jobcenter.core.management.commands.serve import Backoff

    backoff = Backoff(first=1, longest=60, healthy_after=30)
    assert [backoff.after_exit(ran_for=0.5) for _ in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert backoff.after_exit(ran_for=31) == 1  # it ran well: a fresh start
    assert backoff.after_exit(ran_for=2) == 2


@pytest.mark.slow
def test_serve_runs_web_and_worker_and_stops_on_ctrl_c(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("JOBCENTER_TEST", "DATABASE_URL", "DJANGO_SETTINGS"))
    }
    env.update(JOBCENTER_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="jobcenter.settings")
    manage = [sys.executable, str(REPO / "manage.py")]
    for command in (["migrate", "-v", "0"], ["collectstatic", "--noinput", "-v", "0"]):
        subprocess.run([*manage, *command], env=env, cwd=REPO, check=True)
    bootstrap = subprocess.run(
        [*manage, "bootstrap"], env=env, cwd=REPO, check=True, capture_output=True, text=True
    )
    assert "username: admin" in bootstrap.stdout
    port = free_port()
    proc = subprocess.Popen(
        [*manage, "serve", "--port", str(port)],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/login/") as resp:
                    assert resp.status == 200
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        static = f"http://127.0.0.1:{port}/static/admin/css/base.css"
        with urllib.request.urlopen(static) as resp:  # served by WhiteNoise, not runserver
            assert resp.status == 200 and b"body" in resp.read()
        kids = children_of(proc.pid)
        assert len(kids) == 2  # gunicorn master and the worker
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, output
    assert "Stopped." in output
    for kid in kids:
        assert gone(kid)


def fresh_install_env(data_dir: Path, **env: str) -> dict[str, str]:
    """The environment of a new operator's shell: production settings, no test database."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("JOBCENTER_", "DATABASE_URL", "DJANGO_SETTINGS", "MAKE"))
    }
    return {
        **clean,
        "JOBCENTER_DATA_DIR": str(data_dir),
        "DJANGO_SETTINGS_MODULE": "jobcenter.settings",
        "PYTHONUNBUFFERED": "1",
        **env,
    }


PIP_LINES = 45


def venv_with_a_stand_in_pip(tmp: Path) -> Path:
    """A virtualenv directory for ``make VENV=...`` whose python is this test's own, except that
    ``python -m pip`` prints what pip prints (45 lines) and installs nothing: the test must not
    download and install the dependencies (minutes, the network). Everything else ``make run``
    does is real: the Makefile, migrate, collectstatic, serve, gunicorn and the worker."""
    venv = tmp / "venv"
    (venv / "bin").mkdir(parents=True)
    python = venv / "bin" / "python"
    python.write_text(
        "#!/bin/sh\n"
        'if [ "$1 $2" = "-m pip" ]; then\n'
        f"  i=0; while [ $i -lt {PIP_LINES} ]; do\n"
        '    echo "Collecting package-$i (from jobcenter==0.1.0)"; i=$((i+1))\n'
        "  done\n"
        "  exit ${FAKE_PIP_EXIT:-0}\n"
        "fi\n"
        f'exec {sys.executable} "$@"\n'
    )
    python.chmod(0o755)
    return venv


class Console:
    """``make run`` in a terminal: its output read line by line as it comes."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            argv,
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def lines_until(self, text: str, timeout: float = 120) -> list[str]:
        """The output up to and including the first line containing ``text``."""
        deadline = time.monotonic() + timeout
        while True:
            for i, line in enumerate(self.lines):
                if text in line:
                    return self.lines[: i + 1]
            assert self.proc.poll() is None, "\n".join(self.lines)
            assert time.monotonic() < deadline, "\n".join(self.lines)
            time.sleep(0.1)

    def ctrl_c(self) -> str:
        os.killpg(self.proc.pid, signal.SIGINT)
        self.proc.wait(timeout=30)
        self.reader.join(timeout=10)
        return "\n".join(self.lines)

    def kill(self) -> None:
        if self.proc.poll() is None:
            for pid in [*descendants(self.proc.pid), self.proc.pid]:
                with contextlib.suppress(OSError):
                    os.killpg(pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


def token_for(url: str, username: str, password: str) -> int:
    """The HTTP status of asking ``url`` for an API token with these credentials."""
    assert url.startswith("http://127.0.0.1:")
    request = urllib.request.Request(  # noqa: S310 (checked above)
        f"{url}api/v1/auth/token/",
        data=json.dumps({"username": username, "password": password}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:  # noqa: S310
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def said(lines: list[str]) -> list[str]:
    """The lines that say something, but the worker's start line (``make run`` does not
    order it against the banner)."""
    return [line for line in lines if line.strip() and not line.startswith("Starting worker ")]


@pytest.mark.slow
def test_make_run_is_quiet_until_a_short_banner_with_the_url_and_the_password(tmp_path):
    venv = venv_with_a_stand_in_pip(tmp_path)
    env = fresh_install_env(tmp_path / "data")
    port = free_port()
    argv = ["make", "--no-print-directory", "run", f"VENV={venv}", f"PORT={port}"]
    url = f"http://127.0.0.1:{port}/"
    # serve names its python (.venv/bin/python in a clone), here the one running the tests
    python = Path(os.path.relpath(sys.executable, REPO))
    if python.parts[0] == "..":
        python = Path(sys.executable)

    first = Console(argv, env)
    try:
        shown = first.lines_until("Ctrl-C")
        text = "\n".join(shown)
        password = re.search(r"^  First start: log in as admin with password (\S+)$", text, re.M)
        assert password, text
        # the first start: one line for the installs, then the banner, and nothing else (but
        # the worker's line saying it started, which may come first)
        assert said(shown) == [
            f"Installing jobcenter and its dependencies into {venv} (a minute or two, the "
            "first time)...",
            f"  jobcenter is running at {url}",
            password.group(0),
            f"    (shown only this once; change it with: {python} manage.py changepassword admin)",
            "  Press Ctrl-C to stop it.",
        ], text
        assert answers(f"{url}api/health/")
        assert token_for(url, "admin", password.group(1)) == 200
        assert token_for(url, "admin", "not-" + password.group(1)) == 400
        output = first.ctrl_c()
    finally:
        first.kill()
    assert "Stopped." in output, output

    again = Console(argv, env)  # installed and set up: the banner alone, no password
    try:
        shown = again.lines_until("Ctrl-C")
        assert said(shown) == [
            f"  jobcenter is running at {url}",
            "  Press Ctrl-C to stop it.",
        ], "\n".join(shown)
        output = again.ctrl_c()
    finally:
        again.kill()
    assert "Stopped." in output, output


@pytest.mark.slow
def test_the_first_admin_password_is_shown_even_if_the_web_server_never_answers(tmp_path):
    # gunicorn refuses to start (a bad option in its environment): no banner, but the
    # password of the admin just created is still shown when serve stops
    env = fresh_install_env(tmp_path / "data", GUNICORN_CMD_ARGS="--no-such-option")
    manage = [sys.executable, str(REPO / "manage.py")]
    subprocess.run([*manage, "migrate", "-v", "0"], env=env, cwd=REPO, check=True)
    port = free_port()
    console = Console([*manage, "serve", "--port", str(port), "--bootstrap"], env)
    try:
        console.lines_until("restarting it in", timeout=60)
        output = console.ctrl_c()
    finally:
        console.kill()
    assert "jobcenter is running" not in output, output
    password = re.search(r"^  First start: log in as admin with password (\S+)$", output, re.M)
    assert password, output
    check = (
        "from django.contrib.auth import get_user_model; "
        f"print(get_user_model().objects.get(username='admin').check_password({password.group(1)!r}))"
    )
    done = subprocess.run(
        [*manage, "shell", "-c", check], env=env, cwd=REPO, capture_output=True, text=True
    )
    assert done.stdout.strip().endswith("True"), (done.stdout, done.stderr)


def test_a_failed_install_shows_what_pip_said(tmp_path):
    venv = venv_with_a_stand_in_pip(tmp_path)
    env = fresh_install_env(tmp_path / "data", FAKE_PIP_EXIT="1")
    done = subprocess.run(
        ["make", "--no-print-directory", "install", f"VENV={venv}"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert done.stdout.count("Collecting package-") == PIP_LINES, done.stdout
    assert "Failed: " in done.stderr and "pip install" in done.stderr, done.stderr
    assert not (venv / ".installed").exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_ctrl_c_on_make_run_requeues_the_import_and_the_next_start_finishes_it(
    project, imports_dir, serve
):
    graph, job = big_import(project, imports_dir)
    server = serve(via_make=True, **PACED)
    server.wait_up()
    wait_for(lambda: running_with_progress(job), timeout=60)
    processes = descendants(server.proc.pid)
    assert len(processes) >= 4, processes  # serve, gunicorn master and worker(s), db_worker
    pressed = time.monotonic()
    server.ctrl_c()
    server.wait(timeout=30)
    wait_for(lambda: all(gone(pid) for pid in processes), timeout=15)
    took = time.monotonic() - pressed
    assert took < 15, f"stopping took {took:.1f}s"
    output = server.output()
    job.refresh_from_db()
    assert (job.status, job.lines_done, job.fail_reason) == (JobStatus.WAITING, 0, ""), output
    assert "terminating current task" not in output, output  # nobody saw a second Ctrl-C
    assert "Forced stop" not in output, output
    assert graph_counts(graph) == {"vertices": {}, "edges": {}}
    assert Graph.objects.get(pk=graph.pk).write_lock == ""

    again = serve(via_make=True)
    wait_for(lambda: status_of(job) in TERMINAL_STATUSES, timeout=180)
    assert_imported_exactly(graph, job)
    again.ctrl_c()
    again.wait(timeout=30)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_is_restarted_and_its_job_requeued_while_the_web_keeps_answering(
    project, imports_dir, serve
):
    graph, job = big_import(project, imports_dir)
    server = serve()
    server.wait_up()
    wait_for(lambda: running_with_progress(job), timeout=60)
    refused: list[float] = []
    polling = threading.Event()

    def poll_web() -> None:
        while not polling.wait(0.1):
            if not answers(f"{server.url}/api/health/"):
                refused.append(time.monotonic())

    poller = threading.Thread(target=poll_web, daemon=True)
    poller.start()
    try:
        dead = server.child("db_worker")
        assert dead is not None
        os.kill(dead, signal.SIGKILL)
        restarted = wait_for(lambda: (pid := server.child("db_worker")) != dead and pid, timeout=30)
        wait_for(lambda: status_of(job) in TERMINAL_STATUSES, timeout=180)
    finally:
        polling.set()
        poller.join()
    output = server.output()
    assert not refused, output
    assert server.proc.poll() is None, output
    assert f"pid {dead}" in output and "restarting it in 1s" in output, output
    assert_imported_exactly(graph, job)
    assert job.attempt == 2
    assert job.events.filter(kind=EventKind.REQUEUED, message__contains="worker died").exists()

    # The web server is supervised the same way.
    web = server.child("gunicorn")
    assert web is not None
    os.kill(web, signal.SIGKILL)
    wait_for(lambda: server.child("gunicorn") not in (None, web), timeout=30)
    wait_for(lambda: answers(f"{server.url}/api/health/"), timeout=30)
    assert server.child("db_worker") == restarted
    server.ctrl_c()
    assert server.wait(timeout=30) == 0, server.output()


@pytest.fixture
def sleepy_registered():
    register(sleepy_kind.KIND)
    yield sleepy_kind.KIND
    unregister(sleepy_kind.TYPE)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_second_ctrl_c_forces_every_process_out_at_once(project, serve, sleepy_registered):
    # A job that does not look at its stop flag for a minute: the graceful stop is slow.
    job = sleepy_kind.job_submit_sleepy(graph=ges_graph(project))
    server = serve(via_make=True, JOBCENTER_JOB_KINDS="tests.jobs.sleepy_kind")
    server.wait_up()
    wait_for(lambda: status_of(job) == JobStatus.RUNNING, timeout=60)
    processes = descendants(server.proc.pid)
    server.ctrl_c()
    wait_for(lambda: "Stopping" in server.output(), timeout=10)
    time.sleep(1.5)  # a repeat within a second is taken as the same stop, not a second Ctrl-C
    assert server.proc.poll() is None, server.output()
    pressed = time.monotonic()
    server.ctrl_c()
    server.wait(timeout=10)
    wait_for(lambda: all(gone(pid) for pid in processes), timeout=10)
    took = time.monotonic() - pressed
    assert took < 3, f"forced stop took {took:.1f}s"
    assert server.proc.returncode != 0
    assert "killed" in server.output().lower(), server.output()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_that_keeps_dying_is_restarted_ever_later_and_said_so(serve):
    server = serve()
    server.wait_up()
    first = server.child("db_worker")
    assert first is not None
    os.kill(first, signal.SIGKILL)
    second = wait_for(lambda: (pid := server.child("db_worker")) not in (None, first) and pid)
    os.kill(second, signal.SIGKILL)  # at once: it never got going
    wait_for(lambda: f"pid {second}" in server.output(), timeout=10)
    output = server.output()
    assert f"The worker (pid {first}) was killed by SIGKILL" in output, output
    assert "restarting it in 1s." in output
    assert "restarting it in 2s (it keeps dying soon after it starts" in output, output
    assert answers(f"{server.url}/api/health/")
    server.ctrl_c()
    assert server.wait(timeout=30) == 0, server.output()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_if_serve_itself_is_killed_its_children_stop_gracefully(project, imports_dir, serve):
    graph, job = big_import(project, imports_dir)
    server = serve(**PACED)
    server.wait_up()
    wait_for(lambda: running_with_progress(job), timeout=60)
    processes = descendants(server.proc.pid)
    os.kill(server.proc.pid, signal.SIGKILL)
    server.wait(timeout=10)
    wait_for(lambda: all(gone(pid) for pid in processes), timeout=20)
    job.refresh_from_db()
    assert (job.status, job.lines_done) == (JobStatus.WAITING, 0), server.output()
    assert graph_counts(graph) == {"vertices": {}, "edges": {}}


def test_a_taken_port_is_a_clear_error_at_once():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, str(REPO / "manage.py"), "serve", "--port", str(port)],
            cwd=REPO,
            env=job_db_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "already running" in done.stderr
