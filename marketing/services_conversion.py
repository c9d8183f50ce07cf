"""The lead-conversion rollup (issue 12, item 2): LeadConversion rows that /marketing/leads/conversion/ reads.

`conversion_rollup_compute` rebuilds every row from the leads in one transaction, set-based: each lead is
counted once per dimension (source, channel, campaign, region, owner) in its Kyiv month at three levels (all
leads; per team; per team × owner: see LeadConversion), with how many became clients (status converted with
a client), how many of those clients won a deal created after the lead, the seconds they took (for the mean)
and how many took each whole number of days (for the median). 300,000 leads take a few seconds; Celery runs it
every hour (CELERY_BEAT_SCHEDULE "marketing-conversion") and the demo seed once.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from deals.models import Deal, DealStatus
from marketing.models import ConversionLevel, Lead, LeadConversion, LeadStatus

# pg_advisory_xact_lock(CONVERSION_LOCK): two runs at once take turns instead of deleting each other's rows.
CONVERSION_LOCK = 0x6D6B_7463  # "mktc"

# Each lead once per dimension (the VALUES list); "month" groups the "channel" rows (every lead has one channel).
ROLLUP_SQL = """
INSERT INTO {rollup} (level, dimension, month, team_id, owner_id, key, leads, converted, won, convert_seconds,
                      days, day_counts, computed_at)
WITH l AS MATERIALIZED (
    SELECT date_trunc('month', l.created_at AT TIME ZONE %(tz)s)::date AS month, l.team_id, l.owner_id,
           l.source, l.channel, coalesce(l.campaign_id::text, '') AS campaign, l.region,
           coalesce(l.owner_id::text, '') AS owner, c.converted,
           c.converted AND EXISTS (
               SELECT 1 FROM {deal} d
               WHERE d.company_id = l.company_id AND d.status = %(won)s AND d.created_at >= l.created_at
           ) AS won,
           CASE WHEN c.converted THEN greatest(extract(epoch FROM l.converted_at - l.created_at), 0) END AS seconds
    FROM {lead} l
    CROSS JOIN LATERAL (
        SELECT l.status = %(converted)s AND l.company_id IS NOT NULL AND l.converted_at IS NOT NULL AS converted
    ) c
), d AS (
    SELECT l.*, floor(l.seconds / 86400)::int AS days FROM l
), per_day AS (
    SELECT GROUPING(l.team_id, l.owner_id) AS grouping, v.dimension, l.month, l.team_id, l.owner_id, v.key, l.days,
           count(*) AS leads, count(*) FILTER (WHERE l.converted) AS converted, count(*) FILTER (WHERE l.won) AS won,
           coalesce(sum(l.seconds), 0) AS seconds
    FROM d l
    CROSS JOIN LATERAL (VALUES ('source', l.source), ('channel', l.channel), ('campaign', l.campaign),
                               ('region', l.region), ('owner', l.owner)) v(dimension, key)
    GROUP BY GROUPING SETS ((v.dimension, l.month, v.key, l.days),
                            (v.dimension, l.month, l.team_id, v.key, l.days),
                            (v.dimension, l.month, l.team_id, l.owner_id, v.key, l.days))
)
SELECT CASE grouping WHEN 3 THEN %(all)s WHEN 1 THEN %(team)s ELSE %(owner)s END, dimension, month, team_id,
       owner_id, key, sum(leads), sum(converted), sum(won), round(sum(seconds)),
       coalesce(array_agg(days ORDER BY days) FILTER (WHERE days IS NOT NULL), '{{}}'),
       coalesce(array_agg(converted ORDER BY days) FILTER (WHERE days IS NOT NULL), '{{}}'), %(now)s
FROM per_day
GROUP BY grouping, dimension, month, team_id, owner_id, key
"""


def conversion_rollup_compute() -> int:
    """Replace every LeadConversion row; return how many were written. Idempotent; concurrent runs take turns
    (an advisory lock) and readers see the old rows or the new ones."""
    params = {
        "tz": settings.TIME_ZONE,
        "won": DealStatus.WON.value,
        "converted": LeadStatus.CONVERTED.value,
        "all": ConversionLevel.ALL.value,
        "team": ConversionLevel.TEAM.value,
        "owner": ConversionLevel.OWNER.value,
        "now": timezone.now(),
    }
    tables = {"rollup": LeadConversion._meta.db_table, "lead": Lead._meta.db_table, "deal": Deal._meta.db_table}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CONVERSION_LOCK])
        cursor.execute("SELECT set_config('work_mem', '128MB', true), set_config('jit', 'off', true)")
        cursor.execute(f"DELETE FROM {tables['rollup']}")
        cursor.execute(ROLLUP_SQL.format(**tables), params)
        return cursor.rowcount
