from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from jobcenter.core.errors import ServiceError
from jobcenter.credentials.models import AccessKey
from jobcenter.credentials.services import access_key_create, access_key_revoke


@admin.register(AccessKey)
class AccessKeyAdmin(admin.ModelAdmin):
    """Create (the secret is shown once, in the confirmation message), list and revoke keys."""

    list_display = ["access_key", "user", "description", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["access_key", "user__username", "description"]
    readonly_fields = [
        "access_key",
        "created_at",
        "last_used_at",
        "revoked_at",
        "revoked_by",
    ]
    actions = ["revoke_selected"]

    def get_fields(self, request: HttpRequest, obj: AccessKey | None = None) -> list[str]:
        if obj is None:
            return ["user", "description"]
        return ["access_key", "user", "description", *self.readonly_fields[1:]]

    def get_readonly_fields(self, request: HttpRequest, obj: AccessKey | None = None) -> list[str]:
        if obj is None:
            return []
        return ["user", *self.readonly_fields]

    def save_model(self, request: HttpRequest, obj: AccessKey, form: Any, change: bool) -> None:
        if change:
            AccessKey.objects.filter(pk=obj.pk).update(description=obj.description)
            return
        key, secret = access_key_create(user=obj.user, description=obj.description)
        obj.pk, obj.access_key, obj.created_at = key.pk, key.access_key, key.created_at
        obj.secret_encrypted = key.secret_encrypted
        messages.warning(
            request,
            f"Access key {key.access_key} created. Its secret key is {secret} — copy it now, "
            "it is not shown again.",
        )

    def has_delete_permission(self, request: HttpRequest, obj: AccessKey | None = None) -> bool:
        return False  # revoke instead: the key's history stays

    @admin.action(description="Revoke selected access keys")
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[AccessKey]) -> None:
        revoked = 0
        for key in queryset.filter(revoked_at__isnull=True):
            try:
                access_key_revoke(key=key, by=request.user)
            except ServiceError:
                continue
            revoked += 1
        self.message_user(request, f"Revoked {revoked} access key(s).", messages.SUCCESS)
