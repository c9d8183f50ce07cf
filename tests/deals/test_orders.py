"""Orders (issue #6, item 4): numbering, totals, status flow, history, notifications, conversion, pages."""

import threading
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections
from django.urls import reverse
from django.utils import timezone, translation

from contacts.models import Interaction
from crm.models import Notification, Role
from deals import services_orders
from deals.models import (
    Order,
    OrderLine,
    OrderNumber,
    OrderSource,
    OrderStatus,
    PaymentStatus,
)
from deals.services_orders import (
    LineInput,
    line_amounts,
    order_change_status,
    order_create,
    order_create_from_deal,
    order_line_add,
    order_line_remove,
    order_line_update,
    order_number_next,
    order_set_payment_status,
)
from tests.conftest import make_user
from tests.contacts.factories import CompanyFactory, PersonFactory
from tests.deals.factories_orders import (
    DealLineFactory,
    FailureReasonFactory,
    OrderFactory,
    OrderLineFactory,
    OrderProductFactory,
    OrderStatusChangeFactory,
    WonDealFactory,
)

KYIV = ZoneInfo("Europe/Kyiv")
D = Decimal


@pytest.fixture(autouse=True)
def english():
    """Messages are checked in English, whichever language an earlier test left active."""
    with translation.override("en"):
        yield


@pytest.fixture
def company(owner):
    return CompanyFactory(owner=owner)


@pytest.fixture
def product(db):
    return OrderProductFactory(base_price=D("100.00"), vat_rate="20.00")


@pytest.fixture
def reason(db):
    return FailureReasonFactory(name="Немає на складі")


def _order(owner, company, product, **kwargs):
    return order_create(actor=owner, company=company, lines=[(product, 1)], **kwargs)


def _walk(order, actor, *statuses):
    for status in statuses:
        order_change_status(order=order, actor=actor, status=status)
    return order


# --- numbering -----------------------------------------------------------------------------------------


def test_order_numbers_are_yearly_and_sequential(owner, company, product):
    year = timezone.localdate().year
    first = _order(owner, company, product)
    second = _order(owner, company, product)
    assert first.number == f"{year}-000001"
    assert second.number == f"{year}-000002"
    assert OrderNumber.objects.get(year=year).last == 2


def test_order_number_restarts_in_a_new_year_in_kyiv_time(owner, company, product):
    with time_machine.travel(datetime(2030, 12, 31, 23, 50, tzinfo=KYIV), tick=False):
        assert _order(owner, company, product).number == "2030-000001"
    # 22:30 UTC on Dec 31 is already 00:30 on Jan 1 in Kyiv.
    with time_machine.travel(datetime(2030, 12, 31, 22, 30, tzinfo=ZoneInfo("UTC")), tick=False):
        assert _order(owner, company, product).number == "2031-000001"
    with time_machine.travel(datetime(2031, 1, 2, 10, 0, tzinfo=KYIV), tick=False):
        assert _order(owner, company, product).number == "2031-000002"


def test_failed_order_create_uses_up_no_number(owner, company, product):
    _order(owner, company, product)
    with pytest.raises(ValidationError):
        order_create(actor=owner, company=company, lines=[(product, 1), (product, -1)])
    assert _order(owner, company, product).number.endswith("-000002")


@pytest.mark.django_db(transaction=True)
def test_order_number_next_needs_a_transaction():
    with pytest.raises(RuntimeError):
        order_number_next(year=2040)


@pytest.mark.django_db(transaction=True)
def test_concurrent_orders_get_distinct_numbers_without_gaps():
    owner = make_user(Role.SALES_REP)
    company = CompanyFactory(owner=owner)
    product = OrderProductFactory()
    barrier = threading.Barrier(2, timeout=20)
    numbers: list[str] = []
    errors: list[BaseException] = []

    def create() -> None:
        try:
            for _ in range(5):
                barrier.wait()  # both threads ask for a number at the same moment
                numbers.append(_order(owner, company, product).number)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    year = timezone.localdate().year
    assert sorted(numbers) == [f"{year}-{n:06d}" for n in range(1, 11)]


@pytest.mark.django_db(transaction=True)
def test_second_order_waits_for_the_locked_counter():
    """A transaction holding the year's counter blocks the next order until it commits (no repeat)."""
    owner = make_user(Role.SALES_REP)
    company = CompanyFactory(owner=owner)
    product = OrderProductFactory()
    year = timezone.localdate().year
    _order(owner, company, product)
    holding, release, done = threading.Event(), threading.Event(), threading.Event()
    result: list[str] = []

    def other() -> None:
        from django.db import transaction

        try:
            with transaction.atomic():
                result.append(order_number_next(year=year))
                holding.set()
                release.wait(timeout=20)
        finally:
            connections.close_all()

    def second() -> None:
        try:
            result.append(_order(owner, company, product).number)
            done.set()
        finally:
            connections.close_all()

    thread = threading.Thread(target=other)
    thread.start()
    assert holding.wait(timeout=10)
    waiter = threading.Thread(target=second)
    waiter.start()
    assert not done.wait(timeout=1)  # blocked on the counter row
    release.set()
    thread.join(timeout=20)
    waiter.join(timeout=20)
    assert result == [f"{year}-000002", f"{year}-000003"]


# --- totals and rounding ---------------------------------------------------------------------------------


def test_line_amounts_round_half_up_per_line():
    # 3 × 0.335 = 1.005 → 1.01 (half up, not banker's 1.00); VAT 7 % of 1.01 = 0.0707 → 0.07.
    amounts = line_amounts(quantity=D("3"), price=D("0.335"), discount_percent=D("0"), vat_rate=D("7"))
    assert (amounts.net, amounts.vat, amounts.total) == (D("1.01"), D("0.07"), D("1.08"))
    # 33.33 % off 10.00: 6.667 → 6.67; VAT 20 %: 1.334 → 1.33.
    amounts = line_amounts(quantity=D("1"), price=D("10.00"), discount_percent=D("33.33"), vat_rate=D("20"))
    assert (amounts.gross, amounts.net, amounts.discount, amounts.vat) == (D("10.00"), D("6.67"), D("3.33"), D("1.33"))


def test_order_totals_are_sums_of_rounded_lines(owner, company):
    reduced = OrderProductFactory(vat_rate="7.00")
    standard = OrderProductFactory(vat_rate="20.00")
    exempt = OrderProductFactory(vat_rate="-1")
    order = order_create(
        actor=owner,
        company=company,
        lines=[
            (standard, D("1"), D("0.01"), D("50")),  # 0.005 → 0.01 net, VAT 0.002 → 0.00
            (standard, D("1"), D("0.01"), D("50")),
            (standard, D("1"), D("0.01"), D("50")),
            (reduced, D("3"), D("0.33"), D("0")),  # 0.99, VAT 0.0693 → 0.07
            (standard, D("2.5"), D("19.99"), D("33.33")),  # 49.975 × 0.6667 = 33.318… → 33.32; VAT 6.664 → 6.66
            (exempt, D("1"), D("10.00"), D("0")),
        ],
    )
    lines = list(order.lines.order_by("id"))
    assert [line.net_amount for line in lines] == [D("0.01")] * 3 + [D("0.99"), D("33.32"), D("10.00")]
    assert [line.vat_amount for line in lines] == [D("0.00")] * 3 + [D("0.07"), D("6.66"), D("0.00")]
    assert lines[-1].vat_rate == D("0.00")
    assert order.subtotal == D("44.34")
    # Rounding once on the whole order would give 0.015 → 0.02 for the three half-kopeck lines: not here.
    assert order.vat_total == D("6.73")
    assert order.total == D("51.07") == order.subtotal + order.vat_total
    # Gross 0.01 × 3 + 0.99 + 49.98 + 10.00 = 61.00; minus net 44.34.
    assert order.discount_total == D("16.66")
    assert sum(line.total_amount for line in lines) == order.total


def test_order_prices_default_from_pricing(owner, company, product, monkeypatch):
    from deals import pricing

    monkeypatch.setattr(
        pricing,
        "price_for_many",
        lambda *, company, products, on: {
            p.pk: pricing.PriceQuote(p.base_price, D("90.00"), D("5.00"), D("85.50"), "test") for p in products
        },
    )
    order = order_create(actor=owner, company=company, lines=[(product, 2), LineInput(product, 1, "80")])
    auto, manual = order.lines.order_by("id")
    assert (auto.price, auto.discount_percent, auto.net_amount) == (D("90.00"), D("5.00"), D("171.00"))
    assert (manual.price, manual.discount_percent) == (D("80.00"), D("0.00"))


def test_order_price_defaults_to_base_price_without_price_lists(owner, company, product):
    order = _order(owner, company, product)
    line = order.lines.get()
    assert (line.price, line.vat_rate, line.total_amount) == (D("100.00"), D("20.00"), D("120.00"))
    assert order.total == D("120.00")


# --- validation: nothing half-saved ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ((0,), "above zero"),
        ((-1,), "above zero"),
        ((1, "-0.01"), "cannot be negative"),
        ((1, "10.001"), "2 decimal places"),
        ((1, "10", "100.5"), "between 0 and 100"),
        ((1, "10", "-1"), "between 0 and 100"),
        (("abc",), "as a number"),
        ((1, "1e999999"), "too large"),
        (("1.0001",), "3 decimal places"),
    ],
)
def test_order_create_rejects_bad_lines_and_saves_nothing(owner, company, product, line, message):
    with pytest.raises(ValidationError) as error:
        order_create(actor=owner, company=company, lines=[(product, 1), (product, *line)])
    assert "Line 2" in str(error.value.message_dict["lines"])
    assert message in str(error.value.message_dict["lines"])
    assert not Order.objects.exists()
    assert not OrderLine.objects.exists()
    assert not OrderNumber.objects.filter(last__gt=0).exists()


def test_order_create_needs_lines(owner, company):
    with pytest.raises(ValidationError) as error:
        order_create(actor=owner, company=company, lines=[])
    assert "lines" in error.value.message_dict


def test_order_for_invisible_company_is_refused(owner, outsider, product):
    foreign = CompanyFactory(owner=outsider)
    with pytest.raises(ValidationError) as error:
        order_create(actor=owner, company=foreign, lines=[(product, 1)])
    assert "company" in error.value.message_dict
    assert not Order.objects.exists()


def test_order_person_must_work_for_the_company(owner, company, product):
    stranger = PersonFactory(company=CompanyFactory(owner=owner))
    with pytest.raises(ValidationError) as error:
        order_create(actor=owner, company=company, person=stranger, lines=[(product, 1)])
    assert "person" in error.value.message_dict
    assert not Order.objects.exists()


def test_order_create_needs_permission(readonly, product):
    company = CompanyFactory(owner=readonly)
    with pytest.raises(PermissionDenied):
        order_create(actor=readonly, company=company, lines=[(product, 1)])


def test_inactive_product_is_refused(owner, company):
    product = OrderProductFactory(is_active=False)
    with pytest.raises(ValidationError) as error:
        order_create(actor=owner, company=company, lines=[(product, 1)])
    assert "no longer sold" in str(error.value)


# --- status flow -----------------------------------------------------------------------------------------


HAPPY_PATH = [
    OrderStatus.CONFIRMED,
    OrderStatus.IN_PROGRESS,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.COMPLETED,
]


def test_order_goes_through_the_whole_flow_with_history(owner, company, product):
    order = _order(owner, company, product)
    _walk(order, owner, *HAPPY_PATH)
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert order.delivered_on == timezone.localdate()
    changes = list(order.status_changes.order_by("changed_at", "id").values_list("from_status", "to_status"))
    assert changes == [
        ("", "new"),
        ("new", "confirmed"),
        ("confirmed", "in_progress"),
        ("in_progress", "shipped"),
        ("shipped", "delivered"),
        ("delivered", "completed"),
    ]
    assert set(order.status_changes.values_list("changed_by", flat=True)) == {owner.pk}
    assert order.status_changed_at == order.status_changes.order_by("-changed_at").first().changed_at


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ([], OrderStatus.CANCELLED),
        ([], OrderStatus.FAILED),
        ([OrderStatus.CONFIRMED], OrderStatus.CANCELLED),
        ([OrderStatus.CONFIRMED], OrderStatus.FAILED),
        ([OrderStatus.CONFIRMED, OrderStatus.IN_PROGRESS], OrderStatus.CANCELLED),
        ([OrderStatus.CONFIRMED, OrderStatus.IN_PROGRESS], OrderStatus.FAILED),
        (HAPPY_PATH[:3], OrderStatus.FAILED),
        (HAPPY_PATH[:4], OrderStatus.FAILED),
    ],
)
def test_every_failure_transition_needs_and_keeps_a_reason(owner, company, product, reason, path, target):
    order = _walk(_order(owner, company, product), owner, *path)
    with pytest.raises(ValidationError) as error:
        order_change_status(order=order, actor=owner, status=target)
    assert "reason" in error.value.message_dict
    order_change_status(order=order, actor=owner, status=target, reason=reason, comment="Склад порожній")
    order.refresh_from_db()
    assert (order.status, order.failure_reason, order.failure_comment) == (target, reason, "Склад порожній")
    assert order.status_changes.order_by("-id").first().comment == "Склад порожній"


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ([], OrderStatus.SHIPPED),
        ([], OrderStatus.COMPLETED),
        ([], OrderStatus.NEW),
        ([OrderStatus.CONFIRMED], OrderStatus.NEW),
        (HAPPY_PATH[:3], OrderStatus.CANCELLED),  # shipped goods cannot be cancelled, only fail
        (HAPPY_PATH, OrderStatus.FAILED),  # completed is final
        ([], "archived"),
    ],
)
def test_disallowed_transition_names_both_statuses(owner, company, product, reason, path, target):
    order = _walk(_order(owner, company, product), owner, *path)
    before = order.status
    with pytest.raises(ValidationError) as error:
        order_change_status(order=order, actor=owner, status=target, reason=reason)
    message = str(error.value.message_dict["status"])
    assert str(OrderStatus(before).label) in message
    assert (str(OrderStatus(target).label) if target in OrderStatus.values else target) in message
    order.refresh_from_db()
    assert order.status == before
    assert order.status_changes.count() == 1 + len(path)


def test_final_statuses_allow_nothing(owner, company, product, reason):
    order = _order(owner, company, product)
    order_change_status(order=order, actor=owner, status=OrderStatus.CANCELLED, reason=reason)
    assert services_orders.allowed_statuses(order) == []
    with pytest.raises(ValidationError):
        order_change_status(order=order, actor=owner, status=OrderStatus.CONFIRMED)


def test_inactive_failure_reason_is_refused(owner, company, product):
    old = FailureReasonFactory(name="Стара причина", is_active=False)
    order = _order(owner, company, product)
    with pytest.raises(ValidationError) as error:
        order_change_status(order=order, actor=owner, status=OrderStatus.FAILED, reason=old)
    assert "reason" in error.value.message_dict
    order.refresh_from_db()
    assert order.status == OrderStatus.NEW


def test_status_change_by_someone_else_notifies_the_owner(owner, manager, company, product, reason):
    order = _order(owner, company, product)
    order_change_status(order=order, actor=owner, status=OrderStatus.CONFIRMED)
    assert not Notification.objects.exists()  # the owner did it
    order_change_status(order=order, actor=manager, status=OrderStatus.FAILED, reason=reason, comment="Не доїхало")
    notification = Notification.objects.get()
    assert notification.recipient == owner
    assert notification.kind == "order"
    assert order.number in notification.title
    assert "Немає на складі" in notification.body
    assert "Не доїхало" in notification.body
    assert notification.url == reverse("deals:order-detail", args=[order.pk])


def test_outsider_and_readonly_cannot_change_status(owner, outsider, company, product):
    order = _order(owner, company, product)
    with pytest.raises(PermissionDenied):
        order_change_status(order=order, actor=outsider, status=OrderStatus.CONFIRMED)
    marketing = make_user(Role.MARKETING)
    with pytest.raises(PermissionDenied):
        order_change_status(order=order, actor=marketing, status=OrderStatus.CONFIRMED)
    order.refresh_from_db()
    assert order.status == OrderStatus.NEW


def test_payment_status(owner, company, product):
    order = _order(owner, company, product)
    order_set_payment_status(order=order, actor=owner, payment_status=PaymentStatus.PARTIAL)
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PARTIAL
    with pytest.raises(ValidationError):
        order_set_payment_status(order=order, actor=owner, payment_status="bitcoin")


# --- lines of a new order ------------------------------------------------------------------------------------


def test_lines_change_only_while_new_and_totals_follow(owner, company, product):
    order = _order(owner, company, product)
    line = order_line_add(order=order, actor=owner, product=product, quantity="2", price="50", discount="10")
    order.refresh_from_db()
    assert order.total == D("120.00") + D("108.00")
    order_line_update(line=line, actor=owner, quantity="1", price="50", discount="0")
    order.refresh_from_db()
    assert order.total == D("180.00")
    with pytest.raises(ValidationError) as error:
        order_line_update(line=line, actor=owner, quantity="1", price="50.005", discount="0")
    assert "price" in error.value.message_dict
    order_line_remove(line=line, actor=owner)
    order.refresh_from_db()
    assert order.total == D("120.00")
    assert order.lines.count() == 1
    with pytest.raises(ValidationError):
        order_line_remove(line=order.lines.get(), actor=owner)  # the last line stays
    order_change_status(order=order, actor=owner, status=OrderStatus.CONFIRMED)
    with pytest.raises(ValidationError) as error:
        order_line_add(order=order, actor=owner, product=product, quantity=1)
    assert "only while the order is new" in str(error.value)
    assert order.lines.count() == 1


# --- from a won deal -------------------------------------------------------------------------------------------


def test_won_deal_becomes_an_order_once(owner, company):
    deal = WonDealFactory(company=company, person=PersonFactory(company=company))
    DealLineFactory(deal=deal, quantity=D("2"), price=D("150.00"), discount_percent=D("10"))
    DealLineFactory(deal=deal, quantity=D("1"), price=D("99.99"), discount_percent=D("0"))
    order = order_create_from_deal(deal=deal, actor=owner)
    assert (order.deal, order.source, order.company, order.person) == (deal, OrderSource.DEAL, company, deal.person)
    assert order.owner == deal.owner
    assert [(line.quantity, line.price, line.discount_percent) for line in order.lines.order_by("id")] == [
        (D("2.000"), D("150.00"), D("10.00")),
        (D("1.000"), D("99.99"), D("0.00")),
    ]
    assert order.subtotal == D("369.99")
    assert order.total == D("443.99")
    again = order_create_from_deal(deal=deal, actor=owner)
    assert again.pk == order.pk
    assert Order.objects.count() == 1


def test_open_deal_or_deal_without_lines_is_refused(owner, company):
    empty = WonDealFactory(company=company)
    with pytest.raises(ValidationError) as error:
        order_create_from_deal(deal=empty, actor=owner)
    assert "Add the products to the deal first" in str(error.value)
    open_deal = WonDealFactory(company=company, status="open", closed_at=None)
    DealLineFactory(deal=open_deal)
    with pytest.raises(ValidationError) as error:
        order_create_from_deal(deal=open_deal, actor=owner)
    assert "won" in str(error.value)
    assert not Order.objects.exists()


def test_outsider_cannot_convert_a_deal(owner, outsider, company):
    deal = WonDealFactory(company=company)
    DealLineFactory(deal=deal)
    with pytest.raises(PermissionDenied):
        order_create_from_deal(deal=deal, actor=outsider)


# --- pages -----------------------------------------------------------------------------------------------------


def _make_orders(owner, count=3, **fields):
    company = fields.pop("company", None) or CompanyFactory(owner=owner)
    orders = []
    for _ in range(count):
        order = OrderFactory(company=company, owner=owner, **fields)
        OrderLineFactory(order=order)
        OrderLineFactory(order=order)
        orders.append(order)
    return orders


def test_order_list_shows_visible_orders_only(client, owner, outsider, django_assert_max_num_queries):
    mine = _make_orders(owner, 3)
    foreign = _make_orders(outsider, 1)
    client.force_login(owner)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("deals:order-list"))
    assert response.status_code == 200
    content = response.content.decode()
    assert all(order.number in content for order in mine)
    assert foreign[0].number not in content


def test_order_list_queries_do_not_grow_with_rows(client, owner, django_assert_max_num_queries):
    _make_orders(owner, 3)
    client.force_login(owner)
    client.get(reverse("deals:order-list"))  # warm caches (content types, permissions)
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("deals:order-list"))
    few = len(few.captured_queries)  # (the next request resets the connection's query log)
    _make_orders(owner, 10)
    client.get(reverse("deals:order-list"))  # the writes invalidated the cached counts: fill them again
    with django_assert_max_num_queries(few):
        client.get(reverse("deals:order-list"))


def test_order_list_needs_permission(client, readonly):
    client.force_login(readonly)
    assert client.get(reverse("deals:order-list")).status_code == 403


def test_order_list_htmx_returns_the_results_only(client, owner):
    _make_orders(owner, 3)
    client.force_login(owner)
    response = client.get(reverse("deals:order-list"), {"status": "new"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    content = response.content.decode()
    assert 'id="list-results"' in content
    assert "<html" not in content


def test_order_list_filters(client, owner, teammate, manager):
    today = timezone.localdate()
    late = _make_orders(owner, 1, expected_date=today - timedelta(days=3), status=OrderStatus.CONFIRMED)[0]
    late_but_done = _make_orders(owner, 1, expected_date=today - timedelta(days=3), status=OrderStatus.COMPLETED)[0]
    on_time = _make_orders(owner, 1, expected_date=today + timedelta(days=3))[0]
    by_teammate = _make_orders(teammate, 1, company=CompanyFactory(owner=teammate, name="Альфа Трейд"))[0]
    client.force_login(manager)

    def numbers(**params):
        response = client.get(reverse("deals:order-list"), params)
        assert response.status_code == 200
        return {o.number for o in response.context["page"].rows}

    assert numbers(overdue="on") == {late.number}
    assert numbers(status="completed") == {late_but_done.number}
    assert numbers(owner=teammate.pk) == {by_teammate.number}
    assert numbers(team=manager.team_id) == {late.number, late_but_done.number, on_time.number, by_teammate.number}
    assert numbers(q="альфа") == {by_teammate.number}
    assert numbers(company=on_time.company_id) == {on_time.number}
    Order.objects.filter(pk=on_time.pk).update(created_at=timezone.now() - timedelta(days=40))
    since = (today - timedelta(days=10)).isoformat()
    assert on_time.number not in numbers(created_after=since)
    assert numbers(q="аб") == numbers()  # too short: ignored with a message, not an error
    assert client.get(reverse("deals:order-list"), {"owner": "abc", "cursor": "garbage"}).status_code == 200


def test_order_list_keyset_pages(client, owner, monkeypatch):
    monkeypatch.setattr("deals.selectors_orders.PAGE_SIZE", 2)
    monkeypatch.setattr("deals.selectors_orders.order_page.__kwdefaults__", {"cursor": None, "limit": 2})
    orders = _make_orders(owner, 5)
    client.force_login(owner)
    seen, url = [], reverse("deals:order-list")
    while url:
        response = client.get(url)
        seen += [o.pk for o in response.context["page"].rows]
        url = response.context["next_url"]
    assert seen == [o.pk for o in sorted(orders, key=lambda o: (o.created_at, o.pk), reverse=True)]


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.DIRECTOR])
def test_overdue_list_is_sorted_by_expected_date_and_pages(client, owner, monkeypatch, role):
    monkeypatch.setattr("deals.selectors_orders.order_page.__kwdefaults__", {"cursor": None, "limit": 2})
    today = timezone.localdate()
    orders = [_make_orders(owner, 1, expected_date=today - timedelta(days=d))[0] for d in (1, 5, 3, 5, 2)]
    _make_orders(owner, 1, expected_date=today - timedelta(days=9), status=OrderStatus.DELIVERED)
    client.force_login(owner if role == Role.SALES_REP else make_user(role))
    seen, url = [], reverse("deals:order-list") + "?overdue=on"
    while url:
        response = client.get(url)
        seen += [o.pk for o in response.context["page"].rows]
        url = response.context["next_url"]
    assert seen == [o.pk for o in sorted(orders, key=lambda o: (o.expected_date, o.pk))]


def test_everyones_list_pages_newest_first_by_id(client, owner, teammate, monkeypatch):
    """A director without owner/team/status filters reads by the primary key (no index leads with created_at)."""
    monkeypatch.setattr("deals.selectors_orders.order_page.__kwdefaults__", {"cursor": None, "limit": 2})
    orders = [*_make_orders(owner, 3), *_make_orders(teammate, 2)]
    client.force_login(make_user(Role.DIRECTOR))
    seen, url = [], reverse("deals:order-list")
    while url:
        response = client.get(url)
        seen += [o.pk for o in response.context["page"].rows]
        url = response.context["next_url"]
    assert seen == sorted((o.pk for o in orders), reverse=True)


def test_per_status_counts_cover_visible_orders_of_the_period(client, owner, outsider, reason):
    _make_orders(owner, 2)
    _make_orders(owner, 1, status=OrderStatus.FAILED, failure_reason=reason)
    old = _make_orders(owner, 1)[0]
    Order.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=120))
    _make_orders(outsider, 3)
    client.force_login(owner)
    response = client.get(reverse("deals:order-list"), {"status": "failed"})
    counts = response.context["counts"]
    assert counts.counts == {"new": 2, "failed": 1}
    assert counts.total == 3
    assert "last 90 days" in response.content.decode()
    start = (timezone.localdate() - timedelta(days=200)).isoformat()
    counts = client.get(reverse("deals:order-list"), {"created_after": start}).context["counts"]
    assert counts.counts == {"new": 3, "failed": 1}


def test_per_status_counts_are_one_query(owner, django_assert_num_queries):
    from deals.selectors_orders import order_status_counts

    _make_orders(owner, 3)
    owner = type(owner).objects.get(pk=owner.pk)
    _ = owner.scope, owner.team_ids
    with django_assert_num_queries(1):
        assert order_status_counts(user=owner).total == 3


@pytest.mark.parametrize(("role", "total"), [(Role.SALES_REP, 3), (Role.SALES_MANAGER, 5)])
def test_per_status_counts_cover_the_users_scope(owner, teammate, outsider, role, total, django_assert_num_queries):
    from deals.selectors_orders import status_counts_queryset

    _make_orders(owner, 3)
    _make_orders(teammate, 2)
    _make_orders(outsider, 1)
    user = owner if role == Role.SALES_REP else make_user(role, team=owner.team)
    user = type(user).objects.get(pk=user.pk)
    _ = user.scope, user.team_ids
    qs = status_counts_queryset(user=user, start=timezone.localdate() - timedelta(days=89), end=None)
    with django_assert_num_queries(1):
        assert dict(qs) == {"new": total}


def test_overdue_filter_sorts_by_expected_date(owner):
    from django.http import QueryDict

    from deals.filters_orders import OrderFilter
    from deals.selectors_orders import _overdue_ids, _scope_parts, order_queryset

    today = timezone.localdate()
    late = [_make_orders(owner, 1, expected_date=today - timedelta(days=d))[0] for d in (2, 4, 3)]
    _make_orders(owner, 1, expected_date=today + timedelta(days=2))  # not overdue yet
    director = make_user(Role.DIRECTOR)
    qs, sort, _ = order_queryset(filterset=OrderFilter(QueryDict("overdue=on"), user=director))
    assert sort.key == "overdue"
    parts = _scope_parts(director)
    assert len(parts) == 1  # everyone's orders: one walk
    assert _overdue_ids(qs, parts, 51) == [late[1].pk, late[2].pk, late[0].pk]


@pytest.mark.parametrize(("role", "walks"), [(Role.SALES_REP, 1), (Role.SALES_MANAGER, 2)])
def test_scoped_overdue_list_walks_each_scope_part_once(owner, teammate, role, walks, django_assert_num_queries):
    """A representative's / a manager's overdue page: one LIMIT-ed walk per scope part, in one query."""
    from django.http import QueryDict

    from deals.filters_orders import OrderFilter
    from deals.selectors_orders import PAGE_SIZE, _overdue_ids, _scope_parts, order_queryset

    _make_orders(owner, 3, expected_date=timezone.localdate() - timedelta(days=2))
    _make_orders(teammate, 2, expected_date=timezone.localdate() - timedelta(days=2))
    user = owner if role == Role.SALES_REP else make_user(role, team=owner.team)
    user = type(user).objects.get(pk=user.pk)
    _ = user.scope, user.team_ids
    qs, _sort, _ = order_queryset(filterset=OrderFilter(QueryDict("overdue=on"), user=user))
    parts = _scope_parts(user)
    assert len(parts) == walks
    with django_assert_num_queries(1):
        assert len(_overdue_ids(qs, parts, PAGE_SIZE + 1)) == (3 if role == Role.SALES_REP else 5)


def test_scoped_overdue_pages_follow_each_other(client, owner, teammate, manager):
    """The merged walks page like one ordered list: each order once, most overdue first, ties by id."""
    today = timezone.localdate()
    mine = [_make_orders(owner, 1, expected_date=today - timedelta(days=n % 4 + 1))[0] for n in range(7)]
    theirs = [_make_orders(teammate, 1, expected_date=today - timedelta(days=n % 3 + 1))[0] for n in range(6)]
    _make_orders(owner, 2, expected_date=today + timedelta(days=3))  # not overdue
    expected = [o.pk for o in sorted(mine + theirs, key=lambda o: (o.expected_date, o.pk))]
    from django.http import QueryDict

    from deals.filters_orders import OrderFilter
    from deals.selectors_orders import order_page

    manager = type(manager).objects.get(pk=manager.pk)
    seen, cursor = [], None
    while True:
        page = order_page(filterset=OrderFilter(QueryDict("overdue=on"), user=manager), cursor=cursor, limit=4)
        seen += [row.pk for row in page.rows]
        cursor = page.next_cursor
        if not cursor:
            break
    assert seen == expected


def test_order_card(client, owner, django_assert_max_num_queries):
    order = _make_orders(owner, 1)[0]
    OrderStatusChangeFactory(order=order, changed_by=owner)
    OrderStatusChangeFactory(order=order, from_status="new", to_status="confirmed", changed_by=owner)
    OrderStatusChangeFactory(order=order, from_status="confirmed", to_status="new", changed_by=owner)
    for n in range(3):
        Interaction.objects.create(
            company=order.company, channel="call_out", subject=f"Дзвінок {n}", occurred_at=timezone.now(),
            user=owner, subject_object=order,
        )  # fmt: skip
    client.force_login(owner)
    with django_assert_max_num_queries(25):
        response = client.get(reverse("deals:order-detail", args=[order.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    assert order.number in content
    assert content.count('data-testid="order-line"') == 2
    assert content.count('data-testid="status-change"') == 3
    assert content.count('data-testid="order-interaction"') == 3
    assert 'data-testid="to-confirmed"' in content
    assert 'data-testid="status-modal-failed"' in content


def test_order_card_access(client, owner, outsider, readonly, manager):
    order = _make_orders(owner, 1)[0]
    client.force_login(outsider)
    assert client.get(reverse("deals:order-detail", args=[order.pk])).status_code == 404
    assert client.post(reverse("deals:order-status", args=[order.pk]), {"status": "confirmed"}).status_code == 404
    client.force_login(readonly)
    assert client.get(reverse("deals:order-detail", args=[order.pk])).status_code == 403
    client.force_login(manager)
    assert client.get(reverse("deals:order-detail", args=[order.pk])).status_code == 200
    marketing = make_user(Role.MARKETING)
    Order.objects.filter(pk=order.pk).update(owner=marketing)
    client.force_login(marketing)
    assert client.get(reverse("deals:order-detail", args=[order.pk])).status_code == 200
    response = client.post(reverse("deals:order-status", args=[order.pk]), {"status": "confirmed"})
    assert response.status_code == 403
    order.refresh_from_db()
    assert order.status == OrderStatus.NEW


def test_status_buttons_move_the_order(client, owner):
    order = _order(owner, CompanyFactory(owner=owner), OrderProductFactory())
    client.force_login(owner)
    response = client.post(reverse("deals:order-status", args=[order.pk]), {"status": "confirmed"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    response = client.post(reverse("deals:order-status", args=[order.pk]), {"status": "completed"})
    assert response.status_code == 200
    assert "cannot go from" in response.content.decode()
    response = client.post(reverse("deals:order-status", args=[order.pk]), {"status": "archived"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    response = client.post(reverse("deals:order-payment", args=[order.pk]), {"payment_status": "bitcoin"}, follow=True)
    assert "Choose one of the offered payment statuses." in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED


def test_failing_an_order_needs_a_reason_in_the_modal_form(client, owner, reason):
    order = _order(owner, CompanyFactory(owner=owner), OrderProductFactory())
    client.force_login(owner)
    url = reverse("deals:order-status", args=[order.pk])
    response = client.post(url, {"status": "failed", "comment": "Ой"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    content = response.content.decode()
    assert "<html" not in content
    assert "Choose why the order is cancelled or failed." in content
    order.refresh_from_db()
    assert order.status == OrderStatus.NEW
    response = client.post(
        url, {"status": "failed", "reason": reason.pk, "comment": "Ой"}, headers={"HX-Request": "true"}
    )
    assert response.headers["HX-Redirect"] == reverse("deals:order-detail", args=[order.pk])
    order.refresh_from_db()
    assert (order.status, order.failure_reason) == (OrderStatus.FAILED, reason)
    assert reason.name in client.get(reverse("deals:order-detail", args=[order.pk])).content.decode()


def test_payment_and_edit_pages(client, owner):
    company = CompanyFactory(owner=owner)
    person = PersonFactory(company=company)
    order = _order(owner, company, OrderProductFactory())
    client.force_login(owner)
    client.post(reverse("deals:order-payment", args=[order.pk]), {"payment_status": "paid"})
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PAID
    url = reverse("deals:order-update", args=[order.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"person": person.pk, "expected_date": "2031-02-03", "comment": "Терміново"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.person, order.expected_date, order.comment) == (person, date(2031, 2, 3), "Терміново")


def test_order_create_page(client, owner, django_assert_max_num_queries):
    company = CompanyFactory(owner=owner)
    first, second = OrderProductFactory(base_price=D("10.00")), OrderProductFactory(base_price=D("0.335"[:4]))
    client.force_login(owner)
    url = reverse("deals:order-create")
    with django_assert_max_num_queries(15):
        assert client.get(url, {"company": company.pk}).status_code == 200
    data = {
        "company": company.pk, "expected_date": "2031-01-10", "comment": "",
        "lines-TOTAL_FORMS": "3", "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "0", "lines-MAX_NUM_FORMS": "50",
        "lines-0-product": first.pk, "lines-0-quantity": "3", "lines-0-price": "", "lines-0-discount_percent": "",
        "lines-1-product": second.pk, "lines-1-quantity": "1,5", "lines-1-price": "2.50",
        "lines-1-discount_percent": "10",
        "lines-2-product": "", "lines-2-quantity": "", "lines-2-price": "", "lines-2-discount_percent": "",
    }  # fmt: skip
    response = client.post(url, data)
    order = Order.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("deals:order-detail", args=[order.pk])
    assert [(line.price, line.quantity) for line in order.lines.order_by("id")] == [
        (D("10.00"), D("3.000")),
        (D("2.50"), D("1.500")),
    ]
    assert order.expected_date == date(2031, 1, 10)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("lines-0-quantity", "-1", "above zero"),
        ("lines-0-quantity", "0", "above zero"),
        ("lines-0-price", "-5", "cannot be negative"),
        ("lines-0-price", "10.555", "2 decimal places"),
        ("lines-0-discount_percent", "101", "between 0 and 100"),
    ],
)
def test_order_create_page_shows_field_errors_and_saves_nothing(client, owner, field, value, message):
    company = CompanyFactory(owner=owner)
    product = OrderProductFactory()
    client.force_login(owner)
    data = {
        "company": company.pk, "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0",
        "lines-0-product": product.pk, "lines-0-quantity": "1", "lines-0-price": "10", "lines-0-discount_percent": "0",
        field: value,
    }  # fmt: skip
    response = client.post(reverse("deals:order-create"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert 'class="invalid-feedback' in response.content.decode()
    assert not Order.objects.exists()


def test_order_create_page_refuses_an_invisible_company(client, owner, outsider):
    foreign = CompanyFactory(owner=outsider)
    client.force_login(owner)
    data = {
        "company": foreign.pk, "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0",
        "lines-0-product": OrderProductFactory().pk, "lines-0-quantity": "1",
    }  # fmt: skip
    response = client.post(reverse("deals:order-create"), data)
    assert response.status_code == 200
    assert not Order.objects.exists()
    assert response.context["form"].errors["company"]


def test_order_create_page_needs_lines_and_permission(client, owner, readonly):
    company = CompanyFactory(owner=owner)
    client.force_login(owner)
    response = client.post(
        reverse("deals:order-create"), {"company": company.pk, "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0"}
    )
    assert "Add at least one product." in response.content.decode()
    client.force_login(readonly)
    assert client.get(reverse("deals:order-create")).status_code == 403


def test_line_quote_prefills_the_price(client, owner):
    company = CompanyFactory(owner=owner)
    product = OrderProductFactory(base_price=D("42.50"))
    client.force_login(owner)
    response = client.get(
        reverse("deals:order-line-quote"),
        {"prefix": "lines-1", "company": company.pk, "lines-1-product": product.pk},
        headers={"HX-Request": "true"},
    )
    content = response.content.decode()
    assert 'name="lines-1-price"' in content
    assert 'value="42.50"' in content
    response = client.get(reverse("deals:order-line-quote"), {"prefix": "lines-1", "lines-1-product": product.pk})
    assert 'value="42.50"' not in response.content.decode()


def test_product_options(client, owner):
    OrderProductFactory(name_uk="Цемент М500")
    OrderProductFactory(name_uk="Пісок")
    client.force_login(owner)
    content = client.get(reverse("deals:order-product-options"), {"product_q": "цемент"}).content.decode()
    assert "Цемент М500" in content
    assert "Пісок" not in content


def test_line_pages_while_new(client, owner):
    company = CompanyFactory(owner=owner)
    product = OrderProductFactory()
    order = _order(owner, company, product)
    client.force_login(owner)
    response = client.post(
        reverse("deals:order-line-add", args=[order.pk]),
        {"line-product": product.pk, "line-quantity": "2", "line-price": "5", "line-discount_percent": ""},
    )
    assert response.status_code == 302
    line = order.lines.order_by("-id").first()
    assert line.quantity == D("2")
    response = client.post(
        reverse("deals:order-line-update", args=[line.pk]), {"quantity": "3", "price": "5", "discount_percent": ""}
    )
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.quantity == D("3")
    client.post(reverse("deals:order-line-remove", args=[line.pk]))
    assert order.lines.count() == 1
    order_change_status(order=order, actor=owner, status=OrderStatus.CONFIRMED)
    response = client.post(
        reverse("deals:order-line-add", args=[order.pk]), {"line-product": product.pk, "line-quantity": "2"}
    )
    assert "only while the order is new" in response.content.decode()
    assert order.lines.count() == 1


def test_log_a_contact_about_the_order(client, owner):
    company = CompanyFactory(owner=owner)
    order = _order(owner, company, OrderProductFactory())
    client.force_login(owner)
    response = client.post(
        reverse("deals:order-interaction-create", args=[order.pk]),
        {"channel": "call_out", "subject": "Уточнили дату", "body": "", "outcome": ""},
    )
    assert response.status_code == 302
    interaction = Interaction.objects.get()
    assert interaction.subject_object == order
    assert "Уточнили дату" in client.get(reverse("deals:order-detail", args=[order.pk])).content.decode()
    response = client.post(reverse("deals:order-interaction-create", args=[order.pk]), {"channel": "call_out"})
    assert response.status_code == 200
    assert Interaction.objects.count() == 1


def test_the_contact_form_loads_when_its_tab_opens(client, owner):
    company = CompanyFactory(owner=owner)
    order = _order(owner, company, OrderProductFactory())
    client.force_login(owner)
    url = reverse("deals:order-interaction-create", args=[order.pk])
    card = client.get(reverse("deals:order-detail", args=[order.pk])).content.decode()
    assert 'data-testid="order-interaction-form"' not in card
    assert f'hx-get="{url}"' in card
    response = client.get(url, headers={"HX-Request": "true"})
    content = response.content.decode()
    assert 'data-testid="order-interaction-form"' in content
    assert "<html" not in content
    assert f"Order {order.number}" in content  # the subject is pre-filled


def test_order_changes_tab(client, owner, outsider):
    company = CompanyFactory(owner=owner)
    order = _order(owner, company, OrderProductFactory())
    order_set_payment_status(order=order, actor=owner, payment_status=PaymentStatus.PAID)
    client.force_login(owner)
    response = client.get(reverse("deals:order-changes", args=[order.pk]), headers={"HX-Request": "true"})
    content = response.content.decode()
    assert "<html" not in content
    assert "Paid" in content
    assert client.get(reverse("deals:order-changes", args=[order.pk])).status_code == 200
    client.force_login(outsider)
    assert client.get(reverse("deals:order-changes", args=[order.pk])).status_code == 404


def test_company_orders_tab(client, owner, outsider, django_assert_max_num_queries):
    company = CompanyFactory(owner=owner)
    orders = _make_orders(owner, 3, company=company)
    client.force_login(owner)
    url = reverse("deals:company-orders", args=[company.pk])
    with django_assert_max_num_queries(8):
        response = client.get(url, headers={"HX-Request": "true"})
    content = response.content.decode()
    assert content.count('data-testid="company-order"') == 3
    assert content.index(orders[2].number) < content.index(orders[0].number)  # newest first
    assert client.get(url).status_code == 302
    client.force_login(outsider)
    assert client.get(url, headers={"HX-Request": "true"}).status_code == 404
    procurement = make_user(Role.PROCUREMENT)
    company.owner = procurement
    company.save()
    client.force_login(procurement)
    response = client.get(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "You have no access to orders." in response.content.decode()


def test_company_card_has_orders_and_contracts_tabs(client, owner):
    company = CompanyFactory(owner=owner)
    client.force_login(owner)
    content = client.get(reverse("contacts:company-detail", args=[company.pk])).content.decode()
    assert 'data-testid="tab-orders"' in content
    assert 'data-testid="tab-contracts"' in content
    assert reverse("deals:company-orders", args=[company.pk]) in content


def test_nav_has_orders_and_contracts(client, owner):
    client.force_login(owner)
    content = client.get(reverse("deals:order-list")).content.decode()
    assert 'data-nav="orders"' in content
    assert 'data-nav="contracts"' in content


def test_create_order_from_the_deal_card(client, owner):
    company = CompanyFactory(owner=owner)
    deal = WonDealFactory(company=company)
    DealLineFactory(deal=deal)
    client.force_login(owner)
    url = reverse("deals:deal-order-create", args=[deal.pk])
    response = client.post(url)
    order = Order.objects.get()
    assert response.url == reverse("deals:order-detail", args=[order.pk])
    response = client.post(url, follow=True)
    assert "already has order" in response.content.decode()
    assert Order.objects.count() == 1


def test_create_order_from_a_deal_without_lines_goes_back_with_a_message(client, owner, outsider):
    deal = WonDealFactory(company=CompanyFactory(owner=owner))
    client.force_login(owner)
    response = client.post(reverse("deals:deal-order-create", args=[deal.pk]))
    assert response.status_code == 302
    assert response.url == services_orders_deal_url(deal.pk)
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("Add the products to the deal first" in m for m in messages)
    assert not Order.objects.exists()
    client.force_login(outsider)
    assert client.post(reverse("deals:deal-order-create", args=[deal.pk])).status_code == 404
    assert client.get(reverse("deals:deal-order-create", args=[deal.pk])).status_code == 405


def services_orders_deal_url(pk):
    from deals.views.orders import _deal_url

    return _deal_url(pk)
