"""Contracts (issue #6, item 5): list with filters, card with the signed PDF, create and edit forms,
the company card's "Contracts" tab.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from contacts import selectors as contact_selectors
from crm.htmx import HtmxHttpRequest, add_service_errors, keyset_urls
from deals import selectors_contracts, services_contracts
from deals.filters_orders import ContractFilter, filter_query
from deals.forms_orders import ContractForm
from deals.models import Contract

VIEW, ADD, CHANGE = "deals.view_contract", "deals.add_contract", "deals.change_contract"


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
@vary_on_headers("HX-Request")
def contract_list(request: HtmxHttpRequest) -> HttpResponse:
    filterset = ContractFilter(request.GET or None, user=request.user)
    page = selectors_contracts.contract_page(filterset=filterset, cursor=request.GET.get("cursor"))
    query, base = filter_query(ContractFilter, request.GET), reverse("deals:contract-list")
    context = {
        "filter": filterset,
        "page": page,
        "list_url": base,
        **keyset_urls(base, query, page.next_cursor),
    }
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    return render(request, "deals/contract_list.html" + ("#htmx-results" if partial else ""), context)


def _save(request: HtmxHttpRequest, form: ContractForm, contract: Contract | None) -> Contract | None:
    try:
        if contract is None:
            return services_contracts.contract_create(actor=request.user, **form.service_kwargs())
        return services_contracts.contract_update(contract=contract, actor=request.user, **form.service_kwargs())
    except ValidationError as error:
        add_service_errors(form, error)
        return None


@login_required
@permission_required(ADD, raise_exception=True)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def contract_create(request: HtmxHttpRequest) -> HttpResponse:
    initial = {"company": request.GET["company"]} if request.GET.get("company", "").isdigit() else {}
    data = (request.POST, request.FILES) if request.method == "POST" else (None, None)
    form = ContractForm(*data, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid() and (contract := _save(request, form, None)):
        messages.success(request, _("The contract is saved."))
        return redirect("deals:contract-detail", contract.pk)
    context = {"form": form, "title": _("New contract")}
    return render(request, "deals/contract_form.html" + ("#contract-form" if request.htmx else ""), context)


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def contract_update(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    contract = selectors_contracts.contract_get(user=request.user, pk=pk)
    data = (request.POST, request.FILES) if request.method == "POST" else (None, None)
    form = ContractForm(*data, user=request.user, instance=contract)
    if request.method == "POST" and form.is_valid() and _save(request, form, contract):
        messages.success(request, _("The contract is saved."))
        return redirect("deals:contract-detail", pk)
    context = {"form": form, "contract": contract, "title": str(contract)}
    return render(request, "deals/contract_form.html" + ("#contract-form" if request.htmx else ""), context)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def contract_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    contract = selectors_contracts.contract_get(user=request.user, pk=pk)
    context = {"contract": contract, "entries": selectors_contracts.contract_changes(contract=contract)}
    return render(request, "deals/contract_detail.html", context)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def contract_file(request: HtmxHttpRequest, pk: int) -> FileResponse:
    """The signed PDF, only for a user who sees the contract (media files are not served directly)."""
    contract = selectors_contracts.contract_get(user=request.user, pk=pk)
    if not contract.signed_file:
        raise Http404
    try:
        handle = contract.signed_file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    name = f"{contract.number}.pdf".replace("/", "-")
    return FileResponse(handle, as_attachment=True, filename=name, content_type="application/pdf")


@login_required
@require_GET
@vary_on_headers("HX-Request")
def company_contracts(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The company card's "Contracts" tab (HTMX); otherwise back to the card. Without
    deals.view_contract the tab says so instead of failing."""
    company = contact_selectors.company_get(user=request.user, pk=pk)
    if not request.htmx:
        return redirect("contacts:company-detail", pk)
    allowed = request.user.has_perm(VIEW)
    tab = selectors_contracts.company_contracts(user=request.user, company=company) if allowed else None
    return render(request, "deals/includes/company_contracts.html#company-contracts", {"company": company, "tab": tab})


urlpatterns = [
    path("contracts/", contract_list, name="contract-list"),
    path("contracts/new/", contract_create, name="contract-create"),
    path("contracts/<int:pk>/", contract_detail, name="contract-detail"),
    path("contracts/<int:pk>/edit/", contract_update, name="contract-update"),
    path("contracts/<int:pk>/file/", contract_file, name="contract-file"),
    path("companies/<int:pk>/contracts/", company_contracts, name="company-contracts"),
]
