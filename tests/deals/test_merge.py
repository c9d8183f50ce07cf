"""The sales rows follow a company merge (deals/merge.py through contacts.merge.company_merge)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from contacts import registry
from contacts.merge import company_merge
from contacts.models import Company, CompanyRole
from deals.merge import move_company_rows
from deals.models import (
    Contract,
    CustomerGroup,
    Deal,
    Discount,
    Order,
    PriceList,
    PurchaseDelivery,
    SupplierOffer,
    SupplierProfile,
)
from tests.contacts.factories import CompanyFactory
from tests.deals.factories_catalogue import (
    CustomerGroupFactory,
    DiscountFactory,
    PriceListFactory,
    PurchaseDeliveryFactory,
    SupplierOfferFactory,
    SupplierProfileFactory,
)
from tests.deals.factories_deals import DealFactory, make_pipeline
from tests.deals.factories_orders import ContractFactory, OrderFactory


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def pair(owner):
    roles = [CompanyRole.CUSTOMER, CompanyRole.SUPPLIER]
    survivor = CompanyFactory(owner=owner, name="ТОВ Ромашка", roles=roles)
    duplicate = CompanyFactory(owner=owner, name="Ромашка ТОВ", roles=roles)
    return survivor, duplicate


def test_the_merge_handler_is_registered():
    assert move_company_rows in registry.merge_handlers()


def test_merge_moves_deals_orders_contracts_prices_offers_and_deliveries(manager, owner, pair):
    # given: sales rows of both companies
    survivor, duplicate = pair
    stages = make_pipeline()[1]
    deals = [DealFactory(owner=owner, company=duplicate, stage=stages["new"]) for _ in range(2)]
    kept_deal = DealFactory(owner=owner, company=survivor, stage=stages["new"])
    order = OrderFactory(company=duplicate)
    contract = ContractFactory(company=duplicate, number="Д-1")
    ContractFactory(company=survivor, number="Д-2")
    price_list = PriceListFactory(company=duplicate)
    discount = DiscountFactory(company=duplicate, percent=Decimal("7.00"))
    offer = SupplierOfferFactory(supplier=duplicate)
    delivery = PurchaseDeliveryFactory(supplier=duplicate)

    # when: the real contacts merge
    company_merge(actor=manager, survivor=survivor, duplicate=duplicate, values={})

    # then: everything points at the survivor, with history by the actor
    assert not Company.objects.filter(pk=duplicate.pk).exists()
    assert set(Deal.objects.filter(company=survivor)) == {*deals, kept_deal}
    assert Order.objects.get(pk=order.pk).company == survivor
    assert Contract.objects.get(pk=contract.pk).company == survivor
    assert Contract.objects.filter(company=survivor).count() == 2
    assert PriceList.objects.get(pk=price_list.pk).company == survivor
    assert Discount.objects.get(pk=discount.pk).company == survivor
    assert SupplierOffer.objects.get(pk=offer.pk).supplier == survivor
    assert PurchaseDelivery.objects.get(pk=delivery.pk).supplier == survivor
    record = deals[0].history.order_by("-history_date", "-history_id").first()
    assert (record.company_id, record.history_user, record.history_change_reason) == (
        survivor.pk,
        manager,
        f"Merged from #{duplicate.pk} {duplicate.name}",
    )
    assert Contract.history.filter(id=contract.pk, company_id=survivor.pk, history_user=manager).exists()


def test_merge_unites_customer_group_memberships(manager, pair):
    survivor, duplicate = pair
    both, only_duplicate, only_survivor = CustomerGroupFactory(), CustomerGroupFactory(), CustomerGroupFactory()
    both.companies.add(survivor, duplicate)
    only_duplicate.companies.add(duplicate)
    only_survivor.companies.add(survivor)

    company_merge(actor=manager, survivor=survivor, duplicate=duplicate, values={})

    groups = CustomerGroup.objects.filter(companies=survivor)
    assert set(groups) == {both, only_duplicate, only_survivor}
    assert CustomerGroup.companies.through.objects.filter(company_id=survivor.pk).count() == 3


def test_merge_keeps_the_survivors_supplier_profile(manager, pair):
    survivor, duplicate = pair
    kept = SupplierProfileFactory(company=survivor, payment_terms="30 днів")
    SupplierProfileFactory(company=duplicate, payment_terms="передоплата")

    company_merge(actor=manager, survivor=survivor, duplicate=duplicate, values={})

    assert list(SupplierProfile.objects.values_list("pk", "payment_terms")) == [(kept.pk, "30 днів")]


def test_merge_gives_the_survivor_the_duplicates_profile_when_it_has_none(manager, pair):
    survivor, duplicate = pair
    moved = SupplierProfileFactory(company=duplicate, payment_terms="передоплата")

    company_merge(actor=manager, survivor=survivor, duplicate=duplicate, values={})

    moved.refresh_from_db()
    assert (moved.company, moved.payment_terms) == (survivor, "передоплата")
    assert moved.history.order_by("-history_date").first().history_user == manager


def test_merge_with_clashing_contract_numbers_is_refused_and_nothing_moves(manager, owner, pair):
    survivor, duplicate = pair
    stages = make_pipeline()[1]
    deal = DealFactory(owner=owner, company=duplicate, stage=stages["new"])
    ContractFactory(company=survivor, number="Д-7")
    ContractFactory(company=duplicate, number="Д-7")

    with pytest.raises(ValidationError) as error:
        company_merge(actor=manager, survivor=survivor, duplicate=duplicate, values={})

    assert "Д-7" in error.value.messages[0]
    assert Company.objects.filter(pk=duplicate.pk).exists()
    assert Deal.objects.get(pk=deal.pk).company == duplicate
