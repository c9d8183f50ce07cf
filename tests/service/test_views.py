"""The queue, the ticket card and its actions, the client card tabs and the rating page."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from service import services
from service.models import MessageKind, Ticket, TicketPriority, TicketStatus
from tests.contacts.factories import CompanyFactory, PersonFactory
from tests.service.factories import TicketFactory, TicketMessageFactory

pytestmark = pytest.mark.django_db
LIST = reverse("service:ticket-list")


def _numbers(response) -> list[str]:
    return [row.number for row in response.context["page"].rows]


def test_queue_sorted_by_time_left_in_few_queries(client, agent, service_desk, django_assert_max_num_queries):
    now = timezone.now()
    later = TicketFactory(team=service_desk, resolution_due_at=now + timedelta(hours=5))
    sooner = TicketFactory(team=service_desk, resolution_due_at=now + timedelta(minutes=30), assignee=agent)
    late = TicketFactory(team=service_desk, resolution_due_at=now - timedelta(hours=1))
    TicketFactory(team=service_desk, status=TicketStatus.CLOSED)
    client.force_login(agent)
    with django_assert_max_num_queries(12):
        response = client.get(LIST)
    assert response.status_code == 200
    assert _numbers(response) == [late.number, sooner.number, later.number]
    page = response.content.decode()
    assert late.number in page
    assert "table-danger" in page
    assert "table-warning" in page


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"queue": "mine"}, ["mine"]),
        ({"queue": "unassigned"}, ["free", "late"]),
        ({"due": "soon"}, ["mine"]),
        ({"due": "breached"}, ["late"]),
        ({"status": "closed"}, ["closed"]),
        ({"priority": "urgent"}, ["late"]),
    ],
)
def test_queue_filters(client, agent, service_desk, params, expected):
    now = timezone.now()
    tickets = {
        "mine": TicketFactory(team=service_desk, assignee=agent, resolution_due_at=now + timedelta(minutes=20)),
        "free": TicketFactory(team=service_desk, resolution_due_at=now + timedelta(hours=3)),
        "late": TicketFactory(
            team=service_desk, resolution_due_at=now - timedelta(minutes=5), priority=TicketPriority.URGENT
        ),
        "closed": TicketFactory(team=service_desk, status=TicketStatus.CLOSED),
    }
    client.force_login(agent)
    response = client.get(LIST, params)
    by_number = {t.number: name for name, t in tickets.items()}
    assert sorted(by_number[n] for n in _numbers(response)) == sorted(expected)


def test_queue_keyset_pages(client, agent, service_desk):
    now = timezone.now()
    tickets = [TicketFactory(team=service_desk, resolution_due_at=now + timedelta(minutes=i)) for i in range(30)]
    client.force_login(agent)
    first = client.get(LIST)
    assert len(first.context["page"].rows) == 25
    assert first.context["next_url"]
    second = client.get(first.context["next_url"])
    assert _numbers(second) == [t.number for t in tickets[25:]]
    assert not second.context["next_url"]


def test_queue_htmx_returns_the_fragment(client, agent, service_desk):
    TicketFactory(team=service_desk)
    client.force_login(agent)
    response = client.get(LIST, {"queue": "all"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert 'id="list-results"' in body
    assert "<html" not in body


def test_other_team_and_outsider_get_404_and_rep_is_read_only(
    client, agent, other_agent, outsider, owner, service_desk
):
    company = CompanyFactory(owner=owner)
    ticket = TicketFactory(team=service_desk, company=company, person=None)
    url = reverse("service:ticket-detail", args=[ticket.pk])
    for stranger in (other_agent, outsider):
        client.force_login(stranger)
        assert client.get(url).status_code == 404
    client.force_login(owner)  # the client's sales rep sees it, cannot work on it
    page = client.get(url)
    assert page.status_code == 200
    assert 'data-testid="message-form"' not in page.content.decode()
    assert client.post(reverse("service:ticket-message", args=[ticket.pk]), {"body": "x"}).status_code == 403


def test_readonly_user_cannot_open_the_queue(client, readonly):
    client.force_login(readonly)
    assert client.get(LIST).status_code == 403


def test_card_queries_do_not_grow_with_messages(client, agent, service_desk, django_assert_max_num_queries):
    ticket = TicketFactory(team=service_desk, assignee=agent)
    for _ in range(3):
        TicketMessageFactory(ticket=ticket)
    client.force_login(agent)
    url = reverse("service:ticket-detail", args=[ticket.pk])
    client.get(url)
    with django_assert_max_num_queries(30) as few:
        client.get(url)
    for _ in range(20):
        TicketMessageFactory(ticket=ticket, kind=MessageKind.REPLY, author=agent)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert response.content.decode().count('data-testid="message"') == 23


def test_card_shows_the_timeline_and_the_files_of_the_thread(client, agent, service_desk):
    ticket = services.ticket_create(actor=agent, subject="Не прийшов товар", company=CompanyFactory())
    pdf = SimpleUploadedFile("act.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    services.ticket_note(ticket=ticket, actor=agent, body_html="<p>Акт</p>", attachments=[pdf])
    services.ticket_set_status(ticket=ticket, status=TicketStatus.RESOLVED, actor=agent, comment="Доставлено")
    attachment = ticket.messages.get().attachments.get()
    client.force_login(agent)
    page = client.get(reverse("service:ticket-detail", args=[ticket.pk])).content.decode()
    timeline = page.split('data-testid="timeline"')[1]
    change = ticket.status_changes.order_by("changed_at", "id").last()
    local = timezone.localtime(change.changed_at)
    assert f'<time datetime="{local.isoformat()}">{local:%d.%m.%Y %H:%M}</time>' in timeline
    assert f"</strong> · {agent.full_name or agent.email} · Доставлено</li>" in timeline
    assert timeline.count("<li") == 2  # opened, then resolved
    assert timeline.count(" → <strong>") == 1
    assert f'href="{reverse("service:ticket-attachment", args=[ticket.pk, attachment.pk])}">act.pdf</a> (13' in page


def test_create_ticket_from_a_call(client, agent):
    person = PersonFactory()
    client.force_login(agent)
    url = reverse("service:ticket-create")
    assert client.get(url, {"company": person.company_id}).status_code == 200
    data = {"company": person.company_id, "person": person.pk, "channel": "phone", "priority": "high"}
    response = client.post(url, {**data, "subject": "Не вмикається касовий апарат", "description": "Дзвінок"})
    ticket = Ticket.objects.get()
    assert response.url == reverse("service:ticket-detail", args=[ticket.pk])
    assert ticket.number.startswith("S-")
    assert ticket.team.name == "Сервіс"
    assert ticket.first_response_due_at


def test_create_ticket_errors_next_to_the_field(client, agent):
    client.force_login(agent)
    other = PersonFactory()
    data = {"company": CompanyFactory().pk, "person": other.pk, "channel": "phone", "priority": "normal"}
    response = client.post(reverse("service:ticket-create"), {**data, "subject": ""})
    assert response.status_code == 200
    assert "subject" in response.context["form"].errors
    assert not Ticket.objects.exists()


def test_reply_note_status_and_assign_from_the_card(client, agent, service_desk):
    ticket = services.ticket_create(actor=agent, subject="Не прийшов товар", company=CompanyFactory())
    client.force_login(agent)
    message_url = reverse("service:ticket-message", args=[ticket.pk])
    pdf = SimpleUploadedFile("act.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    response = client.post(
        message_url, {"body": "Перевіряємо.\nДо вечора.", "then_status": "waiting", "attachments": [pdf]}
    )
    assert response.status_code == 302
    reply = ticket.messages.get(kind=MessageKind.REPLY)
    assert reply.body_html == "<p>Перевіряємо.<br>До вечора.</p>"
    client.post(message_url, {"body": "Внутрішнє", "is_note": "on"})
    assert ticket.messages.filter(kind=MessageKind.NOTE).exists()
    bad = client.post(message_url, {"body": ""})
    assert bad.status_code == 422
    assert "body" in bad.context["message_form"].errors
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.WAITING
    assert ticket.assignee == agent
    assert client.post(reverse("service:ticket-status", args=[ticket.pk]), {"status": "resolved"}).status_code == 302
    refused = client.post(reverse("service:ticket-status", args=[ticket.pk]), {"status": "waiting"})
    assert refused.status_code == 422
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.RESOLVED
    attachment = reply.attachments.get()
    download = client.get(reverse("service:ticket-attachment", args=[ticket.pk, attachment.pk]))
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    page = client.get(reverse("service:ticket-detail", args=[ticket.pk])).content.decode()
    assert "Перевіряємо." in page
    assert "Внутрішнє" in page
    assert client.get(reverse("service:ticket-history", args=[ticket.pk])).status_code == 200


def test_bulk_assign(client, agent, service_desk):
    manager = service_desk.manager
    manager.groups.add(*agent.groups.all())
    tickets = [TicketFactory(team=service_desk) for _ in range(3)]
    client.force_login(manager)
    response = client.post(reverse("service:ticket-bulk-assign"),
                           {"tickets": [t.pk for t in tickets[:2]], "assignee": agent.pk})  # fmt: skip
    assert response.status_code == 302
    assert Ticket.objects.filter(assignee=agent).count() == 2


def test_company_and_person_tabs(client, agent, owner):
    person = PersonFactory(company=CompanyFactory(owner=owner), owner=owner)
    ticket = services.ticket_create(actor=agent, subject="Рахунок", company=person.company, person=person)
    client.force_login(owner)
    htmx = {"HX-Request": "true"}
    tab = client.get(reverse("service:company-tickets", args=[person.company_id]), headers=htmx).content.decode()
    assert ticket.number in tab
    tab = client.get(reverse("service:person-tickets", args=[person.pk]), headers=htmx).content.decode()
    assert ticket.number in tab
    assert client.get(reverse("contacts:company-detail", args=[person.company_id])).status_code == 200


def test_rating_page_once_without_login(client, agent):
    ticket = services.ticket_create(actor=agent, subject="X", company=CompanyFactory())
    services.ticket_set_status(ticket=ticket, status=TicketStatus.RESOLVED, actor=agent)
    url = reverse("service:ticket-rate", args=[services.rating_token(ticket)])
    assert client.get(url).status_code == 200
    assert client.post(url, {"rating": "9"}).status_code == 422
    response = client.post(url, {"rating": "5", "comment": "Чудово"})
    assert response.status_code == 200
    assert 'data-testid="rating-done"' in response.content.decode()
    client.post(url, {"rating": "1"})
    ticket.refresh_from_db()
    assert ticket.csat_rating == 5
    assert client.get(reverse("service:ticket-rate", args=["forged"])).status_code == 404
