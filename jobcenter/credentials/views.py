"""The login and password-change pages (the dashboard's and the admin site's), answering a
locked-out attempt with the form, its message, 429 and Retry-After."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from jobcenter.credentials import forms
from jobcenter.credentials.throttle import login_lockout

TOO_MANY_REQUESTS = 429


def lockout_status(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """``response`` as a 429 with Retry-After if this request's login attempt was refused."""
    lockout = login_lockout(request)
    if lockout is not None:
        response.status_code = TOO_MANY_REQUESTS
        response["Retry-After"] = str(lockout.retry_after)
    return response


class LoginView(auth_views.LoginView):
    authentication_form = forms.LoginForm

    def form_invalid(self, form: Any) -> HttpResponse:
        return lockout_status(self.request, super().form_invalid(form))


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = forms.PasswordChangeForm

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "request": self.request}

    def form_invalid(self, form: Any) -> HttpResponse:
        return lockout_status(self.request, super().form_invalid(form))


class AdminSite(admin.AdminSite):
    """The admin site (installed as the default one by ``apps.AdminConfig``), its login and
    password change throttled like the dashboard's."""

    login_form = forms.AdminLoginForm

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        return lockout_status(request, super().login(request, extra_context))

    def password_change(
        self, request: HttpRequest, extra_context: dict | None = None
    ) -> HttpResponse:
        # Django's AdminSite.password_change, with the throttled form.
        defaults: dict[str, Any] = {
            "form_class": forms.AdminPasswordChangeForm,
            "success_url": reverse("admin:password_change_done", current_app=self.name),
            "extra_context": {**self.each_context(request), **(extra_context or {})},
        }
        if self.password_change_template is not None:
            defaults["template_name"] = self.password_change_template
        request.current_app = self.name
        return PasswordChangeView.as_view(**defaults)(request)
