"""Ticket rules: numbers, SLA deadlines and pause, status moves, replies, notes, rating, escalation."""

from datetime import datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from crm.models import Notification
from deals.models import ServiceLevel
from service import services
from service.models import (
    Escalation,
    MessageKind,
    SlaPolicy,
    Ticket,
    TicketPriority,
    TicketStatus,
)
from service.sla import KYIV
from tests.contacts.factories import CompanyFactory, PersonFactory
from tests.deals.factories_orders import ContractFactory
from tests.service.factories import ArticleFactory, TicketFactory

pytestmark = pytest.mark.django_db


def kyiv(*args: int) -> datetime:
    return datetime(*args, tzinfo=KYIV)


def test_ticket_numbers_run_per_year(agent):
    company = CompanyFactory()
    first = services.ticket_create(actor=agent, subject="Перший", company=company, now=kyiv(2026, 12, 30, 10))
    second = services.ticket_create(actor=agent, subject="Другий", company=company, now=kyiv(2026, 12, 31, 10))
    third = services.ticket_create(actor=agent, subject="Третій", company=company, now=kyiv(2027, 1, 4, 10))
    assert (first.number, second.number, third.number) == ("S-2026-000001", "S-2026-000002", "S-2027-000001")
    assert first.team.name == "Сервіс"
    assert first.status == TicketStatus.NEW
    assert list(first.status_changes.values_list("to_status", flat=True)) == [TicketStatus.NEW]


def test_ticket_deadlines_follow_the_default_policy_in_business_hours(agent):
    # Standard (default) policy, normal priority: first answer in 4 h, resolution in 24 business hours.
    ticket = services.ticket_create(
        actor=agent, subject="Не прийшла накладна", company=CompanyFactory(), now=kyiv(2026, 12, 11, 17, 59)
    )
    assert ticket.sla_policy.is_default
    assert ticket.first_response_due_at == kyiv(2026, 12, 14, 12, 59)
    # 1,440 minutes: 1 on Friday, 540 on Monday and on Tuesday, 359 on Wednesday.
    assert ticket.resolution_due_at == kyiv(2026, 12, 16, 14, 59)


def test_ticket_under_a_premium_contract_runs_around_the_clock(agent):
    contract = ContractFactory(service_level=ServiceLevel.PREMIUM)
    ticket = services.ticket_create(
        actor=agent,
        subject="Аварія",
        company=contract.company,
        priority=TicketPriority.URGENT,
        now=kyiv(2026, 12, 12, 23, 0),
    )
    assert ticket.sla_policy == SlaPolicy.objects.get(service_level=ServiceLevel.PREMIUM)
    assert ticket.contract is None  # the company's active contract chose the policy
    assert ticket.first_response_due_at == kyiv(2026, 12, 12, 23, 15)


def test_ticket_create_refuses_bad_links_and_empty_subject(agent):
    company = CompanyFactory()
    with pytest.raises(ValidationError) as error:
        services.ticket_create(actor=agent, subject="  ", company=company)
    assert "subject" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.ticket_create(actor=agent, subject="X", company=company, person=PersonFactory())
    assert "person" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.ticket_create(actor=agent, subject="X", company=company, contract=ContractFactory())
    assert "contract" in error.value.message_dict
    assert not Ticket.objects.exists()


def test_sales_rep_cannot_open_or_change_tickets(owner, agent):
    with pytest.raises(PermissionDenied):
        services.ticket_create(actor=owner, subject="X", company=CompanyFactory(owner=owner))
    ticket = services.ticket_create(actor=agent, subject="X", company=CompanyFactory(owner=owner))
    with pytest.raises(PermissionDenied):
        services.ticket_set_status(ticket=ticket, status=TicketStatus.RESOLVED, actor=owner)


def test_agent_of_another_team_cannot_change_the_ticket(agent, other_agent):
    ticket = services.ticket_create(actor=agent, subject="X", company=CompanyFactory())
    with pytest.raises(PermissionDenied):
        services.ticket_note(ticket=ticket, actor=other_agent, body_html="<p>x</p>")


def test_waiting_for_the_client_stops_the_clock(agent):
    ticket = services.ticket_create(actor=agent, subject="X", company=CompanyFactory(), now=kyiv(2026, 12, 7, 9, 0))
    due = ticket.resolution_due_at
    services.ticket_set_status(ticket=ticket, status=TicketStatus.WAITING, actor=agent, now=kyiv(2026, 12, 7, 10, 0))
    # Waiting from Monday 10:00 to Tuesday 11:00: 10 business hours.
    services.ticket_set_status(ticket=ticket, status=TicketStatus.OPEN, actor=agent, now=kyiv(2026, 12, 8, 11, 0))
    ticket.refresh_from_db()
    assert ticket.sla_paused_at is None
    assert due == kyiv(2026, 12, 9, 15, 0)
    assert ticket.resolution_due_at == kyiv(2026, 12, 10, 16, 0)
    timeline = list(ticket.status_changes.order_by("changed_at").values_list("to_status", flat=True))
    assert timeline == [TicketStatus.NEW, TicketStatus.WAITING, TicketStatus.OPEN]


def test_priority_change_recomputes_deadlines_from_the_opening(agent):
    ticket = services.ticket_create(actor=agent, subject="X", company=CompanyFactory(), now=kyiv(2026, 12, 7, 9, 0))
    services.ticket_update(ticket=ticket, actor=agent, priority=TicketPriority.URGENT)
    ticket.refresh_from_db()
    assert ticket.first_response_due_at == kyiv(2026, 12, 7, 9, 30)
    assert ticket.resolution_due_at == kyiv(2026, 12, 7, 13, 0)


def test_status_moves_outside_the_rules_are_refused(agent):
    ticket = services.ticket_create(actor=agent, subject="X", company=CompanyFactory())
    services.ticket_set_status(ticket=ticket, status=TicketStatus.CLOSED, actor=agent)
    with pytest.raises(ValidationError) as error:
        services.ticket_set_status(ticket=ticket, status=TicketStatus.WAITING, actor=agent)
    assert "status" in error.value.message_dict


def test_reply_is_the_first_answer_and_waits_for_the_client(agent, django_capture_on_commit_callbacks):
    ticket = services.ticket_create(actor=agent, subject="X", company=CompanyFactory(), now=kyiv(2026, 12, 7, 9, 0))
    with django_capture_on_commit_callbacks() as callbacks:
        message = services.ticket_reply(
            ticket=ticket,
            actor=agent,
            body_html='<p onclick="x()">Спробуйте <b>ще раз</b><script>alert(1)</script></p>',
            now=kyiv(2026, 12, 7, 14, 0),
        )
    ticket.refresh_from_db()
    assert message.kind == MessageKind.REPLY
    assert message.body_html == "<p>Спробуйте <b>ще раз</b></p>"
    assert message.body_text == "Спробуйте ще раз"
    assert ticket.first_responded_at == kyiv(2026, 12, 7, 14, 0)
    assert ticket.first_response_breached  # due at 13:00
    assert ticket.status == TicketStatus.WAITING
    assert ticket.assignee == agent
    assert len(callbacks) == 1  # the e-mail task, after commit
    # The reply is in the client's history, linked to the ticket.
    interaction = ticket.company.interactions.get()
    assert interaction.subject_object == ticket
    assert interaction.channel == "email_out"


def test_empty_reply_and_bad_attachment_save_nothing(agent):
    ticket = services.ticket_create(actor=agent, subject="X", company=CompanyFactory())
    with pytest.raises(ValidationError) as error:
        services.ticket_reply(ticket=ticket, actor=agent, body_html="<p> <script>x</script></p>")
    assert "body" in error.value.message_dict
    exe = SimpleUploadedFile("invoice.pdf", b"MZ\x90\x00binary", content_type="application/pdf")
    with pytest.raises(ValidationError) as error:
        services.ticket_reply(ticket=ticket, actor=agent, body_html="<p>Дивіться</p>", attachments=[exe])
    assert "attachments" in error.value.message_dict
    assert not ticket.messages.exists()
    ticket.refresh_from_db()
    assert ticket.first_responded_at is None


def test_note_is_internal(agent):
    ticket = services.ticket_create(actor=agent, subject="X", company=CompanyFactory())
    note = services.ticket_note(ticket=ticket, actor=agent, body_html="<p>Клієнт дзвонив</p>")
    assert note.kind == MessageKind.NOTE
    ticket.refresh_from_db()
    assert ticket.first_responded_at is None


def test_inbound_message_reopens_a_resolved_ticket(agent):
    ticket = services.ticket_create(actor=agent, subject="X", company=CompanyFactory())
    services.ticket_set_status(ticket=ticket, status=TicketStatus.RESOLVED, actor=agent)
    services.ticket_add_inbound(
        ticket=ticket,
        body_html="",
        body_text="Знову не працює",
        from_email="a@b.ua",
        person=None,
        message_id="<1@b.ua>",
    )
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.REOPENED
    assert ticket.reopen_count == 1
    assert ticket.resolved_at is None


def test_rating_once_through_the_signed_link(agent):
    ticket = services.ticket_create(actor=agent, subject="X", company=CompanyFactory())
    token = services.rating_token(ticket)
    with pytest.raises(ValidationError):
        services.ticket_rate(token=token, rating=5)  # not resolved yet
    services.ticket_set_status(ticket=ticket, status=TicketStatus.RESOLVED, actor=agent)
    with pytest.raises(ValidationError) as error:
        services.ticket_rate(token=token, rating=6)
    assert "rating" in error.value.message_dict
    rated = services.ticket_rate(token=token, rating=4, comment="Дякую")
    assert (rated.csat_rating, rated.csat_comment) == (4, "Дякую")
    with pytest.raises(ValidationError):
        services.ticket_rate(token=token, rating=1)
    with pytest.raises(ValidationError):
        services.ticket_rate(token=token[:-2] + "xx", rating=1)
    ticket.refresh_from_db()
    assert ticket.csat_rating == 4


def test_escalation_flags_once_and_tells_assignee_and_manager_once(agent, service_desk):
    now = kyiv(2026, 12, 7, 12, 0)
    late = TicketFactory(assignee=agent, team=service_desk, first_response_due_at=now - timedelta(minutes=1))
    TicketFactory(assignee=agent, team=service_desk, first_response_due_at=now + timedelta(hours=1))
    assert services.tickets_escalate(now=now) == 1
    assert services.tickets_escalate(now=now + timedelta(minutes=5)) == 0
    late.refresh_from_db()
    assert late.first_response_breached
    assert not late.resolution_breached
    assert late.escalated_at == now
    assert set(Escalation.objects.values_list("recipient", flat=True)) == {agent.pk, service_desk.manager_id}
    assert Notification.objects.filter(kind="escalation").count() == 2


def test_solved_counter_counts_once_per_ticket(agent):
    ticket = services.ticket_create(actor=agent, subject="X", company=CompanyFactory())
    article = ArticleFactory()
    assert services.article_mark_solved(article=article, ticket=ticket, actor=agent)
    assert not services.article_mark_solved(article=article, ticket=ticket, actor=agent)
    article.refresh_from_db()
    assert article.solved_count == 1


def test_visibility_agents_see_their_team_queue_reps_see_their_clients(agent, other_agent, owner, outsider):
    mine = services.ticket_create(actor=agent, subject="X", company=CompanyFactory(owner=owner))
    assert list(Ticket.objects.visible_to(agent)) == [mine]
    assert list(Ticket.objects.visible_to(owner)) == [mine]
    assert not Ticket.objects.visible_to(other_agent).exists()
    assert not Ticket.objects.visible_to(outsider).exists()
