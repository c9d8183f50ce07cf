"""Marketing tasks: segments. Thin: load by id, call one service; safe to run twice (acks_late)."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from marketing import exports, services_segments

__all__ = ["segment_count_task", "segment_export_task"]

RETRY = {"autoretry_for": (OperationalError,), "retry_backoff": True, "retry_backoff_max": 60, "max_retries": 5}


@shared_task(**RETRY, soft_time_limit=10 * 60, time_limit=11 * 60)
def segment_count_task(segment_id: int) -> int | None:
    """Count a target group and store member_count + counted_at; a second run just counts again."""
    return services_segments.segment_count_store(segment_id=segment_id)


@shared_task(soft_time_limit=25 * 60, time_limit=30 * 60)
def segment_export_task(job_id: int) -> bool:
    """Export a target group's people (a crm.Job of kind segment_export); a finished job is left alone."""
    return exports.segment_export_run(job_id=job_id)
