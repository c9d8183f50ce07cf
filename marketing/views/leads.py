"""The lead list, a staff appeal, the lead card and its actions: edit, qualify, convert, disqualify, consent."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from crm.htmx import HtmxHttpRequest, add_service_errors, keyset_urls
from marketing import selectors_leads as selectors
from marketing import services_consent, services_leads
from marketing.filters import LeadFilter, filter_query
from marketing.forms_leads import ConsentForm, ConvertForm, DisqualifyForm, LeadForm
from marketing.models import OPEN_LEAD_STATUSES

VIEW, ADD, CHANGE = "marketing.view_lead", "marketing.add_lead", "marketing.change_lead"


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
@vary_on_headers("HX-Request")
def lead_list(request: HtmxHttpRequest) -> HttpResponse:
    filterset = LeadFilter(request.GET or None, user=request.user)
    page = selectors.lead_page(filterset=filterset, cursor=request.GET.get("cursor"))
    query, base = filter_query(request.GET), reverse("marketing:lead-list")
    filter_url = reverse("marketing:lead-filter-form")
    context = {
        "filter": filterset,
        "page": page,
        "list_url": base,
        # A valid filter shows as chips above the rows and its form loads when the panel opens (rendering its
        # pickers is most of the page's cost); a filter with errors opens the panel, each message by its field.
        "filter_open": filterset.is_bound and not filterset.form.is_valid(),
        "filter_form_url": f"{filter_url}?{query}" if query else filter_url,
        **keyset_urls(base, query, page.next_cursor),
    }
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    return render(request, "marketing/lead_list.html" + ("#htmx-results" if partial else ""), context)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def lead_filter_form(request: HtmxHttpRequest) -> HttpResponse:
    """The lead list's filter form for the query string, fetched when the filter panel first opens."""
    filterset = LeadFilter(request.GET or None, user=request.user)
    context = {"filter": filterset, "list_url": reverse("marketing:lead-list")}
    return render(request, "marketing/lead_list.html#filter-form", context)


@login_required
@permission_required(ADD, raise_exception=True)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def lead_create(request: HtmxHttpRequest) -> HttpResponse:
    form = LeadForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            lead = services_leads.lead_create(data=form.service_data(), actor=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if not selectors.lead_is_visible(user=request.user, pk=lead.pk):  # the rules gave it to another team
                messages.success(request, _("The lead is registered and assigned to %(team)s.") % {"team": lead.team})
                return redirect("marketing:lead-list")
            messages.success(request, _("The lead is registered."))
            return redirect("marketing:lead-detail", lead.pk)
    context = {"form": form, "title": _("New lead")}
    return render(request, "marketing/lead_form.html" + ("#lead-form" if request.htmx else ""), context)


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def lead_update(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    lead = selectors.lead_get(user=request.user, pk=pk)
    form = LeadForm(request.POST or None, user=request.user, instance=lead)
    if request.method == "POST" and form.is_valid():
        try:
            fields = {name: form.cleaned_data[name] for name in form.changed_data}
            services_leads.lead_update(lead=lead, actor=request.user, **fields)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The lead is saved."))
            return redirect("marketing:lead-detail", pk)
    context = {"form": form, "lead": lead, "title": str(lead)}
    return render(request, "marketing/lead_form.html" + ("#lead-form" if request.htmx else ""), context)


def _card(request: HtmxHttpRequest, pk: int, status: int = 200, **forms) -> HttpResponse:
    lead = selectors.lead_get(user=request.user, pk=pk)
    lead_title = lead.company_name or str(lead)
    context = {
        "card": selectors.lead_card(user=request.user, lead=lead),
        "lead": lead,
        "entries": selectors.lead_changes(lead=lead),
        "convert_form": forms.get("convert_form") or ConvertForm(initial={"deal_title": lead_title}),
        "disqualify_form": forms.get("disqualify_form") or DisqualifyForm(),
        "consent_form": forms.get("consent_form") or ConsentForm(),
        "error": forms.get("error", ""),
    }
    if lead.status not in OPEN_LEAD_STATUSES and not context["error"]:
        # The action forms are gone from a closed lead's card: say why the action was refused on top.
        errors = [e for form in forms.values() if hasattr(form, "non_field_errors") for e in form.non_field_errors()]
        context["error"] = " ".join(errors)
    return render(request, "marketing/lead_detail.html", context, status=status)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def lead_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _card(request, pk)


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_POST
def lead_convert(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    lead = selectors.lead_get(user=request.user, pk=pk)
    form = ConvertForm(request.POST)
    if form.is_valid():
        try:
            services_leads.lead_convert(lead=lead, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The lead is converted into a client."))
            return redirect("marketing:lead-detail", pk)
    return _card(request, pk, status=422, convert_form=form)


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_POST
def lead_disqualify(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    lead = selectors.lead_get(user=request.user, pk=pk)
    form = DisqualifyForm(request.POST)
    if form.is_valid():
        try:
            services_leads.lead_disqualify(lead=lead, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The lead is disqualified."))
            return redirect("marketing:lead-detail", pk)
    return _card(request, pk, status=422, disqualify_form=form)


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_POST
def lead_qualify(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    lead = selectors.lead_get(user=request.user, pk=pk)
    try:
        services_leads.lead_qualify(lead=lead, actor=request.user)
    except ValidationError as error:
        return _card(request, pk, status=422, error=" ".join(error.messages))
    messages.success(request, _("The lead is qualified."))
    return redirect("marketing:lead-detail", pk)


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_POST
def lead_consent(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Staff record a consent or a withdrawal the lead's person told them (appended to the consent log)."""
    lead = selectors.lead_get(user=request.user, pk=pk)
    form = ConsentForm(request.POST)
    if form.is_valid():
        try:
            services_consent.consent_record(
                **form.cleaned_data, lead=lead, person=selectors.lead_consent_person(user=request.user, lead=lead),
                email=lead.email, actor=request.user,
            )  # fmt: skip
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The consent is recorded."))
            return redirect("marketing:lead-detail", pk)
    return _card(request, pk, status=422, consent_form=form)


urlpatterns = [
    path("leads/", lead_list, name="lead-list"),
    path("leads/filter-form/", lead_filter_form, name="lead-filter-form"),
    path("leads/new/", lead_create, name="lead-create"),
    path("leads/<int:pk>/", lead_detail, name="lead-detail"),
    path("leads/<int:pk>/edit/", lead_update, name="lead-update"),
    path("leads/<int:pk>/qualify/", lead_qualify, name="lead-qualify"),
    path("leads/<int:pk>/convert/", lead_convert, name="lead-convert"),
    path("leads/<int:pk>/disqualify/", lead_disqualify, name="lead-disqualify"),
    path("leads/<int:pk>/consent/", lead_consent, name="lead-consent"),
]
