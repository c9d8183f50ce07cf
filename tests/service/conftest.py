import pytest

from crm.models import Role
from service.services import service_team
from tests.conftest import make_user
from tests.crm.factories import TeamFactory
from tests.mailservers import dovecot, imap_server, smtp_sink  # noqa: F401


@pytest.fixture
def service_desk(db, settings):
    """The service team (settings.SERVICE_TEAM) with a manager."""
    team = TeamFactory(name=settings.SERVICE_TEAM)
    team.manager = make_user(Role.SALES_MANAGER, team=team)
    team.save()
    assert service_team() == team
    return team


@pytest.fixture
def agent(service_desk):
    return make_user(Role.SERVICE_AGENT, team=service_desk)


@pytest.fixture
def other_agent(db):
    """A service agent of another service team."""
    return make_user(Role.SERVICE_AGENT, team=TeamFactory())
