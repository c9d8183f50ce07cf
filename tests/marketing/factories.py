"""Marketing rows written directly: tests of the rules go through marketing's services."""

import factory
from django.utils import timezone

from marketing.models import Campaign, CampaignMember, Lead, LeadChannel, Segment, WebForm
from tests.contacts.factories import PersonFactory
from tests.crm.factories import UserFactory


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    first_name = "Олена"
    last_name = factory.Sequence(lambda n: f"Лідова{n}")
    company_name = factory.Sequence(lambda n: f"ТОВ Потенційний клієнт {n}")
    email = factory.Sequence(lambda n: f"lead{n}@example.net")
    channel = LeadChannel.WEB_FORM


class WebFormFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebForm

    name = factory.Sequence(lambda n: f"Форма {n}")
    slug = factory.Sequence(lambda n: f"form-{n}")
    title = "Залиште заявку"
    fields = ["first_name", "last_name", "company_name", "email", "phone", "message"]
    required_fields = ["first_name", "email"]
    consent_text = "Я погоджуюсь отримувати листи."
    thank_you_text = "Дякуємо! Ми зв'яжемося з вами."
    is_published = True
    owner = factory.SubFactory(UserFactory)


class SegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Segment

    name = factory.Sequence(lambda n: f"Цільова група {n}")
    owner = factory.SubFactory(UserFactory)


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Кампанія {n}")
    owner = factory.SubFactory(UserFactory)
    starts_on = factory.LazyFunction(lambda: timezone.localdate())
    email_subject = "Пропозиція для {{ company }}"
    email_body = "Добрий день, {{ first_name }}!"


class CampaignMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CampaignMember

    campaign = factory.SubFactory(CampaignFactory)
    person = factory.SubFactory(PersonFactory)
    company = factory.LazyAttribute(lambda o: o.person.company)
    email = factory.Sequence(lambda n: f"member{n}@example.net")
