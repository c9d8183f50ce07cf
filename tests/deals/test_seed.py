"""Sales demo data (issue 6, item 10): `seed_demo --size S` fills every sales table with consistent rows."""

import re
from collections import defaultdict
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, F, Q
from django.test import Client
from django.utils import timezone

from bench import pages
from contacts.models import Company, CompanyRole
from contacts.seed import DEMO_CLIENT_EDRPOU
from crm.models import Role, User
from deals import seed as deals_seed
from deals.models import (
    FAILURE_STATUSES,
    OPEN_ORDER_STATUSES,
    ORDER_TRANSITIONS,
    Category,
    Contract,
    ContractStatus,
    CustomerGroup,
    Deal,
    DealLine,
    DealStageChange,
    DealStatus,
    Discount,
    LoyaltyRule,
    Order,
    OrderLine,
    OrderNumber,
    OrderSource,
    OrderStatus,
    OrderStatusChange,
    Pipeline,
    PriceList,
    PriceListItem,
    Product,
    PurchaseDelivery,
    Stage,
    SupplierOffer,
    SupplierProfile,
)
from deals.pricing import price_for
from deals.services_deals import line_total
from deals.services_orders import line_amounts

pytestmark = pytest.mark.django_db

SIZE = deals_seed.SIZES["S"]


def _seed_s() -> None:
    call_command("seed_demo", size="S", no_progress=True)


def _schema() -> tuple[list, list]:
    """Index and foreign-key definitions of the big sales tables.

    Casts are left out of index definitions: PostgreSQL prints a re-created partial index's `status IN (…)`
    with the casts placed differently (the same condition).
    """
    tables = list(deals_seed.BIG_TABLES)
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) ORDER BY 1", [tables])
        indexes = [(name, re.sub(r"::[\w ]+(\[\])?|[() ]", "", definition)) for name, definition in cursor.fetchall()]
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) ORDER BY 1",
            [tables],
        )
        return indexes, cursor.fetchall()


def test_seed_demo_s_fills_every_sales_table():
    _seed_s()

    assert Product.objects.count() == SIZE.products
    assert Deal.objects.count() == SIZE.deals
    assert Order.objects.count() == SIZE.orders
    assert Contract.objects.count() == SIZE.contracts
    assert SupplierProfile.objects.count() == SIZE.suppliers
    assert PurchaseDelivery.objects.count() == SIZE.deliveries
    assert LoyaltyRule.objects.count() == 2
    for model in (Category, CustomerGroup, PriceList, PriceListItem, Discount, DealLine, DealStageChange, OrderLine,
                  OrderStatusChange, OrderNumber, SupplierOffer):  # fmt: skip
        assert model.objects.exists(), model.__name__
    # A category tree of about 60 nodes, products in uk and en.
    assert 50 <= Category.objects.count() <= 70
    assert Category.objects.filter(parent__isnull=True).count() >= 10
    assert not Product.objects.filter(Q(name_en="") | Q(description_uk="") | Q(description_en="")).exists()
    assert Product.objects.values("sku").distinct().count() == SIZE.products
    # The kanban: the default pipeline "Продажі" holds the open deals of the size, in every open stage.
    default = Pipeline.objects.get(is_default=True)
    assert default.name == deals_seed.DEFAULT_PIPELINE
    open_deals = Deal.objects.filter(pipeline=default, status=DealStatus.OPEN)
    assert open_deals.count() == SIZE.open_deals
    assert set(Stage.objects.filter(pipeline=default).values_list("pk", flat=True)) == set(
        Deal.objects.filter(pipeline=default).values_list("stage", flat=True)
    )


def test_seeded_deals_are_consistent():
    _seed_s()

    # Owned like their companies; the stage agrees with the status.
    assert not Deal.objects.exclude(owner=F("company__owner")).exists()
    assert not Deal.objects.exclude(team=F("company__team")).exists()
    assert not Deal.objects.exclude(stage__pipeline=F("pipeline")).exists()
    assert not Deal.objects.filter(Q(stage__is_won=True) | Q(stage__is_lost=True), status=DealStatus.OPEN).exists()
    assert not Deal.objects.filter(status=DealStatus.WON).exclude(stage__is_won=True).exists()
    assert not Deal.objects.filter(status=DealStatus.LOST).exclude(stage__is_lost=True).exists()
    assert not Deal.objects.exclude(status=DealStatus.OPEN).filter(closed_at__isnull=True).exists()
    assert not Deal.objects.filter(person__isnull=False).exclude(person__company=F("company")).exists()
    # A lost deal has a reason from the reference list and a comment; some name a competitor.
    lost = Deal.objects.filter(status=DealStatus.LOST)
    assert lost.count() > 100
    assert not lost.filter(Q(loss_reason__isnull=True) | Q(loss_comment="")).exists()
    assert lost.values("loss_reason").distinct().count() >= 5
    assert lost.exclude(competitor="").exists()
    assert not Deal.objects.exclude(status=DealStatus.LOST).filter(loss_reason__isnull=False).exists()
    assert Deal.objects.filter(status=DealStatus.WON).count() > 100
    # A deal with lines has the lines' sum as its amount (the rule of deals.services_deals).
    with_lines = Deal.objects.filter(has_lines=True).prefetch_related("lines")
    assert with_lines.count() > 100
    assert not Deal.objects.filter(has_lines=True, lines__isnull=True).exists()
    assert not Deal.objects.filter(has_lines=False, lines__isnull=False).exists()
    for deal in with_lines:
        total = sum(
            line_total(quantity=line.quantity, price=line.price, discount_percent=line.discount_percent)
            for line in deal.lines.all()
        )
        assert deal.amount == total, deal.pk
    # Stage history: a first row into the first stage, and the latest row into the current stage.
    assert DealStageChange.objects.filter(from_stage__isnull=True).count() == Deal.objects.count()
    assert DealStageChange.objects.values("deal").distinct().count() == Deal.objects.count()
    for deal in Deal.objects.prefetch_related("stage_changes")[:300]:
        changes = sorted(deal.stage_changes.all(), key=lambda c: (c.changed_at, c.pk))
        assert changes[0].from_stage_id is None
        assert changes[-1].to_stage_id == deal.stage_id, deal.pk
        assert changes[-1].changed_at == deal.stage_changed_at


def test_seeded_orders_are_numbered_totalled_and_tracked():
    _seed_s()
    today = timezone.localdate()

    # Numbers "YYYY-NNNNNN": per year of creation (Kyiv), 1..N in creation order; the counter holds N.
    by_year: dict[int, list[int]] = defaultdict(list)
    for number, created in Order.objects.order_by("created_at", "pk").values_list("number", "created_at"):
        year, sequence = number.split("-")
        assert int(year) == timezone.localdate(created).year, number
        by_year[int(year)].append(int(sequence))
    assert len(by_year) >= 2
    for year, sequences in by_year.items():
        assert sequences == list(range(1, len(sequences) + 1)), year
    assert dict(OrderNumber.objects.values_list("year", "last")) == {y: len(s) for y, s in by_year.items()}

    # Totals: the lines' amounts by the order service's rule, and the order's sums of them.
    for order in Order.objects.prefetch_related("lines", "lines__product").order_by("?")[:300]:
        lines = list(order.lines.all())
        assert lines, order.number
        subtotal = discount = vat = 0
        for line in lines:
            amounts = line_amounts(
                quantity=line.quantity, price=line.price, discount_percent=line.discount_percent, vat_rate=line.vat_rate
            )
            assert (line.net_amount, line.vat_amount, line.total_amount) == (amounts.net, amounts.vat, amounts.total)
            assert line.vat_rate == line.product.vat_percent
            subtotal += amounts.net
            discount += amounts.discount
            vat += amounts.vat
        assert (order.subtotal, order.discount_total, order.vat_total) == (subtotal, discount, vat), order.number
        assert order.total == subtotal + vat
    assert Order.objects.filter(discount_total__gt=0).exists()
    assert OrderLine.objects.filter(vat_rate=7).exists()

    # Failed and cancelled orders have a reason and a comment; open orders past their date are overdue.
    failed = Order.objects.filter(status__in=FAILURE_STATUSES)
    assert failed.filter(status=OrderStatus.FAILED).exists()
    assert failed.filter(status=OrderStatus.CANCELLED).exists()
    assert not failed.filter(Q(failure_reason__isnull=True) | Q(failure_comment="")).exists()
    assert not Order.objects.exclude(status__in=FAILURE_STATUSES).filter(failure_reason__isnull=False).exists()
    overdue = Order.objects.filter(status__in=OPEN_ORDER_STATUSES, expected_date__lt=today)
    assert overdue.count() >= 10
    assert set(Order.objects.values_list("status", flat=True)) == set(OrderStatus.values)
    delivered = Order.objects.filter(status__in=[OrderStatus.DELIVERED, OrderStatus.COMPLETED])
    assert not delivered.filter(delivered_on__isnull=True).exists()
    early = Order.objects.filter(status__in=[OrderStatus.NEW, OrderStatus.CONFIRMED])
    assert not early.filter(delivered_on__isnull=False).exists()
    assert not Order.objects.exclude(owner=F("company__owner")).exists()
    assert not Order.objects.exclude(company__roles__contains=[CompanyRole.CUSTOMER]).exists()

    # History: every order starts with "" → new; the last row leads to the current status along allowed moves.
    assert OrderStatusChange.objects.filter(from_status="", to_status=OrderStatus.NEW).count() == Order.objects.count()
    for order in Order.objects.prefetch_related("status_changes").order_by("?")[:300]:
        changes = sorted(order.status_changes.all(), key=lambda c: (c.changed_at, c.pk))
        assert changes[0].from_status == ""
        assert changes[-1].to_status == order.status, order.number
        assert changes[-1].changed_at == order.status_changed_at
        for change in changes[1:]:
            assert change.to_status in ORDER_TRANSITIONS[change.from_status], order.number
    recent = Order.objects.filter(created_at__gte=timezone.now() - timedelta(days=50))
    assert recent.annotate(n=Count("status_changes")).filter(n__gte=4).exists()

    # Won deals became orders with the deal's lines.
    from_deals = Order.objects.filter(source=OrderSource.DEAL).select_related("deal")
    assert from_deals.count() >= 10
    for order in from_deals[:50]:
        assert order.deal.status == DealStatus.WON
        assert order.deal.company_id == order.company_id
        assert order.created_at > order.deal.closed_at
        deal_lines = order.deal.lines.order_by("pk").values_list("product", "quantity", "price", "discount_percent")
        order_lines = order.lines.order_by("pk").values_list("product", "quantity", "price", "discount_percent")
        assert list(deal_lines) == list(order_lines)


def test_seeded_suppliers_have_profiles_offers_and_deliveries():
    _seed_s()

    suppliers = Company.objects.filter(supplier_profile__isnull=False)
    assert suppliers.count() == SIZE.suppliers
    assert not suppliers.exclude(roles__contains=[CompanyRole.SUPPLIER]).exists()
    assert not suppliers.annotate(n=Count("supplier_offers")).filter(n=0).exists()
    # The first products have 3–6 offers each, from different suppliers.
    first = Product.objects.order_by("pk")[: SIZE.offer_products]
    for product in first:
        offers = product.offers.all()
        assert 3 <= offers.count() <= 6, product.sku
        assert offers.values("supplier").distinct().count() == offers.count()
    assert not SupplierOffer.objects.exclude(supplier__roles__contains=[CompanyRole.SUPPLIER]).exists()

    # Deliveries: from offered products, on time, late, partial, and some still on their way.
    deliveries = PurchaseDelivery.objects.all()
    from_offers = deliveries.filter(offer__isnull=False)
    assert not from_offers.exclude(offer__supplier=F("supplier"), offer__product=F("product")).exists()
    assert deliveries.filter(delivered_on__lte=F("promised_on")).count() > SIZE.deliveries // 3
    assert deliveries.filter(delivered_on__gt=F("promised_on")).exists()
    assert deliveries.filter(delivered_on__isnull=False, quantity_received__lt=F("quantity_ordered")).exists()
    assert deliveries.filter(delivered_on__isnull=True, quantity_received=0).exists()
    assert not deliveries.filter(delivered_on__isnull=True, quantity_received__gt=0).exists()
    suppliers_with_deliveries = deliveries.values("supplier").distinct().count()
    assert suppliers_with_deliveries == SIZE.suppliers


def test_seeded_contracts_and_prices():
    _seed_s()
    today = timezone.localdate()

    assert not Contract.objects.exclude(owner=F("company__owner")).exists()
    expiring = Contract.objects.filter(
        status=ContractStatus.ACTIVE, ends_on__gte=today, ends_on__lte=today + timedelta(days=30)
    )
    assert expiring.filter(expiry_notified_at__isnull=True).count() >= 5
    assert set(Contract.objects.values_list("status", flat=True)) >= {ContractStatus.ACTIVE, ContractStatus.EXPIRED}
    assert not Contract.objects.filter(status=ContractStatus.EXPIRED, ends_on__gte=today).exists()

    # Price lists for the three customer groups (this year's and last year's) and some companies.
    assert CustomerGroup.objects.count() == 3
    assert PriceList.objects.filter(customer_group__isnull=False).count() == 6
    assert PriceList.objects.filter(company__isnull=False).count() == SIZE.price_list_companies
    assert Discount.objects.filter(company__isnull=True, category__isnull=False).exists()
    assert Discount.objects.filter(company__isnull=False, category__isnull=False).exists()
    # The demo client gets its own price list and discounts through deals.pricing.
    demo = Company.objects.get(edrpou=DEMO_CLIENT_EDRPOU)
    item = PriceListItem.objects.filter(price_list__company=demo).select_related("product").first()
    quote = price_for(company=demo, product=item.product, on=today)
    assert quote.price == item.price
    assert quote.discount_percent >= 5


def test_bench_user_and_demo_client_have_sales_and_the_bench_pages_answer(client):
    _seed_s()
    manager = User.objects.get(email=pages.BENCH_USER)
    demo = Company.objects.get(edrpou=DEMO_CLIENT_EDRPOU)

    assert Deal.objects.filter(owner=manager, status=DealStatus.OPEN, has_lines=True).count() >= 3
    assert Order.objects.filter(owner=manager).count() >= 10
    assert Deal.objects.filter(company=demo, status=DealStatus.OPEN, has_lines=True).exists()
    assert Deal.objects.filter(company=demo).exclude(status=DealStatus.OPEN).exists()
    assert Order.objects.filter(company=demo).count() >= SIZE.demo_orders
    assert Contract.objects.filter(company=demo).exists()

    sales = {page.name: page for page in pages.PAGES if page.name.startswith(("deal", "order", "product-"))}
    assert set(sales) == {"deals-board", "deals-list-filtered", "orders-overdue", "deal-card", "order-card",
                          "product-suppliers"}  # fmt: skip
    # As the bench requests them: the bench user, or the user whose session the page's headers carry.
    for name, page in sales.items():
        path = page.path(manager) if callable(page.path) else page.path
        browser = Client()
        if page.headers:
            cookie_name, session_key = page.headers(manager)["Cookie"].split("=", 1)
            browser.cookies[cookie_name] = session_key
        else:
            browser.force_login(manager)
        response = browser.get(path)
        assert response.status_code == 200, (name, path)
        assert response.wsgi_request.user.is_authenticated, name
    assert User.objects.get(email=pages.PROCUREMENT_USER).has_perm("deals.view_supplieroffer")
    assert User.objects.get(email=pages.DIRECTOR_USER).groups.filter(name=Role.DIRECTOR).exists()
    deal_pk = int(sales["deal-card"].path(manager).rstrip("/").rsplit("/", 1)[1])
    assert Deal.objects.get(pk=deal_pk).lines.count() >= 1
    order_pk = int(sales["order-card"].path(manager).rstrip("/").rsplit("/", 1)[1])
    assert OrderStatusChange.objects.filter(order_id=order_pk).count() >= 3


def test_seed_demo_s_is_deterministic():
    def snapshot() -> dict[str, list]:
        return {
            "products": list(Product.objects.order_by("pk").values_list("sku", "name_uk", "base_price")),
            "deals": list(Deal.objects.order_by("pk").values_list("title", "status", "amount", "company__name")),
            "orders": list(Order.objects.order_by("pk").values_list("number", "status", "total", "created_at")),
            "offers": list(SupplierOffer.objects.order_by("pk").values_list("supplier__name", "product__sku", "price")),
        }

    _seed_s()
    first = snapshot()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "TRUNCATE crm_user, crm_team, contacts_industry, deals_product, deals_category, deals_customergroup, "
            "deals_loyaltyrule CASCADE"
        )
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    _seed_s()
    assert snapshot() == first


def test_bulk_load_rebuilds_the_indexes_and_foreign_keys(monkeypatch):
    """Sizes M and L load the big sales tables without their indexes and foreign keys: the same schema comes back."""
    before = _schema()
    monkeypatch.setattr(deals_seed, "BULK_LOAD_SIZES", ("S",))
    _seed_s()
    assert _schema() == before
    assert Order.objects.count() == SIZE.orders
    assert OrderLine.objects.filter(order__isnull=True).count() == 0


def test_line_amounts_in_kopecks_match_the_order_service():
    from decimal import Decimal

    cases = [(1000, 100, 0, 2000), (1500, 3333, 1250, 2000), (2750, 99, 700, 700), (37_500, 1, 333, 0),
             (1, 1, 0, 2000), (12_345, 678_901, 9999, 2000), (5, 5, 5000, 700)]  # fmt: skip
    for quantity, price, discount, vat in cases:
        gross, net, line_vat = deals_seed.line_amounts(quantity, price, discount, vat)
        amounts = line_amounts(
            quantity=Decimal(quantity) / 1000,
            price=Decimal(price) / 100,
            discount_percent=Decimal(discount) / 100,
            vat_rate=Decimal(vat) / 100,
        )
        assert (Decimal(gross) / 100, Decimal(net) / 100, Decimal(line_vat) / 100) == (
            amounts.gross,
            amounts.net,
            amounts.vat,
        ), (quantity, price, discount, vat)
