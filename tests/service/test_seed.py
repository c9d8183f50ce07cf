"""Service demo data (issue 7, item 12): `seed_demo --size S` gives the service desk a team, tickets with their
threads and timelines, a searchable knowledge base and report rollups."""

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, F, Q
from django.test import Client
from django.utils import timezone

from bench import pages
from crm.models import Role, Team, User
from crm.seeding import DEMO_PASSWORD
from service import seed as service_seed
from service.models import (
    ACTIVE_STATUSES,
    DONE_STATUSES,
    OPEN_STATUSES,
    ArticleUse,
    KnowledgeArticle,
    MessageKind,
    ServiceDailyRollup,
    Ticket,
    TicketMessage,
    TicketNumber,
    TicketStatus,
)
from service.selectors_kb import article_search
from service.services import TRANSITIONS, due_times, sla_policy_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded():
    call_command("seed_demo", size="S", no_progress=True)


def test_seed_makes_the_service_team_its_manager_and_agent(seeded):
    team = Team.objects.get(name=settings.SERVICE_TEAM)
    manager = User.objects.get(email=service_seed.SERVICE_MANAGER[0])
    agent = User.objects.get(email=service_seed.SERVICE_AGENT_EMAIL)

    assert team.manager == manager
    assert manager.full_name == service_seed.SERVICE_MANAGER[1]
    assert manager.check_password(DEMO_PASSWORD)
    assert set(manager.roles) == {Role.SERVICE_AGENT}  # manages the team; no sales plan of its own
    assert agent.team == team
    assert manager.team == team
    assert team.pk in manager.team_ids


def test_seeded_tickets_have_threads_timelines_and_deadlines(seeded):
    agent = User.objects.get(email=service_seed.SERVICE_AGENT_EMAIL)
    tickets = Ticket.objects.all()
    assert tickets.count() == len(service_seed.CURATED) + len(service_seed.CURATED_LONG)
    # The agent's queue: every ticket of the service team (one long thread is the sales team's).
    assert Ticket.objects.visible_to(agent).count() == tickets.filter(team=agent.team).count() == tickets.count() - 1
    mine = tickets.filter(assignee=agent)
    assert mine.count() >= 25
    assert mine.filter(status__in=OPEN_STATUSES).count() >= 8
    assert set(tickets.values_list("status", flat=True)) == set(TicketStatus.values)
    assert tickets.filter(team__name=settings.SERVICE_TEAM, assignee__isnull=True, status=TicketStatus.NEW).exists()
    assert tickets.filter(company__isnull=True, needs_qualification=True).count() == 1
    assert not tickets.filter(company__isnull=False, needs_qualification=True).exists()
    assert tickets.filter(order__isnull=False).count() >= 15
    assert tickets.filter(product__isnull=False).count() >= 10
    assert tickets.filter(person__isnull=False).exclude(person__company=F("company")).count() == 0
    assert not tickets.filter(order__isnull=False).exclude(order__company=F("company")).exists()

    # Ratings on resolved tickets only; one reopened ticket without one.
    rated = tickets.filter(csat_rating__isnull=False)
    assert rated.count() >= 8
    assert not rated.exclude(status__in=DONE_STATUSES).exists()
    assert set(rated.values_list("csat_rating", flat=True)) >= {1, 2, 5}
    assert tickets.filter(status=TicketStatus.REOPENED, reopen_count=1, resolved_at__isnull=True).exists()
    assert not tickets.filter(status__in=DONE_STATUSES, resolved_at__isnull=True).exists()
    assert not tickets.filter(status=TicketStatus.CLOSED, closed_at__isnull=True).exists()
    assert not tickets.filter(status=TicketStatus.WAITING, sla_paused_at__isnull=True).exists()

    # Numbers S-YYYY-NNNNNN per Kyiv year in creation order, ids too; the counter holds the last.
    by_year = defaultdict(list)
    for number, created in tickets.order_by("pk").values_list("number", "created_at"):
        _s, year, sequence = number.split("-")
        assert int(year) == timezone.localdate(created).year, number
        by_year[int(year)].append(int(sequence))
    for year, sequences in by_year.items():
        assert sequences == list(range(1, len(sequences) + 1)), year
    assert dict(TicketNumber.objects.values_list("year", "last")) == {y: len(s) for y, s in by_year.items()}
    created = list(tickets.order_by("pk").values_list("created_at", flat=True))
    assert created == sorted(created)

    # 1–6 messages, 50 on the long threads; replies by the assignee, the client's mail with a Message-ID.
    counts = dict(tickets.annotate(n=Count("messages")).values_list("number", "n"))
    assert sorted(counts.values())[-2:] == [service_seed.LONG_THREAD] * 2
    assert min(counts.values()) >= 1
    messages = TicketMessage.objects.all()
    assert set(messages.values_list("kind", flat=True)) == set(MessageKind.values)
    assert not messages.filter(kind=MessageKind.REPLY).exclude(author=F("ticket__assignee")).exists()
    assert not messages.exclude(kind=MessageKind.INBOUND).filter(author__isnull=True).exists()
    assert messages.filter(kind=MessageKind.INBOUND, ticket__channel="email").exclude(message_id="").exists()
    assert not messages.filter(Q(body_text="") | Q(body_html="")).exists()
    assert not messages.filter(body_text__contains="{").exists()
    assert not Ticket.objects.filter(Q(subject__contains="{") | Q(description__contains="{")).exists()
    assert not messages.filter(created_at__lt=F("ticket__created_at")).exists()
    assert not messages.filter(created_at__gt=timezone.now()).exists()

    for ticket in tickets.select_related("sla_policy").prefetch_related("status_changes"):
        changes = sorted(ticket.status_changes.all(), key=lambda c: (c.changed_at, c.pk))
        # The timeline: created first, every move allowed by the services, the last one into the status.
        assert changes[0].from_status == "", ticket.number
        assert changes[0].changed_at == ticket.created_at
        for change in changes[1:]:
            assert change.to_status in TRANSITIONS[change.from_status] | {TicketStatus.OPEN}, ticket.number
        assert changes[-1].to_status == ticket.status, ticket.number
        # Deadlines are the SLA function's; time spent waiting moves the resolution deadline on.
        due = due_times(policy=ticket.sla_policy, priority=ticket.priority, opened_at=ticket.created_at)
        assert ticket.first_response_due_at == due.first_response, ticket.number
        waited = any(c.to_status == TicketStatus.WAITING for c in changes[:-1]) or ticket.status == "waiting"
        if not waited:
            assert ticket.resolution_due_at == due.resolution, ticket.number
        else:
            assert ticket.resolution_due_at >= due.resolution, ticket.number
        assert ticket.sla_policy == sla_policy_for(contract=ticket.contract, company=ticket.company), ticket.number


def test_seeded_queue_has_tickets_breaching_soon_and_breached(seeded):
    now = timezone.now()
    active = Ticket.objects.filter(status__in=ACTIVE_STATUSES)
    soon = active.filter(resolution_due_at__gt=now, resolution_due_at__lte=now + timedelta(hours=1))
    assert soon.count() >= 1
    breached = active.filter(resolution_due_at__lt=now)
    assert breached.count() >= 3
    assert breached.filter(escalated_at__isnull=False).exists()
    assert Ticket.objects.filter(first_response_breached=True).exists()
    assert Ticket.objects.filter(status__in=DONE_STATUSES, resolution_breached=False).count() >= 10


def test_seeded_knowledge_base_is_searchable_and_counts_solutions(seeded):
    articles = KnowledgeArticle.objects.all()
    assert articles.count() == len(service_seed.ARTICLES)
    assert not articles.filter(search_vector__isnull=True).exists()
    assert articles.filter(is_public=True).exists()
    assert articles.filter(is_public=False).exists()
    assert not articles.filter(Q(title_en="") | Q(problem_en="") | Q(solution_en="")).exists()
    assert articles.filter(products__isnull=False).exists()
    assert not articles.filter(category__isnull=True).exists()
    # solved_count is the number of "this solved it" rows.
    uses = dict(ArticleUse.objects.values("article").annotate(n=Count("id")).values_list("article", "n"))
    assert uses
    assert dict(articles.filter(solved_count__gt=0).values_list("pk", "solved_count")) == uses
    assert not ArticleUse.objects.exclude(ticket__status__in=DONE_STATUSES).exists()

    agent = User.objects.get(email=service_seed.SERVICE_AGENT_EMAIL)
    hits = article_search(user=agent, query="принтер")
    assert len(hits) >= 3


def test_seeded_rollups_cover_the_history(seeded):
    rollups = ServiceDailyRollup.objects.all()
    assert rollups.exists()
    first = timezone.localdate(Ticket.objects.order_by("created_at").first().created_at)
    assert rollups.order_by("day").first().day == first
    totals = {name: sum(rollups.values_list(name, flat=True)) for name in ("created", "resolved", "csat_count")}
    assert totals["created"] == Ticket.objects.count()
    assert totals["resolved"] == Ticket.objects.filter(status__in=DONE_STATUSES).count()
    assert totals["csat_count"] == Ticket.objects.filter(csat_rating__isnull=False).count()


def test_bench_service_pages_answer_as_the_bench_requests_them(seeded):
    manager = User.objects.get(email=pages.BENCH_USER)
    service_pages = {page.name: page for page in pages.PAGES if page.name.startswith("service-")}
    assert set(service_pages) == {"service-queue-team", "service-queue-soon", "service-ticket-card",
                                  "service-kb-search", "service-reports"}  # fmt: skip
    card = service_pages["service-ticket-card"].path(manager)
    pk = int(card.rstrip("/").rsplit("/", 1)[1])
    assert Ticket.objects.visible_to(manager).filter(pk=pk).exists()
    assert TicketMessage.objects.filter(ticket_id=pk).count() == service_seed.LONG_THREAD
    for name, page in service_pages.items():
        path = page.path(manager) if callable(page.path) else page.path
        browser = Client()
        if page.headers:
            cookie_name, session_key = page.headers(manager)["Cookie"].split("=", 1)
            browser.cookies[cookie_name] = session_key
        else:
            browser.force_login(manager)
        response = browser.get(path)
        assert response.status_code == 200, (name, path)
        assert response.wsgi_request.user.is_authenticated, name


def test_seed_is_deterministic():
    """Two seeds at the same time make the same rows ("now" of the open tickets is the minute of the seeding)."""

    def snapshot() -> list:
        tickets = Ticket.objects.order_by("pk").values_list(
            "number", "subject", "status", "priority", "company__name", "created_at", "resolution_due_at"
        )
        messages = TicketMessage.objects.order_by("ticket__number", "created_at", "pk").values_list("kind", "body_text")
        return [*tickets, *messages]

    start = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=True):
        call_command("seed_demo", size="S", no_progress=True)
    first = snapshot()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "TRUNCATE crm_user, crm_team, contacts_industry, deals_product, deals_category, deals_customergroup, "
            "deals_loyaltyrule, service_knowledgearticle, service_ticketnumber CASCADE"
        )
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    with time_machine.travel(start, tick=True):
        call_command("seed_demo", size="S", no_progress=True)
    assert snapshot() == first
