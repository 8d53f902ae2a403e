from __future__ import annotations

from django.conf import settings
from django.db import models

from jobcenter.projects.choices import Role


class Project(models.Model):
    """A tenant: graphs and jobs belong to a project; users see only their projects."""

    name = models.SlugField(max_length=64, unique=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Days the results of finished jobs are kept (0: for ever); null: the deployment's default,
    # JOBCENTER_RESULT_RETENTION_DAYS. Workers remove older results (see jobs.services).
    result_retention_days = models.PositiveIntegerField(null=True, blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="projects"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def effective_result_retention_days(self) -> int:
        if self.result_retention_days is not None:
            return self.result_retention_days
        return settings.JOBCENTER_RESULT_RETENTION_DAYS


class Membership(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="unique_project_member")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.project} as {self.role}"


class LastProject(models.Model):
    """The project a user last chose on the dashboard (by its address or the project switcher),
    where their next visit opens, from any browser, after logging out and in."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="last_project",
    )
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    chosen_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user} last in {self.project}"
