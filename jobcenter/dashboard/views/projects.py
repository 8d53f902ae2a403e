"""Switching the current project (the header's menu)."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from jobcenter.dashboard.common import safe_next
from jobcenter.dashboard.nav import current_nav


@login_required
@require_POST
def project_switch(request: HttpRequest) -> HttpResponseBase:
    nav = current_nav(request, request.POST.get("project") or None)
    url = safe_next(request, reverse("dashboard:job_list"))
    # The job list names its project in the URL, and a job page belongs to the old project:
    # both go to the new project's job list; other pages (graphs, forms) stay where they are.
    path = urlsplit(url).path
    list_path = reverse("dashboard:job_list")
    if nav.current is not None and (path == list_path or path.startswith(f"{list_path}jobs/")):
        url = f"{list_path}?{urlencode({'project': nav.current.name})}"
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
