from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from jobcenter.core.ids import new_id
from jobcenter.jobs.choices import (
    ACTIVE_STATUSES,
    EventKind,
    FileRole,
    FileStatus,
    JobDialect,
    JobStatus,
    JobType,
)

# Job ids are 32 characters (jobcenter.core.ids); the dashboard shows their last 8.
SHORT_ID_LENGTH = 8
ID_LENGTH = 32
# How much of the fail reason the text search looks at (its start).
REASON_KEY_LENGTH = 100


class SearchKey(models.Func):
    """``lower(text)``, compared character by character (PostgreSQL: ``COLLATE "C"``), so that
    "starts with" is a range of an index on this expression on both databases."""

    function = "LOWER"
    output_field = models.CharField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, Any]:
        sql, params = self.as_sql(compiler, connection, **extra)
        return f'({sql} COLLATE "C")', params


class Head(models.Func):
    """``substr(text, start, length)`` with the numbers written into the SQL: a query matches
    an index on an expression only if it is the same expression, and SQLite sees a bound
    parameter as something else than the constant in the index."""

    output_field = models.CharField()

    def __init__(self, expression: Any, start: int, length: int) -> None:
        super().__init__(expression)
        self.start, self.length = int(start), int(length)

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, Any]:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"SUBSTR({sql}, {self.start}, {self.length})", params

    def deconstruct(self) -> tuple[str, tuple, dict]:
        return (
            "jobcenter.jobs.models.Head",
            (self.source_expressions[0], self.start, self.length),
            {},
        )


def short_id_expression() -> Head:
    """The short id the dashboard shows (the id's last 8 characters), as SQL."""
    return Head(models.F("id"), ID_LENGTH - SHORT_ID_LENGTH + 1, SHORT_ID_LENGTH)


def reason_key_expression() -> SearchKey:
    return SearchKey(Head(models.F("fail_reason"), 1, REASON_KEY_LENGTH))


# The job list can be sorted by these columns; each has a (project, column, created_at, id)
# index, read in order (either way) for a sort within one project and used by a filter on the
# column (type, graph name, status) in the default newest-first order, and a (column,
# created_at, id) one for lists over every project. PostgreSQL has two more, for "newest first,
# empty last" on the nullable dates (migration 0003).
SORT_INDEXED = {
    "status": "job_project_status",
    "type": "job_project_type",
    "graph_name": "job_project_graph",
    "progress": "job_project_progress",
    "started_at": "job_project_started",
    "finished_at": "job_project_finished",
    "name": "job_project_name",
}


class KindField(models.CharField):
    """``Job.type``: labelled by ``JobType``'s choices, which migrations do not record, so that
    a new kind of job needs no migration. Migrations see a plain ``CharField``: the column is
    the same either way, and nothing is rebuilt."""

    def deconstruct(self) -> tuple:
        name, _path, args, kwargs = super().deconstruct()
        kwargs.pop("choices", None)
        return name, "django.db.models.CharField", args, kwargs


class Job(models.Model):
    """One unit of asynchronous work. This row, not the task queue, is the source of truth."""

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    type = KindField(max_length=24, choices=JobType.choices)
    name = models.CharField(max_length=128)
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="jobs")
    graph = models.ForeignKey(
        "graphs.Graph", null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    # Kept when the graph is deleted, so history still says what the job touched.
    graph_name = models.CharField(max_length=128, blank=True)
    status = models.CharField(
        max_length=20, choices=JobStatus.choices, default=JobStatus.WAITING, db_index=True
    )
    progress = models.FloatField(default=0.0)  # 0-100
    dialect = models.CharField(max_length=16, choices=JobDialect.choices, default=JobDialect.NATIVE)
    request = models.JSONField(default=dict)  # the original request, as submitted
    # What the runner needs, normalised from the request (e.g. {"format": "ges", ...}).
    params = models.JSONField(default=dict)
    cancellable = models.BooleanField(default=True)
    # An import that validates every line as a real one would and writes nothing to the graph
    # (its store transaction is rolled back at the end).
    dry_run = models.BooleanField(default=False)
    fail_reason = models.TextField(blank=True)
    result = models.JSONField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cancel_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    retry_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries"
    )

    # Execution bookkeeping, written by the worker at most about once a second.
    worker_id = models.CharField(max_length=128, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempt = models.PositiveIntegerField(default=0)
    task_id = models.CharField(max_length=64, blank=True)
    lines_done = models.BigIntegerField(default=0)
    lines_total = models.BigIntegerField(default=0)
    lines_per_second = models.FloatField(default=0.0)
    # What the worker is doing now, in its kind's words ("reading files", "computing"...: each
    # kind lists its phases, jobcenter.jobs.kinds); blank while waiting and once finished.
    phase = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["project", "-created_at", "-id"], name="job_project_created"),
            *(
                models.Index(fields=["project", column, "created_at", "id"], name=name)
                for column, name in SORT_INDEXED.items()
            ),
            models.Index(fields=["project", "id"], name="job_project_id"),
            # The same sorts over every project (superusers' lists).
            *(
                models.Index(fields=[column, "created_at", "id"], name=f"job_{column}_sort")
                for column in SORT_INDEXED
            ),
            # Status counts under a graph or type filter, read from the index alone.
            models.Index(fields=["project", "graph_name", "status"], name="job_graph_status"),
            models.Index(fields=["project", "type", "status"], name="job_type_status"),
            # Search (jobs.filtersets): by short id, and by the start of name, graph name and
            # fail reason whatever their case.
            models.Index(short_id_expression(), name="job_short_id"),
            models.Index(SearchKey("name"), name="job_name_key"),
            models.Index(SearchKey("graph_name"), name="job_graph_key"),
            models.Index(reason_key_expression(), name="job_reason_key"),
            # Jobs of one status across projects, newest first (superusers' lists, bulk
            # cancels): read in order from the index instead of fetching and sorting them all.
            models.Index(fields=["status", "-created_at", "-id"], name="job_status_created"),
            models.Index(fields=["status", "heartbeat_at"], name="job_status_heartbeat"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.id}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class JobFile(models.Model):
    """One schema, vertex or edge file of an import, with its line accounting."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="files")
    index = models.PositiveIntegerField()
    role = models.CharField(max_length=8, choices=FileRole.choices)
    path = models.CharField(max_length=1024)
    status = models.CharField(max_length=12, choices=FileStatus.choices, blank=True)
    cause = models.TextField(blank=True)
    log = models.TextField(blank=True)
    total_lines = models.BigIntegerField(default=0)
    successful_lines = models.BigIntegerField(default=0)
    failed_lines = models.BigIntegerField(default=0)
    bytes_read = models.BigIntegerField(default=0)
    bytes_total = models.BigIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Failed lines by reason code, every one counted ({"bad_type": 3, ...}; the FailedLine rows
    # stop at JOBCENTER_MAX_FAILED_RECORDS): what the job page's failures chart draws.
    reason_counts = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["job", "index"]
        constraints = [
            models.UniqueConstraint(fields=["job", "index"], name="unique_job_file_index")
        ]

    def __str__(self) -> str:
        return self.path


class FailedLine(models.Model):
    """One rejected input line (at most JOBCENTER_MAX_FAILED_RECORDS are kept per file)."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="failed_lines")
    file = models.ForeignKey(JobFile, on_delete=models.CASCADE, related_name="failed_line_records")
    line_number = models.BigIntegerField()
    reason = models.CharField(max_length=32)
    message = models.TextField()
    raw = models.TextField()

    class Meta:
        ordering = ["file__index", "line_number"]
        indexes = [models.Index(fields=["job", "file", "line_number"], name="failed_line_pos")]

    def __str__(self) -> str:
        return f"line {self.line_number}: {self.reason}"


class JobEvent(models.Model):
    """The timeline of a job: who did what, when."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} at {self.at:%Y-%m-%d %H:%M:%S}"


class JobThroughput(models.Model):
    """How fast an import went: ``[seconds since it started, lines done]`` points from its
    heartbeats, at most a few hundred, thinned evenly as it runs (jobs.throughput). One row per
    job, written by its worker once per sampling step, removed with the job."""

    job = models.OneToOneField(
        Job, primary_key=True, on_delete=models.CASCADE, related_name="throughput"
    )
    points = models.JSONField(default=list)

    def __str__(self) -> str:
        return f"throughput of job {self.job_id}"


class JobDependency(models.Model):
    """``job`` waits for ``depends_on`` (same project) to end in an accepted state: succeeded,
    or also partially failed when ``accept_partial`` (one flag per job, kept on each of its
    links). While any link is unmet the job stays ``waiting`` with no engine task
    (jobcenter.jobs.chains)."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="dependency_links")
    depends_on = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="dependent_links")
    accept_partial = models.BooleanField(default=False)

    class Meta:
        ordering = ["job", "depends_on"]
        constraints = [
            models.UniqueConstraint(fields=["job", "depends_on"], name="unique_job_dependency")
        ]
        # The unique constraint's index reads a job's dependencies; this one its dependents
        # (what an ending releases or cancels).
        indexes = [models.Index(fields=["depends_on", "job"], name="job_dependents")]

    def __str__(self) -> str:
        return f"{self.job_id} after {self.depends_on_id}"
