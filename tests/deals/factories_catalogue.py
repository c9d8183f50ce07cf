"""Catalogue, price and supplier factories (catalogue agent)."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from contacts.models import CompanyRole
from deals.models import (
    Category,
    CustomerGroup,
    Discount,
    LoyaltyRule,
    PriceList,
    PriceListItem,
    Product,
    PurchaseDelivery,
    SupplierOffer,
    SupplierProfile,
)
from tests.contacts.factories import CompanyFactory


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name_uk = factory.Sequence(lambda n: f"Категорія {n}")
    name_en = factory.Sequence(lambda n: f"Category {n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name_uk = factory.Sequence(lambda n: f"Товар {n}")
    name_en = factory.Sequence(lambda n: f"Product {n}")
    base_price = Decimal("100.00")


class CustomerGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerGroup

    name = factory.Sequence(lambda n: f"Група {n}")


class PriceListFactory(factory.django.DjangoModelFactory):
    """Pass `company=` or `customer_group=`."""

    class Meta:
        model = PriceList

    name = factory.Sequence(lambda n: f"Прайс {n}")


class PriceListItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceListItem

    price = Decimal("90.00")


class DiscountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Discount

    percent = Decimal("5.00")


class LoyaltyRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LoyaltyRule

    name = factory.Sequence(lambda n: f"Лояльність {n}")
    percent = Decimal("3.00")


class SupplierFactory(CompanyFactory):
    roles = factory.LazyFunction(lambda: [CompanyRole.SUPPLIER])


class SupplierProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupplierProfile

    company = factory.SubFactory(SupplierFactory)
    promised_lead_days = 7


class SupplierOfferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupplierOffer

    supplier = factory.SubFactory(SupplierFactory)
    product = factory.SubFactory(ProductFactory)
    price = Decimal("50.00")
    lead_days = 5


class PurchaseDeliveryFactory(factory.django.DjangoModelFactory):
    """Ordered 20 days ago, promised 10 days later; pass delivered_on / quantity_received for delivered ones."""

    class Meta:
        model = PurchaseDelivery

    supplier = factory.SubFactory(SupplierFactory)
    product = factory.SubFactory(ProductFactory)
    ordered_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=20))
    promised_on = factory.LazyAttribute(lambda o: o.ordered_on + timedelta(days=10))
    quantity_ordered = Decimal("10")
