"""Extension points that higher apps (deals, service, marketing, analytics) fill in AppConfig.ready().

contacts imports nothing above it: a higher app registers a card tab (a partial rendered by its
own view), a merge handler (moves its rows from the duplicate to the surviving company) and a
work-plan metric (actual values of a plan, e.g. the won deals amount).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils.functional import Promise

if TYPE_CHECKING:
    from datetime import datetime
    from decimal import Decimal

    from contacts.models import Company
    from crm.models import User


@dataclass(frozen=True)
class CardTab:
    key: str
    label: str | Promise
    # URL name of a view taking the company (or person) pk; it returns the tab's partial.
    url_name: str
    order: int = 100
    for_person: bool = False

    def url(self, pk: int) -> str:
        return reverse(self.url_name, args=[pk])


_tabs: dict[str, CardTab] = {}
MergeHandler = Callable[["Company", "Company", "User"], None]
_merge_handlers: list[MergeHandler] = []


def register_tab(tab: CardTab) -> None:
    _tabs[tab.key] = tab


def tabs(*, for_person: bool = False) -> list[CardTab]:
    return sorted((t for t in _tabs.values() if t.for_person == for_person), key=lambda t: t.order)


def register_merge_handler(handler: MergeHandler) -> None:
    """`handler(duplicate, survivor, actor)` re-points the app's rows; it runs inside the merge transaction."""
    _merge_handlers.append(handler)


def merge_handlers() -> list[MergeHandler]:
    return list(_merge_handlers)


# --- Work plans: actual values that a higher app computes (the deals app: "won_amount") -------------

# `fn(users, start, end)` -> {user_id: amount} for the half-open period [start, end) (aware datetimes).
PlanMetric = Callable[[Sequence["User"], "datetime", "datetime"], "dict[int, Decimal]"]
_plan_metrics: dict[str, PlanMetric] = {}


def register_plan_metric(key: str, fn: PlanMetric) -> None:
    """A provider of one plan metric's actual values, e.g. `register_plan_metric("won_amount", fn)`.

    `fn` must run a constant number of queries for all `users` together (the team plan page calls it
    once for the whole team); a user missing from its result counts as zero.
    """
    _plan_metrics[key] = fn


def plan_metric(key: str) -> PlanMetric | None:
    return _plan_metrics.get(key)


def unregister_plan_metric(key: str) -> None:
    """For tests: forget a provider."""
    _plan_metrics.pop(key, None)
