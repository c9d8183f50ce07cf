"""Marketing tasks: reports. Thin wrappers over marketing.services_reports; ids in, idempotent, late-acked
(a redelivered compute writes the same rows again under the campaign's advisory lock)."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError
from django.utils.translation import gettext as _

__all__ = [
    "attribution_compute_task",
    "campaign_report_compute_task",
    "campaign_reports_nightly_task",
    "conversion_rollup_task",
]


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3, soft_time_limit=600,
             time_limit=660)  # fmt: skip
def campaign_report_compute_task(campaign_id: int, job_id: int | None = None) -> int:
    """Recompute one campaign's report (the page's "Recompute"); finishes its crm.Job when given one."""
    from crm.services import job_fail, job_finish, job_progress
    from marketing.services_reports import campaign_report_compute

    if job_id is not None:
        job_progress(job_id=job_id, progress=0)
    try:
        rows = campaign_report_compute(campaign_id=campaign_id)
    except Exception:
        if job_id is not None:
            job_fail(job_id=job_id, message=_("The report could not be computed. Please try again."))
        raise
    if job_id is not None:
        job_finish(job_id=job_id, message=_("The report is up to date."))
    return rows


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3, soft_time_limit=3 * 3600,
             time_limit=3 * 3600 + 300)  # fmt: skip
def campaign_reports_nightly_task() -> int:
    """Recompute the running and recently finished campaigns (beat "marketing-reports", nightly, Europe/Kyiv)."""
    from marketing.services_reports import campaign_reports_compute_all

    return campaign_reports_compute_all()


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3, soft_time_limit=3600,
             time_limit=3900)  # fmt: skip
def attribution_compute_task() -> int:
    """Recompute every attribution (beat "marketing-attribution", nightly before the reports); a rerun replaces
    the rows, so a redelivered task is harmless."""
    from marketing.services_attribution import attribution_compute

    return attribution_compute()


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3, soft_time_limit=1800,
             time_limit=2000)  # fmt: skip
def conversion_rollup_task() -> int:
    """Recompute the lead-conversion rollup (beat "marketing-conversion", hourly); a rerun replaces the rows."""
    from marketing.services_conversion import conversion_rollup_compute

    return conversion_rollup_compute()
