"""Input and output shapes of the native API. Inputs are validated here, nothing is written;
outputs have the same keys for every object whatever its state (absent data is ``null``).
Times are UTC ISO 8601 (``2026-11-22T10:00:00.123456Z``)."""

from __future__ import annotations

import json
import math
from datetime import UTC
from typing import Any

import django_filters
from django.http import QueryDict
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from jobcenter.core.documents import DocumentError, read_document
from jobcenter.core.text import storable
from jobcenter.core.times import utc_iso
from jobcenter.graphs.choices import GraphDialect, GraphStatus
from jobcenter.graphs.services import IMPORT_FORMATS
from jobcenter.jobs.choices import FILE_STATES, EventKind, FileRole, JobDialect, JobStatus, JobType
from jobcenter.jobs.filtersets import JobFilterSet
from jobcenter.jobs.selectors import file_status, import_line_totals, job_seconds_remaining
from jobcenter.projects.choices import Role

MAX_JSON_BYTES = 5 * 1024**2

# --- helpers ---------------------------------------------------------------------------------


def json_safe(value: Any, *, field: str) -> Any:
    """``value`` as plain JSON that every database stores: finite numbers, string keys, no NUL
    characters (PostgreSQL's jsonb refuses them). Raises ValidationError naming ``field``."""

    def walk(item: Any, path: str) -> None:
        if isinstance(item, str):
            if not storable(item):
                raise serializers.ValidationError(
                    {path: ["NUL characters and unpaired surrogates are not allowed"]}
                )
        elif isinstance(item, dict):
            for key, child in item.items():
                walk(key, path)
                walk(child, f"{path}.{key}")
        elif isinstance(item, list | tuple):
            for i, child in enumerate(item):
                walk(child, f"{path}.{i}")
        elif isinstance(item, float) and not math.isfinite(item):
            raise serializers.ValidationError({path: ["numbers must be finite"]})

    try:
        text = json.dumps(value, default=str, allow_nan=False)
    except (ValueError, TypeError, RecursionError):
        raise serializers.ValidationError({field: ["not representable as JSON"]}) from None
    if len(text) > MAX_JSON_BYTES:
        raise serializers.ValidationError({field: [f"larger than {MAX_JSON_BYTES} bytes"]})
    plain = json.loads(text)
    walk(plain, field)
    return plain


def parse_object(text: str, *, field: str) -> dict[str, Any]:
    """A JSON or YAML document that must be an object (read by jobcenter.core.documents)."""
    try:
        value = read_document(text, what=field, field=field)
    except DocumentError as exc:
        raise serializers.ValidationError({field: [exc.detail]}) from None
    return json_safe(value, field=field)


class UtcDateTimeField(serializers.DateTimeField):
    """Always UTC (``...Z``), whatever time zone a request may have activated."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("default_timezone", UTC)
        super().__init__(**kwargs)


class BlankAsNullCharField(serializers.CharField):
    """An optional text column: ``""`` is shown as ``null``."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> str | None:
        return value or None


@extend_schema_field(
    {"type": "object", "additionalProperties": True, "nullable": True, "readOnly": True}
)
class NullableObjectField(serializers.JSONField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)


@extend_schema_field({"type": "object", "additionalProperties": True})
class ObjectField(serializers.JSONField):
    """A JSON object in a request body."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise serializers.ValidationError("must be a JSON object")
        return json_safe(data, field=self.field_name or "value")


@extend_schema_field({"type": "string"})
class TextOrFileField(serializers.Field):
    """A document sent either as a text field or as an uploaded file (``curl -F x=@file``)."""

    max_bytes = MAX_JSON_BYTES

    def to_internal_value(self, data: Any) -> str:
        if hasattr(data, "read"):
            if data.size is not None and data.size > self.max_bytes:
                raise serializers.ValidationError(f"larger than {self.max_bytes} bytes")
            raw = data.read(self.max_bytes + 1)
            if len(raw) > self.max_bytes:
                raise serializers.ValidationError(f"larger than {self.max_bytes} bytes")
            try:
                data = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise serializers.ValidationError("not UTF-8 text") from None
        if not isinstance(data, str):
            raise serializers.ValidationError("give the document as text or as a file")
        if "\x00" in data:
            raise serializers.ValidationError("NUL characters are not allowed")
        return data

    def to_representation(self, value: Any) -> str:
        return str(value)


class StrictTextMixin:
    """Text fields take text only: DRF would turn ``123`` into ``"123"`` silently."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid")  # type: ignore[attr-defined]
        return super().to_internal_value(data)  # type: ignore[misc]


class TextField(StrictTextMixin, serializers.CharField):
    pass


class SlugTextField(StrictTextMixin, serializers.SlugField):
    pass


class WholeNumberField(serializers.IntegerField):
    """Whole numbers only: DRF would take ``"5"`` and ``true`` as 5 and 1."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


def username_field(source: str, help_text: str) -> serializers.CharField:
    return serializers.CharField(
        source=source, allow_null=True, read_only=True, help_text=help_text
    )


# --- errors and pages -------------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable error code, e.g. `invalid`.")
    message = serializers.CharField(help_text="What went wrong, naming the parameter or field.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per parameter or field (dotted for nested fields); may be empty.",
    )


_PAGINATED: dict[type, type] = {}


def paginated(item: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """The page envelope around a list of ``item`` (one class per item, for the schema)."""
    if item not in _PAGINATED:
        name = "Paginated" + item.__name__.removesuffix("Serializer") + "List"
        _PAGINATED[item] = type(
            name,
            (serializers.Serializer,),
            {
                "count": serializers.IntegerField(
                    allow_null=True,
                    help_text=(
                        "Rows matching the request (offset mode); null in cursor mode. The job "
                        "list counts up to 10,000: beyond, this is 10000 and count_exact false."
                    ),
                ),
                "count_exact": serializers.BooleanField(
                    allow_null=True,
                    help_text=(
                        "False when more rows than `count` match (the job list stops counting "
                        "at 10,000); null in cursor mode."
                    ),
                ),
                "next": serializers.URLField(
                    allow_null=True, help_text="The next page, or null on the last one."
                ),
                "previous": serializers.URLField(
                    allow_null=True, help_text="The previous page, or null on the first one."
                ),
                "results": item(many=True),
                "__module__": __name__,
            },
        )
    return _PAGINATED[item]


# --- jobs ------------------------------------------------------------------------------------


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

    @staticmethod
    def _totals(job: Any, name: str) -> int | None:
        if job.type != JobType.IMPORT:
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

    def to_representation(self, job: Any) -> dict[str, Any]:
        data = super().to_representation(job)
        data["request"] = job.request
        data["phase"] = job.phase or None
        totals = import_line_totals(job, job.file_rows) if job.type == JobType.IMPORT else None
        for name in TOTALS_HELP:
            data[name] = None if totals is None else getattr(totals, name)
        data["files"] = JobFileSerializer(job.file_rows, many=True).data
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


# --- imports ---------------------------------------------------------------------------------


class ImportInputSerializer(serializers.Serializer):
    """An import of files already on the server, under the import roots."""

    format = serializers.ChoiceField(choices=IMPORT_FORMATS)
    request = ObjectField(
        required=False,
        help_text=(
            "GES: the import request (GES v2 snake_case keys: schema_path, vertexset_path, "
            "edgeset_path, delimiter, trim_quote, parallel_edge, error_threshold...)."
        ),
    )
    mapping = ObjectField(
        required=False,
        help_text="GraphScope: the SchemaMapping (loading_config, vertex_mappings...).",
    )
    name = TextField(required=False, max_length=128, default="ImportGraph")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        key, other = ("request", "mapping") if attrs["format"] == "ges" else ("mapping", "request")
        if key not in attrs:
            raise serializers.ValidationError({key: [f"required for format {attrs['format']}"]})
        if other in attrs:
            raise serializers.ValidationError({other: [f"not used by format {attrs['format']}"]})
        return attrs

    def params(self) -> dict[str, Any]:
        data = self.validated_data
        key = "request" if data["format"] == "ges" else "mapping"
        return {"format": data["format"], key: data[key]}


class ImportUploadSerializer(serializers.Serializer):
    """An import whose files are uploaded with the request (multipart/form-data)."""

    format = serializers.ChoiceField(choices=IMPORT_FORMATS)
    schema = serializers.FileField(required=False, help_text="GES: schema.xml.")
    vertices = serializers.ListField(
        child=serializers.FileField(), required=False, help_text="GES: vertex files."
    )
    edges = serializers.ListField(
        child=serializers.FileField(), required=False, help_text="GES: edge files."
    )
    files = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        help_text="GraphScope: the data files the mapping's inputs name (by file name).",
    )
    options = TextOrFileField(
        required=False,
        help_text=(
            'GES: other request keys as a JSON object, e.g. {"delimiter": "|"} (text or a file).'
        ),
    )
    mapping = TextOrFileField(
        required=False,
        help_text="GraphScope: the SchemaMapping, JSON or YAML (text, or bulk_load.yaml as file).",
    )
    name = TextField(required=False, max_length=128, default="ImportGraph")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:  # a misspelt part would otherwise be dropped without a word
            known = ", ".join(self.fields)
            raise serializers.ValidationError({unknown[0]: [f"unknown field; known: {known}"]})
        # A part the format does not use is refused when sent at all, even empty.
        if attrs["format"] == "ges":
            wrong = [k for k in ("files", "mapping") if k in self.initial_data]
            attrs["options"] = parse_object(attrs.get("options") or "{}", field="options")
        else:
            wrong = [
                k for k in ("schema", "vertices", "edges", "options") if k in self.initial_data
            ]
            if not attrs.get("mapping"):
                raise serializers.ValidationError({"mapping": ["required for format graphscope"]})
            attrs["options"] = parse_object(attrs["mapping"], field="mapping")
        if wrong:
            raise serializers.ValidationError({wrong[0]: [f"not used by format {attrs['format']}"]})
        return attrs

    def uploads(self) -> dict[str, list[Any]]:
        data = self.validated_data
        uploads: dict[str, list[Any]] = {}
        for key in ("vertices", "edges", "files"):
            if data.get(key):
                uploads[key] = list(data[key])
        if data.get("schema"):
            uploads["schema"] = [data["schema"]]
        return uploads


# --- graphs ----------------------------------------------------------------------------------


class GraphSerializer(serializers.Serializer):
    id = serializers.CharField(read_only=True)
    project = serializers.CharField(source="project.name", read_only=True)
    name = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    dialect = serializers.ChoiceField(choices=GraphDialect.choices, read_only=True)
    status = serializers.ChoiceField(choices=GraphStatus.choices, read_only=True)
    created_by = username_field("created_by.username", "Who created it.")
    created_at = UtcDateTimeField(read_only=True)
    data_updated_at = UtcDateTimeField(
        allow_null=True, read_only=True, help_text="Last committed import; null if none."
    )


class GraphDetailSerializer(GraphSerializer):
    schema = serializers.JSONField(read_only=True, help_text="The normalised schema.")


class GraphCreateSerializer(serializers.Serializer):
    project = SlugTextField(max_length=64)
    name = TextField(max_length=128)
    dialect = serializers.ChoiceField(choices=GraphDialect.choices)
    description = TextField(required=False, allow_blank=True, max_length=4000)
    schema = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text=(
            "GES: the schema.xml document as a string (optional). GraphScope: the graph "
            'definition object (`{"schema": {"vertex_types": ..., "edge_types": ...}}`, '
            "as in graph.yaml or CreateGraphRequest; required)."
        ),
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        schema = attrs.get("schema")
        if attrs["dialect"] == GraphDialect.GES:
            if schema is not None and not isinstance(schema, str):
                raise serializers.ValidationError(
                    {"schema": ["a GES schema is the schema.xml document, as a string"]}
                )
            attrs["schema_source"] = None
            if schema:
                try:
                    source = schema.encode("utf-8")
                except UnicodeEncodeError:
                    source = b""
                if not source or b"\x00" in source or len(source) > 10 * 1024**2:
                    raise serializers.ValidationError({"schema": ["not a schema.xml document"]})
                attrs["schema_source"] = source
        else:
            if not isinstance(schema, dict):
                raise serializers.ValidationError(
                    {"schema": ["a GraphScope graph needs its definition, a JSON object"]}
                )
            schema = json_safe(schema, field="schema")
            if "schema" not in schema and ("vertex_types" in schema or "edge_types" in schema):
                schema = {"name": attrs["name"], "schema": schema}
            attrs["schema_source"] = schema
        return attrs

    def validate_name(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("must not be blank")
        return value


# --- projects --------------------------------------------------------------------------------


class ProjectSerializer(serializers.Serializer):
    name = serializers.SlugField(read_only=True)
    description = serializers.CharField(read_only=True)
    created_at = UtcDateTimeField(read_only=True)
    role = serializers.ChoiceField(
        choices=Role.choices, read_only=True, help_text="Your role in the project."
    )
    result_retention_days = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="Days results of finished jobs are kept (0: for ever); null: the default.",
    )
    effective_result_retention_days = serializers.IntegerField(
        read_only=True, help_text="The retention that applies (the project's or the default)."
    )


class ProjectUpdateSerializer(serializers.Serializer):
    description = TextField(required=False, allow_blank=True, max_length=4000)
    result_retention_days = WholeNumberField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=36_500,
        help_text="Days results of finished jobs are kept (0: for ever); null: the default.",
    )


class ProjectCreateSerializer(serializers.Serializer):
    name = SlugTextField(max_length=64)
    description = TextField(required=False, allow_blank=True, max_length=4000)


class MemberSerializer(serializers.Serializer):
    username = serializers.CharField(source="user.username", read_only=True)
    role = serializers.ChoiceField(choices=Role.choices, read_only=True)
    created_at = UtcDateTimeField(read_only=True, help_text="When they joined.")


class MemberInputSerializer(serializers.Serializer):
    username = TextField(max_length=150)
    role = serializers.ChoiceField(choices=Role.choices)


class MemberRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


# --- auth and health -------------------------------------------------------------------------


class TokenInputSerializer(serializers.Serializer):
    username = TextField(max_length=150)
    password = TextField(max_length=4096, style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send it as `Authorization: Token <token>`.")
    username = serializers.CharField()


class HealthSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok", "unavailable"])
