"""Catalogue pages: product list (search, category tree, filters, keyset pages), card, price lookup, changes, form."""

import io
import re
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from crm.models import Role
from deals import selectors_catalogue, services_catalogue
from deals.models import Product
from tests.conftest import make_user
from tests.contacts.factories import CompanyFactory
from tests.deals.factories_catalogue import (
    CategoryFactory,
    DiscountFactory,
    PriceListFactory,
    PriceListItemFactory,
    ProductFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def url(name, *args):
    return reverse(f"deals:{name}", args=args)


def image_bytes(fmt: str = "PNG", size=(8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, fmt)
    return buffer.getvalue()


@pytest.fixture
def procurement(db):
    return make_user(Role.PROCUREMENT)


@pytest.fixture
def rep_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def buyer_client(client, procurement):
    client.force_login(procurement)
    return client


@pytest.fixture
def tree():
    tools = CategoryFactory(name_uk="Інструменти", name_en="Tools")
    drills = CategoryFactory(name_uk="Дрилі", name_en="Drills", parent=tools)
    cordless = CategoryFactory(name_uk="Акумуляторні", name_en="Cordless", parent=drills)
    paint = CategoryFactory(name_uk="Фарби", name_en="Paints")
    return {"tools": tools, "drills": drills, "cordless": cordless, "paint": paint}


def product_post(**overrides):
    data = {
        "sku": "NEW-1",
        "name_uk": "Новий товар",
        "name_en": "New product",
        "unit": "pcs",
        "base_price": "199.99",
        "vat_rate": "20.00",
        "is_active": "on",
    }
    return {**data, **overrides}


# --- list ----------------------------------------------------------------------------------------------


def test_product_list_needs_a_role(client, readonly):
    client.force_login(readonly)

    assert client.get(url("product-list")).status_code == 403


def test_product_list_redirects_anonymous_to_login(client):
    response = client.get(url("product-list"))

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_product_list_shows_products_with_a_constant_number_of_queries(rep_client, tree, django_assert_max_num_queries):
    for index in range(5):
        ProductFactory(name_uk=f"Дриль {index}", name_en=f"Drill {index}", category=tree["cordless"])

    with CaptureQueriesContext(connection) as queries, django_assert_max_num_queries(8):
        response = rep_client.get(url("product-list"))

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('data-testid="product-row"') == 5
    assert "Drill 3" in html  # the English name in an English UI
    product_sql = [q["sql"].upper() for q in queries.captured_queries if "DEALS_PRODUCT" in q["sql"].upper()]
    assert len(product_sql) == 1
    assert "COUNT(" not in product_sql[0]
    assert "OFFSET" not in product_sql[0]


def test_product_list_shows_ukrainian_names_in_a_ukrainian_ui(client, tree):
    user = make_user(Role.SALES_REP, language="uk")
    client.force_login(user)
    ProductFactory(name_uk="Дриль ударний", name_en="Hammer drill")
    ProductFactory(name_uk="Фарба біла", name_en="")

    html = client.get(url("product-list")).content.decode()

    assert "Дриль ударний" in html
    assert "Hammer drill" not in html
    assert "Фарба біла" in html


def test_product_list_sidebar_is_the_nested_category_tree(rep_client, tree):
    html = rep_client.get(url("product-list")).content.decode()

    sidebar = html[html.index('id="category-tree"') : html.index("</nav>", html.index('id="category-tree"'))]
    assert sidebar.index("Paints") < sidebar.index("Tools") < sidebar.index("Drills") < sidebar.index("Cordless")
    # Cordless sits in a list inside Drills' item, which sits in a list inside Tools' item.
    assert sidebar[sidebar.index("Tools") :].count("<ul") == 2
    assert sidebar[sidebar.index("Paints") : sidebar.index("Tools")].count("<ul") == 0


def test_product_list_filters_by_category_with_subcategories(rep_client, tree):
    ProductFactory(name_en="Top drill", category=tree["drills"])
    ProductFactory(name_en="Cordless drill", category=tree["cordless"])
    ProductFactory(name_en="White paint", category=tree["paint"])

    html = rep_client.get(url("product-list"), {"category": tree["tools"].pk}).content.decode()

    assert "Top drill" in html
    assert "Cordless drill" in html
    assert "White paint" not in html


def test_product_list_filters_by_active(rep_client):
    ProductFactory(name_en="Sold now", is_active=True)
    ProductFactory(name_en="Discontinued", is_active=False)

    active = rep_client.get(url("product-list"), {"active": "1"}).content.decode()
    inactive = rep_client.get(url("product-list"), {"active": "0"}).content.decode()

    assert ("Sold now" in active, "Discontinued" in active) == (True, False)
    assert ("Sold now" in inactive, "Discontinued" in inactive) == (False, True)


def test_product_list_searches_by_name_and_exact_sku(rep_client):
    ProductFactory(sku="AB-100", name_uk="Перфоратор Bosch", name_en="Rotary hammer")
    ProductFactory(sku="CD-200", name_uk="Шуруповерт", name_en="Screwdriver")

    by_name = rep_client.get(url("product-list"), {"q": "перфор"}).content.decode()
    by_sku = rep_client.get(url("product-list"), {"q": "ab-100"}).content.decode()
    too_short = rep_client.get(url("product-list"), {"q": "пе"}).content.decode()

    assert "Rotary hammer" in by_name
    assert "Screwdriver" not in by_name
    assert "Rotary hammer" in by_sku
    assert "Screwdriver" not in by_sku
    assert 'data-testid="empty"' in too_short  # 2 letters: only an exact SKU would match


def test_product_search_uses_the_trigram_index_expression():
    sql = str(Product.objects.filter(selectors_catalogue.product_search_q("дриль")).query)

    assert 'UPPER("deals_product"."name_uk"::text) LIKE UPPER(' in sql


def test_product_list_pages_by_keyset(owner):
    for index in range(5):
        ProductFactory(name_uk=f"Товар {index:02d}")

    first = selectors_catalogue.product_list_page(user=owner, limit=2)
    second = selectors_catalogue.product_list_page(user=owner, limit=2, cursor=first.next_cursor)
    third = selectors_catalogue.product_list_page(user=owner, limit=2, cursor=second.next_cursor)

    names = [p.name_uk for page in (first, second, third) for p in page.rows]
    assert names == [f"Товар {index:02d}" for index in range(5)]
    assert third.next_cursor is None
    assert (first.is_first, second.is_first) == (True, False)


def test_product_list_bad_cursor_shows_the_first_page(rep_client):
    ProductFactory(name_en="Only one")

    response = rep_client.get(url("product-list"), {"cursor": "not-a-cursor!!"})

    assert response.status_code == 200
    assert "Only one" in response.content.decode()


def test_product_list_next_page_link(rep_client, monkeypatch):
    monkeypatch.setattr(selectors_catalogue, "PAGE_SIZE", 2)
    for index in range(3):
        ProductFactory(name_uk=f"Товар {index}", name_en=f"Item {index}")

    html = rep_client.get(url("product-list")).content.decode()
    next_url = re.search(r'href="([^"]*cursor=[^"]*)"', html).group(1)
    second = rep_client.get(next_url.replace("&amp;", "&")).content.decode()

    assert html.count('data-testid="product-row"') == 2
    assert second.count('data-testid="product-row"') == 1
    assert "Item 2" in second


def test_product_list_htmx_returns_results_and_the_filter_form_out_of_band(rep_client, tree):
    ProductFactory(name_en="Cordless drill", category=tree["cordless"])

    response = rep_client.get(url("product-list"), {"category": tree["drills"].pk}, headers=HTMX)

    html = response.content.decode()
    assert "<html" not in html
    assert 'id="product-results"' in html
    assert 'id="product-filter-form"' in html
    assert 'hx-swap-oob="true"' in html
    assert "Cordless drill" in html
    assert response["Vary"].count("HX-Request") == 1


# --- card ----------------------------------------------------------------------------------------------


def test_product_card_shows_prices_discounts_and_vat(rep_client, tree, django_assert_max_num_queries):
    product = ProductFactory(
        name_en="Cordless drill",
        description_en="18 V, two batteries",
        base_price=Decimal("2500.00"),
        vat_rate="7.00",
        stock_quantity=Decimal("12.000"),
        category=tree["cordless"],
    )
    for index in range(3):
        company = CompanyFactory(name=f"Dealer {index}")
        PriceListItemFactory(price_list=PriceListFactory(company=company, name=f"List {index}"), product=product)
        DiscountFactory(category=tree["tools"], company=company, percent=Decimal(index + 1))

    with django_assert_max_num_queries(12):
        response = rep_client.get(url("product-detail", product.pk))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Cordless drill" in html
    assert "18 V, two batteries" in html
    assert "2500.00" in html
    assert "7 %" in html
    assert html.count('data-testid="price-list-row"') == 3
    assert html.count('data-testid="discount-row"') == 3
    assert 'data-testid="stock"' in html
    assert "12 " in html  # the stock, normalised


def test_product_card_unknown_product_is_404(rep_client):
    assert rep_client.get(url("product-detail", 999999)).status_code == 404


def test_product_card_needs_a_role(client, readonly):
    product = ProductFactory()
    client.force_login(readonly)

    assert client.get(url("product-detail", product.pk)).status_code == 403


def test_product_card_edit_and_suppliers_links_follow_permissions(rep_client, client, procurement):
    product = ProductFactory()

    rep_html = rep_client.get(url("product-detail", product.pk)).content.decode()
    client.force_login(procurement)
    buyer_html = client.get(url("product-detail", product.pk)).content.decode()

    assert 'data-testid="edit"' not in rep_html
    assert 'data-testid="suppliers-link"' not in rep_html
    assert 'data-testid="edit"' in buyer_html
    assert url("product-suppliers", product.pk) in buyer_html


def test_price_lookup_shows_price_for_result_and_rule(rep_client, owner):
    company = CompanyFactory(owner=owner, name="Мій клієнт")
    product = ProductFactory(base_price=Decimal("100.00"))
    PriceListItemFactory(price_list=PriceListFactory(company=company, name="VIP"), product=product, price=80)
    DiscountFactory(company=company, percent=Decimal("12.5"))

    response = rep_client.get(
        url("product-price", product.pk), {"company": company.pk, "on": "2026-06-01"}, headers=HTMX
    )

    html = response.content.decode()
    assert "<html" not in html
    assert 'data-testid="quote"' in html
    assert "80.00" in html
    assert "70.00" in html  # 80 − 12.5 %
    assert "VIP" in html
    assert "12.5" in html


def test_price_lookup_refuses_a_company_the_user_cannot_see(rep_client, outsider):
    stranger = CompanyFactory(owner=outsider)
    product = ProductFactory()

    response = rep_client.get(
        url("product-price", product.pk), {"company": stranger.pk, "on": "2026-06-01"}, headers=HTMX
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="quote"' not in html
    assert "invalid-feedback" in html


def test_price_lookup_without_htmx_is_a_page(rep_client, owner):
    company = CompanyFactory(owner=owner)
    product = ProductFactory()

    response = rep_client.get(url("product-price", product.pk), {"company": company.pk, "on": "2026-06-01"})

    assert "<html" in response.content.decode()
    assert 'data-testid="quote"' in response.content.decode()


def test_price_lookup_bad_date_gets_a_message(rep_client, owner):
    company = CompanyFactory(owner=owner)
    product = ProductFactory()

    response = rep_client.get(
        url("product-price", product.pk), {"company": company.pk, "on": "1900-01-01"}, headers=HTMX
    )

    assert "Choose a date between 2000 and 2100." in response.content.decode()


def test_product_changes_show_price_history(client, procurement):
    product = ProductFactory(base_price=Decimal("10.00"))
    services_catalogue.product_update(actor=procurement, product=product, base_price=Decimal("12.50"))
    price_list = PriceListFactory(company=CompanyFactory(), name="Dealers")
    PriceListItemFactory(price_list=price_list, product=product, price=Decimal("11.00"))
    client.force_login(procurement)

    response = client.get(url("product-history", product.pk), headers=HTMX)

    html = response.content.decode()
    assert "<html" not in html
    assert "10.00" in html
    assert "12.50" in html
    assert "Dealers: 11.00" in html
    assert procurement.full_name in html


def test_product_changes_page_without_htmx(client, procurement):
    product = ProductFactory()
    client.force_login(procurement)

    response = client.get(url("product-history", product.pk))

    assert response.status_code == 200
    assert "<html" in response.content.decode()


# --- product form --------------------------------------------------------------------------------------


def test_product_create_needs_change_permission(rep_client):
    assert rep_client.get(url("product-create")).status_code == 403
    assert rep_client.post(url("product-create"), product_post()).status_code == 403
    assert not Product.objects.filter(sku="NEW-1").exists()


def test_product_create_saves_with_an_image(buyer_client, tree, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("photo.png", image_bytes("PNG"), content_type="image/png")

    response = buyer_client.post(url("product-create"), product_post(category=tree["drills"].pk, image=upload))

    product = Product.objects.get(sku="NEW-1")
    assert response.status_code == 302
    assert response["Location"] == url("product-detail", product.pk)
    assert product.base_price == Decimal("199.99")
    assert product.category == tree["drills"]
    assert product.image.name.endswith(".png")
    image = buyer_client.get(url("product-image", product.pk))
    assert image["Content-Type"] == "image/png"


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
def test_product_create_accepts_jpeg_and_webp(buyer_client, settings, tmp_path, fmt):
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("photo.bin", image_bytes(fmt), content_type="application/octet-stream")

    response = buyer_client.post(url("product-create"), product_post(image=upload))

    assert response.status_code == 302
    assert Product.objects.get(sku="NEW-1").image.name.endswith(".jpg" if fmt == "JPEG" else ".webp")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("fake.png", b"<?php echo 'not an image'; ?>", "Upload a JPEG, PNG or WebP picture."),
        ("anim.gif", image_bytes("GIF"), "Upload a JPEG, PNG or WebP picture."),
        ("pic.bmp", image_bytes("BMP"), "Upload a JPEG, PNG or WebP picture."),
        ("truncated.png", image_bytes("PNG", (64, 64))[:60], "Upload a JPEG, PNG or WebP picture."),
        ("huge.png", b"\x89PNG" + b"0" * (2 * 1024 * 1024), "The image is larger than 2.0"),
    ],
)
def test_product_create_rejects_a_bad_image_with_a_message(buyer_client, settings, tmp_path, name, content, message):
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile(name, content, content_type="image/png")

    response = buyer_client.post(url("product-create"), product_post(image=upload))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Product.objects.filter(sku="NEW-1").exists()
    assert not list(tmp_path.rglob("*.*"))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("base_price", "10.005", "Use at most 2 decimal places (kopecks)."),
        ("base_price", "0", "The price must be above zero."),
        ("base_price", "-5", "The price must be above zero."),
        ("base_price", "abc", "Enter an amount such as 1250.50."),
        ("vat_rate", "15.00", "Select a valid choice."),
        ("stock_quantity", "-1", "The stock cannot be negative."),
        ("sku", "", "This field is required."),
    ],
)
def test_product_create_bad_input_gets_a_field_message(buyer_client, field, value, message):
    response = buyer_client.post(url("product-create"), product_post(**{field: value}))

    html = response.content.decode()
    assert response.status_code == 200
    assert message in html
    assert not Product.objects.filter(name_uk="Новий товар").exists()


def test_product_create_duplicate_sku_gets_a_message(buyer_client):
    ProductFactory(sku="NEW-1")

    response = buyer_client.post(url("product-create"), product_post())

    assert "already exists" in response.content.decode()
    assert Product.objects.filter(sku="NEW-1").count() == 1


def test_product_update_saves_and_keeps_the_image(buyer_client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    product = ProductFactory(sku="OLD-1")
    buyer_client.post(
        url("product-update", product.pk),
        product_post(sku="OLD-1", image=SimpleUploadedFile("a.png", image_bytes(), content_type="image/png")),
    )
    product.refresh_from_db()
    image_name = product.image.name

    response = buyer_client.post(url("product-update", product.pk), product_post(sku="OLD-1", base_price="250.00"))

    product.refresh_from_db()
    assert response.status_code == 302
    assert product.base_price == Decimal("250.00")
    assert product.image.name == image_name
    assert product.history.count() == 3


def test_product_update_form_htmx_partial(buyer_client):
    product = ProductFactory()

    response = buyer_client.get(url("product-update", product.pk), headers=HTMX)

    html = response.content.decode()
    assert "<html" not in html
    assert 'id="product-form"' in html


def test_product_form_lists_categories_as_a_tree(buyer_client, tree):
    html = buyer_client.get(url("product-create")).content.decode()

    assert "— Drills" in html
    assert "— — Cordless" in html


def test_product_service_refuses_without_permission(owner):
    with pytest.raises(PermissionDenied):
        services_catalogue.product_create(actor=owner, sku="X", name_uk="X", base_price=Decimal(1))


def test_product_service_rejects_zero_price(procurement):
    with pytest.raises(ValidationError) as error:
        services_catalogue.product_create(actor=procurement, sku="X", name_uk="X", base_price=Decimal(0))

    assert "base_price" in error.value.message_dict
    assert not Product.objects.exists()


# --- product picker ------------------------------------------------------------------------------------


def test_product_options_finds_active_products(buyer_client):
    ProductFactory(sku="P-1", name_uk="Цемент М500", is_active=True)
    ProductFactory(sku="P-2", name_uk="Цемент старий", is_active=False)

    html = buyer_client.get(url("catalogue-product-options"), {"product_q": "цемент"}).content.decode()

    assert "Цемент М500" in html
    assert "Цемент старий" not in html


def test_product_edit_form_shows_the_current_image_and_can_remove_it(buyer_client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    product = ProductFactory(sku="IMG-1")
    upload = SimpleUploadedFile("a.webp", image_bytes("WEBP"), content_type="image/webp")
    buyer_client.post(url("product-update", product.pk), product_post(sku="IMG-1", image=upload))

    html = buyer_client.get(url("product-update", product.pk)).content.decode()
    response = buyer_client.post(url("product-update", product.pk), product_post(sku="IMG-1", **{"image-clear": "on"}))

    product.refresh_from_db()
    assert url("product-image", product.pk) in html
    assert "/media/" not in html
    assert response.status_code == 302
    assert not product.image
