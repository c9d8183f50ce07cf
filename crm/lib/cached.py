"""Aggregates (counts, sums) read from a short-lived cache and invalidated on every write.

Why: a count over the rows a page summarises costs tens of milliseconds at size L (the order list's counts
per status read ~36k orders of 90 days, ~25 ms; the board's totals read 20k open deals), on every request.
A cached value is never shown stale after the user's own change: every entry's key carries a version
number of its namespace, and every write of the rows behind it bumps that version (in the services, and by
post_save / post_delete signals as a safety net for the admin and other `save()` paths), so the next read
recomputes. Writes of OTHER users show within the TTL at worst (only when no write bumped in between).

The version is bumped twice per write: at once, so reads later in the same transaction (and tests, whose
transaction never commits) recompute; and after the commit, so a value another request computed from the
pre-commit rows between the two bumps is never read.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.cache import cache
from django.db import connection, transaction

if TYPE_CHECKING:
    from crm.models import User

T = TypeVar("T")
logger = logging.getLogger(__name__)

TTL = 300  # seconds: the longest another user's change may take to show when no write bumps the version


def _prefix(namespace: str) -> str:
    # The database name keeps two databases on one Redis (test workers, a staging copy) apart.
    return f"agg:{connection.settings_dict['NAME']}:{namespace}"


def _version(namespace: str) -> int:
    key = f"{_prefix(namespace)}:v"
    value = cache.get(key)
    if value is None:
        # A fresh start (never 1 again after an eviction) so no entry of an earlier life matches.
        cache.add(key, time.time_ns(), timeout=None)
        value = cache.get(key)
    return int(value)


def _incr(namespace: str) -> None:
    key = f"{_prefix(namespace)}:v"
    try:
        try:
            cache.incr(key)
        except ValueError:  # no version yet (or evicted): any start nobody cached under will do
            cache.add(key, time.time_ns(), timeout=None)
    except Exception:  # the cache is down: the write must not fail for it (entries expire after TTL anyway)
        logger.warning("could not invalidate the cached %s aggregates", namespace, exc_info=True)


def bump(namespace: str) -> None:
    """Invalidate every cached aggregate of `namespace`: now, and again when the transaction commits."""
    _incr(namespace)
    if connection.in_atomic_block:  # in autocommit the write is already committed
        transaction.on_commit(partial(_incr, namespace))


def scope_key(user: User) -> str:
    """The part of a key that names the rows `visible_to(user)` returns (crm.models.ScopedQuerySet)."""
    from crm.models import Scope

    scope = user.scope
    if scope == Scope.ALL:
        return "all"
    if scope == Scope.TEAM:
        return f"u{user.pk}t{','.join(str(pk) for pk in sorted(user.team_ids))}"
    return f"u{user.pk}"


def _key(namespace: str, parts: Iterable[Any]) -> str:
    raw = "|".join(str(part) for part in parts)
    return f"{_prefix(namespace)}:{_version(namespace)}:{hashlib.sha1(raw.encode()).hexdigest()}"


def cache_get(namespace: str, parts: Iterable[Any]) -> Any:
    """The value stored under the namespace's current version and `parts`; None when absent or the cache is down."""
    try:
        return cache.get(_key(namespace, parts))
    except Exception:
        logger.warning("could not read the cached %s values", namespace, exc_info=True)
        return None


def cache_set(namespace: str, parts: Iterable[Any], value: Any, *, ttl: int = TTL) -> None:
    try:
        cache.set(_key(namespace, parts), value, timeout=ttl)
    except Exception:
        logger.warning("could not cache the %s values", namespace, exc_info=True)


def cached_aggregate(namespace: str, parts: Iterable[Any], compute: Callable[[], T], *, ttl: int = TTL) -> T:
    """`compute()`, or its value cached under the namespace's current version and `parts` (scope, filters, period).

    `parts` must name everything the value depends on besides the namespace's rows: two calls with equal
    parts share one entry. The value must pickle.
    """
    try:
        key = _key(namespace, parts)
        value = cache.get(key)
    except Exception:  # the cache is down: the page still shows, computed
        logger.warning("could not read the cached %s aggregates", namespace, exc_info=True)
        return compute()
    if value is None:
        value = compute()
        try:
            cache.set(key, value, timeout=ttl)
        except Exception:
            logger.warning("could not cache the %s aggregates", namespace, exc_info=True)
    return value
