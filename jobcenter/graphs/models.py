from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import models

from jobcenter.core.ids import new_id
from jobcenter.graphs.choices import GraphDialect, GraphStatus


class Graph(models.Model):
    """A graph of a project. Its data lives in its own store file, not in this database."""

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="graphs")
    name = models.CharField(max_length=128)
    description = models.TextField(blank=True)
    dialect = models.CharField(max_length=16, choices=GraphDialect.choices)
    # The normalised schema (jobcenter.graphs.schema.GraphSchema.to_dict()).
    schema = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=GraphStatus.choices, default=GraphStatus.READY)
    # Id of the job currently writing this graph ("" when none): two writes never interleave.
    write_lock = models.CharField(max_length=32, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    data_updated_at = models.DateTimeField(null=True, blank=True)
    # Started into the workers' memory (a start graph job): every worker keeps it and an idle
    # worker loads it; a close graph job clears it.
    kept_in_memory = models.BooleanField(default=False)
    # Bumped by every close graph job: a worker drops the copies it loaded under an older value
    # (jobcenter.jobs.resident.keep_in_step).
    memory_epoch = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["project", "name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="unique_graph_name_in_project")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def store_path(self) -> Path:
        return Path(settings.JOBCENTER_GRAPH_DIR) / f"{self.id}.sqlite3"
