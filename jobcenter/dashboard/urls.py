from django.urls import path

from jobcenter.dashboard import analytics, views

app_name = "dashboard"

urlpatterns = [
    path("", views.job_list, name="job_list"),
    path("jobs/live/", views.job_list_live, name="job_list_live"),
    path("jobs/cancel/", views.job_bulk_cancel, name="job_bulk_cancel"),
    path("jobs/retry/", views.job_bulk_retry, name="job_bulk_retry"),
    path("jobs.csv", views.job_list_csv, name="job_list_csv"),
    path("jobs/<str:job_id>/", views.job_detail, name="job_detail"),
    path("jobs/<str:job_id>/live/", views.job_detail_live, name="job_detail_live"),
    path("jobs/<str:job_id>/cancel/", views.job_cancel, name="job_cancel"),
    path("jobs/<str:job_id>/retry/", views.job_retry, name="job_retry"),
    path("jobs/<str:job_id>/failed-lines/", views.job_failed_lines, name="job_failed_lines"),
    path(
        "jobs/<str:job_id>/failed-lines.csv",
        views.job_failed_lines_csv,
        name="job_failed_lines_csv",
    ),
    path("jobs/<str:job_id>/result/", analytics.job_result, name="job_result"),
    path("jobs/<str:job_id>/result.csv", analytics.job_result_csv, name="job_result_csv"),
    path(
        "jobs/<str:job_id>/result/export/",
        analytics.job_result_export,
        name="job_result_export",
    ),
    path("imports/new/", views.import_create, name="import_create"),
    path("graphs/", views.graph_list, name="graph_list"),
    path("graphs/new/", views.graph_create, name="graph_create"),
    path("graphs/<str:graph_id>/", analytics.graph_detail, name="graph_detail"),
    path("graphs/<str:graph_id>/delete/", views.graph_delete, name="graph_delete"),
    path("graphs/<str:graph_id>/algorithm/", analytics.algorithm_create, name="algorithm_create"),
    path("graphs/<str:graph_id>/query/", analytics.query_create, name="query_create"),
    path("graphs/<str:graph_id>/index/", analytics.index_create, name="index_create"),
    path("graphs/<str:graph_id>/operation/", analytics.graph_operation, name="graph_operation"),
    path("files/", views.file_browser, name="file_browser"),
    path("project/", views.project_switch, name="project_switch"),
    path("favicon.ico", views.favicon, name="favicon"),
]
