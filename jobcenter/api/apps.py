from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "jobcenter.api"
    label = "api"
    verbose_name = "REST API"

    def ready(self) -> None:
        # OpenAPI descriptions of our authentication classes (drf-spectacular extensions).
        from jobcenter.api import schema  # noqa: F401
