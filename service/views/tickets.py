"""The ticket queue, the ticket card (thread, reply, note, status, assignment) and the client card tabs."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from contacts import selectors as contact_selectors
from crm.htmx import HtmxHttpRequest, add_service_errors, keyset_urls
from service import selectors, services
from service.filters import Queue, TicketFilter, filter_query
from service.forms import AssignForm, BulkAssignForm, MessageForm, StatusForm, TicketForm

VIEW, ADD, CHANGE = "service.view_ticket", "service.add_ticket", "service.change_ticket"


def _suggestions(request: HtmxHttpRequest, ticket) -> list:
    from service.selectors_kb import article_suggestions

    return article_suggestions(user=request.user, ticket=ticket)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
@vary_on_headers("HX-Request")
def ticket_list(request: HtmxHttpRequest) -> HttpResponse:
    data = request.GET.copy()
    if "queue" not in data:  # agents land on their team's queue, everybody else on what they see
        data["queue"] = Queue.TEAM if request.user.team_id and request.user.has_perm(CHANGE) else Queue.ALL
    filterset = TicketFilter(data, user=request.user)
    page = selectors.ticket_page(filterset=filterset, cursor=request.GET.get("cursor"))
    query, base = filter_query(data), reverse("service:ticket-list")
    can_change = request.user.has_perm(CHANGE)
    context = {
        "filter": filterset,
        "page": page,
        "list_url": base,
        **keyset_urls(base, query, page.next_cursor),
        "bulk_form": BulkAssignForm(agents=selectors.assignable_agents(user=request.user), user=request.user)
        if can_change
        else None,
    }
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    return render(request, "service/ticket_list.html" + ("#htmx-results" if partial else ""), context)


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_POST
def ticket_bulk_assign(request: HtmxHttpRequest) -> HttpResponse:
    form = BulkAssignForm(request.POST, agents=selectors.assignable_agents(user=request.user), user=request.user)
    if form.is_valid():
        count = services.tickets_bulk_assign(
            actor=request.user,
            ticket_ids=[t.pk for t in form.cleaned_data["tickets"]],
            assignee=form.cleaned_data["assignee"],
        )
        messages.success(request, _("%(count)d tickets assigned.") % {"count": count})
    else:
        messages.error(request, _("Tick the tickets to assign and choose an agent of your team."))
    return redirect(request.POST.get("next") or reverse("service:ticket-list"))


@login_required
@permission_required(ADD, raise_exception=True)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def ticket_create(request: HtmxHttpRequest) -> HttpResponse:
    initial = {k: request.GET[k] for k in ("company", "person") if request.GET.get(k, "").isdigit()}
    form = TicketForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            ticket = services.ticket_create(actor=request.user, **form.service_kwargs())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Ticket %(number)s is opened.") % {"number": ticket.number})
            return redirect("service:ticket-detail", ticket.pk)
    context = {"form": form, "title": _("New ticket")}
    return render(request, "service/ticket_form.html" + ("#ticket-form" if request.htmx else ""), context)


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def ticket_update(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    ticket = selectors.ticket_get(user=request.user, pk=pk)
    form = TicketForm(request.POST or None, user=request.user, instance=ticket)
    if request.method == "POST" and form.is_valid():
        try:
            fields = {name: form.cleaned_data[name] for name in form.changed_data}
            services.ticket_update(ticket=ticket, actor=request.user, **fields)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The ticket is saved."))
            return redirect("service:ticket-detail", pk)
    context = {"form": form, "ticket": ticket, "title": str(ticket)}
    return render(request, "service/ticket_form.html" + ("#ticket-form" if request.htmx else ""), context)


def _card_context(request: HtmxHttpRequest, ticket, **forms) -> dict:
    card = selectors.ticket_card(user=request.user, ticket=ticket)
    agents = selectors.assignable_agents(user=request.user, ticket=ticket)
    return {
        "card": card,
        "ticket": ticket,
        "message_form": forms.get("message_form") or MessageForm(),
        "status_form": forms.get("status_form") or StatusForm(ticket=ticket),
        "assign_form": forms.get("assign_form") or AssignForm(agents=agents, initial={"assignee": ticket.assignee_id}),
    }


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def ticket_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    ticket = selectors.ticket_get(user=request.user, pk=pk)
    return render(request, "service/ticket_detail.html", _card_context(request, ticket))


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
@vary_on_headers("HX-Request")
def ticket_suggestions(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The card's suggested articles (HTMX, loaded by the card once it is shown); otherwise back to the card."""
    ticket = selectors.ticket_get(user=request.user, pk=pk)
    if not request.htmx:
        return redirect("service:ticket-detail", pk)
    context = {"ticket": ticket, "suggestions": _suggestions(request, ticket)}
    return render(request, "service/includes/kb_suggestions.html#kb-suggestions", context)


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_POST
def ticket_message(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """A public reply (e-mailed to the client) or an internal note."""
    ticket = selectors.ticket_get(user=request.user, pk=pk)
    form = MessageForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        body = services.plain_to_html(data["body"])
        try:
            if data["is_note"]:
                services.ticket_note(
                    ticket=ticket,
                    actor=request.user,
                    body_html=body,
                    attachments=data["attachments"],
                )
                messages.success(request, _("The note is added."))
            else:
                services.ticket_reply(
                    ticket=ticket,
                    actor=request.user,
                    body_html=body,
                    attachments=data["attachments"],
                    then_status=data["then_status"] or ticket.status,
                )
                messages.success(request, _("The answer is sent to the client."))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("service:ticket-detail", pk)
    ticket = selectors.ticket_get(user=request.user, pk=pk)
    return render(request, "service/ticket_detail.html", _card_context(request, ticket, message_form=form), status=422)


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_POST
def ticket_status(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    ticket = selectors.ticket_get(user=request.user, pk=pk)
    form = StatusForm(request.POST, ticket=ticket)
    if form.is_valid():
        try:
            services.ticket_set_status(
                ticket=ticket,
                status=form.cleaned_data["status"],
                actor=request.user,
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The status is changed."))
            return redirect("service:ticket-detail", pk)
    return render(request, "service/ticket_detail.html", _card_context(request, ticket, status_form=form), status=422)


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_POST
def ticket_assign(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    ticket = selectors.ticket_get(user=request.user, pk=pk)
    form = AssignForm(request.POST, agents=selectors.assignable_agents(user=request.user, ticket=ticket))
    if form.is_valid():
        try:
            services.ticket_assign(ticket=ticket, actor=request.user, assignee=form.cleaned_data["assignee"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The ticket is assigned."))
            return redirect("service:ticket-detail", pk)
    return render(request, "service/ticket_detail.html", _card_context(request, ticket, assign_form=form), status=422)


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_POST
def ticket_take(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """ "Take it": the agent assigns the ticket to themselves."""
    ticket = selectors.ticket_get(user=request.user, pk=pk)
    services.ticket_assign(ticket=ticket, actor=request.user, assignee=request.user)
    messages.success(request, _("The ticket is yours."))
    return redirect("service:ticket-detail", pk)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def ticket_history(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    ticket = selectors.ticket_get(user=request.user, pk=pk)
    context = {"ticket": ticket, "entries": selectors.ticket_changes(ticket=ticket)}
    return render(request, "service/ticket_history.html", context)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def ticket_attachment(request: HtmxHttpRequest, pk: int, attachment_pk: int) -> FileResponse:
    """A file of the thread, only for a user who sees the ticket (media files are not served directly)."""
    attachment = selectors.attachment_get(user=request.user, ticket_pk=pk, pk=attachment_pk)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(handle, as_attachment=True, filename=attachment.name, content_type=attachment.content_type)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def company_tickets(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The company card's "Tickets" tab (HTMX); otherwise back to the card."""
    company = contact_selectors.company_get(user=request.user, pk=pk)
    if not request.htmx:
        return redirect("contacts:company-detail", pk)
    tab = selectors.company_tickets(user=request.user, company=company) if request.user.has_perm(VIEW) else None
    context = {"tab": tab, "new_url": reverse("service:ticket-create") + f"?company={pk}"}
    return render(request, "service/includes/tickets_tab.html#tickets-tab", context)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def person_tickets(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    person = contact_selectors.person_get(user=request.user, pk=pk)
    if not request.htmx:
        return redirect("contacts:person-detail", pk)
    tab = selectors.person_tickets(user=request.user, person=person) if request.user.has_perm(VIEW) else None
    query = f"?person={pk}" + (f"&company={person.company_id}" if person.company_id else "")
    context = {"tab": tab, "new_url": reverse("service:ticket-create") + query}
    return render(request, "service/includes/tickets_tab.html#tickets-tab", context)


urlpatterns = [
    path("tickets/", ticket_list, name="ticket-list"),
    path("tickets/assign/", ticket_bulk_assign, name="ticket-bulk-assign"),
    path("tickets/new/", ticket_create, name="ticket-create"),
    path("tickets/<int:pk>/", ticket_detail, name="ticket-detail"),
    path("tickets/<int:pk>/edit/", ticket_update, name="ticket-update"),
    path("tickets/<int:pk>/messages/", ticket_message, name="ticket-message"),
    path("tickets/<int:pk>/status/", ticket_status, name="ticket-status"),
    path("tickets/<int:pk>/assign/", ticket_assign, name="ticket-assign"),
    path("tickets/<int:pk>/take/", ticket_take, name="ticket-take"),
    path("tickets/<int:pk>/history/", ticket_history, name="ticket-history"),
    path("tickets/<int:pk>/suggestions/", ticket_suggestions, name="ticket-suggestions"),
    path("tickets/<int:pk>/attachments/<int:attachment_pk>/", ticket_attachment, name="ticket-attachment"),
    path("companies/<int:pk>/tickets/", company_tickets, name="company-tickets"),
    path("people/<int:pk>/tickets/", person_tickets, name="person-tickets"),
]
