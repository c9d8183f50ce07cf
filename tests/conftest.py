import pytest
from django.contrib.auth.models import Group

from crm.models import Role
from tests.crm.factories import TeamFactory, UserFactory


def make_user(role: str | None = None, **fields):
    user = UserFactory(**fields)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def team(db):
    return TeamFactory()


@pytest.fixture
def owner(team):
    """A sales representative in `team`."""
    return make_user(Role.SALES_REP, team=team)


@pytest.fixture
def teammate(team):
    return make_user(Role.SALES_REP, team=team)


@pytest.fixture
def manager(team):
    user = make_user(Role.SALES_MANAGER, team=team)
    team.manager = user
    team.save()
    return user


@pytest.fixture
def outsider(db):
    """A sales representative of another team."""
    return make_user(Role.SALES_REP, team=TeamFactory())


@pytest.fixture
def director(db):
    return make_user(Role.DIRECTOR)


@pytest.fixture
def readonly(db):
    """An active user with no role at all."""
    return make_user()
