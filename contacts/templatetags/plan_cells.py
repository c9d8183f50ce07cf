"""`{% plan_cells row.metrics %}`: the metric cells of a plan table row (team plans, past periods), and
`{% plan_team_row row %}`: a whole row of the team plan table.

Built in Python: a team of 70 has 420 cells, and as template nodes (two includes, a filter and four
lookups each) they cost more than the rest of the page together; the row's own ~15 nodes cost ~4 ms more.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from django import template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext

from contacts.selectors_plans import MetricProgress, PlanProgress
from crm.lib.html import escape

register = template.Library()


def _cell(metric: MetricProgress) -> str:
    # The texts are numbers written by NumberText (digits, separators, "—") and the key is one of METRICS:
    # nothing to escape.
    behind = "text-danger fw-semibold" if metric.is_behind else ""
    percent = "" if metric.percent is None else f'<div class="small text-body-secondary">{metric.percent}%</div>'
    return (
        f'<td class="text-end text-nowrap" data-metric="{metric.key}">'
        f'<span class="{behind}">{metric.actual_text}</span>'
        f' <span class="text-body-secondary">/ {metric.plan_text}</span>{percent}</td>'
    )


@register.simple_tag
def plan_cells(metrics: Iterable[MetricProgress]) -> SafeString:
    return mark_safe("".join(_cell(metric) for metric in metrics))  # numbers only, see _cell


@cache
def _labels(language: str) -> tuple[str, str, str, str]:
    # Once per language and process: the same four labels on every row.
    past, edit = escape(gettext("Past periods")), escape(gettext("Set the plan"))
    return past, edit, escape(gettext("Behind")), escape(gettext("no plan"))


@register.simple_tag
def plan_team_row(row: PlanProgress) -> SafeString:
    """The team table's row: the name with its badges, the metric cells and the links (as plan_team.html wrote them)."""
    past, edit, behind, no_plan = _labels(get_language())
    ref = str(row.user.pk)
    attrs = ' class="table-warning" data-behind="true"' if row.is_behind else ""
    badges = f' <span class="badge text-bg-warning">{behind}</span>' if row.is_behind else ""
    if not row.has_plan:
        badges += f' <span class="badge text-bg-light border">{no_plan}</span>'
    edit_link = (
        f'<a class="btn btn-sm btn-link" href="{escape(row.edit_url)}" data-testid="plan-edit" title="{edit}">'
        f'<i class="bi bi-pencil"></i><span class="visually-hidden">{edit}</span></a>'
        if row.can_edit
        else ""
    )
    html = (
        f'<tr{attrs} data-user="{ref}"><th scope="row" class="fw-normal">{escape(str(row.user))}{badges}</th>'
        f"{plan_cells(row.metrics)}"
        f'<td class="text-end text-nowrap"><a class="btn btn-sm btn-link" href="{escape(row.history_url)}"'
        f' title="{past}"><i class="bi bi-clock-history"></i><span class="visually-hidden">{past}</span></a>'
        f"{edit_link}</td></tr>"
    )
    return mark_safe(html)  # the name and the URLs escaped above, labels escaped in _labels
