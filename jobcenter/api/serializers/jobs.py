"""Jobs as listed and in detail, their files, failed lines and events, and the bulk cancel and
retry (their filter, their outcome)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.http import QueryDict
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from jobcenter.api.serializers.fields import (
    BlankAsNullCharField,
    NullableObjectField,
    ObjectField,
    UtcDateTimeField,
    username_field,
)
from jobcenter.core.times import utc_iso
from jobcenter.jobs.choices import FILE_STATES, EventKind, FileRole, JobDialect, JobStatus, JobType
from jobcenter.jobs.filtersets import JobFilterSet
from jobcenter.jobs.registry import kind_of
from jobcenter.jobs.selectors import (
    JobLinks,
    file_status,
    import_line_totals,
    job_links,
    job_seconds_remaining,
)


class JobSerializer(serializers.Serializer):
    """A job as listed. The same keys for every type and state."""

    id = serializers.CharField(read_only=True, help_text="Opaque, time-ordered job id.")
    type = serializers.ChoiceField(choices=JobType.choices, read_only=True)
    name = serializers.CharField(read_only=True, help_text="e.g. ImportGraph, DeleteGraph")
    project = serializers.CharField(source="project.name", read_only=True)
    graph = serializers.CharField(
        source="graph_id", allow_null=True, read_only=True, help_text="Graph id (null if gone)."
    )
    graph_name = serializers.CharField(read_only=True, help_text="Kept after the graph is gone.")
    status = serializers.ChoiceField(choices=JobStatus.choices, read_only=True)
    progress = serializers.FloatField(read_only=True, help_text="Percent, 0 to 100.")
    dialect = serializers.ChoiceField(
        choices=JobDialect.choices, read_only=True, help_text="The API it was submitted through."
    )
    cancellable = serializers.BooleanField(read_only=True)
    dry_run = serializers.BooleanField(
        read_only=True,
        help_text="An import submitted as a dry run: validated in full, nothing written.",
    )
    fail_reason = BlankAsNullCharField()
    result = NullableObjectField(help_text="What a finished job did (imports: counts per file).")
    created_at = UtcDateTimeField(read_only=True)
    started_at = UtcDateTimeField(allow_null=True, read_only=True)
    finished_at = UtcDateTimeField(allow_null=True, read_only=True)
    submitted_by = username_field("submitted_by.username", "Username of the submitter.")
    cancel_requested_by = username_field("cancel_requested_by.username", "Who asked to cancel.")
    cancel_requested_at = UtcDateTimeField(allow_null=True, read_only=True)
    retry_of = serializers.CharField(
        source="retry_of_id", allow_null=True, read_only=True, help_text="The job this retries."
    )
    lines_done = serializers.IntegerField(read_only=True)
    lines_total = serializers.IntegerField(read_only=True)
    lines_per_second = serializers.FloatField(read_only=True)
    seconds_remaining = serializers.SerializerMethodField(
        help_text="Estimate for a running job from its recent rate; null otherwise."
    )

    @extend_schema_field({"type": "number", "format": "double", "nullable": True})
    def get_seconds_remaining(self, job: Any) -> float | None:
        value = job_seconds_remaining(job)
        return None if value is None else round(value, 1)

    def to_representation(self, job: Any) -> dict[str, Any]:
        """The fields declared above, built directly: DRF's field-by-field machinery costs
        more than the database on a page of jobs. The output is the same (a test compares it
        with DRF's own rendering for every state)."""
        user, canceller = job.submitted_by, job.cancel_requested_by
        return {
            "id": str(job.pk),
            "type": str(job.type),
            "name": str(job.name),
            "project": str(job.project.name),
            "graph": None if job.graph_id is None else str(job.graph_id),
            "graph_name": str(job.graph_name),
            "status": str(job.status),
            "progress": float(job.progress),
            "dialect": str(job.dialect),
            "cancellable": bool(job.cancellable),
            "dry_run": bool(job.dry_run),
            "fail_reason": job.fail_reason or None,
            "result": job.result,
            "created_at": utc_iso(job.created_at),
            "started_at": utc_iso(job.started_at),
            "finished_at": utc_iso(job.finished_at),
            "submitted_by": None if user is None else str(user.username),
            "cancel_requested_by": None if canceller is None else str(canceller.username),
            "cancel_requested_at": utc_iso(job.cancel_requested_at),
            "retry_of": None if job.retry_of_id is None else str(job.retry_of_id),
            "lines_done": int(job.lines_done),
            "lines_total": int(job.lines_total),
            "lines_per_second": float(job.lines_per_second),
            "seconds_remaining": self.get_seconds_remaining(job),
        }


COMMITTED_HELP = (
    "Lines stored in the graph: null while the job is active (an import commits all its lines "
    "at its end, or none), then `successful_lines` if it committed and 0 if it did not "
    "(cancelled, aborted by the error threshold, failed)."
)
KEPT_HELP = (
    "Failed lines kept (listed by `failed-lines/` and its CSV): at most the request's "
    "`max_failed_records` per file (default: the setting JOBCENTER_MAX_FAILED_RECORDS, "
    "10,000); all are counted in `failed_lines`."
)


class JobFileSerializer(serializers.Serializer):
    """A file of an import (from ``jobs.selectors.job_files``)."""

    index = serializers.IntegerField(read_only=True, help_text="Position in the job, from 0.")
    role = serializers.ChoiceField(choices=FileRole.choices, read_only=True)
    path = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(
        choices=FILE_STATES,
        allow_null=True,
        read_only=True,
        help_text=(
            "Once the file was read to the end: success, partFailed or failed. `skipped`: the "
            "job ended before the file was finished (never reached, or stopped part-way). "
            "null while the job is active and the file is not finished."
        ),
    )
    cause = BlankAsNullCharField()
    total_lines = serializers.IntegerField(read_only=True)
    successful_lines = serializers.IntegerField(
        read_only=True, help_text="Lines that passed validation (whether or not committed)."
    )
    failed_lines = serializers.IntegerField(read_only=True, help_text="Lines rejected.")
    failed_lines_kept = serializers.IntegerField(read_only=True, help_text=KEPT_HELP)
    committed_lines = serializers.IntegerField(
        read_only=True, allow_null=True, help_text=COMMITTED_HELP
    )
    bytes_read = serializers.IntegerField(read_only=True)
    bytes_total = serializers.IntegerField(read_only=True)
    started_at = UtcDateTimeField(allow_null=True, read_only=True)
    finished_at = UtcDateTimeField(allow_null=True, read_only=True)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["status"] = file_status(instance.job, instance)
        return data


class JobFileDetailSerializer(JobFileSerializer):
    log = BlankAsNullCharField(help_text="The file's import log.")


TOTALS_HELP = {
    "successful_lines": "Lines that passed validation",
    "failed_lines": "Lines rejected",
    "failed_lines_kept": "Failed lines kept",
    "committed_lines": (
        "Lines stored in the graph (null while the job is active; 0 when it ended without "
        "committing)"
    ),
}


INTEGER_OR_NULL = {"type": "integer", "nullable": True}
JOB_IDS = {"type": "array", "items": {"type": "string"}}


def _links(job: Any) -> JobLinks:
    """The job's chain links, read once per rendering."""
    if getattr(job, "chain_links", None) is None:
        job.chain_links = job_links(job=job)
    return job.chain_links


def _total(name: str) -> serializers.SerializerMethodField:
    return serializers.SerializerMethodField(
        help_text=f"{TOTALS_HELP[name]}, over the data files (null for jobs other than imports)."
    )


class JobDetailSerializer(JobSerializer):
    """A job with its request (as submitted), its files and, for an import, their totals over
    the data files (null for other jobs)."""

    request = NullableObjectField(help_text="The request as it was submitted.")
    phase = BlankAsNullCharField(
        help_text="What the worker is doing now, in the job kind's words (e.g. `reading files`, "
        "`loading graph`, `computing`, `writing result`); null while waiting and once finished."
    )
    successful_lines = _total("successful_lines")
    failed_lines = _total("failed_lines")
    failed_lines_kept = _total("failed_lines_kept")
    committed_lines = _total("committed_lines")
    files = JobFileSerializer(many=True, read_only=True, source="file_rows")
    depends_on = serializers.SerializerMethodField(
        help_text="Ids of the jobs this job depends on (it runs once they have succeeded)."
    )
    accept_partial = serializers.SerializerMethodField(
        help_text="Whether a dependency that partially failed counts as done (else it cancels "
        "this job)."
    )
    dependents = serializers.SerializerMethodField(
        help_text="Ids of the jobs depending on this one."
    )
    waiting_for = serializers.SerializerMethodField(
        help_text="While the job waits: ids of the dependencies that have not ended yet "
        "(empty once it may run, and for jobs that are not waiting)."
    )

    @staticmethod
    def _totals(job: Any, name: str) -> int | None:
        if not kind_of(job.type).loads_files:
            return None
        return getattr(import_line_totals(job, job.file_rows), name)

    @extend_schema_field(INTEGER_OR_NULL)
    def get_successful_lines(self, job: Any) -> int | None:
        return self._totals(job, "successful_lines")

    @extend_schema_field(INTEGER_OR_NULL)
    def get_failed_lines(self, job: Any) -> int | None:
        return self._totals(job, "failed_lines")

    @extend_schema_field(INTEGER_OR_NULL)
    def get_failed_lines_kept(self, job: Any) -> int | None:
        return self._totals(job, "failed_lines_kept")

    @extend_schema_field(INTEGER_OR_NULL)
    def get_committed_lines(self, job: Any) -> int | None:
        return self._totals(job, "committed_lines")

    @extend_schema_field(JOB_IDS)
    def get_depends_on(self, job: Any) -> list[str]:
        return [str(dep.pk) for dep in _links(job).depends_on]

    @extend_schema_field({"type": "boolean"})
    def get_accept_partial(self, job: Any) -> bool:
        return _links(job).accept_partial

    @extend_schema_field(JOB_IDS)
    def get_dependents(self, job: Any) -> list[str]:
        return [str(dep.pk) for dep in _links(job).dependents]

    @extend_schema_field(JOB_IDS)
    def get_waiting_for(self, job: Any) -> list[str]:
        return [str(dep.pk) for dep in _links(job).waiting_for]

    def to_representation(self, job: Any) -> dict[str, Any]:
        data = super().to_representation(job)
        data["request"] = job.request
        data["phase"] = job.phase or None
        totals = import_line_totals(job, job.file_rows) if kind_of(job.type).loads_files else None
        for name in TOTALS_HELP:
            data[name] = None if totals is None else getattr(totals, name)
        data["files"] = JobFileSerializer(job.file_rows, many=True).data
        for name in ("depends_on", "accept_partial", "dependents", "waiting_for"):
            data[name] = getattr(self, f"get_{name}")(job)
        return data


class FailedLineSerializer(serializers.Serializer):
    file = serializers.IntegerField(source="file.index", read_only=True, help_text="File index.")
    path = serializers.CharField(source="file.path", read_only=True)
    line_number = serializers.IntegerField(read_only=True, help_text="1-based line in the file.")
    reason = serializers.CharField(read_only=True, help_text="Machine code, e.g. bad_type.")
    message = serializers.CharField(read_only=True)
    raw = serializers.CharField(read_only=True, help_text="The line (truncated).")


class JobEventSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=EventKind.choices, read_only=True)
    at = UtcDateTimeField(read_only=True)
    actor = username_field("actor.username", "Who did it (null: the system).")
    message = BlankAsNullCharField()


# The filters a bulk action takes: the job list's, but its order; those taking several values.
BULK_FILTERS = {name: f for name, f in JobFilterSet.base_filters.items() if name != "ordering"}
MULTI_VALUED = frozenset(
    name for name, f in BULK_FILTERS.items() if isinstance(f, django_filters.MultipleChoiceFilter)
)


class BulkCancelInputSerializer(serializers.Serializer):
    everything = 'to cancel every active job: {"status": ["waiting", "running"]}'

    filter = ObjectField(
        help_text=(
            "Job list filters, as on GET /api/v1/jobs/ (e.g. "
            '`{"status": ["waiting", "running"], "graph": "movies"}`); at least one. A value '
            "is a string, not empty; `status` and `type` also take a list of them."
        )
    )

    def validate_filter(self, value: dict[str, Any]) -> QueryDict:
        """The filter as the query string JobFilterSet reads (validated there), with the rules
        of that query string: no unknown or empty filter, one value but for multi-valued ones."""
        data = QueryDict(mutable=True)
        for key, raw in value.items():
            if key not in BULK_FILTERS:
                known = ", ".join(sorted(BULK_FILTERS))
                raise serializers.ValidationError(f"unknown filter {key!r}; known: {known}")
            several = key in MULTI_VALUED and isinstance(raw, list)
            items = raw if several else [raw]
            if not all(isinstance(item, str) for item in items):
                wanted = "a string or a list of strings" if key in MULTI_VALUED else "a string"
                raise serializers.ValidationError({key: [f"give {wanted}"]})
            if not items or any(not item.strip() for item in items):
                raise serializers.ValidationError({key: ["empty: give a value or leave it out"]})
            for item in items:
                data.appendlist(key, item)
        if not data:
            raise serializers.ValidationError(f"give at least one criterion ({self.everything})")
        return data


class NotCancelledSerializer(serializers.Serializer):
    id = serializers.CharField()
    reason = serializers.CharField()


class BulkCancelResultSerializer(serializers.Serializer):
    matched = serializers.IntegerField(help_text="Active jobs that matched the filter.")
    cancelled = serializers.IntegerField(help_text="How many were cancelled (or are stopping).")
    cancelled_ids = serializers.ListField(child=serializers.CharField())
    not_cancelled = NotCancelledSerializer(many=True, help_text="Jobs that could not be, and why.")


class BulkRetryInputSerializer(BulkCancelInputSerializer):
    everything = 'to retry every failed job: {"status": ["failed", "partially_failed"]}'


class RetriedSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The job that was retried.")
    retry = serializers.CharField(help_text="Its new job.")


class BulkRetryResultSerializer(serializers.Serializer):
    matched = serializers.IntegerField(
        help_text="Jobs that matched the filter and ended failed, partially failed or cancelled."
    )
    retried = serializers.IntegerField(help_text="How many new jobs were submitted.")
    retries = RetriedSerializer(many=True)
    not_retried = NotCancelledSerializer(
        many=True, help_text="Jobs that were not retried, and why (e.g. already retried)."
    )
