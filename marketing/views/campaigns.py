"""Campaigns: the list, the form, the campaign page (costs, members, calls), preview and test send."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from crm.htmx import HtmxHttpRequest, add_service_errors, keyset_urls
from marketing import selectors_campaigns as selectors
from marketing import services_campaigns as services
from marketing.forms_campaigns import (
    CallListForm,
    CampaignFilter,
    CampaignForm,
    CostForm,
    MemberFilterForm,
    TestSendForm,
    filter_query,
)
from marketing.models import CampaignChannel

VIEW, ADD, CHANGE = "marketing.view_campaign", "marketing.add_campaign", "marketing.change_campaign"
ADD_COST = "marketing.add_campaigncost"
TEMPLATE = "marketing/campaign_detail.html"


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
@vary_on_headers("HX-Request")
def campaign_list(request: HtmxHttpRequest) -> HttpResponse:
    filterset = CampaignFilter(request.GET or None, user=request.user)
    page = selectors.campaign_page(filterset=filterset, cursor=request.GET.get("cursor"))
    query, base = filter_query(request.GET), reverse("marketing:campaign-list")
    context = {
        "filter": filterset,
        "page": page,
        "list_url": base,
        **keyset_urls(base, query, page.next_cursor),
    }
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    return render(request, "marketing/campaign_list.html" + ("#htmx-results" if partial else ""), context)


def _form_page(request: HtmxHttpRequest, form: CampaignForm, campaign=None) -> HttpResponse:
    context = {"form": form, "campaign": campaign, "title": str(campaign) if campaign else _("New campaign")}
    status = 422 if form.is_bound else 200
    return render(request, "marketing/campaign_form.html" + ("#campaign-form" if request.htmx else ""), context,
                  status=status)  # fmt: skip


@login_required
@permission_required(ADD, raise_exception=True)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def campaign_create(request: HtmxHttpRequest) -> HttpResponse:
    form = CampaignForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.campaign_create(actor=request.user, **form.service_kwargs())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The campaign is created."))
            return redirect("marketing:campaign-detail", campaign.pk)
    return _form_page(request, form)


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def campaign_update(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    campaign = selectors.campaign_get(user=request.user, pk=pk)
    form = CampaignForm(request.POST or None, user=request.user, instance=campaign)
    if request.method == "POST" and form.is_valid():
        try:
            services.campaign_update(campaign=campaign, actor=request.user, **form.service_kwargs())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The campaign is saved."))
            return redirect("marketing:campaign-detail", pk)
    return _form_page(request, form, campaign)


def _members_context(request: HtmxHttpRequest, campaign) -> dict:
    status = request.GET.get("status", "")
    page = selectors.member_page(campaign=campaign, status=status, cursor=request.GET.get("cursor"))
    base = reverse("marketing:campaign-detail", args=[campaign.pk])
    query = urlencode({"status": status}) if status else ""
    return {
        "member_page": page,
        "member_filter": MemberFilterForm(request.GET or None),
        "members_url": base,
        **{f"members_{key}": url for key, url in keyset_urls(base, query, page.next_cursor).items()},
    }


def _detail_context(request: HtmxHttpRequest, campaign, **forms) -> dict:
    if campaign.channel == CampaignChannel.CALLS:
        services.campaign_call_results_sync(campaign=campaign)  # bounded: the campaign's members with a call
    return {
        "campaign": campaign,
        "segments": list(campaign.segments.order_by("name")),
        "products": list(campaign.products.order_by("sku")),
        "regions": [label for value, label in campaign._meta.get_field("regions").base_field.choices
                    if value in campaign.regions],
        "counts": selectors.member_counts(campaign=campaign),
        "costs": selectors.campaign_costs(campaign=campaign),
        "calls": selectors.call_summary(campaign=campaign),
        "cost_form": forms.get("cost_form") or CostForm(),
        "test_form": forms.get("test_form") or TestSendForm(initial={"email": request.user.email}),
        "call_form": forms.get("call_form") or (CallListForm(user=request.user)
                                               if campaign.channel == CampaignChannel.CALLS else None),
        "can_change": request.user.has_perm(CHANGE),
        "can_add_cost": request.user.has_perm(ADD_COST),
        **_members_context(request, campaign),
    }  # fmt: skip


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
@vary_on_headers("HX-Request")
def campaign_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    campaign = selectors.campaign_get(user=request.user, pk=pk)
    if request.htmx and not request.htmx.history_restore_request:  # the member list's filter and pages
        return render(request, f"{TEMPLATE}#member-list", {"campaign": campaign, **_members_context(request, campaign)})
    return render(request, TEMPLATE, _detail_context(request, campaign))


@login_required
@permission_required(ADD_COST, raise_exception=True)
@require_POST
def campaign_cost_add(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    campaign = selectors.campaign_get(user=request.user, pk=pk)
    form = CostForm(request.POST)
    if form.is_valid():
        try:
            services.campaign_cost_add(campaign=campaign, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if not request.htmx:
                messages.success(request, _("The cost is added."))
                return redirect("marketing:campaign-detail", pk)
            form = CostForm()
    context = {"campaign": campaign, "costs": selectors.campaign_costs(campaign=campaign), "cost_form": form,
               "can_add_cost": True}  # fmt: skip
    status = 422 if form.errors else 200
    if request.htmx:
        return render(request, f"{TEMPLATE}#costs", context, status=status)
    return render(request, TEMPLATE, _detail_context(request, campaign, cost_form=form), status=status)


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_POST
def campaign_members_add(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    campaign = selectors.campaign_get(user=request.user, pk=pk)
    try:
        services.campaign_members_add_enqueue(campaign=campaign, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("Members are being added from the target groups; you will get a notification when done.")
        )
    return redirect("marketing:campaign-detail", pk)


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_POST
def campaign_call_list(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    campaign = selectors.campaign_get(user=request.user, pk=pk)
    form = CallListForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            count = services.campaign_call_list_create(
                campaign=campaign, actor=request.user, assignees=list(form.cleaned_data["assignees"])
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if count:
                messages.success(request, _("%(count)d calls are planned.") % {"count": count})
            else:
                messages.info(request, _("Every member already has a call."))
            return redirect("marketing:campaign-detail", pk)
    return render(request, TEMPLATE, _detail_context(request, campaign, call_form=form), status=422)


def _member_id(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
@vary_on_headers("HX-Request")
def campaign_preview_view(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    campaign = selectors.campaign_get(user=request.user, pk=pk)
    preview = selectors.campaign_preview(campaign=campaign, member_id=_member_id(request.GET.get("member")))
    context = {
        "campaign": campaign,
        "preview": preview,
        "test_form": TestSendForm(initial={"email": request.user.email, "member": preview.member_id}),
    }
    page = "marketing/campaign_preview.html"
    return render(request, page + ("#preview" if request.htmx else ""), context)  # fmt: skip


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_POST
def campaign_test_send_view(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    campaign = selectors.campaign_get(user=request.user, pk=pk)
    form = TestSendForm(request.POST)
    if form.is_valid():
        try:
            services.campaign_test_send(
                campaign=campaign, actor=request.user, to=form.cleaned_data["email"],
                member_id=form.cleaned_data["member"],
            )  # fmt: skip
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, _("The test e-mail is sent to %(email)s.") % {"email": form.cleaned_data["email"]}
            )
            return redirect(reverse("marketing:campaign-preview", args=[pk]) + (
                f"?member={form.cleaned_data['member']}" if form.cleaned_data["member"] else ""))  # fmt: skip
    preview = selectors.campaign_preview(campaign=campaign, member_id=_member_id(request.POST.get("member")))
    context = {"campaign": campaign, "preview": preview, "test_form": form}
    return render(request, "marketing/campaign_preview.html", context, status=422)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def campaign_history(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    campaign = selectors.campaign_get(user=request.user, pk=pk)
    context = {"campaign": campaign, "entries": selectors.campaign_changes(campaign=campaign)}
    return render(request, "marketing/campaign_history.html", context)


urlpatterns = [
    path("campaigns/", campaign_list, name="campaign-list"),
    path("campaigns/new/", campaign_create, name="campaign-create"),
    path("campaigns/<int:pk>/", campaign_detail, name="campaign-detail"),
    path("campaigns/<int:pk>/edit/", campaign_update, name="campaign-update"),
    path("campaigns/<int:pk>/costs/", campaign_cost_add, name="campaign-cost-add"),
    path("campaigns/<int:pk>/members/add/", campaign_members_add, name="campaign-members-add"),
    path("campaigns/<int:pk>/calls/", campaign_call_list, name="campaign-call-list"),
    path("campaigns/<int:pk>/preview/", campaign_preview_view, name="campaign-preview"),
    path("campaigns/<int:pk>/test-send/", campaign_test_send_view, name="campaign-test-send"),
    path("campaigns/<int:pk>/history/", campaign_history, name="campaign-history"),
]
