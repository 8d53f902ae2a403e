from django.contrib import admin

from jobcenter.graphs.models import Graph


@admin.register(Graph)
class GraphAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "dialect", "status", "created_at"]
    list_filter = ["project", "dialect"]
    readonly_fields = ["id", "schema", "write_lock"]
