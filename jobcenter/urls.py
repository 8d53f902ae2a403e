from django.contrib import admin
from django.urls import include, path

from jobcenter.credentials import views as credentials_views

urlpatterns = [
    path("admin/", admin.site.urls),
    # Django's auth pages, the password checks throttled (jobcenter/credentials/throttle.py).
    path("accounts/login/", credentials_views.LoginView.as_view(), name="login"),
    path(
        "accounts/password_change/",
        credentials_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    # Native REST API, its health check and OpenAPI schema (docs/api.md).
    path("api/", include("jobcenter.api.urls")),
    # Prometheus metrics, for a scraper holding JOBCENTER_METRICS_TOKEN (docs/metrics.md).
    path("", include("jobcenter.metrics.urls")),
    # Wire-compatible dialects (docs/compat.md); GraphScope must sit at the URL root.
    path("", include("jobcenter.compat.graphscope.urls")),
    path("", include("jobcenter.compat.ges.urls")),
    path("", include("jobcenter.compat.iam.urls")),  # AK/SK self-service for GES signing
    # The web dashboard (HTMX), last: its job list is the landing page.
    path("", include("jobcenter.dashboard.urls")),
]
