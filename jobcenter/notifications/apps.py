from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "jobcenter.notifications"
    label = "notifications"
    verbose_name = "Notifications (webhooks)"
    default_auto_field = "django.db.models.BigAutoField"
