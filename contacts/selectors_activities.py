"""Reads of activities (issue 5): My day, assignments, the card's Activities tab, one activity and its changes.

Every list is bounded (LIMIT n + 1 tells whether there is more) and starts from
Activity.objects.visible_to(user); companies and people are preloaded, so templates run no queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, Q, QuerySet, Value
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import ngettext

from contacts.models import Activity, ActivityKind, ActivityStatus, AssignmentState, Company, Person, Priority
from contacts.selectors_birthdays import upcoming_birthdays
from contacts.selectors_card import decode_cursor
from crm.history import ChangeEntry, history_entries, latest_records, load_names
from crm.models import User
from crm.templatetags.crm_urls import pk_url

SECTION_SIZE = 10  # rows per My day section; the rest is counted ("and N more") and lives in the calendar
MORE_CAP = 1000  # "and 1000+ more": the overflow count reads at most this many index entries
WEEK_DAYS = 7
BIRTHDAY_LIMIT = 20  # a director sees every client: show the first ones of the week
TAB_SIZE = 20
ASSIGNMENT_LIST_SIZE = 50
CHANGES_LIMIT = 50

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # cursors as in selectors_card: microseconds since the epoch _ id
KIND_ICONS = {
    ActivityKind.CALL: "telephone",
    ActivityKind.MEETING: "people",
    ActivityKind.VISIT: "geo-alt",
    ActivityKind.EMAIL: "envelope",
    ActivityKind.TASK: "check2-square",
    ActivityKind.EVENT: "calendar-event",
    ActivityKind.ASSIGNMENT: "person-check",
}


def _base(user: User) -> QuerySet[Activity]:
    # Rows name the assignee or the creator when it is someone else: both joined, never a query per row.
    return Activity.objects.visible_to(user).select_related("company", "person", "assignee", "created_by")


# What a row (includes/activity_row.html) shows: lists load only these columns of the joined tables,
# which halves the time spent building model instances on My day.
ROW_FIELDS = (
    *("kind", "subject", "starts_at", "ends_at", "is_all_day", "priority", "status", "assignment_state"),
    *("response", "result", "company_id", "person_id", "assignee_id", "created_by_id"),
)
RELATED_FIELDS = {
    "company": ("company__name", "company__short_name"),
    "person": ("person__last_name", "person__first_name", "person__patronymic"),
    "assignee": ("assignee__full_name", "assignee__email"),
    "created_by": ("created_by__full_name", "created_by__email"),
}


def _rows(user: User, related: tuple[str, ...] = tuple(RELATED_FIELDS)) -> QuerySet[Activity]:
    """Rows for includes/activity_row.html as model instances, with the `related` objects the row names joined.

    A row names the assignee only when it is not the viewer, and the creator only when neither is the
    viewer: a list of the user's own activities needs no assignee.
    """
    fields = [*ROW_FIELDS, *(name for relation in related for name in RELATED_FIELDS[relation])]
    return Activity.objects.visible_to(user).select_related(*related).only(*fields)


@dataclass(slots=True)
class ActivityRow:
    """An activity as a list row shows it (includes/activity_row.html), built from one values_list() row.

    My day shows ~50 rows from six queries: plain rows instead of model instances (and their company,
    person and users) halve the selector's time. company, person, assignee and created_by are the names
    their models' __str__ would give; decorate() fills the rest.
    """

    pk: int
    kind: str
    subject: str
    starts_at: datetime
    ends_at: datetime | None
    is_all_day: bool
    priority: str
    status: str
    assignment_state: str
    response: str
    result: str
    company_id: int | None
    person_id: int | None
    assignee_id: int
    created_by_id: int
    company: str
    person: str
    assignee: str
    created_by: str
    icon: str = ""
    ref: str = ""
    kind_label: str = ""
    status_label: str = ""
    state_label: str = ""
    is_planned: bool = False
    is_cancelled: bool = False
    is_high_priority: bool = False
    is_pending_assignment: bool = False
    when_iso: str = ""
    when: str = ""
    url: str = ""
    company_url: str | None = None
    person_url: str | None = None
    complete_url: str = ""
    reschedule_url: str = ""
    snooze_url: str = ""
    cancel_url: str = ""
    accept_url: str | bool = False
    decline_url: str | bool = False

    @property
    def is_overdue(self) -> bool:
        """As Activity.is_overdue."""
        return self.status == ActivityStatus.PLANNED and (self.ends_at or self.starts_at) < timezone.now()


# The columns of an ActivityRow, in its order: the row's own, then the names of its company (Company.__str__),
# person (Person.__str__), assignee and creator (User.__str__).
ROW_VALUES = (
    *("pk", *ROW_FIELDS),
    *("company__short_name", "company__name", "person__last_name", "person__first_name", "person__patronymic"),
    *("assignee__full_name", "assignee__email", "created_by__full_name", "created_by__email"),
)
_OWN = len(ROW_VALUES) - 9


def _row(values: tuple[Any, ...]) -> ActivityRow:
    short_name, name, last, first, patronymic, assignee, assignee_email, creator, creator_email = values[_OWN:]
    person = " ".join(part for part in (last, first, patronymic) if part) if values[12] else ""
    return ActivityRow(
        *values[:_OWN],
        company=short_name or name or "",
        person=person,
        assignee=assignee or assignee_email,
        created_by=creator or creator_email,
    )


Row = TypeVar("Row", Activity, ActivityRow)


def _plain_rows(user: User) -> QuerySet[Activity]:
    """The user's visible activities as ROW_VALUES tuples (ActivityRow via _section)."""
    return Activity.objects.visible_to(user).values_list(*ROW_VALUES)


def activity_get(*, user: User, pk: int) -> Activity:
    """Raises Http404 for an activity the user may not see."""
    queryset = _base(user).select_related("assignee", "created_by", "team", "interaction", "series")
    return get_object_or_404(queryset, pk=pk)


def day_start(day: date) -> datetime:
    """Midnight of a Europe/Kyiv day (as an aware datetime)."""
    return datetime.combine(day, time.min, tzinfo=timezone.get_default_timezone())


MY_DAY_SECTIONS = ("overdue", "today", "week", "pending", "given")


def section_of(activity: Activity, user: User, now: datetime | None = None) -> str:
    """The My day section an activity belongs in for `user`: one of MY_DAY_SECTIONS, "later" or "closed"."""
    if activity.status != ActivityStatus.PLANNED:
        return "closed"
    if activity.assignee_id != user.pk:
        return "given" if activity.created_by_id == user.pk and activity.kind == ActivityKind.ASSIGNMENT else "later"
    if activity.kind == ActivityKind.ASSIGNMENT and activity.assignment_state == AssignmentState.PENDING:
        return "pending"
    today = timezone.localdate(now or timezone.now(), timezone.get_default_timezone())
    if activity.starts_at < day_start(today):
        return "overdue"
    if activity.starts_at < day_start(today + timedelta(days=1)):
        return "today"
    if activity.starts_at < day_start(today + timedelta(days=WEEK_DAYS + 1)):
        return "week"
    return "later"


@dataclass
class Section:
    rows: list[Activity] | list[ActivityRow]
    more: int = 0  # rows beyond the shown ones, capped at MORE_CAP
    more_capped: bool = False


def _section(
    queryset: QuerySet[Activity],
    size: int = SECTION_SIZE,
    count_more: bool = False,
    ids: QuerySet[Activity] | None = None,
) -> Section:
    """The first `size` rows (ActivityRow from a _plain_rows queryset, else instances), decorated.

    `ids`: the same rows in the same order as a plain `values("pk")` query, without the joined names. The
    first ids are picked by it in a subquery and the names joined for those only: for a section that often
    holds hundreds of rows (the next 7 days) the planner, misjudging how many, joins them all and sorts
    afterwards (~2.5 ms instead of ~0.5 ms at size L).
    """
    if ids is not None:
        queryset = queryset.filter(pk__in=ids[: size + 1])
    rows = list(queryset[: size + 1])
    shown = [_row(values) for values in rows[:size]] if rows and isinstance(rows[0], tuple) else rows[:size]
    section = Section(decorate(shown))
    if len(rows) > size:
        # Only when the section overflows: a COUNT over a LIMITed subquery, never over the whole table.
        more = queryset[size : size + MORE_CAP + 1].count() if count_more else 1
        section.more, section.more_capped = min(more, MORE_CAP), more > MORE_CAP
    return section


_STARTS_AT = ROW_VALUES.index("starts_at")


def _sections(parts: dict[str, tuple[QuerySet[Activity], bool]], size: int = SECTION_SIZE) -> dict[str, Section]:
    """Several sections in two queries: `parts` maps a name to (its activities in order, newest first?).

    The first `size` + 1 ids of every part, tagged with its name, UNION ALL: parts without joins plan and
    compile in a fraction of the time; then the rows of those ids with the names joined (ROW_VALUES).
    Overflowing parts get `more` = 1 (the caller counts where it shows the number).
    """
    tagged = [
        queryset.annotate(part=Value(name)).values_list("pk", "part")[: size + 1]
        for name, (queryset, _) in parts.items()
    ]
    picked = list(tagged[0].union(*tagged[1:], all=True))
    # The ids come from the parts, which apply visible_to.
    rows = {
        values[0]: values
        for values in Activity.objects.filter(pk__in={pk for pk, _ in picked}).values_list(*ROW_VALUES)
    }
    found: dict[str, list[tuple[Any, ...]]] = {name: [] for name in parts}
    for pk, name in picked:
        if pk in rows:  # not deleted in between
            found[name].append(rows[pk])
    sections = {}
    for name, (_queryset, newest) in parts.items():
        ordered = sorted(found[name], key=lambda values: (values[_STARTS_AT], values[0]), reverse=newest)
        sections[name] = section = Section(decorate([_row(values) for values in ordered[:size]]))
        section.more = 1 if len(ordered) > size else 0
    return sections


def birthday_person(person: Person, *, day: date) -> Person:
    """Set what a birthday item of My day (jinja2/contacts/birthday_item.html) shows: links and the age on `day`."""
    turns = day.year - person.birth_year if person.birth_year else None
    person.turns = turns  # type: ignore[attr-defined]
    person.turns_label = turns and ngettext("turns %(age)s", "turns %(age)s", turns) % {"age": turns}  # type: ignore[attr-defined]
    person.url = pk_url("contacts:person-detail", person.pk)  # type: ignore[attr-defined]
    person.congratulate_url = pk_url("contacts:person-congratulate", person.pk)  # type: ignore[attr-defined]
    return person


def decorate(rows: list[Row]) -> list[Row]:
    """Set what an activity row (jinja2/contacts/activity_row.html) shows besides the fields: icon, local
    time, labels, flags and links of the row.

    Computed here rather than in the template: My day shows ~50 rows with seven links each.
    """
    kinds, statuses = dict(ActivityKind.choices), dict(ActivityStatus.choices)
    states = dict(AssignmentState.choices)
    for row in rows:
        pk = row.pk
        row.kind_label = kinds.get(row.kind, row.kind)  # type: ignore[attr-defined]
        row.status_label = statuses.get(row.status, row.status)  # type: ignore[attr-defined]
        row.state_label = states.get(row.assignment_state, row.assignment_state)  # type: ignore[attr-defined]
        row.is_planned = row.status == ActivityStatus.PLANNED  # type: ignore[attr-defined]
        row.is_cancelled = row.status == ActivityStatus.CANCELLED  # type: ignore[attr-defined]
        row.is_high_priority = row.priority == Priority.HIGH  # type: ignore[attr-defined]
        row.is_pending_assignment = (  # type: ignore[attr-defined]
            row.kind == ActivityKind.ASSIGNMENT and row.assignment_state == AssignmentState.PENDING
        )
        local = timezone.localtime(row.starts_at)
        row.icon = KIND_ICONS.get(row.kind, "circle")  # type: ignore[attr-defined]
        row.ref = str(pk)  # {{ row.pk }} would localize the number, five times a row
        row.when_iso = local.isoformat()  # type: ignore[attr-defined]
        row.when = local.strftime("%d.%m.%Y" if row.is_all_day else "%d.%m.%Y %H:%M")  # type: ignore[attr-defined]
        row.url = pk_url("contacts:activity-detail", pk)  # type: ignore[attr-defined]
        row.company_url = row.company_id and pk_url("contacts:company-detail", row.company_id)  # type: ignore[attr-defined]
        row.person_url = row.person_id and pk_url("contacts:person-detail", row.person_id)  # type: ignore[attr-defined]
        is_assignment = row.kind == ActivityKind.ASSIGNMENT
        complete = "contacts:assignment-complete" if is_assignment else "contacts:activity-complete"
        row.complete_url = pk_url(complete, pk)  # type: ignore[attr-defined]
        row.reschedule_url = pk_url("contacts:activity-reschedule", pk)  # type: ignore[attr-defined]
        row.snooze_url = pk_url("contacts:activity-snooze", pk)  # type: ignore[attr-defined]
        row.cancel_url = pk_url("contacts:activity-cancel", pk)  # type: ignore[attr-defined]
        row.accept_url = is_assignment and pk_url("contacts:assignment-accept", pk)  # type: ignore[attr-defined]
        row.decline_url = is_assignment and pk_url("contacts:assignment-decline", pk)  # type: ignore[attr-defined]
    return rows


def pending_assignments(*, user: User, rows: QuerySet[Activity] | None = None) -> QuerySet[Activity]:
    """Assignments waiting for the user's answer, soonest first (contacts_act_pending_idx), from `rows`
    (the user's visible activities as _plain_rows by default)."""
    return (
        (_plain_rows(user) if rows is None else rows)
        .filter(assignee=user, kind=ActivityKind.ASSIGNMENT, status=ActivityStatus.PLANNED)
        .filter(assignment_state=AssignmentState.PENDING)
        .order_by("starts_at", "pk")
    )


def my_day(*, user: User, now: datetime | None = None) -> dict[str, Any]:
    """The user's day: overdue, today, the next 7 days, assignments to answer and given, birthdays.

    Open activities only; an assignment waiting for the user's answer shows among "assignments",
    not in the time sections. Each section is bounded; `more` counts the rest (capped).
    """
    now = now or timezone.now()
    today = timezone.localdate(now, timezone.get_default_timezone())
    start, tomorrow = day_start(today), day_start(today + timedelta(days=1))
    week_end = day_start(today + timedelta(days=WEEK_DAYS + 1))
    visible = Activity.objects.visible_to(user)  # built once: every section filters it
    mine = visible.filter(assignee=user, status=ActivityStatus.PLANNED).exclude(
        kind=ActivityKind.ASSIGNMENT, assignment_state=AssignmentState.PENDING
    )
    given = (
        visible.filter(created_by=user, kind=ActivityKind.ASSIGNMENT, status=ActivityStatus.PLANNED)
        .exclude(assignee=user)
        .order_by("starts_at", "pk")
    )
    overdue = mine.filter(starts_at__lt=start).order_by("-starts_at", "-pk")
    sections = _sections(
        {
            "overdue": (overdue, True),
            "today": (mine.filter(starts_at__gte=start, starts_at__lt=tomorrow).order_by("starts_at", "pk"), False),
            "week": (mine.filter(starts_at__gte=tomorrow, starts_at__lt=week_end).order_by("starts_at", "pk"), False),
            "pending": (pending_assignments(user=user, rows=visible), False),
            "given": (given, False),
        }
    )
    if sections["overdue"].more:
        # Only when it overflows: a COUNT over a LIMITed subquery, never over the whole table.
        more = overdue[SECTION_SIZE : SECTION_SIZE + MORE_CAP + 1].count()
        sections["overdue"].more, sections["overdue"].more_capped = min(more, MORE_CAP), more > MORE_CAP
    birthdays = upcoming_birthdays(user=user, start=today, days=WEEK_DAYS, limit=BIRTHDAY_LIMIT)
    for day, person in birthdays:
        birthday_person(person, day=day)
    return {
        "now": now,
        "today": today,
        "overdue": sections["overdue"],
        "today_rows": sections["today"],
        "week": sections["week"],
        "pending": sections["pending"],
        "given": sections["given"],
        "birthdays_today": [person for day, person in birthdays if day == today],
        "birthdays_week": [(day, person) for day, person in birthdays if day != today],
    }


@dataclass
class Assignments:
    incoming: Section
    outgoing: Section


def assignment_lists(*, user: User, state: str = "") -> Assignments:
    """Assignments given to the user and by the user, newest due first, optionally of one state."""
    queryset = _rows(user).filter(kind=ActivityKind.ASSIGNMENT).select_related("assignee", "created_by")
    if state in AssignmentState.values and state:
        queryset = queryset.filter(assignment_state=state)
    ordered = queryset.order_by("-starts_at", "-pk")
    return Assignments(
        incoming=_section(ordered.filter(assignee=user), ASSIGNMENT_LIST_SIZE),
        outgoing=_section(ordered.filter(created_by=user).exclude(assignee=user), ASSIGNMENT_LIST_SIZE),
    )


@dataclass
class ActivityTab:
    """The card's Activities tab: the open ones (soonest first) and a page of the rest (newest first)."""

    open: Section
    past: list[Activity]
    next_cursor: str = ""


def card_activities(
    *, user: User, company: Company | None = None, person: Person | None = None, before: str = ""
) -> ActivityTab:
    """Activities of a company or a person the user sees; `before` is the keyset cursor of the past page."""
    holder = Q(company=company) if company is not None else Q(person=person)
    queryset = _rows(user).filter(holder).select_related("assignee")
    open_section = (
        Section([])
        if before
        else _section(queryset.filter(status=ActivityStatus.PLANNED).order_by("starts_at", "pk"), TAB_SIZE)
    )
    past = queryset.exclude(status=ActivityStatus.PLANNED).order_by("-starts_at", "-pk")
    cursor = decode_cursor(before) if before else None
    if cursor is not None:
        moment, pk = cursor
        past = past.filter(Q(starts_at__lt=moment) | Q(starts_at=moment, pk__lt=pk))
    rows = list(past[: TAB_SIZE + 1])
    next_cursor = ""
    if len(rows) > TAB_SIZE:
        last = rows[TAB_SIZE - 1]
        next_cursor = f"{(last.starts_at - _EPOCH) // timedelta(microseconds=1)}_{last.pk}"
    return ActivityTab(open=open_section, past=decorate(rows[:TAB_SIZE]), next_cursor=next_cursor)


def person_options(*, user: User, company: Any) -> QuerySet[Person]:
    """People a person picker offers: the chosen company's (an id), or everyone the user sees."""
    people = Person.objects.visible_to(user).order_by("last_name", "first_name", "id")
    return people.filter(company=company) if str(company or "").isdigit() else people


def activity_prefill(*, user: User, company: str = "", person: str = "", kind: str = "") -> dict[str, Any]:
    """Initial values of a new activity from ?company=&person=&kind= (ids the user cannot see are dropped).

    The start is the next full hour; a person brings their company.
    """
    now = timezone.localtime(timezone.now(), timezone.get_default_timezone())
    initial: dict[str, Any] = {"starts_at": now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)}
    if kind in ActivityKind.values:
        initial["kind"] = kind
    if person.isdigit():
        found = Person.objects.visible_to(user).filter(pk=person).values_list("pk", "company_id").first()
        if found:
            initial["person"] = found[0]
            initial["company"] = found[1]
    if company.isdigit() and Company.objects.visible_to(user).filter(pk=company).exists():
        initial["company"] = int(company)
    return initial


def related_object(*, user: User, value: str) -> Model | None:
    """The deal, order or ticket named by ?related=<app_label>.<model>:<pk>, if the user can see it.

    contacts imports nothing above it: any model whose manager has `visible_to(user)` can be named.
    """
    label, _sep, pk = value.partition(":")
    app_label, _dot, model_name = label.partition(".")
    if not (pk.isdigit() and app_label and model_name):
        return None
    try:
        model = ContentType.objects.get_by_natural_key(app_label, model_name).model_class()
    except ContentType.DoesNotExist:
        return None
    visible_to = getattr(getattr(model, "objects", None), "visible_to", None)
    return visible_to(user).filter(pk=int(pk)).first() if visible_to else None


# --- changes -------------------------------------------------------------------------------------------

# Bookkeeping fields whose history is noise.
_NOT_SHOWN = {"id", "created_at", "updated_at", "series", "team", "overdue_notified_at", "content_type", "object_id"}
_FK_MODELS: dict[str, type] = {"assignee": User, "created_by": User, "company": Company, "person": Person}


def activity_changes(*, activity: Activity, limit: int = CHANGES_LIMIT) -> list[ChangeEntry]:
    """The latest changes of one activity (django-simple-history), newest first; who changed what from what."""
    records = latest_records(activity.history.all(), limit + 1)
    return history_entries(records, limit=limit, names=load_names(records, _FK_MODELS), hidden=_NOT_SHOWN)
