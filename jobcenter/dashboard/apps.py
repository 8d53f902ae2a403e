from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The HTMX web face: server-rendered pages over the same services and selectors as the API."""

    name = "jobcenter.dashboard"
    label = "dashboard"
