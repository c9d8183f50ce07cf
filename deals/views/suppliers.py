"""Supplier pages (procurement): supplier list and page, profile/offer/delivery forms, a product's supplier
comparison and the "Supplier" tab of the company card."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.forms import BaseForm
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from contacts.models import CompanyRole
from crm.htmx import HtmxHttpRequest, call_service, keyset_urls
from deals import selectors_catalogue, selectors_suppliers, services_suppliers
from deals.forms_suppliers import DeliveryReceiveForm, PurchaseDeliveryForm, SupplierOfferForm, SupplierProfileForm

VIEW_SUPPLIERS = "deals.view_supplieroffer"


def _form_page(request: HtmxHttpRequest, form: BaseForm, *, title: str, supplier: Any, back_url: str) -> HttpResponse:
    """The form alone (HTMX: into the supplier page's slot) or as a page of its own (no JS, or invalid POST)."""
    context = {"form": form, "title": title, "supplier": supplier, "back_url": back_url}
    template = "deals/supplier_form.html#supplier-form" if request.htmx else "deals/supplier_form.html"
    return render(request, template, context)


# --- lists and pages -------------------------------------------------------------------------------------


@login_required
@permission_required(VIEW_SUPPLIERS, raise_exception=True)
@require_GET
@vary_on_headers("HX-Request")
def supplier_list(request: HtmxHttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")[:100]
    page = selectors_suppliers.supplier_list_page(user=request.user, query=query, cursor=request.GET.get("cursor"))
    list_url = reverse("deals:supplier-list")
    base = urlencode({"q": query}) if query else ""
    context = {
        "page": page,
        "query": query,
        "list_url": list_url,
        **keyset_urls(list_url, base, page.next_cursor),
    }
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    return render(request, "deals/supplier_list.html" + ("#supplier-results" if partial else ""), context)


@login_required
@permission_required(VIEW_SUPPLIERS, raise_exception=True)
@require_GET
def supplier_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    card = selectors_suppliers.supplier_card(user=request.user, pk=pk)
    return render(request, "deals/supplier_detail.html", {"card": card, "supplier": card.company})


@login_required
@permission_required(VIEW_SUPPLIERS, raise_exception=True)
@require_GET
@vary_on_headers("HX-Request")
def supplier_history(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    supplier, entries = selectors_suppliers.supplier_changes(user=request.user, pk=pk)
    context = {"supplier": supplier, "entries": entries}
    template = "contacts/includes/changes.html#changes" if request.htmx else "deals/supplier_history.html"
    return render(request, template, context)


@login_required
@permission_required(VIEW_SUPPLIERS, raise_exception=True)
@require_GET
@vary_on_headers("HX-Request")
def product_suppliers(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """A product's suppliers compared by price, lead time or reliability (?sort=price|lead|reliability)."""
    product = selectors_catalogue.product_get(user=request.user, pk=pk)
    sort = request.GET.get("sort", "price")
    sort = sort if sort in selectors_suppliers.COMPARISON_SORTS else "price"
    rows = selectors_suppliers.product_suppliers(user=request.user, product=product, sort=sort)
    url = reverse("deals:product-suppliers", args=[pk])
    sort_links = {key: f"{url}?sort={key}" for key in selectors_suppliers.COMPARISON_SORTS}
    context = {"product": product, "rows": rows, "sort": sort, "sort_links": sort_links}
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    return render(request, "deals/product_suppliers.html" + ("#comparison" if partial else ""), context)


@login_required
@require_GET
def company_supplier_tab(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The company card's "Supplier" tab (HTMX fragment): terms and figures, or "not a supplier"."""
    company = selectors_suppliers.company_for_supplier_tab(user=request.user, pk=pk)
    is_supplier = CompanyRole.SUPPLIER in (company.roles or [])
    card = None
    if is_supplier and request.user.has_perm(VIEW_SUPPLIERS):
        card = selectors_suppliers.supplier_card(user=request.user, pk=pk)
    context = {"company": company, "is_supplier": is_supplier, "card": card}
    return render(request, "deals/company_supplier_tab.html", context)


# --- forms -----------------------------------------------------------------------------------------------


@login_required
@permission_required("deals.change_supplierprofile", raise_exception=True)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def supplier_profile_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    supplier = selectors_suppliers.supplier_get(user=request.user, pk=pk)
    profile = selectors_suppliers.supplier_profile_get(company=supplier)
    form = SupplierProfileForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        save = services_suppliers.supplier_profile_upsert
        if call_service(form, save, actor=request.user, company=supplier, **form.cleaned_data) is not None:
            messages.success(request, _("The supplier profile is saved."))
            return redirect("deals:supplier-detail", supplier.pk)
    back = reverse("deals:supplier-detail", args=[pk])
    return _form_page(request, form, title=_("Supplier profile"), supplier=supplier, back_url=back)


@login_required
@permission_required("deals.add_supplieroffer", raise_exception=True)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def supplier_offer_create(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    supplier = selectors_suppliers.supplier_get(user=request.user, pk=pk)
    initial = {"product": request.GET["product"]} if request.GET.get("product", "").isdigit() else {}
    form = SupplierOfferForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        save = services_suppliers.supplier_offer_create
        if call_service(form, save, actor=request.user, supplier=supplier, **form.cleaned_data) is not None:
            messages.success(request, _("The offer is saved."))
            return redirect("deals:supplier-detail", supplier.pk)
    back = reverse("deals:supplier-detail", args=[pk])
    return _form_page(request, form, title=_("New offer"), supplier=supplier, back_url=back)


@login_required
@permission_required("deals.change_supplieroffer", raise_exception=True)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def supplier_offer_update(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    offer = selectors_suppliers.supplier_offer_get(user=request.user, pk=pk)
    title = _("Offer: %(product)s") % {"product": offer.product}  # before the form changes the instance
    form = SupplierOfferForm(request.POST or None, instance=offer)
    if request.method == "POST" and form.is_valid():
        save = services_suppliers.supplier_offer_update
        if call_service(form, save, actor=request.user, offer=offer, **form.cleaned_data) is not None:
            messages.success(request, _("The offer is saved."))
            return redirect("deals:supplier-detail", offer.supplier_id)
    back = reverse("deals:supplier-detail", args=[offer.supplier_id])
    return _form_page(request, form, title=title, supplier=offer.supplier, back_url=back)


@login_required
@permission_required("deals.add_purchasedelivery", raise_exception=True)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def delivery_create(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    supplier = selectors_suppliers.supplier_get(user=request.user, pk=pk)
    form = PurchaseDeliveryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        save = services_suppliers.purchase_delivery_record
        if call_service(form, save, actor=request.user, supplier=supplier, **form.cleaned_data) is not None:
            messages.success(request, _("The delivery is recorded."))
            return redirect("deals:supplier-detail", supplier.pk)
    back = reverse("deals:supplier-detail", args=[pk])
    return _form_page(request, form, title=_("Record a delivery"), supplier=supplier, back_url=back)


@login_required
@permission_required("deals.change_purchasedelivery", raise_exception=True)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def delivery_receive(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    delivery = selectors_suppliers.purchase_delivery_get(user=request.user, pk=pk)
    initial = {"delivered_on": delivery.delivered_on, "quantity_received": delivery.quantity_ordered}
    form = DeliveryReceiveForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        save = services_suppliers.purchase_delivery_receive
        if call_service(form, save, actor=request.user, delivery=delivery, **form.cleaned_data) is not None:
            messages.success(request, _("The delivery is received."))
            return redirect("deals:supplier-detail", delivery.supplier_id)
    title = _("Receive: %(product)s, ordered %(date)s") % {
        "product": delivery.product,
        "date": delivery.ordered_on.strftime("%d.%m.%Y"),
    }
    back = reverse("deals:supplier-detail", args=[delivery.supplier_id])
    return _form_page(request, form, title=title, supplier=delivery.supplier, back_url=back)


urlpatterns = [
    path("suppliers/", supplier_list, name="supplier-list"),
    path("suppliers/<int:pk>/", supplier_detail, name="supplier-detail"),
    path("suppliers/<int:pk>/changes/", supplier_history, name="supplier-history"),
    path("suppliers/<int:pk>/profile/", supplier_profile_edit, name="supplier-profile-edit"),
    path("suppliers/<int:pk>/offers/new/", supplier_offer_create, name="supplier-offer-create"),
    path("suppliers/<int:pk>/deliveries/new/", delivery_create, name="delivery-create"),
    path("supplier-offers/<int:pk>/edit/", supplier_offer_update, name="supplier-offer-update"),
    path("deliveries/<int:pk>/receive/", delivery_receive, name="delivery-receive"),
    path("products/<int:pk>/suppliers/", product_suppliers, name="product-suppliers"),
    path("companies/<int:pk>/supplier/", company_supplier_tab, name="company-supplier-tab"),
]
