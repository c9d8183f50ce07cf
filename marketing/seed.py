"""Marketing demo data (issue 12, item 11): lead assignment rules, the published web form `demo`, target groups,
campaigns with members, costs and leads for marketing@example.com, then attribution and the campaign reports.

Called by `seed_demo` after service.seed (the people, companies, products and deals of the seeders below come
from `ctx.shared` and the database). Sizes:

    |                                   | S     | M        | L          |
    |-----------------------------------|-------|----------|------------|
    | curated campaigns (4 below)       | 4     | 4        | 4          |
    | generated campaigns               | 0     | 50       | 496        |
    |   members of the big campaign     | —     | 50,000   | 1,000,000  |
    |   members of the others, in all   | —     | 50,000   | 1,000,000  |
    | curated leads                     | 60    | 60       | 60         |
    | generated leads                   | 0     | 20,000   | 300,000    |

Curated (every size): rules per region (Kyiv city → "Продажі — Київ", Lviv → "Продажі — Львів", Dnipropetrovsk →
"Продажі — Дніпро"); the published form `demo` for the Kyiv sales team with its consent text; four target
groups (a dynamic one from a saved company filter, a dynamic people group, a static list, a dynamic group of
Lviv companies); four campaigns of marketing@example.com: a completed e-mail campaign whose members went
through every status, with its costs; a running e-mail campaign; a calls campaign; a draft. 60 leads over
every status, channel and source, most of them from those campaigns, the converted ones linked to clients.
Generated (M, L): campaigns over the last two years and their members loaded with COPY (the big one,
BIG_CAMPAIGN, reaches the first N people; each other one a contiguous block of people), leads with COPY,
the two tables' indexes and foreign keys dropped around the load (contacts.seed._bulk_load). Members carry
generated addresses (person<id>@example.net) rather than reading two million contact points back.

At the end attribution_compute() runs (if the attribution area is installed) and campaign_report_compute for the
curated campaigns and the big one, so their report pages show figures. Deterministic: ctx.rng, and dates
relative to today 00:00 UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from importlib.util import find_spec
from typing import Any

from django.db import connection
from django.utils import timezone

from contacts.models import Company, Person, Region, SavedFilter, Source
from contacts.seed import BULK_LOAD_SIZES, _bulk_load
from crm.models import Role, Team, User
from crm.seeding import SeedContext
from deals.models import Product
from marketing.models import (
    AssignmentRule,
    Campaign,
    CampaignChannel,
    CampaignCost,
    CampaignMember,
    CampaignStatus,
    DisqualifyReason,
    FormField,
    Lead,
    LeadChannel,
    LeadStatus,
    MemberStatus,
    Segment,
    SegmentKind,
    SegmentMember,
    SegmentTarget,
    WebForm,
)
from marketing.services_conversion import conversion_rollup_compute
from marketing.services_reports import campaign_report_compute

MARKETING_EMAIL = "marketing@example.com"
DEMO_FORM_SLUG = "demo"
BIG_CAMPAIGN = "Весняний розпродаж — уся база"
CURATED_CAMPAIGNS = (
    "Осіння розсилка: добрива 2026",
    "Зимові знижки на техніку",
    "Обдзвін постійних клієнтів",
    "Весняна виставка АгроЕкспо (чернетка)",
)
CONSENT_TEXT = (
    "Я погоджуюсь на обробку моїх персональних даних і отримання листів про пропозиції компанії. "
    "Відмовитися можна будь-коли за посиланням у листі."
)
SIZES = {"S": (0, 0, 0, 0), "M": (50, 50_000, 50_000, 20_000), "L": (496, 1_000_000, 1_000_000, 300_000)}
CHUNK_DAYS = 730
FIRST_NAMES = ["Олена", "Андрій", "Ірина", "Тарас", "Наталія", "Олег", "Марія", "Богдан", "Світлана", "Юрій"]
LAST_NAMES = ["Коваль", "Шевченко", "Бондаренко", "Ткаченко", "Кравчук", "Мельник", "Лисенко", "Гончар"]
MESSAGES = [
    "Цікавить ціна на добрива для 200 га.",
    "Надішліть, будь ласка, комерційну пропозицію.",
    "Потрібна консультація щодо техніки.",
    "Хочемо стати дилером у нашій області.",
    "Передзвоніть після 14:00.",
    "",
]


def _ts(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S+00")


def seed(ctx: SeedContext) -> None:
    anchor = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    marketer = User.objects.get(email=MARKETING_EMAIL)
    teams = {t.name: t for t in Team.objects.all()}
    kyiv_team = teams.get("Продажі — Київ")
    _seed_rules(teams)
    segments = _seed_segments(ctx, marketer)
    campaigns = _seed_campaigns(ctx, marketer, anchor, segments)
    WebForm.objects.create(
        name="Демо-форма на сайті", slug=DEMO_FORM_SLUG, title="Залиште заявку — ми передзвонимо",
        intro="Розкажіть, що вас цікавить, і менеджер зв'яжеться з вами протягом робочого дня.",
        fields=[FormField.FIRST_NAME, FormField.LAST_NAME, FormField.COMPANY_NAME, FormField.EMAIL, FormField.PHONE,
                FormField.REGION, FormField.PRODUCT, FormField.MESSAGE],
        required_fields=[FormField.FIRST_NAME, FormField.EMAIL], consent_text=CONSENT_TEXT,
        thank_you_text="Дякуємо! Ми отримали вашу заявку і зв'яжемося з вами найближчим часом.",
        team=kyiv_team, campaign=campaigns[1], is_published=True, owner=marketer,
    )  # fmt: skip
    _seed_leads(ctx, anchor, campaigns)
    big_id = _seed_bulk(ctx, marketer, anchor)
    if find_spec("marketing.services_attribution") is not None:
        from marketing.services_attribution import attribution_compute

        attribution_compute()
    for campaign in campaigns:
        campaign_report_compute(campaign_id=campaign.pk)
    if big_id is not None:
        campaign_report_compute(campaign_id=big_id)
    conversion_rollup_compute()


def _seed_rules(teams: dict[str, Team]) -> None:
    rules = [
        (Region.KYIV_CITY, "Продажі — Київ"),
        (Region.KYIV_OBLAST, "Продажі — Київ"),
        (Region.LVIV, "Продажі — Львів"),
        (Region.DNIPROPETROVSK, "Продажі — Дніпро"),
    ]
    for position, (region, team_name) in enumerate(rules, start=1):
        if team_name in teams:
            AssignmentRule.objects.create(
                name=f"{Region(region).label} → {team_name}", position=position * 10, region=region,
                team=teams[team_name],
            )  # fmt: skip


def _seed_segments(ctx: SeedContext, marketer: User) -> list[Segment]:
    kyiv_filter = SavedFilter.objects.create(
        owner=marketer, name="Компанії Києва", target=SavedFilter.Target.COMPANY, query="region=kyiv_city"
    )
    kyiv = Segment.objects.create(
        name="Компанії Києва", description="Усі клієнти з Києва (зі збереженого фільтра).", kind=SegmentKind.DYNAMIC,
        target=SegmentTarget.COMPANY, saved_filter=kyiv_filter, query=kyiv_filter.query, owner=marketer,
    )  # fmt: skip
    lviv = Segment.objects.create(
        name="Львівщина", kind=SegmentKind.DYNAMIC, target=SegmentTarget.COMPANY, query="region=lviv", owner=marketer
    )
    directors = Segment.objects.create(
        name="Керівники", description="Директори та власники.", kind=SegmentKind.DYNAMIC,
        target=SegmentTarget.PERSON, query="q=директор", owner=marketer,
    )  # fmt: skip
    vip = Segment.objects.create(
        name="VIP-клієнти", description="Список для особистих запрошень.", kind=SegmentKind.STATIC,
        target=SegmentTarget.PERSON, owner=marketer,
    )  # fmt: skip
    people = list(Person.objects.order_by("pk").values_list("pk", flat=True)[:20])
    SegmentMember.objects.bulk_create(SegmentMember(segment=vip, person_id=pk) for pk in people)
    return [kyiv, lviv, directors, vip]


def _people_for(limit: int, offset: int) -> list[tuple[int, int | None, str]]:
    """(person id, company id, company region) of people with a company, in id order."""
    return list(
        Person.objects.filter(company__isnull=False)
        .order_by("pk")
        .values_list("pk", "company_id", "company__region")[offset : offset + limit]
    )


def _seed_campaigns(ctx: SeedContext, marketer: User, anchor: datetime, segments: list[Segment]) -> list[Campaign]:
    today = anchor.date()
    rng = ctx.rng
    products = list(Product.objects.order_by("pk").values_list("pk", flat=True)[:6])
    specs = [
        (CAMPAIGN_COMPLETED := CURATED_CAMPAIGNS[0], CampaignChannel.EMAIL, CampaignStatus.COMPLETED, -75, -45,
         Decimal("60000"), "fertilizer-autumn"),
        (CURATED_CAMPAIGNS[1], CampaignChannel.EMAIL, CampaignStatus.RUNNING, -10, 20, Decimal("40000"),
         "winter-machinery"),
        (CURATED_CAMPAIGNS[2], CampaignChannel.CALLS, CampaignStatus.RUNNING, -5, 25, Decimal("15000"), ""),
        (CURATED_CAMPAIGNS[3], CampaignChannel.EVENT, CampaignStatus.DRAFT, 40, 43, Decimal("120000"), ""),
    ]  # fmt: skip
    del CAMPAIGN_COMPLETED
    campaigns = []
    offset = 0
    for i, (name, channel, status, start, end, budget, utm) in enumerate(specs):
        campaign = Campaign.objects.create(
            name=name, goal="Залучити нових клієнтів і повернути тих, хто давно не купував.", channel=channel,
            status=status, starts_on=today + timedelta(days=start), ends_on=today + timedelta(days=end),
            budget=budget, utm_campaign=utm, owner=marketer, regions=[Region.KYIV_CITY, Region.LVIV],
            email_subject="{{ company }}: пропозиція для вас" if channel == CampaignChannel.EMAIL else "",
            email_body="Добрий день, {{ first_name }}!\n\nМаємо для вас сезонну пропозицію." if channel ==
            CampaignChannel.EMAIL else "",
            launched_at=anchor + timedelta(days=start) if status != CampaignStatus.DRAFT else None,
        )  # fmt: skip
        campaign.segments.set(segments[: 2 + i % 2])
        campaign.products.set(products[i : i + 2])
        campaigns.append(campaign)
        if status == CampaignStatus.DRAFT:
            continue
        costs = [("Розсилка та дизайн листа", Decimal("18500.00")), ("Реклама в соцмережах", Decimal("23750.50"))]
        if status == CampaignStatus.RUNNING:
            costs = costs[:1]
        for j, (note, amount) in enumerate(costs):
            CampaignCost.objects.create(
                campaign=campaign, spent_on=today + timedelta(days=start + j), amount=amount, note=note
            )
        campaign.actual_cost = sum((amount for _n, amount in costs), Decimal(0))
        campaign.send_status = "done" if status == CampaignStatus.COMPLETED else ""
        campaign.save(update_fields=["actual_cost", "send_status"])
        count = {CampaignStatus.COMPLETED: 120, CampaignStatus.RUNNING: 60}[status]
        people = _people_for(count, offset)
        offset += count // 2  # campaigns overlap: some people are in two
        sent_at = anchor + timedelta(days=start, hours=10)
        members = []
        for k, (person_id, company_id, region) in enumerate(people):
            segment = segments[k % (2 + i % 2)]
            if channel == CampaignChannel.CALLS:
                steps = MemberStatus.RESPONDED if k % 3 == 0 else MemberStatus.PLANNED
            elif status == CampaignStatus.COMPLETED:
                # Every status, the funnel narrowing: skipped, bounced, unsubscribed, sent … converted.
                steps = [MemberStatus.SKIPPED, MemberStatus.BOUNCED, MemberStatus.UNSUBSCRIBED, MemberStatus.SENT,
                         MemberStatus.DELIVERED, MemberStatus.DELIVERED, MemberStatus.OPENED, MemberStatus.OPENED,
                         MemberStatus.CLICKED, MemberStatus.RESPONDED, MemberStatus.CONVERTED,
                         MemberStatus.PLANNED][k % 12]  # fmt: skip
            else:
                steps = [MemberStatus.PLANNED, MemberStatus.SENT, MemberStatus.DELIVERED, MemberStatus.OPENED,
                         MemberStatus.CLICKED][k % 5]  # fmt: skip
            members.append(_member(campaign, person_id, company_id, region, segment.pk, steps, sent_at, rng))
        CampaignMember.objects.bulk_create(members)
        if status == CampaignStatus.COMPLETED:
            campaign.send_total = campaign.send_done = sum(1 for m in members if m.sent_at)
            campaign.save(update_fields=["send_total", "send_done"])
    return campaigns


ORDER = [MemberStatus.SENT, MemberStatus.DELIVERED, MemberStatus.OPENED, MemberStatus.CLICKED,
         MemberStatus.RESPONDED, MemberStatus.CONVERTED]  # fmt: skip


def _member(campaign: Campaign, person_id: int, company_id: int | None, region: str, segment_id: int,
            status: str, sent_at: datetime, rng: Any) -> CampaignMember:  # fmt: skip
    m = CampaignMember(campaign=campaign, person_id=person_id, company_id=company_id, region=region or "",
                       segment_id=segment_id, email=f"person{person_id}@example.net", status=status)  # fmt: skip
    if status == MemberStatus.SKIPPED:
        m.error = "Немає згоди на розсилку"
        return m
    if status == MemberStatus.PLANNED:
        return m
    at = sent_at + timedelta(minutes=rng.randrange(600))
    m.sent_at = at
    if status == MemberStatus.BOUNCED:
        m.bounced_at = at + timedelta(minutes=2)
        m.error = "550 5.1.1 User unknown"
        return m
    if status == MemberStatus.UNSUBSCRIBED:
        m.opened_at = at + timedelta(hours=1)
        m.unsubscribed_at = at + timedelta(hours=1, minutes=1)
        return m
    if campaign.channel == CampaignChannel.CALLS:
        m.responded_at = at
        return m
    reached = ORDER.index(status) if status in ORDER else 0
    if reached >= 2:
        m.opened_at = at + timedelta(hours=rng.randrange(1, 30))
    if reached >= 3:
        m.clicked_at = m.opened_at + timedelta(minutes=rng.randrange(1, 60))
    if reached >= 4:
        m.responded_at = m.clicked_at + timedelta(hours=rng.randrange(1, 48))
    if reached >= 5:
        m.converted_at = m.responded_at + timedelta(days=rng.randrange(1, 10))
    return m


def _seed_leads(ctx: SeedContext, anchor: datetime, campaigns: list[Campaign]) -> None:
    """60 leads over every status, channel and source; most from the curated campaigns' members."""
    rng = ctx.rng
    sales = list(User.objects.filter(groups__name=Role.SALES_REP).order_by("pk").values_list("pk", "team_id")[:6])
    products = list(Product.objects.order_by("pk").values_list("pk", flat=True)[:6])
    members = list(
        CampaignMember.objects.filter(campaign__in=campaigns[:3])
        .order_by("pk")
        .values_list("campaign_id", "person_id", "company_id", "region")
    )
    statuses = [LeadStatus.NEW] * 18 + [LeadStatus.WORKING] * 12 + [LeadStatus.QUALIFIED] * 8 + \
        [LeadStatus.CONVERTED] * 14 + [LeadStatus.DISQUALIFIED] * 8  # fmt: skip
    channels, sources = LeadChannel.values, [s for s in Source.values if s not in ("portal", "import")]
    reasons = DisqualifyReason.values
    leads = []
    for i, status in enumerate(statuses):
        created = anchor - timedelta(days=rng.randrange(1, 60), hours=rng.randrange(24))
        owner_id, team_id = sales[i % len(sales)] if sales else (None, None)
        lead = Lead(
            status=status, first_name=FIRST_NAMES[i % len(FIRST_NAMES)], last_name=LAST_NAMES[i % len(LAST_NAMES)],
            company_name=f"ТОВ «Заявка {i + 1}»", email=f"lead{i + 1}@example.net",
            region=[Region.KYIV_CITY, Region.LVIV, Region.DNIPROPETROVSK, Region.ODESA][i % 4],
            message=MESSAGES[i % len(MESSAGES)], product_id=products[i % len(products)] if products and i % 5 else None,
            source=sources[i % len(sources)], channel=channels[i % len(channels)], owner_id=owner_id, team_id=team_id,
            consent_email=i % 3 != 0,
        )  # fmt: skip
        if i % 10 < 7 and members:  # from a campaign, by one of its members
            campaign_id, person_id, company_id, region = members[(i * 7) % len(members)]
            lead.campaign_id, lead.matched_person_id, lead.matched_company_id = campaign_id, person_id, company_id
            lead.region = region or lead.region
            lead.utm_source, lead.utm_medium = "newsletter", "email"
            if status == LeadStatus.CONVERTED:
                lead.person_id, lead.company_id = person_id, company_id
        if status == LeadStatus.CONVERTED:
            if lead.company_id is None:
                lead.company_id = Company.objects.order_by("pk").values_list("pk", flat=True)[i]
            lead.converted_at = lead.closed_at = created + timedelta(days=rng.randrange(1, 10))
        elif status == LeadStatus.DISQUALIFIED:
            lead.disqualify_reason = reasons[i % len(reasons)]
            lead.closed_at = created + timedelta(days=2)
        leads.append((lead, created))
    Lead.objects.bulk_create(lead for lead, _created in leads)
    # auto_now_add overwrote created_at on save: set the appeal times back as drawn.
    for lead, created in leads:
        Lead.objects.filter(pk=lead.pk).update(created_at=created, updated_at=created)


def _seed_bulk(ctx: SeedContext, marketer: User, anchor: datetime) -> int | None:
    """The generated campaigns, members and leads of M and L (COPY); returns the big campaign's id."""
    n_campaigns, big_members, other_members, n_leads = SIZES[ctx.size]
    if not n_campaigns:
        return None
    rng = ctx.rng
    person_ids = ctx.shared["person_ids"]
    first_person, people_count = ctx.shared["company_first_person_id"], ctx.shared["company_people_count"]
    company_ids = ctx.shared["company_ids"]
    product_ids = ctx.shared.get("product_ids") or range(0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, region FROM contacts_company")
        region_of = dict(cursor.fetchall())
    # Each person's company (people of company c are contiguous from first_person[c]).
    company_of = [0] * len(person_ids)
    base = person_ids[0]
    for c, first in enumerate(first_person):
        for p in range(first - base, first - base + people_count[c]):
            company_of[p] = company_ids[c]
    segments = [
        Segment.objects.create(
            name=name, kind=SegmentKind.DYNAMIC, target=SegmentTarget.COMPANY, query=query, owner=marketer
        )
        for name, query in (
            ("Агрохолдинги", "q=агро"),
            ("Дилери", "q=дилер"),
            ("Фермерські господарства", "q=фг"),
            ("Роздрібні мережі", "q=мережа"),
        )
    ]
    today = anchor.date()
    channels = [CampaignChannel.EMAIL] * 6 + [CampaignChannel.CALLS, CampaignChannel.ADS, CampaignChannel.EVENT]
    campaigns = [
        Campaign(
            name=BIG_CAMPAIGN,
            channel=CampaignChannel.EMAIL,
            status=CampaignStatus.COMPLETED,
            starts_on=today - timedelta(days=40),
            ends_on=today - timedelta(days=10),
            budget=Decimal("400000"),
            actual_cost=Decimal("365420.00"),
            owner=marketer,
            send_status="done",
            utm_campaign="spring-all",
            email_subject="Весняний розпродаж",
            email_body="Добрий день, {{ first_name }}!",
        )
    ]
    for i in range(n_campaigns - 1):
        start = today - timedelta(days=rng.randrange(20, CHUNK_DAYS))
        budget = Decimal(rng.randrange(5, 200) * 1000)
        campaigns.append(Campaign(
            name=f"Кампанія {start:%m.%Y} №{i + 1}", channel=channels[i % len(channels)],
            status=CampaignStatus.COMPLETED if i % 10 else CampaignStatus.CANCELLED, starts_on=start,
            ends_on=start + timedelta(days=rng.randrange(3, 45)), budget=budget,
            actual_cost=(budget * Decimal(rng.randrange(60, 110)) / 100).quantize(Decimal("0.01")), owner=marketer,
            utm_campaign=f"camp-{i + 1}",
        ))  # fmt: skip
    campaigns = Campaign.objects.bulk_create(campaigns)
    big = campaigns[0]
    # Statuses as in a real send: (status, share) with the timestamps each implies.
    mix = [(MemberStatus.PLANNED, 3), (MemberStatus.SKIPPED, 4), (MemberStatus.BOUNCED, 3),
           (MemberStatus.UNSUBSCRIBED, 2), (MemberStatus.DELIVERED, 50), (MemberStatus.OPENED, 24),
           (MemberStatus.CLICKED, 9), (MemberStatus.RESPONDED, 4), (MemberStatus.CONVERTED, 1)]  # fmt: skip
    table = [status for status, weight in mix for _ in range(weight)]
    seg_ids = [s.pk for s in segments]

    def member_rows():
        blocks = [(big, 0, min(big_members, len(person_ids)))]
        per = other_members // max(1, len(campaigns) - 1)
        for campaign in campaigns[1:]:
            blocks.append((campaign, rng.randrange(0, max(1, len(person_ids) - per)), per))
        for campaign, offset, count in blocks:
            sent = datetime.combine(campaign.starts_on, datetime.min.time(), tzinfo=anchor.tzinfo) + timedelta(hours=9)
            ts = [_ts(sent + timedelta(hours=h)) for h in range(0, 96)]
            calls = campaign.channel == CampaignChannel.CALLS
            for p in range(offset, offset + count):
                status = table[int(rng.random() * len(table))]
                company_id = company_of[p]
                sent_at = opened = clicked = responded = converted = unsub = bounced = None
                if status not in (MemberStatus.PLANNED, MemberStatus.SKIPPED):
                    sent_at = ts[p % 8]
                    if status == MemberStatus.BOUNCED:
                        bounced = ts[p % 8 + 1]
                    elif status == MemberStatus.UNSUBSCRIBED:
                        opened, unsub = ts[p % 8 + 2], ts[p % 8 + 3]
                    elif calls:
                        responded = (
                            ts[p % 8 + 1] if status in (MemberStatus.RESPONDED, MemberStatus.CONVERTED) else None
                        )
                    else:
                        if status in (MemberStatus.OPENED, MemberStatus.CLICKED, MemberStatus.RESPONDED,
                                      MemberStatus.CONVERTED):  # fmt: skip
                            opened = ts[p % 8 + 4]
                        if status in (MemberStatus.CLICKED, MemberStatus.RESPONDED, MemberStatus.CONVERTED):
                            clicked = ts[p % 8 + 5]
                        if status in (MemberStatus.RESPONDED, MemberStatus.CONVERTED):
                            responded = ts[p % 8 + 30]
                        if status == MemberStatus.CONVERTED:
                            converted = ts[p % 8 + 80]
                yield (campaign.pk, base + p, company_id, seg_ids[company_id % 4], region_of.get(company_id, ""),
                       f"person{base + p}@example.net", status, sent_at, opened, clicked, responded, converted, unsub,
                       bounced, "")  # fmt: skip

    sales = list(User.objects.filter(groups__name=Role.SALES_REP).order_by("pk").values_list("pk", "team_id"))
    lead_statuses = [LeadStatus.NEW] * 30 + [LeadStatus.WORKING] * 20 + [LeadStatus.QUALIFIED] * 10 + \
        [LeadStatus.CONVERTED] * 25 + [LeadStatus.DISQUALIFIED] * 15  # fmt: skip
    sources = [s for s in Source.values if s not in ("portal", "import")]
    regions = Region.values
    campaign_ids = [c.pk for c in campaigns]

    def lead_rows():
        for i in range(n_leads):
            status = lead_statuses[int(rng.random() * len(lead_statuses))]
            created = anchor - timedelta(seconds=rng.randrange(1, CHUNK_DAYS * 86_400))
            # A fifth of the leads come from the big campaign, most others from another campaign.
            r = rng.random()
            campaign_id = (
                big.pk if r < 0.2 else campaign_ids[int(rng.random() * len(campaign_ids))] if r < 0.85 else None
            )
            p = int(rng.random() * len(person_ids))
            person_id, company_id = base + p, company_of[p]
            owner_id, team_id = sales[i % len(sales)] if sales else (None, None)
            converted = status == LeadStatus.CONVERTED
            closed = status in (LeadStatus.CONVERTED, LeadStatus.DISQUALIFIED)
            yield (
                _ts(created), _ts(created), status, FIRST_NAMES[i % 10], LAST_NAMES[i % 8], "",
                f"ТОВ «Заявка {i + 1}»", "", f"lead{i + 1}@example.org", "", "", regions[i % len(regions)]
                if i % 3 else region_of.get(company_id, ""), "", MESSAGES[i % len(MESSAGES)],
                product_ids[i % len(product_ids)] if product_ids and i % 4 else None, sources[i % len(sources)],
                LeadChannel.values[i % len(LeadChannel.values)], campaign_id, None, "", "", "", "", "", "", None,
                i % 3 != 0, "{}", company_id if i % 2 else None, person_id if i % 2 else None, owner_id, team_id,
                company_id if converted else None, person_id if converted else None, None,
                _ts(created + timedelta(days=3)) if converted else None,
                DisqualifyReason.values[i % 7] if status == LeadStatus.DISQUALIFIED else "", "",
                _ts(created + timedelta(days=3)) if closed else None,
            )  # fmt: skip

    member_columns = ["campaign_id", "person_id", "company_id", "segment_id", "region", "email", "status", "sent_at",
                      "opened_at", "clicked_at", "responded_at", "converted_at", "unsubscribed_at", "bounced_at",
                      "error"]  # fmt: skip
    lead_columns = ["created_at", "updated_at", "status", "first_name", "last_name", "position", "company_name",
                    "edrpou", "email", "phone", "phone_digits", "region", "city", "message", "product_id", "source",
                    "channel", "campaign_id", "web_form_id", "utm_source", "utm_medium", "utm_campaign", "utm_term",
                    "utm_content", "referrer", "submitted_ip", "consent_email", "warnings", "matched_company_id",
                    "matched_person_id", "owner_id", "team_id", "company_id", "person_id", "deal_id", "converted_at",
                    "disqualify_reason", "disqualify_note", "closed_at"]  # fmt: skip
    tables = (CampaignMember._meta.db_table, Lead._meta.db_table)
    with _bulk_load(tables, enabled=ctx.size in BULK_LOAD_SIZES):
        total = min(big_members, len(person_ids)) + other_members
        ctx.copy_rows(CampaignMember._meta.db_table, member_columns, member_rows(), total)
        ctx.copy_rows(Lead._meta.db_table, lead_columns, lead_rows(), n_leads)
    return big.pk
