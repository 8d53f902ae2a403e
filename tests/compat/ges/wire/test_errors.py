"""``compat.ges.wire.errors``: the error shapes and codes of both planes."""

from __future__ import annotations

from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated

from jobcenter.compat.ges.wire import errors
from jobcenter.core.errors import InvalidInput, InvalidState, NotFound, PermissionDenied


def test_error_shapes_of_both_planes():
    def service(exc: Exception) -> tuple[int, dict]:
        response = errors.service_error_response(exc)
        return response.status_code, response.data

    def mgmt(exc: Exception) -> tuple[int, dict]:
        response = errors.mgmt_error_response(exc)
        return response.status_code, response.data

    assert service(errors.job_not_found("9")) == (
        400,
        {
            "errorCode": "GES.8301",
            "errorMessage": "can not find job, jobId is 9",
            "result": "failed",
        },
    )
    assert service(NotAuthenticated())[0:1] == (401,)
    assert service(NotAuthenticated())[1]["errorCode"] == "GES.8007"
    assert service(InvalidInput("no such file", field="edgeset_path"))[1]["errorCode"] == "GES.8013"
    assert service(PermissionDenied("viewer"))[0] == 403
    assert service(RuntimeError("x"))[0:1] == (500,)
    assert mgmt(AuthenticationFailed("bad signature")) == (
        401,
        {"error_code": "APIGW.0301", "error_msg": "bad signature"},
    )
    assert mgmt(NotFound("graph g does not exist", field="graph"))[1]["error_code"] == "GES.7000"
    assert mgmt(NotFound("job j does not exist", field="job_id"))[1]["error_code"] == "GES.7007"
    assert mgmt(InvalidInput("missing", field="vertexset_path"))[1]["error_code"] == "GES.7011"
    assert mgmt(InvalidInput("bad xml", field="schema"))[1]["error_code"] == "GES.7070"
    assert mgmt(InvalidInput("bad", field="delimiter"))[1]["error_code"] == "GES.7016"
    assert mgmt(InvalidState("being deleted", field="graph"))[1]["error_code"] == "GES.7000"
    assert mgmt(RuntimeError("x")) == (
        500,
        {"error_code": "GES.9999", "error_msg": "internal error: RuntimeError"},
    )
