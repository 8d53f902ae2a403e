"""What the ``manage.py jobs`` subcommands share: a job and a failed line as the command shows
them (JSON and text), the acting user, the output, and following a job to its end."""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from jobcenter.core.database import DatabaseCommand
from jobcenter.jobs.choices import TERMINAL_STATUSES
from jobcenter.jobs.models import FailedLine, Job
from jobcenter.jobs.selectors import file_status, job_failed_lines, job_files, job_links


def _iso(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


SHOWN_FAILED_LINES = 20  # by jobs show; jobs failed-lines lists them all


def job_dict(job: Job, *, files: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": job.pk,
        "type": job.type,
        "name": job.name,
        "project": job.project.name,
        "graph": job.graph_name,
        "status": job.status,
        "progress": round(job.progress, 1),
        "lines_done": job.lines_done,
        "lines_total": job.lines_total,
        "lines_per_second": job.lines_per_second,
        "created_at": _iso(job.created_at),
        "started_at": _iso(job.started_at),
        "finished_at": _iso(job.finished_at),
        "fail_reason": job.fail_reason or None,
        "cancellable": job.cancellable,
        "dry_run": job.dry_run,
        "submitted_by": job.submitted_by.get_username() if job.submitted_by else None,
        "cancel_requested_by": (
            job.cancel_requested_by.get_username() if job.cancel_requested_by else None
        ),
        "cancel_requested_at": _iso(job.cancel_requested_at),
    }
    if files:
        data["files"] = [
            {
                "role": f.role,
                "path": f.path,
                "status": file_status(job, f),  # "skipped": not finished when the job ended
                "total_lines": f.total_lines,
                "successful_lines": f.successful_lines,  # passed validation
                "failed_lines": f.failed_lines,
                "committed_lines": f.committed_lines,  # None while the job is active
                "cause": f.cause or None,
            }
            for f in job_files(job=job)
        ]
        data["failed_lines_total"] = sum(f["failed_lines"] for f in data["files"])
        data["failed_lines_kept"] = job_failed_lines(job=job).count()
        data["failed_lines"] = [
            failed_line_dict(line) for line in job_failed_lines(job=job)[:SHOWN_FAILED_LINES]
        ]
        links = job_links(job=job)  # its place in a chain (issue 17)
        data["depends_on"] = [dep.pk for dep in links.depends_on]
        data["dependents"] = [dep.pk for dep in links.dependents]
        data["waiting_for"] = [
            {"id": dep.pk, "type": dep.type, "status": dep.status} for dep in links.waiting_for
        ]
    return data


def failed_line_dict(line: FailedLine) -> dict[str, Any]:
    return {
        "file": line.file.path,
        "line": line.line_number,
        "reason": line.reason,
        "message": line.message,
    }


class JobsCommandBase(DatabaseCommand):
    """The helpers every subcommand group (a mixin of the ``jobs`` command) uses."""

    def _user(self, name: str | None) -> Any:
        users = get_user_model().objects
        if name:
            user = users.filter(username=name).first()
            if user is None:
                raise CommandError(f"user {name!r} does not exist")
            return user
        return users.filter(is_superuser=True).order_by("pk").first()

    def _emit(self, options: dict, data: Any, text: str) -> None:
        self.stdout.write(json.dumps(data, indent=2) if options.get("json") else text)

    def _text(self, data: dict) -> str:
        lines = [
            f"{data['id']}  {data['name']}  graph={data['graph']}  {data['status']}  "
            f"{data['progress']}%  ({data['lines_done']}/{data['lines_total']} lines)"
            + ("  [dry run: nothing written]" if data.get("dry_run") else "")
        ]
        if data.get("fail_reason"):
            lines.append(f"  reason: {data['fail_reason']}")
        if data.get("waiting_for"):
            waits = ", ".join(
                f"{w['id']} ({w['type']}, {w['status']})" for w in data["waiting_for"]
            )
            lines.append(f"  waiting for: {waits}")
        if data.get("depends_on"):
            lines.append(f"  depends on: {', '.join(data['depends_on'])}")
        if data.get("dependents"):
            lines.append(f"  dependents: {', '.join(data['dependents'])}")
        for f in data.get("files", []):
            lines.append(
                f"  {f['role']:<6} {f['path']}: {f['status'] or '-'}  total={f['total_lines']} "
                f"valid={f['successful_lines']} failed={f['failed_lines']} "
                f"committed={'-' if f['committed_lines'] is None else f['committed_lines']}"
                + (f"  ({f['cause']})" if f["cause"] else "")
            )
        for fl in data.get("failed_lines", []):
            lines.append(f"    {fl['file']}:{fl['line']} {fl['reason']}: {fl['message']}")
        if data.get("failed_lines_total"):
            lines.append(self._failed_lines_summary(data))
        return "\n".join(lines)

    def _failed_lines_summary(self, data: dict) -> str:
        total, kept = data["failed_lines_total"], data["failed_lines_kept"]
        text = f"  showing {len(data['failed_lines'])} of {total:,} failed lines"
        if kept < total:
            text += f", {kept:,} of them kept (JOBCENTER_MAX_FAILED_RECORDS per file)"
        which = "them all" if kept == total else "the kept ones"
        return f"{text}; `jobs failed-lines {data['id']}` lists {which} (--csv for a CSV)"

    def _write_all(self, lines: Any) -> None:
        """Lines of text (e.g. a CSV), written as they come: memory stays flat at any size. A
        reader that stops early (``| head``) ends the output, without a traceback."""
        try:
            for line in lines:
                self.stdout.write(line, ending="")
            self.stdout.flush()
        except BrokenPipeError:
            # Python would still fail flushing stdout at exit: point it at nothing.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())

    def _follow(self, job: Job, *, quiet: bool) -> Job:
        """Wait for the job's end, showing its progress: one line redrawn on a terminal, a
        line per change otherwise (logs, pipes)."""
        tty = self.stderr.isatty()
        shown = ""
        while True:
            job.refresh_from_db()
            text = (
                f"{job.status:<16} {job.progress:5.1f}%  {job.lines_done}/{job.lines_total} lines"
            )
            if not quiet and text != shown:
                self.stderr.write(("\r" + text) if tty else text, ending="" if tty else "\n")
                shown = text
            if job.status in TERMINAL_STATUSES:
                if not quiet and tty:
                    self.stderr.write("")
                return job
            time.sleep(0.5)
