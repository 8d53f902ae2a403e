"""The authentication backend: Django's ModelBackend with password guessing throttled."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from jobcenter.core.errors import TooManyAttempts
from jobcenter.credentials.throttle import client_address, login_attempt_end, login_attempt_start


class ThrottledModelBackend(ModelBackend):
    """Every password check of ``authenticate()`` (the login page, the admin's, the API's token
    endpoint, and any later caller) goes through the throttle of ``throttle.py``.

    A locked-out user name or address gets no password check: the lockout is left on the
    request (``throttle.login_lockout(request)``) for the view to answer 429, and the backend
    raises PermissionDenied, Django's way for a backend to stop authentication.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        address = client_address(request) if request is not None else None
        try:
            attempt = login_attempt_start(username=str(username), address=address)
        except TooManyAttempts as exc:
            if request is not None:
                request.login_lockout = exc  # type: ignore[attr-defined]
            raise PermissionDenied(exc.message) from exc
        user = super().authenticate(request, username=username, password=password, **kwargs)
        login_attempt_end(attempt, succeeded=user is not None)
        return user
