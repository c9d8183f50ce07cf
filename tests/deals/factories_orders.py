"""Factories of the orders and contracts tests (products and deals too, so these tests stand alone)."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from deals.models import (
    Contract,
    ContractStatus,
    Deal,
    DealLine,
    DealStatus,
    FailureReason,
    Order,
    OrderLine,
    OrderStatus,
    OrderStatusChange,
    Pipeline,
    Product,
    Stage,
)
from tests.contacts.factories import CompanyFactory
from tests.crm.factories import UserFactory


class OrderProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"ORD-{n:05d}")
    name_uk = factory.Sequence(lambda n: f"Товар {n}")
    base_price = Decimal("100.00")
    vat_rate = "20.00"


def default_stage(*, won: bool = False) -> Stage:
    pipeline, _ = Pipeline.objects.get_or_create(name="Продажі", defaults={"is_default": True})
    stage = pipeline.stages.filter(is_won=won, is_lost=False).order_by("-order" if won else "order").first()
    if stage is None:
        stage = Stage.objects.create(pipeline=pipeline, name="Виграно" if won else "Новий", is_won=won, order=9)
    return stage


class WonDealFactory(factory.django.DjangoModelFactory):
    """A won deal of `company` (owned by the company's owner); add lines with DealLineFactory."""

    class Meta:
        model = Deal

    title = factory.Sequence(lambda n: f"Угода {n}")
    company = factory.SubFactory(CompanyFactory)
    owner = factory.LazyAttribute(lambda o: o.company.owner)
    team = factory.LazyAttribute(lambda o: o.owner.team)
    stage = factory.LazyFunction(lambda: default_stage(won=True))
    pipeline = factory.LazyAttribute(lambda o: o.stage.pipeline)
    status = DealStatus.WON
    amount = Decimal("0.00")
    closed_at = factory.LazyFunction(timezone.now)


class DealLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DealLine

    deal = factory.SubFactory(WonDealFactory)
    product = factory.SubFactory(OrderProductFactory)
    quantity = Decimal("2")
    price = Decimal("150.00")
    discount_percent = Decimal("10.00")


class OrderFactory(factory.django.DjangoModelFactory):
    """A new order of a company owned by the company's owner, without lines (use OrderLineFactory)."""

    class Meta:
        model = Order

    number = factory.Sequence(lambda n: f"1999-{n + 1:06d}")
    company = factory.SubFactory(CompanyFactory)
    owner = factory.LazyAttribute(lambda o: o.company.owner)
    team = factory.LazyAttribute(lambda o: o.owner.team)
    status = OrderStatus.NEW
    status_changed_at = factory.LazyFunction(timezone.now)


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    product = factory.SubFactory(OrderProductFactory)
    quantity = Decimal("1")
    price = Decimal("100.00")
    vat_rate = Decimal("20.00")
    net_amount = Decimal("100.00")
    vat_amount = Decimal("20.00")
    total_amount = Decimal("120.00")


class OrderStatusChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderStatusChange

    order = factory.SubFactory(OrderFactory)
    from_status = ""
    to_status = OrderStatus.NEW
    changed_at = factory.LazyFunction(timezone.now)


class FailureReasonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FailureReason
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Причина {n}")


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contract

    number = factory.Sequence(lambda n: f"Д-{n}")
    company = factory.SubFactory(CompanyFactory)
    owner = factory.LazyAttribute(lambda o: o.company.owner)
    team = factory.LazyAttribute(lambda o: o.owner.team)
    starts_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=300))
    ends_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=60))
    amount = Decimal("10000.00")
    status = ContractStatus.ACTIVE


__all__ = ["UserFactory"]
