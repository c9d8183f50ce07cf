from importlib import import_module

import pytest
from django.apps import apps
from django.contrib.auth.models import Group

from crm.models import Role
from tests.crm.factories import TeamFactory, UserFactory


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Re-create the roles: transactional tests flush the tables that the data migration filled,
    and --reuse-db then starts the next session without them."""
    with django_db_blocker.unblock():
        import_module("crm.migrations.0002_roles").create_roles(apps, None)


def make_user(role: str | None = None, **fields):
    user = UserFactory(**fields)
    if role:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
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
