from celery import shared_task

from crm import services


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notification_email_task(notification_id: int) -> bool:
    return services.notification_send_email(notification_id=notification_id)


@shared_task
def ping() -> str:
    """Round-trip probe for the worker test and for operators."""
    return "pong"
