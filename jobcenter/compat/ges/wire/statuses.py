"""GES's statuses: our job and file statuses as each plane names them, and the per-file
accounting both planes show (what an import committed, and why a file was not imported)."""

from __future__ import annotations

from collections.abc import Sequence

from jobcenter.jobs import selectors
from jobcenter.jobs.choices import FILE_SKIPPED, JobStatus
from jobcenter.jobs.models import Job, JobFile

# Service plane: documented values pending, running, success, failed (+ complete).
SERVICE_STATUS: dict[str, str] = {
    JobStatus.WAITING: "pending",
    JobStatus.RUNNING: "running",
    JobStatus.CANCELLING: "running",  # not ended until the rollback is done
    JobStatus.SUCCEEDED: "success",
    # The plane has no partial status; the data was committed, so "success", and the
    # per-file failedLines say what was rejected.
    JobStatus.PARTIALLY_FAILED: "success",
    JobStatus.FAILED: "failed",
    # Cancelling exists only on this plane; the console calls the state "cancelled".
    JobStatus.CANCELLED: "cancelled",
}

# Management plane v2: documented values pending, running, success, partiallyFailed, failed.
MGMT_STATUS: dict[str, str] = {
    JobStatus.WAITING: "pending",
    JobStatus.RUNNING: "running",
    JobStatus.CANCELLING: "running",
    JobStatus.SUCCEEDED: "success",
    JobStatus.PARTIALLY_FAILED: "partiallyFailed",
    JobStatus.FAILED: "failed",
    # The plane knows no cancelled state (it cannot cancel); a cancelled job did not do its
    # work, so "failed", with fail_reason saying who cancelled it.
    JobStatus.CANCELLED: "failed",
}

# ListJobs2 ``status`` filter -> our statuses. "waiting" is the documented filter value for
# what the job object calls "pending"; both are accepted.
MGMT_STATUS_FILTER: dict[str, tuple[str, ...]] = {
    "running": (JobStatus.RUNNING, JobStatus.CANCELLING),
    "waiting": (JobStatus.WAITING,),
    "pending": (JobStatus.WAITING,),
    "success": (JobStatus.SUCCEEDED,),
    "partiallyFailed": (JobStatus.PARTIALLY_FAILED,),
    "failed": (JobStatus.FAILED, JobStatus.CANCELLED),
}


# Import file entries: success | failed | partFailed (our JobFile statuses already are these;
# a file the job did not finish, "skipped" natively, is "failed": see file_status).
FILE_SUCCESS, FILE_FAILED = "success", "failed"

# The service plane's ``result`` beside a job's status: "failed" exactly when the job did not
# do its work (status failed or cancelled, ``failReason`` saying why), else "success".
SERVICE_RESULT_FAILED_STATUSES = ("failed", "cancelled")


def fail_reason(job: Job) -> str | None:
    """Why the job did not do its work: its failure reason, or who cancelled it."""
    if job.status == JobStatus.CANCELLED:
        who = job.cancel_requested_by.get_username() if job.cancel_requested_by else None
        text = f"cancelled by {who}" if who else "cancelled"
        return f"{text}: {job.fail_reason}" if job.fail_reason else text
    return job.fail_reason or None


def file_status(job: Job, f: JobFile) -> str | None:
    """A file entry's status: GES's entry says what was imported. The native status
    (jobs.selectors.file_status) where it is one of GES's; ``failed`` for a file the job did
    not finish (natively ``skipped``) and for every file of an import that ended without
    committing (nothing of it was imported); none while the job is active and the file is not
    finished."""
    native = selectors.file_status(job, f)
    if native is None:
        return None
    if native == FILE_SKIPPED or selectors.import_committed(job) is False:
        return FILE_FAILED
    return native


def file_cause(job: Job, f: JobFile) -> str | None:
    """The file's own cause; for an import that ended without committing, also that nothing
    of the file was imported, and why (unless the file's own failure says it)."""
    if selectors.import_committed(job) is not False:
        return f.cause or None
    if f.cause and f.status == FILE_FAILED:
        return f.cause  # e.g. the error threshold crossed in this file, or an unreadable file
    why = f"not imported: {fail_reason(job) or 'the job ended'}"
    return f"{f.cause}; {why}" if f.cause else why


def imported_lines(job: Job, f: JobFile) -> int:
    """GES's successful count, the lines imported: once the job ended, what it committed (0
    when it did not commit); while it runs, the lines accepted so far (which commit together
    at its end, or not at all). The lines that passed validation are ``validated_lines``."""
    committed = selectors.file_committed_lines(job, f)
    return f.successful_lines if committed is None else committed


def files_with_role(files: Sequence[JobFile], role: str) -> list[JobFile]:
    return [f for f in files if f.role == role]
