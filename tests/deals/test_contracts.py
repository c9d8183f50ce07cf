"""Contracts (issue #6, item 5): create/update rules, the signed PDF, pages, the expiry notice task."""

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from crm.models import Notification, Role
from deals.models import Contract, ContractStatus
from deals.services_contracts import contract_create, contract_update, contracts_notify_expiring
from deals.tasks import contracts_notify_expiring_task
from tests.conftest import make_user
from tests.contacts.factories import CompanyFactory
from tests.deals.factories_orders import ContractFactory

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}


@pytest.fixture
def company(owner):
    return CompanyFactory(owner=owner)


def _pdf(name="signed.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def _fields(company, **extra):
    return {"company": company, "number": "Д-1/2026", "starts_on": date(2026, 1, 1), "ends_on": date(2026, 12, 31),
            "amount": Decimal("1000.00"), "status": ContractStatus.ACTIVE, **extra}  # fmt: skip


# --- services --------------------------------------------------------------------------------------------


def test_contract_create_with_a_signed_pdf(owner, company):
    contract = contract_create(actor=owner, **_fields(company, signed_file=_pdf()))
    assert (contract.owner, contract.team, contract.number) == (owner, owner.team, "Д-1/2026")
    assert contract.signed_file.name.endswith(".pdf")
    assert contract.signed_file.open("rb").read().startswith(b"%PDF")


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"ends_on": date(2025, 12, 31)}, "ends_on"),
        ({"amount": Decimal("-1")}, "amount"),
        ({"amount": Decimal("1.005")}, "amount"),
        ({"number": "  "}, "number"),
        ({"starts_on": None}, "starts_on"),
        ({"signed_file": _pdf("scan.pdf", b"MZ\x90\x00 not a pdf")}, "signed_file"),
        ({"signed_file": _pdf("scan.exe")}, "signed_file"),
        ({"signed_file": _pdf("big.pdf", PDF + b"0" * (10 * 1024 * 1024))}, "signed_file"),
    ],
)
def test_contract_create_rejects_bad_input(owner, company, extra, field):
    with pytest.raises(ValidationError) as error:
        contract_create(actor=owner, **_fields(company, **extra))
    assert field in error.value.message_dict
    assert not Contract.objects.exists()


def test_contract_number_is_unique_per_company(owner, company):
    contract_create(actor=owner, **_fields(company))
    with pytest.raises(ValidationError) as error:
        contract_create(actor=owner, **_fields(company, number="д-1/2026"))
    assert "number" in error.value.message_dict
    contract_create(actor=owner, **_fields(CompanyFactory(owner=owner)))  # another company may reuse it
    assert Contract.objects.count() == 2


def test_contract_for_an_invisible_company_or_without_permission(owner, outsider, readonly):
    with pytest.raises(ValidationError) as error:
        contract_create(actor=owner, **_fields(CompanyFactory(owner=outsider)))
    assert "company" in error.value.message_dict
    with pytest.raises(PermissionDenied):
        contract_create(actor=readonly, **_fields(CompanyFactory(owner=readonly)))
    assert not Contract.objects.exists()


def test_contract_update_keeps_replaces_or_removes_the_file(owner, company):
    contract = contract_create(actor=owner, **_fields(company, signed_file=_pdf()))
    first = contract.signed_file.name
    contract_update(contract=contract, actor=owner, amount=Decimal("5.50"))
    contract.refresh_from_db()
    assert (contract.amount, contract.signed_file.name) == (Decimal("5.50"), first)
    contract_update(contract=contract, actor=owner, signed_file=_pdf("v2.pdf"))
    contract.refresh_from_db()
    assert contract.signed_file.name != first
    contract_update(contract=contract, actor=owner, signed_file=None)
    contract.refresh_from_db()
    assert not contract.signed_file
    with pytest.raises(ValidationError):
        contract_update(contract=contract, actor=owner, ends_on=date(2020, 1, 1))


def test_prolonging_a_contract_allows_a_new_expiry_notice(owner, company):
    contract = ContractFactory(company=company, owner=owner, expiry_notified_at=timezone.now())
    contract_update(contract=contract, actor=owner, ends_on=contract.ends_on + timedelta(days=365))
    contract.refresh_from_db()
    assert contract.expiry_notified_at is None


def test_outsider_cannot_update(owner, outsider, company):
    contract = ContractFactory(company=company, owner=owner)
    with pytest.raises(PermissionDenied):
        contract_update(contract=contract, actor=outsider, amount=Decimal("1"))


# --- the expiry notice -----------------------------------------------------------------------------------------


def test_expiring_contracts_notify_the_owner_once(owner, company):
    today = timezone.localdate()
    soon = ContractFactory(company=company, owner=owner, ends_on=today + timedelta(days=30))
    today_ends = ContractFactory(company=company, owner=owner, ends_on=today)
    ContractFactory(company=company, owner=owner, ends_on=today + timedelta(days=31))  # later
    ContractFactory(company=company, owner=owner, ends_on=today - timedelta(days=1))  # already ended
    ContractFactory(company=company, owner=owner, ends_on=today + timedelta(days=5), status=ContractStatus.DRAFT)
    ContractFactory(company=company, owner=owner, ends_on=None)
    assert contracts_notify_expiring(today=today) == 2
    assert contracts_notify_expiring(today=today) == 0  # second run: nothing new
    assert contracts_notify_expiring_task.delay().get() == 0
    notifications = Notification.objects.filter(recipient=owner, kind="contract")
    assert notifications.count() == 2
    assert {n.url for n in notifications} == {
        reverse("deals:contract-detail", args=[soon.pk]),
        reverse("deals:contract-detail", args=[today_ends.pk]),
    }
    assert soon.number in notifications.get(url__endswith=f"/{soon.pk}/").title
    soon.refresh_from_db()
    assert soon.expiry_notified_at is not None


@pytest.mark.django_db(transaction=True)
def test_two_parallel_runs_notify_each_contract_once():
    owner = make_user(Role.SALES_REP)
    company = CompanyFactory(owner=owner)
    today = timezone.localdate()
    contracts = [
        ContractFactory(company=company, owner=owner, ends_on=today + timedelta(days=n % 30)) for n in range(40)
    ]
    barrier = threading.Barrier(2, timeout=20)
    told: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            told.append(contracts_notify_expiring(today=today, batch=3))
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert sum(told) == len(contracts)
    per_contract = Notification.objects.filter(kind="contract").values_list("url", flat=True)
    assert sorted(per_contract) == sorted(reverse("deals:contract-detail", args=[c.pk]) for c in contracts)


def test_beat_schedule_has_the_daily_task(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["contracts-notify-expiring"]
    assert entry["task"] == "deals.tasks.contracts_notify_expiring_task"
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({8}, {10})


# --- pages -----------------------------------------------------------------------------------------------------


def test_contract_list_and_filters(client, owner, outsider, django_assert_max_num_queries):
    today = timezone.localdate()
    expiring = ContractFactory(owner=owner, company=CompanyFactory(owner=owner), ends_on=today + timedelta(days=10))
    later = ContractFactory(owner=owner, company=CompanyFactory(owner=owner), ends_on=today + timedelta(days=100))
    draft = ContractFactory(owner=owner, company=CompanyFactory(owner=owner), status=ContractStatus.DRAFT)
    foreign = ContractFactory(owner=outsider, company=CompanyFactory(owner=outsider))
    client.force_login(owner)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("deals:contract-list"))
    numbers = {c.number for c in response.context["page"].rows}
    assert numbers == {expiring.number, later.number, draft.number}
    assert foreign.number not in response.content.decode()

    def only(**params):
        return {c.number for c in client.get(reverse("deals:contract-list"), params).context["page"].rows}

    assert only(expiring="on") == {expiring.number}
    assert only(status="draft") == {draft.number}
    assert only(owner=owner.pk) == numbers
    response = client.get(reverse("deals:contract-list"), {"status": "draft"}, headers={"HX-Request": "true"})
    assert "<html" not in response.content.decode()


def test_contract_pages_access(client, owner, outsider, readonly):
    contract = ContractFactory(owner=owner, company=CompanyFactory(owner=owner))
    client.force_login(outsider)
    assert client.get(reverse("deals:contract-detail", args=[contract.pk])).status_code == 404
    assert client.get(reverse("deals:contract-file", args=[contract.pk])).status_code == 404
    client.force_login(readonly)
    assert client.get(reverse("deals:contract-list")).status_code == 403
    assert client.get(reverse("deals:contract-create")).status_code == 403
    marketing = make_user(Role.MARKETING)
    Contract.objects.filter(pk=contract.pk).update(owner=marketing)
    client.force_login(marketing)
    assert client.get(reverse("deals:contract-detail", args=[contract.pk])).status_code == 200
    assert client.get(reverse("deals:contract-update", args=[contract.pk])).status_code == 403


def test_contract_create_page_and_download(client, owner, outsider, company):
    client.force_login(owner)
    url = reverse("deals:contract-create")
    assert client.get(url, {"company": company.pk}).status_code == 200
    data = {"company": company.pk, "number": "Д-7", "starts_on": "2026-01-01", "ends_on": "2026-06-30",
            "amount": "1500.50", "status": "active", "service_level": "premium", "signed_file": _pdf()}  # fmt: skip
    response = client.post(url, data)
    contract = Contract.objects.get()
    assert response.url == reverse("deals:contract-detail", args=[contract.pk])
    page = client.get(response.url).content.decode()
    assert "Д-7" in page
    assert contract.service_level == "premium"
    assert reverse("deals:contract-file", args=[contract.pk]) in page
    download = client.get(reverse("deals:contract-file", args=[contract.pk]))
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    client.force_login(outsider)
    assert client.get(reverse("deals:contract-file", args=[contract.pk])).status_code == 404


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ends_on": "2025-01-01"}, "cannot be before the start date"),
        ({"amount": "-5"}, "cannot be negative"),
        ({"signed_file": _pdf("fake.pdf", b"GIF89a")}, "not a PDF"),
        ({"number": "Д-1"}, "already has a contract with this number"),
    ],
)
def test_contract_form_shows_field_errors(client, owner, company, changes, message):
    ContractFactory(company=company, owner=owner, number="Д-1")
    client.force_login(owner)
    data = {"company": company.pk, "number": "Д-2", "starts_on": "2026-01-01", "ends_on": "2026-06-30",
            "amount": "10", "status": "active", "service_level": "standard", **changes}  # fmt: skip
    response = client.post(reverse("deals:contract-create"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Contract.objects.count() == 1


def test_contract_edit_page(client, owner, company):
    contract = ContractFactory(company=company, owner=owner)
    client.force_login(owner)
    url = reverse("deals:contract-update", args=[contract.pk])
    assert client.get(url).status_code == 200
    data = {"company": company.pk, "number": contract.number, "starts_on": "2026-01-01", "ends_on": "",
            "amount": "", "status": "terminated", "service_level": "basic"}  # fmt: skip
    assert client.post(url, data).status_code == 302
    contract.refresh_from_db()
    assert (contract.status, contract.ends_on, contract.amount) == ("terminated", None, None)
    history = client.get(reverse("deals:contract-detail", args=[contract.pk])).content.decode()
    assert "Terminated" in history


def test_company_contracts_tab(client, owner, outsider, company, django_assert_max_num_queries):
    for _ in range(3):
        ContractFactory(company=company, owner=owner)
    client.force_login(owner)
    url = reverse("deals:company-contracts", args=[company.pk])
    with django_assert_max_num_queries(8):
        response = client.get(url, headers={"HX-Request": "true"})
    assert response.content.decode().count('data-testid="company-contract"') == 3
    client.force_login(outsider)
    assert client.get(url, headers={"HX-Request": "true"}).status_code == 404
    procurement = make_user(Role.PROCUREMENT)
    company.owner = procurement
    company.save()
    client.force_login(procurement)
    assert "You have no access to contracts." in client.get(url, headers={"HX-Request": "true"}).content.decode()
