"""Marketing tasks: campaigns (members from the target groups, call results)."""

from __future__ import annotations

from celery import shared_task

from crm.models import User
from marketing.models import Campaign, CampaignChannel, CampaignStatus

__all__ = ["campaign_call_results_sync_task", "campaign_members_add_task"]


@shared_task(time_limit=1800, soft_time_limit=1700)
def campaign_members_add_task(campaign_id: int, actor_id: int | None = None) -> int:
    """Add the campaign's target groups' people; safe to run twice (ON CONFLICT DO NOTHING)."""
    from marketing.services_campaigns import campaign_members_add

    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None:
        return 0
    actor = User.objects.filter(pk=actor_id, is_active=True).first() if actor_id else None
    return campaign_members_add(campaign=campaign, actor=actor, notify=actor is not None)


@shared_task
def campaign_call_results_sync_task() -> int:
    """Running phone campaigns: members whose call is done become "responded" (idempotent UPDATE)."""
    from marketing.services_campaigns import campaign_call_results_sync

    campaigns = Campaign.objects.filter(channel=CampaignChannel.CALLS, status=CampaignStatus.RUNNING)
    return sum(campaign_call_results_sync(campaign=campaign) for campaign in campaigns.only("id"))
