"""Lead conversion (issue #12 item 2): /marketing/leads/conversion/, the figures of marketing.selectors_conversion
for the filter of forms_conversion.ConversionFilterForm. The filter swaps #conversion-results over HTMX."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from crm.htmx import HtmxHttpRequest
from marketing import selectors_conversion
from marketing.forms_conversion import ConversionFilterForm

VIEW = "marketing.view_lead"


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
@vary_on_headers("HX-Request")
def lead_conversion(request: HtmxHttpRequest) -> HttpResponse:
    form = ConversionFilterForm(request.GET or None, user=request.user)
    kwargs = form.report_kwargs()
    report = selectors_conversion.lead_conversion(user=request.user, **kwargs) if kwargs is not None else None
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    template = "marketing/conversion.html" + ("#htmx-results" if partial else "")
    # An invalid filter answers 200 with its errors: HTMX does not swap 4xx responses.
    context = {"form": form, "report": report, "report_url": reverse("marketing:lead-conversion")}
    return render(request, template, context)


urlpatterns = [path("leads/conversion/", lead_conversion, name="lead-conversion")]
