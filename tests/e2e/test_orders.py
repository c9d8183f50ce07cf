"""User flows of orders in a real browser (issue #6, item 12).

(a) A won deal becomes an order in one click on its card, and the order moves confirmed → in progress →
shipped with its status history. (b) Failing an order: the modal asks for a reason, refuses to go on
without one, then the order shows "Failed" with the reason. The autouse `console_errors` fixture fails
on any console error or CSP violation.
"""

from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from crm.models import Role
from deals.models import Order, OrderStatus
from deals.services_orders import order_create
from tests.conftest import make_user
from tests.contacts.factories import CompanyFactory
from tests.crm.factories import TeamFactory
from tests.deals.factories_orders import DealLineFactory, FailureReasonFactory, OrderProductFactory, WonDealFactory
from tests.e2e.conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def test_convert_a_won_deal_to_an_order_and_ship_it(page: Page, live_server):
    # given: a representative's won deal with one line (2 × 150.00, 10 % off, VAT 20 %)
    rep = make_user(Role.SALES_REP, team=TeamFactory())
    company = CompanyFactory(owner=rep, name="ТОВ Весна")
    deal = WonDealFactory(company=company, title="Поставка ноутбуків")
    product = OrderProductFactory(name_uk="Ноутбук", vat_rate="20.00")
    DealLineFactory(deal=deal, product=product, quantity=Decimal("2"), price=Decimal("150.00"))
    login(page, live_server, rep)

    # when: the deal card, "Create order"
    page.goto(f"{live_server.url}/sales/deals/{deal.pk}/")
    page.get_by_test_id("create-order").click()

    # then: the order card with the deal's line and totals
    order = Order.objects.get()
    expect(page).to_have_url(f"{live_server.url}/sales/orders/{order.pk}/")
    expect(page.get_by_test_id("order-number")).to_have_text(order.number)
    expect(page.get_by_test_id("order-status")).to_have_text("New")
    expect(page.get_by_test_id("order-lines")).to_contain_text("Ноутбук")
    expect(page.get_by_test_id("total")).to_contain_text("324")  # 270.00 + 54.00 VAT
    expect(page.get_by_test_id("order-deal")).to_have_text("Поставка ноутбуків")

    # when: confirmed → in progress → shipped with the status buttons
    for status, label in (("confirmed", "Confirmed"), ("in_progress", "In progress"), ("shipped", "Shipped")):
        page.get_by_test_id(f"to-{status}").click()
        expect(page.get_by_test_id("order-status")).to_have_text(label)

    # then: the history shows every step; shipped goods can no longer be cancelled
    timeline = page.get_by_test_id("status-timeline")
    expect(timeline.get_by_test_id("status-change")).to_have_count(4)
    expect(timeline).to_contain_text("In progress → Shipped")
    expect(page.get_by_test_id("to-cancelled")).to_have_count(0)
    expect(page.get_by_test_id("to-delivered")).to_be_visible()
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED


def test_fail_an_order_requires_a_reason(page: Page, live_server):
    # given: a confirmed order
    rep = make_user(Role.SALES_REP, team=TeamFactory())
    company = CompanyFactory(owner=rep, name="ТОВ Осінь")
    reason = FailureReasonFactory(name="Оплату не отримано")
    order = order_create(actor=rep, company=company, lines=[(OrderProductFactory(), 1)])
    login(page, live_server, rep)
    page.goto(f"{live_server.url}/sales/orders/{order.pk}/")

    # when: "Failed" opens the modal, confirm without a reason
    page.get_by_test_id("to-failed").click()
    modal = page.get_by_test_id("status-modal-failed")
    expect(modal).to_be_visible()
    modal.get_by_test_id("confirm-status").click()

    # then: the modal asks for the reason, nothing changed
    expect(modal).to_contain_text("Choose why the order is cancelled or failed.")
    order.refresh_from_db()
    assert order.status == OrderStatus.NEW

    # when: a reason and a comment, confirm
    modal.get_by_label("Reason").select_option(label="Оплату не отримано")
    modal.get_by_label("Comment").fill("Рахунок прострочено")
    modal.get_by_test_id("confirm-status").click()

    # then: the card shows the failed order with its reason
    expect(page.get_by_test_id("order-status")).to_have_text("Failed")
    expect(page.get_by_test_id("failure-reason")).to_contain_text("Оплату не отримано")
    expect(page.get_by_test_id("failure-reason")).to_contain_text("Рахунок прострочено")
    expect(page.get_by_test_id("status-actions")).to_have_count(0)
    order.refresh_from_db()
    assert (order.status, order.failure_reason) == (OrderStatus.FAILED, reason)
