"""Deals (issue #6, items 2, 3, 7, 8): the kanban board, the list, the deal card and its actions.

Thin views: parse the request, call a selector or a service, render the page or (HTMX) its fragment.
A deal the user cannot see is a 404 (deal_get starts from visible_to); a user without
`deals.view_deal` gets 403 everywhere, without `deals.change_deal` a 403 on every write.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget

from contacts import selectors as contact_selectors
from contacts import services as contact_services
from contacts.forms import InteractionForm
from crm.htmx import HtmxHttpRequest, call_service, keyset_urls, page_or_partial
from crm.models import User
from deals import selectors_deals as selectors
from deals import services_deals as services
from deals.filters_deals import deal_filter, list_query
from deals.forms_deals import BoardFilterForm, DealForm, DealLineForm, LoseForm, MoveForm, VersionForm
from deals.models import Deal, DealStatus

T = TypeVar("T")
BOARD = "deals/deal_board.html"
CARD = "deals/deal_detail.html"


# --- helpers -------------------------------------------------------------------------------------------


def _changeable(request: HtmxHttpRequest, pk: int) -> Deal:
    """The deal (404 when not visible), when the user may change deals (403 otherwise)."""
    deal = selectors.deal_get(user=request.user, pk=pk)
    if not services.can_change(deal=deal, user=request.user):
        raise PermissionDenied
    return deal


BOARD_FILTERS = ("owner", "team", "close_from", "close_to")


def _board_filters(data: QueryDict, user: User) -> tuple[BoardFilterForm | None, selectors.BoardFilters]:
    """The bound filter form and its filters; (None, no filters) when no filter is given (no form is built)."""
    if not any(data.get(name) for name in BOARD_FILTERS):
        return None, selectors.BoardFilters()
    form = BoardFilterForm(data, user=user)
    if not form.is_valid():
        return form, selectors.BoardFilters()
    data = form.cleaned_data
    return form, selectors.BoardFilters(
        owner=data["owner"].pk if data.get("owner") else None,
        team=data["team"].pk if data.get("team") else None,
        close_from=data.get("close_from"),
        close_to=data.get("close_to"),
    )


def _filter_query(data: QueryDict) -> str:
    kept = QueryDict(mutable=True)
    for name in BOARD_FILTERS:
        if data.get(name):
            kept[name] = data[name]
    return kept.urlencode()


def _error_payload(error: ValidationError) -> dict[str, Any]:
    fields = error.message_dict if hasattr(error, "error_dict") else {}
    return {"message": " ".join(error.messages), "errors": fields}


def _card_context(request: HtmxHttpRequest, deal: Deal) -> dict[str, Any]:
    """What the card's header (and its action forms) needs."""
    return {
        "deal": deal,
        "can_change": services.can_change(deal=deal, user=request.user),
        "open_stages": selectors.open_stages(pipeline=deal.pipeline),
    }


def _card_changed(request: HtmxHttpRequest, deal: Deal, message: str) -> HttpResponse:
    """After a card action: the card again (no JS), or for HTMX a client redirect that shows the toast."""
    if message:
        messages.success(request, message)
    url = reverse("deals:deal-detail", args=[deal.pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


# --- the board -----------------------------------------------------------------------------------------


@login_required
@require_GET
@vary_on_headers("HX-Request")
def deal_board(request: HtmxHttpRequest) -> HttpResponse:
    """The kanban of one pipeline (?pipeline=), filtered by owner, team and expected close.

    Without a filter the filter panel is closed and its form (every owner the user may pick) is not built:
    board_filter_form sends it when the panel first opens.
    """
    selectors.require_view(request.user)
    pipeline, pipelines = selectors.pipeline_choice(pk=request.GET.get("pipeline", ""))
    form, filters = _board_filters(request.GET, request.user)
    context = {
        "board": selectors.board(user=request.user, pipeline=pipeline, filters=filters, pipelines=pipelines),
        "filter_form": form,
        "pipeline_id": pipeline.pk,
        "filter_query": _filter_query(request.GET),
        "can_change": request.user.has_perm("deals.change_deal"),
    }
    return page_or_partial(request, BOARD, f"{BOARD}#board", context)


@login_required
@require_GET
def board_filter_form(request: HtmxHttpRequest) -> HttpResponse:
    """The empty filter form of the board of ?pipeline=, fetched when its closed filter panel first opens."""
    selectors.require_view(request.user)
    pipeline = selectors.pipeline_get(pk=request.GET.get("pipeline", ""))
    context = {"filter_form": BoardFilterForm(user=request.user), "pipeline_id": pipeline.pk}
    return render(request, f"{BOARD}#board-filter", context)


@login_required
@require_GET
def board_column(request: HtmxHttpRequest, stage_pk: int) -> HttpResponse:
    """HTMX "Load more" of one column: the next cards after ?cursor= and the next button."""
    selectors.require_view(request.user)
    stage = selectors.stage_get(pk=stage_pk)
    _form, filters = _board_filters(request.GET, request.user)
    cards, cursor = selectors.column_page(
        user=request.user, stage=stage, filters=filters, cursor=request.GET.get("cursor", "")
    )
    context = {
        "cards": cards,
        "stage": stage,
        "next_cursor": cursor,
        "filter_query": _filter_query(request.GET),
        "can_change": request.user.has_perm("deals.change_deal"),
    }
    return render(request, f"{BOARD}#column-page", context)


@login_required
@require_POST
def deal_move(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Move a deal to a stage (a kanban drop, or the card's stage picker).

    HTMX: the columns' headers (and the card) as HTML, swapped out of band. A refused move is JSON
    {"ok": false, "conflict", "message", "errors"}: status 200 for a stale version or bad input (an
    answer to show, like a form with errors, not a failed request), 403 when the user may not move it.
    """
    deal = selectors.deal_get(user=request.user, pk=pk)
    form = MoveForm(request.POST, pipeline=deal.pipeline)
    try:
        if not form.is_valid():
            raise ValidationError({name: list(errors) for name, errors in form.errors.items()})
        data = form.cleaned_data
        deal = services.deal_move_stage(
            deal=deal,
            stage=data["stage"],
            actor=request.user,
            version=data.get("version"),
            loss_reason=data.get("loss_reason"),
            loss_comment=data.get("loss_comment", ""),
            competitor=data.get("competitor", ""),
        )
    except PermissionDenied as error:
        return _move_failed(request, deal, str(error) or _("You may not change this deal."), {}, status=403)
    except services.DealConflict as error:
        return _move_failed(request, deal, " ".join(error.messages), {}, conflict=True)
    except ValidationError as error:
        payload = _error_payload(error)
        return _move_failed(request, deal, payload["message"], payload["errors"])
    if not request.htmx:
        return _card_changed(request, deal, _("The deal is moved to “%(stage)s”.") % {"stage": deal.stage})
    _form, filters = _board_filters(request.POST, request.user)
    columns = selectors.move_columns(user=request.user, deal=deal, filters=filters)
    context = {
        "columns": columns,
        "totals": selectors.sum_totals(columns),
        "moved": [selectors.board_card(deal)],
        "closed": deal.status != DealStatus.OPEN,
        "filter_query": _filter_query(request.POST),
        "can_change": True,
    }
    return render(request, f"{BOARD}#move-result", context)


def _move_failed(
    request: HtmxHttpRequest, deal: Deal, message: str, errors: dict, *, conflict: bool = False, status: int = 200
) -> HttpResponse:
    if request.htmx:
        payload = {"ok": False, "conflict": conflict, "message": message, "errors": errors}
        return JsonResponse(payload, status=status)
    if status == 403:
        raise PermissionDenied
    messages.error(request, message)
    return redirect("deals:deal-detail", deal.pk)


# --- the list ------------------------------------------------------------------------------------------


@login_required
@require_GET
@vary_on_headers("HX-Request")
def deal_list(request: HtmxHttpRequest) -> HttpResponse:
    """Filtered deals, newest first, by keyset pages (?cursor=); HTMX gets the results fragment."""
    selectors.require_view(request.user)
    filterset = deal_filter(user=request.user, data=request.GET)
    valid = not filterset.is_bound or filterset.is_valid()
    qs = filterset.qs if valid else Deal.objects.none()
    page = selectors.deal_list_page(qs=qs, cursor=request.GET.get("cursor", ""))
    query = list_query(request.GET)
    list_url = reverse("deals:deal-list")
    context = {
        "filter": filterset,
        "page": page,
        "list_url": list_url,
        **keyset_urls(list_url, query, page.next_cursor),
    }
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    return render(request, "deals/deal_list.html" + ("#htmx-results" if partial else ""), context)


# --- create and edit -----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def deal_create(request: HtmxHttpRequest) -> HttpResponse:
    """A new deal; ?company= (the company card's "New deal") pre-selects the company."""
    if not request.user.has_perm("deals.add_deal"):
        raise PermissionDenied
    company = request.GET.get("company", "")
    initial: dict[str, Any] = {"company": int(company)} if company.isdigit() else {}
    pipeline = services.default_pipeline()
    stages = selectors.open_stages(pipeline=pipeline) if pipeline else []
    if stages:
        initial["stage"] = stages[0].pk
    form = DealForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        deal = call_service(form, services.deal_create, actor=request.user, **form.service_kwargs())
        if deal is not None:
            messages.success(request, _("The deal is saved."))
            return redirect("deals:deal-detail", deal.pk)
    context = {"form": form, "title": _("New deal")}
    return page_or_partial(request, "deals/deal_form.html", "deals/deal_form.html#deal-form", context)


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def deal_update(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Edit a deal; the form carries the version it was rendered with (optimistic locking)."""
    deal = _changeable(request, pk)
    context = {"deal": deal, "title": str(deal)}
    form = DealForm(request.POST or None, user=request.user, deal=deal)
    if request.method == "POST" and form.is_valid():
        version = form.cleaned_data["version"]
        update = services.deal_update
        if call_service(form, update, deal=deal, actor=request.user, version=version, **form.service_kwargs()):
            messages.success(request, _("The deal is saved."))
            return redirect("deals:deal-detail", deal.pk)
    context["form"] = form
    return page_or_partial(request, "deals/deal_form.html", "deals/deal_form.html#deal-form", context)


# --- the card ------------------------------------------------------------------------------------------


@login_required
@require_GET
def deal_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    deal = selectors.deal_get(user=request.user, pk=pk)
    visits = selectors.stage_history(deal=deal)
    context = {
        **_card_context(request, deal),
        "lines": selectors.deal_lines(deal=deal),
        "visits": visits,
        "stage_times": selectors.time_in_stages(visits, current_stage_id=deal.stage_id),
        "activities": selectors.deal_activities(user=request.user, deal=deal),
        "interactions": selectors.deal_interactions(user=request.user, deal=deal),
    }
    return render(request, CARD, context)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def deal_history(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The "Changes" tab: field history of the deal and its lines."""
    deal = selectors.deal_get(user=request.user, pk=pk)
    context = {"deal": deal, "entries": selectors.deal_changes(deal=deal)}
    return page_or_partial(request, "deals/deal_history.html", "contacts/includes/changes.html#changes", context)


@login_required
@require_POST
def deal_win(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    deal = _changeable(request, pk)
    form = VersionForm(request.POST)
    version = form.cleaned_data.get("version") if form.is_valid() else None
    try:
        services.deal_mark_won(deal=deal, actor=request.user, version=version)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _card_changed(request, deal, "")
    return _card_changed(request, deal, _("The deal is won."))


@login_required
@require_POST
def deal_reopen(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    deal = _changeable(request, pk)
    form = VersionForm(request.POST)
    version = form.cleaned_data.get("version") if form.is_valid() else None
    try:
        services.deal_reopen(deal=deal, actor=request.user, version=version)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _card_changed(request, deal, "")
    return _card_changed(request, deal, _("The deal is open again."))


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def deal_lose(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Lose a deal: the reason (required), a comment and the competitor; in the card's modal with HTMX."""
    deal = _changeable(request, pk)
    form = LoseForm(request.POST or None, initial={"version": deal.version, "competitor": deal.competitor})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        lost = call_service(
            form,
            services.deal_mark_lost,
            deal=deal,
            actor=request.user,
            reason=data.get("loss_reason"),
            comment=data.get("loss_comment", ""),
            competitor=data.get("competitor", ""),
            version=data.get("version"),
        )
        if lost is not None:
            return _card_changed(request, deal, _("The deal is marked lost."))
    context = {"deal": deal, "lose_form": form, "inline": bool(request.htmx)}
    return page_or_partial(request, "deals/deal_lose.html", "deals/deal_lose.html#lose-form", context)


# --- lines ---------------------------------------------------------------------------------------------


def _lines_changed(request: HtmxHttpRequest, deal: Deal, message: str) -> HttpResponse:
    """The lines section again, with the header (amount, version of the action forms) out of band."""
    messages.success(request, message)
    if not request.htmx:
        return redirect("deals:deal-detail", deal.pk)
    deal = selectors.deal_get(user=request.user, pk=deal.pk)
    context = {**_card_context(request, deal), "lines": selectors.deal_lines(deal=deal), "oob": True}
    response = render(request, f"{CARD}#lines-changed", context)
    return reswap(retarget(response, "#deal-lines"), "outerHTML")


def _line_form_context(request: HtmxHttpRequest, deal: Deal, form: DealLineForm, **extra: Any) -> dict[str, Any]:
    return {"deal": deal, "form": form, "inline": bool(request.htmx), **extra}


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def deal_line_add(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Add a line; ?product= (the product picker's change) pre-fills the client's price and discount."""
    deal = _changeable(request, pk)
    quote = None
    initial: dict[str, Any] = {"quantity": 1}
    product_id = request.GET.get("product", "")
    if request.method == "GET" and product_id.isdigit():
        product = selectors.product_for_line(pk=int(product_id))
        if product is not None:
            quote = services.quote_for(deal=deal, product=product)
            initial.update(product=product.pk, price=quote.price, discount_percent=quote.discount_percent)
            initial["quantity"] = request.GET.get("quantity", "1")[:20] or "1"
    form = DealLineForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        line = call_service(form, services.deal_line_add, deal=deal, actor=request.user, **form.service_kwargs())
        if line is not None:
            return _lines_changed(request, deal, _("The line is added."))
    context = _line_form_context(request, deal, form, quote=quote, action=reverse("deals:deal-line-add", args=[pk]))
    return page_or_partial(request, "deals/deal_line_form.html", "deals/deal_line_form.html#line-form", context)


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def deal_line_update(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    line = selectors.line_get(user=request.user, pk=pk)
    if not services.can_change(deal=line.deal, user=request.user):
        raise PermissionDenied
    form = DealLineForm(request.POST or None, line=line)
    if request.method == "POST" and form.is_valid():
        data = form.service_kwargs()
        saved = call_service(form, services.deal_line_update, line=line, actor=request.user, **data)
        if saved is not None:
            return _lines_changed(request, line.deal, _("The line is saved."))
    action = reverse("deals:deal-line-update", args=[pk])
    context = _line_form_context(request, line.deal, form, line=line, action=action)
    return page_or_partial(request, "deals/deal_line_form.html", "deals/deal_line_form.html#line-form", context)


@login_required
@require_POST
def deal_line_remove(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    line = selectors.line_get(user=request.user, pk=pk)
    if not services.can_change(deal=line.deal, user=request.user):
        raise PermissionDenied
    try:
        deal = services.deal_line_remove(line=line, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _card_changed(request, line.deal, "")
    return _lines_changed(request, deal, _("The line is removed."))


@login_required
@require_GET
def product_options(request: HtmxHttpRequest) -> HttpResponse:
    """<option>s of a line's product picker: active products whose name or SKU contains ?product_q=."""
    selectors.require_view(request.user)
    rows = selectors.product_options(query=request.GET.get("product_q", ""))
    return render(request, "deals/includes/product_options.html", {"products": rows})


# --- interactions --------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def deal_interaction_create(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Log a call (or any contact) about the deal: contacts.services.interaction_log(related=deal)."""
    deal = selectors.deal_get(user=request.user, pk=pk)
    data = (request.POST, request.FILES) if request.method == "POST" else (None, None)
    initial = {"person": deal.person_id, "subject": deal.title[:300]}
    form = InteractionForm(*data, company=deal.company, initial=initial)
    if request.method == "POST" and form.is_valid():
        kwargs = form.service_kwargs()
        row = call_service(
            form, contact_services.interaction_log, actor=request.user, company=deal.company, related=deal, **kwargs
        )
        if row is not None:
            messages.success(request, _("The interaction is logged."))
            if not request.htmx:
                return redirect("deals:deal-detail", deal.pk)
            context = {"deal": deal, "interactions": selectors.deal_interactions(user=request.user, deal=deal)}
            response = render(request, f"{CARD}#interactions-changed", context)
            return reswap(retarget(response, "#deal-interactions"), "outerHTML")
    context = {"deal": deal, "form": form, "inline": bool(request.htmx)}
    page, partial = "deals/deal_interaction_form.html", "deals/deal_interaction_form.html#interaction-form"
    return page_or_partial(request, page, partial, context)


# --- the company card's Deals tab ----------------------------------------------------------------------


@login_required
@require_GET
@vary_on_headers("HX-Request")
def company_deals(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """HTMX: the company card's Deals tab; otherwise the card, which loads the tab itself."""
    company = contact_selectors.company_get(user=request.user, pk=pk)
    if not request.htmx:
        return redirect("contacts:company-detail", pk)
    selectors.require_view(request.user)
    rows, more = selectors.company_deals(user=request.user, company=company)
    context = {"company": company, "deals": rows, "more": more}
    return render(request, "deals/includes/company_deals.html", context)


urlpatterns = [
    path("deals/", deal_list, name="deal-list"),
    path("deals/board/", deal_board, name="deal-board"),
    path("deals/board/filter-form/", board_filter_form, name="deal-board-filter-form"),
    path("deals/board/stages/<int:stage_pk>/", board_column, name="deal-board-column"),
    path("deals/new/", deal_create, name="deal-create"),
    path("deals/products/options/", product_options, name="product-options"),
    path("deals/<int:pk>/", deal_detail, name="deal-detail"),
    path("deals/<int:pk>/edit/", deal_update, name="deal-update"),
    path("deals/<int:pk>/history/", deal_history, name="deal-history"),
    path("deals/<int:pk>/move/", deal_move, name="deal-move"),
    path("deals/<int:pk>/win/", deal_win, name="deal-win"),
    path("deals/<int:pk>/lose/", deal_lose, name="deal-lose"),
    path("deals/<int:pk>/reopen/", deal_reopen, name="deal-reopen"),
    path("deals/<int:pk>/lines/new/", deal_line_add, name="deal-line-add"),
    path("deals/lines/<int:pk>/edit/", deal_line_update, name="deal-line-update"),
    path("deals/lines/<int:pk>/remove/", deal_line_remove, name="deal-line-remove"),
    path("deals/<int:pk>/interactions/new/", deal_interaction_create, name="deal-interaction-create"),
    path("companies/<int:pk>/deals/", company_deals, name="company-deals"),
]
