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


class LoginFailureCount(models.Model):
    """Failed password checks of one user name, or from one client address, in the current
    window (``jobcenter.credentials.throttle``).

    ``key`` is an HMAC of the user name or address (keyed by SECRET_KEY): failed user names
    are often passwords typed in the wrong field, and are not kept in clear.
    """

    class Scope(models.TextChoices):
        USER = "user", "user name"
        ADDRESS = "address", "client address"

    scope = models.CharField(max_length=8, choices=Scope.choices)
    key = models.CharField(max_length=64)
    window_start = models.DateTimeField()
    failures = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="login_failures_scope_key")
        ]
        indexes = [models.Index(fields=["window_start"], name="login_failures_window")]
        verbose_name = "login failure count"

    def __str__(self) -> str:
        return f"{self.scope} {self.key[:12]}: {self.failures} since {self.window_start}"
