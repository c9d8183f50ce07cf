import secrets

import factory
from django.utils import timezone

from service.kb import article_index
from service.models import KnowledgeArticle, MessageKind, Ticket, TicketMessage, TicketStatus
from tests.contacts.factories import CompanyFactory, PersonFactory


class TicketFactory(factory.django.DjangoModelFactory):
    """A ticket written directly (no SLA computation): tests of the rules call service.services.ticket_create."""

    class Meta:
        model = Ticket

    number = factory.Sequence(lambda n: f"S-2026-{n + 900000:06d}")
    company = factory.SubFactory(CompanyFactory)
    person = factory.LazyAttribute(
        lambda o: PersonFactory(company=o.company, owner=o.company.owner) if o.company else None
    )
    subject = factory.Sequence(lambda n: f"Не працює доставка {n}")
    status = TicketStatus.OPEN
    reply_key = factory.LazyFunction(lambda: secrets.token_hex(6))
    resolution_due_at = factory.LazyFunction(lambda: timezone.now() + timezone.timedelta(hours=8))
    first_response_due_at = factory.LazyFunction(lambda: timezone.now() + timezone.timedelta(hours=2))


class TicketMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TicketMessage

    ticket = factory.SubFactory(TicketFactory)
    kind = MessageKind.INBOUND
    body_html = "<p>Добрий день</p>"
    body_text = "Добрий день"
    created_at = factory.LazyFunction(timezone.now)


class ArticleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KnowledgeArticle
        skip_postgeneration_save = True  # a save after the hook would write back an empty search vector

    title_uk = factory.Sequence(lambda n: f"Стаття {n}")
    problem_uk = "Проблема"
    solution_uk = "Рішення"
    is_public = True

    @factory.post_generation
    def indexed(obj, create, extracted, **kwargs):
        if create:
            article_index(article_id=obj.pk)
