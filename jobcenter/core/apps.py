from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "jobcenter.core"
    label = "core"
