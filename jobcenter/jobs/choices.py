from django.db import models


class JobType(models.TextChoices):
    IMPORT = "import", "Import"
    ALGORITHM = "algorithm", "Algorithm"
    QUERY = "query", "Query"
    INDEX = "index", "Index build"
    EXPORT = "export", "Export"
    GRAPH_OPERATION = "graph_operation", "Graph operation"
    START_GRAPH = "start_graph", "Start graph"
    CLOSE_GRAPH = "close_graph", "Close graph"


class JobStatus(models.TextChoices):
    WAITING = "waiting", "Waiting"
    RUNNING = "running", "Running"
    CANCELLING = "cancelling", "Cancelling"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTIALLY_FAILED = "partially_failed", "Partially failed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


ACTIVE_STATUSES = (JobStatus.WAITING, JobStatus.RUNNING, JobStatus.CANCELLING)
TERMINAL_STATUSES = (
    JobStatus.SUCCEEDED,
    JobStatus.PARTIALLY_FAILED,
    JobStatus.FAILED,
    JobStatus.CANCELLED,
)
# Jobs that "retry everything that failed" picks up; a succeeded job is retried one at a time.
RETRYABLE_STATUSES = (JobStatus.FAILED, JobStatus.PARTIALLY_FAILED, JobStatus.CANCELLED)
# States a worker holds (and keeps a heartbeat for).
CLAIMED_STATUSES = (JobStatus.RUNNING, JobStatus.CANCELLING)


class JobDialect(models.TextChoices):
    """Which face a job was submitted through (its request is kept as submitted)."""

    NATIVE = "native", "jobcenter"
    GES = "ges", "GES"
    GRAPHSCOPE = "graphscope", "GraphScope Interactive"


class FileRole(models.TextChoices):
    SCHEMA = "schema", "Schema"
    VERTEX = "vertex", "Vertex set"
    EDGE = "edge", "Edge set"


class FileStatus(models.TextChoices):
    """The loader's verdict on a file it read to the end (stored on ``JobFile.status``)."""

    SUCCESS = "success", "Success"
    PART_FAILED = "partFailed", "Partly failed"
    FAILED = "failed", "Failed"


# A file's status as every face shows it (jobs.selectors.file_status, docs/compat.md "Files
# the job did not finish"): the stored verdict, or "skipped" for a file the loader did not finish
# before its job ended (never reached, or stopped part-way). Derived, never stored.
FILE_SKIPPED = "skipped"
FILE_STATES = [*FileStatus.choices, (FILE_SKIPPED, "Skipped")]


class EventKind(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    STARTED = "started", "Started"
    CANCEL_REQUESTED = "cancel_requested", "Cancel requested"
    FINISHED = "finished", "Finished"
    REQUEUED = "requeued", "Requeued"
    RECOVERED = "recovered", "Recovered"
    # The jobs it depended on ended as it needs: it was handed to the task engine.
    RELEASED = "released", "Dependencies met"
