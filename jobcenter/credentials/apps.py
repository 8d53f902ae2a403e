from django.apps import AppConfig


class CredentialsConfig(AppConfig):
    name = "jobcenter.credentials"
    label = "credentials"
    verbose_name = "Access keys"
