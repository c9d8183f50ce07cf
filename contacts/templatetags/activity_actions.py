"""`{% activity_row row section %}`: an activity as a list row (includes/activity_row.html#activity-row), and
`{% activity_actions row section %}`: its in-place action buttons.

Built in Python: as template nodes (~20 lookups and tags a row, four URLs with the section, labels, the CSRF
field and the snooze menu) a row cost ~250 µs, and My day shows ~50 rows. The labels and the snooze menu are
made once per language. `row` is an Activity or a selectors_activities.ActivityRow, decorated by
selectors_activities.decorate (its URLs, time and icon). Context: user, csrf_token.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext, ngettext

from contacts.models import Activity, ActivityKind, ActivityStatus, AssignmentState, Priority
from contacts.services_activities import Snooze
from crm.lib.html import escape
from crm.templatetags.crm_urls import pk_url

register = template.Library()


DROPDOWN = ' class="dropdown"'


class _Labels:
    """The buttons' labels in one language, and the snooze menu."""

    def __init__(self) -> None:
        self.accept, self.decline = escape(gettext("Accept")), escape(gettext("Decline"))
        self.done = escape(gettext("Done"))
        self.reschedule, self.put_off = escape(gettext("Reschedule")), escape(gettext("Put off"))
        self.cancel, self.cancel_confirm = escape(gettext("Cancel")), escape(gettext("Cancel this activity?"))
        self.high = escape(gettext("high priority"))
        self.overdue = escape(gettext("overdue"))
        self.assignee = escape(gettext("Assignee"))
        self.comment, self.result = escape(gettext("Comment")), escape(gettext("Result"))
        self.kinds = {value: escape(label) for value, label in ActivityKind.choices}
        self.statuses = {value: escape(label) for value, label in ActivityStatus.choices}
        self.states = {value: escape(label) for value, label in AssignmentState.choices}
        self.snooze_menu = "".join(
            f'<li><button class="dropdown-item" type="submit" name="by" value="{escape(value)}"'
            f' data-testid="snooze-{escape(value)}">{escape(label)}</button></li>'
            for value, label in Snooze.choices
        )


@cache
def _labels(language: str) -> _Labels:
    # Per language, once per process: each row is rendered as its own template (a fresh render context).
    return _Labels()


def _csrf(context: template.Context) -> str:
    """The CSRF field as {% csrf_token %} writes it."""
    token = context.get("csrf_token")
    if not token or token == "NOTPROVIDED":
        return ""
    return f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(token)}">'


def _form(csrf: str, url: str, ref: str, section: str, extra: str = "") -> str:
    return (
        f'<form method="post" action="{url}" hx-post="{url}" hx-target="#activity-{ref}" hx-swap="outerHTML"{extra}>'
        f'{csrf}<input type="hidden" name="section" value="{section}">'
    )


def _link(url: str, ref: str, section: str) -> str:
    return f'href="{url}?section={section}" hx-get="{url}?section={section}" hx-target="#activity-{ref}-slot"'


@register.simple_tag(takes_context=True)
def activity_actions(context: template.Context, row: Activity, section: Any) -> SafeString:
    return mark_safe(_actions(context, row, section))  # escaped in _actions


def _actions(context: template.Context, row: Activity, section: Any) -> str:
    """The buttons of a planned activity: answer (an assignment to the user), done / reschedule / put off
    (the assignee), cancel (the creator); nothing for a closed one or for someone else's."""
    if row.status != ActivityStatus.PLANNED:
        return ""
    kit, csrf, user_pk = _labels(get_language()), _csrf(context), context["user"].pk
    ref, section = row.ref, escape(section or "")  # type: ignore[attr-defined]  # decorate() sets ref and the URLs
    if (
        row.assignee_id == user_pk
        and row.kind == ActivityKind.ASSIGNMENT
        and row.assignment_state == AssignmentState.PENDING
    ):
        buttons = (
            f"{_form(csrf, row.accept_url, ref, section)}"  # type: ignore[attr-defined]
            f'<button type="submit" class="btn btn-sm btn-success" data-testid="accept"><i class="bi bi-check2"></i>'
            f" {kit.accept}</button></form>"
            f'<a class="btn btn-sm btn-outline-danger" {_link(row.decline_url, ref, section)} data-testid="decline">'  # type: ignore[attr-defined]
            f'<i class="bi bi-x-lg"></i> {kit.decline}</a>'
        )
    elif row.assignee_id == user_pk:
        buttons = (
            f'<a class="btn btn-sm btn-outline-success" {_link(row.complete_url, ref, section)} data-testid="complete">'  # type: ignore[attr-defined]
            f'<i class="bi bi-check2-circle"></i> {kit.done}</a>'
            f'<a class="btn btn-sm btn-outline-secondary" {_link(row.reschedule_url, ref, section)}'  # type: ignore[attr-defined]
            f' data-testid="reschedule" title="{kit.reschedule}"><i class="bi bi-calendar-event"></i>'
            f'<span class="visually-hidden"> {kit.reschedule}</span></a>'
            f"{_form(csrf, row.snooze_url, ref, section, extra=DROPDOWN)}"  # type: ignore[attr-defined]
            f'<button class="btn btn-sm btn-outline-secondary dropdown-toggle" type="button" data-bs-toggle="dropdown"'
            f' aria-expanded="false" data-testid="snooze" title="{kit.put_off}"><i class="bi bi-alarm"></i>'
            f'<span class="visually-hidden"> {kit.put_off}</span></button>'
            f'<ul class="dropdown-menu dropdown-menu-end">{kit.snooze_menu}</ul></form>'
        )
    elif row.created_by_id == user_pk:
        confirm = f' hx-confirm="{kit.cancel_confirm}"'
        buttons = (
            f"{_form(csrf, row.cancel_url, ref, section, extra=confirm)}"  # type: ignore[attr-defined]
            f'<button type="submit" class="btn btn-sm btn-outline-danger" data-testid="cancel">'
            f'<i class="bi bi-x-circle"></i> {kit.cancel}</button></form>'
        )
    else:
        buttons = ""
    return f'<div class="d-flex flex-wrap gap-1" data-testid="row-actions">{buttons}</div>'


def _name(value: Any) -> str:
    # A model instance (Activity's relations) or its name as a string (ActivityRow).
    return escape(str(value))


@register.simple_tag(takes_context=True)
def activity_row(context: template.Context, row: Activity, section: Any) -> SafeString:
    """The whole row: icon, subject and time, kind, badges, company, person, who assigned it, the answer or
    result, and the buttons (as the template it replaced wrote them)."""
    kit, user_pk = _labels(get_language()), context["user"].pk
    ref, status, planned = row.ref, row.status, row.status == ActivityStatus.PLANNED  # type: ignore[attr-defined]
    badges = [f"<span>{kit.kinds.get(row.kind, escape(row.kind))}</span>"]
    if row.priority == Priority.HIGH:
        badges.append(f'<span class="badge text-bg-danger">{kit.high}</span>')
    if row.is_overdue:
        badges.append(f'<span class="badge text-bg-warning" data-testid="overdue">{kit.overdue}</span>')
    if not planned:
        label = kit.statuses.get(status, escape(status))
        badges.append(f'<span class="badge text-bg-secondary" data-testid="activity-status">{label}</span>')
    if row.assignment_state:
        label = kit.states.get(row.assignment_state, escape(row.assignment_state))
        badges.append(f'<span class="badge text-bg-info" data-testid="assignment-state">{label}</span>')
    if row.company_id:
        badges.append(
            f'<span>· <i class="bi bi-building" aria-hidden="true"></i>'
            f' <a href="{row.company_url}">{_name(row.company)}</a></span>'  # type: ignore[attr-defined]
        )
    if row.person_id:
        badges.append(
            f'<span>· <i class="bi bi-person" aria-hidden="true"></i>'
            f' <a href="{row.person_url}">{_name(row.person)}</a></span>'  # type: ignore[attr-defined]
        )
    if row.assignee_id != user_pk:
        badges.append(
            f'<span>· <span class="visually-hidden">{kit.assignee}:</span>'
            f'<i class="bi bi-person-badge" aria-hidden="true"></i> {_name(row.assignee)}</span>'
        )
    elif row.created_by_id != user_pk:
        badges.append(f"<span>· {escape(gettext('from %(creator)s') % {'creator': row.created_by})}</span>")
    if row.response:
        note = (
            f'<div class="small text-break" data-testid="assignment-response">'
            f'<span class="text-body-secondary">{kit.comment}:</span> {escape(row.response)}</div>'
        )
    elif row.result:
        note = (
            f'<div class="small text-break"><span class="text-body-secondary">{kit.result}:</span>'
            f" {escape(row.result)}</div>"
        )
    else:
        note = ""
    colour = "text-primary" if planned else "text-body-secondary"
    struck = " text-decoration-line-through" if status == ActivityStatus.CANCELLED else ""
    html = (
        f'<div class="list-group-item" id="activity-{ref}" data-testid="activity-row" data-activity="{ref}"'
        f' data-section="{escape(section or "")}"><div class="d-flex flex-wrap gap-2 align-items-start">'
        f'<i class="bi bi-{row.icon} fs-5 {colour}" aria-hidden="true"></i>'  # type: ignore[attr-defined]
        f'<div class="flex-grow-1 min-w-0"><div class="d-flex flex-wrap justify-content-between gap-2">'
        f'<a class="fw-semibold text-break text-decoration-none{struck}" href="{row.url}"'  # type: ignore[attr-defined]
        f' data-testid="activity-subject">{escape(row.subject)}</a>'
        f'<small class="text-body-secondary text-nowrap"><time datetime="{row.when_iso}"'  # type: ignore[attr-defined]
        f' data-testid="activity-time">{row.when}</time></small></div>'  # type: ignore[attr-defined]
        f'<div class="small text-body-secondary d-flex flex-wrap gap-1 align-items-center">{" ".join(badges)}</div>'
        f"{note}</div>{_actions(context, row, section)}</div>"
        f'<div id="activity-{ref}-slot"></div></div>'
    )
    return mark_safe(html)  # every text escaped above; URLs, icon and time are built by decorate()


@cache
def _birthday_labels(language: str) -> tuple[str, str]:
    return escape(gettext("Planned")), escape(gettext("Congratulate"))


@register.simple_tag(takes_context=True)
def birthday_item(context: template.Context, person: Any, planned: Activity | None = None) -> SafeString:
    """A birthday of today on My day: the person, the company, the age, and "Congratulate" (a form) or the
    planned congratulation (as the my_day.html#birthday partial wrote it; ~20 of them on a busy day)."""
    planned_label, congratulate = _birthday_labels(get_language())
    ref = str(person.pk)
    name = f'<a href="{pk_url("contacts:person-detail", person.pk)}">{escape(str(person))}</a>'
    company = person.company
    if company:
        name += f'<div class="small text-body-secondary">{escape(str(company))}</div>'
    turns = getattr(person, "turns", None)
    if turns:
        age = escape(ngettext("turns %(age)s", "turns %(age)s", turns) % {"age": turns})
        name += f'<div class="small" data-testid="age">{age}</div>'
    if planned:
        action = (
            f'<a class="btn btn-sm btn-outline-success" href="{pk_url("contacts:activity-detail", planned.pk)}"'
            f' data-testid="congratulation-planned"><i class="bi bi-check2"></i> {planned_label}</a>'
        )
    else:
        url = pk_url("contacts:person-congratulate", person.pk)
        action = (
            f'<form method="post" action="{url}" hx-post="{url}" hx-target="#birthday-{ref}" hx-swap="outerHTML">'
            f'{_csrf(context)}<button type="submit" class="btn btn-sm btn-outline-primary" data-testid="congratulate">'
            f'<i class="bi bi-gift"></i> {congratulate}</button></form>'
        )
    return mark_safe(  # the names escaped above, the URLs built from ids, the labels escaped in _birthday_labels
        f'<li class="list-group-item px-0" id="birthday-{ref}" data-testid="birthday">'
        f'<div class="d-flex justify-content-between gap-2 align-items-start"><div>{name}</div>{action}</div></li>'
    )
