"""Deals in a real browser (issue #6, item 12): drag a card to another stage, mark a deal lost with a reason.

The board's drag and drop is SortableJS (static/js/deals-board.js) driven here by real mouse moves. The
autouse `console_errors` fixture fails a test on any console error or CSP violation.
"""

from decimal import Decimal

import pytest
from django.core.exceptions import ObjectDoesNotExist
from playwright.sync_api import Locator, Page, expect

from crm.models import Role
from deals import services_deals
from deals.models import Deal, DealStatus
from tests.conftest import make_user
from tests.contacts.factories import CompanyFactory
from tests.crm.factories import TeamFactory
from tests.deals.factories_deals import DealFactory, LossReasonFactory, make_pipeline
from tests.e2e.conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def rep(db):
    return make_user(Role.SALES_REP, team=TeamFactory())


@pytest.fixture
def pipe(db):
    return make_pipeline("Продажі B2B")


def column(page: Page, name: str) -> Locator:
    return page.locator(f'[data-testid="column"][data-stage-name="{name}"]')


def drag(page: Page, card: Locator, target: Locator) -> None:
    """Press on the card, move past Sortable's tolerance, glide over the target column and release."""
    card.scroll_into_view_if_needed()
    box, goal = card.bounding_box(), target.bounding_box()
    assert box
    assert goal
    x, y = box["x"] + box["width"] / 2, box["y"] + 12
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 15, y + 15, steps=5)
    page.mouse.move(goal["x"] + goal["width"] / 2, goal["y"] + 30, steps=20)
    page.mouse.move(goal["x"] + goal["width"] / 2, goal["y"] + 40, steps=5)
    page.mouse.up()


def stored(deal: Deal) -> Deal:
    try:
        return Deal.objects.get(pk=deal.pk)
    except ObjectDoesNotExist:  # pragma: no cover - only to make a failure readable
        raise AssertionError("the deal is gone") from None


def test_drag_a_deal_to_another_stage_updates_both_columns(page: Page, live_server, rep, pipe):
    # given: two deals in "New", one in "Offer"
    _pipeline, stages = pipe
    company = CompanyFactory(owner=rep, name="ТОВ Весна")
    moving = DealFactory(owner=rep, company=company, stage=stages["new"], title="Ноутбуки", amount=Decimal("300.00"))
    DealFactory(owner=rep, company=company, stage=stages["new"], title="Принтери", amount=Decimal("200.00"))
    DealFactory(owner=rep, company=company, stage=stages["offer"], title="Монітори", amount=Decimal("1000.00"))
    login(page, live_server, rep)

    # when: the board of the pipeline, "Ноутбуки" dragged from New to Offer
    page.locator("[data-nav-group=sales] > .dropdown-toggle").click()
    page.locator('[data-nav="deals"]').click()
    page.get_by_test_id("pipeline-menu").click()
    page.get_by_role("link", name="Продажі B2B").click()
    new, offer = column(page, "New"), column(page, "Offer")
    expect(new.get_by_test_id("column-count")).to_have_text("2")
    expect(new.get_by_test_id("column-sum")).to_contain_text("500.00")
    expect(offer.get_by_test_id("column-count")).to_have_text("1")
    card = new.locator(f"#deal-card-{moving.pk}")
    drag(page, card, offer.get_by_test_id("column-cards"))

    # then: both headers changed without a reload, and so did the database
    expect(new.get_by_test_id("column-count")).to_have_text("1")
    expect(new.get_by_test_id("column-sum")).to_contain_text("200.00")
    expect(offer.get_by_test_id("column-count")).to_have_text("2")
    expect(offer.get_by_test_id("column-sum")).to_contain_text("1,300.00")
    expect(offer.get_by_test_id("column-weighted")).to_contain_text("520.00")  # (1000 + 300) × 40 %
    expect(offer.locator(f"#deal-card-{moving.pk}")).to_have_attribute("data-version", "2")
    assert stored(moving).stage == stages["offer"]
    assert stored(moving).probability == 40


def test_drop_on_the_lost_stage_asks_for_the_reason(page: Page, live_server, rep, pipe):
    # given
    pipeline, stages = pipe
    deal = DealFactory(owner=rep, stage=stages["talks"], title="Сервери", amount=Decimal("900.00"))
    reason = LossReasonFactory(name="Обрали конкурента")
    login(page, live_server, rep)
    page.goto(f"{live_server.url}/sales/deals/board/?pipeline={pipeline.pk}")
    talks, lost = column(page, "Talks"), column(page, "Lost")
    modal = page.get_by_test_id("loss-modal")

    # when: dropped on "Lost", then the modal is cancelled
    drag(page, talks.locator(f"#deal-card-{deal.pk}"), lost.get_by_test_id("column-cards"))
    expect(modal).to_be_visible()
    modal.get_by_test_id("loss-cancel").click()

    # then: the card is back in its column, nothing changed
    expect(modal).to_be_hidden()
    expect(talks.locator(f"#deal-card-{deal.pk}")).to_have_count(1)
    assert stored(deal).status == DealStatus.OPEN

    # when: dropped again and submitted without a reason
    drag(page, talks.locator(f"#deal-card-{deal.pk}"), lost.get_by_test_id("column-cards"))
    expect(modal).to_be_visible()
    modal.get_by_test_id("loss-submit").click()

    # then: the message next to the field, the deal still open
    expect(modal.get_by_test_id("loss-reason-error")).to_have_text("Choose why the deal was lost.")
    expect(modal).to_be_visible()
    assert stored(deal).status == DealStatus.OPEN

    # when: with a reason and a comment
    modal.get_by_test_id("loss-reason").select_option(str(reason.pk))
    modal.locator("#loss-comment").fill("Дешевше на 10 %")
    modal.get_by_test_id("loss-submit").click()

    # then: the deal is lost, off the board, and the column is empty
    expect(modal).to_be_hidden()
    expect(page.locator(f"#deal-card-{deal.pk}")).to_have_count(0)
    expect(talks.get_by_test_id("column-count")).to_have_text("0")
    lost_deal = stored(deal)
    assert (lost_deal.status, lost_deal.loss_reason, lost_deal.loss_comment) == (
        DealStatus.LOST,
        reason,
        "Дешевше на 10 %",
    )


def test_a_stale_card_goes_back_and_the_toast_says_why(page: Page, live_server, rep, pipe):
    # given: the board is open, then someone else moves the deal
    pipeline, stages = pipe
    deal = DealFactory(owner=rep, stage=stages["new"], title="Кабелі")
    login(page, live_server, rep)
    page.goto(f"{live_server.url}/sales/deals/board/?pipeline={pipeline.pk}")
    new, offer = column(page, "New"), column(page, "Offer")
    services_deals.deal_update(deal=stored(deal), actor=rep, version=1, title="Кабелі (змінено)")

    # when
    drag(page, new.locator(f"#deal-card-{deal.pk}"), offer.get_by_test_id("column-cards"))

    # then
    expect(page.get_by_test_id("board-toast")).to_contain_text("Someone else changed this deal")
    expect(new.locator(f"#deal-card-{deal.pk}")).to_have_count(1)
    assert stored(deal).stage == stages["new"]


def test_lose_button_on_the_card_asks_for_the_reason(page: Page, live_server, rep, pipe):
    # given
    _pipeline, stages = pipe
    deal = DealFactory(owner=rep, stage=stages["offer"], title="Меблі")
    reason = LossReasonFactory(name="Немає бюджету")
    login(page, live_server, rep)
    page.goto(f"{live_server.url}/sales/deals/{deal.pk}/")

    # when: Lose, then submit without a reason
    page.get_by_test_id("lose").click()
    modal = page.get_by_test_id("lose-modal")
    expect(modal).to_be_visible()
    modal.get_by_test_id("lose-submit").click()

    # then
    expect(modal).to_contain_text("Choose why the deal was lost.")
    assert stored(deal).status == DealStatus.OPEN

    # when: with a reason
    modal.locator("#id_loss_reason").select_option(str(reason.pk))
    modal.get_by_test_id("lose-submit").click()

    # then: the card reloads lost, with the reason
    expect(page.get_by_test_id("deal-status")).to_have_text("Lost")
    expect(page.get_by_test_id("deal-loss-reason")).to_have_text("Немає бюджету")
    assert stored(deal).loss_reason == reason


def test_board_filter_form_loads_when_its_panel_opens_and_filters_the_board(page: Page, live_server, rep, pipe):
    pipeline, stages = pipe
    DealFactory(owner=rep, stage=stages["new"], title="Рання", expected_close_date="2025-05-10")
    DealFactory(owner=rep, stage=stages["new"], title="Пізня", expected_close_date="2025-07-01")
    login(page, live_server, rep)
    page.goto(f"{live_server.url}/sales/deals/board/?pipeline={pipeline.pk}")
    expect(page.get_by_test_id("board-filter")).to_have_count(0)
    # when: the closed filter panel opens, its form loads; a close range is applied
    page.get_by_test_id("board-filter-toggle").click()
    form = page.get_by_test_id("board-filter")
    expect(form.locator('select[name="owner"]')).to_be_visible()
    form.locator('input[name="close_from"]').fill("2025-06-01")
    form.get_by_role("button", name="Apply").click()
    # then: the board shows only the later deal, and the URL keeps the filter
    expect(page.get_by_test_id("deal-card")).to_have_count(1)
    expect(page.get_by_test_id("deal-card")).to_contain_text("Пізня")
    expect(page).to_have_url(
        f"{live_server.url}/sales/deals/board/?pipeline={pipeline.pk}&owner=&team=&close_from=2025-06-01&close_to="
    )
