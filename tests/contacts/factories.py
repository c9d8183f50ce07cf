from datetime import timedelta

import factory
from django.utils import timezone

from contacts.models import (
    Activity,
    ActivityKind,
    Company,
    CompanyRole,
    ContactPoint,
    Interaction,
    InteractionChannel,
    Person,
)
from contacts.services import contact_point_values
from tests.crm.factories import UserFactory


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"ТОВ Компанія {n}")
    owner = factory.SubFactory(UserFactory)
    team = factory.LazyAttribute(lambda o: o.owner.team)
    roles = factory.LazyFunction(lambda: [CompanyRole.CUSTOMER])


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    last_name = factory.Faker("last_name", locale="uk_UA")
    first_name = factory.Faker("first_name", locale="uk_UA")
    company = factory.SubFactory(CompanyFactory)
    owner = factory.LazyAttribute(lambda o: o.company.owner if o.company else UserFactory())
    team = factory.LazyAttribute(lambda o: o.owner.team)


class ContactPointFactory(factory.django.DjangoModelFactory):
    """Pass `company=` or `person=`; value is normalised like the service does."""

    class Meta:
        model = ContactPoint

    kind = "mobile"
    value = factory.Sequence(lambda n: f"+38067{n:07d}")
    normalized = factory.LazyAttribute(lambda o: contact_point_values(o.kind, o.value)["normalized"])
    digits_reversed = factory.LazyAttribute(lambda o: contact_point_values(o.kind, o.value)["digits_reversed"])


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    company = factory.SubFactory(CompanyFactory)
    channel = InteractionChannel.CALL_OUT
    direction = "out"
    subject = factory.Sequence(lambda n: f"Дзвінок {n}")
    occurred_at = factory.LazyFunction(timezone.now)


class ActivityFactory(factory.django.DjangoModelFactory):
    """A planned call tomorrow; pass `assignee=` (created_by defaults to the assignee)."""

    class Meta:
        model = Activity

    kind = ActivityKind.CALL
    subject = factory.Sequence(lambda n: f"Дзвінок клієнту {n}")
    starts_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
    assignee = factory.SubFactory(UserFactory)
    created_by = factory.LazyAttribute(lambda o: o.assignee)
    team = factory.LazyAttribute(lambda o: o.assignee.team)
