from django.apps import AppConfig


class GraphsConfig(AppConfig):
    name = "jobcenter.graphs"
    label = "graphs"
