"""Celery tasks of the service desk: thin wrappers over the services; ids in, idempotent, late-acked."""

from celery import shared_task

from service import services


@shared_task
def tickets_escalate_task() -> int:
    return services.tickets_escalate()


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=8)
def reply_send_task(message_id: int) -> bool:
    from service import mail

    return mail.reply_send(message_id=message_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=8)
def rating_request_send_task(ticket_id: int) -> bool:
    from service import mail

    return mail.rating_request_send(ticket_id=ticket_id)


@shared_task
def mailbox_fetch_task() -> int:
    from service import mail

    return mail.mailbox_fetch()


@shared_task
def rollups_compute_task(day: str | None = None) -> int:
    from service import reports

    return reports.rollups_compute(day=day)
