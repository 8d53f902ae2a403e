from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class CredentialsConfig(AppConfig):
    default = True  # this app's config (apps.py holds AdminConfig too)
    name = "jobcenter.credentials"
    label = "credentials"
    verbose_name = "Access keys"


class AdminConfig(admin_apps.AdminConfig):
    """``django.contrib.admin`` with our AdminSite (throttled login and password change)."""

    default = False
    default_site = "jobcenter.credentials.views.AdminSite"
