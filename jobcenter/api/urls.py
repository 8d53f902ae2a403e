"""URLs of the native API, mounted at /api/ (health, schema, v1): the one router of its views."""

from __future__ import annotations

from django.urls import include, path, re_path

from jobcenter.api import docs
from jobcenter.api.views import (
    algorithms,
    auth,
    chains,
    exports,
    graphs,
    imports,
    indexes,
    job_files,
    jobs,
    memory,
    operations,
    projects,
    queries,
    results,
    service,
    webhooks,
)
from jobcenter.core.security import content_security_policy

# ReDoc runs under its own, slightly looser policy (see settings.py); Swagger UI under the
# dashboard's.
redoc_policy = content_security_policy("JOBCENTER_CSP_REDOC")

v1 = [
    path("auth/token/", auth.TokenView.as_view(), name="token"),
    path("jobs/", jobs.JobListView.as_view(), name="job-list"),
    path("jobs.csv", jobs.JobListCsvView.as_view(), name="job-list-csv"),
    path("jobs/cancel/", jobs.JobBulkCancelView.as_view(), name="job-bulk-cancel"),
    path("jobs/retry/", jobs.JobBulkRetryView.as_view(), name="job-bulk-retry"),
    path("jobs/<str:job_id>/", jobs.JobDetailView.as_view(), name="job-detail"),
    path("jobs/<str:job_id>/cancel/", jobs.JobCancelView.as_view(), name="job-cancel"),
    path("jobs/<str:job_id>/retry/", jobs.JobRetryView.as_view(), name="job-retry"),
    path("jobs/<str:job_id>/timeline/", jobs.JobTimelineView.as_view(), name="job-timeline"),
    path("jobs/<str:job_id>/files/", job_files.JobFileListView.as_view(), name="job-files"),
    path(
        "jobs/<str:job_id>/files/<str:index>/",
        job_files.JobFileDetailView.as_view(),
        name="job-file",
    ),
    path(
        "jobs/<str:job_id>/failed-lines/",
        job_files.JobFailedLinesView.as_view(),
        name="job-failed-lines",
    ),
    path(
        "jobs/<str:job_id>/failed-lines.csv",
        job_files.JobFailedLinesCsvView.as_view(),
        name="job-failed-lines-csv",
    ),
    path(
        "jobs/<str:job_id>/files/<str:index>/failed-lines/",
        job_files.JobFileFailedLinesView.as_view(),
        name="job-file-failed-lines",
    ),
    path(
        "jobs/<str:job_id>/files/<str:index>/failed-lines.csv",
        job_files.JobFileFailedLinesCsvView.as_view(),
        name="job-file-failed-lines-csv",
    ),
    path("jobs/<str:job_id>/result/", results.JobResultView.as_view(), name="job-result"),
    path("jobs/<str:job_id>/result.csv", results.JobResultCsvView.as_view(), name="job-result-csv"),
    path(
        "jobs/<str:job_id>/result/export/",
        exports.JobResultExportView.as_view(),
        name="job-result-export",
    ),
    path(
        "graphs/<str:graph_id>/algorithms/",
        algorithms.GraphAlgorithmView.as_view(),
        name="graph-algorithm",
    ),
    path("graphs/<str:graph_id>/query/", queries.GraphQueryView.as_view(), name="graph-query"),
    path("graphs/<str:graph_id>/indexes/", indexes.GraphIndexView.as_view(), name="graph-index"),
    path("graphs/<str:graph_id>/export/", exports.GraphExportView.as_view(), name="graph-export"),
    path(
        "graphs/<str:graph_id>/operations/",
        operations.GraphOperationView.as_view(),
        name="graph-operation",
    ),
    path("graphs/<str:graph_id>/start/", memory.GraphStartView.as_view(), name="graph-start"),
    path("graphs/<str:graph_id>/close/", memory.GraphCloseView.as_view(), name="graph-close"),
    path("graphs/", graphs.GraphListView.as_view(), name="graph-list"),
    path("graphs/<str:graph_id>/", graphs.GraphDetailView.as_view(), name="graph-detail"),
    path("graphs/<str:graph_id>/import/", imports.GraphImportView.as_view(), name="graph-import"),
    path("projects/", projects.ProjectListView.as_view(), name="project-list"),
    path("projects/<str:project>/", projects.ProjectDetailView.as_view(), name="project-detail"),
    path(
        "projects/<str:project>/members/",
        projects.MemberListView.as_view(),
        name="project-members",
    ),
    path(
        "projects/<str:project>/members/<str:username>/",
        projects.MemberDetailView.as_view(),
        name="project-member",
    ),
    path("projects/<str:project>/chains/", chains.ChainView.as_view(), name="project-chains"),
    path(
        "projects/<str:project>/webhooks/",
        webhooks.WebhookListView.as_view(),
        name="project-webhooks",
    ),
    path(
        "projects/<str:project>/webhooks/<str:webhook_id>/",
        webhooks.WebhookDetailView.as_view(),
        name="project-webhook",
    ),
    path(
        "projects/<str:project>/webhooks/<str:webhook_id>/deliveries/",
        webhooks.DeliveryListView.as_view(),
        name="project-webhook-deliveries",
    ),
    path(
        "projects/<str:project>/webhooks/<str:webhook_id>/deliveries/<str:delivery_id>/resend/",
        webhooks.DeliveryResendView.as_view(),
        name="project-webhook-delivery-resend",
    ),
]

app_name = "api"
urlpatterns = [
    path("health/", service.HealthView.as_view(), name="health"),
    path("schema/", service.SchemaView.as_view(), name="schema"),
    path("schema/swagger-ui/", service.SwaggerView.as_view(url_name="api:schema"), name="docs"),
    path(
        "schema/redoc/",
        redoc_policy(service.RedocView.as_view(url_name="api:schema")),
        name="redoc",
    ),
    path("schema/redoc/redoc.standalone.js", docs.redoc_script, name="redoc-script"),
    path("v1/", include(v1)),
    # Anything else under /api/: the JSON error shape (or a redirect adding a missing slash).
    re_path(r"^(?P<path>.*)$", service.not_found),
]
