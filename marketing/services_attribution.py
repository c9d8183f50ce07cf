"""Attribution (issue #12 item 7): the leads, deals and orders each campaign brought, by first and last touch.

`attribution_compute` rebuilds every Attribution row from the raw tables in one transaction of set-based
statements (a DELETE and one INSERT … SELECT), so a second run writes the same rows again (idempotent) and
readers see the old rows until it commits. It runs nightly (beat "marketing-attribution") and scales with
the tables, not with Python: at size L it joins 300k leads, 2M members, 500k deals and 1M orders in SQL.

The rules:
- a lead's campaign is Lead.campaign, else the campaign whose utm_campaign tag equals the lead's
  utm_campaign (the latest-starting one when several share a tag); the lead gets a first and a last touch
  row of that campaign, at the lead's created_at;
- the touches of a company are its converted leads that have a campaign (at the lead's created_at) and its
  campaign members who clicked, responded or converted (at the earliest of those times);
- a deal or an order is attributed to the touches of its company within MARKETING_ATTRIBUTION_DAYS before
  its created_at (a touch after it does not count): first touch = the earliest, last touch = the latest
  (ties: the smaller campaign id first); the row's `at` is the deal's / order's created_at;
- revenue: a won deal's amount, an order's total (0 for an open or lost deal); cancelled and failed orders
  are not attributed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection, transaction

from deals.models import FAILURE_STATUSES, Deal, DealStatus, Order
from marketing.models import Attribution, Campaign, CampaignMember, Lead, LeadStatus, Touch

# %(name)s parameters; the {table} names come from the models.
ATTRIBUTION_SQL = """
WITH utm AS (
    -- One campaign per tag: the partial index marketing_campaign_utm_idx serves the scan.
    SELECT DISTINCT ON (utm_campaign) utm_campaign, id
    FROM {campaign}
    WHERE utm_campaign <> ''
    ORDER BY utm_campaign, starts_on DESC NULLS LAST, id DESC
), lead_campaign AS MATERIALIZED (
    SELECT l.id, l.company_id, l.status, l.created_at, coalesce(l.campaign_id, utm.id) AS campaign_id
    FROM {lead} l
    LEFT JOIN utm ON l.campaign_id IS NULL AND utm.utm_campaign = l.utm_campaign
    WHERE l.campaign_id IS NOT NULL OR l.utm_campaign <> ''
), touch AS MATERIALIZED (
    SELECT company_id, campaign_id, created_at AS at
    FROM lead_campaign
    WHERE campaign_id IS NOT NULL AND status = %(converted)s AND company_id IS NOT NULL
  UNION ALL
    SELECT company_id, campaign_id, LEAST(clicked_at, responded_at, converted_at)  -- LEAST skips NULLs
    FROM {member}
    WHERE company_id IS NOT NULL
      AND (clicked_at IS NOT NULL OR responded_at IS NOT NULL OR converted_at IS NOT NULL)
), target AS (
    SELECT 'deal' AS kind, d.id, d.company_id, d.created_at,
           CASE WHEN d.status = %(won)s THEN d.amount ELSE 0 END AS revenue
    FROM {deal} d
    WHERE d.company_id IN (SELECT company_id FROM touch)
  UNION ALL
    SELECT 'order', o.id, o.company_id, o.created_at, o.total
    FROM {order} o
    WHERE o.company_id IN (SELECT company_id FROM touch) AND NOT (o.status = ANY(%(failed)s))
), ranked AS (
    SELECT g.kind, g.id, g.company_id, g.created_at, g.revenue, t.campaign_id,
           row_number() OVER (PARTITION BY g.kind, g.id ORDER BY t.at, t.campaign_id) AS first_rank,
           row_number() OVER (PARTITION BY g.kind, g.id ORDER BY t.at DESC, t.campaign_id DESC) AS last_rank
    FROM target g
    JOIN touch t ON t.company_id = g.company_id
                AND t.at <= g.created_at
                AND t.at >= g.created_at - make_interval(days => %(window)s)
)
INSERT INTO {attribution} (campaign_id, touch, kind, lead_id, deal_id, order_id, company_id, revenue, at)
SELECT l.campaign_id, touches.touch, 'lead', l.id, NULL, NULL, l.company_id, 0, l.created_at
FROM lead_campaign l CROSS JOIN (VALUES (%(first)s), (%(last)s)) AS touches (touch)
WHERE l.campaign_id IS NOT NULL
UNION ALL
SELECT campaign_id, CASE WHEN first_rank = 1 THEN %(first)s ELSE %(last)s END, kind,
       NULL, CASE WHEN kind = 'deal' THEN id END, CASE WHEN kind = 'order' THEN id END, company_id, revenue,
       created_at
FROM ranked
WHERE first_rank = 1 OR last_rank = 1
UNION ALL
-- A single touch is both the first and the last: the row above wrote the first one.
SELECT campaign_id, %(last)s, kind, NULL, CASE WHEN kind = 'deal' THEN id END, CASE WHEN kind = 'order' THEN id END,
       company_id, revenue, created_at
FROM ranked
WHERE first_rank = 1 AND last_rank = 1
"""


def attribution_window_days() -> int:
    return settings.MARKETING_ATTRIBUTION_DAYS


@transaction.atomic
def attribution_compute() -> int:
    """Replace every Attribution row by the ones the current leads, members, deals and orders give (the rules
    are in the module docstring). Returns the number of rows written. Safe to run twice or concurrently: a
    transaction-scoped advisory lock serialises runs, and each run deletes what the previous one wrote."""
    sql = ATTRIBUTION_SQL.format(
        campaign=Campaign._meta.db_table,
        lead=Lead._meta.db_table,
        member=CampaignMember._meta.db_table,
        deal=Deal._meta.db_table,
        order=Order._meta.db_table,
        attribution=Attribution._meta.db_table,
    )
    params = {
        "converted": LeadStatus.CONVERTED.value,
        "won": DealStatus.WON.value,
        "failed": sorted(str(status) for status in FAILURE_STATUSES),
        "window": attribution_window_days(),
        "first": Touch.FIRST.value,
        "last": Touch.LAST.value,
    }
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('marketing.attribution_compute'))")
        # DELETE, not TRUNCATE: the report pages keep reading the old rows (MVCC) until this commits.
        cursor.execute(f"DELETE FROM {Attribution._meta.db_table}")
        cursor.execute(sql, params)
        return cursor.rowcount
