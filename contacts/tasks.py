"""Celery tasks of the contacts app: thin wrappers that load by id and call one service.

CELERY_TASK_ACKS_LATE is on: a task may run twice, so each one checks the job's state first.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import OperationalError

from contacts import exports, services_reminders
from contacts.tasks_import import contacts_import_task  # autodiscovery only reads contacts.tasks

__all__ = [
    "assignments_notify_overdue_task",
    "birthdays_notify_task",
    "company_export_task",
    "contacts_import_task",
    "person_export_task",
    "reminders_send_due_task",
]


@shared_task
def company_export_task(job_id: int) -> bool:
    """Export a filtered company list (a crm.Job of kind company_export); safe to run twice."""
    return exports.list_export_run(job_id=job_id)


@shared_task
def person_export_task(job_id: int) -> bool:
    """Export a filtered person list (a crm.Job of kind person_export); safe to run twice."""
    return exports.list_export_run(job_id=job_id)


# Beat tasks of the activities issue (CELERY_BEAT_SCHEDULE in crm/settings.py). Each service claims
# rows with SKIP LOCKED or a unique key, so a redelivered or parallel run never notifies twice.
# A lost database connection or a broker hiccup is retried with backoff.
BEAT_TASK_OPTIONS: dict[str, Any] = {
    "autoretry_for": (OperationalError, OSError),
    "retry_backoff": True,
    "retry_backoff_max": 60,
    "max_retries": 5,
}


@shared_task(**BEAT_TASK_OPTIONS, soft_time_limit=240, time_limit=300)
def reminders_send_due_task(batch: int = 200) -> int:
    return services_reminders.reminders_send_due(batch=batch)


@shared_task(**BEAT_TASK_OPTIONS, soft_time_limit=240, time_limit=300)
def assignments_notify_overdue_task() -> int:
    return services_reminders.assignments_notify_overdue()


@shared_task(**BEAT_TASK_OPTIONS, soft_time_limit=50 * 60, time_limit=55 * 60)
def birthdays_notify_task() -> int:
    return services_reminders.birthdays_notify()
