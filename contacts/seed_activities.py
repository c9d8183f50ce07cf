"""Activities demo data (issue 5, item 12): activities, assignments, reminders and work plans.

Called at the end of contacts.seed.seed(). Sizes (activities): S 2,400 / M 200,000 / L 2,000,000,
eight per company like the companies of contacts.seed (300 / 25k / 250k). They are spread over
the past six months and the next two among the seeded staff (representatives most, managers less,
other roles a few of their own tasks), on weekdays in working hours, with their own clients:

- the demo sales representative (sales@example.com) gets 10,000 at M and L (1,000 at S): the
  bench's "My day of a user with 10,000 activities";
- past activities are mostly done (completed_at, actual_duration, a result) or cancelled; some are
  left planned, i.e. overdue, most of them in the last two weeks;
- assignments go from the team's manager (or the director) to the team's people, in every state
  (pending, accepted, declined, done); hand-made ones between the demo logins show each state;
- reminders (one or two per open activity from two days ago on; those due before now are marked
  sent, so a fresh worker does not send thousands of "late" reminders): several are due in the next
  hour for the demo logins;
- work plans (monthly, the current and the last three months, for every sales representative and
  manager; weekly for the demo logins), set near each person's actual results so some are behind.

Rows are generated like contacts.seed's (a seeded rng, time text from `_Clock`, ids reserved up
front, COPY, indexes and foreign keys dropped around the load at M and L); reminders are derived
from the loaded activities with one INSERT … SELECT. Dates are relative to now, so "overdue",
"today" and "due in the next hour" hold right after seeding. No history rows, as in contacts.seed.

Measured on this machine (2 cores, shared with other test runs, load average 3–9): S 0.1 s; M 3–8 s
of a 21–45 s `seed_demo --size M`; L 31–49 s for the 2M activities and 0.5M reminders (timed on top
of an M database, rolled back).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.utils import timezone

from contacts import seed as contacts_seed
from contacts.models import (
    ActivityKind,
    ActivityStatus,
    AssignmentState,
    PlanPeriod,
    Priority,
    Recurrence,
    WorkPlan,
)
from contacts.seed import DEMO_REP_EMAIL, _bulk_load, _Clock, _reserve_ids, _weighted_table
from contacts.selectors_plans import Period, plan_actuals
from crm.models import Role, User
from crm.seeding import SeedContext

TABLES = ("contacts_activity", "contacts_reminder")
PAST_DAYS, FUTURE_DAYS = 182, 61
DAY = 86400

# (kind, weight, subjects, planned minutes, has an end, results)
KINDS: list[tuple[str, int, tuple[str, ...], tuple[int, ...], bool, tuple[str, ...]]] = [
    (ActivityKind.CALL, 40, ("Дзвінок: уточнити потребу клієнта", "Зателефонувати щодо оплати рахунку",
     "Дзвінок щодо продовження договору", "Узгодити дату поставки", "Нагадати про акт звірки",
     "Розповісти про нову продукцію", "Дізнатися відгук про останню поставку"), (5, 10, 15, 20, 30), False,
     ("Домовились про зустріч", "Клієнт думає, передзвонити за тиждень", "Замовлення підтверджено",
      "Не додзвонився, надіслав повідомлення", "Оплата буде до п'ятниці")),
    (ActivityKind.MEETING, 12, ("Зустріч щодо річного контракту", "Переговори про умови оплати",
     "Презентація нової лінійки продукції", "Зустріч з директором клієнта", "Обговорення плану поставок на квартал"),
     (30, 60, 90, 120), True, ("Погодили умови", "Потрібна ще одна зустріч", "Клієнт підписав договір",
                               "Передали зразки на тестування")),
    (ActivityKind.VISIT, 8, ("Візит до клієнта: огляд складу", "Візит: навчання персоналу клієнта",
     "Виїзд на об'єкт клієнта", "Візит з каталогом новинок"), (60, 90, 120, 180), True,
     ("Склад оглянули, потрібне обладнання", "Персонал навчено", "Узгодили нове замовлення")),
    (ActivityKind.EMAIL, 15, ("Надіслати комерційну пропозицію", "Надіслати рахунок на оплату",
     "Надіслати договір на підпис", "Відповісти на запит ціни", "Надіслати оновлений прайс-лист"), (10, 15), False,
     ("Надіслано", "Надіслано, клієнт підтвердив отримання")),
    (ActivityKind.TASK, 18, ("Підготувати комерційну пропозицію", "Оновити дані клієнта", "Підготувати акт звірки",
     "Перевірити дебіторську заборгованість", "Підготувати звіт для керівника", "Зібрати документи для тендеру"),
     (15, 30, 60, 120, 240), False, ("Виконано", "Зроблено, файл у спільній папці")),
    (ActivityKind.EVENT, 3, ("Галузева виставка", "Вебінар для клієнтів", "Навчання з продукту",
     "Семінар для дилерів"), (60, 120, 240, 480), True, ("",)),
    (ActivityKind.ASSIGNMENT, 4, ("Підготувати пропозицію для ключового клієнта", "Перевірити замовлення клієнта",
     "Зв'язатися з новим лідом", "Оновити прайс для дилерів", "Провести зустріч замість мене",
     "Зібрати відгуки клієнтів"), (30, 60, 120, 240), False, ("Зроблено, деталі в коментарі", "Виконано")),
]  # fmt: skip
DESCRIPTIONS = ["", "", "", "", "", "", "Взяти з собою каталог і зразки.", "Клієнт просив зателефонувати після обіду.",
                "Підготувати розрахунок знижки.", "Див. останній лист клієнта."]  # fmt: skip
DECLINE_REASONS = ("Немає часу цього тижня", "Це клієнт іншої команди", "Потрібно більше інформації")
PRIORITIES = [(Priority.NORMAL, 75), (Priority.HIGH, 15), (Priority.LOW, 10)]
# Shares of past activities left open (overdue) and cancelled, in the last two weeks and before.
OVERDUE_RECENT, OVERDUE_OLD, CANCELLED_PAST, CANCELLED_FUTURE = 0.12, 0.015, 0.06, 0.04

COLUMNS = [
    "id", "created_at", "updated_at", "kind", "subject", "description", "starts_at", "ends_at", "is_all_day",
    "priority", "planned_duration", "actual_duration", "company_id", "person_id", "assignee_id", "created_by_id",
    "team_id", "status", "completed_at", "result", "assignment_state", "response", "overdue_notified_at",
    "recurrence", "recurrence_until", "series_id",
]  # fmt: skip


def _interval(minutes: int) -> str:
    return str(timedelta(minutes=minutes))


@dataclass
class _Staff:
    """One seeded user who gets activities: how many, with whose clients, assigned by whom."""

    pk: int
    team_id: int | None
    assigner_id: int  # the team's manager, or the director for managers and people without a team
    companies: array  # indices of the companies they own
    count: int = 0


def seed(ctx: SeedContext) -> None:
    now = timezone.now()
    clock = _Clock(now.replace(hour=0, minute=0, second=0, microsecond=0))
    now_sec = int((now - clock.anchor).total_seconds())
    total = ctx.pick(2_400, 200_000, 2_000_000)
    staff, demo = _staff(ctx, total)
    first_id = _reserve_ids("contacts_activity", total)
    special = _special_rows(ctx, demo, now, first_id)
    bulk = total - len(special)
    staff[demo["sales"]].count = ctx.pick(1_000, 10_000, 10_000)
    _share(list(staff.values()), bulk, fixed=demo["sales"])

    with _bulk_load(TABLES, enabled=ctx.size in contacts_seed.BULK_LOAD_SIZES):
        rows = _bulk_rows(ctx, clock, now_sec, staff, first_id + len(special))
        ctx.copy_rows("contacts_activity", COLUMNS, _chain(special, rows), total)
        _seed_reminders(now, first_id, total)
    _seed_plans(ctx, now, demo)
    ctx.shared.update(activity_ids=range(first_id, first_id + total))


def _chain(first: list[tuple], rest: Iterator[tuple]) -> Iterator[tuple]:
    yield from first
    yield from rest


def _staff(ctx: SeedContext, total: int) -> tuple[dict[int, _Staff], dict[str, int]]:
    """Who gets activities, by role: representatives a full share, managers 60%, other roles 20%."""
    users: list[User] = ctx.shared["users"]
    ids = [u.pk for u in users]
    roles: dict[int, set[str]] = {}
    for pk, role in User.objects.filter(pk__in=ids).values_list("pk", "groups__name"):
        roles.setdefault(pk, set()).add(role)
    by_email = {u.email: u.pk for u in users}
    demo = {
        "sales": by_email[DEMO_REP_EMAIL],
        "sales2": by_email["sales2@example.com"],
        "manager": by_email["manager@example.com"],
        "director": by_email["director@example.com"],
        "admin": by_email["admin@example.com"],
    }
    managers = {t.pk: t.manager_id for t in ctx.shared["teams"]}
    owned: dict[int, array] = {pk: array("l") for pk in ids}
    for index, owner_id in enumerate(ctx.shared["company_owner_ids"]):
        owned[owner_id].append(index)
    staff = {}
    for user in users:
        assigner = managers.get(user.team_id) or demo["director"]
        if assigner == user.pk:
            assigner = demo["director"] if user.pk != demo["director"] else demo["admin"]
        staff[user.pk] = _Staff(user.pk, user.team_id, assigner, owned[user.pk])
        staff[user.pk].count = (
            10 if Role.SALES_REP in roles[user.pk] else 6 if Role.SALES_MANAGER in roles[user.pk] else 2
        )
    return staff, demo


def _share(staff: list[_Staff], total: int, *, fixed: int) -> None:
    """Split `total` by the weights held in `count` (the fixed user keeps theirs) so that it adds up."""
    rest = total - next(s.count for s in staff if s.pk == fixed)
    weighted = [s for s in staff if s.pk != fixed]
    weights = sum(s.count for s in weighted)
    given = 0
    for i, s in enumerate(weighted):
        share = rest - given if i == len(weighted) - 1 else rest * s.count // weights
        s.count, given = share, given + share


def _bulk_rows(
    ctx: SeedContext, clock: _Clock, now_sec: int, staff: dict[int, _Staff], first_id: int
) -> Iterator[tuple]:
    rng = ctx.rng
    random_ = rng.random
    kinds = _weighted_table([(k, k[1]) for k in KINDS])
    n_kinds = len(kinds)
    priorities = _weighted_table(PRIORITIES, size=100)
    n_priorities, n_descriptions = len(priorities), len(DESCRIPTIONS)
    # Weekdays five times as likely as weekends; days relative to the anchor (today 00:00 UTC).
    anchor_weekday = clock.anchor.weekday()
    days = [d for d in range(-PAST_DAYS, FUTURE_DAYS) for _ in range(5 if (anchor_weekday + d) % 7 < 5 else 1)]
    n_days = len(days)
    zone = ZoneInfo(settings.TIME_ZONE)
    local_midnight = {
        d: datetime.combine(clock.anchor.date() + timedelta(days=d), time.min, zone).isoformat(sep=" ")
        for d in range(-PAST_DAYS, FUTURE_DAYS)
    }
    planned_text = {k[0]: [(m * 60, _interval(m)) for m in k[3]] for k in KINDS}
    # Actual durations: 60%–150% of the planned one.
    actual_text = {k[0]: [_interval(max(1, m * p // 10)) for m in k[3] for p in range(6, 16)] for k in KINDS}
    first_person = ctx.shared["company_first_person_id"]
    people_count = ctx.shared["company_people_count"]
    first_company = ctx.shared["company_ids"][0]
    ago = clock.ago
    done, planned, cancelled = ActivityStatus.DONE, ActivityStatus.PLANNED, ActivityStatus.CANCELLED
    assignment, event = ActivityKind.ASSIGNMENT, ActivityKind.EVENT

    # One slot per activity naming its assignee, shuffled: the rows of one user lie all over the table
    # as in real use (loaded user by user, the heap would be clustered by assignee and flatter the bench).
    members = list(staff.values())
    slots = array("l")
    for index, member in enumerate(members):
        slots.extend(array("l", [index]) * member.count)
    rng.shuffle(slots)

    pk = first_id
    for index in slots:
        member = members[index]
        companies = member.companies
        n_companies = len(companies)
        user_id, team_id = member.pk, member.team_id
        kind, _w, subjects, _minutes, has_end, results = kinds[int(random_() * n_kinds)]
        d = days[int(random_() * n_days)]
        seconds, duration = planned_text[kind][int(random_() * len(planned_text[kind]))]
        all_day = kind == event and random_() < 0.4
        # 08:00–17:45 Kyiv time in winter (an hour earlier in summer), on the quarter hour.
        start = d * DAY + 21600 + int(random_() * 40) * 900
        due = start + seconds if has_end else start
        if due < now_sec:
            roll = random_()
            overdue = OVERDUE_RECENT if now_sec - due < 14 * DAY else OVERDUE_OLD
            status = planned if roll < overdue else cancelled if roll < overdue + CANCELLED_PAST else done
        else:
            status = cancelled if random_() < CANCELLED_FUTURE else planned
        created = min(start, now_sec) - int(random_() * 10 * DAY)
        company = person = None
        if n_companies and random_() < (0.9 if kind not in (ActivityKind.TASK, event) else 0.4):
            c = companies[int(random_() * n_companies)]
            company = first_company + c
            if random_() < 0.6:
                person = first_person[c] + int(random_() * people_count[c])
        completed = actual = None
        result = response = ""
        updated = created
        if status == done:
            completed_sec = min(due + int(random_() * 10800), now_sec)
            completed, updated = ago(-completed_sec), completed_sec
            actual = actual_text[kind][int(random_() * len(actual_text[kind]))]
            result = results[int(random_() * len(results))]
        creator, state, notified = user_id, "", None
        if kind == assignment:
            creator = member.assigner_id
            if status == done:
                state, response = AssignmentState.DONE, result
            elif status == cancelled:
                state, response = AssignmentState.DECLINED, DECLINE_REASONS[int(random_() * 3)]
            else:
                state = AssignmentState.PENDING if random_() < 0.5 else AssignmentState.ACCEPTED
                # Older overdue assignments were announced already: the overdue task tells only new ones.
                if now_sec - due > DAY:
                    notified = ago(-(due + 3600))
        if all_day:
            starts_at, ends_at, duration = local_midnight[d], None, None
        else:
            starts_at = ago(-start)
            ends_at = ago(-(start + seconds)) if has_end else None
        yield (
            pk, ago(-created), ago(-updated), kind, subjects[int(random_() * len(subjects))],
            DESCRIPTIONS[int(random_() * n_descriptions)], starts_at, ends_at, all_day,
            priorities[int(random_() * n_priorities)], duration, actual, company, person, user_id, creator,
            team_id, status, completed, result, state, response, notified, "", None, None,
        )  # fmt: skip
        pk += 1


def _special_rows(ctx: SeedContext, demo: dict[str, int], now: datetime, first_id: int) -> list[tuple]:
    """Hand-made rows for the demo logins: reminders due within the hour, assignments in every state,
    overdue work, and a weekly team meeting (a recurring series)."""
    users = {u.pk: u for u in ctx.shared["users"]}
    client_id = ctx.shared["demo_client_id"]
    client_person = ctx.shared["company_first_person_id"][0]
    minute = now.replace(second=0, microsecond=0)
    rows: list[tuple] = []

    def add(
        kind: str,
        subject: str,
        assignee: str,
        start: datetime,
        minutes: int,
        *,
        creator: str | None = None,
        status: str = ActivityStatus.PLANNED,
        state: str = "",
        response: str = "",
        result: str = "",
        company: bool = True,
        series: tuple[int, date] | None = None,
    ) -> int:
        pk = first_id + len(rows)
        user = users[demo[assignee]]
        end = start + timedelta(minutes=minutes) if kind in (ActivityKind.MEETING, ActivityKind.VISIT) else None
        done = status == ActivityStatus.DONE
        completed = (end or start) + timedelta(minutes=5) if done else None
        created = min(start, now) - timedelta(days=2)
        state = state or (AssignmentState.PENDING if kind == ActivityKind.ASSIGNMENT else "")
        company = company and assignee in ("sales", "manager")  # the demo client is theirs (and their team's)
        rows.append((
            pk, created, completed or created, kind, subject, "", start, end, False, Priority.NORMAL,
            timedelta(minutes=minutes), timedelta(minutes=minutes) if done else None,
            client_id if company else None, client_person if company else None, user.pk,
            demo[creator or assignee], user.team_id, status, completed, result, state, response, None,
            Recurrence.WEEKLY if series else "", series[1] if series else None, series[0] if series else None,
        ))  # fmt: skip
        return pk

    # Due within the hour: a 10-minute reminder (see _seed_reminders) fires in the next hour.
    add(ActivityKind.CALL, "Дзвінок: підтвердити замовлення", "sales", minute + timedelta(minutes=25), 15)
    add(ActivityKind.MEETING, "Зустріч з клієнтом щодо нового договору", "sales", minute + timedelta(minutes=50), 60)
    add(ActivityKind.CALL, "Дзвінок щодо оплати рахунку", "sales2", minute + timedelta(minutes=35), 10)
    add(ActivityKind.MEETING, "Нарада з відділом закупівель клієнта", "manager", minute + timedelta(minutes=45), 60)
    # Overdue work of the demo representative.
    add(ActivityKind.CALL, "Передзвонити клієнту щодо знижки", "sales", minute - timedelta(days=1, hours=2), 15)
    add(ActivityKind.TASK, "Підготувати акт звірки", "sales", minute - timedelta(days=3), 60, company=False)
    # Assignments in every state, between the demo logins.
    day, hour = timedelta(days=1), timedelta(hours=1)
    assign = {"creator": "manager", "company": True}
    add(ActivityKind.ASSIGNMENT, "Підготувати пропозицію для ключового клієнта", "sales", minute + 3 * day, 120,
        **assign)  # fmt: skip
    add(ActivityKind.ASSIGNMENT, "Провести презентацію замість мене", "sales", minute + day, 60,
        state=AssignmentState.ACCEPTED, **assign)  # fmt: skip
    add(ActivityKind.ASSIGNMENT, "Зібрати відгуки клієнтів", "sales", minute - 2 * day, 60,
        status=ActivityStatus.CANCELLED, state=AssignmentState.DECLINED, response="Немає часу цього тижня",
        **assign)  # fmt: skip
    add(ActivityKind.ASSIGNMENT, "Перевірити замовлення клієнта", "sales", minute - 5 * day, 30,
        status=ActivityStatus.DONE, state=AssignmentState.DONE, result="Перевірено, все гаразд", **assign)  # fmt: skip
    add(ActivityKind.ASSIGNMENT, "Оновити контакти клієнта", "sales", minute - 30 * hour, 30, **assign)  # overdue, new
    add(ActivityKind.ASSIGNMENT, "Зв'язатися з новим лідом", "sales2", minute + 2 * day, 30, **assign)
    add(ActivityKind.ASSIGNMENT, "Оновити прайс для дилерів", "sales2", minute + 4 * day, 60,
        state=AssignmentState.ACCEPTED, **assign)  # fmt: skip
    add(ActivityKind.ASSIGNMENT, "Підготувати звіт за місяць", "sales2", minute - 4 * day, 60,
        status=ActivityStatus.DONE, state=AssignmentState.DONE, result="Звіт надіслано", **assign)  # fmt: skip
    add(ActivityKind.ASSIGNMENT, "Підмінити на зустрічі з клієнтом", "sales2", minute + 2 * day, 60, creator="sales")
    add(ActivityKind.ASSIGNMENT, "Підготувати план продажів на квартал", "manager", minute + 6 * day, 240,
        creator="director", state=AssignmentState.ACCEPTED, company=False)  # fmt: skip

    # A weekly team meeting on Mondays at 09:30 Kyiv time, for each of the demo team, as a series.
    zone = ZoneInfo(settings.TIME_ZONE)
    today = timezone.localdate(now)
    monday = today - timedelta(days=today.weekday() + 7 * (PAST_DAYS // 7))
    mondays = [monday + timedelta(weeks=n) for n in range((PAST_DAYS + FUTURE_DAYS) // 7)]
    for who in ("manager", "sales", "sales2"):
        first = first_id + len(rows)
        for day_ in mondays:
            start = datetime.combine(day_, time(9, 30), zone)
            status = ActivityStatus.DONE if start < now - timedelta(hours=1) else ActivityStatus.PLANNED
            result = "Обговорили план тижня" if status == ActivityStatus.DONE else ""
            add(ActivityKind.MEETING, "Планерка відділу продажів", who, start, 30, creator="manager", status=status,
                company=False, series=(first, mondays[-1]), result=result)  # fmt: skip
    return rows


def _seed_reminders(now: datetime, first_id: int, total: int) -> None:
    """Reminders of open (and recently done) activities from two days ago on, derived in SQL.

    Three in four such activities get one (10 minutes before a call or a meeting, an hour before a
    visit or a task, a day before an event), one in five a second one a day before; every activity
    starting in the next two hours gets the 10-minute one (the demo "due in the next hour"). Those
    already due are marked sent at their time.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO contacts_reminder (created_at, updated_at, activity_id, "offset", remind_at, sent_at, is_late)
            SELECT a.created_at, a.created_at, a.id, r.offset, a.starts_at - r.offset,
                   CASE WHEN a.starts_at - r.offset <= %(now)s THEN a.starts_at - r.offset END, false
            FROM contacts_activity a
            CROSS JOIN LATERAL (
                SELECT CASE WHEN a.starts_at < %(now)s + interval '2 hours' THEN interval '10 minutes'
                            WHEN a.kind IN ('call', 'meeting', 'email') THEN interval '10 minutes'
                            WHEN a.kind = 'event' THEN interval '1 day'
                            ELSE interval '1 hour' END AS offset
                WHERE a.id %% 4 <> 0 OR a.starts_at < %(now)s + interval '2 hours'
                UNION ALL
                SELECT interval '1 day' WHERE a.id %% 5 = 0 AND a.kind <> 'event'
            ) r
            WHERE a.id BETWEEN %(first)s AND %(last)s AND NOT a.is_all_day
              AND a.starts_at >= %(now)s - interval '2 days' AND a.status <> 'cancelled'
              AND (a.status = 'planned' OR a.starts_at - r.offset <= %(now)s)
            """,
            {"now": now, "first": first_id, "last": first_id + total - 1},
        )
        cursor.execute("ANALYZE contacts_reminder")


def _seed_plans(ctx: SeedContext, now: datetime, demo: dict[str, int]) -> None:
    """Monthly plans of every sales representative and manager for this month and the three before,
    weekly ones of the demo team; targets near each person's actual results (some are behind)."""
    rng = ctx.rng
    users: list[User] = ctx.shared["users"]
    sales = set(
        User.objects.filter(pk__in=[u.pk for u in users], groups__name__in=[Role.SALES_REP, Role.SALES_MANAGER])
        .values_list("pk", flat=True)
    )  # fmt: skip
    people = [u for u in users if u.pk in sales]
    setter = {t.pk: t.manager_id for t in ctx.shared["teams"]}
    today = timezone.localdate(now)
    plans: list[WorkPlan] = []

    def add(period: Period, basis: Period, share: Decimal, members: list[User]) -> None:
        actuals = plan_actuals(users=members, start=basis.start, end=basis.end)
        for user in members:
            actual = actuals[user.pk]
            factor = Decimal(rng.randrange(80, 131)) / 100 * share

            def target(value: int, factor: Decimal = factor) -> int:
                return max(1, round(value * factor))

            plans.append(
                WorkPlan(
                    user=user, team_id=user.team_id, period=period.kind, starts_on=period.starts_on,
                    calls=target(actual.calls), meetings=target(actual.meetings), visits=target(actual.visits),
                    new_clients=target(actual.new_clients), hours=Decimal(target(int(actual.hours))),
                    won_amount=Decimal(rng.randrange(10, 200) * 10_000) * share,
                    created_by_id=setter.get(user.team_id) if setter.get(user.team_id) != user.pk else demo["director"],
                )
            )  # fmt: skip

    month = Period.of(PlanPeriod.MONTH, today)
    # The current month's targets follow last month's results; past months their own.
    add(month, month.shift(-1), Decimal(1), people)
    for n in range(1, 4):
        add(month.shift(-n), month.shift(-n), Decimal(1), people)
    team = [u for u in people if u.pk in (demo["manager"], demo["sales"], demo["sales2"])]
    week = Period.of(PlanPeriod.WEEK, today)
    for n in range(5):
        add(week.shift(-n), month.shift(-1), Decimal("0.25"), team)
    WorkPlan.objects.bulk_create(plans)
