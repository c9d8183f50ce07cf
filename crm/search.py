"""The global-search registry: one box in the navigation bar, results from every app.

crm imports no domain app, so each app registers its own provider in `AppConfig.ready()`:

    from crm import search
    search.register(my_provider)

A provider is either a callable `(user, query) -> Sequence[SearchGroup]` or an object with a
`label` and a `search(user, query) -> Sequence[SearchResult]` method (one group). Providers read
through `visible_to(user)`; they get the query stripped, whitespace-collapsed and capped in length,
and decide for themselves what it means (a name, a phone, a code) and which indexes serve it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from django.utils.functional import Promise

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from crm.models import User

# A dropdown stays short; the full results page shows the same bounded groups.
GROUP_LIMIT = 8
# Longer input is no search anybody types; trigram work grows with the query's length.
QUERY_MAX_LENGTH = 100


@dataclass(frozen=True)
class SearchResult:
    title: str
    url: str
    subtitle: str = ""
    # A Bootstrap Icons name without the "bi-" prefix: "building", "person", ...
    icon: str = "search"


@dataclass(frozen=True)
class SearchGroup:
    key: str
    label: str | Promise
    results: Sequence[SearchResult] = field(default_factory=tuple)
    # Groups are shown by ascending order (companies before people before deals, ...).
    order: int = 100


@runtime_checkable
class GroupProvider(Protocol):
    label: str | Promise

    def search(self, user: User, query: str) -> Sequence[SearchResult]: ...


Provider = Callable[["User", str], Sequence[SearchGroup]] | GroupProvider

_providers: dict[str, Provider] = {}


def _default_key(provider: Provider) -> str:
    target = provider if callable(provider) and not isinstance(provider, GroupProvider) else type(provider)
    return f"{target.__module__}.{getattr(target, '__qualname__', repr(target))}"


def register(provider: Provider, *, key: str | None = None) -> str:
    """Add a provider; registering the same key again replaces it (ready() may run twice). Returns the key."""
    key = key or _default_key(provider)
    _providers[key] = provider
    return key


def unregister(key: str) -> None:
    _providers.pop(key, None)


def providers() -> list[Provider]:
    return list(_providers.values())


def clean_query(query: str) -> str:
    """The query as providers get it: stripped, inner whitespace collapsed, at most QUERY_MAX_LENGTH characters."""
    return re.sub(r"\s+", " ", query).strip()[:QUERY_MAX_LENGTH]


def _groups_of(provider: Provider, user: User, query: str) -> Sequence[SearchGroup]:
    if isinstance(provider, GroupProvider):
        key = getattr(provider, "key", None) or _default_key(provider)
        order = getattr(provider, "order", 100)
        return [SearchGroup(key=key, label=provider.label, results=provider.search(user, query), order=order)]
    return provider(user, query)


def search_all(user: User | AnonymousUser, query: str, *, limit: int = GROUP_LIMIT) -> list[SearchGroup]:
    """Every provider's non-empty groups for `query`, by group order, each cut to `limit` results.

    An anonymous or inactive user and an empty query get no groups (no provider runs).
    """
    query = clean_query(query)
    if not query or not user.is_authenticated or not user.is_active:
        return []
    groups = [group for provider in providers() for group in _groups_of(provider, user, query) if group.results]
    return [
        SearchGroup(key=group.key, label=group.label, results=tuple(group.results[:limit]), order=group.order)
        for group in sorted(groups, key=lambda group: group.order)
    ]


def result_count(groups: Sequence[SearchGroup]) -> int:
    return sum(len(group.results) for group in groups)
