"""Marketing tasks: the e-mail send of a campaign (marketing.services_send)."""

from celery import shared_task

from marketing import services_send

IDLE_COUNTDOWN = 60  # seconds before the next run when this one could send nobody (others hold them, deferred)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, retry_backoff_max=600, max_retries=10)
def campaign_send_task(campaign_id: int) -> int:
    """One time slice of the send; queues itself again while planned members are left. Returns how many
    were sent. SMTP and connection errors (OSError) are retried with backoff."""
    run = services_send.campaign_send(campaign_id=campaign_id)
    if run.more:
        progressed = run.sent + run.skipped + run.bounced
        campaign_send_task.apply_async((campaign_id,), countdown=0 if progressed else IDLE_COUNTDOWN)
    return run.sent


@shared_task
def campaign_sends_resume_task() -> int:
    """Beat: queue again the sends whose worker died or whose task was lost (no lease in the cache)."""
    ids = services_send.campaign_sends_resume()
    for campaign_id in ids:
        campaign_send_task.delay(campaign_id)
    return len(ids)


__all__ = ["campaign_send_task", "campaign_sends_resume_task"]
