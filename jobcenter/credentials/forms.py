"""Login and password-change forms whose password checks go through the throttle.

A refused attempt says so (how long to wait) instead of "wrong password"; the views answer it
with 429 and Retry-After (views.py).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin import forms as admin_forms
from django.contrib.auth import authenticate
from django.contrib.auth import forms as auth_forms
from django.http import HttpRequest
from django.utils.text import capfirst
from django.views.decorators.debug import sensitive_variables

from jobcenter.core.errors import TooManyAttempts
from jobcenter.credentials.throttle import login_lockout


def lockout_error(lockout: TooManyAttempts) -> forms.ValidationError:
    return forms.ValidationError(f"{capfirst(lockout.message)}.", code="throttled")


class ThrottledLoginMixin:
    """For AuthenticationForm and its admin variant."""

    request: HttpRequest | None

    def get_invalid_login_error(self) -> forms.ValidationError:
        lockout = login_lockout(self.request)
        if lockout is not None:
            return lockout_error(lockout)
        return super().get_invalid_login_error()  # type: ignore[misc]


class LoginForm(ThrottledLoginMixin, auth_forms.AuthenticationForm):
    pass


class AdminLoginForm(ThrottledLoginMixin, admin_forms.AdminAuthenticationForm):
    pass


class ThrottledPasswordChangeMixin:
    """The old password is checked by ``authenticate()``, so wrong ones count as failed logins
    of that user (a stolen session cannot be used to guess the password)."""

    user: Any
    cleaned_data: dict[str, Any]
    error_messages: dict[str, str]

    def __init__(self, *args: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
        self.request = request
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]

    @sensitive_variables("old_password")
    def clean_old_password(self) -> str:
        old_password = self.cleaned_data["old_password"]
        user = authenticate(self.request, username=self.user.get_username(), password=old_password)
        if user is None or user.pk != self.user.pk:
            lockout = login_lockout(self.request)
            if lockout is not None:
                raise lockout_error(lockout)
            raise forms.ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            )
        return old_password


class PasswordChangeForm(ThrottledPasswordChangeMixin, auth_forms.PasswordChangeForm):
    pass


class AdminPasswordChangeForm(ThrottledPasswordChangeMixin, admin_forms.AdminPasswordChangeForm):
    pass
