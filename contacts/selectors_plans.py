"""Work plans: actual values per user and period, "my plan", the team plan page and plan history (issue 5, item 9).

A period is a local (Europe/Kyiv) week from Monday or a calendar month, i.e. the half-open range
[start, end) of aware datetimes at local midnight. Actual values come from a constant number of
aggregate queries for all the users together, never one query per user:

- calls, meetings, visits: the user's interactions by channel, and hours: actual durations of the user's done
  activities completed in the period, both summed from the daily rollup PlanDay that database triggers keep
  (a month of a team's interactions is ~90,000 rows at size L); ranges that are not whole local days count
  the rows themselves (index-only on contacts_inter_user_idx and contacts_act_done_idx);
- new clients: companies created with the user as owner (contacts_co_owner_created_idx);
- won amount: the provider registered with `contacts.registry.register_plan_metric("won_amount", fn)`
  (the deals app); without one the actual value is None and shows as "—".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Count, DateField, QuerySet, Sum
from django.db.models.functions import Trunc
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, get_format, localize
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from contacts import registry
from contacts.models import (
    Activity,
    ActivityStatus,
    Company,
    Interaction,
    InteractionChannel,
    PlanDay,
    PlanPeriod,
    WorkPlan,
)
from crm.models import Role, Scope, Team, User

# Who may set plans (the service checks the team too): see plan_can_set.
PLAN_SETTERS = (Role.SALES_MANAGER, Role.DIRECTOR, Role.ADMINISTRATOR)
# A metric is "behind" when its share done lags the share of the period gone by more than this.
BEHIND_MARGIN = Decimal("0.10")
CALL_CHANNELS = (InteractionChannel.CALL_IN, InteractionChannel.CALL_OUT)
CHANNEL_METRIC = {
    InteractionChannel.CALL_IN: "calls",
    InteractionChannel.CALL_OUT: "calls",
    InteractionChannel.MEETING: "meetings",
    InteractionChannel.VISIT: "visits",
}


@dataclass(frozen=True)
class Metric:
    key: str
    label: str | Promise
    is_amount: bool = False


METRICS: tuple[Metric, ...] = (
    Metric("calls", _("Calls")),
    Metric("meetings", _("Meetings")),
    Metric("visits", _("Visits")),
    Metric("new_clients", _("New clients")),
    Metric("won_amount", _("Won deals, UAH"), is_amount=True),
    Metric("hours", _("Hours"), is_amount=True),
)


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


# --- Periods -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A week (from Monday) or a month (from the 1st) in local dates."""

    kind: str
    starts_on: date

    @classmethod
    def of(cls, kind: str, day: date) -> Period:
        """The period of `kind` that contains `day`."""
        if kind == PlanPeriod.WEEK:
            return cls(PlanPeriod.WEEK, day - timedelta(days=day.weekday()))
        return cls(PlanPeriod.MONTH, day.replace(day=1))

    @classmethod
    def current(cls, kind: str) -> Period:
        return cls.of(kind, timezone.localdate())

    @property
    def ends_on(self) -> date:
        """The first day after the period."""
        if self.kind == PlanPeriod.WEEK:
            return self.starts_on + timedelta(days=7)
        return self.starts_on + relativedelta(months=1)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.starts_on, time.min, tzinfo=_zone())

    @property
    def end(self) -> datetime:
        return datetime.combine(self.ends_on, time.min, tzinfo=_zone())

    def shift(self, count: int) -> Period:
        if self.kind == PlanPeriod.WEEK:
            return Period(self.kind, self.starts_on + timedelta(weeks=count))
        return Period(self.kind, self.starts_on + relativedelta(months=count))

    @property
    def label(self) -> str:
        if self.kind == PlanPeriod.MONTH:
            return date_format(self.starts_on, "F Y")
        last = self.ends_on - timedelta(days=1)
        return f"{date_format(self.starts_on, 'j E')} – {date_format(last, 'j E Y')}"

    def elapsed(self, now: datetime | None = None) -> Decimal:
        """The share of the period gone by: 0 before it starts, 1 after it ends."""
        now = now or timezone.now()
        if now <= self.start:
            return Decimal(0)
        if now >= self.end:
            return Decimal(1)
        return Decimal((now - self.start) / (self.end - self.start))


# --- Actual values -------------------------------------------------------------------------------------


@dataclass
class Actuals:
    calls: int = 0
    meetings: int = 0
    visits: int = 0
    new_clients: int = 0
    hours: Decimal = Decimal("0.0")
    # None: no provider is registered (the deals app is not installed), shown as "—".
    won_amount: Decimal | None = None


def _hours(duration: timedelta | None) -> Decimal:
    seconds = Decimal(duration.total_seconds()) if duration else Decimal(0)
    return (seconds / 3600).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _local_day(moment: datetime) -> date | None:
    """The local date of a local midnight (a period bound), else None."""
    local = moment.astimezone(_zone())
    return local.date() if local.time() == time.min else None


def _collect(
    user_ids: list[int], start: datetime, end: datetime, trunc: str | None
) -> dict[tuple[int, date | None], Actuals]:
    """Two aggregate queries for all users, grouped by user (and by local week or month with `trunc`).

    Calls, meetings, visits and hours come from the daily rollup (PlanDay) when the range is whole
    local days, as every period is; any other range counts the raw rows.
    """
    found: dict[tuple[int, date | None], Actuals] = {}
    kind = "week" if trunc == PlanPeriod.WEEK else "month"

    def bucket(qs: QuerySet, column: str, tzinfo: ZoneInfo | None = None) -> tuple[QuerySet, list[str]]:
        if trunc is None:
            return qs, []
        return qs.annotate(bucket=Trunc(column, kind, output_field=DateField(), tzinfo=tzinfo)), ["bucket"]

    def entry(user_id: int, row: dict) -> Actuals:
        return found.setdefault((user_id, row.get("bucket")), Actuals())

    first, last = _local_day(start), _local_day(end)
    if first is None or last is None:
        _collect_raw(user_ids, start, end, bucket, entry)
    else:
        days, extra = bucket(PlanDay.objects.filter(user_id__in=user_ids, day__gte=first, day__lt=last), "day")
        totals = {"n_calls": Sum("calls"), "n_meetings": Sum("meetings"), "n_visits": Sum("visits")}
        for row in days.values("user_id", *extra).annotate(**totals, spent=Sum("spent")).order_by():
            actual = entry(row["user_id"], row)
            actual.calls, actual.meetings, actual.visits = row["n_calls"], row["n_meetings"], row["n_visits"]
            actual.hours = _hours(row["spent"])

    companies = Company.objects.filter(owner_id__in=user_ids, created_at__gte=start, created_at__lt=end)
    companies, extra = bucket(companies, "created_at", _zone())
    for row in companies.values("owner_id", *extra).annotate(n=Count("*")).order_by():
        entry(row["owner_id"], row).new_clients = row["n"]
    return found


def _collect_raw(user_ids: list[int], start: datetime, end: datetime, bucket: Any, entry: Any) -> None:
    """Calls, meetings, visits and hours counted from the interactions and activities themselves."""
    interactions = Interaction.objects.filter(
        user_id__in=user_ids, occurred_at__gte=start, occurred_at__lt=end, channel__in=list(CHANNEL_METRIC)
    )
    interactions, extra = bucket(interactions, "occurred_at", _zone())
    for row in interactions.values("user_id", "channel", *extra).annotate(n=Count("*")).order_by():
        actual = entry(row["user_id"], row)
        key = CHANNEL_METRIC[row["channel"]]
        setattr(actual, key, getattr(actual, key) + row["n"])

    # status=DONE exactly as in the partial index contacts_act_done_idx.
    done = Activity.objects.filter(
        status=ActivityStatus.DONE, assignee_id__in=user_ids, completed_at__gte=start, completed_at__lt=end
    )
    done, extra = bucket(done, "completed_at", _zone())
    for row in done.values("assignee_id", *extra).annotate(spent=Sum("actual_duration")).order_by():
        entry(row["assignee_id"], row).hours = _hours(row["spent"])


# Calls, meetings, visits, hours (the daily rollup) and new clients of some users in whole local days, in
# one statement: two ORM aggregates cost ~2 ms of Python on the team page. Index scans per user:
# contacts_planday_one_per_day and contacts_co_owner_created_idx (index-only).
_DAYS_SQL = """
SELECT u.id, d.calls, d.meetings, d.visits, d.spent, c.n
FROM unnest(%(users)s::bigint[]) AS u(id)
CROSS JOIN LATERAL (
    SELECT SUM(calls) AS calls, SUM(meetings) AS meetings, SUM(visits) AS visits, SUM(spent) AS spent
    FROM contacts_planday WHERE user_id = u.id AND day >= %(first)s AND day < %(last)s
) AS d
CROSS JOIN LATERAL (
    SELECT COUNT(*) AS n FROM contacts_company
    WHERE owner_id = u.id AND created_at >= %(start)s AND created_at < %(end)s
) AS c
"""


def _collect_days(user_ids: list[int], start: datetime, end: datetime) -> dict[int, Actuals]:
    """As _collect(trunc=None) for a range of whole local days (every period), in one query."""
    params = {"users": user_ids, "first": _local_day(start), "last": _local_day(end), "start": start, "end": end}
    with connection.cursor() as cursor:
        cursor.execute(_DAYS_SQL, params)
        return {
            pk: Actuals(calls or 0, meetings or 0, visits or 0, new_clients, _hours(spent))
            for pk, calls, meetings, visits, spent, new_clients in cursor.fetchall()
        }


def plan_actuals(*, users: Sequence[User], start: datetime, end: datetime) -> dict[int, Actuals]:
    """Actual values of every user in [start, end): a constant number of queries for the whole list.

    The caller decides whose values may be shown (team_plans, my_plan); every user gets an entry.
    """
    users = list(users)
    ids = [u.pk for u in users]
    if _local_day(start) is not None and _local_day(end) is not None:
        found = _collect_days(ids, start, end)
    else:
        found = {pk: actual for (pk, _bucket), actual in _collect(ids, start, end, trunc=None).items()}
    won = registry.plan_metric("won_amount")
    amounts = won(users, start, end) if won is not None and users else None
    result = {}
    for user in users:
        actual = found.get(user.pk) or Actuals()
        if amounts is not None:
            actual.won_amount = Decimal(amounts.get(user.pk) or 0)
        result[user.pk] = actual
    return result


# --- Plan vs actual ------------------------------------------------------------------------------------


class NumberText:
    """Plan values as the active language writes them: amounts as `floatformat:"-2g"` (grouped, two decimals
    unless whole), counts as `{{ value }}`, None as "—".

    The separators are read once per page: Django's floatformat reads them on every call (~30 µs),
    and a team page shows hundreds of values.
    """

    def __init__(self) -> None:
        self.decimal = get_format("DECIMAL_SEPARATOR")
        self.thousand = get_format("THOUSAND_SEPARATOR")
        # Python's "," groups by threes; any other grouping takes Django's own (slow) path.
        self.fast = get_format("NUMBER_GROUPING") == 3

    def __call__(self, value: Decimal | int | None, *, is_amount: bool) -> str:
        if value is None:
            return "—"
        if not is_amount:
            return str(value) if not settings.USE_THOUSAND_SEPARATOR else str(localize(value))
        if not self.fast:
            return str(floatformat(value, "-2g"))
        number = Decimal(value)
        if number == int(number):
            text = f"{int(number):,}"
        else:
            text = f"{number.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f}"
        return text.replace(",", "\0").replace(".", self.decimal).replace("\0", self.thousand)


@dataclass(slots=True)  # not frozen: a team page builds hundreds, and frozen __init__ is several times slower
class MetricProgress:
    key: str
    label: str | Promise
    is_amount: bool
    plan: Decimal | int | None  # None: no plan for the period
    actual: Decimal | int | None  # None: not computed (no provider)
    percent: int | None  # of the plan done; None without a plan (or a zero target) or an actual value
    is_behind: bool
    plan_text: str = ""  # as shown (NumberText)
    actual_text: str = ""

    @property
    def bar_percent(self) -> int:
        return min(100, self.percent or 0)


@dataclass(slots=True)
class Targets:
    """A plan's target values (the METRICS fields of a WorkPlan), read without building the model instance."""

    calls: int
    meetings: int
    visits: int
    new_clients: int
    won_amount: Decimal
    hours: Decimal


@dataclass
class PlanProgress:
    user: User
    period: Period
    plan: WorkPlan | Targets | None  # Targets on the team page
    metrics: list[MetricProgress]
    elapsed_percent: int
    can_edit: bool = False
    history_url: str = ""  # the team page's links of the row
    edit_url: str = ""
    is_behind: bool = field(init=False)  # in some metric (the team table asks twice a row)
    has_plan: bool = field(init=False)

    def __post_init__(self) -> None:
        self.is_behind = any(metric.is_behind for metric in self.metrics)
        self.has_plan = self.plan is not None


# (key, label, is_amount) of every metric, unpacked once: a team page builds a row for each member.
_METRIC_FIELDS = tuple((metric.key, metric.label, metric.is_amount) for metric in METRICS)


def _progress(
    user: User, period: Period, plan: WorkPlan | Targets | None, actual: Actuals, elapsed: Decimal, text: NumberText
) -> PlanProgress:
    metrics = []
    threshold = elapsed - BEHIND_MARGIN
    for key, label, is_amount in _METRIC_FIELDS:
        target = getattr(plan, key) if plan is not None else None
        value = getattr(actual, key)
        percent = None
        behind = False
        if target and value is not None:
            share = Decimal(value) / Decimal(target)
            percent = int(share * 100)
            behind = share < threshold
        shown = text(target, is_amount=is_amount), text(value, is_amount=is_amount)
        metrics.append(MetricProgress(key, label, is_amount, target, value, percent, behind, *shown))
    return PlanProgress(user, period, plan, metrics, elapsed_percent=int(elapsed * 100))


def my_plan(*, user: User, period: str, starts_on: date) -> PlanProgress:
    """The user's own plan and actual values for the period that contains `starts_on`."""
    current = Period.of(period, starts_on)
    plan = WorkPlan.objects.visible_to(user).filter(user=user, period=current.kind, starts_on=current.starts_on).first()
    actual = plan_actuals(users=[user], start=current.start, end=current.end)[user.pk]
    return _progress(user, current, plan, actual, current.elapsed(), NumberText())


# --- Who sees and sets whose plans ---------------------------------------------------------------------


def plan_can_set(*, actor: User, user: User) -> bool:
    """Directors and administrators set anyone's plan; a sales manager the plans of their teams' members."""
    return _can_set_team(actor, user.team_id)


def _can_set_team(actor: User, team_id: int | None) -> bool:
    """plan_can_set for any member of the team `team_id` (it depends on the person's team only)."""
    if not actor.is_active or not actor.has_role(*PLAN_SETTERS):
        return False
    if actor.scope == Scope.ALL:
        return True
    return actor.has_role(Role.SALES_MANAGER) and team_id is not None and team_id in actor.team_ids


def plan_teams(viewer: User) -> QuerySet[Team]:
    """Teams whose plan page the viewer may open: a manager's own and managed teams, every team for directors."""
    if viewer.scope < Scope.TEAM:
        return Team.objects.none()
    return Team.objects.visible_to(viewer).order_by("name")


def plan_people(viewer: User) -> QuerySet[User]:
    """Active people whose plans the viewer may see: self; a manager's teams; everyone for directors."""
    people = User.objects.filter(is_active=True)
    if viewer.scope == Scope.ALL:
        return people
    if viewer.scope == Scope.TEAM:
        return people.filter(team__in=viewer.team_ids) | User.objects.filter(pk=viewer.pk)
    return people.filter(pk=viewer.pk)


def plan_settable_people(actor: User) -> QuerySet[User]:
    """The people whose plans the actor may set (the edit form's choices); none for representatives."""
    if not actor.has_role(*PLAN_SETTERS):
        return User.objects.none()
    people = User.objects.filter(is_active=True).select_related("team")
    if actor.scope == Scope.ALL:
        return people.order_by("full_name", "pk")
    return people.filter(team__in=actor.team_ids).order_by("full_name", "pk")


def plan_person_get(*, viewer: User, pk: int) -> User:
    """Raises Http404 for someone whose plans the viewer may not see."""
    return get_object_or_404(plan_people(viewer), pk=pk)


def plan_edit_initial(*, actor: User, user: int | None, period: Period) -> dict[str, object]:
    """Initial values of the plan form: the period, and the chosen person's current plan for it.

    Raises PermissionDenied for someone who sets no plans, or may not set this person's plan.
    """
    if not actor.has_role(*PLAN_SETTERS):
        raise PermissionDenied
    initial: dict[str, object] = {"period": period.kind, "starts_on": period.starts_on}
    if user is None:
        return initial
    person = plan_settable_people(actor).filter(pk=user).first()
    if person is None:
        raise PermissionDenied
    initial["user"] = person.pk
    plan = (
        WorkPlan.objects.visible_to(actor).filter(user=person, period=period.kind, starts_on=period.starts_on).first()
    )
    if plan is not None:
        initial.update({metric.key: getattr(plan, metric.key) for metric in METRICS})
    return initial


# --- The team page and the history ---------------------------------------------------------------------


@dataclass
class TeamPlans:
    teams: list[Team]
    team: Team | None
    period: Period
    rows: list[PlanProgress] = field(default_factory=list)
    metrics: tuple[Metric, ...] = METRICS

    @property
    def behind_count(self) -> int:
        return sum(1 for row in self.rows if row.is_behind)


def team_plans(*, viewer: User, period: str, starts_on: date, team: int | None = None) -> TeamPlans:
    """Plan vs actual of every active member of one team, for the period that contains `starts_on`.

    Raises PermissionDenied for a representative (own plan only) and Http404 for a team the viewer
    may not open. A constant number of queries, whatever the team's size.
    """
    if viewer.scope < Scope.TEAM:
        raise PermissionDenied
    current = Period.of(period, starts_on)
    teams = list(plan_teams(viewer))
    if team is not None:
        chosen = next((t for t in teams if t.pk == team), None)
        if chosen is None:
            raise Http404
    else:
        chosen = next((t for t in teams if t.pk == viewer.team_id), teams[0] if teams else None)
    result = TeamPlans(teams=teams, team=chosen, period=current)
    if chosen is None:
        return result
    # The row shows the name (User.__str__); plan_can_set reads the team.
    people = User.objects.filter(team=chosen, is_active=True)
    members = list(people.only("pk", "full_name", "email", "team_id", "is_active").order_by("full_name", "pk"))
    # The members as a subquery in the plan query: cheaper to build and send than 70 ids.
    among = people.values("pk")
    keys = [metric.key for metric in METRICS]
    plans = {
        values[0]: Targets(*values[1:])
        for values in WorkPlan.objects.visible_to(viewer)
        .filter(user_id__in=among, period=current.kind, starts_on=current.starts_on)
        .values_list("user_id", *keys)
    }
    actuals = plan_actuals(users=members, start=current.start, end=current.end)
    elapsed, text = current.elapsed(), NumberText()
    history_url, edit_url = reverse("contacts:plan-history"), reverse("contacts:plan-edit")
    kind, starts_on = current.kind, current.starts_on.isoformat()
    can_edit = _can_set_team(viewer, chosen.pk)  # every member is in the chosen team
    for member in members:
        row = _progress(member, current, plans.get(member.pk), actuals[member.pk], elapsed, text)
        row.can_edit = can_edit
        row.history_url = f"{history_url}?user={member.pk}&period={kind}"
        row.edit_url = f"{edit_url}?user={member.pk}&period={kind}&starts_on={starts_on}"
        result.rows.append(row)
    return result


def plan_history(*, user: User, period: str, limit: int = 12) -> list[PlanProgress]:
    """The user's past `limit` periods before the current one, newest first, plan vs actual.

    The caller has checked that the viewer may see `user` (plan_person_get). Actual values come
    from the same two grouped queries for all periods; a registered won-amount provider is
    called once per period.
    """
    current = Period.current(period)
    periods = [current.shift(-n) for n in range(1, limit + 1)]
    oldest = periods[-1]
    plans = {
        plan.starts_on: plan
        for plan in WorkPlan.objects.filter(
            user=user, period=current.kind, starts_on__in=[p.starts_on for p in periods]
        )
    }
    found = _collect([user.pk], oldest.start, current.start, trunc=current.kind)
    won = registry.plan_metric("won_amount")
    now, text = timezone.now(), NumberText()
    rows = []
    for p in periods:
        actual = found.get((user.pk, p.starts_on), Actuals())
        if won is not None:
            actual.won_amount = Decimal(won([user], p.start, p.end).get(user.pk) or 0)
        rows.append(_progress(user, p, plans.get(p.starts_on), actual, p.elapsed(now), text))
    return rows


def periods_around(period: Period) -> dict[str, Period]:
    """The previous and next periods and the current one, for navigation links."""
    return {"previous": period.shift(-1), "next": period.shift(1), "current": Period.current(period.kind)}
