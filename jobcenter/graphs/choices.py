from django.db import models


class GraphDialect(models.TextChoices):
    """The format a graph's schema was defined in (its normalised form is the same)."""

    GES = "ges", "GES"
    GRAPHSCOPE = "graphscope", "GraphScope Interactive"


class GraphStatus(models.TextChoices):
    READY = "ready", "Ready"
    DELETING = "deleting", "Deleting"
