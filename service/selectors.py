"""Reads of the service desk: the queue (keyset pages), the ticket card, the company / person "Tickets" tab."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import models
from django.db.models import Q, QuerySet, prefetch_related_objects
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.safestring import SafeString, mark_safe

from contacts.models import Company, ContactPoint, Person
from crm.history import ChangeEntry, history_entries, latest_records, load_names
from crm.models import Role, Scope, Team, User
from deals.models import Contract, Order, Product
from service.filters import TicketFilter
from service.models import (
    OPEN_STATUSES,
    MessageKind,
    SlaPolicy,
    Ticket,
    TicketAttachment,
    TicketCategory,
    TicketMessage,
    TicketStatus,
    TicketStatusChange,
)

PAGE_SIZE = 25
TAB_LIMIT = 20
THREAD_LIMIT = 200  # a card shows the latest 200 messages (a longer thread links to the admin)
RECENT_ORDERS = 5
CHANGES_LIMIT = 50


@dataclass(frozen=True)
class TicketRow:
    """A queue row, render-ready: display strings and the card URL from the selector."""

    pk: int
    number: str
    subject: str
    url: str
    company: str
    status: str
    status_label: str
    priority: str
    priority_label: str
    assignee: str
    due_at: datetime | None  # local time
    due_iso: str
    due_label: str
    is_breached: bool
    is_late: bool
    is_soon: bool


@dataclass
class TicketPage:
    rows: list[TicketRow]
    next_cursor: str
    is_first: bool


def _row(ticket: Ticket, now: datetime) -> TicketRow:
    due = ticket.resolution_due_at
    is_open = ticket.status in OPEN_STATUSES
    local_due = timezone.localtime(due) if is_open and due else None
    return TicketRow(
        pk=ticket.pk,
        number=ticket.number,
        subject=ticket.subject,
        url=reverse("service:ticket-detail", args=[ticket.pk]),
        company=str(ticket.company) if ticket.company_id else "",
        status=ticket.status,
        status_label=ticket.get_status_display(),
        priority=ticket.priority,
        priority_label=ticket.get_priority_display(),
        assignee=str(ticket.assignee) if ticket.assignee_id else "",
        due_at=local_due,
        due_iso=local_due.isoformat() if local_due else "",
        due_label=local_due.strftime("%d.%m.%Y %H:%M") if local_due else "",
        is_breached=ticket.is_breached,
        is_late=bool(is_open and due and due < now),
        is_soon=bool(is_open and due and now <= due < now + timezone.timedelta(hours=1)),
    )


def ticket_page(*, filterset: TicketFilter, cursor: str | None = None, limit: int = PAGE_SIZE) -> TicketPage:
    """Open tickets by time left (resolution due, then id; no deadline last), done ones newest first.

    Keyset: the cursor is "<due ISO>|<id>" (or "|<id>" for tickets without a deadline, "<id>" newest-first).
    One query, no COUNT.
    """
    qs = filterset.qs.select_related("company", "assignee").only(
        "number", "subject", "status", "priority", "resolution_due_at", "first_response_breached",
        "resolution_breached", "company__name", "company__short_name", "assignee__full_name", "assignee__email",
    )  # fmt: skip
    if filterset.shows_open:
        qs = _after_due(qs, cursor).order_by("resolution_due_at", "id")
    else:
        if cursor and cursor.isdigit():
            qs = qs.filter(id__lt=int(cursor))
        qs = qs.order_by("-id")
    tickets = list(qs[: limit + 1])
    next_cursor = ""
    if len(tickets) > limit:
        last = tickets[limit - 1]
        if not filterset.shows_open:
            next_cursor = str(last.pk)
        else:
            due = last.resolution_due_at.isoformat() if last.resolution_due_at else ""
            next_cursor = f"{due}|{last.pk}"
    now = timezone.now()
    return TicketPage(rows=[_row(t, now) for t in tickets[:limit]], next_cursor=next_cursor, is_first=not cursor)


def _after_due(qs: QuerySet[Ticket], cursor: str | None) -> QuerySet[Ticket]:
    if not cursor or "|" not in cursor:
        return qs
    due_text, _sep, pk_text = cursor.partition("|")
    if not pk_text.isdigit():
        return qs
    pk = int(pk_text)
    if not due_text:
        return qs.filter(resolution_due_at__isnull=True, id__gt=pk)
    due = parse_datetime(due_text.replace(" ", "+"))
    if due is None:
        return qs
    return qs.filter(
        Q(resolution_due_at__gt=due) | Q(resolution_due_at=due, id__gt=pk) | Q(resolution_due_at__isnull=True)
    )


def ticket_get(*, user: User, pk: int) -> Ticket:
    """A ticket the user may see, with what the card shows beside it; Http404 otherwise.

    Joins only the three relations every card has: planning a join of ten tables costs PostgreSQL ~10 ms,
    twenty times the query itself; the optional links are primary-key probes, only for the ones that are set
    (an empty one would still cost a prefetch's Python, ~0.5 ms)."""
    ticket = get_object_or_404(Ticket.objects.visible_to(user).select_related("company", "person", "assignee"), pk=pk)
    prefetch_related_objects([ticket], *(name for name in _OPTIONAL_LINKS if getattr(ticket, f"{name}_id")))
    return ticket


_OPTIONAL_LINKS = ("contract", "order", "product", "category", "team", "sla_policy", "previous")


@dataclass
class ThreadAttachment:
    name: str
    url: str
    size_label: str


@dataclass
class ThreadMessage:
    """A message of the card's thread, render-ready (service/jinja2/service/ticket_thread.html)."""

    kind: str
    kind_label: str
    author: str
    created_iso: str
    created_label: str
    body_html: SafeString  # sanitised when stored (sanitize_message)
    is_internal: bool
    is_inbound: bool
    attachments: list[ThreadAttachment]


def _moment(value: datetime) -> tuple[str, str]:
    """A time in the current zone as (ISO for <time datetime>, "dd.mm.yyyy hh:mm")."""
    local = timezone.localtime(value)
    return local.isoformat(), local.strftime("%d.%m.%Y %H:%M")


def _labels(choices: type[models.TextChoices]) -> dict[str, str]:
    """Value → label in the current language, translated once per card rather than once per row."""
    return {value: str(label) for value, label in choices.choices}


def _thread_message(m: TicketMessage, attachments: list[ThreadAttachment], kinds: dict[str, str]) -> ThreadMessage:
    created_iso, created_label = _moment(m.created_at)
    return ThreadMessage(
        kind=m.kind,
        kind_label=kinds.get(m.kind, m.kind),
        author=str(m.author or m.person or m.from_email or ""),
        created_iso=created_iso,
        created_label=created_label,
        body_html=mark_safe(m.body_html),  # nh3-sanitised by sanitize_message before it is stored
        is_internal=m.kind == MessageKind.NOTE,
        is_inbound=m.kind == MessageKind.INBOUND,
        attachments=attachments,
    )


def _thread_attachments(ticket: Ticket, message_ids: list[int]) -> dict[int, list[ThreadAttachment]]:
    """The files of the shown messages by message id, in one query (a prefetch would build a related manager and
    a queryset per message)."""
    by_message: dict[int, list[ThreadAttachment]] = {}
    if not message_ids:
        return by_message
    rows = (
        TicketAttachment.objects.filter(message__in=message_ids)
        .order_by("id")
        .values_list("id", "message_id", "name", "size")
    )
    for pk, message_id, name, size in rows:
        url = reverse("service:ticket-attachment", args=[ticket.pk, pk])
        by_message.setdefault(message_id, []).append(
            ThreadAttachment(name=name, url=url, size_label=filesizeformat(size))
        )
    return by_message


@dataclass
class TimelineRow:
    """A status change of the card's timeline, render-ready (service/jinja2/service/ticket_timeline.html)."""

    changed_iso: str
    changed_label: str
    from_label: str  # "" for the first one
    to_label: str
    changed_by: str
    comment: str


def _timeline_row(change: TicketStatusChange, statuses: dict[str, str]) -> TimelineRow:
    changed_iso, changed_label = _moment(change.changed_at)
    return TimelineRow(
        changed_iso=changed_iso,
        changed_label=changed_label,
        from_label=statuses.get(change.from_status, change.from_status),
        to_label=statuses.get(change.to_status, change.to_status),
        changed_by=str(change.changed_by) if change.changed_by else "",
        comment=change.comment,
    )


@dataclass
class TicketCard:
    ticket: Ticket
    thread: list[ThreadMessage]
    older_hidden: bool
    timeline: list[TimelineRow]
    recent_orders: list[Order]
    client_email: str
    client_phone: str
    can_change: bool
    suggestions_url: str  # the suggested articles, loaded by the card (service:ticket-suggestions)


# What the thread and the timeline print: fewer columns to load and models to build (the body is most of a row).
_MESSAGE_FIELDS = (
    "ticket", "kind", "created_at", "body_html", "from_email", "author", "author__full_name", "author__email",
    "person", "person__last_name", "person__first_name", "person__patronymic",
)  # fmt: skip
_CHANGE_FIELDS = (
    "ticket", "from_status", "to_status", "changed_at", "comment", "changed_by", "changed_by__full_name",
    "changed_by__email",
)  # fmt: skip


def ticket_card(*, user: User, ticket: Ticket) -> TicketCard:
    """The card of a ticket from ticket_get: thread (oldest first, latest THREAD_LIMIT), status timeline, the
    client's recent orders the user sees, the client's e-mail and phone. A constant number of queries; the
    thread and the timeline come as render-ready rows."""
    messages = list(
        ticket.messages.select_related("author", "person")
        .only(*_MESSAGE_FIELDS)
        .order_by("-created_at", "-id")[: THREAD_LIMIT + 1]
    )
    older_hidden = len(messages) > THREAD_LIMIT
    shown = messages[:THREAD_LIMIT]
    files = _thread_attachments(ticket, [m.pk for m in shown])
    kinds = _labels(MessageKind)
    thread = [_thread_message(m, files.get(m.pk, []), kinds) for m in reversed(shown)]
    changes = ticket.status_changes.select_related("changed_by").only(*_CHANGE_FIELDS).order_by("changed_at", "id")
    statuses = _labels(TicketStatus)
    timeline = [_timeline_row(change, statuses) for change in changes]
    orders: list[Order] = []
    if ticket.company_id:
        orders = list(
            Order.objects.visible_to(user).filter(company=ticket.company_id).order_by("-created_at")[:RECENT_ORDERS]
        )
    email = phone = ""
    if ticket.person_id:
        points = {p.kind: p.value for p in ContactPoint.objects.filter(person=ticket.person_id).order_by("-id")}
        email, phone = points.get("email", ""), points.get("mobile", "") or points.get("phone", "")
    return TicketCard(
        ticket=ticket,
        thread=thread,
        older_hidden=older_hidden,
        timeline=timeline,
        recent_orders=orders,
        client_email=email,
        client_phone=phone,
        can_change=user.has_perm("service.change_ticket"),
        suggestions_url=reverse("service:ticket-suggestions", args=[ticket.pk]),
    )


_FK_MODELS: dict[str, type] = {
    "company": Company,
    "person": Person,
    "contract": Contract,
    "order": Order,
    "product": Product,
    "category": TicketCategory,
    "assignee": User,
    "team": Team,
    "created_by": User,
    "sla_policy": SlaPolicy,
    "previous": Ticket,
}
_HIDDEN = {"id", "created_at", "updated_at", "escalated_at", "rating_requested_at", "sla_paused_at", "number"}


def ticket_changes(*, ticket: Ticket, limit: int = CHANGES_LIMIT) -> list[ChangeEntry]:
    """The latest field changes of a ticket the caller fetched through ticket_get."""
    records = latest_records(ticket.history.all(), limit + 1)
    return history_entries(records, limit=limit, names=load_names(records, _FK_MODELS), hidden=_HIDDEN)


def assignable_agents(*, user: User, ticket: Ticket | None = None) -> QuerySet[User]:
    """Active service agents of the user's teams (directors: every agent) — who a ticket can go to."""
    qs = User.objects.filter(is_active=True, groups__name=Role.SERVICE_AGENT)
    if user.scope != Scope.ALL:
        teams = set(user.team_ids) | ({ticket.team_id} if ticket and ticket.team_id else set())
        qs = qs.filter(team__in=teams)
    return qs.order_by("full_name", "id").distinct()


@dataclass
class TicketsTab:
    rows: list[TicketRow]
    more: bool
    list_url: str


def company_tickets(*, user: User, company: Company, limit: int = TAB_LIMIT) -> TicketsTab:
    """The company card's "Tickets" tab: the latest tickets of the company the user sees."""
    return _tab(user=user, filters={"company": company}, limit=limit, list_url=_list_url(company=company.pk))


def person_tickets(*, user: User, person: Person, limit: int = TAB_LIMIT) -> TicketsTab:
    return _tab(user=user, filters={"person": person}, limit=limit, list_url="")


def _list_url(**params: Any) -> str:
    from django.utils.http import urlencode

    return reverse("service:ticket-list") + "?" + urlencode({"queue": "all", **params})


def _tab(*, user: User, filters: dict[str, Any], limit: int, list_url: str) -> TicketsTab:
    qs = Ticket.objects.visible_to(user).filter(**filters).select_related("company", "assignee").order_by("-id")
    tickets = list(qs[: limit + 1])
    now = timezone.now()
    return TicketsTab(rows=[_row(t, now) for t in tickets[:limit]], more=len(tickets) > limit, list_url=list_url)


def attachment_get(*, user: User, ticket_pk: int, pk: int) -> TicketAttachment:
    """An attachment of a ticket the user sees; internal notes' files only for users who work tickets."""
    ticket = ticket_get(user=user, pk=ticket_pk)
    qs = TicketAttachment.objects.filter(message__ticket=ticket)
    if not user.has_perm("service.change_ticket"):
        qs = qs.exclude(message__kind=MessageKind.NOTE)
    return get_object_or_404(qs, pk=pk)
