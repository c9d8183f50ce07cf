"""Reads of a campaign's send: the progress the campaign page polls."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Count
from django.shortcuts import get_object_or_404
from django.urls import reverse

from marketing.models import Campaign, CampaignChannel, CampaignMember, MemberStatus, SendStatus

if TYPE_CHECKING:
    from crm.models import User


@dataclass
class StatusCount:
    status: str
    label: str
    count: int


@dataclass
class SendProgress:
    campaign: Campaign
    percent: int
    is_running: bool
    can_launch: bool
    launch_url: str
    progress_url: str
    counts: list[StatusCount] = field(default_factory=list)


def campaign_send_progress(*, user: User, campaign_id: int) -> SendProgress:
    """The send panel of a campaign the user sees (404 otherwise): done / total, percent, and the members
    counted by status (one grouped query on marketing_member_status_idx, over that campaign's members)."""
    campaign = get_object_or_404(Campaign.objects.visible_to(user), pk=campaign_id)
    by_status = dict(
        CampaignMember.objects.filter(campaign=campaign).values_list("status").annotate(n=Count("id")).order_by()
    )
    counts = [
        StatusCount(status=status.value, label=str(status.label), count=by_status[status.value])
        for status in MemberStatus
        if by_status.get(status.value)
    ]
    percent = min(100, campaign.send_done * 100 // campaign.send_total) if campaign.send_total else 0
    return SendProgress(
        campaign=campaign,
        percent=100 if campaign.send_status == SendStatus.DONE else percent,
        is_running=campaign.send_status in (SendStatus.QUEUED, SendStatus.SENDING),
        can_launch=campaign.send_status == SendStatus.NOT_STARTED
        and campaign.channel == CampaignChannel.EMAIL
        and user.has_perm("marketing.change_campaign"),
        launch_url=reverse("marketing:campaign-launch", args=[campaign.pk]),
        progress_url=reverse("marketing:campaign-send-progress", args=[campaign.pk]),
        counts=counts,
    )


def unsubscribe_member(member_id: int) -> CampaignMember | None:
    """The member an unsubscribe link names (for the public page, no user), or None."""
    return CampaignMember.objects.select_related("campaign").filter(pk=member_id).first()
