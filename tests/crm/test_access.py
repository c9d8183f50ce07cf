"""visible_to(user): own, team or all records by role (tests/testapp.Memo uses ScopedQuerySet)."""

import pytest

from crm.models import Role, Scope, Team
from tests.conftest import make_user
from tests.crm.factories import TeamFactory
from tests.testapp.models import Memo

pytestmark = pytest.mark.django_db


@pytest.fixture
def memos(owner, teammate, outsider, team):
    return {
        "own": Memo.objects.create(title="own", owner=owner, team=team),
        "teammate_private": Memo.objects.create(title="teammate private", owner=teammate, team=team),
        "teammate_shared": Memo.objects.create(title="teammate shared", owner=teammate, team=team, is_shared=True),
        "other_team": Memo.objects.create(title="other team", owner=outsider, team=outsider.team, is_shared=True),
    }


def visible_titles(user):
    return set(Memo.objects.visible_to(user).values_list("title", flat=True))


def test_representative_sees_own_and_shared_team_records(owner, memos):
    assert visible_titles(owner) == {"own", "teammate shared"}


def test_manager_sees_the_records_of_the_team(manager, memos):
    assert visible_titles(manager) == {"own", "teammate private", "teammate shared"}


def test_manager_of_a_second_team_sees_both_teams(manager, memos, outsider):
    outsider.team.manager = manager
    outsider.team.save()
    manager.refresh_from_db()
    assert "other team" in visible_titles(manager)


@pytest.mark.parametrize("role", [Role.DIRECTOR, Role.ADMINISTRATOR])
def test_director_and_administrator_see_everything(role, memos):
    assert visible_titles(make_user(role)) == {m.title for m in memos.values()}


@pytest.mark.parametrize("role", [Role.MARKETING, Role.SERVICE_AGENT, Role.PROCUREMENT])
def test_other_roles_see_own_records(role, memos, team):
    user = make_user(role, team=team)
    Memo.objects.create(title="mine", owner=user, team=team)
    assert visible_titles(user) == {"mine", "teammate shared"}


def test_user_without_role_sees_only_own(readonly, memos):
    Memo.objects.create(title="mine", owner=readonly)
    assert visible_titles(readonly) == {"mine"}


def test_widest_role_wins(owner, memos):
    owner.groups.add(*make_user(Role.DIRECTOR).groups.all())
    owner.refresh_from_db()
    assert owner.scope == Scope.ALL


def test_inactive_and_anonymous_users_see_nothing(owner, memos):
    from django.contrib.auth.models import AnonymousUser

    owner.is_active = False
    assert visible_titles(owner) == set()
    assert not Memo.objects.visible_to(AnonymousUser()).exists()


def test_superuser_sees_everything(memos):
    assert len(visible_titles(make_user(is_superuser=True))) == 4


def test_teams_visible_to_roles(owner, manager, outsider, director):
    assert set(Team.objects.visible_to(owner)) == {owner.team}
    assert set(Team.objects.visible_to(director)) == {owner.team, outsider.team}


def test_roles_are_created_by_migration():
    from django.contrib.auth.models import Group

    assert set(Group.objects.values_list("name", flat=True)) >= set(Role.values)
    assert Group.objects.get(name=Role.SALES_MANAGER).permissions.filter(codename="view_user").exists()


def test_roles_teams_and_permissions_come_from_the_cache_and_follow_every_change(django_assert_num_queries):
    from django.contrib.auth.models import Group, Permission

    from crm.models import User

    team, other = TeamFactory(), TeamFactory()
    user = make_user(Role.SALES_REP, team=team)

    def fresh() -> User:
        return User.objects.get(pk=user.pk)

    first = fresh()
    assert (first.roles, first.team_ids) == ({Role.SALES_REP}, {team.pk})
    assert not first.has_perm("contacts.delete_company")
    again = fresh()
    with django_assert_num_queries(0):  # a later request reads all three from the cache
        assert (again.roles, again.team_ids) == ({Role.SALES_REP}, {team.pk})
        assert again.has_perm("contacts.add_company")

    user.groups.add(Group.objects.get(name=Role.SALES_MANAGER))
    assert fresh().roles == {Role.SALES_REP, Role.SALES_MANAGER}
    Team.objects.filter(pk=other.pk).update(manager=user)  # a bulk update sends no signal ...
    other.manager = user
    other.save()  # ... a save does
    assert fresh().team_ids == {team.pk, other.pk}
    group = Group.objects.get(name=Role.SALES_REP)
    group.permissions.add(Permission.objects.get(codename="delete_company"))
    assert fresh().has_perm("contacts.delete_company")
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert not fresh().has_perm("contacts.add_company")  # the user row itself is part of the key
