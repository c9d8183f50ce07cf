"""Time `campaign_report_compute` on a campaign of 1,000,000 members (issue 12, item 8: ≤ 30 s in one worker).

    python -m bench.marketing_report [--members 1000000] [--runs 3] [--limit 30]

The database: `DATABASE_URL` when set (e.g. the L bench database, whose marketing.seed made the 1,000,000-member
campaign `marketing.seed.BIG_CAMPAIGN`), otherwise the embedded PostgreSQL of `make bench` (.data/bench-pg) with
its own database `crm_bench_marketing`, migrated here. The campaign used is the largest one named
BIG_CAMPAIGN with at least --members members; without one, such a campaign is loaded with COPY (members spread
over 4 target groups and 25 regions through the funnel statuses, 3,000 leads; members have no person, which the
funnel does not read). Then the compute runs --runs times, in this process as a Celery worker would run it;
the seconds of each run are printed, and the exit status is 1 when the slowest is over --limit seconds.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from crm import embedded

BASE_DIR = Path(__file__).resolve().parent.parent
DATABASE = "crm_bench_marketing"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--limit", type=float, default=30.0, help="seconds the slowest run may take")
    return parser.parse_args(argv)


def _load_campaign(members: int) -> int:
    """A campaign of `members` members and some leads, loaded with COPY; returns its id."""
    import random
    from datetime import timedelta

    from django.db import connection, transaction
    from django.utils import timezone

    from contacts.models import Company, Region
    from crm.models import User
    from marketing.models import Campaign, CampaignStatus, Lead, LeadStatus, MemberStatus, Segment
    from marketing.seed import BIG_CAMPAIGN

    rng = random.Random(12)
    now = timezone.now()
    with transaction.atomic():
        owner = User.objects.filter(email="marketing@example.com").first() or User.objects.create_user(
            "marketing@example.com", "bench-only-password", full_name="Bench Marketing"
        )
        campaign = Campaign.objects.create(
            name=BIG_CAMPAIGN, owner=owner, status=CampaignStatus.COMPLETED, actual_cost=250_000,
            starts_on=now.date() - timedelta(days=30), ends_on=now.date(),
        )  # fmt: skip
        segments = [Segment.objects.create(name=f"Bench {i}", owner=owner).pk for i in range(4)]
        regions = Region.values
        stamp = now.strftime("%Y-%m-%d %H:%M:%S+00")

        def rows():
            for i in range(members):
                r = rng.random()
                sent = r < 0.9
                bounced = sent and r < 0.03
                opened = sent and not bounced and r < 0.45
                clicked = opened and r < 0.15
                responded = clicked and r < 0.06
                unsubscribed = sent and 0.88 < r < 0.9
                status = (MemberStatus.BOUNCED if bounced else MemberStatus.RESPONDED if responded else
                          MemberStatus.CLICKED if clicked else MemberStatus.OPENED if opened else
                          MemberStatus.UNSUBSCRIBED if unsubscribed else MemberStatus.SENT if sent else
                          MemberStatus.PLANNED)  # fmt: skip
                yield (
                    campaign.pk, segments[i % 4], regions[rng.randrange(len(regions))], f"m{i}@example.net",
                    status, stamp if sent else None, stamp if opened else None, stamp if clicked else None,
                    stamp if responded else None, stamp if unsubscribed else None, stamp if bounced else None, "",
                )  # fmt: skip

        columns = ["campaign_id", "segment_id", "region", "email", "status", "sent_at", "opened_at", "clicked_at",
                   "responded_at", "unsubscribed_at", "bounced_at", "error"]  # fmt: skip
        with connection.cursor() as cursor:
            with cursor.copy(f"COPY marketing_campaignmember ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows():
                    copy.write_row(row)
            cursor.execute("ANALYZE marketing_campaignmember")
        client = Company.objects.create(name="ТОВ Бенчмарк", owner=owner)
        Lead.objects.bulk_create(
            Lead(campaign=campaign, last_name=f"Bench {i}", region=regions[i % len(regions)],
                 status=LeadStatus.CONVERTED if i % 5 == 0 else LeadStatus.NEW,
                 converted_at=now if i % 5 == 0 else None, company=client if i % 5 == 0 else None)
            for i in range(3_000)
        )  # fmt: skip
    return campaign.pk


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    env = dict(os.environ)
    env.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production")
    env.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    env.setdefault("DEBUG", "0")
    pg_datadir = None
    if not env.get("DATABASE_URL"):
        from bench.run import _postgres_running

        pg_datadir = embedded.DATA_DIR / "bench-pg"
        # Leave a server someone else started (a `make bench` in progress) running.
        if _postgres_running(pg_datadir):
            pg_datadir = None
        env["DATABASE_URL"] = embedded.start_postgres(embedded.DATA_DIR / "bench-pg", DATABASE)
    redis = None
    if not env.get("REDIS_URL"):
        redis, env["REDIS_URL"] = embedded.start_redis()
    try:
        return _run(args, env, pg_datadir)
    finally:
        if redis is not None:
            redis.terminate()
            redis.wait(timeout=10)
        if pg_datadir is not None:
            embedded.stop_postgres(pg_datadir)


def _run(args: argparse.Namespace, env: dict[str, str], pg_datadir: Path | None) -> int:
    subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), "migrate", "--no-input", "-v", "0"], env=env,
                   check=True)  # fmt: skip
    os.environ.update(env)
    import django

    django.setup()
    from django.db.models import Count

    from marketing.models import Campaign
    from marketing.seed import BIG_CAMPAIGN
    from marketing.services_reports import campaign_report_compute

    campaign_id = (
        Campaign.objects.filter(name=BIG_CAMPAIGN)
        .annotate(n=Count("members"))
        .filter(n__gte=args.members)
        .order_by("-n")
        .values_list("pk", flat=True)
        .first()
    )
    if campaign_id is None:
        started = time.monotonic()
        campaign_id = _load_campaign(args.members)
        print(f"Loaded a campaign of {args.members:,} members in {time.monotonic() - started:.1f} s.")
    members = Campaign.objects.get(pk=campaign_id).members.count()
    timings = []
    for run in range(1, args.runs + 1):
        started = time.monotonic()
        rows = campaign_report_compute(campaign_id=campaign_id)
        timings.append(time.monotonic() - started)
        print(f"run {run}: campaign {campaign_id} ({members:,} members) -> {rows} report rows in {timings[-1]:.2f} s")
    slowest = max(timings)
    verdict = "OK" if slowest <= args.limit else "TOO SLOW"
    print(f"campaign_report_compute: slowest {slowest:.2f} s of {args.runs} runs (limit {args.limit:.0f} s): {verdict}")
    return 0 if slowest <= args.limit else 1


if __name__ == "__main__":
    sys.exit(main())
