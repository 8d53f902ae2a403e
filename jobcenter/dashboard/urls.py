"""The dashboard's one URL map (views: one module per resource in jobcenter.dashboard.views)."""

from django.urls import path

from jobcenter.dashboard.views import (
    analytics,
    files,
    graphs,
    imports,
    job_detail,
    jobs,
    memory,
    projects,
    results,
    site,
    webhooks,
)

app_name = "dashboard"

urlpatterns = [
    path("", jobs.job_list, name="job_list"),
    path("jobs/live/", jobs.job_list_live, name="job_list_live"),
    path("jobs/cancel/", jobs.job_bulk_cancel, name="job_bulk_cancel"),
    path("jobs/retry/", jobs.job_bulk_retry, name="job_bulk_retry"),
    path("jobs.csv", jobs.job_list_csv, name="job_list_csv"),
    path("jobs/<str:job_id>/", job_detail.job_detail, name="job_detail"),
    path("jobs/<str:job_id>/live/", job_detail.job_detail_live, name="job_detail_live"),
    path("jobs/<str:job_id>/cancel/", job_detail.job_cancel, name="job_cancel"),
    path("jobs/<str:job_id>/retry/", job_detail.job_retry, name="job_retry"),
    path("jobs/<str:job_id>/failed-lines/", job_detail.job_failed_lines, name="job_failed_lines"),
    path(
        "jobs/<str:job_id>/failed-lines.csv",
        job_detail.job_failed_lines_csv,
        name="job_failed_lines_csv",
    ),
    path("jobs/<str:job_id>/result/", results.job_result, name="job_result"),
    path("jobs/<str:job_id>/result.csv", results.job_result_csv, name="job_result_csv"),
    path(
        "jobs/<str:job_id>/result/export/",
        job_detail.job_result_export,
        name="job_result_export",
    ),
    path("imports/new/", imports.import_create, name="import_create"),
    path("graphs/", graphs.graph_list, name="graph_list"),
    path("graphs/new/", graphs.graph_create, name="graph_create"),
    path("graphs/<str:graph_id>/", graphs.graph_detail, name="graph_detail"),
    path("graphs/<str:graph_id>/delete/", graphs.graph_delete, name="graph_delete"),
    path("graphs/<str:graph_id>/algorithm/", analytics.algorithm_create, name="algorithm_create"),
    path("graphs/<str:graph_id>/query/", analytics.query_create, name="query_create"),
    path("graphs/<str:graph_id>/index/", graphs.index_create, name="index_create"),
    path("graphs/<str:graph_id>/operation/", graphs.graph_operation, name="graph_operation"),
    path("graphs/<str:graph_id>/memory/<str:action>/", memory.graph_memory, name="graph_memory"),
    path("files/", files.file_browser, name="file_browser"),
    path("webhooks/", webhooks.webhook_list_page, name="webhook_list"),
    path("webhooks/<str:webhook_id>/", webhooks.webhook_detail, name="webhook_detail"),
    path(
        "webhooks/<str:webhook_id>/deliveries/",
        webhooks.webhook_deliveries,
        name="webhook_deliveries",
    ),
    path("webhooks/<str:webhook_id>/toggle/", webhooks.webhook_toggle, name="webhook_toggle"),
    path("webhooks/<str:webhook_id>/delete/", webhooks.webhook_remove, name="webhook_delete"),
    path(
        "webhooks/<str:webhook_id>/deliveries/<str:delivery_id>/resend/",
        webhooks.delivery_resend_view,
        name="webhook_delivery_resend",
    ),
    path("project/", projects.project_switch, name="project_switch"),
    path("favicon.ico", site.favicon, name="favicon"),
]
