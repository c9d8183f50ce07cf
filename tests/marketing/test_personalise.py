"""The e-mail template language: known placeholders, the unknown one named, escaping, batch contexts with the
client's own price."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from deals.models import OrderStatus
from deals.pricing import price_for
from marketing.personalise import (
    member_context,
    personalise,
    personalise_html,
    placeholders_check,
    prices_for_companies,
)
from tests.contacts.factories import CompanyFactory, PersonFactory
from tests.deals.factories_catalogue import (
    CategoryFactory,
    CustomerGroupFactory,
    DiscountFactory,
    LoyaltyRuleFactory,
    PriceListFactory,
    PriceListItemFactory,
    ProductFactory,
)
from tests.marketing.factories import CampaignFactory, CampaignMemberFactory


def test_placeholders_check_accepts_the_known_ones():
    placeholders_check("{{ first_name }} {{last_name}} {{ full_name }} {{ company }} {{ position }} {{ product }}")
    placeholders_check("{{ price }} {{ unsubscribe_url }} and no placeholder at all")


def test_placeholders_check_names_the_unknown_placeholder():
    with pytest.raises(ValidationError) as error:
        placeholders_check("Hi {{ first_name }}, get {{ discount }} off")
    message = error.value.messages[0]
    assert "{{ discount }}" in message
    assert "{{ first_name }}" in message  # the known ones are listed


def test_placeholders_check_refuses_a_malformed_placeholder():
    with pytest.raises(ValidationError, match=r"\{\{ first name \}\}"):
        placeholders_check("{{ first name }}")


def test_personalise_substitutes_plain_text():
    text = personalise(template="Hello {{ first_name }} of {{company}}! {{ discount }}", context={
        "first_name": "Оля", "company": "A & B"})  # fmt: skip
    assert text == "Hello Оля of A & B! {{ discount }}"


def test_personalise_html_escapes_values_and_template():
    html = personalise_html(template="<b>{{ company }}</b>", context={"company": "<script>x</script>"})
    assert html == "&lt;b&gt;&lt;script&gt;x&lt;/script&gt;&lt;/b&gt;"


@pytest.mark.django_db
def test_member_context_uses_the_clients_own_price(django_assert_max_num_queries):
    product = ProductFactory(base_price=Decimal("100.00"))
    vip, plain, grouped = CompanyFactory(name="ТОВ ВІП"), CompanyFactory(), CompanyFactory()
    PriceListItemFactory(price_list=PriceListFactory(company=vip), product=product, price=Decimal("80.00"))
    group = CustomerGroupFactory()
    group.companies.add(grouped)
    PriceListItemFactory(price_list=PriceListFactory(customer_group=group), product=product, price=Decimal("95.00"))
    campaign = CampaignFactory(email_product=product)
    members = [
        CampaignMemberFactory(campaign=campaign, person=PersonFactory(company=c, first_name="Олена", position="CEO"))
        for c in (vip, plain, grouped)
    ]
    with django_assert_max_num_queries(8), translation.override("uk"):
        contexts = member_context(members=members, campaign=campaign)
    assert "80,00" in contexts[members[0].pk]["price"]
    assert "100,00" in contexts[members[1].pk]["price"]
    assert "95,00" in contexts[members[2].pk]["price"]
    first = contexts[members[0].pk]
    assert first["first_name"] == "Олена"
    assert first["company"] == "ТОВ ВІП"
    assert first["position"] == "CEO"
    assert first["product"] == product.name_uk
    assert first["full_name"].startswith("Олена ")


@pytest.mark.django_db
def test_member_context_query_count_does_not_grow_with_companies(django_assert_max_num_queries):
    product = ProductFactory()
    campaign = CampaignFactory(email_product=product)
    members = [CampaignMemberFactory(campaign=campaign) for _ in range(12)]
    LoyaltyRuleFactory(min_orders=1, period_days=30)
    with django_assert_max_num_queries(8):
        member_context(members=members, campaign=campaign)


@pytest.mark.django_db
def test_prices_for_companies_agrees_with_price_for(owner):
    category = CategoryFactory(parent=CategoryFactory())
    product = ProductFactory(category=category, base_price=Decimal("200.00"))
    listed, discounted, loyal, plain = (CompanyFactory() for _ in range(4))
    PriceListItemFactory(price_list=PriceListFactory(company=listed), product=product, price=Decimal("150.00"))
    DiscountFactory(company=discounted, category=category.parent, percent=Decimal("10.00"))
    DiscountFactory(category=category, percent=Decimal("2.00"))
    LoyaltyRuleFactory(min_orders=1, period_days=90, percent=Decimal("7.00"))
    from tests.deals.factories_orders import OrderFactory

    OrderFactory(company=loyal, status=OrderStatus.DELIVERED)
    today = timezone.localdate()
    batch = prices_for_companies(
        companies=[c.pk for c in (listed, discounted, loyal, plain)], product=product, on=today
    )
    for company in (listed, discounted, loyal, plain):
        single = price_for(company=company, product=product, on=today)
        assert batch[company.pk].final_price == single.final_price, company
        assert batch[company.pk].rule == single.rule
