"""Suppliers: profile/offer/delivery services, reliability figures, supplier pages, product comparison, card tab."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from contacts import registry
from crm.models import Role
from crm.navigation import items_for
from deals import selectors_suppliers, services_suppliers
from deals.models import PurchaseDelivery, SupplierOffer, SupplierProfile
from tests.conftest import make_user
from tests.contacts.factories import CompanyFactory
from tests.deals.factories_catalogue import (
    ProductFactory,
    PurchaseDeliveryFactory,
    SupplierFactory,
    SupplierOfferFactory,
    SupplierProfileFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def url(name, *args):
    return reverse(f"deals:{name}", args=args)


@pytest.fixture
def procurement(db):
    return make_user(Role.PROCUREMENT)


@pytest.fixture
def buyer_client(client, procurement):
    client.force_login(procurement)
    return client


def _delivery(supplier, product, ordered, promised, delivered, quantity, received):
    return PurchaseDeliveryFactory(
        supplier=supplier,
        product=product,
        ordered_on=ordered,
        promised_on=promised,
        delivered_on=delivered,
        quantity_ordered=Decimal(quantity),
        quantity_received=Decimal(received),
    )


@pytest.fixture
def known(outsider):
    """Three suppliers of product P (owned by a sales rep of another team: a shared catalogue).

    A: P on time twice (fill 100 %), Q late by 4 days (15 of 20), one open overdue purchase.
    B: P late by 10 and by 2 days, once on time; 28 of 30 received.
    C: an offer in USD, no deliveries.
    """
    p, q = ProductFactory(name_en="Cement"), ProductFactory(name_en="Sand")
    a = SupplierFactory(name="Альфа", owner=outsider)
    b = SupplierFactory(name="Бета", owner=outsider)
    c = SupplierFactory(name="Гамма", owner=outsider)
    d = date
    _delivery(a, p, d(2025, 1, 1), d(2025, 1, 11), d(2025, 1, 10), 10, 10)
    _delivery(a, p, d(2025, 2, 1), d(2025, 2, 11), d(2025, 2, 11), 10, 10)
    _delivery(a, q, d(2025, 3, 1), d(2025, 3, 6), d(2025, 3, 10), 20, 15)
    _delivery(a, q, d(2025, 4, 1), d(2025, 4, 5), None, 5, 0)
    _delivery(b, p, d(2025, 1, 1), d(2025, 1, 6), d(2025, 1, 16), 10, 8)
    _delivery(b, p, d(2025, 2, 1), d(2025, 2, 6), d(2025, 2, 8), 10, 10)
    _delivery(b, p, d(2025, 3, 1), d(2025, 3, 6), d(2025, 3, 5), 10, 10)
    SupplierOfferFactory(supplier=a, product=p, price=Decimal("120.00"), lead_days=10)
    SupplierOfferFactory(supplier=b, product=p, price=Decimal("100.00"), lead_days=5, valid_from=d(2025, 1, 1))
    SupplierOfferFactory(supplier=b, product=p, price=Decimal("50.00"), lead_days=1, valid_until=d(2024, 12, 31))
    SupplierOfferFactory(supplier=c, product=p, price=Decimal("90.00"), currency="USD", lead_days=3)
    return {"p": p, "q": q, "a": a, "b": b, "c": c}


# --- reliability figures -------------------------------------------------------------------------------


def test_reliability_overall_figures_on_a_known_data_set(known, django_assert_num_queries):
    a, b, c = known["a"], known["b"], known["c"]

    with django_assert_num_queries(1):
        figures = selectors_suppliers.reliability_by_supplier(supplier_ids=[a.pk, b.pk, c.pk])

    fa = figures[a.pk]
    assert (fa.delivered, fa.on_time, fa.open, fa.overdue) == (3, 2, 1, 1)
    assert fa.on_time_percent == Decimal("66.7")
    assert fa.fill_rate_percent == Decimal("87.5")  # 35 of 40
    assert fa.average_delay_days == Decimal("4.0")
    assert fa.actual_lead_days == Decimal("9.3")  # (9 + 10 + 9) / 3
    assert fa.promised_lead_days == Decimal("8.3")  # (10 + 10 + 5) / 3
    assert fa.lead_gap_days == Decimal("1.0")
    fb = figures[b.pk]
    assert fb.on_time_percent == Decimal("33.3")
    assert fb.fill_rate_percent == Decimal("93.3")  # 28 of 30
    assert fb.average_delay_days == Decimal("6.0")  # (10 + 2) / 2
    assert fb.actual_lead_days == Decimal("8.7")  # (15 + 7 + 4) / 3
    assert fb.promised_lead_days == Decimal("5.0")
    assert c.pk not in figures


def test_reliability_per_product(known):
    a, b, p = known["a"], known["b"], known["p"]

    figures = selectors_suppliers.reliability_by_supplier(supplier_ids=[a.pk, b.pk], product=p)

    assert figures[a.pk].on_time_percent == Decimal("100.0")
    assert figures[a.pk].fill_rate_percent == Decimal("100.0")
    assert figures[a.pk].average_delay_days is None  # nothing late
    assert figures[a.pk].actual_lead_days == Decimal("9.5")
    assert figures[a.pk].promised_lead_days == Decimal("10.0")
    assert figures[b.pk].delivered == 3


def test_reliability_by_product_of_one_supplier(known, django_assert_num_queries):
    with django_assert_num_queries(1):
        figures = selectors_suppliers.reliability_by_product(supplier=known["a"])

    assert figures[known["p"].pk].on_time_percent == Decimal("100.0")
    assert figures[known["q"].pk].on_time_percent == Decimal("0.0")
    assert figures[known["q"].pk].open == 1


def test_reliability_without_deliveries_is_empty(db):
    assert selectors_suppliers.reliability_by_supplier(supplier_ids=[]) == {}
    assert not selectors_suppliers.Reliability().has_data


# --- comparison ----------------------------------------------------------------------------------------


def test_product_suppliers_sorted_by_price_lead_and_reliability(known, procurement, django_assert_max_num_queries):
    p = known["p"]
    procurement.has_perm("deals.view_supplieroffer")  # the permission cache, loaded by the view's decorator

    with django_assert_max_num_queries(3):
        by_price = selectors_suppliers.product_suppliers(user=procurement, product=p, sort="price")
    by_lead = selectors_suppliers.product_suppliers(user=procurement, product=p, sort="lead")
    by_reliability = selectors_suppliers.product_suppliers(user=procurement, product=p, sort="reliability")

    assert [r.supplier.name for r in by_price] == ["Бета", "Альфа", "Гамма"]  # USD after UAH
    assert [r.supplier.name for r in by_lead] == ["Гамма", "Бета", "Альфа"]
    assert [r.supplier.name for r in by_reliability] == ["Альфа", "Бета", "Гамма"]
    beta = by_price[0]
    assert (beta.offer.price, beta.is_current) == (Decimal("100.00"), True)  # not the expired 50.00 offer


def test_product_suppliers_page_sorts_and_shows_figures(buyer_client, known, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        response = buyer_client.get(url("product-suppliers", known["p"].pk), {"sort": "reliability"})

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('data-testid="supplier-row"') == 3
    assert html.index("Альфа") < html.index("Бета") < html.index("Гамма")
    assert "90.00 USD" in html
    assert "100.0 %" in html
    assert "33.3 %" in html


def test_product_suppliers_htmx_returns_the_table(buyer_client, known):
    response = buyer_client.get(url("product-suppliers", known["p"].pk), {"sort": "lead"}, headers=HTMX)

    html = response.content.decode()
    assert "<html" not in html
    assert 'id="comparison"' in html
    assert html.index("Гамма") < html.index("Бета")


def test_product_suppliers_unknown_sort_falls_back_to_price(buyer_client, known):
    response = buyer_client.get(url("product-suppliers", known["p"].pk), {"sort": "drop table"})

    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("Бета") < html.index("Альфа")


def test_product_suppliers_needs_the_supplier_permission(client, owner, readonly, known):
    client.force_login(owner)
    assert client.get(url("product-suppliers", known["p"].pk)).status_code == 403
    client.force_login(readonly)
    assert client.get(url("product-suppliers", known["p"].pk)).status_code == 403


# --- supplier list and page ----------------------------------------------------------------------------


def test_supplier_list_shows_every_supplier_to_procurement(buyer_client, known, django_assert_max_num_queries):
    CompanyFactory(name="Просто клієнт")  # no supplier role

    with django_assert_max_num_queries(8):
        response = buyer_client.get(url("supplier-list"))

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('data-testid="supplier-row"') == 3  # owned by a rep of another team: still listed
    assert "Просто клієнт" not in html
    assert "66.7 %" in html
    assert "87.5 %" in html


def test_supplier_list_search_and_htmx(buyer_client, known):
    response = buyer_client.get(url("supplier-list"), {"q": "бета"}, headers=HTMX)

    html = response.content.decode()
    assert "<html" not in html
    assert html.count('data-testid="supplier-row"') == 1
    assert "Бета" in html


def test_supplier_list_pages_by_keyset(procurement, known):
    first = selectors_suppliers.supplier_list_page(user=procurement, limit=2)
    second = selectors_suppliers.supplier_list_page(user=procurement, limit=2, cursor=first.next_cursor)

    assert [r.company.name for r in first.rows + second.rows] == ["Альфа", "Бета", "Гамма"]
    assert second.next_cursor is None


@pytest.mark.parametrize("name", ["supplier-list", "supplier-detail"])
def test_supplier_pages_are_forbidden_without_the_permission(client, owner, readonly, known, name):
    args = [] if name == "supplier-list" else [known["a"].pk]
    for user in (owner, readonly):
        client.force_login(user)
        assert client.get(url(name, *args)).status_code == 403


def test_supplier_companies_for_others_follow_visible_to(owner, outsider, known):
    own = SupplierFactory(owner=owner)

    assert list(selectors_suppliers.supplier_companies(user=owner)) == [own]


def test_supplier_detail_shows_profile_offers_deliveries_and_figures(
    buyer_client, known, django_assert_max_num_queries
):
    SupplierProfileFactory(company=known["a"], promised_lead_days=9, payment_terms="30 днів відстрочки")

    with django_assert_max_num_queries(14):
        response = buyer_client.get(url("supplier-detail", known["a"].pk))

    html = response.content.decode()
    assert response.status_code == 200
    assert "30 днів відстрочки" in html
    assert html.count('data-testid="offer-row"') == 1
    assert html.count('data-testid="delivery-row"') == 4
    assert 'data-testid="figure-on-time">66.7 %' in html
    assert 'data-testid="record-delivery"' in html
    assert 'data-percent="66.7"' in html or 'data-percent="67"' in html


def test_supplier_detail_of_a_non_supplier_is_404(buyer_client):
    customer = CompanyFactory()

    assert buyer_client.get(url("supplier-detail", customer.pk)).status_code == 404


def test_supplier_detail_without_profile_or_deliveries(buyer_client, known):
    html = buyer_client.get(url("supplier-detail", known["c"].pk)).content.decode()

    assert "No supplier profile yet." in html
    assert 'data-testid="no-figures"' in html


def test_director_sees_suppliers_without_forms_he_cannot_use(client, director, known):
    client.force_login(director)

    html = client.get(url("supplier-detail", known["a"].pk)).content.decode()

    assert 'data-testid="add-offer"' in html  # the director has the supply permissions too


# --- profile -------------------------------------------------------------------------------------------


def test_profile_upsert_creates_then_updates_one_row(procurement, known):
    a = known["a"]

    services_suppliers.supplier_profile_upsert(actor=procurement, company=a, promised_lead_days=7)
    profile = services_suppliers.supplier_profile_upsert(
        actor=procurement,
        company=a,
        promised_lead_days=5,
        minimum_order=Decimal("1000.00"),
        delivery_regions=["kyiv_city"],
    )

    assert SupplierProfile.objects.filter(company=a).count() == 1
    assert (profile.promised_lead_days, profile.minimum_order, profile.delivery_regions) == (
        5,
        Decimal("1000.00"),
        ["kyiv_city"],
    )
    assert profile.history.count() == 2


def test_profile_upsert_refuses_a_company_without_the_supplier_role(procurement):
    customer = CompanyFactory(name="Клієнт")

    with pytest.raises(ValidationError) as error:
        services_suppliers.supplier_profile_upsert(actor=procurement, company=customer, promised_lead_days=3)

    assert "is not a supplier" in str(error.value)
    assert not SupplierProfile.objects.exists()


def test_profile_upsert_needs_the_permission(owner, known):
    with pytest.raises(PermissionDenied):
        services_suppliers.supplier_profile_upsert(actor=owner, company=known["a"], promised_lead_days=3)


def test_profile_edit_page_saves(buyer_client, known):
    data = {"delivery_terms": "EXW Київ", "payment_terms": "", "minimum_order": "500.50", "promised_lead_days": "4"}
    data["delivery_regions"] = ["kyiv_city", "lviv"]

    response = buyer_client.post(url("supplier-profile-edit", known["a"].pk), data)

    assert response.status_code == 302
    profile = SupplierProfile.objects.get(company=known["a"])
    assert (profile.delivery_terms, profile.minimum_order, profile.delivery_regions) == (
        "EXW Київ",
        Decimal("500.50"),
        ["kyiv_city", "lviv"],
    )


def test_profile_edit_bad_minimum_order_gets_a_message(buyer_client, known):
    response = buyer_client.post(url("supplier-profile-edit", known["a"].pk), {"minimum_order": "10.123"})

    assert "Use at most 2 decimal places (kopecks)." in response.content.decode()
    assert not SupplierProfile.objects.exists()


def test_profile_edit_form_htmx_partial(buyer_client, known):
    response = buyer_client.get(url("supplier-profile-edit", known["a"].pk), headers=HTMX)

    html = response.content.decode()
    assert "<html" not in html
    assert 'id="supplier-form"' in html


def test_profile_edit_is_forbidden_for_sales(client, owner, known):
    client.force_login(owner)

    assert client.post(url("supplier-profile-edit", known["a"].pk), {"promised_lead_days": "1"}).status_code == 403


# --- offers --------------------------------------------------------------------------------------------


def test_offer_create_and_update_keep_history(procurement, known):
    offer = services_suppliers.supplier_offer_create(
        actor=procurement, supplier=known["c"], product=known["q"], price=Decimal("10.50"), lead_days=2
    )
    services_suppliers.supplier_offer_update(actor=procurement, offer=offer, price=Decimal("11.00"))

    offer.refresh_from_db()
    assert offer.price == Decimal("11.00")
    assert offer.history.count() == 2
    assert offer.history.first().history_user == procurement


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"price": Decimal("-1.00"), "lead_days": 2}, "price"),
        ({"price": Decimal("1.005"), "lead_days": 2}, "price"),
        (
            {"price": Decimal("1.00"), "lead_days": 2, "valid_from": date(2025, 5, 2), "valid_until": date(2025, 5, 1)},
            "valid_until",
        ),
    ],
)
def test_offer_create_bad_input_is_refused(procurement, known, fields, key):
    with pytest.raises(ValidationError) as error:
        services_suppliers.supplier_offer_create(actor=procurement, supplier=known["c"], product=known["q"], **fields)

    assert key in error.value.message_dict
    assert not SupplierOffer.objects.filter(product=known["q"]).exists()


def test_offer_for_a_non_supplier_is_refused(procurement, known):
    with pytest.raises(ValidationError):
        services_suppliers.supplier_offer_create(
            actor=procurement, supplier=CompanyFactory(), product=known["q"], price=Decimal(1), lead_days=1
        )


def test_offer_create_page_saves(buyer_client, known):
    data = {"product": known["q"].pk, "price": "99.90", "currency": "EUR", "lead_days": "14", "supplier_sku": "S-1"}

    response = buyer_client.post(url("supplier-offer-create", known["c"].pk), data)

    assert response.status_code == 302
    offer = SupplierOffer.objects.get(product=known["q"])
    assert (offer.supplier, offer.price, offer.currency) == (known["c"], Decimal("99.90"), "EUR")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"price": "1.001"}, "Use at most 2 decimal places (kopecks)."),
        ({"price": "-3"}, "The price cannot be negative."),
        ({"lead_days": "-1"}, "Ensure this value is greater than or equal to 0."),
        ({"valid_from": "2025-05-02", "valid_until": "2025-05-01"}, "The end date cannot be before the start date."),
        ({"product": "999999"}, "Select a valid choice."),
    ],
)
def test_offer_create_page_bad_input_gets_a_message(buyer_client, known, overrides, message):
    data = {"product": known["q"].pk, "price": "10", "currency": "UAH", "lead_days": "3", **overrides}

    response = buyer_client.post(url("supplier-offer-create", known["c"].pk), data)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not SupplierOffer.objects.filter(product=known["q"]).exists()


def test_offer_update_page(buyer_client, known):
    offer = SupplierOffer.objects.get(supplier=known["a"])

    response = buyer_client.post(
        url("supplier-offer-update", offer.pk), {"price": "125.00", "currency": "UAH", "lead_days": "8"}
    )

    offer.refresh_from_db()
    assert response.status_code == 302
    assert (offer.price, offer.lead_days, offer.product) == (Decimal("125.00"), 8, known["p"])


def test_offer_picker_renders_a_bounded_list(buyer_client, known):
    for index in range(60):
        ProductFactory(name_uk=f"Арматура {index:02d}")  # "А" sorts before the fixture's products

    html = buyer_client.get(url("supplier-offer-create", known["c"].pk)).content.decode()

    assert html.count("Арматура") == 50


def test_supplier_changes_show_offer_history(buyer_client, procurement, known):
    offer = SupplierOffer.objects.get(supplier=known["a"])
    services_suppliers.supplier_offer_update(actor=procurement, offer=offer, price=Decimal("130.00"))
    services_suppliers.supplier_profile_upsert(actor=procurement, company=known["a"], promised_lead_days=6)

    response = buyer_client.get(url("supplier-history", known["a"].pk), headers=HTMX)

    html = response.content.decode()
    assert "<html" not in html
    assert "120.00" in html
    assert "130.00" in html
    assert "Supplier profile" in html


# --- deliveries ----------------------------------------------------------------------------------------


def test_delivery_record_and_receive(procurement, known):
    delivery = services_suppliers.purchase_delivery_record(
        actor=procurement,
        supplier=known["c"],
        product=known["p"],
        ordered_on=date(2025, 6, 1),
        promised_on=date(2025, 6, 5),
        quantity_ordered=Decimal("12"),
    )
    services_suppliers.purchase_delivery_receive(
        actor=procurement, delivery=delivery, delivered_on=date(2025, 6, 7), quantity_received=Decimal("11.5")
    )

    figures = selectors_suppliers.reliability_by_supplier(supplier_ids=[known["c"].pk])[known["c"].pk]
    assert (figures.on_time_percent, figures.fill_rate_percent, figures.average_delay_days) == (
        Decimal("0.0"),
        Decimal("95.8"),
        Decimal("2.0"),
    )


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"promised_on": date(2025, 5, 31)}, "promised_on"),
        ({"delivered_on": date(2025, 5, 1), "quantity_received": Decimal(1)}, "delivered_on"),
        ({"quantity_ordered": Decimal(0)}, "quantity_ordered"),
        ({"delivered_on": date(2025, 6, 3), "quantity_received": Decimal(13)}, "quantity_received"),
        ({"quantity_received": Decimal(3)}, "delivered_on"),
    ],
)
def test_delivery_record_bad_input_is_refused(procurement, known, fields, key):
    data = {"ordered_on": date(2025, 6, 1), "promised_on": date(2025, 6, 5), "quantity_ordered": Decimal(12), **fields}

    with pytest.raises(ValidationError) as error:
        services_suppliers.purchase_delivery_record(actor=procurement, supplier=known["c"], product=known["p"], **data)

    assert key in error.value.message_dict
    assert not PurchaseDelivery.objects.filter(supplier=known["c"]).exists()


def test_delivery_services_need_permissions(owner, known):
    delivery = PurchaseDelivery.objects.filter(supplier=known["a"], delivered_on=None).get()
    with pytest.raises(PermissionDenied):
        services_suppliers.purchase_delivery_record(
            actor=owner,
            supplier=known["a"],
            product=known["p"],
            ordered_on=date(2025, 1, 1),
            promised_on=date(2025, 1, 2),
            quantity_ordered=Decimal(1),
        )
    with pytest.raises(PermissionDenied):
        services_suppliers.purchase_delivery_receive(
            actor=owner, delivery=delivery, delivered_on=date(2025, 5, 1), quantity_received=Decimal(5)
        )


def test_delivery_create_page(buyer_client, known):
    data = {
        "product": known["q"].pk,
        "ordered_on": "2025-07-01",
        "promised_on": "2025-07-10",
        "quantity_ordered": "7.5",
        "delivered_on": "",
        "quantity_received": "",
    }

    response = buyer_client.post(url("delivery-create", known["c"].pk), data)

    assert response.status_code == 302
    delivery = PurchaseDelivery.objects.get(supplier=known["c"])
    assert (delivery.quantity_ordered, delivery.quantity_received, delivery.delivered_on) == (
        Decimal("7.5"),
        Decimal(0),
        None,
    )


def test_delivery_create_page_dates_out_of_order_get_a_message(buyer_client, known):
    data = {"product": known["q"].pk, "ordered_on": "2025-07-10", "promised_on": "2025-07-01", "quantity_ordered": "1"}

    response = buyer_client.post(url("delivery-create", known["c"].pk), data)

    assert "The promised date cannot be before the order date." in response.content.decode()
    assert not PurchaseDelivery.objects.filter(supplier=known["c"]).exists()


def test_delivery_receive_page(buyer_client, known):
    delivery = PurchaseDelivery.objects.filter(supplier=known["a"], delivered_on=None).get()

    form = buyer_client.get(url("delivery-receive", delivery.pk), headers=HTMX).content.decode()
    response = buyer_client.post(
        url("delivery-receive", delivery.pk), {"delivered_on": "2025-04-09", "quantity_received": "5"}
    )

    delivery.refresh_from_db()
    assert 'id="supplier-form"' in form
    assert response.status_code == 302
    assert (delivery.delivered_on, delivery.quantity_received) == (date(2025, 4, 9), Decimal(5))


def test_delivery_receive_more_than_ordered_gets_a_message(buyer_client, known):
    delivery = PurchaseDelivery.objects.filter(supplier=known["a"], delivered_on=None).get()

    response = buyer_client.post(
        url("delivery-receive", delivery.pk), {"delivered_on": "2025-04-09", "quantity_received": "6"}
    )

    delivery.refresh_from_db()
    assert "More than was ordered" in response.content.decode()
    assert delivery.delivered_on is None


def test_delivery_receive_of_a_non_supplier_delivery_is_404(buyer_client, known):
    assert buyer_client.get(url("delivery-receive", 999999)).status_code == 404


# --- company card tab and navigation -------------------------------------------------------------------


def test_supplier_tab_is_registered_for_every_company(client, owner):
    company = CompanyFactory(owner=owner)
    client.force_login(owner)

    html = client.get(reverse("contacts:company-detail", args=[company.pk])).content.decode()

    assert "supplier" in [tab.key for tab in registry.tabs()]
    assert 'data-testid="tab-supplier"' in html
    assert url("company-supplier-tab", company.pk) in html


def test_supplier_tab_says_not_a_supplier(client, owner):
    company = CompanyFactory(owner=owner, roles=["customer"])
    client.force_login(owner)

    html = client.get(url("company-supplier-tab", company.pk), headers=HTMX).content.decode()

    assert 'data-testid="not-a-supplier"' in html


def test_supplier_tab_shows_terms_and_figures_to_procurement(buyer_client, known, django_assert_max_num_queries):
    SupplierProfileFactory(company=known["a"], delivery_terms="DAP склад")

    with django_assert_max_num_queries(14):
        html = buyer_client.get(url("company-supplier-tab", known["a"].pk), headers=HTMX).content.decode()

    assert "DAP склад" in html
    assert "66.7 %" in html
    assert url("supplier-detail", known["a"].pk) in html


def test_supplier_tab_for_sales_shows_no_terms(client, owner):
    company = SupplierFactory(owner=owner)
    SupplierProfileFactory(company=company, delivery_terms="Секретні умови")
    client.force_login(owner)

    html = client.get(url("company-supplier-tab", company.pk), headers=HTMX).content.decode()

    assert "Секретні умови" not in html
    assert "kept by procurement" in html


def test_supplier_tab_of_an_invisible_company_is_404(client, owner, outsider):
    company = CompanyFactory(owner=outsider, roles=["customer"])
    client.force_login(owner)

    assert client.get(url("company-supplier-tab", company.pk)).status_code == 404


def test_navigation_items(owner, procurement, readonly):
    assert {"products"} <= {i.key for i in items_for(owner)}
    assert "suppliers" not in {i.key for i in items_for(owner)}
    assert {"products", "suppliers"} <= {i.key for i in items_for(procurement)}
    assert not {"products", "suppliers"} & {i.key for i in items_for(readonly)}
