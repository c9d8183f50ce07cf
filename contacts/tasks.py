"""Celery tasks of the contacts app: thin wrappers that load by id and call one service.

CELERY_TASK_ACKS_LATE is on: a task may run twice, so each one checks the job's state first.
"""

from __future__ import annotations

from celery import shared_task

from contacts import exports
from contacts.tasks_import import contacts_import_task  # autodiscovery only reads contacts.tasks

__all__ = ["company_export_task", "contacts_import_task", "person_export_task"]


@shared_task
def company_export_task(job_id: int) -> bool:
    """Export a filtered company list (a crm.Job of kind company_export); safe to run twice."""
    return exports.list_export_run(job_id=job_id)


@shared_task
def person_export_task(job_id: int) -> bool:
    """Export a filtered person list (a crm.Job of kind person_export); safe to run twice."""
    return exports.list_export_run(job_id=job_id)
