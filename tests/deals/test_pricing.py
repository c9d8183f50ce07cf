from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.utils import timezone, translation

from deals.models import FailureReason, Order, OrderStatus
from deals.pricing import PriceQuote, price_for, price_for_many
from tests.contacts.factories import CompanyFactory
from tests.deals.factories_catalogue import (
    CategoryFactory,
    CustomerGroupFactory,
    DiscountFactory,
    LoyaltyRuleFactory,
    PriceListFactory,
    PriceListItemFactory,
    ProductFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """Messages are checked in English, whichever language an earlier test left active."""
    with translation.override("en"):
        yield


ON = date(2026, 6, 15)
_numbers = count(1)


def _order(company, *, days_ago: int, total: str, status: str = OrderStatus.COMPLETED) -> Order:
    order = Order.objects.create(
        number=f"T-{next(_numbers)}", company=company, owner=company.owner, status=status, total=Decimal(total)
    )
    created = timezone.make_aware(datetime.combine(ON - timedelta(days=days_ago), datetime.min.time())) + timedelta(
        hours=12
    )
    Order.objects.filter(pk=order.pk).update(created_at=created)
    return order


def _failed_order(company, *, days_ago: int, total: str) -> None:
    reason = FailureReason.objects.first() or FailureReason.objects.create(name="Test reason")
    order = Order.objects.create(
        number=f"T-{next(_numbers)}",
        company=company,
        owner=company.owner,
        status=OrderStatus.FAILED,
        failure_reason=reason,
        total=Decimal(total),
    )
    created = timezone.make_aware(datetime.combine(ON - timedelta(days=days_ago), datetime.min.time()))
    Order.objects.filter(pk=order.pk).update(created_at=created)


def test_price_for_without_rules_is_the_base_price():
    company, product = CompanyFactory(), ProductFactory(base_price=Decimal("123.45"))

    quote = price_for(company=company, product=product, on=ON)

    assert quote == PriceQuote(
        base_price=Decimal("123.45"),
        price=Decimal("123.45"),
        discount_percent=Decimal("0.00"),
        final_price=Decimal("123.45"),
        rule=quote.rule,
    )
    assert "base price" in quote.rule
    assert "no discount" in quote.rule


def test_price_for_company_price_list_beats_group_price_list():
    company, product = CompanyFactory(), ProductFactory()
    group = CustomerGroupFactory()
    group.companies.add(company)
    # The group's list is newer, yet the company's own list wins.
    group_list = PriceListFactory(customer_group=group, name="Dealers", valid_from=date(2026, 6, 1))
    PriceListItemFactory(price_list=group_list, product=product, price=Decimal("80.00"))
    company_list = PriceListFactory(company=company, name="Personal", valid_from=date(2025, 1, 1))
    PriceListItemFactory(price_list=company_list, product=product, price=Decimal("95.00"))

    quote = price_for(company=company, product=product, on=ON)

    assert quote.price == Decimal("95.00")
    assert quote.base_price == Decimal("100.00")
    assert "Personal" in quote.rule


def test_price_for_group_price_list_applies_to_members_only():
    member, stranger, product = CompanyFactory(), CompanyFactory(), ProductFactory()
    group = CustomerGroupFactory()
    group.companies.add(member)
    PriceListItemFactory(price_list=PriceListFactory(customer_group=group, name="Dealers"), product=product, price=80)

    assert price_for(company=member, product=product, on=ON).price == Decimal("80.00")
    assert "Dealers" in price_for(company=member, product=product, on=ON).rule
    assert price_for(company=stranger, product=product, on=ON).price == Decimal("100.00")


def test_price_for_latest_valid_from_wins_among_lists_of_one_kind():
    company, product = CompanyFactory(), ProductFactory()
    old = PriceListFactory(company=company, name="Old", valid_from=date(2026, 1, 1))
    new = PriceListFactory(company=company, name="New", valid_from=date(2026, 5, 1))
    open_start = PriceListFactory(company=company, name="Always")
    PriceListItemFactory(price_list=old, product=product, price=70)
    PriceListItemFactory(price_list=new, product=product, price=75)
    PriceListItemFactory(price_list=open_start, product=product, price=60)

    quote = price_for(company=company, product=product, on=ON)

    assert (quote.price, "New" in quote.rule) == (Decimal("75.00"), True)


def test_price_for_ignores_inactive_lists_lists_out_of_dates_and_lists_without_the_product():
    company, product, other = CompanyFactory(), ProductFactory(), ProductFactory()
    inactive = PriceListFactory(company=company, is_active=False)
    future = PriceListFactory(company=company, valid_from=ON + timedelta(days=1))
    expired = PriceListFactory(company=company, valid_until=ON - timedelta(days=1))
    unrelated = PriceListFactory(company=company)
    for price_list in (inactive, future, expired):
        PriceListItemFactory(price_list=price_list, product=product, price=10)
    PriceListItemFactory(price_list=unrelated, product=other, price=10)

    assert price_for(company=company, product=product, on=ON).price == Decimal("100.00")


def test_price_for_validity_dates_are_inclusive():
    company, product = CompanyFactory(), ProductFactory()
    price_list = PriceListFactory(company=company, valid_from=ON, valid_until=ON)
    PriceListItemFactory(price_list=price_list, product=product, price=50)
    DiscountFactory(company=company, percent=10, valid_from=ON, valid_until=ON)

    quote = price_for(company=company, product=product, on=ON)
    before = price_for(company=company, product=product, on=ON - timedelta(days=1))

    assert (quote.price, quote.discount_percent, quote.final_price) == (Decimal(50), Decimal(10), Decimal("45.00"))
    assert (before.price, before.discount_percent) == (Decimal(100), Decimal(0))


def test_price_for_best_discount_among_company_category_and_both():
    root = CategoryFactory(name_uk="Інструменти", name_en="Tools")
    child = CategoryFactory(parent=root, name_uk="Дрилі")
    leaf = CategoryFactory(parent=child, name_uk="Акумуляторні")
    company, product = CompanyFactory(), ProductFactory(category=leaf)
    DiscountFactory(company=company, percent=4)
    DiscountFactory(category=child, percent=6)
    DiscountFactory(company=company, category=root, percent=8)  # an ancestor two levels up

    with translation.override("en"):
        quote = price_for(company=company, product=product, on=ON)

    assert quote.discount_percent == Decimal("8.00")
    assert quote.final_price == Decimal("92.00")
    assert "Tools" in quote.rule
    assert "company" in quote.rule


def test_price_for_category_discount_on_an_ancestor_and_not_on_siblings():
    root = CategoryFactory(name_uk="Корінь", name_en="Root")
    child, sibling = CategoryFactory(parent=root), CategoryFactory(parent=root)
    company, product = CompanyFactory(), ProductFactory(category=child)
    DiscountFactory(category=root, percent=3)
    DiscountFactory(category=sibling, percent=30)
    DiscountFactory(company=CompanyFactory(), percent=40)  # another company's discount
    DiscountFactory(company=CompanyFactory(), category=child, percent=50)

    with translation.override("en"):
        quote = price_for(company=company, product=product, on=ON)

    assert quote.discount_percent == Decimal("3.00")
    assert "Root" in quote.rule


def test_price_for_company_discount_applies_to_products_without_category_and_dates_matter():
    company, product = CompanyFactory(), ProductFactory(category=None)
    DiscountFactory(company=company, percent=7, valid_until=ON - timedelta(days=1))
    DiscountFactory(company=company, percent=5, valid_from=ON - timedelta(days=10))
    DiscountFactory(company=company, percent=9, valid_from=ON + timedelta(days=1))

    assert price_for(company=company, product=product, on=ON).discount_percent == Decimal("5.00")


def test_price_for_loyalty_by_number_of_orders_within_the_period():
    company, product = CompanyFactory(), ProductFactory()
    LoyaltyRuleFactory(name="Постійний", min_orders=3, period_days=365, percent=Decimal("6.00"))
    _order(company, days_ago=10, total="1")
    _order(company, days_ago=100, total="1")
    _order(company, days_ago=400, total="1")  # outside the period
    _failed_order(company, days_ago=5, total="1")  # failed orders do not count

    assert price_for(company=company, product=product, on=ON).discount_percent == Decimal("0.00")

    _order(company, days_ago=364, total="1")
    quote = price_for(company=company, product=product, on=ON)

    assert quote.discount_percent == Decimal("6.00")
    assert "Постійний" in quote.rule


def test_price_for_loyalty_by_amount_within_the_period():
    company, other, product = CompanyFactory(), CompanyFactory(), ProductFactory()
    LoyaltyRuleFactory(name="Big", min_amount=Decimal("10000.00"), period_days=90, percent=Decimal("10.00"))
    LoyaltyRuleFactory(name="Off", min_amount=Decimal("1.00"), percent=Decimal("50.00"), is_active=False)
    _order(company, days_ago=1, total="6000.00")
    _order(company, days_ago=120, total="6000.00")  # too old for 90 days
    _order(other, days_ago=1, total="99999.00")  # another company

    assert price_for(company=company, product=product, on=ON).discount_percent == Decimal("0.00")

    _order(company, days_ago=89, total="4000.00")

    quote = price_for(company=company, product=product, on=ON)
    assert (quote.discount_percent, quote.final_price) == (Decimal("10.00"), Decimal("90.00"))
    assert "Big" in quote.rule


def test_price_for_orders_after_the_date_do_not_count():
    company, product = CompanyFactory(), ProductFactory()
    LoyaltyRuleFactory(min_orders=1, percent=5)
    _order(company, days_ago=-3, total="1")

    assert price_for(company=company, product=product, on=ON).discount_percent == Decimal("0.00")


def test_price_for_best_of_discount_and_loyalty_on_a_price_list_price():
    company, product = CompanyFactory(), ProductFactory()
    PriceListItemFactory(price_list=PriceListFactory(company=company, name="VIP"), product=product, price=200)
    DiscountFactory(company=company, percent=5)
    LoyaltyRuleFactory(name="Loyal", min_orders=1, percent=12)
    LoyaltyRuleFactory(name="Too hard", min_orders=100, percent=40)
    _order(company, days_ago=3, total="10")

    quote = price_for(company=company, product=product, on=ON)

    assert (quote.price, quote.discount_percent, quote.final_price) == (Decimal(200), Decimal(12), Decimal("176.00"))
    assert "VIP" in quote.rule
    assert "Loyal" in quote.rule


@pytest.mark.parametrize(
    ("price", "percent", "expected"),
    [
        ("10.05", "50", "5.03"),  # 5.025 rounds half up
        ("0.01", "50", "0.01"),  # 0.005 → 0.01
        ("99.99", "33.33", "66.66"),  # 66.663333
        ("19.99", "12.5", "17.49"),  # 17.49125
        ("1000.00", "100", "0.00"),
    ],
)
def test_price_for_final_price_rounds_half_up_to_kopecks(price, percent, expected):
    company, product = CompanyFactory(), ProductFactory(base_price=Decimal(price))
    DiscountFactory(company=company, percent=Decimal(percent))

    quote = price_for(company=company, product=product, on=ON)

    assert quote.final_price == Decimal(expected)
    assert isinstance(quote.final_price, Decimal)
    assert quote.final_price.as_tuple().exponent == -2


def test_price_for_many_uses_a_constant_number_of_queries(django_assert_max_num_queries):
    root = CategoryFactory()
    company = CompanyFactory()
    group = CustomerGroupFactory()
    group.companies.add(company)
    group_list = PriceListFactory(customer_group=group)
    products = [ProductFactory(category=CategoryFactory(parent=root)) for _ in range(12)]
    for product in products[:6]:
        PriceListItemFactory(price_list=group_list, product=product, price=77)
    DiscountFactory(category=root, percent=2)
    DiscountFactory(company=company, category=products[0].category, percent=11)
    LoyaltyRuleFactory(min_orders=1, percent=1, period_days=30)
    LoyaltyRuleFactory(min_amount=5, percent=1.5, period_days=365)
    _order(company, days_ago=3, total="10")

    with django_assert_max_num_queries(5):
        quotes = price_for_many(company=company, products=products, on=ON)

    assert set(quotes) == {p.pk for p in products}
    assert quotes[products[0].pk].final_price == Decimal("68.53")  # 77 − 11 %
    assert quotes[products[7].pk].discount_percent == Decimal("2.00")
    assert quotes[products[7].pk].price == Decimal("100.00")
    assert price_for_many(company=company, products=[], on=ON) == {}


def test_price_for_rule_follows_the_ui_language():
    category = CategoryFactory(name_uk="Фарби", name_en="Paints")
    company, product = CompanyFactory(), ProductFactory(category=category)
    DiscountFactory(category=category, percent=Decimal("7.50"))

    with translation.override("en"):
        english = price_for(company=company, product=product, on=ON).rule
    with translation.override("uk"):
        ukrainian = price_for(company=company, product=product, on=ON).rule

    assert "Paints" in english
    assert "7.50" in english
    assert "Фарби" in ukrainian
    assert "7,50" in ukrainian
