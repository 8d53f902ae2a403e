"""Huawei Cloud IAM's permanent access key API, for the AK/SK pairs that sign GES requests."""

from django.urls import path, re_path

from jobcenter.compat.iam import views

CREDENTIALS = "v3.0/OS-CREDENTIAL/credentials"

urlpatterns = [
    path(CREDENTIALS, views.CredentialListView.as_view(), name="iam-credentials"),
    path(
        f"{CREDENTIALS}/<str:access_key>",
        views.CredentialDetailView.as_view(),
        name="iam-credential",
    ),
    re_path(r"^v3\.0/", views.IamUnknownView.as_view()),
]
