"""The dashboard's one URL map (views: one module per resource in jobcenter.dashboard.views)."""

from django.urls import include, path

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

# The pages of one job, one graph, one webhook (under jobs/<job_id>/, graphs/<graph_id>/...).
job = [
    path("", job_detail.job_detail, name="job_detail"),
    path("live/", job_detail.job_detail_live, name="job_detail_live"),
    path("cancel/", job_detail.job_cancel, name="job_cancel"),
    path("retry/", job_detail.job_retry, name="job_retry"),
    path("failed-lines/", job_detail.job_failed_lines, name="job_failed_lines"),
    path("failed-lines.csv", job_detail.job_failed_lines_csv, name="job_failed_lines_csv"),
    path("result/", results.job_result, name="job_result"),
    path("result.csv", results.job_result_csv, name="job_result_csv"),
    path("result/export/", job_detail.job_result_export, name="job_result_export"),
]
graph = [
    path("", graphs.graph_detail, name="graph_detail"),
    path("delete/", graphs.graph_delete, name="graph_delete"),
    path("algorithm/", analytics.algorithm_create, name="algorithm_create"),
    path("query/", analytics.query_create, name="query_create"),
    path("index/", graphs.index_create, name="index_create"),
    path("operation/", graphs.graph_operation, name="graph_operation"),
    path("memory/<str:action>/", memory.graph_memory, name="graph_memory"),
]
webhook = [
    path("", webhooks.webhook_detail, name="webhook_detail"),
    path("deliveries/", webhooks.webhook_deliveries, name="webhook_deliveries"),
    path("toggle/", webhooks.webhook_toggle, name="webhook_toggle"),
    path("delete/", webhooks.webhook_remove, name="webhook_delete"),
    path(
        "deliveries/<str:delivery_id>/resend/",
        webhooks.delivery_resend_view,
        name="webhook_delivery_resend",
    ),
]

urlpatterns = [
    path("", jobs.job_list, name="job_list"),
    path("jobs/live/", jobs.job_list_live, name="job_list_live"),
    path("jobs/cancel/", jobs.job_bulk_cancel, name="job_bulk_cancel"),
    path("jobs/retry/", jobs.job_bulk_retry, name="job_bulk_retry"),
    path("jobs.csv", jobs.job_list_csv, name="job_list_csv"),
    path("jobs/<str:job_id>/", include(job)),
    path("imports/new/", imports.import_create, name="import_create"),
    path("graphs/", graphs.graph_list, name="graph_list"),
    path("graphs/new/", graphs.graph_create, name="graph_create"),
    path("graphs/<str:graph_id>/", include(graph)),
    path("files/", files.file_browser, name="file_browser"),
    path("webhooks/", webhooks.webhook_list_page, name="webhook_list"),
    path("webhooks/<str:webhook_id>/", include(webhook)),
    path("project/", projects.project_switch, name="project_switch"),
    path("favicon.ico", site.favicon, name="favicon"),
]
