"""The calendar: FullCalendar page, its JSON events, drag-and-drop rescheduling and the iCal feed."""

from __future__ import annotations

from typing import Any

from csp.decorators import csp_update
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, re_path, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from contacts import selectors_calendar, services_activities, services_calendar
from contacts.models import Activity, ActivityKind, CalendarFeed

# FullCalendar puts its CSS into an empty <style> element through the CSSOM, and its CSS embeds its
# icon font as a data: URL. Only on the calendar page: the hash (of the empty string) allows that
# empty element and never inline CSS text; a data: font cannot run anything.
FULLCALENDAR_CSP = {
    "style-src": ["'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"],
    "font-src": ["data:"],
}


def _json_error(error: ValidationError | str, status: int = 400) -> JsonResponse:
    if isinstance(error, str):
        return JsonResponse({"error": error}, status=status)
    errors = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
    first = next(iter(errors.values()))[0]
    return JsonResponse({"error": first, "errors": errors}, status=status)


def _feed_context(request: HttpRequest, feed: CalendarFeed) -> dict[str, Any]:
    url = request.build_absolute_uri(reverse("contacts:calendar-feed", args=[feed.token]))
    return {"feed": feed, "feed_url": url, "webcal_url": "webcal://" + url.split("://", 1)[1]}


@login_required
@require_GET
@csp_update(FULLCALENDAR_CSP)
def calendar(request: HttpRequest) -> HttpResponse:
    feed = services_calendar.calendar_feed_get_or_create(user=request.user)
    team = selectors_calendar.can_see_team(request.user)
    context = {
        "can_see_team": team,
        "members": selectors_calendar.calendar_members(user=request.user) if team else [],
        "kinds": ActivityKind.choices,
        "overdue_label": _("Overdue"),
        "time_zone": timezone.get_current_timezone_name(),
        **_feed_context(request, feed),
    }
    return render(request, "contacts/calendar.html", context)


@login_required
@require_GET
@never_cache
def calendar_events(request: HttpRequest) -> JsonResponse:
    """FullCalendar's event feed: ?start=&end=&scope=mine|team&user=<id>; bad input → 400 with a message."""
    scope, member = request.GET.get("scope", "mine"), request.GET.get("user", "")
    try:
        start, end = selectors_calendar.parse_range(request.GET.get("start"), request.GET.get("end"))
        if scope not in ("mine", "team") or not (member == "" or (member.isdigit() and len(member) < 19)):
            raise ValidationError({"scope": _("Choose your own calendar or the team's.")})
    except ValidationError as error:
        return _json_error(error)
    events = selectors_calendar.calendar_events_json(
        user=request.user, start=start, end=end, scope=scope, member=int(member) if member else None
    )
    return HttpResponse(events, content_type="application/json")


@login_required
@require_POST
def calendar_move(request: HttpRequest, pk: int) -> JsonResponse:
    """Drag or resize: new start (and, for a resize, end); 404 unseen, 403 not allowed, 400 invalid."""
    activity = selectors_calendar.calendar_activity_get(user=request.user, pk=pk)
    try:
        starts_at, ends_at = _moved_times(activity, request.POST.get("start"), request.POST.get("end"))
        activity = services_activities.activity_reschedule(
            activity=activity, actor=request.user, starts_at=starts_at, ends_at=ends_at
        )
    except PermissionDenied:
        return _json_error(_("You may not reschedule this activity."), status=403)
    except ValidationError as error:
        return _json_error(error)
    return JsonResponse(selectors_calendar.calendar_event(user=request.user, activity=activity))


def _moved_times(activity: Activity, start: str | None, end: str | None) -> tuple[Any, Any]:
    """A date alone (an all-day event dropped on a day) keeps the activity's time of day."""
    starts_at, date_only = selectors_calendar.parse_moment(start, field="start")
    if date_only:
        starts_at = selectors_calendar.on_day(activity.starts_at, starts_at.date())
    ends_at = selectors_calendar.parse_moment(end, field="end")[0] if end else None
    if ends_at is not None and activity.is_all_day:
        ends_at = None  # all-day events are not resized (durationEditable is off): keep the length
    return starts_at, ends_at


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The secret iCal feed (no login: calendar apps cannot sign in); a wrong or old token → 404."""
    user = selectors_calendar.calendar_feed_owner(token=token)
    with translation.override(user.language):
        body = selectors_calendar.calendar_feed_ics(user=user, absolute_url=request.build_absolute_uri)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="crm.ics"'
    return response


@login_required
@require_POST
@vary_on_headers("HX-Request")
def calendar_feed_regenerate(request: HttpRequest) -> HttpResponse:
    feed = services_calendar.calendar_feed_regenerate(user=request.user)
    message = _("A new feed address is ready; the old one no longer works.")
    if getattr(request, "htmx", False):
        context = {**_feed_context(request, feed), "feed_message": message}
        return render(request, "contacts/calendar.html#calendar-feed", context)
    messages.success(request, message)
    return redirect("contacts:calendar")


urlpatterns = [
    path("calendar/", calendar, name="calendar"),
    path("calendar/events/", calendar_events, name="calendar-events"),
    path("calendar/events/<int:pk>/move/", calendar_move, name="calendar-move"),
    path("calendar/feed/regenerate/", calendar_feed_regenerate, name="calendar-feed-regenerate"),
    re_path(r"^calendar/feed/(?P<token>[A-Za-z0-9_-]{1,64})\.ics$", calendar_feed, name="calendar-feed"),
]
