"""Core demo data: teams, one user per role (the printed demo logins), more staff, notifications."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.utils import timezone

from crm.models import Role, Team, User
from crm.seeding import DEMO_PASSWORD, SeedContext

# (e-mail, full name, role, team key); printed by the launcher as the demo logins.
DEMO_USERS = [
    ("admin@example.com", "Олена Адміністраторка", Role.ADMINISTRATOR, None),
    ("director@example.com", "Василь Директор", Role.DIRECTOR, None),
    ("manager@example.com", "Марія Менеджерка", Role.SALES_MANAGER, "kyiv"),
    ("sales@example.com", "Андрій Продавець", Role.SALES_REP, "kyiv"),
    ("sales2@example.com", "Ірина Продавчиня", Role.SALES_REP, "kyiv"),
    ("marketing@example.com", "Оксана Маркетологиня", Role.MARKETING, None),
    ("service@example.com", "Петро Сервісний", Role.SERVICE_AGENT, None),
    ("procurement@example.com", "Тарас Закупівельник", Role.PROCUREMENT, None),
]
TEAMS = {"kyiv": "Продажі — Київ", "lviv": "Продажі — Львів", "dnipro": "Продажі — Дніпро"}


def seed(ctx: SeedContext) -> None:
    teams = {key: Team.objects.create(name=name) for key, name in TEAMS.items()}
    groups = {role: Group.objects.get_or_create(name=role)[0] for role in Role.values}
    password = make_password(DEMO_PASSWORD)  # hashed once: hashing per user takes ~0.3 s each

    users: list[User] = []
    for email, name, role, team_key in DEMO_USERS:
        user = User.objects.create(
            email=email,
            full_name=name,
            password=password,
            team=teams.get(team_key),
            is_staff=role == Role.ADMINISTRATOR,
            is_superuser=role == Role.ADMINISTRATOR,
        )
        user.groups.add(groups[role])
        users.append(user)
    teams["kyiv"].manager = users[2]
    teams["kyiv"].save(update_fields=["manager"])
    # The service desk's team (service.seed adds its manager and agents): the agent is in it from the
    # start, so the activities and clients seeded for them carry that team.
    service_team = Team.objects.create(name=settings.SERVICE_TEAM)
    User.objects.filter(email="service@example.com").update(team=service_team)
    for user in users:
        if user.email == "service@example.com":
            user.team = service_team

    # More representatives, with a manager for each other team.
    for key in ("lviv", "dnipro"):
        manager = _staff_user(ctx, password, teams[key], f"manager.{key}@example.com")
        manager.groups.add(groups[Role.SALES_MANAGER])
        teams[key].manager = manager
        teams[key].save(update_fields=["manager"])
        users.append(manager)
    team_list = list(teams.values())
    for i in range(ctx.pick(6, 50, 200)):
        rep = _staff_user(ctx, password, team_list[i % len(team_list)], f"rep{i + 1}@example.com")
        rep.groups.add(groups[Role.SALES_REP])
        users.append(rep)

    ctx.shared["users"] = users
    ctx.shared["teams"] = team_list
    _seed_notifications(ctx, users)


def _staff_user(ctx: SeedContext, password: str, team: Team, email: str) -> User:
    return User.objects.create(email=email, full_name=ctx.faker.name(), password=password, team=team)


def _seed_notifications(ctx: SeedContext, users: list[User]) -> None:
    total = ctx.pick(200, 200_000, 1_000_000)
    now = timezone.now()
    # Demo users get a tenth of them each so their bells and lists are full; the rest spread out.
    demo_ids = [u.pk for u in users[: len(DEMO_USERS)]]
    all_ids = [u.pk for u in users]
    titles = ["Нове призначення", "Нагадування про дзвінок", "День народження клієнта", "Зміна статусу замовлення"]

    def rows():
        rng = ctx.rng
        for i in range(total):
            created = now - timedelta(minutes=total - i)
            recipient = rng.choice(demo_ids) if i % 10 == 0 else rng.choice(all_ids)
            read_at = created + timedelta(minutes=5) if i < total - 30 else None
            yield (recipient, "system", rng.choice(titles), "", "", created, created, read_at)

    ctx.copy_rows(
        "crm_notification",
        ["recipient_id", "kind", "title", "body", "url", "created_at", "updated_at", "read_at"],
        rows(),
        total,
    )
