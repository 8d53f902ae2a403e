"""The set-up commands a new operator uses, as documented."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from jobcenter.projects.models import Membership, Project


@pytest.mark.django_db
def test_bootstrap_creates_admin_and_project_once():
    out = io.StringIO()
    call_command("bootstrap", stdout=out)
    assert "username: admin" in out.getvalue()
    password = out.getvalue().split("password: ")[1].split()[0]
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.check_password(password)
    assert Membership.objects.filter(project__name="default", user=admin, role="admin").exists()
    again = io.StringIO()
    call_command("bootstrap", stdout=again)
    assert again.getvalue() == ""
    assert get_user_model().objects.count() == 1 and Project.objects.count() == 1


@pytest.mark.django_db
def test_createsuperuser_noinput_and_drf_create_token(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "s3cret-pass-123")
    call_command("createsuperuser", "--noinput", "--username", "ops", "--email", "ops@example.com")
    user = get_user_model().objects.get(username="ops")
    assert user.check_password("s3cret-pass-123")
    out = io.StringIO()
    call_command("drf_create_token", "ops", stdout=out)
    assert Token.objects.get(user=user).key in out.getvalue()
