from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The native REST API. Its OpenAPI extensions (jobcenter/api/schema.py) are registered by
    the views that import them, whenever the URLconf loads: not at start-up, so that a worker,
    which serves no request, does not load drf-spectacular, DRF's fields and, through them,
    django.contrib.postgres and psycopg (some 20 MB of a worker on SQLite)."""

    name = "jobcenter.api"
    label = "api"
    verbose_name = "REST API"
