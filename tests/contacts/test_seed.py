"""Contacts demo data (issue 4, item 14): `seed_demo --size S` and the bulk-load path of sizes M and L."""

from datetime import UTC, datetime, timedelta

import phonenumbers
import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, F, Max, Min, Q
from django.utils import timezone

from contacts import seed as contacts_seed
from contacts.models import (
    PHONE_KINDS,
    Company,
    CompanyRole,
    ContactPoint,
    ContactPointKind,
    Industry,
    Interaction,
    InteractionChannel,
    LegalForm,
    Person,
    Region,
)
from contacts.seed import DEMO_CLIENT_EDRPOU, DEMO_REP_EMAIL, TABLES, edrpou_check_digit
from contacts.validators import edrpou_is_valid, normalize_email, normalize_phone

pytestmark = pytest.mark.django_db


def _seed_s() -> None:
    call_command("seed_demo", size="S", no_progress=True)


def _empty_the_database() -> None:
    """What seed_demo needs to run again: no users (TRUNCATE ... CASCADE empties everything they own)."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE refuses tables with queued FK checks
        # The sales catalogue belongs to nobody: emptied by name (deals.seed makes it again).
        cursor.execute(
            "TRUNCATE crm_user, crm_team, contacts_industry, deals_product, deals_category, deals_customergroup, "
            "deals_loyaltyrule CASCADE"
        )
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _schema() -> tuple[list, list]:
    """Index and foreign-key definitions of the four big contacts tables."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) ORDER BY 1", [list(TABLES)]
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) ORDER BY 1",
            [list(TABLES)],
        )
        return indexes, cursor.fetchall()


def test_edrpou_check_digit_matches_the_validator():
    for first7 in ("0000000", "1234567", "2999999", "3000000", "3825471", "4567890", "5999999", "6000001", "9999999"):
        assert edrpou_is_valid(first7 + edrpou_check_digit(first7)), first7
    with pytest.raises(ValueError, match="6000000"):
        edrpou_check_digit("6000000")


def test_seed_demo_s_creates_the_counts_and_valid_data():
    _seed_s()

    assert Company.objects.count() == 300
    assert Person.objects.count() == 900
    assert ContactPoint.objects.count() == 2_000
    assert Interaction.objects.count() == 3_000
    assert Industry.objects.count() == len(contacts_seed.INDUSTRIES)

    # Companies: valid EDRPOU codes, choices from the models, the owner's team, some shared.
    codes = list(Company.objects.exclude(edrpou="").values_list("edrpou", flat=True))
    assert len(codes) > 200
    assert all(edrpou_is_valid(code) for code in codes)
    assert all(
        roles and set(roles) <= set(CompanyRole.values) for roles in Company.objects.values_list("roles", flat=True)
    )
    assert set(Company.objects.values_list("region", flat=True)) <= set(Region.values)
    assert not Company.objects.exclude(team_id=F("owner__team_id")).exists()
    assert Company.objects.filter(is_shared=True).exists()
    # A sole proprietor has a personal tax number, no EDRPOU code.
    assert not Company.objects.filter(legal_form=LegalForm.FOP).exclude(edrpou="").exists()
    assert Company.objects.filter(legal_form=LegalForm.FOP, name__startswith="ФОП ").exclude(tax_number="").exists()
    # Duplicates on purpose: the same code twice, and names typed differently without a code but with
    # the original's e-mail.
    same_code = (
        Company.objects.exclude(edrpou="").values("edrpou").annotate(n=Count("id"), teams=Count("team", distinct=True))
    )
    assert same_code.filter(n__gt=1).count() >= 3
    assert not same_code.filter(teams__gt=1).exists()  # entered twice within one team: its manager sees both
    near = Company.objects.filter(edrpou="").exclude(legal_form=LegalForm.FOP)
    assert near.count() >= 3
    for company in near:
        email = company.points.get(kind=ContactPointKind.EMAIL).normalized
        assert ContactPoint.objects.filter(normalized=email).exclude(company=company).exists(), company.name

    # People: the company's owner, birthdays over the year including 29 February, a year for most.
    assert not Person.objects.exclude(owner_id=F("company__owner_id")).exists()
    assert not Person.objects.exclude(team_id=F("company__team_id")).exists()
    assert Person.objects.filter(birth_month=2, birth_day=29).exists()
    assert (
        not Person.objects.filter(birth_month=2, birth_day=29, birth_year__isnull=False)
        .exclude(birth_year__in=range(1952, 2008, 4))
        .exists()
    )
    assert Person.objects.values("birth_month").distinct().count() == 13  # 12 months and "unknown"
    with_year = Person.objects.filter(birth_year__isnull=False).count()
    assert 0.4 < with_year / Person.objects.filter(birth_month__isnull=False).count() < 0.8
    assert all(full_name.count(" ") >= 2 for full_name in Person.objects.values_list("full_name", flat=True))

    # Contact points: exactly one holder; phones in E.164 with their digits reversed; e-mails lower-case.
    assert not ContactPoint.objects.filter(
        Q(company__isnull=True, person__isnull=True) | Q(company__isnull=False, person__isnull=False)
    ).exists()
    phones = ContactPoint.objects.filter(kind__in=PHONE_KINDS)
    assert phones.count() > 1_000
    for value, normalized, digits_reversed in phones.values_list("value", "normalized", "digits_reversed"):
        number = phonenumbers.parse(normalized)
        assert phonenumbers.is_valid_number(number), normalized
        assert phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == normalized
        assert normalize_phone(value) == normalized
        assert digits_reversed == normalized[1:][::-1]
    emails = list(ContactPoint.objects.filter(kind=ContactPointKind.EMAIL).values_list("value", "normalized"))
    assert len(emails) > 300
    for value, normalized in emails:
        assert value == normalize_email(value) == normalized
    # One primary per kind and holder.
    primaries = ContactPoint.objects.filter(is_primary=True).values("company", "person", "kind")
    assert not primaries.annotate(n=Count("id")).filter(n__gt=1).exists()
    assert ContactPoint.objects.filter(is_primary=False).exists()

    # Interactions: by the company's owner, with a person of that company or nobody, in the last 3 years.
    assert not Interaction.objects.exclude(user_id=F("company__owner_id")).exists()
    assert not Interaction.objects.filter(person__isnull=False).exclude(person__company_id=F("company_id")).exists()
    assert Interaction.objects.filter(person__isnull=True).exists()
    assert Interaction.objects.values("channel").distinct().count() == len(InteractionChannel.values)
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    span = Interaction.objects.aggregate(first=Min("occurred_at"), last=Max("occurred_at"))
    assert today - timedelta(days=3 * 365 + 1) <= span["first"]
    assert span["last"] < today

    # The demo client: the demo representative's, with its long history.
    demo = Company.objects.get(edrpou=DEMO_CLIENT_EDRPOU)
    assert demo.owner.email == DEMO_REP_EMAIL
    assert demo.interactions.count() == 500
    assert demo.people.count() == 10

    # "Last contact" is the latest interaction, for companies and people; never-contacted ones have none.
    for model in (Company, Person):
        rows = model.objects.annotate(latest=Max("interactions__occurred_at"))
        assert not rows.exclude(last_contact_at=F("latest")).exclude(last_contact_at=None, latest=None).exists()
        assert rows.filter(last_contact_at__isnull=False).count() > 250
    assert Company.objects.filter(last_contact_at__isnull=True).exists()


def test_seed_demo_s_is_deterministic():
    _seed_s()
    first = _snapshot()
    _empty_the_database()
    assert not Company.objects.exists()
    _seed_s()
    assert _snapshot() == first


def test_bulk_load_rebuilds_the_indexes_and_foreign_keys(monkeypatch):
    """Sizes M and L load with the secondary indexes and foreign keys dropped: the same schema comes back."""
    before = _schema()
    monkeypatch.setattr(contacts_seed, "BULK_LOAD_SIZES", ("S",))
    _seed_s()
    assert _schema() == before
    assert Interaction.objects.count() == 3_000
    with contacts_seed._bulk_load(TABLES, enabled=True):
        indexes, foreign_keys = _schema()
        assert {name for name, _definition in indexes} == {f"{table}_pkey" for table in TABLES}
        assert foreign_keys == []
    assert _schema() == before


def _snapshot() -> dict[str, list]:
    """The seeded rows without their ids (a second run gets new ids from the sequences)."""
    return {
        "companies": list(Company.objects.order_by("pk").values_list("name", "edrpou", "owner__email", "created_at")),
        "people": list(Person.objects.order_by("pk").values_list("full_name", "company__name", "birth_month")),
        "points": list(ContactPoint.objects.order_by("pk").values_list("kind", "value", "is_primary")),
        "interactions": list(
            Interaction.objects.order_by("pk").values_list(
                "company__name", "occurred_at", "subject", "person__full_name"
            )
        ),
    }


def test_clock_writes_the_same_instant_as_datetime_arithmetic():
    anchor = datetime(2024, 3, 1, tzinfo=UTC)
    clock = contacts_seed._Clock(anchor)
    for seconds in (0, 1, 86_399, 86_400, 86_401, 3 * 86_400 - 21_600, 2 * 365 * 86_400 + 12_345):
        expected = anchor - timedelta(seconds=seconds)
        assert datetime.fromisoformat(clock.ago(seconds)) == expected, seconds
    assert clock.ago(86_400 - 1) == "2024-02-29 00:00:01+00"  # through a leap day
    with pytest.raises(ValueError, match="UTC midnight"):
        contacts_seed._Clock(datetime(2024, 3, 1, 12, tzinfo=UTC))
