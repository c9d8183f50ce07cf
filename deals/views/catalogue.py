"""Catalogue pages (staff): product list with the category tree, product card, product form, price lookup."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from crm.htmx import HtmxHttpRequest, add_service_errors, keyset_urls
from deals import selectors_catalogue, services_catalogue
from deals.forms_catalogue import PriceLookupForm, ProductFilterForm, ProductForm
from deals.models import Product

VIEW_PRODUCT = "deals.view_product"
CHANGE_PRODUCT = "deals.change_product"
IMAGE_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


def _list_context(request: HtmxHttpRequest) -> dict[str, Any]:
    tree = selectors_catalogue.category_tree()
    form = ProductFilterForm(request.GET or None, tree=tree)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    category = data.get("category")
    page = selectors_catalogue.product_list_page(
        user=request.user,
        query=data.get("q", ""),
        category_ids=tree.descendants(category) if category else None,
        active=form.active_value(),
        cursor=request.GET.get("cursor"),
    )
    query = urlencode({k: v for k, v in data.items() if v not in (None, "")})
    list_url = reverse("deals:product-list")
    return {
        "filter_form": form,
        "tree": tree,
        "current_category": category,
        "page": page,
        "list_url": list_url,
        **keyset_urls(list_url, query, page.next_cursor),
        "active_query": urlencode({"active": data["active"]}) if data.get("active") else "",
    }


@login_required
@permission_required(VIEW_PRODUCT, raise_exception=True)
@require_GET
@vary_on_headers("HX-Request")
def product_list(request: HtmxHttpRequest) -> HttpResponse:
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    template = "deals/product_list.html" + ("#htmx-results" if partial else "")
    return render(request, template, _list_context(request))


@login_required
@permission_required(VIEW_PRODUCT, raise_exception=True)
@require_GET
def product_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    card = selectors_catalogue.product_card(user=request.user, pk=pk)
    context = {"card": card, "product": card.product, "price_form": PriceLookupForm(user=request.user)}
    return render(request, "deals/product_detail.html", context)


@login_required
@permission_required(VIEW_PRODUCT, raise_exception=True)
@require_GET
@vary_on_headers("HX-Request")
def product_price(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The "price for a company" lookup: the form with price_for()'s answer (a fragment for HTMX)."""
    product = selectors_catalogue.product_get(user=request.user, pk=pk)
    form = PriceLookupForm(request.GET, user=request.user)
    quote = None
    if form.is_valid():
        quote = selectors_catalogue.product_quote(user=request.user, product=product, **form.cleaned_data)
    context = {"product": product, "price_form": form, "quote": quote}
    template = "deals/product_detail.html#price-lookup" if request.htmx else "deals/product_price.html"
    return render(request, template, context)


@login_required
@permission_required(VIEW_PRODUCT, raise_exception=True)
@require_GET
@vary_on_headers("HX-Request")
def product_history(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    product, entries = selectors_catalogue.product_changes(user=request.user, pk=pk)
    context = {"product": product, "entries": entries}
    template = "contacts/includes/changes.html#changes" if request.htmx else "deals/product_history.html"
    return render(request, template, context)


@login_required
@permission_required(VIEW_PRODUCT, raise_exception=True)
@require_GET
def catalogue_product_options(request: HtmxHttpRequest) -> HttpResponse:
    """<option>s for the product pickers (supplier offers, deliveries; deal and order lines may reuse it)."""
    query = request.GET.get("product_q") or request.GET.get("q", "")
    products = selectors_catalogue.product_options(user=request.user, query=query[:100])
    return render(request, "deals/includes/catalogue_product_options.html", {"products": products})


@login_required
@permission_required(VIEW_PRODUCT, raise_exception=True)
@require_GET
def product_image(request: HtmxHttpRequest, pk: int) -> FileResponse:
    """The product's picture (media files are not served directly; only checked JPEG/PNG/WebP are stored)."""
    product = selectors_catalogue.product_get(user=request.user, pk=pk)
    if not product.image:
        raise Http404
    extension = product.image.name.rsplit(".", 1)[-1].lower()
    try:
        handle = product.image.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, content_type=IMAGE_TYPES.get(extension, "application/octet-stream"))
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _save(request: HtmxHttpRequest, form: ProductForm, product: Product | None) -> Product | None:
    try:
        if product is None:
            return services_catalogue.product_create(actor=request.user, **form.service_kwargs())
        return services_catalogue.product_update(actor=request.user, product=product, **form.service_kwargs())
    except ValidationError as error:
        add_service_errors(form, error)
        return None


def _product_form(request: HtmxHttpRequest, product: Product | None) -> HttpResponse:
    data = (request.POST, request.FILES) if request.method == "POST" else (None, None)
    form = ProductForm(*data, instance=product, tree=selectors_catalogue.category_tree())
    title = str(product) if product else _("New product")  # before the form changes the instance
    if request.method == "POST" and form.is_valid():
        saved = _save(request, form, product)
        if saved is not None:
            messages.success(request, _("The product is saved."))
            return redirect("deals:product-detail", saved.pk)
    context = {"form": form, "product": product, "title": title}
    template = "deals/product_form.html#product-form" if request.htmx else "deals/product_form.html"
    return render(request, template, context)


@login_required
@permission_required(CHANGE_PRODUCT, raise_exception=True)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def product_create(request: HtmxHttpRequest) -> HttpResponse:
    return _product_form(request, None)


@login_required
@permission_required(CHANGE_PRODUCT, raise_exception=True)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def product_update(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _product_form(request, selectors_catalogue.product_get(user=request.user, pk=pk))


urlpatterns = [
    path("products/", product_list, name="product-list"),
    path("products/new/", product_create, name="product-create"),
    path("products/options/", catalogue_product_options, name="catalogue-product-options"),
    path("products/<int:pk>/", product_detail, name="product-detail"),
    path("products/<int:pk>/edit/", product_update, name="product-update"),
    path("products/<int:pk>/price/", product_price, name="product-price"),
    path("products/<int:pk>/changes/", product_history, name="product-history"),
    path("products/<int:pk>/image/", product_image, name="product-image"),
]
