import pytest

from crm.lib.cached import bump
from deals import aggregates


@pytest.fixture(autouse=True)
def _fresh_aggregates(django_db_setup):
    """Each test starts with no cached sales aggregate: the cache (Redis) outlives the rolled-back rows of
    earlier tests, and a test that writes nothing would otherwise read their counts."""
    bump(aggregates.DEALS)
    bump(aggregates.ORDERS)
