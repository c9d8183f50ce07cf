"""Consent: the append-only log, the current state per person and channel, and what sends may ask."""

from datetime import timedelta

import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone

from contacts.models import Consent, Person
from marketing import services_leads
from marketing.models import ConsentChannel, ConsentEvent
from marketing.services_consent import consent_allows, consent_granted, consent_record
from tests.contacts.factories import PersonFactory
from tests.marketing.factories import LeadFactory, WebFormFactory

pytestmark = pytest.mark.django_db


def test_record_appends_and_sets_current_state():
    person = PersonFactory()
    consent_record(channel=ConsentChannel.EMAIL, is_granted=True, source="Web form", person=person, email="a@x.ua")
    consent_record(channel=ConsentChannel.EMAIL, is_granted=False, source="Phone call", person=person)
    assert ConsentEvent.objects.filter(person=person).count() == 2
    current = Consent.objects.get(person=person, channel="email")
    assert (current.is_granted, current.source) == (False, "Phone call")
    assert not consent_allows(person_id=person.pk, email="", channel="email")


def test_late_older_entry_does_not_override():
    person = PersonFactory()
    now = timezone.now()
    consent_record(channel="sms", is_granted=False, source="Unsubscribed", person=person, at=now)
    consent_record(channel="sms", is_granted=True, source="Old paper form", person=person, at=now - timedelta(days=9))
    assert not Consent.objects.get(person=person, channel="sms").is_granted


def test_log_is_append_only():
    event = consent_record(channel="email", is_granted=True, source="Web form", email="a@example.com")
    with pytest.raises(DatabaseError), transaction.atomic():
        ConsentEvent.objects.filter(pk=event.pk).update(is_granted=False)
    with pytest.raises(DatabaseError), transaction.atomic():
        ConsentEvent.objects.filter(pk=event.pk).delete()
    event.refresh_from_db()
    assert event.is_granted


def test_re_pointing_person_is_allowed():
    event = consent_record(channel="email", is_granted=True, source="Web form", email="a@example.com")
    person = PersonFactory()
    ConsentEvent.objects.filter(pk=event.pk).update(person=person)
    event.refresh_from_db()
    assert event.person == person


def test_allows_by_email_and_latest_decision_wins():
    assert not consent_allows(person_id=None, email="nobody@example.com", channel="email")
    consent_record(channel="email", is_granted=True, source="Form", email="Me@Example.com")
    assert consent_allows(person_id=None, email="me@example.com", channel="email")
    assert not consent_allows(person_id=None, email="me@example.com", channel="sms")
    person = PersonFactory()
    consent_record(channel="email", is_granted=True, source="Form", person=person, at=timezone.now())
    consent_record(channel="email", is_granted=False, source="Unsubscribe", email="me@example.com")
    assert not consent_allows(person_id=person.pk, email="me@example.com", channel="email")


def test_set_based_filter():
    yes, no, silent = PersonFactory(), PersonFactory(), PersonFactory()
    consent_record(channel="email", is_granted=True, source="Form", person=yes)
    consent_record(channel="email", is_granted=False, source="Form", person=no)
    assert list(Person.objects.filter(consent_granted(channel="email", person_ref="pk"))) == [yes]
    assert silent not in Person.objects.filter(consent_granted(channel="email", person_ref="pk"))


def test_bad_input_is_refused():
    with pytest.raises(Exception, match="channel"):
        consent_record(channel="fax", is_granted=True, source="x")
    with pytest.raises(Exception, match="source"):
        consent_record(channel="email", is_granted=True, source="  ")
    assert not ConsentEvent.objects.exists()


def test_converted_lead_gives_its_consent_to_the_person(owner):
    lead = services_leads.lead_create(
        data={"first_name": "Ірина", "last_name": "Коваль", "email": "iryna@example.com", "consent": True},
        actor=None,
        web_form=WebFormFactory(),
    )
    lead.owner = owner
    lead.save()
    lead = services_leads.lead_convert(lead=lead, actor=owner, create_deal=False)
    assert Consent.objects.get(person=lead.person, channel="email").is_granted
    assert ConsentEvent.objects.get(lead=lead).person == lead.person
    assert consent_allows(person_id=lead.person.pk, email="", channel="email")


def test_staff_record_withdrawal_on_the_card(client, owner):
    lead = LeadFactory(owner=owner, team=owner.team)
    client.force_login(owner)
    url = reverse("marketing:lead-consent", args=[lead.pk])
    assert client.post(url, {"channel": "email", "is_granted": "0", "source": ""}).status_code == 422
    assert client.post(url, {"channel": "email", "is_granted": "0", "source": "Сказала по телефону"}).status_code == 302
    event = ConsentEvent.objects.get(lead=lead)
    assert (event.is_granted, event.actor, event.email) == (False, owner, lead.email)
    page = client.get(reverse("marketing:lead-detail", args=[lead.pk])).content.decode()
    assert "Сказала по телефону" in page
