"""Reads of campaigns: the list (keyset pages), the campaign page (costs, member counts, members, calls),
its field history, and the member a preview is personalised for."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import DatabaseError, connection, transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _

from contacts.models import ActivityStatus
from crm.history import ChangeEntry, history_entries, latest_records, load_names
from crm.models import Team, User
from deals.formatting import Money, day
from deals.models import Product
from marketing.forms_campaigns import CampaignFilter
from marketing.models import Campaign, CampaignChannel, CampaignMember, CampaignReport, MemberStatus
from marketing.personalise import member_context, personalise, personalise_html

PAGE_SIZE = 25
MEMBER_PAGE = 50
COSTS_SHOWN = 50
CHANGES_LIMIT = 50
# The live GROUP BY of a campaign's members reads marketing_member_status_idx (campaign, status, id) only;
# if a huge campaign takes longer than this, the page shows the stored report's counts instead.
COUNTS_TIMEOUT_MS = 1500


@dataclass(frozen=True)
class CampaignRow:
    pk: int
    name: str
    url: str
    status: str
    status_label: str
    channel_label: str
    period: str
    budget: str
    actual_cost: str
    owner: str


@dataclass
class CampaignPage:
    rows: list[CampaignRow]
    next_cursor: str
    is_first: bool


def _period(campaign: Campaign) -> str:
    start, end = day(campaign.starts_on), day(campaign.ends_on)
    return f"{start} – {end}" if end else start


def campaign_page(*, filterset: CampaignFilter, cursor: str | None = None, limit: int = PAGE_SIZE) -> CampaignPage:
    """Campaigns newest first by start (undated ones first, as the DESC index keeps NULLs first), then id.

    Keyset: the cursor is "<start ISO or empty>|<id>". One query (marketing_campaign_start_idx and the
    per-filter indexes), no COUNT."""
    qs = filterset.qs.select_related("owner").only(
        "name", "status", "channel", "starts_on", "ends_on", "budget", "actual_cost",
        "owner__full_name", "owner__email",
    )  # fmt: skip
    qs = _after(qs, cursor).order_by("-starts_on", "-id")
    campaigns = list(qs[: limit + 1])
    next_cursor = ""
    if len(campaigns) > limit:
        last = campaigns[limit - 1]
        next_cursor = f"{last.starts_on.isoformat() if last.starts_on else ''}|{last.pk}"
    money = Money()
    rows = [
        CampaignRow(
            pk=c.pk,
            name=c.name,
            url=reverse("marketing:campaign-detail", args=[c.pk]),
            status=c.status,
            status_label=c.get_status_display(),
            channel_label=c.get_channel_display(),
            period=_period(c),
            budget=money(c.budget),
            actual_cost=money(c.actual_cost),
            owner=str(c.owner),
        )
        for c in campaigns[:limit]
    ]
    return CampaignPage(rows=rows, next_cursor=next_cursor, is_first=not cursor)


def _after(qs: QuerySet[Campaign], cursor: str | None) -> QuerySet[Campaign]:
    if not cursor or "|" not in cursor:
        return qs
    start_text, _sep, pk_text = cursor.partition("|")
    if not pk_text.isdigit():
        return qs
    pk = int(pk_text)
    if not start_text:  # still among the undated campaigns (first in DESC order)
        return qs.filter(Q(starts_on__isnull=True, id__lt=pk) | Q(starts_on__isnull=False))
    start = parse_date(start_text)
    if start is None:
        return qs
    return qs.filter(Q(starts_on__lt=start) | Q(starts_on=start, id__lt=pk))


def campaign_get(*, user: User, pk: int) -> Campaign:
    """A campaign the user sees (Http404 otherwise), with its responsible, team and e-mail product."""
    return get_object_or_404(Campaign.objects.visible_to(user).select_related("owner", "team", "email_product"), pk=pk)


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str
    count: int


@dataclass
class MemberCounts:
    rows: list[StatusCount]
    total: int
    from_report_at: datetime | None = None  # set when the counts are the stored report's


def member_counts(*, campaign: Campaign) -> MemberCounts:
    """Members by status: one GROUP BY over the campaign's members (an index-only scan of
    marketing_member_status_idx), under a statement timeout; past it, the stored report's counts."""
    counts: dict[str, int] = {}
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL statement_timeout = {COUNTS_TIMEOUT_MS}")
            counts = dict(
                CampaignMember.objects.filter(campaign=campaign)
                .values_list("status")
                .annotate(n=Count("id"))
                .order_by()
                .values_list("status", "n")
            )
    except DatabaseError:
        return _report_counts(campaign)
    rows = [StatusCount(s.value, s.label, counts[s.value]) for s in MemberStatus if counts.get(s.value)]
    return MemberCounts(rows=rows, total=sum(counts.values()))


def _report_counts(campaign: Campaign) -> MemberCounts:
    figures = CampaignReport.objects.filter(campaign=campaign, product__isnull=True).aggregate(
        members=Sum("members"), sent=Sum("sent"), delivered=Sum("delivered"), opened=Sum("opened"),
        clicked=Sum("clicked"), responded=Sum("responded"), unsubscribed=Sum("unsubscribed"), bounced=Sum("bounced"),
    )  # fmt: skip
    labels = dict(MemberStatus.choices)
    rows = [StatusCount(key, labels[key], value) for key, value in figures.items() if key != "members" and value]
    return MemberCounts(rows=rows, total=figures["members"] or 0, from_report_at=campaign.report_computed_at)


@dataclass(frozen=True)
class MemberRow:
    pk: int
    name: str
    person_url: str
    company: str
    company_url: str
    email: str
    region: str
    status: str
    status_label: str
    caller: str
    call_status: str
    call_result: str
    call_url: str


@dataclass
class MemberPage:
    rows: list[MemberRow]
    next_cursor: str
    is_first: bool


def member_page(
    *, campaign: Campaign, status: str = "", cursor: str | None = None, limit: int = MEMBER_PAGE
) -> MemberPage:
    """The campaign's members in id order, optionally of one status; keyset by id (cursor = last id).

    One query (marketing_member_status_idx / marketing_member_planned_idx), with people, companies and
    the call of a phone campaign joined."""
    qs = CampaignMember.objects.filter(campaign=campaign)
    if status in MemberStatus.values:
        qs = qs.filter(status=status)
    if cursor and cursor.isdigit():
        qs = qs.filter(id__gt=int(cursor))
    qs = qs.select_related("person", "company", "activity__assignee").only(
        "email", "region", "status", "person__first_name", "person__last_name", "person__patronymic",
        "company__name", "company__short_name", "activity__status", "activity__result",
        "activity__assignee__full_name", "activity__assignee__email",
    )  # fmt: skip
    members = list(qs.order_by("id")[: limit + 1])
    statuses = dict(MemberStatus.choices)
    call_statuses = dict(ActivityStatus.choices)
    rows = []
    for m in members[:limit]:
        activity = m.activity
        rows.append(
            MemberRow(
                pk=m.pk,
                name=str(m.person) if m.person_id else "",
                person_url=reverse("contacts:person-detail", args=[m.person_id]) if m.person_id else "",
                company=str(m.company) if m.company_id else "",
                company_url=reverse("contacts:company-detail", args=[m.company_id]) if m.company_id else "",
                email=m.email,
                region=m.get_region_display() if m.region else "",
                status=m.status,
                status_label=str(statuses.get(m.status, m.status)),
                caller=str(activity.assignee) if activity else "",
                call_status=str(call_statuses.get(activity.status, "")) if activity else "",
                call_result=activity.result if activity else "",
                call_url=reverse("contacts:activity-detail", args=[activity.pk]) if activity else "",
            )
        )
    next_cursor = str(members[limit - 1].pk) if len(members) > limit else ""
    return MemberPage(rows=rows, next_cursor=next_cursor, is_first=not cursor)


@dataclass
class CallSummary:
    planned: int = 0
    done: int = 0
    cancelled: int = 0
    without_call: int = 0
    by_caller: list[tuple[str, int, int]] = field(default_factory=list)  # (caller, planned, done)


def call_summary(*, campaign: Campaign) -> CallSummary | None:
    """The call list of a phone campaign: calls by state and by caller (two grouped queries)."""
    if campaign.channel != CampaignChannel.CALLS:
        return None
    members = CampaignMember.objects.filter(campaign=campaign)
    summary = CallSummary(without_call=members.filter(activity__isnull=True).count())
    per_caller: dict[int, list] = {}
    rows = (
        members.filter(activity__isnull=False)
        .values_list("activity__assignee_id", "activity__assignee__full_name", "activity__assignee__email",
                     "activity__status")
        .annotate(n=Count("id"))
        .order_by()
    )  # fmt: skip
    for assignee_id, full_name, email, status, n in rows:
        entry = per_caller.setdefault(assignee_id, [full_name or email, 0, 0])
        if status == ActivityStatus.DONE:
            summary.done += n
            entry[2] += n
        elif status == ActivityStatus.CANCELLED:
            summary.cancelled += n
        else:
            summary.planned += n
            entry[1] += n
    summary.by_caller = sorted((tuple(v) for v in per_caller.values()), key=lambda v: str(v[0]))
    return summary


@dataclass(frozen=True)
class CostRow:
    spent_on: date
    amount: str
    note: str


def campaign_costs(*, campaign: Campaign, limit: int = COSTS_SHOWN) -> list[CostRow]:
    money = Money()
    costs = campaign.costs.order_by("-spent_on", "-id")[:limit]
    return [CostRow(spent_on=c.spent_on, amount=money(c.amount), note=c.note) for c in costs]


_FK_MODELS: dict[str, type] = {"owner": User, "team": Team, "email_product": Product}
_HIDDEN = {"id", "created_at", "updated_at", "send_done", "send_total", "report_computed_at"}


def campaign_changes(*, campaign: Campaign, limit: int = CHANGES_LIMIT) -> list[ChangeEntry]:
    """The latest field changes of a campaign the caller fetched through campaign_get."""
    records = latest_records(campaign.history.all(), limit + 1)
    return history_entries(records, limit=limit, names=load_names(records, _FK_MODELS), hidden=_HIDDEN)


def preview_member(*, campaign: Campaign, member_id: int | None) -> CampaignMember | None:
    """The member a preview or test send is personalised for: the chosen one, else the first."""
    qs = CampaignMember.objects.filter(campaign=campaign)
    if member_id:
        chosen = qs.filter(pk=member_id).first()
        if chosen is not None:
            return chosen
    return qs.order_by("id").first()


@dataclass
class Preview:
    member_id: int | None
    member_label: str
    subject: str
    body_text: str
    body_html: str  # escaped values, for `|safe|linebreaks` (personalise_html)
    has_members: bool


def campaign_preview(*, campaign: Campaign, member_id: int | None = None) -> Preview:
    """The subject and text personalised for the chosen member (or the first one); three queries or so
    plus the price lookups. The unsubscribe link is shown as a marker: only the real send makes one."""
    member = preview_member(campaign=campaign, member_id=member_id)
    context: dict[str, str] = {}
    label = ""
    if member is not None:
        context = member_context(members=[member], campaign=campaign).get(member.pk, {})
        label = " · ".join(part for part in (context.get("full_name", ""), context.get("company", ""), member.email)
                           if part)  # fmt: skip
    context = {**context, "unsubscribe_url": str(_("[unsubscribe link]"))}
    return Preview(
        member_id=member.pk if member else None,
        member_label=label,
        subject=" ".join(personalise(template=campaign.email_subject, context=context).split()),
        body_text=personalise(template=campaign.email_body, context=context),
        body_html=personalise_html(template=campaign.email_body, context=context),
        has_members=member is not None,
    )
