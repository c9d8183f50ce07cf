"""`{% plan_cells row.metrics %}`: the metric cells of a plan table row (team plans, past periods).

Built in Python: a team of 70 has 420 cells, and as template nodes (two includes, a filter and four
lookups each) they cost more than the rest of the page together.
"""

from __future__ import annotations

from collections.abc import Iterable

from django import template
from django.utils.safestring import SafeString, mark_safe

from contacts.selectors_plans import MetricProgress

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
