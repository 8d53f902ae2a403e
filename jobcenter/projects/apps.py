from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "jobcenter.projects"
    label = "projects"
