"""Needs analysis (issue #12 item 9): /marketing/needs/, "asked for X, bought Y" per target group and period
(marketing.selectors_needs). The filter swaps #needs-results over HTMX."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from crm.htmx import HtmxHttpRequest
from marketing import selectors_needs
from marketing.forms_conversion import NeedsFilterForm

VIEW = "marketing.view_segment"


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
@vary_on_headers("HX-Request")
def needs(request: HtmxHttpRequest) -> HttpResponse:
    # The form offers only the user's visible target groups: another one is a field error, never shown.
    form = NeedsFilterForm(request.GET or None, user=request.user)
    kwargs = form.report_kwargs()
    report = selectors_needs.needs_analysis(user=request.user, **kwargs) if kwargs is not None else None
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    template = "marketing/needs.html" + ("#htmx-results" if partial else "")
    return render(request, template, {"form": form, "report": report, "report_url": reverse("marketing:needs")})


urlpatterns = [path("needs/", needs, name="needs")]
