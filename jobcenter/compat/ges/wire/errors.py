"""GES's error codes, each plane's error body, and the errors views raise by situation.

The service plane answers ``{"errorCode", "errorMessage", "result": "failed"}`` with GES.8xxx
codes; the management plane v2 ``{"error_code", "error_msg"}`` with GES.7xxx/GES.0xxx codes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response

from jobcenter.compat.ges.wire.job_types import task_type
from jobcenter.compat.ges.wire.statuses import SERVICE_STATUS
from jobcenter.core.errors import (
    Conflict,
    InvalidInput,
    InvalidState,
    NotFound,
    PermissionDenied,
    ServiceError,
)
from jobcenter.jobs.models import Job

logger = logging.getLogger("jobcenter.compat")

# --- codes --------------------------------------------------------------------------------

# service plane
GES_BAD_PARAMETER = "GES.8000"  # incorrect parameter format; also "graph : X not exist"
GES_PROJECT_ACCESS = "GES.8006"  # invalid resource access (project)
GES_INVALID_TOKEN = "GES.8007"  # noqa: S105 (an error code)
GES_EXPORT_FAILED = "GES.8011"  # failed to export (export-result)
GES_IMPORT_FAILED = "GES.8013"  # failed to incrementally import data
GES_EDGE_FILTER = "GES.8101"  # edge filter criteria invalid
GES_EDGE_FILTER_LABEL = "GES.8102"  # edge filter label invalid
GES_EDGE_FILTER_EMPTY = "GES.8103"  # edge filter criteria and labels both empty
GES_EDGE_FILTER_SORT = "GES.8104"  # edge filter sort invalid
GES_VERTEX_FILTER_LABEL = "GES.8201"  # vertex filter label invalid
GES_VERTEX_FILTER = "GES.8202"  # vertex filter criteria invalid
GES_VERTEX_FILTER_EMPTY = "GES.8203"  # vertex filter criteria and labels both empty
GES_VERTEX_FILTER_SORT = "GES.8205"  # vertex filter sort invalid
GES_JOB_NOT_FOUND = "GES.8301"  # failed to query a job
GES_CANCEL_FAILED = "GES.8303"  # failed to terminate a job
GES_ALGORITHM_NAME_EMPTY = "GES.8401"  # algorithm name (or graph name) empty
GES_ALGORITHM_FAILED = "GES.8402"  # algorithm execution failed (also: refused parameters)
GES_ALGORITHM_MODE = "GES.8404"  # algorithm execution mode invalid
GES_INDEX_CREATE_FAILED = "GES.8603"  # failed to create an index
# management plane v2
GES_INVALID_PARAMETER = "GES.0001"  # project_id / graph_id / query parameter
GES_RESOURCE_NOT_FOUND = "GES.0016"
GES_GRAPH_NOT_FOUND = "GES.7000"  # graph does not exist or has been deleted
GES_MGMT_JOB_NOT_FOUND = "GES.7007"
GES_OPERATION_NOT_SUPPORTED = "GES.7009"
GES_INVALID_FILE_PATH = "GES.7011"
GES_INVALID_BODY = "GES.7016"
GES_METADATA_PARSE = "GES.7070"
# API gateway codes Huawei Cloud answers before the service sees a request
APIGW_AUTH_FAILED = "APIGW.0301"  # incorrect IAM authentication information
APIGW_FORBIDDEN = "APIGW.0302"  # the user is not authorized to access the API
# both planes: anything unexpected (HTTP 500)
GES_INTERNAL = "GES.9999"

# --- each plane's error body ---------------------------------------------------------------


class GesError(Exception):
    """An error already in this dialect's terms (rendered in the plane's shape)."""

    def __init__(self, http_status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.http_status, self.code, self.message = http_status, code, message


def bad_request(code: str, message: str) -> GesError:
    return GesError(400, code, message)


def service_error_response(exc: Exception) -> Response:
    status, code, message = _classify_service(exc)
    return Response({"errorCode": code, "errorMessage": message, "result": "failed"}, status=status)


def mgmt_error_response(exc: Exception) -> Response:
    status, code, message = _classify_mgmt(exc)
    return Response({"error_code": code, "error_msg": message}, status=status)


def _common(exc: Exception, *, auth_code: str, forbidden_code: str, bad: str) -> tuple | None:
    if isinstance(exc, GesError):
        return exc.http_status, exc.code, exc.message
    if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
        return 401, auth_code, str(exc.detail)
    if isinstance(exc, drf.PermissionDenied):
        return 403, forbidden_code, str(exc.detail)
    if isinstance(exc, PermissionDenied):
        return 403, forbidden_code, exc.message
    if isinstance(exc, drf.ParseError | drf.UnsupportedMediaType):
        return 400, bad, f"invalid request body: {exc.detail}"
    if isinstance(exc, drf.MethodNotAllowed):
        return 405, bad, str(exc.detail)
    if isinstance(exc, drf.APIException):
        return exc.status_code, bad, str(exc.detail)
    return None


def _classify_service(exc: Exception) -> tuple[int, str, str]:
    known = _common(
        exc,
        auth_code=GES_INVALID_TOKEN,
        forbidden_code=GES_PROJECT_ACCESS,
        bad=GES_BAD_PARAMETER,
    )
    if known:
        return known
    if isinstance(exc, NotFound | Http404):
        return 400, GES_BAD_PARAMETER, str(getattr(exc, "message", exc) or "not found")
    if isinstance(exc, InvalidInput):
        return 400, GES_IMPORT_FAILED, exc.message
    if isinstance(exc, ServiceError):
        return 400, GES_BAD_PARAMETER, exc.message
    logger.exception("GES service-plane request failed", exc_info=exc)
    return 500, GES_INTERNAL, f"internal error: {type(exc).__name__}"


def _classify_mgmt(exc: Exception) -> tuple[int, str, str]:
    known = _common(
        exc,
        auth_code=APIGW_AUTH_FAILED,
        forbidden_code=APIGW_FORBIDDEN,
        bad=GES_INVALID_PARAMETER,
    )
    if known:
        return known
    if isinstance(exc, NotFound | Http404):
        field = getattr(exc, "field", None)
        code = GES_GRAPH_NOT_FOUND if field == "graph" else GES_RESOURCE_NOT_FOUND
        if field in ("job", "job_id"):
            code = GES_MGMT_JOB_NOT_FOUND
        return 400, code, str(getattr(exc, "message", exc) or "not found")
    if isinstance(exc, InvalidInput):
        field = exc.field or ""
        if field in PATH_FIELDS:
            return 400, GES_INVALID_FILE_PATH, exc.message
        if field == "schema":
            return 400, GES_METADATA_PARSE, exc.message
        return 400, GES_INVALID_BODY, exc.message
    if isinstance(exc, InvalidState):
        if exc.field == "graph":  # e.g. the graph is being deleted
            return 400, GES_GRAPH_NOT_FOUND, exc.message
        return 400, GES_OPERATION_NOT_SUPPORTED, exc.message
    if isinstance(exc, Conflict | ServiceError):
        return 400, GES_INVALID_BODY, exc.message
    logger.exception("GES management-plane request failed", exc_info=exc)
    return 500, GES_INTERNAL, f"internal error: {type(exc).__name__}"


# Import request fields that name files: a bad one is GES.7011 "invalid file path or name".
PATH_FIELDS = frozenset({"schema_path", "edgeset_path", "vertexset_path", "log_dir"})


# --- the errors views raise, by situation ---------------------------------------------------


def service_bad_parameter(message: str) -> GesError:
    return bad_request(GES_BAD_PARAMETER, message)


def service_project_not_found(name: str) -> GesError:
    """Also for a project the caller does not belong to: the same code and text."""
    return bad_request(GES_PROJECT_ACCESS, f"project {name} does not exist")


def service_unknown_action(action: str) -> GesError:
    return bad_request(GES_BAD_PARAMETER, f"action_id {action!r} is not supported")


def service_unknown_endpoint(method: str, path: str) -> GesError:
    return bad_request(GES_BAD_PARAMETER, f"{method} {path} is not supported")


def mgmt_bad_parameter(message: str) -> GesError:
    return bad_request(GES_INVALID_PARAMETER, message)


def mgmt_invalid_body(message: str) -> GesError:
    return bad_request(GES_INVALID_BODY, message)


def mgmt_project_not_found(name: str) -> GesError:
    """Also for a project the caller does not belong to: the same code and text."""
    return bad_request(GES_RESOURCE_NOT_FOUND, f"project {name} does not exist")


def mgmt_graph_not_found(ref: str) -> GesError:
    return bad_request(GES_GRAPH_NOT_FOUND, f"graph {ref} does not exist")


def mgmt_job_not_found(job_id: str) -> GesError:
    return bad_request(GES_MGMT_JOB_NOT_FOUND, f"job {job_id} does not exist")


def mgmt_unknown_endpoint(method: str, path: str) -> GesError:
    return bad_request(GES_INVALID_PARAMETER, f"{method} {path} is not supported")


# messages GES itself uses
def graph_not_exist(name: str) -> GesError:
    return bad_request(GES_BAD_PARAMETER, f"graph : {name} not exist")


def job_not_found(job_id: str) -> GesError:
    return bad_request(GES_JOB_NOT_FOUND, f"can not find job, jobId is {job_id}")


def cancel_not_found(job_id: str) -> GesError:
    return bad_request(GES_CANCEL_FAILED, f"can not find job to cancel, id is {job_id}")


def cancel_unsupported(job: Job) -> GesError:
    return bad_request(
        GES_CANCEL_FAILED, f"Unsupported Operation: {task_type(job)} jobs cannot be cancelled"
    )


def cancel_refused(message: str) -> GesError:
    """A job that exists and is active but cannot be stopped now (it is committing)."""
    return bad_request(GES_CANCEL_FAILED, message)


def cancel_finished(job: Job) -> GesError:
    return bad_request(
        GES_CANCEL_FAILED,
        f"job {job.pk} has already finished ({SERVICE_STATUS[job.status]}) and cannot be cancelled",
    )


def filtered_query_unsupported() -> GesError:
    """GES's filtered-query is a k-hop traversal with a filter per hop; the core has no
    traversal, only label and property queries (vertices/edges action=query)."""
    return bad_request(
        GES_BAD_PARAMETER,
        "action_id filtered-query (a k-hop traversal) is not supported; filter vertices or "
        "edges by label and property with vertices/action?action_id=query or "
        "edges/action?action_id=query",
    )


def export_graph_not_found(name: str) -> GesError:
    return bad_request(GES_EXPORT_FAILED, f"graph [{name}] is not found")


def export_job_not_found(job_id: str) -> GesError:
    return bad_request(GES_EXPORT_FAILED, f"job [{job_id}] is not found")


# --- the services' refusals in GES's terms ---------------------------------------------------
# What the services refuse (a parameter out of range, a label the graph does not have, a path
# outside the export roots) comes out with the GES code of the situation: the views run the
# service calls inside ``translating(refused)``, ``refused`` built on ``refusal`` (see the
# ``*_refused`` functions of ``requests``).


@contextmanager
def translating(refused: Callable[[ServiceError], Exception]) -> Iterator[None]:
    """A ServiceError raised inside comes out as ``refused(error)``."""
    try:
        yield
    except ServiceError as exc:
        raise refused(exc) from None


def refusal(exc: ServiceError, code: str, message: str) -> Exception:
    """A service's refusal as ``code``: a permission error stays one, and a graph being
    deleted is answered as a missing one."""
    if isinstance(exc, PermissionDenied):
        return exc  # 403 with the plane's forbidden code
    if isinstance(exc, InvalidState) and exc.field == "graph":
        # the graph is being deleted: answered as a missing graph is
        return bad_request(GES_BAD_PARAMETER, exc.message)
    return bad_request(code, message)
