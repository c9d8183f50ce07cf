from importlib import import_module

import pytest
from django.apps import apps
from django.contrib.auth.models import Group

from crm.models import Role
from tests.crm.factories import TeamFactory, UserFactory

# The data migrations that create roles and grant them permissions, in order.
ROLE_MIGRATIONS = [
    ("crm.migrations.0002_roles", "create_roles"),
    ("contacts.migrations.0004_role_permissions", "grant_contacts"),
    ("contacts.migrations.0007_activity_permissions", "grant_activities"),
    ("deals.migrations.0002_reference_data", "forwards"),
    ("service.migrations.0002_search_roles_reference", "forwards"),
    ("marketing.migrations.0002_consent_log_roles", "forwards"),
]


def ensure_roles() -> None:
    """Transactional tests flush the rows the data migrations made (and --reuse-db keeps that state)."""
    for module, function in ROLE_MIGRATIONS:
        getattr(import_module(module), function)(apps, None)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from django.db import connection

    # pytest-django sets up no test database when no collected test needs one (a run of pure tests):
    # the connection then still names the real database, which must not be touched.
    if connection.settings_dict["NAME"].startswith("test_"):
        with django_db_blocker.unblock():
            ensure_roles()


def make_user(role: str | None = None, **fields):
    user = UserFactory(**fields)
    if role:
        if not Group.objects.filter(name=role).exists():
            ensure_roles()
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


@pytest.fixture(autouse=True)
def _fresh_access(django_db_setup):
    """Cached roles, teams and permissions (crm.access) outlive the rows of earlier tests in Redis, and a
    flush between tests sends no signal: each test starts from a new version."""
    from crm.access import NAMESPACE
    from crm.lib.cached import bump

    bump(NAMESPACE)


@pytest.fixture(autouse=True)
def _celery_join_flag():
    """Eager tasks run from two threads at once (the concurrency tests) can leave Celery's process-wide
    "joining would block" flag set, and a later test's `result.get()` would then refuse to wait."""
    yield
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)
