"""Campaign effectiveness (issue 12, item 8): the CampaignReport rollups that the report page reads.

`campaign_report_compute` rebuilds one campaign's rows from its members, leads and attributions in one
transaction, set-based (no row of the campaign passes through Python), so a 1,000,000-member campaign takes a
few seconds (bench/marketing_report.py measures it). Celery runs it nightly for the running and recently
finished campaigns (CELERY_BEAT_SCHEDULE "marketing-reports") and on demand from the report page
(`campaign_report_request`, which records a crm.Job so the page shows "computing…" until it is done).

What the rows hold (dimensions: target group × product × region):
- Funnel rows (product NULL), one per (member.segment, member.region): members, sent (sent_at set),
  delivered (sent and not bounced), opened, clicked, responded, unsubscribed, bounced: each counted from its
  timestamp, so a member who clicked also counts as opened if the pixel fired.
- Outcome rows, one per (segment, product, region) that has any:
  leads: the leads whose campaign is this one, by lead.product and lead.region; the segment is that of the
  member record of the lead's person (converted person, else the matched one), else NULL;
  clients: those leads that were converted;
  deals won / revenue: the last-touch Attribution rows of kind "deal" of this campaign (attribution_compute)
  whose deal is won; revenue is the attribution's revenue, or the deal's amount when the attribution carries
  none; product = the product of the deal's first line (lowest id), NULL for a deal without lines;
  region = the deal's company region; segment = that of the campaign's first member record of the company.
- cost: campaign.actual_cost spread over the funnel rows by their share of the members (rounded to kopecks,
  the rounding remainder on the largest row, so the rows add up to the actual cost exactly); a campaign with
  costs and no members gets one empty funnel row carrying the cost. Outcome rows carry no cost: the page
  judges cost per lead / client and ROI per target group and region, where funnel and outcome rows meet.
- rank: each outcome row's place in its target group × region by leads, then revenue (1 = most).
Then the page's sums (CampaignReportTotal): one row per target group × region, and one per product over all
groups with its rank, so the page reads a few hundred rows however many products the campaign brought.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contacts.models import Company
from crm.models import Job, JobStatus
from crm.services import job_start
from deals.models import Deal, DealLine, DealStatus
from marketing.models import (
    Attribution,
    Campaign,
    CampaignMember,
    CampaignReport,
    CampaignReportTotal,
    Lead,
    LeadStatus,
    Touch,
)

if TYPE_CHECKING:
    from crm.models import User

JOB_KIND = "campaign_report"
# pg_advisory_xact_lock(REPORT_LOCK, campaign id): a nightly run and a "Recompute" (or a task redelivered under
# acks_late) of the same campaign take turns instead of deleting each other's fresh rows.
REPORT_LOCK = 0x6D6B_7470  # "mktp"

_TABLES = {
    "report": CampaignReport._meta.db_table,
    "total": CampaignReportTotal._meta.db_table,
    "member": CampaignMember._meta.db_table,
    "lead": Lead._meta.db_table,
    "attribution": Attribution._meta.db_table,
    "deal": Deal._meta.db_table,
    "line": DealLine._meta.db_table,
    "company": Company._meta.db_table,
}

# The funnel: one pass over the campaign's members (an index range of marketing_member_status_idx), hashed by
# segment and region. count(col) counts the non-NULL timestamps.
FUNNEL_SQL = """
INSERT INTO {report} (campaign_id, segment_id, product_id, region, members, sent, delivered, opened, clicked,
                      responded, unsubscribed, bounced, leads, clients, deals_won, revenue, cost, computed_at)
SELECT %(campaign)s, m.segment_id, NULL, m.region, count(*), count(m.sent_at),
       count(*) FILTER (WHERE m.sent_at IS NOT NULL AND m.bounced_at IS NULL),
       count(m.opened_at), count(m.clicked_at), count(m.responded_at), count(m.unsubscribed_at), count(m.bounced_at),
       0, 0, 0, 0, 0, %(now)s
FROM {member} m
WHERE m.campaign_id = %(campaign)s
GROUP BY m.segment_id, m.region
"""

# Leads and won deals of the campaign (hundreds to a few thousand rows), each with its member record looked up
# through the unique (campaign, person) index or the (company, campaign) index.
OUTCOME_SQL = """
INSERT INTO {report} (campaign_id, segment_id, product_id, region, members, sent, delivered, opened, clicked,
                      responded, unsubscribed, bounced, leads, clients, deals_won, revenue, cost, computed_at)
SELECT %(campaign)s, o.segment_id, o.product_id, o.region, 0, 0, 0, 0, 0, 0, 0, 0,
       sum(o.leads), sum(o.clients), sum(o.deals_won), sum(o.revenue), 0, %(now)s
FROM (
    SELECT mm.segment_id, l.product_id, l.region, 1 AS leads,
           CASE WHEN l.status = %(converted)s THEN 1 ELSE 0 END AS clients, 0 AS deals_won, 0::numeric AS revenue
    FROM {lead} l
    LEFT JOIN LATERAL (
        SELECT m.segment_id FROM {member} m
        WHERE m.campaign_id = %(campaign)s AND m.person_id = coalesce(l.person_id, l.matched_person_id)
        LIMIT 1
    ) mm ON true
    WHERE l.campaign_id = %(campaign)s
  UNION ALL
    SELECT mm.segment_id,
           (SELECT dl.product_id FROM {line} dl WHERE dl.deal_id = d.id ORDER BY dl.id LIMIT 1),
           coalesce(co.region, ''), 0, 0, 1, coalesce(nullif(a.revenue, 0), d.amount)
    FROM {attribution} a
    JOIN {deal} d ON d.id = a.deal_id AND d.status = %(won)s
    LEFT JOIN {company} co ON co.id = d.company_id
    LEFT JOIN LATERAL (
        SELECT m.segment_id FROM {member} m
        WHERE m.company_id = d.company_id AND m.campaign_id = %(campaign)s
        ORDER BY m.id
        LIMIT 1
    ) mm ON true
    WHERE a.campaign_id = %(campaign)s AND a.touch = %(last)s AND a.kind = %(deal_kind)s
) o
GROUP BY o.segment_id, o.product_id, o.region
"""

# The actual cost by share of members; the remainder of the rounding goes to the largest row.
COST_SQL = """
WITH share AS (
    SELECT r.id, round(%(cost)s * r.members / sum(r.members) OVER (), 2) AS cost,
           row_number() OVER (ORDER BY r.members DESC, r.id) AS rank
    FROM {report} r
    WHERE r.campaign_id = %(campaign)s AND r.product_id IS NULL AND r.members > 0
), total AS (SELECT coalesce(sum(cost), 0) AS allocated FROM share)
UPDATE {report} r
SET cost = share.cost + CASE WHEN share.rank = 1 THEN %(cost)s - total.allocated ELSE 0 END
FROM share, total
WHERE r.id = share.id
"""

FIGURES = ("members, sent, delivered, opened, clicked, responded, unsubscribed, bounced, leads, clients, deals_won, "
           "revenue, cost")  # fmt: skip
SUMS = ", ".join(f"sum({name.strip()})" for name in FIGURES.split(","))
OUTCOME = "(r.leads > 0 OR r.clients > 0 OR r.deals_won > 0 OR r.revenue > 0)"

RANK_SQL = f"""
UPDATE {{report}} r SET rank = ranked.rank
FROM (
    SELECT r.id, row_number() OVER (
        PARTITION BY r.segment_id, r.region ORDER BY r.leads DESC, r.revenue DESC, r.product_id NULLS FIRST
    ) AS rank
    FROM {{report}} r
    WHERE r.campaign_id = %(campaign)s AND {OUTCOME}
) ranked
WHERE r.id = ranked.id
"""

GROUP_TOTALS_SQL = f"""
INSERT INTO {{total}} (campaign_id, kind, segment_id, product_id, region, rank, {FIGURES}, computed_at)
SELECT %(campaign)s, %(group)s, r.segment_id, NULL, r.region, NULL, {SUMS}, %(now)s
FROM {{report}} r WHERE r.campaign_id = %(campaign)s
GROUP BY r.segment_id, r.region
"""
PRODUCT_TOTALS_SQL = f"""
INSERT INTO {{total}} (campaign_id, kind, segment_id, product_id, region, rank, {FIGURES}, computed_at)
SELECT %(campaign)s, %(product)s, NULL, r.product_id, '',
       row_number() OVER (ORDER BY sum(r.leads) DESC, sum(r.revenue) DESC, r.product_id NULLS FIRST), {SUMS}, %(now)s
FROM {{report}} r WHERE r.campaign_id = %(campaign)s AND {OUTCOME}
GROUP BY r.product_id
"""


def campaign_report_compute(*, campaign_id: int) -> int:
    """Replace the CampaignReport rows of the campaign and set its `report_computed_at`; return the rows written.

    Idempotent and safe to run concurrently (a transaction-level advisory lock per campaign): readers see the
    old rows or the new ones. Returns 0 for a campaign that no longer exists (a task queued before a delete).
    """
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [REPORT_LOCK, campaign_id])
        actual_cost = Campaign.objects.filter(pk=campaign_id).values_list("actual_cost", flat=True).first()
        if actual_cost is None:
            return 0
        params = {
            "campaign": campaign_id,
            "now": now,
            "cost": actual_cost,
            "converted": LeadStatus.CONVERTED.value,
            "won": DealStatus.WON.value,
            "last": Touch.LAST.value,
            "deal_kind": Attribution.Kind.DEAL.value,
        }
        # The grouping of a million members wants more than the default 4 MB (only for this transaction).
        cursor.execute("SELECT set_config('work_mem', '64MB', true), set_config('jit', 'off', true)")
        cursor.execute(f"DELETE FROM {_TABLES['report']} WHERE campaign_id = %s", [campaign_id])
        cursor.execute(FUNNEL_SQL.format(**_TABLES), params)
        funnel_rows = cursor.rowcount
        cursor.execute(OUTCOME_SQL.format(**_TABLES), params)
        rows = funnel_rows + cursor.rowcount
        if actual_cost:
            if funnel_rows:
                cursor.execute(COST_SQL.format(**_TABLES), params)
            else:
                CampaignReport.objects.create(campaign_id=campaign_id, cost=actual_cost, computed_at=now)
                rows += 1
        campaign_report_totals_compute(campaign_id=campaign_id, now=now)
        Campaign.objects.filter(pk=campaign_id).update(report_computed_at=now)
    return rows


def campaign_report_totals_compute(*, campaign_id: int, now: datetime | None = None) -> None:
    """Rank the campaign's outcome rows in their groups and replace the sums its page reads (CampaignReportTotal),
    from its CampaignReport rows as they are (campaign_report_compute ends with this)."""
    params = {
        "campaign": campaign_id,
        "now": now or timezone.now(),
        "group": CampaignReportTotal.Kind.GROUP.value,
        "product": CampaignReportTotal.Kind.PRODUCT.value,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {_TABLES['total']} WHERE campaign_id = %s", [campaign_id])
        cursor.execute(RANK_SQL.format(**_TABLES), params)
        cursor.execute(GROUP_TOTALS_SQL.format(**_TABLES), params)
        cursor.execute(PRODUCT_TOTALS_SQL.format(**_TABLES), params)


def campaigns_to_report(*, recent_days: int = 30) -> list[int]:
    """The campaigns the nightly run recomputes: running ones and those that ended (or were cancelled) within
    `recent_days` days, plus any with members or leads whose report was never computed."""
    from datetime import timedelta

    from django.db.models import Q

    from marketing.models import CampaignStatus

    since = timezone.localdate() - timedelta(days=recent_days)
    recent = Q(status=CampaignStatus.RUNNING) | Q(ends_on__gte=since) | Q(updated_at__date__gte=since)
    never = Q(report_computed_at__isnull=True) & ~Q(status=CampaignStatus.DRAFT)
    return list(Campaign.objects.filter(recent | never).order_by("pk").values_list("pk", flat=True))


def campaign_reports_compute_all() -> int:
    """Recompute every campaign of `campaigns_to_report`, each in its own transaction; return how many."""
    ids = campaigns_to_report()
    for pk in ids:
        campaign_report_compute(campaign_id=pk)
    return len(ids)


def campaign_report_running_job(*, campaign: Campaign) -> Job | None:
    """The waiting or running recompute of the campaign, if any (the page shows "computing…" meanwhile)."""
    return (
        Job.objects.filter(
            kind=JOB_KIND, params__campaign_id=campaign.pk, status__in=[JobStatus.PENDING, JobStatus.RUNNING]
        )
        .order_by("-pk")
        .first()
    )


@transaction.atomic
def campaign_report_request(*, campaign: Campaign, actor: User) -> Job:
    """Queue a recompute of the campaign's report for `actor` ("Recompute" on the report page).

    A recompute already waiting or running is returned instead of a second one. Raises ValidationError when
    `actor` may not change the campaign."""
    if not actor.has_perm("marketing.change_campaign"):
        raise ValidationError(_("You may not recompute the reports of campaigns."))
    # The campaign row lock makes two clicks at once queue one job.
    list(Campaign.objects.select_for_update(no_key=True).filter(pk=campaign.pk).values_list("pk", flat=True))
    running = campaign_report_running_job(campaign=campaign)
    if running is not None:
        return running
    job = job_start(owner=actor, kind=JOB_KIND, params={"campaign_id": campaign.pk}, total=1)
    from marketing.tasks_reports import campaign_report_compute_task

    transaction.on_commit(lambda: campaign_report_compute_task.delay(campaign.pk, job.pk))
    return job
