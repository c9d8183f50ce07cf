"""Celery tasks of the sales app: thin wrappers that call one service (CELERY_BEAT_SCHEDULE in crm/settings.py).

CELERY_TASK_ACKS_LATE is on: a task may run twice, so each service claims its rows (SKIP LOCKED or a
marker column) and a second run does nothing.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import OperationalError

BEAT_TASK_OPTIONS: dict[str, Any] = {
    "autoretry_for": (OperationalError, OSError),
    "retry_backoff": True,
    "retry_backoff_max": 60,
    "max_retries": 5,
}


# --- contracts (orders agent) -------------------------------------------------------------------------------


@shared_task(**BEAT_TASK_OPTIONS, soft_time_limit=10 * 60, time_limit=12 * 60)
def contracts_notify_expiring_task() -> int:
    """Daily: tell owners about active contracts ending within 30 days, once per contract."""
    from deals.services_contracts import contracts_notify_expiring

    return contracts_notify_expiring()
