"""Import of companies and people from CSV / XLSX: upload, mapping, dry run, confirm, Celery job."""

import io
import time
from datetime import datetime

import openpyxl
import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from contacts import imports
from contacts.models import Company, CompanyRole, CompanyStatus, ContactPoint, Person, Region
from contacts.tasks_import import contacts_import_task
from contacts.validators import edrpou_is_valid
from crm.models import Job, JobStatus
from tests.conftest import make_user
from tests.contacts.factories import CompanyFactory, ContactPointFactory, PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def edrpou(base: int) -> str:
    """A valid EDRPOU code: seven digits of `base` plus the check digit that fits."""
    stem = f"{base:07d}"
    return next(f"{stem}{d}" for d in range(10) if edrpou_is_valid(f"{stem}{d}"))


def csv_file(text: str, *, encoding: str = "utf-8", name: str = "companies.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def xlsx_file(rows: list[list], name: str = "companies.xlsx") -> SimpleUploadedFile:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


def upload(client, file, target="company"):
    return client.post(reverse("contacts:import-upload"), {"target": target, "file": file})


def map_columns(client, job, django_capture_on_commit_callbacks, mapping=None):
    """Post the mapping (default: the guessed one) and run the dry run (eager Celery on commit)."""
    mapping = job.params["mapping"] if mapping is None else mapping
    data = {f"col_{index}": key for index, key in enumerate(mapping)}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("contacts:import-map", args=[job.pk]), data)
    return response


def confirm(client, job, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("contacts:import-confirm", args=[job.pk]))


def checked_job(client, file, django_capture_on_commit_callbacks, target="company", mapping=None) -> Job:
    response = upload(client, file, target)
    assert response.status_code == 302, response.content.decode()[:2000]
    job = Job.objects.get(kind=imports.JOB_KIND, pk=int(response.url.split("/")[-3]))
    response = map_columns(client, job, django_capture_on_commit_callbacks, mapping)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert response.url == reverse("contacts:import-preview", args=[job.pk])
    job.refresh_from_db()
    return job


def preview_rows(client, job) -> dict[int, tuple[str, str]]:
    """Row number → (outcome, the row's text) from the preview table."""
    html = client.get(reverse("contacts:import-preview", args=[job.pk])).content.decode()
    rows = {}
    for chunk in html.split("<tr data-line=")[1:]:
        line = int(chunk.split('"')[1])
        outcome = chunk.split('data-outcome="')[1].split('"')[0]
        rows[line] = (outcome, chunk.split("</tr>")[0])
    return rows


# --- Access --------------------------------------------------------------------------------------


def test_import_page_needs_a_sales_role_or_permission(client, owner, readonly):
    url = reverse("contacts:import-upload")
    assert client.get(url).status_code == 302  # anonymous → login
    client.force_login(readonly)
    assert client.get(url).status_code == 403
    assert upload(client, csv_file("Назва\nТОВ А\n")).status_code == 403
    assert not Job.objects.exists()
    client.force_login(owner)
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="file"' in page.content.decode()


def test_user_with_add_company_permission_may_import(client, readonly):
    from django.contrib.auth.models import Permission

    readonly.user_permissions.add(Permission.objects.get(codename="add_company"))
    client.force_login(readonly)
    assert client.get(reverse("contacts:import-upload")).status_code == 200


def test_outsider_cannot_see_or_run_someone_elses_import(client, owner, outsider, django_capture_on_commit_callbacks):
    client.force_login(owner)
    job = checked_job(client, csv_file(f"Назва,ЄДРПОУ\nТОВ А,{edrpou(1)}\n"), django_capture_on_commit_callbacks)
    client.force_login(make_user())  # no role: 403 before anything is looked up
    assert client.get(reverse("contacts:import-preview", args=[job.pk])).status_code == 403
    client.force_login(outsider)
    for name in ("contacts:import-map", "contacts:import-preview", "crm:job-detail"):
        assert client.get(reverse(name, args=[job.pk])).status_code == 404
    assert confirm(client, job, django_capture_on_commit_callbacks).status_code == 404
    assert map_columns(client, job, django_capture_on_commit_callbacks).status_code == 404
    assert not Company.objects.exists()


# --- Reading files -------------------------------------------------------------------------------


def test_utf8_csv_with_bom_and_cyrillic_is_imported(client, owner, django_capture_on_commit_callbacks):
    code = edrpou(1234567)
    text = (
        "\ufeffНазва,ЄДРПОУ,Телефон,Email,Область,Статус,Ролі,Теги\n"
        f'"ТОВ ""Ромашка""",{code},067 123 45 67,Info@Romashka.UA,Львівська область,Активний,"Клієнт, постачальник",'
        '"ягоди, Опт"\n'
        "ПП Сонях,,+380 44 234-56-78,,Kyiv (city),dormant,prospect,\n"
    )
    client.force_login(owner)
    job = checked_job(client, csv_file(text), django_capture_on_commit_callbacks)
    assert job.params["encoding"] == "utf-8-sig"
    assert job.params["mapping"] == ["name", "edrpou", "phone", "email", "region", "status", "roles", "tags"]
    assert {outcome for outcome, _html in preview_rows(client, job).values()} == {"new"}
    assert not Company.objects.exists()  # the dry run writes nothing

    response = confirm(client, job, django_capture_on_commit_callbacks)
    assert response.url == reverse("crm:job-detail", args=[job.pk])
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    assert job.message.startswith("Created 2, updated 0, skipped 0")
    romashka = Company.objects.get(edrpou=code)
    assert romashka.name == 'ТОВ "Ромашка"'
    assert (romashka.owner, romashka.team) == (owner, owner.team)
    assert romashka.region == Region.LVIV
    assert romashka.status == CompanyStatus.ACTIVE
    assert romashka.roles == [CompanyRole.CUSTOMER, CompanyRole.SUPPLIER]
    assert romashka.tags == ["опт", "ягоди"]
    points = {(p.kind, p.normalized, p.is_primary) for p in romashka.points.all()}
    assert points == {("mobile", "+380671234567", True), ("email", "info@romashka.ua", True)}
    assert romashka.points.get(kind="mobile").digits_reversed == "765432176083"
    sonyakh = Company.objects.get(name="ПП Сонях")
    assert (sonyakh.edrpou, sonyakh.region, sonyakh.status) == ("", Region.KYIV_CITY, CompanyStatus.DORMANT)
    assert sonyakh.points.get().normalized == "+380442345678"
    assert sonyakh.points.get().kind == "phone"
    # simple-history keeps the import on the record's history, by the importing user
    history = romashka.history.get()
    assert (history.history_type, history.history_user) == ("+", owner)
    assert romashka.points.first().history.exists()
    assert not default_storage.exists(job.params["path"])  # the upload is removed after the import


def test_cp1251_csv_with_semicolons_is_read_correctly(client, owner, django_capture_on_commit_callbacks):
    text = "Назва;Місто;Адреса доставки;Сайт\nТОВ «Їжак і Ґанок»;Івано-Франківськ;вул. Шевченка, 1;ijak.com.ua\n"
    client.force_login(owner)
    job = checked_job(client, csv_file(text, encoding="cp1251"), django_capture_on_commit_callbacks)
    assert (job.params["encoding"], job.params["delimiter"]) == ("cp1251", ";")
    assert job.params["headers"] == ["Назва", "Місто", "Адреса доставки", "Сайт"]
    confirm(client, job, django_capture_on_commit_callbacks)
    company = Company.objects.get()
    assert company.name == "ТОВ «Їжак і Ґанок»"
    assert company.city == "Івано-Франківськ"
    assert company.delivery_address == "вул. Шевченка, 1"
    assert company.website == "https://ijak.com.ua"


def test_xlsx_file_with_numbers_and_dates(client, owner, django_capture_on_commit_callbacks):
    code = edrpou(3294)  # starts with zeros, which a spreadsheet drops from a number
    assert code.startswith("000")
    rows = [["Name", "EDRPOU", "Phone", "Status"], ["Zeta LLC", int(code), 380671234567, "Lost"], [None, None, None]]
    client.force_login(owner)
    job = checked_job(client, xlsx_file(rows), django_capture_on_commit_callbacks)
    assert job.params["format"] == "xlsx"
    assert job.params["rows"] == 1  # the blank row is skipped
    confirm(client, job, django_capture_on_commit_callbacks)
    company = Company.objects.get()
    assert (company.name, company.edrpou, company.status) == ("Zeta LLC", code, CompanyStatus.LOST)
    assert company.points.get().normalized == "+380671234567"


def test_big_xlsx_is_not_read_whole_at_upload_and_the_check_counts_its_rows(
    client, owner, django_capture_on_commit_callbacks
):
    rows = [["Назва"], *([f"ТОВ {n}"] for n in range(6)), [None], ["ТОВ 6"]]
    client.force_login(owner)
    upload(client, xlsx_file(rows))
    job = Job.objects.get()
    assert job.params["rows"] == 8  # the sheet's own count, the blank row included
    assert len(job.params["sample"]) == imports.SAMPLE_ROWS
    map_columns(client, job, django_capture_on_commit_callbacks)
    job.refresh_from_db()
    assert (job.params["rows"], job.total) == (7, 7)
    assert job.params["preview"]["totals"] == {"new": 7}


# --- Mapping ---------------------------------------------------------------------------------------


def test_mapping_page_guesses_columns_and_shows_samples(client, owner):
    text = "Найменування;Код ЄДРПОУ;Тел.;Щось інше\nТОВ А;;0671234567;x\n"
    client.force_login(owner)
    response = upload(client, csv_file(text))
    job = Job.objects.get()
    assert response.url == reverse("contacts:import-map", args=[job.pk])
    assert job.params["stage"] == "mapping"
    assert job.params["mapping"] == ["name", "edrpou", "phone", ""]
    page = client.get(response.url).content.decode()
    assert "Найменування" in page
    assert "Щось інше" in page
    assert '<option value="name" selected>' in page
    assert '<option value="phone" selected>' in page
    assert "0671234567" in page  # sample value under the column


def test_mapping_errors_are_shown_next_to_the_column(client, owner, django_capture_on_commit_callbacks):
    client.force_login(owner)
    upload(client, csv_file("Назва,Інша назва,Місто\nА,Б,Київ\n"))
    job = Job.objects.get()
    response = map_columns(client, job, django_capture_on_commit_callbacks, ["name", "name", "city"])
    assert response.status_code == 200
    assert "“Name” is already chosen for column 1." in response.content.decode()
    response = map_columns(client, job, django_capture_on_commit_callbacks, ["", "", "city"])
    assert "Choose the column with the company name" in response.content.decode()
    job.refresh_from_db()
    assert job.params["stage"] == "mapping"
    assert not Company.objects.exists()


def test_remapping_after_the_check_runs_it_again(client, owner, django_capture_on_commit_callbacks):
    client.force_login(owner)
    job = checked_job(client, csv_file("Назва,Примітка\nТОВ А,Київ\n"), django_capture_on_commit_callbacks)
    map_columns(client, job, django_capture_on_commit_callbacks, ["name", "city"])
    job.refresh_from_db()
    assert job.params["stage"] == "checked"
    assert job.params["mapping"] == ["name", "city"]
    confirm(client, job, django_capture_on_commit_callbacks)
    assert Company.objects.get().city == "Київ"


# --- Dry run and row errors ------------------------------------------------------------------------


def test_dry_run_lists_each_bad_row_with_its_error_and_writes_nothing(
    client, owner, django_capture_on_commit_callbacks
):
    good = edrpou(7654321)
    text = "\n".join(
        [
            "Назва;ЄДРПОУ;Телефон;E-mail;Статус;Область",
            f"ТОВ Добре;{good};0671234567;ok@example.com;active;Одеська",
            "ТОВ Код;12345670;;;;",
            "ТОВ Телефон;;12;;;",
            "ТОВ Пошта;;;not-an-email;;",
            "ТОВ Статус;;;;sleeping;",
            "ТОВ Область;;;;;Марс",
            f";{edrpou(1111111)};;;;",
        ]
    )
    client.force_login(owner)
    job = checked_job(client, csv_file(text), django_capture_on_commit_callbacks)
    rows = preview_rows(client, job)
    assert rows[2][0] == "new"
    assert rows[3][0] == "error"
    assert "EDRPOU code: This EDRPOU code has a wrong check digit" in rows[3][1]
    assert rows[4][0] == "error"
    assert "Phone: “12”: This phone number has too few or too many digits." in rows[4][1]
    assert rows[5][0] == "error"
    assert "E-mail: “not-an-email”: Enter a valid email address." in rows[5][1]
    assert rows[6][0] == "error"
    assert "Status: Unknown value “sleeping”: use one of Active, Dormant, Lost." in rows[6][1]
    assert rows[7][0] == "error"
    assert "Region: Unknown value “Марс”" in rows[7][1]
    assert rows[8][0] == "error"
    assert "Name: Enter the company name." in rows[8][1]
    page = client.get(reverse("contacts:import-preview", args=[job.pk])).content.decode()
    assert "New: 1" in page
    assert "With errors: 6" in page
    assert "6 rows with errors will be skipped" in page
    assert not Company.objects.exists()
    assert not ContactPoint.objects.exists()
    # the rows with errors can be downloaded, as uploaded, with the reasons
    report = b"".join(client.get(reverse("crm:job-download", args=[job.pk])).streaming_content).decode("utf-8-sig")
    assert "ТОВ Код" in report
    assert "wrong check digit" in report
    assert "ТОВ Добре" not in report

    confirm(client, job, django_capture_on_commit_callbacks)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    assert job.message.startswith("Created 1, updated 0, skipped 6 rows with errors.")
    assert "Row 3: EDRPOU code: This EDRPOU code has a wrong check digit" in job.message
    assert list(Company.objects.values_list("name", flat=True)) == ["ТОВ Добре"]
    assert Company.objects.get().region == Region.ODESA


def test_same_edrpou_twice_in_the_file_is_an_error_on_the_second_row(client, owner, django_capture_on_commit_callbacks):
    code = edrpou(2)
    client.force_login(owner)
    job = checked_job(client, csv_file(f"Назва,ЄДРПОУ\nА,{code}\nБ,{code}\n"), django_capture_on_commit_callbacks)
    rows = preview_rows(client, job)
    assert rows[2][0] == "new"
    assert rows[3][0] == "error"
    assert "The same value is already in row 2." in rows[3][1]


def test_second_row_for_an_existing_company_does_not_change_the_first_update(
    client, owner, django_capture_on_commit_callbacks
):
    code = edrpou(8)
    company = CompanyFactory(owner=owner, edrpou=code, name="Стара")
    client.force_login(owner)
    job = checked_job(
        client, csv_file(f"Назва,ЄДРПОУ\nПерша,{code}\nДруга,{code}\n"), django_capture_on_commit_callbacks
    )
    confirm(client, job, django_capture_on_commit_callbacks)
    company.refresh_from_db()
    assert company.name == "Перша"
    assert Job.objects.get(pk=job.pk).message.startswith("Created 0, updated 1, skipped 1")


def test_file_where_every_row_is_bad_cannot_be_imported(client, owner, django_capture_on_commit_callbacks):
    client.force_login(owner)
    job = checked_job(client, csv_file("Назва,ЄДРПОУ\nА,11111111\nБ,22222222\n"), django_capture_on_commit_callbacks)
    page = client.get(reverse("contacts:import-preview", args=[job.pk])).content.decode()
    assert "No row of this file can be imported" in page
    assert 'data-testid="import-confirm"' not in page
    response = confirm(client, job, django_capture_on_commit_callbacks)
    assert response.url == reverse("contacts:import-preview", args=[job.pk])
    job.refresh_from_db()
    assert job.params["stage"] == "checked"
    assert not Company.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("report.pdf", b"%PDF-1.4 binary", "Upload a CSV or XLSX file."),
        ("table.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "Old Excel files (.xls) cannot be read"),
        ("data.csv", b"\x00\x01\x02binary\x00junk\x03" * 50, "This is not a text CSV file"),
        ("broken.xlsx", b"not a zip at all", "This is not a valid XLSX file."),
        ("fake.xlsx", b"PK\x03\x04 truncated zip", "This is not a valid XLSX file."),
        ("empty.csv", b"", "The submitted file is empty."),
        ("blank.csv", b"\n;;\n\n", "The file is empty."),
        ("header.csv", "Назва;ЄДРПОУ\n".encode(), "The file has column names but no rows."),
        ("noheader.csv", "ТОВ А;12345678;0671234567\n".encode(), "The first row must hold the column names"),
    ],
)
def test_bad_file_gets_a_clear_message_and_writes_nothing(client, owner, media, name, content, message):
    client.force_login(owner)
    response = upload(client, SimpleUploadedFile(name, content))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Job.objects.exists()
    assert not (media / "imports").exists()


def test_file_over_20_mb_is_refused(client, owner, media, monkeypatch):
    monkeypatch.setattr(imports, "MAX_UPLOAD_BYTES", 100)
    client.force_login(owner)
    response = upload(client, csv_file("Назва\n" + "ТОВ Дуже довга назва\n" * 10))
    assert "The file is larger than 20 MB" in response.content.decode()
    assert not Job.objects.exists()


# --- Create or update ------------------------------------------------------------------------------


def test_rows_update_own_companies_by_edrpou_and_add_only_new_phones(
    client, owner, teammate, django_capture_on_commit_callbacks
):
    code, other = edrpou(3), edrpou(4)
    company = CompanyFactory(
        owner=owner, edrpou=code, name="Old name", city="Львів", tags=["old"], roles=[CompanyRole.CUSTOMER]
    )
    ContactPointFactory(company=company, kind="mobile", value="+380671112233", is_primary=True)
    CompanyFactory(owner=teammate, edrpou=other, name="Teammate's", is_shared=True)
    text = (
        "Назва;ЄДРПОУ;Місто;Теги;Ролі;Телефон\n"
        f"New name;{code};;new;partner;067 111 22 33, 050 000 00 01\n"
        f"Shared renamed;{other};Одеса;;;\n"
        "Brand new;;Дніпро;;;\n"
    )
    client.force_login(owner)
    job = checked_job(client, csv_file(text), django_capture_on_commit_callbacks)
    assert [outcome for outcome, _html in preview_rows(client, job).values()] == ["update", "update", "new"]
    confirm(client, job, django_capture_on_commit_callbacks)
    job.refresh_from_db()
    assert job.message.startswith("Created 1, updated 2, skipped 0")
    company.refresh_from_db()
    assert company.name == "New name"
    assert company.city == "Львів"  # an empty cell leaves the stored value
    assert company.tags == ["new", "old"]
    assert company.roles == [CompanyRole.CUSTOMER, CompanyRole.PARTNER]
    phones = {(p.normalized, p.is_primary) for p in company.points.all()}
    assert phones == {("+380671112233", True), ("+380500000001", False)}
    shared = Company.objects.get(edrpou=other)
    assert (shared.name, shared.city, shared.owner) == ("Shared renamed", "Одеса", teammate)
    latest = company.history.first()
    assert (latest.history_type, latest.history_user, latest.history_change_reason) == ("~", owner, "import")
    assert Company.objects.count() == 3


def test_edrpou_of_another_owners_company_is_a_row_error(client, owner, outsider, django_capture_on_commit_callbacks):
    code = edrpou(5)
    foreign = CompanyFactory(owner=outsider, edrpou=code, name="Чужа")
    client.force_login(owner)
    job = checked_job(client, csv_file(f"Назва,ЄДРПОУ\nМоя,{code}\nІнша,\n"), django_capture_on_commit_callbacks)
    rows = preview_rows(client, job)
    assert rows[2][0] == "error"
    assert "A company with this EDRPOU code belongs to another owner." in rows[2][1]
    confirm(client, job, django_capture_on_commit_callbacks)
    foreign.refresh_from_db()
    assert foreign.name == "Чужа"
    assert Company.objects.count() == 2
    assert not Company.objects.filter(owner=owner, edrpou=code).exists()


def test_director_updates_any_company_by_edrpou(client, director, outsider, django_capture_on_commit_callbacks):
    code = edrpou(6)
    foreign = CompanyFactory(owner=outsider, edrpou=code, name="Чужа")
    client.force_login(director)
    job = checked_job(client, csv_file(f"Назва,ЄДРПОУ\nНова назва,{code}\n"), django_capture_on_commit_callbacks)
    confirm(client, job, django_capture_on_commit_callbacks)
    foreign.refresh_from_db()
    assert (foreign.name, foreign.owner) == ("Нова назва", outsider)


def test_people_are_created_or_updated_by_email(client, owner, outsider, django_capture_on_commit_callbacks):
    code = edrpou(7)
    acme = CompanyFactory(owner=owner, edrpou=code, name="ТОВ Акме")
    CompanyFactory(owner=owner, name="ПП Бета")
    known = PersonFactory(company=None, owner=owner, last_name="Старе", first_name="Ім'я", position="")
    ContactPointFactory(person=known, kind="email", value="Known@Example.com")
    stranger = PersonFactory(company=None, owner=outsider, last_name="Чужий", first_name="Хтось")
    ContactPointFactory(person=stranger, kind="email", value="stranger@example.com")
    text = (
        "Прізвище;Ім'я;По батькові;Посада;ЄДРПОУ;Компанія;Дата народження;Email;Телефон\n"
        f"Шевченко;Тарас;Григорович;Директор;{code};;09.03.1964;;067 765 43 21\n"
        ";;;Менеджер;;пп бета;12.05;KNOWN@example.com;\n"
        "Чужий;Хтось;;;;;;Stranger@Example.com;\n"
        "Нема;Компанії;;;;ТОВ Неіснуюча;31.02;;\n"
    )
    client.force_login(owner)
    job = checked_job(client, csv_file(text), django_capture_on_commit_callbacks, target="person")
    assert job.params["mapping"] == [
        "last_name", "first_name", "patronymic", "position", "company_edrpou", "company_name", "birthday", "email",
        "phone",
    ]  # fmt: skip
    rows = preview_rows(client, job)
    assert [rows[line][0] for line in (2, 3, 4, 5)] == ["new", "update", "error", "error"]
    assert "A person with this e-mail belongs to another owner." in rows[4][1]
    assert "None of the companies you can see matches “ТОВ Неіснуюча”." in rows[5][1]
    assert "Birthday: There is no such date." in rows[5][1]

    confirm(client, job, django_capture_on_commit_callbacks)
    job.refresh_from_db()
    assert job.message.startswith("Created 1, updated 1, skipped 2")
    taras = Person.objects.get(last_name="Шевченко")
    assert (taras.first_name, taras.patronymic, taras.position, taras.company) == (
        "Тарас", "Григорович", "Директор", acme,
    )  # fmt: skip
    assert (taras.birth_day, taras.birth_month, taras.birth_year) == (9, 3, 1964)
    assert (taras.owner, taras.team) == (owner, owner.team)
    assert taras.points.get().normalized == "+380677654321"
    known.refresh_from_db()
    assert (known.last_name, known.position, known.company.name) == ("Старе", "Менеджер", "ПП Бета")
    assert (known.birth_day, known.birth_month, known.birth_year) == (12, 5, None)
    assert known.points.count() == 1  # the same e-mail is not added twice
    stranger.refresh_from_db()
    assert stranger.company is None


def test_person_birthday_formats(client, owner, django_capture_on_commit_callbacks):
    rows = [
        ["Прізвище", "Ім'я", "День народження"],
        ["Один", "А", "01.02.1980"],
        ["Два", "Б", "29.02"],
        ["Три", "В", datetime(1990, 12, 31)],
        ["Чотири", "Г", "1975-07-04"],
        ["П'ять", "Ґ", "31/13"],
        ["Шість", "Д", "01.01.1850"],
        ["Сім", "Е", "вчора"],
    ]
    client.force_login(owner)
    job = checked_job(client, xlsx_file(rows, "people.xlsx"), django_capture_on_commit_callbacks, target="person")
    outcome = preview_rows(client, job)
    assert "There is no such date." in outcome[6][1]
    assert "The birth year must be between 1900 and this year." in outcome[7][1]
    assert "Write the birthday as DD.MM or DD.MM.YYYY." in outcome[8][1]
    confirm(client, job, django_capture_on_commit_callbacks)
    birthdays = dict(Person.objects.values_list("last_name", "birth_day"))
    assert set(birthdays) == {"Один", "Два", "Три", "Чотири"}
    assert Person.objects.get(last_name="Два").birth_year is None
    assert (Person.objects.get(last_name="Три").birth_month, Person.objects.get(last_name="Чотири").birth_year) == (
        12, 1975,
    )  # fmt: skip


# --- The Celery job ------------------------------------------------------------------------------


def test_large_file_runs_in_batches_with_progress(client, owner, django_capture_on_commit_callbacks, monkeypatch):
    """2,000 rows: check + import are timed (100,000 rows were measured by hand, see the report)."""
    calls = []
    real_progress = imports.job_progress

    def spy(**kwargs):
        calls.append(kwargs["progress"])
        real_progress(**kwargs)

    monkeypatch.setattr(imports, "job_progress", spy)
    rows = ["Назва;ЄДРПОУ;Телефон;Email;Місто;Область;Статус"]
    rows += [
        f"ТОВ Компанія {n};{edrpou(100_000 + n)};+38067{n:07d};info{n}@example.com;Київ;Київська;активний"
        for n in range(2000)
    ]
    existing = CompanyFactory(owner=owner, edrpou=edrpou(100_000), name="Стара")
    client.force_login(owner)
    started = time.perf_counter()
    job = checked_job(client, csv_file("\n".join(rows)), django_capture_on_commit_callbacks)
    checked = time.perf_counter()
    assert job.status == JobStatus.DONE
    assert job.params["preview"]["totals"] == {"new": 1999, "update": 1}
    assert len(job.params["preview"]["rows"]) == imports.PREVIEW_ROWS
    confirm(client, job, django_capture_on_commit_callbacks)
    imported = time.perf_counter()
    print(f"\n2,000 rows: check {checked - started:.1f} s, import {imported - checked:.1f} s")
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    assert (job.progress, job.total) == (2000, 2000)
    assert job.message.startswith("Created 1999, updated 1, skipped 0")
    assert job.params["result"]["new"] == 1999  # the checkpoint kept with each batch
    assert calls == [500, 1000, 1500, 2000, 0, 500, 1000, 1500, 2000]
    assert Company.objects.count() == 2000
    assert ContactPoint.objects.count() == 4000
    existing.refresh_from_db()
    assert existing.name == "ТОВ Компанія 0"
    assert Company.history.filter(history_type="+").count() == 2000  # 1 factory + 1,999 imported
    page = client.get(reverse("crm:job-detail", args=[job.pk])).content.decode()
    assert "Created 1999, updated 1" in page
    assert 'data-percent="100"' in page
    assert imported - started < 60


def test_task_run_twice_does_nothing_the_second_time(client, owner, django_capture_on_commit_callbacks):
    client.force_login(owner)
    job = checked_job(client, csv_file("Назва\nТОВ А\n"), django_capture_on_commit_callbacks)
    confirm(client, job, django_capture_on_commit_callbacks)
    contacts_import_task.delay(job.pk)
    contacts_import_task.delay(job.pk)
    assert Company.objects.count() == 1
    assert Job.objects.get(pk=job.pk).status == JobStatus.DONE


def test_import_resumes_after_the_last_committed_batch(client, owner, django_capture_on_commit_callbacks, monkeypatch):
    """A worker that died after the first batch: the redelivered task continues from the checkpoint."""
    monkeypatch.setattr(imports, "BATCH_ROWS", 2)
    text = "Назва\n" + "".join(f"ТОВ {n}\n" for n in range(5))
    client.force_login(owner)
    job = checked_job(client, csv_file(text), django_capture_on_commit_callbacks)
    # As the first worker left it: two rows committed, the checkpoint at 2, the job running.
    Company.objects.create(name="ТОВ 0", owner=owner)
    Company.objects.create(name="ТОВ 1", owner=owner)
    params = {**job.params, "stage": "importing", "result": {"new": 2, "update": 0, "error": 0, "errors": []}}
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, progress=2, params=params)
    contacts_import_task.delay(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    assert job.message.startswith("Created 5, updated 0")
    assert sorted(Company.objects.values_list("name", flat=True)) == [f"ТОВ {n}" for n in range(5)]


def test_confirm_twice_imports_once(client, owner, django_capture_on_commit_callbacks):
    client.force_login(owner)
    job = checked_job(client, csv_file("Назва\nТОВ А\n"), django_capture_on_commit_callbacks)
    confirm(client, job, django_capture_on_commit_callbacks)
    response = confirm(client, job, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert Company.objects.count() == 1


# --- Preview page ------------------------------------------------------------------------------------


def test_preview_polls_while_checking_and_htmx_gets_the_partial(client, owner):
    client.force_login(owner)
    upload(client, csv_file("Назва\nТОВ А\n"))
    job = Job.objects.get()
    # The mapping is saved but no worker has run the check yet.
    Job.objects.filter(pk=job.pk).update(params={**job.params, "stage": "checking"})
    url = reverse("contacts:import-preview", args=[job.pk])
    full = client.get(url)
    assert full.status_code == 200
    assert b"<html" in full.content
    assert 'hx-trigger="every 1s"' in full.content.decode()
    partial = client.get(url, headers={"HX-Request": "true"})
    assert b"<html" not in partial.content
    assert 'id="import-preview"' in partial.content.decode()
    assert "HX-Request" in full.headers["Vary"]


def test_failed_check_shows_its_message_and_the_mapping_can_be_retried(
    client, owner, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    upload(client, csv_file("Назва\nТОВ А\n"))
    job = Job.objects.get()
    default_storage.delete(job.params["path"])  # e.g. the media volume was cleaned in between
    response = map_columns(client, job, django_capture_on_commit_callbacks)
    assert response.url == reverse("contacts:import-preview", args=[job.pk])
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    page = client.get(response.url).content.decode()
    assert "The uploaded file is gone: upload it again." in page
    assert client.get(reverse("contacts:import-map", args=[job.pk])).status_code == 200
    assert not Company.objects.exists()


def test_preview_before_mapping_goes_to_the_mapping_page(client, owner):
    client.force_login(owner)
    upload(client, csv_file("Назва\nТОВ А\n"))
    job = Job.objects.get()
    response = client.get(reverse("contacts:import-preview", args=[job.pk]))
    assert response.url == reverse("contacts:import-map", args=[job.pk])


# --- Pure helpers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Kyiv Oblast", Region.KYIV_OBLAST),
        ("Київська обл.", Region.KYIV_OBLAST),
        ("м. Київ", Region.KYIV_CITY),
        ("Kyiv", Region.KYIV_CITY),
        ("LVIV", Region.LVIV),
        ("Івано-Франківська область", Region.IVANO_FRANKIVSK),
        ("zakarpattia", Region.ZAKARPATTIA),
        ("АР Крим", Region.CRIMEA),
    ],
)
def test_region_accepts_codes_and_labels(text, value):
    widget = imports.ChoiceWidget(Region, imports.REGION_ALIASES)
    assert widget.clean(text) == value


def test_formulas_are_escaped_in_the_error_report():
    assert imports.escape_formula("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert imports.escape_formula("+380") == "'+380"
    assert imports.escape_formula("ТОВ") == "ТОВ"
