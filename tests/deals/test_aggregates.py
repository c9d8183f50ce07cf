"""The board's column totals and the order list's counts per status come from a cache (crm.lib.cached)
that every write of a deal or an order invalidates. These tests run against the real cache backend of the
test settings (Redis, as in production); `_fresh_aggregates` (conftest) starts each test clean."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.lib.cached import bump, cached_aggregate
from crm.models import Role
from deals import aggregates
from deals import selectors_deals as deals_selectors
from deals.models import Order, OrderStatus
from deals.selectors_orders import order_status_counts
from deals.services_deals import deal_move_stage
from deals.services_orders import order_change_status, order_create
from tests.conftest import make_user
from tests.contacts.factories import CompanyFactory
from tests.deals.factories_deals import DealFactory, make_pipeline
from tests.deals.factories_orders import OrderFactory, OrderProductFactory


def _fresh(user):
    """The user as a request loads it, with its scope and teams read (so only the aggregate queries count)."""
    user = type(user).objects.get(pk=user.pk)
    _ = user.scope, user.team_ids
    return user


def _queries(call):
    with CaptureQueriesContext(connection) as captured:
        value = call()
    return value, len(captured.captured_queries)


def test_the_tests_use_a_real_cache_backend():
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"


def test_order_counts_are_cached(owner):
    OrderFactory(owner=owner, team=owner.team)
    owner = _fresh(owner)
    first, n = _queries(lambda: order_status_counts(user=owner))
    assert (first.total, n) == (1, 1)
    second, n = _queries(lambda: order_status_counts(user=owner))
    assert (second.counts, n) == (first.counts, 0)


def test_an_order_service_write_invalidates_the_counts(owner):
    company = CompanyFactory(owner=owner)
    product = OrderProductFactory(base_price=Decimal("100.00"))
    order = order_create(actor=owner, company=company, lines=[(product, 1)])
    owner = _fresh(owner)
    assert order_status_counts(user=owner).counts == {"new": 1}
    order_change_status(order=order, actor=owner, status=OrderStatus.CONFIRMED)
    counts, n = _queries(lambda: order_status_counts(user=owner))
    assert (counts.counts, n) == ({"confirmed": 1}, 1)
    order_create(actor=owner, company=company, lines=[(product, 2)])
    assert order_status_counts(user=owner).counts == {"confirmed": 1, "new": 1}


def test_an_admin_style_save_invalidates_the_counts(owner):
    order = OrderFactory(owner=owner, team=owner.team)
    owner = _fresh(owner)
    assert order_status_counts(user=owner).counts == {"new": 1}
    order = Order.objects.get(pk=order.pk)
    order.status = OrderStatus.CONFIRMED
    order.save()
    assert order_status_counts(user=owner).counts == {"confirmed": 1}
    order.delete()
    assert order_status_counts(user=owner).counts == {}


def test_scopes_never_share_an_entry(owner, teammate, manager, outsider):
    director = make_user(Role.DIRECTOR)
    OrderFactory(owner=owner, team=owner.team)
    OrderFactory.create_batch(2, owner=teammate, team=teammate.team)
    OrderFactory.create_batch(4, owner=outsider, team=outsider.team)
    totals = {user: order_status_counts(user=_fresh(user)).total for user in (owner, teammate, manager, outsider)}
    assert totals == {owner: 1, teammate: 2, manager: 3, outsider: 4}
    assert order_status_counts(user=_fresh(director)).total >= 7
    # Read again from the cache: still each user's own.
    assert {user: order_status_counts(user=_fresh(user)).total for user in totals} == totals


def test_board_totals_are_cached_and_a_move_invalidates_them(owner):
    pipeline, stages = make_pipeline()
    deal = DealFactory(owner=owner, team=owner.team, pipeline=pipeline, stage=stages["new"], amount=Decimal("100"))
    owner = _fresh(owner)
    filters = deals_selectors.BoardFilters()
    call = lambda: deals_selectors.column_totals(user=owner, pipeline_id=pipeline.pk, filters=filters)  # noqa: E731
    totals, n = _queries(call)
    assert (totals[stages["new"].pk].count, n) == (1, 1)
    assert _queries(call)[1] == 0
    deal_move_stage(deal=deal, stage=stages["offer"], actor=owner)
    totals, n = _queries(call)
    assert n == 1
    assert stages["new"].pk not in totals
    assert totals[stages["offer"].pk].amount == Decimal("100")


def test_board_totals_are_cached_per_filter(owner, teammate, manager):
    pipeline, stages = make_pipeline()
    DealFactory(owner=owner, team=owner.team, pipeline=pipeline, stage=stages["new"])
    DealFactory(owner=teammate, team=teammate.team, pipeline=pipeline, stage=stages["new"])
    manager = _fresh(manager)

    def count(**filters):
        totals = deals_selectors.column_totals(
            user=manager, pipeline_id=pipeline.pk, filters=deals_selectors.BoardFilters(**filters)
        )
        return totals[stages["new"].pk].count

    assert (count(), count(owner=owner.pk), count(owner=teammate.pk), count()) == (2, 1, 1, 2)


def test_a_value_computed_before_the_commit_is_not_read_after_it(owner, django_capture_on_commit_callbacks):
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    with django_capture_on_commit_callbacks(execute=True):
        bump(aggregates.ORDERS)  # a write in a transaction ...
        assert cached_aggregate(aggregates.ORDERS, ["x"], compute) == 1  # ... another request reads meanwhile
    assert cached_aggregate(aggregates.ORDERS, ["x"], compute) == 2  # the commit bumped again


@pytest.mark.parametrize("namespace", [aggregates.DEALS, aggregates.ORDERS])
def test_each_bump_gives_a_fresh_entry(namespace):
    assert cached_aggregate(namespace, ["y"], lambda: 1) == 1
    bump(namespace)
    assert cached_aggregate(namespace, ["y"], lambda: 2) == 2


def test_a_cache_outage_shows_computed_counts_and_lets_writes_through(owner, settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    OrderFactory(owner=owner, team=owner.team)  # its post_save bump fails quietly
    assert order_status_counts(user=_fresh(owner)).counts == {"new": 1}
