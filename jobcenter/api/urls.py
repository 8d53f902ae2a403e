"""URLs of the native API, mounted at /api/ (health, schema, v1)."""

from __future__ import annotations

from django.urls import include, path, re_path

from jobcenter.api import analytics, docs, views
from jobcenter.core.security import content_security_policy

# ReDoc runs under its own, slightly looser policy (see settings.py); Swagger UI under the
# dashboard's.
redoc_policy = content_security_policy("JOBCENTER_CSP_REDOC")

v1 = [
    path("auth/token/", views.TokenView.as_view(), name="token"),
    path("jobs/", views.JobListView.as_view(), name="job-list"),
    path("jobs.csv", views.JobListCsvView.as_view(), name="job-list-csv"),
    path("jobs/cancel/", views.JobBulkCancelView.as_view(), name="job-bulk-cancel"),
    path("jobs/retry/", views.JobBulkRetryView.as_view(), name="job-bulk-retry"),
    path("jobs/<str:job_id>/", views.JobDetailView.as_view(), name="job-detail"),
    path("jobs/<str:job_id>/cancel/", views.JobCancelView.as_view(), name="job-cancel"),
    path("jobs/<str:job_id>/retry/", views.JobRetryView.as_view(), name="job-retry"),
    path("jobs/<str:job_id>/timeline/", views.JobTimelineView.as_view(), name="job-timeline"),
    path("jobs/<str:job_id>/files/", views.JobFileListView.as_view(), name="job-files"),
    path(
        "jobs/<str:job_id>/files/<str:index>/",
        views.JobFileDetailView.as_view(),
        name="job-file",
    ),
    path(
        "jobs/<str:job_id>/failed-lines/",
        views.JobFailedLinesView.as_view(),
        name="job-failed-lines",
    ),
    path(
        "jobs/<str:job_id>/failed-lines.csv",
        views.JobFailedLinesCsvView.as_view(),
        name="job-failed-lines-csv",
    ),
    path(
        "jobs/<str:job_id>/files/<str:index>/failed-lines/",
        views.JobFileFailedLinesView.as_view(),
        name="job-file-failed-lines",
    ),
    path(
        "jobs/<str:job_id>/files/<str:index>/failed-lines.csv",
        views.JobFileFailedLinesCsvView.as_view(),
        name="job-file-failed-lines-csv",
    ),
    *analytics.urlpatterns,
    path("graphs/", views.GraphListView.as_view(), name="graph-list"),
    path("graphs/<str:graph_id>/", views.GraphDetailView.as_view(), name="graph-detail"),
    path("graphs/<str:graph_id>/import/", views.GraphImportView.as_view(), name="graph-import"),
    path("projects/", views.ProjectListView.as_view(), name="project-list"),
    path("projects/<str:project>/", views.ProjectDetailView.as_view(), name="project-detail"),
    path(
        "projects/<str:project>/members/",
        views.MemberListView.as_view(),
        name="project-members",
    ),
    path(
        "projects/<str:project>/members/<str:username>/",
        views.MemberDetailView.as_view(),
        name="project-member",
    ),
]

app_name = "api"
urlpatterns = [
    path("health/", views.HealthView.as_view(), name="health"),
    path("schema/", views.SchemaView.as_view(), name="schema"),
    path("schema/swagger-ui/", views.SwaggerView.as_view(url_name="api:schema"), name="docs"),
    path(
        "schema/redoc/", redoc_policy(views.RedocView.as_view(url_name="api:schema")), name="redoc"
    ),
    path("schema/redoc/redoc.standalone.js", docs.redoc_script, name="redoc-script"),
    path("v1/", include(v1)),
    # Anything else under /api/: the JSON error shape (or a redirect adding a missing slash).
    re_path(r"^(?P<path>.*)$", views.not_found),
]
