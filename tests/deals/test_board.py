"""The deals kanban (issue #6, item 3): aggregates, first cards and "load more", drops, scoping, query count."""

import json
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from crm.models import Role
from deals import selectors_deals as selectors
from deals import services_deals as services
from deals.models import Deal, DealStageChange, DealStatus
from tests.conftest import make_user
from tests.deals.factories_deals import DealFactory, LossReasonFactory, make_pipeline

D = Decimal
HTMX = {"HX-Request": "true"}
CONFLICT = "Someone else changed this deal while you were editing. Reload to see their changes."


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def pipe(db):
    return make_pipeline()


@pytest.fixture
def stages(pipe):
    return pipe[1]


def board_url(pipeline, query=""):
    return reverse("deals:deal-board") + f"?pipeline={pipeline.pk}" + (f"&{query}" if query else "")


def move_url(deal):
    return reverse("deals:deal-move", args=[deal.pk])


def card_ids(body: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'id="deal-card-(\d+)"', body)]


def next_cursor(body: str) -> str:
    found = re.search(r"\?cursor=([\w-]+)", body)
    return found.group(1) if found else ""


def columns(response):
    return {column.stage.name: column for column in response.context["board"].columns}


# --- aggregates -----------------------------------------------------------------------------------------


def test_columns_count_sum_and_weighted_sum_of_open_visible_deals(client, owner, outsider, pipe, stages):
    pipeline, _stages = pipe
    DealFactory(owner=owner, stage=stages["new"], amount=D("100.00"), probability=10)
    DealFactory(owner=owner, stage=stages["new"], amount=D("33.33"), probability=15)
    DealFactory(owner=owner, stage=stages["offer"], amount=D("1000.00"), probability=40)
    DealFactory(owner=owner, stage=stages["offer"], status=DealStatus.WON, amount=D("9999.00"))  # closed
    DealFactory(owner=outsider, stage=stages["offer"], amount=D("5000.00"))  # not visible
    DealFactory(owner=owner, amount=D("7777.00"))  # another pipeline
    client.force_login(owner)

    response = client.get(board_url(pipeline))

    assert response.status_code == 200
    found = columns(response)
    new, offer = found["New"].totals, found["Offer"].totals
    assert (new.count, new.amount, new.weighted) == (2, D("133.33"), D("15.00"))  # 10 + 4.9995 → 15.00
    assert (offer.count, offer.amount, offer.weighted) == (1, D("1000.00"), D("400.00"))
    assert found["Talks"].totals.count == 0
    assert found["Won"].totals.count == 0
    assert response.context["board"].totals.amount == D("1133.33")
    body = response.content.decode()
    assert "1,133.33" in body or "1 133,33" in body or "1133.33" in body


def test_totals_come_from_one_grouped_query(owner, pipe, stages):
    pipeline, _stages = pipe
    for stage in ("new", "offer", "talks"):
        DealFactory(owner=owner, stage=stages[stage])
    assert owner.scope  # the roles are read once per request, before the board's queries
    with CaptureQueriesContext(connection) as queries:
        selectors.column_totals(user=owner, pipeline_id=pipeline.pk, filters=selectors.BoardFilters())
    assert len(queries) == 1
    assert "GROUP BY" in queries[0]["sql"]


def test_board_filters_by_owner_team_and_expected_close(client, manager, owner, teammate, pipe, stages):
    pipeline, _stages = pipe
    DealFactory(owner=owner, stage=stages["new"], expected_close_date=date(2025, 5, 10), title="Травень")
    DealFactory(owner=teammate, stage=stages["new"], expected_close_date=date(2025, 7, 1), title="Липень")
    DealFactory(owner=teammate, stage=stages["new"], expected_close_date=None, title="Без дати")
    client.force_login(manager)

    def titles(query):
        response = client.get(board_url(pipeline, query))
        column = columns(response)["New"]
        assert column.totals.count == len(column.cards)
        return {card.title for card in column.cards}

    assert titles("") == {"Травень", "Липень", "Без дати"}
    assert titles(f"owner={teammate.pk}") == {"Липень", "Без дати"}
    assert titles(f"team={owner.team_id}") == {"Травень", "Липень", "Без дати"}
    assert titles("close_from=2025-06-01") == {"Липень"}
    assert titles("close_from=2025-05-01&close_to=2025-05-31") == {"Травень"}


def test_board_bad_filter_shows_the_message_and_the_whole_board(client, owner, pipe, stages):
    DealFactory(owner=owner, stage=stages["new"])
    client.force_login(owner)
    response = client.get(board_url(pipe[0], "close_from=2025-06-01&close_to=2025-05-01"))
    assert response.status_code == 200
    assert "The end date cannot be before the start date." in response.content.decode()
    assert columns(response)["New"].totals.count == 1


def test_board_htmx_filter_returns_the_board_fragment(client, owner, pipe, stages):
    DealFactory(owner=owner, stage=stages["new"])
    client.force_login(owner)
    response = client.get(board_url(pipe[0], f"owner={owner.pk}"), headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="board"' in body
    assert "<html" not in body
    assert response["Vary"]
    assert "HX-Request" in response["Vary"]


def test_unfiltered_board_loads_its_filter_form_when_the_panel_opens(client, manager, teammate, pipe, stages):
    # given: a board without filters
    client.force_login(manager)
    form_url = reverse("deals:deal-board-filter-form") + f"?pipeline={pipe[0].pk}"
    # when: the board is shown, then the closed filter panel opens
    body = client.get(board_url(pipe[0])).content.decode()
    form = client.get(form_url, headers=HTMX)
    # then: the board holds no form, only the request for it; the form has the owners to pick and the pipeline
    assert 'name="owner"' not in body
    assert f'hx-get="{form_url}"' in body
    assert form.status_code == 200
    assert f'<option value="{teammate.pk}">' in form.content.decode()
    assert f'name="pipeline" value="{pipe[0].pk}"' in form.content.decode()


def test_filtered_board_shows_its_filter_form_open(client, owner, pipe, stages):
    client.force_login(owner)
    body = client.get(board_url(pipe[0], f"owner={owner.pk}")).content.decode()
    assert f'<option value="{owner.pk}" selected>' in body
    assert 'id="board-filters" class="collapse show"' in body


def test_board_shows_the_default_pipeline_and_404_for_an_unknown_one(client, owner):
    client.force_login(owner)
    response = client.get(reverse("deals:deal-board"))
    assert response.status_code == 200
    assert response.context["board"].pipeline.is_default
    assert client.get(reverse("deals:deal-board") + "?pipeline=999999").status_code == 404
    assert client.get(reverse("deals:deal-board") + "?pipeline=abc").status_code == 404


# --- first cards and "load more" ------------------------------------------------------------------------


def test_a_column_shows_the_first_cards_by_expected_close_and_loads_more_by_keyset(
    client, owner, pipe, stages, monkeypatch
):
    # given: 8 deals with ties on the date and without a date; 3 cards per page
    monkeypatch.setattr(selectors, "COLUMN_SIZE", 3)
    closes = [
        date(2025, 5, 3),
        date(2025, 5, 1),
        None,
        date(2025, 5, 1),
        date(2025, 5, 2),
        None,
        date(2025, 5, 1),
        date(2025, 6, 1),
    ]
    deals = [DealFactory(owner=owner, stage=stages["new"], expected_close_date=close) for close in closes]
    expected = [
        d.pk
        for d in sorted(deals, key=lambda d: (d.expected_close_date is None, d.expected_close_date or date.min, -d.pk))
    ]
    client.force_login(owner)

    # when: the board, then "load more" until the end
    response = client.get(board_url(pipe[0]))
    column = columns(response)["New"]
    seen = [card.pk for card in column.cards]
    cursor = column.next_cursor
    assert len(seen) == 3
    assert cursor
    column_url = reverse("deals:deal-board-column", args=[stages["new"].pk])
    pages = 0
    while cursor:
        response = client.get(f"{column_url}?cursor={cursor}", headers=HTMX)
        assert response.status_code == 200
        body = response.content.decode()
        seen += card_ids(body)
        cursor = next_cursor(body)
        pages += 1
        assert 'id="column-more-' in body
        assert 'hx-swap-oob="true"' in body

    # then: every card once, soonest first, undated last
    assert seen == expected
    assert pages == 2
    assert 'data-testid="load-more"' not in body


def test_load_more_ignores_a_bad_cursor_and_keeps_filters(client, owner, teammate, manager, pipe, stages, monkeypatch):
    monkeypatch.setattr(selectors, "COLUMN_SIZE", 2)
    mine = [DealFactory(owner=owner, stage=stages["new"]) for _ in range(3)]
    DealFactory(owner=teammate, stage=stages["new"])
    client.force_login(manager)
    column_url = reverse("deals:deal-board-column", args=[stages["new"].pk])
    response = client.get(f"{column_url}?cursor=!!bad!!&owner={owner.pk}", headers=HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert set(card_ids(body)) <= {d.pk for d in mine}
    assert len(card_ids(body)) == 2
    assert f"owner={owner.pk}" in body


def test_board_runs_a_constant_number_of_queries(client, director, pipe, stages, django_assert_max_num_queries):
    pipeline, _stages = pipe

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(board_url(pipeline)).status_code == 200
        return len(queries)

    for stage in ("new", "offer", "talks"):
        for _ in range(3):
            DealFactory(stage=stages[stage], expected_close_date=date(2025, 5, 1))
    client.force_login(director)
    with django_assert_max_num_queries(16):
        few = count()
    for stage in ("new", "offer", "talks"):
        for index in range(25):
            DealFactory(stage=stages[stage], expected_close_date=date(2025, 5, 1) + timedelta(days=index))
    assert count() == few


def test_the_first_cards_come_from_one_union_of_limited_index_scans(owner, pipe, stages):
    for stage in ("new", "offer"):
        DealFactory(owner=owner, stage=stages[stage])
    with CaptureQueriesContext(connection) as queries:
        selectors.board(user=owner, pipeline=pipe[0], filters=selectors.BoardFilters())
    unions = [q["sql"] for q in queries if "UNION ALL" in q["sql"]]
    assert len(unions) == 1
    assert unions[0].count(f"LIMIT {selectors.COLUMN_SIZE + 1}") == 2


# --- scoping --------------------------------------------------------------------------------------------


def test_an_outsiders_deals_are_not_on_the_board(client, owner, outsider, pipe, stages):
    DealFactory(owner=outsider, stage=stages["new"], title="Чужа угода")
    DealFactory(owner=owner, stage=stages["new"], title="Моя угода")
    client.force_login(owner)
    response = client.get(board_url(pipe[0]))
    body = response.content.decode()
    assert "Моя угода" in body
    assert "Чужа угода" not in body
    assert columns(response)["New"].totals.count == 1


def test_an_outsider_gets_404_on_the_card_and_the_move(client, owner, outsider, stages):
    deal = DealFactory(owner=owner, stage=stages["new"])
    client.force_login(outsider)
    assert client.get(reverse("deals:deal-detail", args=[deal.pk])).status_code == 404
    response = client.post(move_url(deal), {"stage": stages["offer"].pk, "version": 1}, headers=HTMX)
    assert response.status_code == 404
    assert Deal.objects.get(pk=deal.pk).stage == stages["new"]


def test_a_user_without_a_sales_role_gets_403_on_the_board(client, readonly, pipe):
    client.force_login(readonly)
    assert client.get(board_url(pipe[0])).status_code == 403
    assert client.get(reverse("deals:deal-board-filter-form"), headers=HTMX).status_code == 403
    column_url = reverse("deals:deal-board-column", args=[pipe[1]["new"].pk])
    assert client.get(column_url, headers=HTMX).status_code == 403


def test_a_read_only_user_sees_the_board_without_drag_and_gets_403_on_a_move(client, pipe, stages):
    marketer = make_user(Role.MARKETING)
    deal = DealFactory(owner=marketer, stage=stages["new"])
    client.force_login(marketer)
    body = client.get(board_url(pipe[0])).content.decode()
    assert 'data-can-change="0"' in body
    assert deal.title in body

    response = client.post(move_url(deal), {"stage": stages["offer"].pk, "version": 1}, headers=HTMX)

    assert response.status_code == 403
    assert json.loads(response.content)["message"]
    assert Deal.objects.get(pk=deal.pk).stage == stages["new"]
    assert client.post(move_url(deal), {"stage": stages["offer"].pk, "version": 1}).status_code == 403


# --- drops ----------------------------------------------------------------------------------------------


def test_a_drop_moves_the_deal_and_answers_with_both_column_headers(client, owner, pipe, stages):
    deal = DealFactory(owner=owner, stage=stages["new"], amount=D("300.00"))
    DealFactory(owner=owner, stage=stages["new"], amount=D("200.00"))
    client.force_login(owner)

    response = client.post(move_url(deal), {"stage": stages["offer"].pk, "version": 1}, headers=HTMX)

    assert response.status_code == 200
    body = response.content.decode()
    stored = Deal.objects.get(pk=deal.pk)
    assert (stored.stage, stored.version, stored.probability) == (stages["offer"], 2, 40)
    assert DealStageChange.objects.filter(deal=deal, from_stage=stages["new"], to_stage=stages["offer"]).exists()
    new_head = body[body.index(f'id="column-head-{stages["new"].pk}"') :]
    offer_head = body[body.index(f'id="column-head-{stages["offer"].pk}"') :]
    assert 'hx-swap-oob="true"' in new_head[:200]
    assert 'data-testid="column-count" title="Open deals">1<' in new_head
    assert "200.00" in new_head.split("</header>")[0]
    assert 'data-testid="column-count" title="Open deals">1<' in offer_head
    assert "120.00" in offer_head.split("</header>")[0]  # 300 × 40 %
    assert f'id="deal-card-{deal.pk}"' in body
    assert 'data-version="2"' in body


def test_a_drop_on_a_lost_stage_needs_a_reason(client, owner, pipe, stages):
    deal = DealFactory(owner=owner, stage=stages["new"])
    reason = LossReasonFactory(name="Немає бюджету")
    client.force_login(owner)

    response = client.post(move_url(deal), {"stage": stages["lost"].pk, "version": 1}, headers=HTMX)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content)["errors"] == {"loss_reason": ["Choose why the deal was lost."]}
    assert Deal.objects.get(pk=deal.pk).status == DealStatus.OPEN

    response = client.post(
        move_url(deal),
        {"stage": stages["lost"].pk, "version": 1, "loss_reason": reason.pk, "loss_comment": "Бюджет урізали"},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert f'id="deal-card-{deal.pk}" hx-swap-oob="delete"' in response.content.decode()
    stored = Deal.objects.get(pk=deal.pk)
    assert (stored.status, stored.loss_reason, stored.loss_comment) == (DealStatus.LOST, reason, "Бюджет урізали")


def test_a_drop_on_a_won_stage_wins_and_removes_the_card(client, owner, stages):
    deal = DealFactory(owner=owner, stage=stages["talks"])
    client.force_login(owner)
    response = client.post(move_url(deal), {"stage": stages["won"].pk, "version": 1}, headers=HTMX)
    assert response.status_code == 200
    assert 'hx-swap-oob="delete"' in response.content.decode()
    assert Deal.objects.get(pk=deal.pk).status == DealStatus.WON


def test_a_stale_drop_answers_the_conflict_message_and_changes_nothing(client, owner, teammate, manager, stages):
    deal = DealFactory(owner=owner, stage=stages["new"])
    services.deal_move_stage(deal=Deal.objects.get(pk=deal.pk), stage=stages["talks"], actor=manager, version=1)
    client.force_login(owner)

    response = client.post(move_url(deal), {"stage": stages["offer"].pk, "version": 1}, headers=HTMX)

    assert response.status_code == 200
    assert json.loads(response.content) == {"ok": False, "conflict": True, "message": CONFLICT, "errors": {}}
    assert (Deal.objects.get(pk=deal.pk).stage, Deal.objects.get(pk=deal.pk).version) == (stages["talks"], 2)


def test_a_drop_on_another_pipelines_stage_is_refused(client, owner, stages):
    deal = DealFactory(owner=owner, stage=stages["new"])
    _pipeline, other = make_pipeline()
    client.force_login(owner)
    response = client.post(move_url(deal), {"stage": other["offer"].pk, "version": 1}, headers=HTMX)
    assert response.status_code == 200
    assert "stage" in json.loads(response.content)["errors"]
    assert Deal.objects.get(pk=deal.pk).stage == stages["new"]


def test_the_cards_stage_picker_moves_without_javascript(client, owner, stages):
    deal = DealFactory(owner=owner, stage=stages["new"])
    client.force_login(owner)
    response = client.post(move_url(deal), {"stage": stages["talks"].pk, "version": 1})
    assert response.status_code == 302
    assert response.url == reverse("deals:deal-detail", args=[deal.pk])
    assert Deal.objects.get(pk=deal.pk).stage == stages["talks"]
    response = client.post(move_url(deal), {"stage": stages["offer"].pk, "version": 1}, follow=True)
    assert CONFLICT in response.content.decode()
