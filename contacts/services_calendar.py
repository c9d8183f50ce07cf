"""Writes for the calendar: the user's secret iCal feed URL."""

from __future__ import annotations

import secrets

from django.db import transaction

from contacts.models import CalendarFeed
from crm.models import User


def _new_token() -> str:
    return secrets.token_urlsafe(32)  # 43 URL-safe characters, 256 bits


def calendar_feed_get_or_create(*, user: User) -> CalendarFeed:
    """The user's feed, created with a fresh secret token on first use."""
    feed, _created = CalendarFeed.objects.get_or_create(user=user, defaults={"token": _new_token()})
    return feed


@transaction.atomic
def calendar_feed_regenerate(*, user: User) -> CalendarFeed:
    """Replace the feed's token: the old URL answers 404 from now on."""
    feed = CalendarFeed.objects.select_for_update(no_key=True).filter(user=user).first()
    if feed is None:
        return calendar_feed_get_or_create(user=user)
    feed.token = _new_token()
    feed.save(update_fields=["token", "updated_at"])
    return feed
