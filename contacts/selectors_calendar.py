"""Reads for the calendar: FullCalendar's JSON events and the iCal feed.

Both read a bounded time range of one user's (or one team's) activities with only the columns they
show, so PostgreSQL serves them from contacts_act_assignee_idx / contacts_act_team_idx in one query.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from contacts.models import Activity, ActivityStatus, CalendarFeed
from crm.models import Scope, Team, User

MAX_RANGE = timedelta(days=62)  # a month view shows 6 weeks; two months is plenty
MAX_EVENTS = 2_000  # a team's busy month; more would not fit on a screen anyway
FEED_PAST = timedelta(days=30)
FEED_FUTURE = timedelta(days=365)
FEED_MAX_EVENTS = 5_000
LOCAL_FORMAT = "%Y-%m-%dT%H:%M:%S"

EVENT_FIELDS = ("id", "kind", "subject", "starts_at", "ends_at", "is_all_day", "status")

CalendarScope = Literal["mine", "team"]


# --- input ------------------------------------------------------------------------------------------------


def parse_moment(value: str | None, *, field: str) -> tuple[datetime, bool]:
    """An ISO date or date-time from FullCalendar as an aware datetime, and whether it was a bare date.

    FullCalendar with a named time zone (and no time-zone plugin) sends local times without an
    offset: those are Europe/Kyiv wall-clock times. Raises ValidationError keyed by `field`.
    """
    value = (value or "").strip()
    try:
        if len(value) == 10:
            return timezone.make_aware(datetime.combine(date.fromisoformat(value), time.min)), True
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(
            {field: _("Give a date as YYYY-MM-DD or a date and time as YYYY-MM-DDTHH:MM.")}, code="invalid"
        ) from None
    return (timezone.make_aware(moment) if timezone.is_naive(moment) else moment), False


def on_day(moment: datetime, day: date) -> datetime:
    """`moment`'s Europe/Kyiv time of day on another day (an all-day event dropped on a new day)."""
    return timezone.make_aware(datetime.combine(day, timezone.localtime(moment).time()))


def parse_range(start: str | None, end: str | None) -> tuple[datetime, datetime]:
    """The requested [start, end) range; raises ValidationError when it is missing, reversed or too long."""
    range_start, _all_day = parse_moment(start, field="start")
    range_end, _all_day = parse_moment(end, field="end")
    if range_end <= range_start:
        raise ValidationError({"end": _("The end of the range must be after its start.")}, code="reversed")
    if range_end - range_start > MAX_RANGE:
        raise ValidationError(
            {"end": _("Ask for at most %(days)d days at a time.") % {"days": MAX_RANGE.days}}, code="too_long"
        )
    return range_start, range_end


# --- JSON events ------------------------------------------------------------------------------------------


def can_see_team(user: User) -> bool:
    """Managers and directors have a team calendar; a representative's "team" is their own."""
    return user.scope >= Scope.TEAM


def calendar_activities(
    *, user: User, start: datetime, end: datetime, scope: CalendarScope = "mine", member: int | None = None
) -> QuerySet[Activity]:
    """Activities starting in [start, end) that the calendar shows, at most MAX_EVENTS.

    "mine": assigned to the user (contacts_act_assignee_idx). "team" (managers and directors only,
    anyone else gets "mine"): the activities of the user's teams (contacts_act_team_idx), or of every
    team for a director, optionally of one `member`. Always within `visible_to(user)`.
    """
    activities = Activity.objects.visible_to(user).filter(starts_at__gte=start, starts_at__lt=end)
    if scope != "team" or not can_see_team(user):
        activities = activities.filter(assignee=user)
    elif member is not None:
        activities = activities.filter(assignee_id=member)
    else:
        # Explicit ids (not a subquery), so the planner scans contacts_act_team_idx once per team.
        teams = user.team_ids if user.scope == Scope.TEAM else Team.objects.values_list("pk", flat=True)
        activities = activities.filter(team__in=list(teams))
    return activities.order_by("starts_at", "id")


def activity_url_prefix() -> str:
    """The activity pages' URL prefix, "/contacts/activities/": reversed once, not once per row."""
    try:
        return reverse("contacts:activity-detail", args=[0])[: -len("0/")]
    except NoReverseMatch:  # the activities pages are not installed (yet)
        return "/contacts/activities/"


def _local(moment: datetime) -> datetime:
    return timezone.localtime(moment)


def _event(row: dict[str, Any], *, now: datetime, url_prefix: str, with_assignee: bool) -> dict[str, Any]:
    starts, ends = _local(row["starts_at"]), row["ends_at"] and _local(row["ends_at"])
    all_day = row["is_all_day"]
    if all_day:
        # FullCalendar's all-day end is exclusive: the day after the last day.
        last_day = ends.date() if ends else starts.date()
        start, end = starts.date().isoformat(), (last_day + timedelta(days=1)).isoformat()
        due = timezone.make_aware(datetime.combine(last_day + timedelta(days=1), time.min))
    else:
        start, end = starts.strftime(LOCAL_FORMAT), ends.strftime(LOCAL_FORMAT) if ends else None
        due = ends or starts
    planned = row["status"] == ActivityStatus.PLANNED
    classes = [f"fc-kind-{row['kind']}", f"fc-status-{row['status']}"]
    if planned and due < now:
        classes.append("fc-overdue")
    event = {
        "id": row["id"],
        "title": row["subject"],
        "start": start,
        "end": end,
        "allDay": all_day,
        "url": f"{url_prefix}{row['id']}/",
        "classNames": classes,
        "editable": planned,
        "durationEditable": planned and not all_day,
        "extendedProps": {"kind": row["kind"], "status": row["status"], "overdue": "fc-overdue" in classes},
    }
    if with_assignee:
        event["extendedProps"]["assignee"] = row["assignee__full_name"]
    return event


# FullCalendar's event objects built by PostgreSQL, the same as _event builds one in Python (the tests
# compare the two): a month of a busy user is ~1,300 events, and building, converting and encoding them
# in Python cost ~20 ms; as one JSON text from the database the request costs a few.
# Parameters: the time zone, now, the URL prefix; `rows` is the selected activities' SQL.
_EVENTS_JSON_SQL = """
SELECT COALESCE(json_agg(json_build_object(
    'id', e.id, 'title', e.subject, 'start', e.start_text, 'end', e.end_text, 'allDay', e.is_all_day,
    'url', e.prefix || e.id || '/',
    'classNames', CASE WHEN e.overdue
        THEN json_build_array('fc-kind-' || e.kind, 'fc-status-' || e.status, 'fc-overdue')
        ELSE json_build_array('fc-kind-' || e.kind, 'fc-status-' || e.status) END,
    'editable', e.planned, 'durationEditable', e.planned AND NOT e.is_all_day,
    'extendedProps', {props}
) ORDER BY e.starts_at, e.id), '[]')::text
FROM (
    SELECT d.*, d.status = 'planned' AND d.due < d.now AS overdue, d.status = 'planned' AS planned
    FROM (
        SELECT l.*,
            CASE WHEN l.is_all_day THEN to_char(l.local_start, 'YYYY-MM-DD')
                ELSE to_char(l.local_start, 'YYYY-MM-DD"T"HH24:MI:SS') END AS start_text,
            CASE WHEN l.is_all_day THEN to_char(COALESCE(l.local_end, l.local_start)::date + 1, 'YYYY-MM-DD')
                ELSE to_char(l.local_end, 'YYYY-MM-DD"T"HH24:MI:SS') END AS end_text,
            CASE WHEN l.is_all_day THEN (COALESCE(l.local_end, l.local_start)::date + 1)::timestamp AT TIME ZONE l.tz
                ELSE COALESCE(l.ends_at, l.starts_at) END AS due
        FROM (
            SELECT r.*, c.tz, c.now, c.prefix,
                r.starts_at AT TIME ZONE c.tz AS local_start, r.ends_at AT TIME ZONE c.tz AS local_end
            FROM (SELECT %s::text AS tz, %s::timestamptz AS now, %s::text AS prefix) c, ({rows}) r
        ) l
    ) d
) e
"""
_PROPS = "json_build_object('kind', e.kind, 'status', e.status, 'overdue', e.overdue{assignee})"
_ASSIGNEE = ", 'assignee', e.assignee__full_name"


def calendar_events_json(
    *, user: User, start: datetime, end: datetime, scope: CalendarScope = "mine", member: int | None = None
) -> str:
    """FullCalendar event objects for the range as a JSON array (text): one query, only the columns shown."""
    team = scope == "team" and can_see_team(user)
    activities = calendar_activities(user=user, start=start, end=end, scope=scope, member=member)
    fields = (*EVENT_FIELDS, "assignee__full_name") if team else EVENT_FIELDS
    rows, params = activities.values(*fields)[:MAX_EVENTS].query.sql_with_params()
    sql = _EVENTS_JSON_SQL.format(props=_PROPS.format(assignee=_ASSIGNEE if team else ""), rows=rows)
    with connection.cursor() as cursor:
        cursor.execute(sql, (timezone.get_current_timezone_name(), timezone.now(), activity_url_prefix(), *params))
        return cursor.fetchone()[0]


def calendar_event(*, user: User, activity: Activity) -> dict[str, Any]:
    """One activity as a FullCalendar event (after a move)."""
    row = {field: getattr(activity, field) for field in EVENT_FIELDS}
    return _event(row, now=timezone.now(), url_prefix=activity_url_prefix(), with_assignee=False)


def calendar_activity_get(*, user: User, pk: int) -> Activity:
    """Raises Http404 for an activity the user may not see."""
    return get_object_or_404(Activity.objects.visible_to(user), pk=pk)


def calendar_members(*, user: User) -> QuerySet[User]:
    """Whose calendar a manager (their teams) or a director (every team) may pick."""
    members = User.objects.filter(is_active=True, team__isnull=False).order_by("full_name", "pk")
    if user.scope == Scope.ALL:
        return members.only("pk", "full_name", "email")
    return members.filter(team__in=user.team_ids).only("pk", "full_name", "email")


# --- iCal feed --------------------------------------------------------------------------------------------


def calendar_feed_owner(*, token: str) -> User:
    """The active user whose secret feed token this is; raises Http404 for any other token.

    The lookup goes through the unique index; the constant-time comparison keeps the final check
    from leaking how much of a guessed token matched.
    """
    feed = CalendarFeed.objects.filter(token=token).select_related("user").first()
    if feed is None or not hmac.compare_digest(feed.token, token) or not feed.user.is_active:
        raise Http404
    return feed.user


def _ical_event(row: dict[str, Any], *, host: str, url: str) -> Event:
    event = Event()
    event.add("uid", f"activity-{row['id']}@{host}")
    event.add("dtstamp", row["updated_at"])
    event.add("last-modified", row["updated_at"])
    event.add("summary", row["subject"])
    if row["is_all_day"]:
        first = _local(row["starts_at"]).date()
        last = _local(row["ends_at"]).date() if row["ends_at"] else first
        event.add("dtstart", first)
        event.add("dtend", last + timedelta(days=1))
    else:
        event.add("dtstart", row["starts_at"].astimezone(UTC))
        ends = row["ends_at"] or (row["planned_duration"] and row["starts_at"] + row["planned_duration"])
        if ends:
            event.add("dtend", ends.astimezone(UTC))
    description = "\n\n".join(part for part in (row["company__name"], row["description"]) if part)
    if description:
        event.add("description", description)
    event.add("status", "CANCELLED" if row["status"] == ActivityStatus.CANCELLED else "CONFIRMED")
    event.add("categories", [row["kind"]])
    event.add("url", url)
    return event


def calendar_feed_ics(*, user: User, absolute_url: Any, now: datetime | None = None) -> bytes:
    """The user's activities from 30 days back to a year ahead (at most FEED_MAX_EVENTS) as iCalendar.

    `absolute_url` turns a path into a full URL (request.build_absolute_uri); UIDs stay the same for
    an activity however often the feed is read, so subscribed calendars update instead of duplicating.
    """
    now = now or timezone.now()
    rows: Iterable[dict[str, Any]] = (
        Activity.objects.visible_to(user)
        .filter(assignee=user, starts_at__gte=now - FEED_PAST, starts_at__lt=now + FEED_FUTURE)
        .order_by("starts_at", "id")
        .values(*EVENT_FIELDS, "description", "planned_duration", "updated_at", "company__name")[:FEED_MAX_EVENTS]
    )
    calendar = Calendar()
    calendar.add("prodid", "-//CRM//Activities//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", _("CRM: %(name)s") % {"name": user.get_full_name() or user.email})
    calendar.add("x-wr-timezone", timezone.get_default_timezone_name())
    prefix = absolute_url(activity_url_prefix())
    host = prefix.split("/")[2] if "://" in prefix else "crm"
    for row in rows:
        calendar.add_component(_ical_event(row, host=host, url=f"{prefix}{row['id']}/"))
    return calendar.to_ical()
