"""`{% activity_actions row section %}`: the in-place action buttons of an activity row (includes/activity_row.html).

Built in Python: as template nodes (four URLs with the section, labels, the CSRF field and the snooze
menu each) the buttons cost half of My day's rendering, ~120 µs a row for ~50 rows. The labels and the
snooze menu are made once per language. Context: user, csrf_token.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext

from contacts.models import Activity, ActivityKind, ActivityStatus, AssignmentState
from contacts.services_activities import Snooze

register = template.Library()
DROPDOWN = ' class="dropdown"'


class _Labels:
    """The buttons' labels in one language, and the snooze menu."""

    def __init__(self) -> None:
        self.accept, self.decline = escape(gettext("Accept")), escape(gettext("Decline"))
        self.done = escape(gettext("Done"))
        self.reschedule, self.put_off = escape(gettext("Reschedule")), escape(gettext("Put off"))
        self.cancel, self.cancel_confirm = escape(gettext("Cancel")), escape(gettext("Cancel this activity?"))
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
    """The buttons of a planned activity: answer (an assignment to the user), done / reschedule / put off
    (the assignee), cancel (the creator); nothing for a closed one or for someone else's."""
    if row.status != ActivityStatus.PLANNED:
        return mark_safe("")
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
    return mark_safe(f'<div class="d-flex flex-wrap gap-1" data-testid="row-actions">{buttons}</div>')  # escaped above
