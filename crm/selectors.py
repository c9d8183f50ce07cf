"""Core reads: notifications and teams for the current user."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import Prefetch, QuerySet

from crm.models import Job, Notification, NotificationKind, NotificationPreference, Team, User

NOTIFICATION_PAGE_SIZE = 50
# The bell shows "99+": counting stops there, so a user with 100k unread costs the same.
UNREAD_COUNT_CAP = 100


def notification_unread_count(*, user: User | AnonymousUser) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.visible_to(user).unread()[:UNREAD_COUNT_CAP].count()


def notification_list(
    *, user: User, before: int | None = None, limit: int = NOTIFICATION_PAGE_SIZE
) -> tuple[list[Notification], int | None]:
    """One keyset page of the user's notifications, newest first, and the cursor of the next page."""
    qs = Notification.objects.visible_to(user).order_by("-id")
    if before is not None:
        qs = qs.filter(id__lt=before)
    rows = list(qs[: limit + 1])
    next_cursor = rows[limit - 1].id if len(rows) > limit else None
    return rows[:limit], next_cursor


def notification_get(*, user: User, notification_id: int) -> Notification:
    """Raises Notification.DoesNotExist for someone else's notification."""
    return Notification.objects.visible_to(user).get(pk=notification_id)


def notification_channels(*, user: User) -> dict[str, tuple[bool, bool]]:
    """{kind: (in_app, by_email)} for every tunable kind; without a stored row, the bell and the e-mail switch."""
    stored = {p.kind: (p.in_app, p.by_email) for p in NotificationPreference.objects.filter(user=user)}
    return {kind: stored.get(kind, (True, user.email_notifications)) for kind in NotificationKind.values}


def team_list(*, user: User) -> QuerySet[Team]:
    members = User.objects.filter(is_active=True).order_by("full_name")
    return (
        Team.objects.visible_to(user)
        .select_related("manager")
        .prefetch_related(Prefetch("members", queryset=members))
        .order_by("name")
    )


def job_get(*, user: User, job_id: int) -> Job:
    """A user's own background job; raises Http404 for anyone else's."""
    from django.shortcuts import get_object_or_404

    return get_object_or_404(Job.objects.filter(owner=user), pk=job_id)
