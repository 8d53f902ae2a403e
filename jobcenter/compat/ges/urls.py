"""Huawei GES: the service plane under /ges/v1.0/ and the management plane v2 under /v2/."""

from django.urls import path, re_path

from jobcenter.compat.ges import views

SERVICE = "ges/v1.0/<str:project_id>/graphs/<str:graph_name>"

urlpatterns = [
    # service plane (camelCase)
    path(f"{SERVICE}/jobs/status", views.ServiceJobListView.as_view(), name="ges-jobs"),
    path(
        f"{SERVICE}/jobs/<str:job_id>/status",
        views.ServiceJobStatusView.as_view(),
        name="ges-job-status",
    ),
    path(f"{SERVICE}/jobs/<str:job_id>", views.ServiceJobCancelView.as_view(), name="ges-job"),
    path(
        f"{SERVICE}/jobs/<str:job_id>/action",
        views.ServiceJobActionView.as_view(),
        name="ges-job-action",
    ),
    path(f"{SERVICE}/action", views.ServiceGraphActionView.as_view(), name="ges-graph-action"),
    path(
        f"{SERVICE}/vertices/action",
        views.ServiceQueryView.as_view(target="vertices"),
        name="ges-vertex-query",
    ),
    path(
        f"{SERVICE}/edges/action",
        views.ServiceQueryView.as_view(target="edges"),
        name="ges-edge-query",
    ),
    path(f"{SERVICE}/indices", views.ServiceIndexView.as_view(), name="ges-indices"),
    re_path(r"^ges/v1\.0/", views.ServiceUnknownView.as_view()),
    # management plane v2 (snake_case)
    path("v2/<str:project_id>/graphs/jobs", views.MgmtJobListView.as_view(), name="ges2-jobs"),
    path(
        "v2/<str:project_id>/graphs/<str:graph_id>/jobs/<str:job_id>/status",
        views.MgmtJobShowView.as_view(),
        name="ges2-job",
    ),
    path(
        "v2/<str:project_id>/graphs/<str:graph_id>/import-graph",
        views.MgmtImportGraphView.as_view(),
        name="ges2-import-graph",
    ),
    path(
        "v2/<str:project_id>/graphs/<str:graph_id>/start",
        views.MgmtStartGraphView.as_view(),
        name="ges2-start-graph",
    ),
    path(
        "v2/<str:project_id>/graphs/<str:graph_id>/stop",
        views.MgmtStopGraphView.as_view(),
        name="ges2-stop-graph",
    ),
    re_path(r"^v2/", views.MgmtUnknownView.as_view()),
]
