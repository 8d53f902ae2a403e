from __future__ import annotations

from django.conf import settings
from django.db import models


class AccessKey(models.Model):
    """An access key / secret key pair a user signs API requests with (SDK-HMAC-SHA256).

    ``access_key`` is public (it travels in every request); the secret is stored encrypted
    (``jobcenter.credentials.crypto``) and shown only once, when the pair is created.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_keys"
    )
    access_key = models.CharField(max_length=32, unique=True, editable=False)
    secret_encrypted = models.TextField(editable=False)
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.access_key

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
