"""A user's roles, teams and permissions, read from the cache instead of up to four queries per request.

Every page asks who the user is: the roles (auth groups) decide the scope of `visible_to`, the teams
(own and managed) the rows of a manager's scope, the permissions the buttons and the views. Loaded from
the database that is up to four queries and ~2 ms of a ~6 ms page. They change rarely, and every change
goes through the ORM: a user saved or deleted, their groups or permissions changed, a group's permissions,
a team (its manager). Each of those bumps one version (crm.lib.cached), so the next request reads afresh.

One cache entry per user holds whichever of the three values were needed so far; a value is loaded (with
the queries Django would run) the first time a request needs it, then stored for the next requests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from django.contrib.auth.backends import ModelBackend

from crm.lib.cached import bump, cache_get, cache_set

if TYPE_CHECKING:
    from crm.models import User

T = TypeVar("T")
NAMESPACE = "access"
TTL = 600


def _parts(user: User) -> list[Any]:
    # Besides the version: what the values depend on that the user row itself may change.
    return [user.pk, user.team_id, user.is_active, user.is_superuser]


def _cached(user: User, name: str, load: Callable[[], T]) -> T:
    entry: dict[str, Any] | None = getattr(user, "_access_entry", None)
    if entry is None:
        entry = cache_get(NAMESPACE, _parts(user)) or {}
        user._access_entry = entry  # type: ignore[attr-defined]  # once per request (the user object)
    if name not in entry:
        entry[name] = load()
        cache_set(NAMESPACE, _parts(user), entry, ttl=TTL)
    return entry[name]


def roles_of(user: User) -> frozenset[str]:
    return _cached(user, "roles", lambda: frozenset(user.groups.values_list("name", flat=True)))


def team_ids_of(user: User) -> frozenset[int]:
    """The user's own team and every team they manage."""
    from crm.models import Team

    def load() -> frozenset[int]:
        managed = Team.objects.filter(manager=user).values_list("pk", flat=True)
        return frozenset({*managed, *([user.team_id] if user.team_id else [])})

    return _cached(user, "team_ids", load)


def permissions_of(user: User) -> frozenset[str]:
    """The user's permissions ("app.codename") as Django's ModelBackend finds them."""
    return _cached(user, "permissions", lambda: frozenset(ModelBackend().get_all_permissions(user)))


def access_changed(**kwargs: Any) -> None:
    """Signal receiver (crm.apps): a user, group, permission or team changed; everyone's access is reread."""
    bump(NAMESPACE)


class CachedPermissionsBackend(ModelBackend):
    """Django's ModelBackend with the permission set from `permissions_of` (a cache read, not two queries)."""

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            user_obj._perm_cache = set(permissions_of(user_obj))
        return user_obj._perm_cache
