"""Suppliers and the catalogue in the browser: compare a product's suppliers (issue #6, item 12), image check."""

from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from crm.models import Role
from deals.models import Product
from tests.conftest import make_user
from tests.deals.factories_catalogue import (
    ProductFactory,
    PurchaseDeliveryFactory,
    SupplierFactory,
    SupplierOfferFactory,
)
from tests.e2e.conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def _deliveries(supplier, product, delays: list[int]) -> None:
    """Purchases promised 10 days after the order, delivered `delay` days after the promise (negative: early)."""
    for month, delay in enumerate(delays, start=1):
        ordered = date(2025, month, 1)
        PurchaseDeliveryFactory(
            supplier=supplier,
            product=product,
            ordered_on=ordered,
            promised_on=date(2025, month, 11),
            delivered_on=date(2025, month, 11 + delay),
            quantity_ordered=Decimal(10),
            quantity_received=Decimal(10),
        )


def test_procurement_compares_suppliers_and_sorts_by_reliability(page: Page, live_server):
    # given: a cheap but late supplier, a dearer but punctual one, and one without any deliveries
    buyer = make_user(Role.PROCUREMENT)
    product = ProductFactory(name_en="Portland cement", name_uk="Цемент")
    cheap, punctual, new = (
        SupplierFactory(name="Cheap Ltd"),
        SupplierFactory(name="Punctual Ltd"),
        SupplierFactory(name="New Ltd"),
    )
    SupplierOfferFactory(supplier=cheap, product=product, price=Decimal("80.00"), lead_days=3)
    SupplierOfferFactory(supplier=punctual, product=product, price=Decimal("95.00"), lead_days=7)
    SupplierOfferFactory(supplier=new, product=product, price=Decimal("85.00"), lead_days=5)
    _deliveries(cheap, product, [5, 3, 0, 4])  # 1 of 4 on time
    _deliveries(punctual, product, [0, -1, 0, -2])  # always on time

    # when: the buyer opens the product card, then its suppliers
    login(page, live_server, buyer)
    page.goto(f"{live_server.url}/sales/products/{product.pk}/")
    page.get_by_test_id("suppliers-link").click()
    rows = page.get_by_test_id("supplier-row")
    expect(rows).to_have_count(3)
    expect(rows.first.get_by_test_id("supplier-name")).to_have_text("Cheap Ltd")  # by price first

    # and sorts by reliability
    page.get_by_test_id("sort-reliability").click()

    # then: the most reliable supplier comes first, its on-time share shown; the URL keeps the sort
    expect(rows.first.get_by_test_id("supplier-name")).to_have_text("Punctual Ltd")
    expect(rows.first.get_by_test_id("on-time")).to_have_text("100.0 %")
    expect(rows.nth(1).get_by_test_id("on-time")).to_have_text("25.0 %")
    expect(rows.last.get_by_test_id("supplier-name")).to_have_text("New Ltd")
    expect(page).to_have_url(f"{live_server.url}/sales/products/{product.pk}/suppliers/?sort=reliability")


def test_product_create_with_a_bad_image_gets_a_message(page: Page, live_server, settings, tmp_path):
    # given: a procurement user (deals.change_product)
    settings.MEDIA_ROOT = tmp_path
    buyer = make_user(Role.PROCUREMENT)
    login(page, live_server, buyer)

    # when: the new product's "image" is a text file named like a PNG
    page.goto(f"{live_server.url}/sales/products/")
    page.get_by_test_id("new-product").click()
    form = page.get_by_test_id("product-form")
    form.get_by_label("SKU").fill("E2E-1")
    form.get_by_label("name (Ukrainian)").fill("Тестовий товар")
    form.get_by_label("base price, UAH").fill("150.00")
    form.locator("input[type=file]").set_input_files(
        files=[{"name": "photo.png", "mimeType": "image/png", "buffer": b"this is not a picture"}]
    )
    form.get_by_test_id("save").click()

    # then: a message next to the image field, nothing saved
    expect(page.get_by_test_id("product-form").locator(".invalid-feedback")).to_contain_text(
        "Upload a JPEG, PNG or WebP picture."
    )
    assert not Product.objects.filter(sku="E2E-1").exists()
