"""Writes of the service desk: tickets, their status and SLA clock, replies and notes, ratings, escalation.

Numbers are "S-YYYY-NNNNNN", sequential per year (Europe/Kyiv): the year's TicketNumber row is locked and
incremented inside the ticket's own transaction (as deals.services_orders does for orders).

The SLA clock: due times come from the ticket's policy (service.sla) at creation; a priority change
recomputes them from the creation time; waiting for the client stops the clock and resuming moves the
resolution deadline on by the business time spent waiting. A deadline passed is flagged on the ticket by
the escalation task (or by the answer / resolution that came late).
"""

from __future__ import annotations

import html as html_module
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import nh3
from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import linebreaks, strip_tags
from django.utils.translation import gettext as _

from contacts.models import Company, InteractionChannel, Person
from contacts.services import attachments_check, interaction_log
from crm.models import NotificationKind, Team, User
from crm.services import notify
from deals.models import Contract, ContractStatus, Order, Product
from service.models import (
    ACTIVE_STATUSES,
    ArticleUse,
    Escalation,
    KnowledgeArticle,
    MessageKind,
    SlaPolicy,
    SlaTarget,
    Ticket,
    TicketAttachment,
    TicketCategory,
    TicketChannel,
    TicketMessage,
    TicketNumber,
    TicketPriority,
    TicketStatus,
    TicketStatusChange,
)
from service.sla import BusinessHours, add_business_minutes, business_minutes_between

ADD, CHANGE = "service.add_ticket", "service.change_ticket"
# Replies and notes keep simple formatting; nh3 drops scripts, handlers, styles and unknown tags.
MESSAGE_TAGS = {
    "p",
    "br",
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ul",
    "ol",
    "li",
    "a",
    "blockquote",
    "pre",
    "code",
    "h3",
    "h4",
}
RATING_SALT = "service.ticket-rating"
RATING_MAX_AGE = 60 * 60 * 24 * 60  # a rating link works for 60 days

# Who may move a ticket where (the card offers only these; anything else is refused).
TRANSITIONS: dict[str, set[str]] = {
    TicketStatus.NEW: {TicketStatus.OPEN, TicketStatus.WAITING, TicketStatus.RESOLVED, TicketStatus.CLOSED},
    TicketStatus.OPEN: {TicketStatus.WAITING, TicketStatus.RESOLVED, TicketStatus.CLOSED},
    TicketStatus.REOPENED: {TicketStatus.OPEN, TicketStatus.WAITING, TicketStatus.RESOLVED, TicketStatus.CLOSED},
    TicketStatus.WAITING: {TicketStatus.OPEN, TicketStatus.RESOLVED, TicketStatus.CLOSED},
    TicketStatus.RESOLVED: {TicketStatus.CLOSED, TicketStatus.REOPENED},
    TicketStatus.CLOSED: {TicketStatus.REOPENED},
}


def sanitize_message(html: str) -> str:
    return nh3.clean(html, tags=MESSAGE_TAGS, attributes={"a": {"href", "title"}}, link_rel="noopener noreferrer")


def html_to_text(html: str) -> str:
    """The plain-text part of a reply: tags dropped, paragraphs and breaks kept as lines."""
    for tag in ("</p>", "<br>", "<br/>", "<br />", "</li>", "</h3>", "</h4>", "</blockquote>"):
        html = html.replace(tag, tag + "\n")
    lines = (line.strip() for line in strip_tags(html).splitlines())
    text = "\n".join(lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return html_module.unescape(text).strip()


# --- SLA ---------------------------------------------------------------------------------------------------


def sla_policy_for(*, contract: Contract | None, company: Company | None) -> SlaPolicy | None:
    """The policy of the contract's service level (the ticket's contract, else the company's active one),
    else the default policy; None when there is none at all (the ticket then has no deadlines)."""
    if contract is None and company is not None:
        contract = (
            Contract.objects.filter(company=company, status=ContractStatus.ACTIVE).order_by("-starts_on", "-id").first()
        )
    policies = SlaPolicy.objects.filter(is_active=True)
    if contract is not None:
        policy = policies.filter(service_level=contract.service_level).first()
        if policy is not None:
            return policy
    return policies.filter(is_default=True).first()


@dataclass(frozen=True)
class DueTimes:
    first_response: datetime | None
    resolution: datetime | None


def due_times(*, policy: SlaPolicy | None, priority: str, opened_at: datetime) -> DueTimes:
    """The first-answer and resolution deadlines of a ticket opened at `opened_at` (one tested function)."""
    target = SlaTarget.objects.filter(policy=policy, priority=priority).first() if policy else None
    if target is None:
        return DueTimes(None, None)
    hours = BusinessHours.of(policy)
    return DueTimes(
        add_business_minutes(opened_at, target.first_response_minutes, hours),
        add_business_minutes(opened_at, target.resolution_minutes, hours),
    )


# --- tickets -----------------------------------------------------------------------------------------------


def _next_number(year: int) -> str:
    counter, _created = TicketNumber.objects.get_or_create(year=year)
    counter = TicketNumber.objects.select_for_update().get(pk=counter.pk)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"S-{year}-{counter.last:06d}"


def service_team() -> Team | None:
    """The team new tickets go to (settings.SERVICE_TEAM), when it exists."""
    return Team.objects.filter(name=settings.SERVICE_TEAM).first()


def _check(actor: User | None, permission: str) -> None:
    if actor is not None and not actor.has_perm(permission):
        raise PermissionDenied


def _status_change(*, ticket: Ticket, to_status: str, actor: User | None, now: datetime, comment: str = "") -> None:
    TicketStatusChange.objects.create(
        ticket=ticket,
        from_status=ticket.status if ticket.pk and ticket.status != to_status else "",
        to_status=to_status,
        changed_by=actor,
        changed_at=now,
        comment=comment[:300],
    )


def _validate_links(
    *, company: Company | None, person: Person | None, contract: Contract | None, order: Order | None
) -> None:
    errors: dict[str, str] = {}
    if person is not None and company is not None and person.company_id not in (None, company.pk):
        errors["person"] = _("This person does not work for %(company)s.") % {"company": company}
    if contract is not None and contract.company_id != getattr(company, "pk", None):
        errors["contract"] = _("This contract belongs to another company.")
    if order is not None and order.company_id != getattr(company, "pk", None):
        errors["order"] = _("This order belongs to another company.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def ticket_create(
    *,
    actor: User | None,
    subject: str,
    company: Company | None = None,
    person: Person | None = None,
    description: str = "",
    channel: str = TicketChannel.PHONE,
    priority: str = TicketPriority.NORMAL,
    category: TicketCategory | None = None,
    contract: Contract | None = None,
    order: Order | None = None,
    product: Product | None = None,
    assignee: User | None = None,
    team: Team | None = None,
    needs_qualification: bool = False,
    previous: Ticket | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Open a ticket with its number and SLA deadlines. `actor` None: the mailbox reader or the portal.

    Raises PermissionDenied without service.add_ticket; ValidationError (keyed by field) for a subject
    missing, or a person, contract or order of another company.
    """
    _check(actor, ADD)
    now = now or timezone.now()
    if not subject.strip():
        raise ValidationError({"subject": _("Say in a few words what the request is about.")})
    if company is None and person is not None:
        company = person.company
    _validate_links(company=company, person=person, contract=contract, order=order)
    policy = sla_policy_for(contract=contract, company=company)
    due = due_times(policy=policy, priority=priority, opened_at=now)
    ticket = Ticket(
        number=_next_number(timezone.localtime(now).year),
        company=company,
        person=person,
        contract=contract,
        order=order,
        product=product,
        channel=channel,
        category=category,
        priority=priority,
        subject=subject.strip()[:300],
        description=description,
        status=TicketStatus.OPEN if assignee else TicketStatus.NEW,
        assignee=assignee,
        team=team or (assignee.team if assignee and assignee.team_id else None) or service_team(),
        created_by=actor,
        sla_policy=policy,
        first_response_due_at=due.first_response,
        resolution_due_at=due.resolution,
        needs_qualification=needs_qualification or company is None,
        previous=previous,
        reply_key=secrets.token_hex(6),
    )
    ticket.full_clean(exclude=["number", "reply_key", "created_by"])
    ticket.save()
    Ticket.objects.filter(pk=ticket.pk).update(created_at=now)
    ticket.created_at = now
    TicketStatusChange.objects.create(
        ticket=ticket, from_status="", to_status=ticket.status, changed_by=actor, changed_at=now
    )
    return ticket


EDITABLE = ("subject", "description", "category", "priority", "company", "person", "contract", "order", "product")


@transaction.atomic
def ticket_update(*, ticket: Ticket, actor: User, **fields: Any) -> Ticket:
    """Edit a ticket's details; a priority change recomputes the deadlines from the time it was opened.

    Raises PermissionDenied without service.change_ticket or when the actor cannot see the ticket.
    """
    ticket = _lock(ticket=ticket, actor=actor)
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ValidationError(_("These fields cannot be changed here: %(fields)s.") % {"fields": ", ".join(unknown)})
    old_priority, old_company = ticket.priority, ticket.company_id
    for name, value in fields.items():
        setattr(ticket, name, value)
    if not ticket.subject.strip():
        raise ValidationError({"subject": _("Say in a few words what the request is about.")})
    _validate_links(company=ticket.company, person=ticket.person, contract=ticket.contract, order=ticket.order)
    if ticket.company_id and old_company != ticket.company_id:
        ticket.needs_qualification = False
    if ticket.priority != old_priority or "contract" in fields or old_company != ticket.company_id:
        ticket.sla_policy = sla_policy_for(contract=ticket.contract, company=ticket.company)
        due = due_times(policy=ticket.sla_policy, priority=ticket.priority, opened_at=ticket.created_at)
        ticket.first_response_due_at = due.first_response
        ticket.resolution_due_at = _shift_by_pause(ticket, due.resolution)
    ticket.full_clean(exclude=["number", "reply_key", "created_by"])
    ticket.save()
    return ticket


def _shift_by_pause(ticket: Ticket, resolution_due: datetime | None) -> datetime | None:
    """Recomputed deadlines keep the waiting time already spent (status changes into and out of WAITING)."""
    if resolution_due is None:
        return None
    hours = BusinessHours.of(ticket.sla_policy)
    paused = 0
    started: datetime | None = None
    for change in ticket.status_changes.order_by("changed_at", "id"):
        if change.to_status == TicketStatus.WAITING:
            started = change.changed_at
        elif started is not None:
            paused += business_minutes_between(started, change.changed_at, hours)
            started = None
    return add_business_minutes(resolution_due, paused, hours) if paused else resolution_due


def _lock(*, ticket: Ticket, actor: User | None) -> Ticket:
    """The ticket re-read under a row lock (concurrent edits wait: no lost update); PermissionDenied when the
    actor lacks service.change_ticket or does not see it."""
    _check(actor, CHANGE)
    queryset = Ticket.objects.visible_to(actor) if actor is not None else Ticket.objects.all()
    try:
        return queryset.select_for_update(no_key=True, of=("self",)).select_related("sla_policy").get(pk=ticket.pk)
    except Ticket.DoesNotExist:
        raise PermissionDenied from None


def _set_status(*, ticket: Ticket, status: str, actor: User | None, now: datetime, comment: str = "") -> None:
    """Move a locked ticket to `status`, keeping the SLA clock; the caller saves."""
    if status == ticket.status:
        return
    hours = BusinessHours.of(ticket.sla_policy)
    if ticket.status == TicketStatus.WAITING and ticket.sla_paused_at and ticket.resolution_due_at:
        paused = business_minutes_between(ticket.sla_paused_at, now, hours)
        ticket.resolution_due_at = add_business_minutes(ticket.resolution_due_at, paused, hours)
    ticket.sla_paused_at = now if status == TicketStatus.WAITING else None
    if status == TicketStatus.RESOLVED:
        ticket.resolved_at = now
        if ticket.resolution_due_at and now > ticket.resolution_due_at:
            ticket.resolution_breached = True
    if status == TicketStatus.CLOSED:
        ticket.closed_at = now
        ticket.resolved_at = ticket.resolved_at or now
    if status == TicketStatus.REOPENED:
        ticket.reopen_count += 1
        ticket.resolved_at = ticket.closed_at = None
        ticket.csat_rating, ticket.csat_comment, ticket.csat_at = None, "", None
        ticket.rating_requested_at = None
    _status_change(ticket=ticket, to_status=status, actor=actor, now=now, comment=comment)
    ticket.status = status


@transaction.atomic
def ticket_set_status(
    *, ticket: Ticket, status: str, actor: User, comment: str = "", now: datetime | None = None
) -> Ticket:
    """Move a ticket along TRANSITIONS. Resolving e-mails the client a rating link (after commit).

    Raises ValidationError for a move TRANSITIONS does not allow; PermissionDenied as _lock.
    """
    now = now or timezone.now()
    ticket = _lock(ticket=ticket, actor=actor)
    if status not in TRANSITIONS.get(ticket.status, set()):
        raise ValidationError(
            {
                "status": _("A ticket cannot go from “%(from)s” to “%(to)s”.")
                % {
                    "from": ticket.get_status_display(),
                    "to": TicketStatus(status).label if status in TicketStatus.values else status,
                }
            }
        )
    _set_status(ticket=ticket, status=status, actor=actor, now=now, comment=comment)
    ticket.save()
    if status == TicketStatus.RESOLVED:
        from service.tasks import rating_request_send_task

        rating_request_send_task.delay_on_commit(ticket.pk)
    return ticket


@transaction.atomic
def ticket_assign(*, ticket: Ticket, actor: User, assignee: User | None, team: Team | None = None) -> Ticket:
    """Give a ticket to an agent (and their team) or back to the team's queue; the agent is told.

    Raises ValidationError for an inactive assignee; PermissionDenied as _lock.
    """
    ticket = _lock(ticket=ticket, actor=actor)
    if assignee is not None and not assignee.is_active:
        raise ValidationError({"assignee": _("This user is no longer active.")})
    previous = ticket.assignee_id
    ticket.assignee = assignee
    ticket.team = team or (assignee.team if assignee and assignee.team_id else ticket.team)
    if assignee is not None and ticket.status == TicketStatus.NEW:
        _set_status(ticket=ticket, status=TicketStatus.OPEN, actor=actor, now=timezone.now())
    ticket.save()
    if assignee is not None and assignee.pk != previous and assignee.pk != actor.pk:
        with translation.override(assignee.language):
            notify(
                recipient=assignee,
                kind=NotificationKind.TICKET,
                title=_("Ticket %(number)s is yours: %(subject)s")
                % {"number": ticket.number, "subject": ticket.subject},
                body=_("Assigned by %(actor)s.") % {"actor": actor},
                url=reverse("service:ticket-detail", args=[ticket.pk]),
            )
    return ticket


def tickets_bulk_assign(*, actor: User, ticket_ids: Sequence[int], assignee: User | None) -> int:
    """Assign every ticket of `ticket_ids` the actor sees and may change; returns how many were assigned.

    Each ticket in its own transaction (a long batch never holds every lock at once)."""
    _check(actor, CHANGE)
    tickets = Ticket.objects.visible_to(actor).filter(pk__in=list(ticket_ids)[:500]).order_by("pk")
    done = 0
    for ticket in tickets:
        ticket_assign(ticket=ticket, actor=actor, assignee=assignee)
        done += 1
    return done


# --- messages ----------------------------------------------------------------------------------------------


def _attach(*, message: TicketMessage, uploads: Sequence[UploadedFile], checked: list[tuple[str, str]]) -> None:
    for upload, (name, content_type) in zip(uploads, checked, strict=True):
        attachment = TicketAttachment(message=message, name=name, content_type=content_type, size=upload.size)
        attachment.file.save(name, upload, save=False)
        attachment.save()


def _record_in_history(*, ticket: Ticket, message: TicketMessage, actor: User | None, inbound: bool) -> None:
    """The ticket's e-mails appear in the client's history (an interaction linked to the ticket)."""
    if ticket.company is None:
        return
    person = message.person or ticket.person
    if person is not None and person.company_id != ticket.company_id:
        person = None
    interaction_log(
        actor=actor,
        company=ticket.company,
        person=person,
        channel=InteractionChannel.EMAIL_IN if inbound else InteractionChannel.EMAIL_OUT,
        direction="in" if inbound else "out",
        occurred_at=message.created_at,
        subject=f"[{ticket.number}] {ticket.subject}"[:300],
        body=message.body_text[:5000],
        related=ticket,
        trusted=True,
    )


@transaction.atomic
def ticket_reply(
    *,
    ticket: Ticket,
    actor: User,
    body_html: str,
    attachments: Sequence[UploadedFile] = (),
    then_status: str = TicketStatus.WAITING,
    now: datetime | None = None,
) -> TicketMessage:
    """A public answer: e-mailed to the client (after commit, once), shown in the portal, and the first
    answer of the SLA. The ticket then waits for the client (or is resolved, or stays open).

    Raises ValidationError for an empty text, a bad attachment or a status the ticket cannot take;
    PermissionDenied as _lock.
    """
    now = now or timezone.now()
    ticket = _lock(ticket=ticket, actor=actor)
    html = sanitize_message(body_html)
    text = html_to_text(html)
    if not text:
        raise ValidationError({"body": _("Write the answer first.")})
    checked = attachments_check(attachments)
    message = TicketMessage.objects.create(
        ticket=ticket, kind=MessageKind.REPLY, author=actor, body_html=html, body_text=text, created_at=now
    )
    _attach(message=message, uploads=attachments, checked=checked)
    if ticket.first_responded_at is None:
        ticket.first_responded_at = now
        if ticket.first_response_due_at and now > ticket.first_response_due_at:
            ticket.first_response_breached = True
    if ticket.assignee_id is None:
        ticket.assignee = actor
    if then_status != ticket.status:
        if then_status not in TRANSITIONS.get(ticket.status, set()) | {TicketStatus.OPEN}:
            raise ValidationError({"then_status": _("The ticket cannot take this status now.")})
        _set_status(ticket=ticket, status=then_status, actor=actor, now=now)
    ticket.save()
    _record_in_history(ticket=ticket, message=message, actor=actor, inbound=False)
    from service.tasks import reply_send_task

    reply_send_task.delay_on_commit(message.pk)
    if then_status == TicketStatus.RESOLVED:
        from service.tasks import rating_request_send_task

        rating_request_send_task.delay_on_commit(ticket.pk)
    return message


@transaction.atomic
def ticket_note(
    *, ticket: Ticket, actor: User, body_html: str, attachments: Sequence[UploadedFile] = ()
) -> TicketMessage:
    """An internal note: agents and managers read it, the client never does."""
    ticket = _lock(ticket=ticket, actor=actor)
    html = sanitize_message(body_html)
    text = html_to_text(html)
    if not text:
        raise ValidationError({"body": _("Write the note first.")})
    checked = attachments_check(attachments)
    message = TicketMessage.objects.create(
        ticket=ticket, kind=MessageKind.NOTE, author=actor, body_html=html, body_text=text, created_at=timezone.now()
    )
    _attach(message=message, uploads=attachments, checked=checked)
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=timezone.now())
    return message


def ticket_add_inbound(
    *,
    ticket: Ticket,
    body_html: str,
    body_text: str,
    from_email: str,
    person: Person | None,
    message_id: str,
    attachments: Sequence[UploadedFile] = (),
    dropped: Sequence[str] = (),
    now: datetime | None = None,
) -> TicketMessage:
    """The client's message on a ticket (by e-mail or from the portal); call inside a transaction.

    Waiting → open (the clock runs again); resolved or closed → reopened. The caller decides whether the
    ticket may be reopened (SERVICE_REOPEN_DAYS) and checks the attachments (`dropped` names what was not
    kept: it is recorded as a note).
    """
    now = now or timezone.now()
    ticket = _lock(ticket=ticket, actor=None)
    html = sanitize_message(body_html) if body_html else ""
    text = body_text.strip() or html_to_text(html)
    message = TicketMessage.objects.create(
        ticket=ticket,
        kind=MessageKind.INBOUND,
        person=person,
        from_email=from_email[:254],
        body_html=html or plain_to_html(text),
        body_text=text,
        message_id=message_id[:255],
        created_at=now,
    )
    checked = attachments_check(attachments) if attachments else []
    _attach(message=message, uploads=attachments, checked=checked)
    if dropped:
        TicketMessage.objects.create(
            ticket=ticket,
            kind=MessageKind.NOTE,
            body_html=render_to_string("service/includes/dropped_attachments.html", {"dropped": dropped}),
            body_text=_("Attachments not kept (too large or not allowed):") + "\n" + "\n".join(dropped),
            created_at=now,
        )
    if ticket.status == TicketStatus.WAITING:
        _set_status(ticket=ticket, status=TicketStatus.OPEN, actor=None, now=now, comment=_("The client answered."))
    elif ticket.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        _set_status(ticket=ticket, status=TicketStatus.REOPENED, actor=None, now=now, comment=_("The client answered."))
    ticket.save()
    _record_in_history(ticket=ticket, message=message, actor=None, inbound=True)
    return message


def plain_to_html(text: str) -> str:
    """Plain text (an e-mail, what an agent typed) as the paragraphs the thread stores; escaped by Django."""
    return linebreaks(text)


# --- rating (CSAT) ------------------------------------------------------------------------------------------


def rating_token(ticket: Ticket) -> str:
    return signing.dumps({"t": ticket.pk, "k": ticket.reply_key}, salt=RATING_SALT)


def rating_ticket(token: str) -> Ticket:
    """The ticket a rating link names; ValidationError for a forged, foreign or expired link."""
    try:
        data = signing.loads(token, salt=RATING_SALT, max_age=RATING_MAX_AGE)
        return Ticket.objects.get(pk=data["t"], reply_key=data["k"])
    except (signing.BadSignature, Ticket.DoesNotExist, KeyError, TypeError):
        raise ValidationError(_("This rating link is not valid or has expired.")) from None


@transaction.atomic
def ticket_rate(*, token: str, rating: int, comment: str = "") -> Ticket:
    """The client's 1–5 rating through the signed link, once per resolution.

    Raises ValidationError for a bad link, a rating out of range, a ticket not resolved, or one rated already.
    """
    ticket = rating_ticket(token)
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ValidationError({"rating": _("Choose from 1 to 5 stars.")})
    updated = Ticket.objects.filter(
        pk=ticket.pk, csat_rating__isnull=True, status__in=(TicketStatus.RESOLVED, TicketStatus.CLOSED)
    ).update(csat_rating=rating, csat_comment=comment.strip()[:2000], csat_at=timezone.now())
    if not updated:
        ticket.refresh_from_db()
        if ticket.csat_rating is not None:
            raise ValidationError(_("Thank you: this ticket has been rated already."))
        raise ValidationError(_("The ticket is not resolved yet: rate it once it is."))
    ticket.refresh_from_db()
    return ticket


# --- knowledge base use --------------------------------------------------------------------------------------


@transaction.atomic
def article_mark_solved(*, article: KnowledgeArticle, ticket: Ticket, actor: User) -> bool:
    """ "This solved it": counts the article once per ticket; returns False when it was counted already."""
    _lock(ticket=ticket, actor=actor)
    try:
        with transaction.atomic():
            ArticleUse.objects.create(article=article, ticket=ticket, user=actor, created_at=timezone.now())
    except IntegrityError:
        return False
    KnowledgeArticle.objects.filter(pk=article.pk).update(solved_count=F("solved_count") + 1)
    return True


# --- escalation ---------------------------------------------------------------------------------------------


def tickets_escalate(*, now: datetime | None = None, batch: int = 200) -> int:
    """Flag every active ticket past a deadline once, and tell its assignee and the team's manager once each.

    Claimed with SELECT … FOR UPDATE SKIP LOCKED in batches (as contacts.services_reminders does): the flags,
    `escalated_at`, the Escalation rows and the bell notices commit together, so a worker killed mid-batch
    leaves the batch to the next run and two workers never take the same ticket. Returns tickets escalated.
    """
    now = now or timezone.now()
    total = 0
    while True:
        claimed = _escalate_batch(now=now, batch=batch)
        total += claimed
        if claimed < batch:
            return total


@transaction.atomic
def _escalate_batch(*, now: datetime, batch: int) -> int:
    late = Q(first_responded_at__isnull=True, first_response_due_at__lt=now) | Q(resolution_due_at__lt=now)
    tickets = list(
        Ticket.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(late, status__in=ACTIVE_STATUSES, escalated_at__isnull=True)
        .select_related("assignee", "team__manager")
        .order_by("pk")[:batch]
    )
    for ticket in tickets:
        first_late = (
            ticket.first_responded_at is None and ticket.first_response_due_at and ticket.first_response_due_at < now
        )
        ticket.first_response_breached = ticket.first_response_breached or bool(first_late)
        ticket.resolution_breached = ticket.resolution_breached or bool(
            ticket.resolution_due_at and ticket.resolution_due_at < now
        )
        ticket.escalated_at = now
        ticket.save(update_fields=["first_response_breached", "resolution_breached", "escalated_at"])
        _escalation_notify(ticket=ticket, now=now)
    return len(tickets)


def _escalation_notify(*, ticket: Ticket, now: datetime) -> None:
    manager = ticket.team.manager if ticket.team else None
    for recipient in {user.pk: user for user in (ticket.assignee, manager) if user is not None}.values():
        if not recipient.is_active:
            continue
        _sid, created = Escalation.objects.get_or_create(
            ticket=ticket, recipient=recipient, defaults={"created_at": now}
        )
        if not created:
            continue
        with translation.override(recipient.language):
            what = (
                _("first answer")
                if ticket.first_response_breached and not ticket.resolution_breached
                else _("resolution")
            )
            notify(
                recipient=recipient,
                kind=NotificationKind.ESCALATION,
                title=_("SLA breached: %(number)s %(subject)s") % {"number": ticket.number, "subject": ticket.subject},
                body=_("The %(what)s deadline has passed; assignee: %(assignee)s.")
                % {"what": what, "assignee": ticket.assignee or _("nobody")},
                url=reverse("service:ticket-detail", args=[ticket.pk]),
                now=now,
            )
