"""Celery task of the contacts import; contacts/tasks.py imports it so that autodiscovery registers it."""

from celery import shared_task

from contacts import imports


@shared_task(acks_late=True)
def contacts_import_task(job_id: int) -> None:
    """Dry run or import of one uploaded file, by the job's stage; idempotent (see imports.import_run)."""
    imports.import_run(job_id=job_id)
