from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "jobcenter.metrics"
    label = "metrics"
    verbose_name = "Metrics (Prometheus)"
