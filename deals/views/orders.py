"""Customer orders (issue #6, item 4): monitoring list, create form, the order card, status changes and
payment, lines of a new order, contacts logged against the order, field history, the company card's
"Orders" tab and "won deal → order" in one click.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from contacts import selectors as contact_selectors
from contacts import services as contact_services
from contacts.forms import InteractionForm
from crm.htmx import HtmxHttpRequest, call_service, keyset_urls, url_with
from deals import selectors_orders, services_orders
from deals.filters_orders import OrderFilter, filter_query
from deals.forms_orders import (
    LineEditForm,
    LineFormSet,
    OrderEditForm,
    OrderForm,
    OrderLineForm,
    PaymentForm,
    StatusForm,
    product_options,
)
from deals.models import Deal, OrderStatus

T = TypeVar("T")
VIEW, ADD, CHANGE = "deals.view_order", "deals.add_order", "deals.change_order"


def _card(pk: int, anchor: str = "") -> str:
    return reverse("deals:order-detail", args=[pk]) + (f"#{anchor}" if anchor else "")


def _done(request: HtmxHttpRequest, url: str) -> HttpResponse:
    """After a write: a full redirect, or for HTMX a client-side redirect (the card reloads whole)."""
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


# --- the monitoring list ---------------------------------------------------------------------------------------


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
@vary_on_headers("HX-Request")
def order_list(request: HtmxHttpRequest) -> HttpResponse:
    filterset = OrderFilter(request.GET or None, user=request.user)
    page = selectors_orders.order_page(filterset=filterset, cursor=request.GET.get("cursor"))
    query = filter_query(OrderFilter, request.GET)
    start, end = filterset.period
    counts = selectors_orders.order_status_counts(user=request.user, start=start, end=end)
    context = {"filter": filterset, "page": page, "query": query, "counts": counts, **_list_urls(query, page, counts)}
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    return render(request, "deals/order_list.html" + ("#htmx-results" if partial else ""), context)


def _list_urls(query: str, page: selectors_orders.OrderPage, counts: selectors_orders.StatusCounts) -> dict[str, Any]:
    """Links of the list: first and next page, and one per status tab (the other filters kept)."""
    base = reverse("deals:order-list")
    rest = "&".join(p for p in query.split("&") if p and not p.startswith("status="))
    return {
        "list_url": base,
        **keyset_urls(base, query, page.next_cursor),
        "all_statuses_url": url_with(base, rest),
        "status_tabs": [
            (value, label, n, url_with(base, rest, f"status={value}")) for value, label, n in counts.items()
        ],
    }


# --- create --------------------------------------------------------------------------------------------------


@login_required
@permission_required(ADD, raise_exception=True)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def order_create(request: HtmxHttpRequest) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    initial = {"company": request.GET["company"]} if request.GET.get("company", "").isdigit() else {}
    form, lines = OrderForm(data, user=request.user, initial=initial), LineFormSet(data, prefix="lines")
    if data is not None and form.is_valid() and lines.is_valid():
        order = call_service(
            form, services_orders.order_create, actor=request.user, lines=lines.lines(), **form.cleaned_data
        )
        if order is not None:
            messages.success(request, _("Order %(number)s is created.") % {"number": order.number})
            return redirect("deals:order-detail", order.pk)
    context = {"form": form, "lines": lines}
    return render(request, "deals/order_form.html" + ("#order-form" if request.htmx else ""), context)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def order_product_options(request: HtmxHttpRequest) -> HttpResponse:
    """<option>s for the product picker of the order lines."""
    products = product_options(query=request.GET.get("product_q") or request.GET.get("q", ""))
    return render(request, "deals/includes/order_product_options.html", {"products": products})


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def order_line_quote(request: HtmxHttpRequest) -> HttpResponse:
    """HTMX: a line's price and discount pre-filled for the chosen company and product (deals.pricing)."""
    prefix = request.GET.get("prefix", "line")[:20]
    quote = selectors_orders.line_quote(
        user=request.user,
        company_id=request.GET.get("company", ""),
        product_id=request.GET.get(f"{prefix}-product", ""),
    )
    initial = {"price": quote.price, "discount_percent": quote.discount} if quote else {}
    context = {"line": OrderLineForm(prefix=prefix, initial=initial), "rule": quote.rule if quote else ""}
    return render(request, "deals/includes/line_pricing.html#line-pricing", context)


# --- the card ----------------------------------------------------------------------------------------------------


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def order_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    card = selectors_orders.order_card(user=request.user, pk=pk)
    order = card.order
    context = {
        "card": card,
        "order": order,
        "payment_form": PaymentForm(initial={"payment_status": order.payment_status}),
        "line_form": OrderLineForm(prefix="line", company_id=order.company_id) if card.lines_editable else None,
        "status_forms": [(s, StatusForm(initial={"status": s}, auto_id=f"{s}-%s")) for s in card.failure_statuses],
        "can_change": request.user.has_perm(CHANGE),
    }
    return render(request, "deals/order_detail.html", context)


def _interaction_initial(order: Any) -> dict[str, Any]:
    return {
        "person": order.person_id,
        "subject": _("Order %(number)s") % {"number": order.number},
        "occurred_at": timezone.localtime().replace(second=0, microsecond=0),
    }


def _change_permission(request: HtmxHttpRequest) -> None:
    if not request.user.has_perm(CHANGE):
        raise PermissionDenied


@login_required
@permission_required(VIEW, raise_exception=True)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def order_status(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Move the order to `status`; failed/cancelled need a reason (the card's modal posts here with HTMX)."""
    order = selectors_orders.order_get(user=request.user, pk=pk)
    _change_permission(request)
    target = request.POST.get("status") or request.GET.get("status", "")
    target = target if target in OrderStatus.values else ""
    form = StatusForm(request.POST or None, initial={"status": target}, auto_id=f"{target or 'status'}-%s")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        kwargs = {"status": data["status"], "reason": data["reason"], "comment": data["comment"]}
        if call_service(form, services_orders.order_change_status, order=order, actor=request.user, **kwargs):
            messages.success(request, _("The order is now “%(status)s”.") % {"status": order.get_status_display()})
            return _done(request, _card(pk))
    context = {"order": order, "form": form, "target": target, "target_label": dict(OrderStatus.choices).get(target)}
    return render(request, "deals/order_status.html" + ("#status-form" if request.htmx else ""), context)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_POST
def order_payment(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    order = selectors_orders.order_get(user=request.user, pk=pk)
    _change_permission(request)
    form = PaymentForm(request.POST)
    if form.is_valid() and call_service(form, services_orders.order_set_payment_status, order=order, actor=request.user,
                                 payment_status=form.cleaned_data["payment_status"]):  # fmt: skip
        messages.success(request, _("The payment status is saved."))
    else:
        messages.error(request, _("Choose one of the offered payment statuses."))
    return _done(request, _card(pk))


@login_required
@permission_required(VIEW, raise_exception=True)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def order_update(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Expected delivery date, contact person and comment."""
    order = selectors_orders.order_get(user=request.user, pk=pk)
    _change_permission(request)
    form = OrderEditForm(request.POST or None, instance=order)
    if request.method == "POST" and form.is_valid():
        data = {k: form.cleaned_data[k] for k in ("person", "expected_date", "comment")}
        if call_service(form, services_orders.order_update, order=order, actor=request.user, **data):
            messages.success(request, _("The order is saved."))
            return redirect("deals:order-detail", pk)
    context = {"order": order, "form": form}
    return render(request, "deals/order_edit.html" + ("#edit-form" if request.htmx else ""), context)


# --- lines of a new order ------------------------------------------------------------------------------------------


@login_required
@permission_required(VIEW, raise_exception=True)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def order_line_add(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    order = selectors_orders.order_get(user=request.user, pk=pk)
    _change_permission(request)
    form = OrderLineForm(request.POST or None, prefix="line", company_id=order.company_id)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        kwargs = {"product": data["product"], "quantity": data["quantity"], "price": data.get("price"),
                  "discount": data.get("discount_percent")}  # fmt: skip
        if call_service(form, services_orders.order_line_add, order=order, actor=request.user, **kwargs):
            messages.success(request, _("The line is added."))
            return _done(request, _card(pk, "lines"))
    context = {"order": order, "form": form, "title": _("Add a line")}
    return render(request, "deals/order_line_form.html" + ("#line-form" if request.htmx else ""), context)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def order_line_update(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    line = selectors_orders.order_line_get(user=request.user, pk=pk)
    _change_permission(request)
    initial = {"quantity": line.quantity.normalize(), "price": line.price, "discount_percent": line.discount_percent}
    form = LineEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        kwargs = {"quantity": data["quantity"], "price": data["price"], "discount": data.get("discount_percent") or 0}
        if call_service(form, services_orders.order_line_update, line=line, actor=request.user, **kwargs):
            messages.success(request, _("The line is saved."))
            return _done(request, _card(line.order_id, "lines"))
    context = {"order": line.order, "line": line, "form": form, "title": str(line.product)}
    return render(request, "deals/order_line_form.html" + ("#line-form" if request.htmx else ""), context)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_POST
def order_line_remove(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    line = selectors_orders.order_line_get(user=request.user, pk=pk)
    _change_permission(request)
    try:
        services_orders.order_line_remove(line=line, actor=request.user)
        messages.success(request, _("The line is removed."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return _done(request, _card(line.order_id, "lines"))


# --- contacts, changes ------------------------------------------------------------------------------------------


@login_required
@permission_required(VIEW, raise_exception=True)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def order_interaction_create(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Log a contact with the client about this order (contacts.services.interaction_log with related=order)."""
    order = selectors_orders.order_get(user=request.user, pk=pk)
    data = (request.POST, request.FILES) if request.method == "POST" else (None, None)
    form = InteractionForm(*data, company=order.company, initial=_interaction_initial(order))
    if request.method == "POST" and form.is_valid():
        kwargs = {"actor": request.user, "company": order.company, "related": order, **form.service_kwargs()}
        if call_service(form, contact_services.interaction_log, **kwargs):
            messages.success(request, _("The interaction is logged."))
            return _done(request, _card(pk, "interactions"))
    context = {"order": order, "form": form}
    return render(request, "deals/order_interaction.html" + ("#interaction-form" if request.htmx else ""), context)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
@vary_on_headers("HX-Request")
def order_changes(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    order, entries = selectors_orders.order_changes(user=request.user, pk=pk)
    context = {"order": order, "entries": entries}
    return render(
        request, "contacts/includes/changes.html#changes" if request.htmx else "deals/order_changes.html", context
    )


@login_required
@require_GET
@vary_on_headers("HX-Request")
def company_orders(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The company card's "Orders" tab (HTMX); otherwise the order list of the company.

    Every staff user sees the tab: one without deals.view_order gets a line saying so, not an error.
    """
    company = contact_selectors.company_get(user=request.user, pk=pk)
    if not request.htmx:
        return redirect(f"{reverse('deals:order-list')}?{urlencode({'company': company.pk})}")
    allowed = request.user.has_perm(VIEW)
    tab = selectors_orders.company_orders(user=request.user, company=company) if allowed else None
    return render(request, "deals/includes/company_orders.html#company-orders", {"company": company, "tab": tab})


# --- won deal → order ----------------------------------------------------------------------------------------------


def _deal_url(pk: int) -> str:
    try:
        return reverse("deals:deal-detail", args=[pk])
    except NoReverseMatch:  # the deal card lives in deals/views/deals.py
        return f"/sales/deals/{pk}/"


@login_required
@permission_required(VIEW, raise_exception=True)
@require_POST
def deal_order_create(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """ "Create order" on a won deal's card: the order card, or back to the deal with the reason why not."""
    deal = get_object_or_404(Deal.objects.visible_to(request.user), pk=pk)
    started = timezone.now()
    try:
        order = services_orders.order_create_from_deal(deal=deal, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _done(request, _deal_url(pk))
    if order.created_at >= started:
        messages.success(request, _("Order %(number)s is created from the deal.") % {"number": order.number})
    else:
        messages.info(request, _("This deal already has order %(number)s.") % {"number": order.number})
    return _done(request, _card(order.pk))


urlpatterns = [
    path("orders/", order_list, name="order-list"),
    path("orders/new/", order_create, name="order-create"),
    path("orders/product-options/", order_product_options, name="order-product-options"),
    path("orders/line-quote/", order_line_quote, name="order-line-quote"),
    path("orders/<int:pk>/", order_detail, name="order-detail"),
    path("orders/<int:pk>/status/", order_status, name="order-status"),
    path("orders/<int:pk>/payment/", order_payment, name="order-payment"),
    path("orders/<int:pk>/edit/", order_update, name="order-update"),
    path("orders/<int:pk>/lines/", order_line_add, name="order-line-add"),
    path("orders/lines/<int:pk>/edit/", order_line_update, name="order-line-update"),
    path("orders/lines/<int:pk>/remove/", order_line_remove, name="order-line-remove"),
    path("orders/<int:pk>/interactions/", order_interaction_create, name="order-interaction-create"),
    path("orders/<int:pk>/changes/", order_changes, name="order-changes"),
    path("companies/<int:pk>/orders/", company_orders, name="company-orders"),
    path("deals/<int:pk>/order/", deal_order_create, name="deal-order-create"),
]
