"""A project's webhooks (project admins): the list with a form to add one (its secret shown
once, right after), a webhook's page (edit, enable or disable, delete; its deliveries with
status code and latency, refreshed while some are pending; resend one)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from jobcenter.core.errors import NotFound, ServiceError
from jobcenter.dashboard.common import is_partial, render_page, service_error, valid_id
from jobcenter.dashboard.forms.webhooks import WebhookForm
from jobcenter.dashboard.nav import Nav, current_nav
from jobcenter.notifications.choices import DeliveryStatus
from jobcenter.notifications.models import Webhook
from jobcenter.notifications.selectors import (
    delivery_get,
    delivery_list,
    webhook_get,
    webhook_list,
)
from jobcenter.notifications.services import (
    delivery_resend,
    webhook_create,
    webhook_delete,
    webhook_update,
)
from jobcenter.projects.choices import Role

DELIVERIES_SHOWN = 50
# The fields whose service errors are shown on the form, next to the field; any other is a page.
ON_THE_FORM = ("url", "events", "kinds", "graph_name", "description")


def _admin_nav(request: HttpRequest) -> tuple[Nav, HttpResponse | None]:
    nav = current_nav(request)
    if nav.current is None:
        return nav, render_page(request, "dashboard/no_project.html", {}, nav)
    if nav.role != Role.ADMIN:
        message = f"You need the admin role in project {nav.current.name} to manage webhooks."
        page = render_page(
            request, "dashboard/error.html", {"status": 403, "message": message}, nav, 403
        )
        return nav, page
    return nav, None


def _webhook_or_404(request: HttpRequest, nav: Nav, webhook_id: str) -> Webhook:
    if not valid_id(webhook_id):
        raise Http404("webhook not found")
    try:
        return webhook_get(project=nav.current, user=request.user, webhook_id=webhook_id)
    except NotFound as exc:
        raise Http404(exc.message) from None


def _to(url: str, request: HttpRequest) -> HttpResponseBase:
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@login_required
@require_http_methods(["GET", "POST"])
def webhook_list_page(request: HttpRequest) -> HttpResponseBase:
    nav, refusal = _admin_nav(request)
    if refusal:
        return refusal
    form = WebhookForm(request.POST if request.method == "POST" else None)
    context: dict[str, Any] = {"form": form}
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                webhook, secret = webhook_create(
                    project=nav.current, user=request.user, **form.values()
                )
            except ServiceError as exc:
                if exc.field not in ON_THE_FORM:
                    return service_error(request, exc)
                form.add_service_error(exc)
            else:
                context.update(created=webhook, secret=secret, form=WebhookForm())
        if form.errors:
            status = 422
    context["webhooks"] = list(webhook_list(project=nav.current, user=request.user))
    return render_page(request, "dashboard/webhook_list.html", context, nav, status)


def _detail_context(
    request: HttpRequest, webhook: Webhook, form: WebhookForm | None = None
) -> dict:
    deliveries = list(delivery_list(webhook=webhook)[:DELIVERIES_SHOWN])
    initial = {
        "url": webhook.url,
        "description": webhook.description,
        "events": webhook.events,
        "kinds": webhook.kinds,
        "graph_name": webhook.graph_name,
        "enabled": webhook.enabled,
    }
    return {
        "webhook": webhook,
        "form": form or WebhookForm(initial=initial),
        "deliveries": deliveries,
        "pending": any(d.status == DeliveryStatus.PENDING for d in deliveries),
    }


@login_required
@require_http_methods(["GET", "POST"])
def webhook_detail(request: HttpRequest, webhook_id: str) -> HttpResponseBase:
    nav, refusal = _admin_nav(request)
    if refusal:
        return refusal
    webhook = _webhook_or_404(request, nav, webhook_id)
    if request.method == "GET":
        return render_page(
            request, "dashboard/webhook_detail.html", _detail_context(request, webhook), nav
        )
    form = WebhookForm(request.POST)
    if form.is_valid():
        try:
            webhook_update(webhook=webhook, user=request.user, **form.values())
        except ServiceError as exc:
            if exc.field not in ON_THE_FORM:
                return service_error(request, exc)
            form.add_service_error(exc)
        else:
            messages.success(request, "Webhook saved.")
            return _to(reverse("dashboard:webhook_detail", args=[webhook.pk]), request)
    context = _detail_context(request, webhook, form)
    if is_partial(request):
        return render(request, "dashboard/webhook_detail.html#webhook-form", context, status=422)
    return render_page(request, "dashboard/webhook_detail.html", context, nav, 422)


@login_required
@require_GET
def webhook_deliveries(request: HttpRequest, webhook_id: str) -> HttpResponse:
    """The deliveries table alone (polled while some are pending; 286 stops the polling)."""
    nav, refusal = _admin_nav(request)
    if refusal:
        return refusal
    webhook = _webhook_or_404(request, nav, webhook_id)
    context = _detail_context(request, webhook)
    response = render(request, "dashboard/webhook_detail.html#deliveries", context)
    if not context["pending"]:
        response.status_code = 286
    return response


@login_required
@require_POST
def webhook_toggle(request: HttpRequest, webhook_id: str) -> HttpResponseBase:
    nav, refusal = _admin_nav(request)
    if refusal:
        return refusal
    webhook = _webhook_or_404(request, nav, webhook_id)
    try:
        webhook = webhook_update(webhook=webhook, user=request.user, enabled=not webhook.enabled)
    except ServiceError as exc:
        return service_error(request, exc)
    messages.success(request, f"Webhook {'enabled' if webhook.enabled else 'disabled'}.")
    return _to(reverse("dashboard:webhook_list"), request)


@login_required
@require_POST
def webhook_remove(request: HttpRequest, webhook_id: str) -> HttpResponseBase:
    nav, refusal = _admin_nav(request)
    if refusal:
        return refusal
    webhook = _webhook_or_404(request, nav, webhook_id)
    try:
        webhook_delete(webhook=webhook, user=request.user)
    except ServiceError as exc:
        return service_error(request, exc)
    messages.success(request, f"Webhook {webhook.url} deleted.")
    return _to(reverse("dashboard:webhook_list"), request)


@login_required
@require_POST
def delivery_resend_view(
    request: HttpRequest, webhook_id: str, delivery_id: str
) -> HttpResponseBase:
    nav, refusal = _admin_nav(request)
    if refusal:
        return refusal
    webhook = _webhook_or_404(request, nav, webhook_id)
    if not valid_id(delivery_id):
        raise Http404("delivery not found")
    try:
        delivery = delivery_get(webhook=webhook, delivery_id=delivery_id)
        delivery_resend(delivery=delivery, user=request.user)
    except NotFound as exc:
        raise Http404(exc.message) from None
    except ServiceError as exc:
        return service_error(request, exc)
    messages.success(request, f"Delivery {delivery.pk[-8:]} queued again.")
    return _to(reverse("dashboard:webhook_detail", args=[webhook.pk]), request)
