"""GraphScope Interactive's admin API, mounted at the URL root without trailing slashes (the
SDK accepts only ``http://host:port`` as its endpoint)."""

from django.urls import path, re_path

from jobcenter.compat.graphscope import views

urlpatterns = [
    path("v1/service/status", views.ServiceStatusView.as_view(), name="gs-service-status"),
    path("v1/job", views.JobListView.as_view(), name="gs-job-list"),
    path("v1/job/<str:job_id>", views.JobDetailView.as_view(), name="gs-job-detail"),
    path("v1/graph", views.GraphListView.as_view(), name="gs-graph-list"),
    path("v1/graph/<str:graph_id>", views.GraphDetailView.as_view(), name="gs-graph-detail"),
    path(
        "v1/graph/<str:graph_id>/dataloading",
        views.DataloadingView.as_view(),
        name="gs-dataloading",
    ),
    path("v1/file/upload", views.FileUploadView.as_view(), name="gs-file-upload"),
    re_path(r"^v1/", views.UnknownEndpointView.as_view()),
]
