"""Namespaces of the cached aggregates of sales (crm.lib.cached) and the signals that invalidate them.

The services bump on every write; these receivers are the safety net for writes that bypass them (the
admin, a shell, another app calling `save()`). `QuerySet.update()` / `bulk_create()` send no signal, so
code using them bumps itself.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from crm.lib.cached import bump

DEALS = "deals"  # the board's column totals
ORDERS = "orders"  # the order list's counts per status


def _bump_deals(sender: type, **kwargs: Any) -> None:
    bump(DEALS)


def _bump_orders(sender: type, **kwargs: Any) -> None:
    bump(ORDERS)


def connect() -> None:
    from deals.models import Deal, DealLine, Order, OrderLine

    for model in (Deal, DealLine):
        post_save.connect(_bump_deals, sender=model, dispatch_uid=f"aggregates-{model.__name__}-save")
        post_delete.connect(_bump_deals, sender=model, dispatch_uid=f"aggregates-{model.__name__}-delete")
    for model in (Order, OrderLine):
        post_save.connect(_bump_orders, sender=model, dispatch_uid=f"aggregates-{model.__name__}-save")
        post_delete.connect(_bump_orders, sender=model, dispatch_uid=f"aggregates-{model.__name__}-delete")
