"""Deals (issue #6, items 2, 7, 8): services (every rule), the deal card, the list, forms and the company tab."""

import threading
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from contacts import registry
from contacts.models import Interaction
from crm.models import Role
from deals import selectors_deals as selectors
from deals import services_deals as services
from deals.models import Deal, DealLine, DealStageChange, DealStatus, Pipeline
from tests.conftest import make_user
from tests.contacts.factories import ActivityFactory, CompanyFactory, InteractionFactory, PersonFactory
from tests.deals.factories_catalogue import DiscountFactory, PriceListFactory, PriceListItemFactory, ProductFactory
from tests.deals.factories_deals import DealFactory, DealLineFactory, LossReasonFactory, make_pipeline

D = Decimal
CONFLICT = "Someone else changed this deal while you were editing. Reload to see their changes."


@pytest.fixture(autouse=True)
def english():
    """Service messages are checked in English (the users of the view tests speak English too)."""
    with translation.override("en"):
        yield


@pytest.fixture
def stages(db):
    return make_pipeline()[1]


@pytest.fixture
def company(owner):
    return CompanyFactory(owner=owner)


@pytest.fixture
def deal(owner, company, stages):
    return DealFactory(owner=owner, company=company, stage=stages["new"], amount=D("1000.00"))


@pytest.fixture
def reason(db):
    return LossReasonFactory(name="Ціна дорога")


def url(name, *args):
    return reverse(f"deals:{name}", args=args)


def fresh(deal):
    return Deal.objects.get(pk=deal.pk)


# --- create ---------------------------------------------------------------------------------------------


def test_deal_create_defaults_owner_team_probability_and_records_the_first_stage(owner, company, stages):
    # when
    deal = services.deal_create(actor=owner, title="  Поставка  ", company=company, stage=stages["offer"])

    # then
    deal.refresh_from_db()
    assert (deal.title, deal.owner, deal.team, deal.pipeline) == (
        "Поставка",
        owner,
        owner.team,
        stages["offer"].pipeline,
    )
    assert deal.probability == 40  # the stage's
    assert (deal.status, deal.version, deal.amount, deal.has_lines) == (DealStatus.OPEN, 1, D("0.00"), False)
    change = DealStageChange.objects.get(deal=deal)
    assert (change.from_stage, change.to_stage, change.changed_by) == (None, stages["offer"], owner)
    assert deal.stage_changed_at == change.changed_at
    assert deal.history.get().history_user == owner


def test_deal_create_without_a_stage_uses_the_default_pipelines_first_open_stage(owner, company):
    pipeline = Pipeline.objects.filter(is_default=True).first()
    if pipeline is None:  # a transactional test flushed the reference data
        pipeline = make_pipeline()[0]
        Pipeline.objects.filter(pk=pipeline.pk).update(is_default=True)
    deal = services.deal_create(actor=owner, title="Угода", company=company, amount=D("250.50"), probability=55)
    assert deal.pipeline == pipeline
    assert deal.stage == pipeline.stages.filter(is_won=False, is_lost=False).order_by("order").first()
    assert (deal.amount, deal.probability) == (D("250.50"), 55)


def test_deal_create_refuses_a_company_the_actor_cannot_see(owner, outsider, stages):
    foreign = CompanyFactory(owner=outsider)
    with pytest.raises(ValidationError) as error:
        services.deal_create(actor=owner, title="Угода", company=foreign, stage=stages["new"])
    assert error.value.message_dict == {"company": ["Choose a company from your list."]}
    assert not Deal.objects.exists()


def test_deal_create_refuses_a_person_of_another_company(owner, company, stages):
    stranger = PersonFactory(company=CompanyFactory(owner=owner))
    with pytest.raises(ValidationError) as error:
        services.deal_create(actor=owner, title="Угода", company=company, person=stranger, stage=stages["new"])
    assert "person" in error.value.message_dict
    assert not Deal.objects.exists()


def test_deal_create_checks_pipeline_and_stage_agree(owner, company, stages):
    other_pipeline, _other = make_pipeline()
    with pytest.raises(ValidationError) as error:
        services.deal_create(actor=owner, title="Угода", company=company, pipeline=other_pipeline, stage=stages["new"])
    assert "stage" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.deal_create(actor=owner, title="Угода", company=company, stage=stages["won"])
    assert error.value.message_dict == {"stage": ["Use the Win or Lose buttons to close a deal."]}
    assert not Deal.objects.exists()


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (D("10.555"), "Enter an amount with at most 2 decimal places."),
        (D("-1"), "The amount cannot be negative."),
        ("abc", "Enter a number."),
    ],
)
def test_deal_create_refuses_bad_money(owner, company, stages, amount, message):
    with pytest.raises(ValidationError) as error:
        services.deal_create(actor=owner, title="Угода", company=company, stage=stages["new"], amount=amount)
    assert error.value.message_dict == {"amount": [message]}
    assert not Deal.objects.exists()


def test_deal_create_owner_must_be_of_the_actors_team(owner, company, stages, teammate, outsider):
    deal = services.deal_create(actor=owner, title="Угода", company=company, stage=stages["new"], owner=teammate)
    assert (deal.owner, deal.team) == (teammate, teammate.team)
    with pytest.raises(ValidationError) as error:
        services.deal_create(actor=owner, title="Угода", company=company, stage=stages["new"], owner=outsider)
    assert "owner" in error.value.message_dict


def test_deal_create_needs_the_permission(readonly, stages):
    company = CompanyFactory(owner=readonly)
    with pytest.raises(PermissionDenied):
        services.deal_create(actor=readonly, title="Угода", company=company, stage=stages["new"])


# --- edit and optimistic locking ------------------------------------------------------------------------


def test_deal_update_saves_increments_the_version_and_records_history(owner, deal):
    # when
    services.deal_update(deal=deal, actor=owner, version=1, title="Нова назва", amount=D("1500.25"))

    # then
    stored = fresh(deal)
    assert (stored.title, stored.amount, stored.version) == ("Нова назва", D("1500.25"), 2)
    assert deal.version == 2  # the caller's instance follows
    record = stored.history.order_by("-history_date").first()
    assert (record.history_user, record.title) == (owner, "Нова назва")


def test_deal_update_with_two_stale_copies_refuses_the_second_and_loses_nothing(owner, teammate, manager, deal):
    # given: two people opened the same deal (version 1)
    first, second = fresh(deal), fresh(deal)

    # when: the first saves
    services.deal_update(deal=first, actor=owner, version=first.version, title="Від Олени", amount=D("2000.00"))

    # then: the second, still at version 1, is refused with a clear message and saves nothing
    with pytest.raises(ValidationError) as error:
        services.deal_update(deal=second, actor=manager, version=second.version, title="Від Петра", competitor="X")
    assert error.value.messages == [CONFLICT]
    assert isinstance(error.value, services.DealConflict)
    stored = fresh(deal)
    assert (stored.title, stored.amount, stored.competitor, stored.version) == ("Від Олени", D("2000.00"), "", 2)
    assert second.title == deal.title  # the refused caller's instance is untouched
    assert stored.history.count() == 2  # created + the first save


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_saves_of_one_version_let_exactly_one_through(owner, manager):
    # given: a deal both users opened at version 1; the first save holds its transaction open
    deal = DealFactory(owner=owner, stage=make_pipeline()[1]["new"])
    holding, release = threading.Event(), threading.Event()
    results: dict[str, object] = {}

    def save(actor, title: str, hold: bool) -> None:
        # A thread does not inherit the test's language: English here, also while reading the message.
        with translation.override("en"):
            try:
                with transaction.atomic():
                    services.deal_update(deal=Deal.objects.get(pk=deal.pk), actor=actor, version=1, title=title)
                    if hold:
                        holding.set()
                        release.wait(5)
                results[title] = "saved"
            except ValidationError as error:
                results[title] = error.messages
            finally:
                connections.close_all()

    first = threading.Thread(target=save, args=(owner, "Перший", True))
    first.start()
    assert holding.wait(5)
    second = threading.Thread(target=save, args=(manager, "Другий", False))
    second.start()
    time.sleep(0.3)  # the second UPDATE … WHERE version = 1 now waits for the first's row lock

    # when: the first commits
    release.set()
    first.join(5)
    second.join(5)

    # then: the second found version 2 and saved nothing
    assert results == {"Перший": "saved", "Другий": [CONFLICT]}
    stored = fresh(deal)
    assert (stored.title, stored.version) == ("Перший", 2)


def test_stale_version_is_refused_by_every_write(owner, deal, stages, reason):
    services.deal_update(deal=fresh(deal), actor=owner, version=1, title="x")
    for call in (
        lambda: services.deal_move_stage(deal=deal, stage=stages["offer"], actor=owner, version=1),
        lambda: services.deal_mark_won(deal=deal, actor=owner, version=1),
        lambda: services.deal_mark_lost(deal=deal, actor=owner, reason=reason, version=1),
        lambda: services.deal_line_add(deal=deal, actor=owner, product=ProductFactory(), quantity=1, version=1),
    ):
        with pytest.raises(services.DealConflict):
            call()
    stored = fresh(deal)
    assert (stored.stage, stored.status, stored.version) == (stages["new"], DealStatus.OPEN, 2)
    assert not DealLine.objects.exists()


def test_deal_update_owner_brings_the_owners_team_and_must_be_a_teammate(owner, deal, teammate, outsider):
    services.deal_update(deal=deal, actor=owner, version=1, owner=teammate)
    assert (fresh(deal).owner, fresh(deal).team) == (teammate, teammate.team)
    with pytest.raises(ValidationError) as error:
        services.deal_update(deal=fresh(deal), actor=teammate, version=2, owner=outsider)
    assert "owner" in error.value.message_dict
    assert fresh(deal).version == 2


def test_deal_update_moving_to_another_company_checks_the_person(owner, deal):
    person = PersonFactory(company=deal.company)
    services.deal_update(deal=deal, actor=owner, version=1, person=person)
    other = CompanyFactory(owner=owner)
    with pytest.raises(ValidationError) as error:
        services.deal_update(deal=fresh(deal), actor=owner, version=2, company=other)
    assert "person" in error.value.message_dict
    services.deal_update(deal=fresh(deal), actor=owner, version=2, company=other, person=None)
    assert fresh(deal).company == other


def test_deal_update_to_another_stage_records_it_and_takes_its_probability(owner, deal, stages):
    services.deal_update(deal=deal, actor=owner, version=1, stage=stages["talks"], probability=10)
    stored = fresh(deal)
    assert (stored.stage, stored.probability) == (stages["talks"], 70)
    assert DealStageChange.objects.filter(deal=deal, from_stage=stages["new"], to_stage=stages["talks"]).exists()


def test_deal_update_refuses_a_manual_amount_when_the_deal_has_lines(owner, deal):
    services.deal_line_add(deal=deal, actor=owner, product=ProductFactory(), quantity=2, price=D("10.00"))
    with pytest.raises(ValidationError) as error:
        services.deal_update(deal=fresh(deal), actor=owner, version=2, amount=D("5.00"))
    assert "amount" in error.value.message_dict
    assert fresh(deal).amount == D("20.00")


def test_deal_update_refuses_more_than_two_decimals(owner, deal):
    with pytest.raises(ValidationError) as error:
        services.deal_update(deal=deal, actor=owner, version=1, amount=D("1.005"))
    assert error.value.message_dict == {"amount": ["Enter an amount with at most 2 decimal places."]}
    assert fresh(deal).version == 1


# --- stages, win, lose, reopen --------------------------------------------------------------------------


def test_move_stage_writes_history_time_and_probability(owner, deal, stages):
    # when
    services.deal_move_stage(deal=deal, stage=stages["offer"], actor=owner, version=1)

    # then
    stored = fresh(deal)
    assert (stored.stage, stored.probability, stored.version, stored.status) == (stages["offer"], 40, 2, "open")
    change = DealStageChange.objects.filter(deal=deal).order_by("-changed_at", "-pk").first()
    assert (change.from_stage, change.to_stage, change.changed_by) == (stages["new"], stages["offer"], owner)
    assert stored.stage_changed_at == change.changed_at
    assert stored.history.order_by("-history_date").first().history_user == owner


def test_move_to_the_same_stage_changes_nothing(owner, deal, stages):
    services.deal_move_stage(deal=deal, stage=stages["new"], actor=owner, version=1)
    assert fresh(deal).version == 1
    assert DealStageChange.objects.filter(deal=deal).count() == 1


def test_move_to_a_stage_of_another_pipeline_is_refused(owner, deal):
    _pipeline, other = make_pipeline()
    with pytest.raises(ValidationError) as error:
        services.deal_move_stage(deal=deal, stage=other["offer"], actor=owner, version=1)
    assert "stage" in error.value.message_dict
    assert fresh(deal).stage == deal.stage


def test_move_to_a_won_stage_wins_the_deal(owner, deal, stages):
    services.deal_move_stage(deal=deal, stage=stages["won"], actor=owner, version=1)
    stored = fresh(deal)
    assert (stored.status, stored.stage, stored.probability) == (DealStatus.WON, stages["won"], 100)
    assert stored.closed_at is not None


def test_move_to_a_lost_stage_needs_a_reason_and_saves_nothing_without_one(owner, deal, stages):
    with pytest.raises(ValidationError) as error:
        services.deal_move_stage(deal=deal, stage=stages["lost"], actor=owner, version=1)
    assert error.value.message_dict == {"loss_reason": ["Choose why the deal was lost."]}
    stored = fresh(deal)
    assert (stored.status, stored.stage, stored.version) == (DealStatus.OPEN, stages["new"], 1)
    assert DealStageChange.objects.filter(deal=deal).count() == 1


def test_move_to_a_lost_stage_with_a_reason_loses_the_deal(owner, deal, stages, reason):
    services.deal_move_stage(
        deal=deal, stage=stages["lost"], actor=owner, version=1, loss_reason=reason, loss_comment=" Дорого ",
        competitor="ТОВ Конкурент",
    )  # fmt: skip
    stored = fresh(deal)
    assert (stored.status, stored.stage, stored.loss_reason, stored.loss_comment, stored.competitor) == (
        DealStatus.LOST,
        stages["lost"],
        reason,
        "Дорого",
        "ТОВ Конкурент",
    )
    assert stored.closed_at is not None
    assert stored.probability == 0


def test_mark_lost_refuses_an_inactive_reason(owner, deal):
    old = LossReasonFactory(name="Застаріла", is_active=False)
    with pytest.raises(ValidationError) as error:
        services.deal_mark_lost(deal=deal, actor=owner, reason=old, version=1)
    assert "loss_reason" in error.value.message_dict
    assert fresh(deal).status == DealStatus.OPEN


def test_mark_won_moves_to_the_won_stage_and_closes(owner, deal, stages):
    services.deal_mark_won(deal=deal, actor=owner, version=1)
    stored = fresh(deal)
    assert (stored.status, stored.stage) == (DealStatus.WON, stages["won"])
    assert DealStageChange.objects.filter(deal=deal, to_stage=stages["won"], changed_by=owner).exists()
    with pytest.raises(ValidationError):
        services.deal_mark_won(deal=stored, actor=owner)  # already won


def test_reopen_returns_to_the_stage_before_the_close(owner, deal, stages, reason):
    services.deal_move_stage(deal=deal, stage=stages["talks"], actor=owner)
    services.deal_mark_lost(deal=deal, actor=owner, reason=reason, comment="ціна")

    services.deal_reopen(deal=deal, actor=owner, version=fresh(deal).version)

    stored = fresh(deal)
    assert (stored.status, stored.stage, stored.probability) == (DealStatus.OPEN, stages["talks"], 70)
    assert (stored.closed_at, stored.loss_reason, stored.loss_comment) == (None, None, "")
    assert DealStageChange.objects.filter(deal=deal, from_stage=stages["lost"], to_stage=stages["talks"]).exists()
    with pytest.raises(ValidationError):
        services.deal_reopen(deal=stored, actor=owner)  # already open


def test_a_closed_deal_cannot_be_moved_or_get_lines(owner, deal, stages):
    services.deal_mark_won(deal=deal, actor=owner)
    with pytest.raises(ValidationError):
        services.deal_move_stage(deal=deal, stage=stages["offer"], actor=owner)
    with pytest.raises(ValidationError):
        services.deal_line_add(deal=deal, actor=owner, product=ProductFactory(), quantity=1)


def test_stage_history_gives_the_time_spent_in_each_stage(owner, company, stages):
    start = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        deal = services.deal_create(actor=owner, title="Угода", company=company, stage=stages["new"])
    with time_machine.travel(start + timedelta(hours=2), tick=False):
        services.deal_move_stage(deal=deal, stage=stages["offer"], actor=owner)
    with time_machine.travel(start + timedelta(days=1, hours=2), tick=False):
        services.deal_move_stage(deal=deal, stage=stages["new"], actor=owner)
    with time_machine.travel(start + timedelta(days=1, hours=3), tick=False):
        services.deal_move_stage(deal=deal, stage=stages["talks"], actor=owner)

    with time_machine.travel(start + timedelta(days=3, hours=3), tick=False):
        visits = selectors.stage_history(deal=fresh(deal))
        times = selectors.time_in_stages(visits, current_stage_id=stages["talks"].pk)

    assert [(v.stage.name, v.duration) for v in visits] == [
        ("New", timedelta(hours=2)),
        ("Offer", timedelta(days=1)),
        ("New", timedelta(hours=1)),
        ("Talks", timedelta(days=2)),  # the current stage counts until now
    ]
    assert [(t.stage.name, t.duration, t.is_current) for t in times] == [
        ("New", timedelta(hours=3), False),
        ("Offer", timedelta(days=1), False),
        ("Talks", timedelta(days=2), True),
    ]
    assert times[0].duration_label == "3 h 0 min"
    assert times[2].duration_label == "2 d 0 h"


def test_a_closed_deals_final_stage_has_no_duration(owner, deal):
    services.deal_mark_won(deal=deal, actor=owner)
    visits = selectors.stage_history(deal=fresh(deal))
    assert visits[-1].duration is None
    assert visits[0].duration is not None


# --- lines and amounts ----------------------------------------------------------------------------------


def test_line_price_and_discount_come_from_the_catalogue(owner, deal):
    product = ProductFactory(base_price=D("120.00"))
    price_list = PriceListFactory(company=deal.company)
    PriceListItemFactory(price_list=price_list, product=product, price=D("99.99"))
    DiscountFactory(company=deal.company, percent=D("10.00"))

    line = services.deal_line_add(deal=deal, actor=owner, product=product, quantity=D("3"))

    assert (line.price, line.discount_percent) == (D("99.99"), D("10.00"))
    stored = fresh(deal)
    assert stored.amount == D("269.97")  # 3 × 99.99 × 0.9 = 269.973
    assert stored.has_lines
    assert stored.version == 2


def test_amount_is_the_sum_of_lines_each_rounded_half_up(owner, deal):
    product = ProductFactory()
    services.deal_line_add(
        deal=deal, actor=owner, product=product, quantity=D("1.5"), price=D("0.35"), discount_percent=0
    )
    services.deal_line_add(
        deal=deal, actor=owner, product=product, quantity=D("1.5"), price=D("0.35"), discount_percent=0
    )
    services.deal_line_add(
        deal=deal, actor=owner, product=product, quantity=D("1"), price=D("0.05"), discount_percent=D("50")
    )
    # 1.5 × 0.35 = 0.525 → 0.53 (half-up, not banker's 0.52), twice; 0.05 × 0.5 = 0.025 → 0.03
    assert fresh(deal).amount == D("1.09")
    assert [r.total for r in selectors.deal_lines(deal=deal)] == [D("0.53"), D("0.53"), D("0.03")]


def test_line_update_and_remove_keep_the_amount_and_the_last_removal_makes_it_manual(owner, deal):
    line = services.deal_line_add(deal=deal, actor=owner, product=ProductFactory(), quantity=2, price=D("50.00"))
    services.deal_line_update(line=line, actor=owner, quantity=D("4"), price=D("50.00"), discount_percent=D("25"))
    assert fresh(deal).amount == D("150.00")

    services.deal_line_remove(line=DealLine.objects.get(pk=line.pk), actor=owner)

    stored = fresh(deal)
    assert (stored.amount, stored.has_lines, stored.version) == (D("0.00"), False, 4)
    assert DealLine.history.filter(deal_id=deal.pk, history_type="-", history_user=owner).exists()


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"quantity": D("0")}, "quantity", "The quantity must be above zero."),
        ({"quantity": D("-2")}, "quantity", "The quantity must be above zero."),
        ({"price": D("-1.00")}, "price", "The amount cannot be negative."),
        ({"price": D("1.001")}, "price", "Enter an amount with at most 2 decimal places."),
        ({"discount_percent": D("100.5")}, "discount_percent", "A discount is between 0 and 100 %."),
        ({"discount_percent": D("-1")}, "discount_percent", "A discount is between 0 and 100 %."),
    ],
)
def test_bad_line_input_is_refused_and_nothing_is_saved(owner, deal, values, field, message):
    kwargs = {"quantity": D("1"), "price": D("10.00"), "discount_percent": D("0"), **values}
    with pytest.raises(ValidationError) as error:
        services.deal_line_add(deal=deal, actor=owner, product=ProductFactory(), **kwargs)
    assert error.value.message_dict == {field: [message]}
    stored = fresh(deal)
    assert (stored.amount, stored.has_lines, stored.version) == (D("1000.00"), False, 1)
    assert not DealLine.objects.exists()


def test_an_inactive_product_cannot_be_added(owner, deal):
    with pytest.raises(ValidationError) as error:
        services.deal_line_add(deal=deal, actor=owner, product=ProductFactory(is_active=False), quantity=1)
    assert "product" in error.value.message_dict


# --- permission -----------------------------------------------------------------------------------------


def test_an_outsider_cannot_change_a_deal(outsider, deal, stages, reason):
    for call in (
        lambda: services.deal_update(deal=deal, actor=outsider, version=1, title="x"),
        lambda: services.deal_move_stage(deal=deal, stage=stages["offer"], actor=outsider, version=1),
        lambda: services.deal_mark_won(deal=deal, actor=outsider),
        lambda: services.deal_mark_lost(deal=deal, actor=outsider, reason=reason),
        lambda: services.deal_line_add(deal=deal, actor=outsider, product=ProductFactory(), quantity=1),
    ):
        with pytest.raises(PermissionDenied):
            call()
    assert fresh(deal).version == 1


def test_a_user_without_the_change_permission_cannot_change_even_an_own_deal(stages):
    marketer = make_user(Role.MARKETING)
    deal = DealFactory(owner=marketer, stage=stages["new"])
    with pytest.raises(PermissionDenied):
        services.deal_move_stage(deal=deal, stage=stages["offer"], actor=marketer, version=1)
    assert fresh(deal).stage == stages["new"]


def test_the_manager_and_the_director_change_the_teams_deals(manager, director, deal, stages):
    services.deal_move_stage(deal=deal, stage=stages["offer"], actor=manager, version=1)
    services.deal_move_stage(deal=deal, stage=stages["talks"], actor=director, version=2)
    assert fresh(deal).stage == stages["talks"]


# --- the won-amount plan metric -------------------------------------------------------------------------


def test_won_amount_sums_deals_won_in_the_period_per_owner_in_one_query(owner, teammate, stages):
    start, end = datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC)
    inside = start + timedelta(days=3)
    for user, amount, closed in (
        (owner, D("100.10"), inside),
        (owner, D("200.20"), inside),
        (owner, D("999.00"), end),  # the end is excluded
        (teammate, D("50.00"), start),  # the start is included
    ):
        DealFactory(owner=user, stage=stages["won"], status=DealStatus.WON, amount=amount, closed_at=closed)
    DealFactory(owner=owner, stage=stages["talks"], amount=D("5000.00"), closed_at=inside)  # open
    with CaptureQueriesContext(connection) as queries:
        result = selectors.won_amount([owner, teammate], start, end)
    assert result == {owner.pk: D("300.30"), teammate.pk: D("50.00")}
    assert len(queries) == 1


def test_won_amount_is_registered_for_work_plans():
    from deals.apps import _register_deals

    _register_deals()  # idempotent for the metric; another test may have unregistered it
    assert registry.plan_metric("won_amount") is selectors.won_amount


# --- the deal card --------------------------------------------------------------------------------------


def _fill(deal, owner, n):
    for index in range(n):
        DealLineFactory(deal=deal, product=ProductFactory(), quantity=D(index + 1), price=D("10.00"))
        InteractionFactory(company=deal.company, subject_object=deal, subject=f"Дзвінок {index}")
        ActivityFactory(assignee=owner, company=deal.company, subject_object=deal)
        DealStageChange.objects.create(deal=deal, to_stage=deal.stage, changed_by=owner, changed_at=deal.created_at)


def test_deal_card_shows_the_header_lines_stages_activities_and_interactions(client, owner, deal):
    _fill(deal, owner, 3)
    client.force_login(owner)
    response = client.get(url("deal-detail", deal.pk))
    assert response.status_code == 200
    body = response.content.decode()
    assert deal.title in body
    assert deal.company.name in body
    assert body.count('data-testid="line"') == 3
    assert body.count('data-testid="interaction"') == 3
    assert body.count('data-testid="activity"') == 3
    assert body.count('data-testid="stage-visit"') == 4
    assert f"/contacts/activities/new/?company={deal.company_id}" in body
    assert 'data-testid="win"' in body
    assert 'data-testid="lose"' in body


def test_deal_card_runs_a_constant_number_of_queries(client, owner, stages, django_assert_max_num_queries):
    small, large = (DealFactory(owner=owner, stage=stages["new"]) for _ in range(2))
    _fill(small, owner, 3)
    _fill(large, owner, 12)
    client.force_login(owner)
    client.get(url("deal-detail", small.pk))  # loads the user's access into the cache (crm.access)
    counts = []
    for deal in (small, large):
        with django_assert_max_num_queries(22), CaptureQueriesContext(connection) as queries:
            assert client.get(url("deal-detail", deal.pk)).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_a_won_deal_shows_the_create_order_button(client, owner, deal):
    services.deal_mark_won(deal=deal, actor=owner)
    client.force_login(owner)
    body = client.get(url("deal-detail", deal.pk)).content.decode()
    assert 'data-testid="create-order"' in body
    assert url("deal-order-create", deal.pk) in body
    assert 'data-testid="reopen"' in body
    assert 'data-testid="win"' not in body


def test_deal_card_is_404_for_an_outsider_and_403_without_a_sales_role(client, outsider, readonly, deal):
    client.force_login(outsider)
    assert client.get(url("deal-detail", deal.pk)).status_code == 404
    client.force_login(readonly)
    assert client.get(url("deal-detail", deal.pk)).status_code == 403


def test_deal_changes_tab_lists_field_changes_with_the_user(client, owner, deal, stages):
    services.deal_update(deal=deal, actor=owner, version=1, title="Перейменована")
    services.deal_line_add(deal=deal, actor=owner, product=ProductFactory(name_uk="Цемент"), quantity=2, price=D("5"))
    client.force_login(owner)
    response = client.get(url("deal-history", deal.pk), headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert "Перейменована" in body
    assert "Цемент" in body
    assert str(owner) in body


def test_win_lose_reopen_buttons(client, owner, deal, reason):
    client.force_login(owner)
    response = client.post(url("deal-win", deal.pk), {"version": 1})
    assert response.status_code == 302
    assert fresh(deal).status == DealStatus.WON
    client.post(url("deal-reopen", deal.pk), {"version": 2})
    assert fresh(deal).status == DealStatus.OPEN

    # lose without a reason: the message next to the field (HTMX modal), nothing saved
    response = client.post(url("deal-lose", deal.pk), {"version": 3}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "Choose why the deal was lost." in response.content.decode()
    assert fresh(deal).status == DealStatus.OPEN

    response = client.post(
        url("deal-lose", deal.pk), {"version": 3, "loss_reason": reason.pk, "loss_comment": "дорого"},
        headers={"HX-Request": "true"},
    )  # fmt: skip
    assert response.headers["HX-Redirect"] == url("deal-detail", deal.pk)
    assert (fresh(deal).status, fresh(deal).loss_reason) == (DealStatus.LOST, reason)


def test_the_lose_form_loads_when_its_modal_opens(client, owner, deal, reason):
    client.force_login(owner)
    card = client.get(url("deal-detail", deal.pk)).content.decode()
    assert 'data-testid="lose-form"' not in card
    assert 'hx-trigger="show.bs.modal once from:#lose-modal"' in card
    response = client.get(url("deal-lose", deal.pk), headers={"HX-Request": "true"})
    content = response.content.decode()
    assert 'data-testid="lose-form"' in content
    assert "<html" not in content
    assert reason.name in content
    assert 'data-bs-dismiss="modal"' in content  # the modal's Cancel


def test_a_stale_win_shows_the_conflict_message(client, owner, deal):
    services.deal_update(deal=fresh(deal), actor=owner, version=1, title="x")
    client.force_login(owner)
    response = client.post(url("deal-win", deal.pk), {"version": 1}, follow=True)
    assert CONFLICT in response.content.decode()
    assert fresh(deal).status == DealStatus.OPEN


def test_card_actions_are_403_for_a_user_without_the_change_permission(client, stages):
    marketer = make_user(Role.MARKETING)
    deal = DealFactory(owner=marketer, stage=stages["new"])
    client.force_login(marketer)
    assert client.get(url("deal-detail", deal.pk)).status_code == 200
    for name in ("deal-win", "deal-reopen", "deal-lose", "deal-line-add"):
        assert client.post(url(name, deal.pk), {"version": 1}).status_code == 403
    assert client.get(url("deal-update", deal.pk)).status_code == 403
    assert fresh(deal).version == 1


# --- create and edit forms ------------------------------------------------------------------------------


def test_create_form_prefills_the_company_and_saves(client, owner, company, stages):
    client.force_login(owner)
    response = client.get(url("deal-create") + f"?company={company.pk}")
    assert response.status_code == 200
    assert f'<option value="{company.pk}" selected>' in response.content.decode()
    response = client.post(
        url("deal-create"),
        {"title": "Нова угода", "company": company.pk, "stage": stages["offer"].pk, "amount": "1200.50"},
    )
    deal = Deal.objects.get(title="Нова угода")
    assert response.status_code == 302
    assert response.url == url("deal-detail", deal.pk)
    assert (deal.owner, deal.amount, deal.probability) == (owner, D("1200.50"), 40)


def test_create_form_shows_bad_money_next_to_the_field(client, owner, company, stages):
    client.force_login(owner)
    response = client.post(
        url("deal-create"), {"title": "Угода", "company": company.pk, "stage": stages["new"].pk, "amount": "10.999"}
    )
    assert response.status_code == 200
    assert "Enter an amount with at most 2 decimal places." in response.content.decode()
    assert not Deal.objects.exists()


def test_edit_form_carries_the_version_and_a_stale_one_shows_the_conflict(client, owner, deal):
    client.force_login(owner)
    body = client.get(url("deal-update", deal.pk)).content.decode()
    assert 'name="version" value="1"' in body
    services.deal_update(deal=fresh(deal), actor=owner, version=1, title="Чужа зміна")
    data = {
        "title": "Моя зміна",
        "company": deal.company_id,
        "stage": deal.stage_id,
        "owner": owner.pk,
        "amount": "1000.00",
        "probability": 10,
        "version": 1,
    }
    response = client.post(url("deal-update", deal.pk), data)
    assert response.status_code == 200
    assert CONFLICT in response.content.decode()
    assert fresh(deal).title == "Чужа зміна"
    data["version"] = 2
    assert client.post(url("deal-update", deal.pk), data).status_code == 302
    assert (fresh(deal).title, fresh(deal).version) == ("Моя зміна", 3)


def test_edit_is_404_for_an_outsider(client, outsider, deal):
    client.force_login(outsider)
    assert client.get(url("deal-update", deal.pk)).status_code == 404
    assert client.post(url("deal-update", deal.pk), {"title": "x", "version": 1}).status_code == 404


# --- lines from the card --------------------------------------------------------------------------------


def test_line_form_prefills_the_client_price_when_a_product_is_chosen(client, owner, deal):
    product = ProductFactory(base_price=D("80.00"))
    DiscountFactory(company=deal.company, percent=D("5.00"))
    client.force_login(owner)
    response = client.get(url("deal-line-add", deal.pk) + f"?product={product.pk}", headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert 'name="price" value="80.00"' in body
    assert 'name="discount_percent" value="5.00"' in body
    assert 'data-testid="quote"' in body
    assert "76.00" in body


def test_line_add_from_the_card_returns_the_lines_and_the_header(client, owner, deal):
    product = ProductFactory()
    client.force_login(owner)
    response = client.post(
        url("deal-line-add", deal.pk),
        {"product": product.pk, "quantity": "2", "price": "12.50", "discount_percent": ""},
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#deal-lines"
    assert 'id="deal-header"' in body
    assert 'hx-swap-oob="true"' in body
    assert fresh(deal).amount == D("25.00")


def test_line_add_from_the_card_shows_bad_input_next_to_the_field(client, owner, deal):
    client.force_login(owner)
    response = client.post(
        url("deal-line-add", deal.pk),
        {"product": ProductFactory().pk, "quantity": "-1", "price": "1.234"},
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="line-form"' in body
    assert "Enter an amount with at most 2 decimal places." in body
    assert not DealLine.objects.exists()
    assert fresh(deal).version == 1


def test_line_edit_and_remove_of_an_outsiders_deal_are_404(client, outsider, deal):
    line = DealLineFactory(deal=deal)
    client.force_login(outsider)
    assert client.get(url("deal-line-update", line.pk)).status_code == 404
    assert client.post(url("deal-line-remove", line.pk)).status_code == 404
    assert DealLine.objects.filter(pk=line.pk).exists()


def test_product_options_search_by_name_and_sku(client, owner):
    ProductFactory(name_uk="Цемент М500", sku="CEM-500")
    ProductFactory(name_uk="Пісок", sku="SAND-1")
    client.force_login(owner)
    body = client.get(url("product-options") + "?product_q=цемент").content.decode()
    assert "Цемент" in body
    assert "Пісок" not in body
    body = client.get(url("product-options") + "?product_q=SAND-1").content.decode()
    assert "Пісок" in body
    assert "Цемент" not in body


# --- interactions ---------------------------------------------------------------------------------------


def test_log_contact_from_the_deal_links_the_interaction_to_the_deal(client, owner, deal):
    client.force_login(owner)
    response = client.post(
        url("deal-interaction-create", deal.pk),
        {"channel": "call_out", "subject": "Обговорили знижку", "body": "Погодились на 5 %"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#deal-interactions"
    interaction = Interaction.objects.get(subject="Обговорили знижку")
    assert (interaction.company, interaction.subject_object, interaction.user) == (deal.company, deal, owner)
    assert interaction.content_type == ContentType.objects.get_for_model(Deal)
    assert "Обговорили знижку" in response.content.decode()


def test_log_contact_shows_errors_and_saves_nothing(client, owner, deal):
    client.force_login(owner)
    response = client.post(url("deal-interaction-create", deal.pk), {"channel": "call_out", "subject": ""})
    assert response.status_code == 200
    assert 'data-testid="interaction-form"' in response.content.decode()
    assert not Interaction.objects.exists()


# --- the list -------------------------------------------------------------------------------------------


def test_deal_list_filters_by_status_stage_owner_amount_and_title(client, owner, teammate, manager, stages):
    DealFactory(owner=owner, stage=stages["new"], title="Поставка цементу", amount=D("100.00"))
    DealFactory(owner=teammate, stage=stages["offer"], title="Поставка піску", amount=D("900.00"))
    DealFactory(owner=owner, stage=stages["won"], status=DealStatus.WON, title="Ремонт", amount=D("500.00"))
    client.force_login(manager)

    def titles(query):
        response = client.get(url("deal-list") + query)
        assert response.status_code == 200
        return {d.title for d in response.context["page"].rows}

    assert titles("") == {"Поставка цементу", "Поставка піску", "Ремонт"}
    assert titles("?status=won") == {"Ремонт"}
    assert titles(f"?stage={stages['offer'].pk}") == {"Поставка піску"}
    assert titles(f"?owner={teammate.pk}") == {"Поставка піску"}
    assert titles("?amount_min=200&amount_max=600") == {"Ремонт"}
    assert titles("?q=поставка") == {"Поставка цементу", "Поставка піску"}


def test_deal_list_bad_filter_input_shows_a_message(client, owner):
    client.force_login(owner)
    response = client.get(url("deal-list") + "?amount_min=1.234")
    assert response.status_code == 200
    assert "Enter an amount with at most 2 decimal places." in response.content.decode()


def test_deal_list_shows_only_visible_deals(client, owner, outsider, stages):
    DealFactory(owner=owner, stage=stages["new"], title="Моя")
    DealFactory(owner=outsider, stage=stages["new"], title="Чужа")
    client.force_login(owner)
    rows = client.get(url("deal-list")).context["page"].rows
    assert [d.title for d in rows] == ["Моя"]


def test_deal_list_pages_by_keyset_without_count(client, owner, stages, monkeypatch):
    monkeypatch.setattr(selectors, "LIST_PAGE_SIZE", 2)
    with time_machine.travel(datetime(2025, 1, 1, tzinfo=UTC), tick=False):
        first = [DealFactory(owner=owner, stage=stages["new"]) for _ in range(3)]
    newest = DealFactory(owner=owner, stage=stages["new"])
    client.force_login(owner)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url("deal-list"))
    assert not any("COUNT(" in q["sql"].upper() and "deals_deal" in q["sql"] for q in queries)
    page = response.context["page"]
    assert [d.pk for d in page.rows] == [newest.pk, first[0].pk]  # newest first, then by id within a moment
    response = client.get(response.context["next_url"], headers={"HX-Request": "true"})
    assert [d.pk for d in response.context["page"].rows] == [first[1].pk, first[2].pk]
    assert "<html" not in response.content.decode()
    assert response.context["next_url"] == ""


def test_deal_list_runs_a_constant_number_of_queries(client, owner, stages, django_assert_max_num_queries):
    for _ in range(5):
        DealFactory(owner=owner, stage=stages["new"])
    client.force_login(owner)
    # The page's ids, then their rows by primary key (selectors_deals.deal_list_page).
    with django_assert_max_num_queries(13):
        assert client.get(url("deal-list")).status_code == 200


def test_deal_list_of_one_stage_lists_its_open_deals_newest_first(
    client, owner, teammate, manager, stages, django_assert_max_num_queries
):
    """The stage filter with "open": that stage's open deals of the team, newest first, in bounded queries."""
    # given: open deals of the team in the first stage, made on three days, and deals that must not show
    stage = stages["new"]
    made = []
    for day, user in ((1, owner), (2, teammate), (3, owner)):
        with time_machine.travel(datetime(2025, 1, day, tzinfo=UTC), tick=False):
            made.append(DealFactory(owner=user, stage=stage))
    DealFactory(owner=owner, stage=stages["offer"])  # another stage
    DealFactory(owner=owner, stage=stages["won"], status=DealStatus.WON)  # closed
    # when: their manager filters the list by the stage and "open"
    client.force_login(manager)
    with django_assert_max_num_queries(14):  # the list's 13 (above), and the filter reads the stage
        response = client.get(url("deal-list") + f"?status=open&stage={stage.pk}")
    # then: the stage's deals, newest first
    assert response.status_code == 200
    assert [d.pk for d in response.context["page"].rows] == [d.pk for d in reversed(made)]


def test_deal_list_is_403_without_a_sales_role(client, readonly):
    client.force_login(readonly)
    assert client.get(url("deal-list")).status_code == 403


# --- the company card's Deals tab -----------------------------------------------------------------------


def test_company_deals_tab_lists_the_visible_deals_newest_first(client, owner, outsider, company, stages):
    older = DealFactory(owner=owner, company=company, stage=stages["new"], title="Старша")
    newer = DealFactory(owner=owner, company=company, stage=stages["new"], title="Новіша")
    client.force_login(owner)
    response = client.get(reverse("contacts:company-detail", args=[company.pk]))
    assert url("company-deals", company.pk) in response.content.decode()
    response = client.get(url("company-deals", company.pk), headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200
    assert body.index(newer.title) < body.index(older.title)
    assert f"{url('deal-create')}?company={company.pk}" in body
    assert client.get(url("company-deals", company.pk)).status_code == 302  # the card loads the tab


def test_company_deals_tab_is_404_for_an_outsider(client, outsider, company):
    client.force_login(outsider)
    assert client.get(url("company-deals", company.pk), headers={"HX-Request": "true"}).status_code == 404


def test_company_deals_tab_is_bounded(client, owner, company, stages, monkeypatch):
    monkeypatch.setattr(selectors, "COMPANY_TAB_SIZE", 2)
    for _ in range(3):
        DealFactory(owner=owner, company=company, stage=stages["new"])
    client.force_login(owner)
    response = client.get(url("company-deals", company.pk), headers={"HX-Request": "true"})
    assert response.content.decode().count('data-testid="company-deal"') == 2
    assert response.context["more"] is True


def test_the_deals_menu_item_points_at_the_board(client, owner):
    client.force_login(owner)
    body = client.get(reverse("crm:home")).content.decode()
    assert f'href="{url("deal-board")}" data-nav="deals"' in body


def test_expected_close_date_round_trips_on_the_card(client, owner, deal):
    services.deal_update(deal=deal, actor=owner, version=1, expected_close_date=date(2025, 6, 30))
    client.force_login(owner)
    assert "30.06.2025" in client.get(url("deal-detail", deal.pk)).content.decode()


def test_plan_activity_from_the_deal_card_links_it_to_the_deal(client, owner, deal, outsider):
    client.force_login(owner)
    card = client.get(url("deal-detail", deal.pk)).content.decode()
    assert f"related=deals.deal:{deal.pk}" in card
    new = reverse("contacts:activity-create") + f"?company={deal.company_id}&related=deals.deal:{deal.pk}"
    form = {"kind": "call", "subject": "Узгодити умови", "starts_at": "2030-01-10T10:00", "priority": "normal"}

    assert 'data-testid="related"' in client.get(new).content.decode()
    response = client.post(new, {**form, "company": deal.company_id, "assignee": owner.pk})

    activity = ActivityFactory._meta.model.objects.get(subject="Узгодити умови")
    assert response.status_code == 302
    assert activity.subject_object == deal
    # A deal the user cannot see is not linked (and not revealed).
    client.force_login(outsider)
    hidden = client.get(new).content.decode()
    assert 'data-testid="related"' not in hidden
