"""The one map from a ServiceError's kind to its HTTP status (the native API and the dashboard)."""

from __future__ import annotations

import pytest

from jobcenter.core.documents import DocumentError
from jobcenter.core.errors import (
    Conflict,
    InvalidInput,
    InvalidState,
    NotFound,
    PermissionDenied,
    ServiceError,
    TooManyAttempts,
    http_status,
)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (InvalidInput("bad"), 400),
        (NotFound("gone"), 404),
        (Conflict("taken"), 409),
        (InvalidState("finished"), 409),
        (PermissionDenied("viewer"), 403),
        (TooManyAttempts("wait", retry_after=5), 429),
        (ServiceError("anything else"), 400),
    ],
)
def test_each_kind_has_its_status(error, status):
    assert http_status(error) == status


def test_a_subclass_takes_the_status_of_its_nearest_kind():
    class Gone(NotFound):
        pass

    class Both(InvalidState, PermissionDenied):
        pass

    assert http_status(Gone("gone")) == 404
    assert http_status(DocumentError("request", "not YAML", field="request")) == 400
    assert http_status(Both("both")) == 409
