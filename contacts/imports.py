"""Import of companies and people from CSV and XLSX files (issue 4, item 11).

Flow: upload (the file is checked, stored under ``imports/`` in the default storage and a ``crm.Job``
of kind ``contacts_import`` is created) → column mapping → a dry run in Celery that classifies every
row as new / update / error (stored in the job for the preview) → the user confirms → the import in
Celery, in batches of ``BATCH_ROWS`` rows, each batch one transaction.

Atomicity (decided for issue 4): a bad *file* — not CSV/XLSX, empty, no header row, over 20 MB, no
importable row — is refused with a message and writes nothing. Bad *rows* are listed in the preview
with their errors and are skipped at import; the other rows are imported and the job's message
counts the skipped rows and names them. The preview says so before the user confirms.

Matching: companies by EDRPOU (rows without one create), people by their first e-mail (normalised,
lower case). Only records the importing user can see are updated; a code or e-mail that belongs to
someone else's record is a row error. Empty cells never overwrite stored values; tags and roles are
added to the stored ones; phones and e-mails are added as contact points unless already present.
"""

from __future__ import annotations

import copy
import csv
import io
import re
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from functools import reduce
from operator import or_
from pathlib import PurePath
from typing import IO, Any

import openpyxl
import phonenumbers
import tablib
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.validators import URLValidator
from django.db import connection, models, transaction
from django.db.models import F, Func, JSONField, Q, Value
from django.db.models.functions import Cast
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from import_export import resources, widgets
from import_export.fields import Field
from import_export.instance_loaders import BaseInstanceLoader
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from contacts.models import (
    Company,
    CompanyRole,
    CompanyStatus,
    ContactPoint,
    ContactPointKind,
    Person,
    Region,
    SavedFilter,
)
from contacts.services import contact_point_values
from contacts.validators import validate_edrpou, validate_tax_number
from crm.lib.spreadsheet import escape_formula
from crm.models import Job, JobStatus, Role, User
from crm.services import job_fail, job_finish, job_progress, job_start

JOB_KIND = "contacts_import"
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_COLUMNS = 100
# One batch = one transaction, one progress update and a handful of queries (bulk lookups and writes).
BATCH_ROWS = 500
# Rows per INSERT: psycopg and Django spend more per value on very long statements.
INSERT_BATCH = 100
PREVIEW_ROWS = 100  # the first rows of the file, whatever their outcome
PREVIEW_ERRORS = 500  # plus rows with errors further down, up to this many
REPORT_ERRORS = 50  # rows with errors named in the final job message
SAMPLE_ROWS = 3
# First key of the job's advisory lock (a constant: str hashes differ between processes).
LOCK_NAMESPACE = 0x1C0A
CHANGE_REASON = "import"
IMPORT_ROLES = (Role.SALES_REP, Role.SALES_MANAGER, Role.DIRECTOR, Role.ADMINISTRATOR)


# What a file holds: the same two lists a saved filter targets.
Target = SavedFilter.Target


class Stage(models.TextChoices):
    """Where an import job is; kept in ``job.params["stage"]`` (the job status is the Celery run's)."""

    MAPPING = "mapping", gettext_lazy("Column mapping")
    CHECKING = "checking", gettext_lazy("Checking")
    CHECKED = "checked", gettext_lazy("Checked")
    IMPORTING = "importing", gettext_lazy("Importing")
    IMPORTED = "imported", gettext_lazy("Imported")


class ImportStopped(Exception):
    """The file cannot be processed any further; the message is for the user."""


# --- Access ------------------------------------------------------------------------------------


def can_import(user: Any) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.has_perm("contacts.add_company") or user.has_role(*IMPORT_ROLES))
    )


def _check_can_import(user: User) -> None:
    if not can_import(user):
        raise PermissionDenied


# --- Fields the user maps columns to -----------------------------------------------------------


@dataclass(frozen=True)
class ImportField:
    key: str
    label: Any  # lazy string
    aliases: tuple[str, ...] = ()


COMPANY_FIELDS = (
    ImportField("name", gettext_lazy("Name"), ("назва", "найменування", "повна назва", "назва компанії",
                "компанія", "company", "company name", "організація", "контрагент", "full name")),
    ImportField("short_name", gettext_lazy("Short name"), ("коротка назва", "скорочена назва", "short name")),
    ImportField("edrpou", gettext_lazy("EDRPOU code"), ("єдрпоу", "код єдрпоу", "едрпоу", "код", "edrpou",
                "edrpou code", "код за єдрпоу", "usreou")),
    ImportField("tax_number", gettext_lazy("Tax number"), ("іпн", "інн", "податковий номер", "tax number", "tax id",
                "vat", "ipn", "індивідуальний податковий номер")),
    ImportField("roles", gettext_lazy("Roles"), ("ролі", "роль", "role", "roles", "тип контрагента")),
    ImportField("status", gettext_lazy("Status"), ("статус", "status", "стан")),
    ImportField("region", gettext_lazy("Region"), ("область", "регіон", "region", "oblast")),
    ImportField("city", gettext_lazy("City"), ("місто", "населений пункт", "city", "town")),
    ImportField("legal_address", gettext_lazy("Legal address"), ("юридична адреса", "адреса", "legal address",
                "address")),
    ImportField("delivery_address", gettext_lazy("Delivery address"), ("адреса доставки", "фактична адреса",
                "delivery address", "shipping address")),
    ImportField("website", gettext_lazy("Website"), ("сайт", "вебсайт", "веб сайт", "website", "web site", "web",
                "url", "www")),
    ImportField("tags", gettext_lazy("Tags"), ("теги", "тег", "мітки", "tags", "tag")),
    ImportField("phone", gettext_lazy("Phone"), ("телефон", "телефони", "тел", "phone", "phones", "telephone",
                "мобільний", "mobile")),
    ImportField("email", gettext_lazy("E-mail"), ("email", "e mail", "ел пошта", "електронна пошта", "пошта",
                "емейл", "імейл", "mail")),
)  # fmt: skip

PERSON_FIELDS = (
    ImportField("last_name", gettext_lazy("Last name"), ("прізвище", "last name", "surname", "family name")),
    ImportField("first_name", gettext_lazy("First name"), ("ім'я", "імя", "first name", "given name")),
    ImportField("patronymic", gettext_lazy("Patronymic"), ("по батькові", "patronymic", "middle name")),
    ImportField("position", gettext_lazy("Position"), ("посада", "position", "job title", "title")),
    ImportField("company_edrpou", gettext_lazy("Company EDRPOU code"), ("єдрпоу", "код єдрпоу", "єдрпоу компанії",
                "едрпоу", "edrpou", "company edrpou")),
    ImportField("company_name", gettext_lazy("Company name"), ("компанія", "назва компанії", "організація",
                "company", "company name", "контрагент")),
    ImportField("birthday", gettext_lazy("Birthday"), ("день народження", "дата народження", "birthday",
                "birth date", "date of birth", "др")),
    ImportField("email", gettext_lazy("E-mail"), ("email", "e mail", "ел пошта", "електронна пошта", "пошта",
                "емейл", "імейл", "mail")),
    ImportField("phone", gettext_lazy("Phone"), ("телефон", "телефони", "мобільний", "тел", "phone", "phones",
                "mobile", "telephone")),
)  # fmt: skip

TARGET_FIELDS = {Target.COMPANY: COMPANY_FIELDS, Target.PERSON: PERSON_FIELDS}


def field_choices(target: str) -> list[tuple[str, str]]:
    return [(field.key, str(field.label)) for field in TARGET_FIELDS[target]]


def _norm_header(text: Any) -> str:
    text = str(text or "").lower().replace("’", "'").replace("ʼ", "'").replace("`", "'").replace("ё", "е")
    return " ".join(re.sub(r"[^\w']+", " ", text).split())


def guess_mapping(target: str, headers: list[str]) -> list[str]:
    """A field key (or "") per column, from header names in Ukrainian or English; each field used once."""
    lookup: dict[str, str] = {}
    for field in TARGET_FIELDS[target]:
        names = [field.key, field.key.replace("_", " "), *field.aliases]
        for language in ("en", "uk"):
            with translation.override(language):
                names.append(str(field.label))
        for name in names:
            lookup.setdefault(_norm_header(name), field.key)
    mapping: list[str] = []
    for header in headers:
        key = lookup.get(_norm_header(header), "")
        mapping.append("" if key in mapping else key)
    return mapping


def validate_mapping(target: str, mapping: list[str]) -> None:
    """Raises ValidationError keyed by the form's ``col_<n>`` fields (or non-field)."""
    labels = dict(field_choices(target))
    errors: dict[str, list[str]] = {}
    first: dict[str, int] = {}
    for index, key in enumerate(mapping):
        if not key:
            continue
        if key not in labels:
            errors[f"col_{index}"] = [_("Choose one of the offered fields.")]
        elif key in first:
            errors[f"col_{index}"] = [
                _("“%(field)s” is already chosen for column %(column)s.")
                % {"field": labels[key], "column": first[key] + 1}
            ]
        else:
            first[key] = index
    chosen = set(first)
    if target == Target.COMPANY and not chosen & {"name", "edrpou"}:
        errors[NON_FIELD_ERRORS] = [_("Choose the column with the company name (or the EDRPOU code to update).")]
    if target == Target.PERSON and not ({"last_name", "first_name"} <= chosen or "email" in chosen):
        errors[NON_FIELD_ERRORS] = [_("Choose the columns with the last and first name (or the e-mail to update).")]
    if errors:
        raise ValidationError(errors)


# --- Reading files -----------------------------------------------------------------------------


def cell_text(value: Any) -> str:
    """A spreadsheet cell as text: 12345678.0 → "12345678", dates as ISO, None → ""."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _is_blank(cells: Iterable[Any]) -> bool:
    return not any(cell_text(cell) for cell in cells)


def _detect_format(head: bytes, name: str) -> str:
    suffix = PurePath(name).suffix.lower()
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ValidationError({"file": _("Old Excel files (.xls) cannot be read: save the file as .xlsx or CSV.")})
    if suffix in {".xlsx", ".xlsm"}:
        raise ValidationError({"file": _("This is not a valid XLSX file.")})
    if suffix not in {".csv", ".txt", ""}:
        raise ValidationError({"file": _("Upload a CSV or XLSX file.")})
    return "csv"


def _decode(data: bytes) -> tuple[str, str]:
    """UTF-8 (with or without BOM) when the bytes are valid UTF-8, else Windows-1251 (Excel-UA's CSV)."""
    for encoding in ("utf-8-sig", "cp1251"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        controls = sum(1 for char in text[:65536] if char < " " and char not in "\t\r\n")
        if "\x00" in text or controls > 10:
            raise ValidationError({"file": _("This is not a text CSV file: save the table as “CSV UTF-8” or XLSX.")})
        return text, encoding
    raise ValidationError({"file": _("The file's text encoding is unknown: save it as “CSV UTF-8”.")})


def _sniff_delimiter(text: str) -> str:
    """Excel-UA writes ';', most other tools ','; the header line decides (column names rarely hold either)."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    counts = {delimiter: header.count(delimiter) for delimiter in (";", ",", "\t")}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


@contextmanager
def _open_rows(fh: IO[bytes], params: dict[str, Any]) -> Iterator[tuple[Iterator[tuple[int, list[Any]]], int | None]]:
    """All rows of a stored file as (spreadsheet row number, cells), and the sheet's own row count when
    it states one (XLSX files written by Excel do; CSV files and some generators do not)."""
    if params["format"] == "xlsx":
        workbook = openpyxl.load_workbook(fh, read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            rows = ((number, list(values)) for number, values in enumerate(sheet.iter_rows(values_only=True), 1))
            yield rows, sheet.max_row
        finally:
            workbook.close()
    else:
        text = io.TextIOWrapper(fh, encoding=params["encoding"], newline="")
        try:
            yield enumerate(csv.reader(text, delimiter=params["delimiter"]), 1), None
        finally:
            text.detach()  # leave the caller's file open


def _split_header(rows: Iterator[tuple[int, list[Any]]]) -> tuple[list[str], Iterator[tuple[int, list[Any]]]]:
    """The first non-blank row is the header; data rows follow, blank ones skipped, cut to the header's width."""
    for _number, cells in rows:
        if not _is_blank(cells):
            headers = [cell_text(cell) for cell in cells]
            while headers and not headers[-1]:
                headers.pop()
            break
    else:
        return [], iter(())
    width = len(headers)

    def data() -> Iterator[tuple[int, list[Any]]]:
        for number, cells in rows:
            cells = list(cells[:width]) + [None] * (width - len(cells))
            if not _is_blank(cells):
                yield number, cells

    return headers, data()


def _inspect(fh: IO[bytes], params: dict[str, Any], target: str) -> dict[str, Any]:
    """Header, a few sample rows and the row count; raises ValidationError for a file we cannot use.

    CSV rows are counted (a fraction of a second for 20 MB). Reading a big XLSX costs ~0.1 ms per row,
    too slow for the upload request: its count is the sheet's own (or None) until the dry run counts.
    """
    try:
        with _open_rows(fh, params) as (rows, stated_rows):
            headers, data = _split_header(rows)
            sample: list[list[str]] = []
            count = 0
            for number, cells in data:
                if len(sample) < SAMPLE_ROWS:
                    sample.append([cell_text(cell) for cell in cells])
                count += 1
                if params["format"] == "xlsx" and len(sample) == SAMPLE_ROWS:
                    count = stated_rows - number + count if stated_rows else None
                    break
    except csv.Error as error:
        raise ValidationError({"file": _("The CSV file is damaged: %(error)s") % {"error": error}}) from None
    except ValidationError:
        raise
    except Exception:  # openpyxl raises many kinds of errors for a damaged or foreign zip
        raise ValidationError({"file": _("This is not a valid XLSX file.")}) from None
    if not headers:
        raise ValidationError({"file": _("The file is empty.")})
    if len(headers) > MAX_COLUMNS:
        raise ValidationError({"file": _("The file has more than %(n)s columns.") % {"n": MAX_COLUMNS}})
    mapping = guess_mapping(target, headers)
    looks_like_data = any("@" in header or len(re.sub(r"\D", "", header)) >= 5 for header in headers)
    if not any(mapping) and looks_like_data:
        raise ValidationError(
            {
                "file": _(
                    "The first row must hold the column names (e.g. Name, EDRPOU, Phone); this file starts with data."
                )
            }
        )
    if not count:
        raise ValidationError({"file": _("The file has column names but no rows.")})
    headers = [header or _("Column %(n)s") % {"n": index + 1} for index, header in enumerate(headers)]
    return {"headers": headers, "sample": sample, "rows": count, "mapping": mapping}


# --- Widgets and fields: one cell → a clean value or a ValueError with a readable message ---------


def _norm_choice(text: str) -> str:
    text = text.lower().replace("’", "'").replace("ʼ", "'")
    words = re.sub(r"[^\w']+", " ", text).split()
    return " ".join(word for word in words if word not in {"область", "обл"})


REGION_ALIASES = {
    "вінницька": Region.VINNYTSIA, "волинська": Region.VOLYN, "дніпропетровська": Region.DNIPROPETROVSK,
    "донецька": Region.DONETSK, "житомирська": Region.ZHYTOMYR, "закарпатська": Region.ZAKARPATTIA,
    "запорізька": Region.ZAPORIZHZHIA, "івано франківська": Region.IVANO_FRANKIVSK, "київська": Region.KYIV_OBLAST,
    "кіровоградська": Region.KIROVOHRAD, "луганська": Region.LUHANSK, "львівська": Region.LVIV,
    "миколаївська": Region.MYKOLAIV, "одеська": Region.ODESA, "полтавська": Region.POLTAVA,
    "рівненська": Region.RIVNE, "сумська": Region.SUMY, "тернопільська": Region.TERNOPIL,
    "харківська": Region.KHARKIV, "херсонська": Region.KHERSON, "хмельницька": Region.KHMELNYTSKYI,
    "черкаська": Region.CHERKASY, "чернівецька": Region.CHERNIVTSI, "чернігівська": Region.CHERNIHIV,
    "київ": Region.KYIV_CITY, "м київ": Region.KYIV_CITY, "місто київ": Region.KYIV_CITY, "kyiv": Region.KYIV_CITY,
    "kyiv city": Region.KYIV_CITY, "kiev": Region.KYIV_CITY, "севастополь": Region.SEVASTOPOL,
    "м севастополь": Region.SEVASTOPOL, "sevastopol": Region.SEVASTOPOL, "крим": Region.CRIMEA,
    "ар крим": Region.CRIMEA, "автономна республіка крим": Region.CRIMEA, "crimea": Region.CRIMEA,
}  # fmt: skip
STATUS_ALIASES = {
    "активний": CompanyStatus.ACTIVE, "активна": CompanyStatus.ACTIVE, "діючий": CompanyStatus.ACTIVE,
    "діюча": CompanyStatus.ACTIVE, "неактивний": CompanyStatus.DORMANT, "неактивна": CompanyStatus.DORMANT,
    "сплячий": CompanyStatus.DORMANT, "призупинений": CompanyStatus.DORMANT, "inactive": CompanyStatus.DORMANT,
    "втрачений": CompanyStatus.LOST, "втрачена": CompanyStatus.LOST, "втрачено": CompanyStatus.LOST,
}  # fmt: skip
ROLE_ALIASES = {
    "клієнт": CompanyRole.CUSTOMER, "покупець": CompanyRole.CUSTOMER, "замовник": CompanyRole.CUSTOMER,
    "client": CompanyRole.CUSTOMER, "потенційний клієнт": CompanyRole.PROSPECT, "потенційний": CompanyRole.PROSPECT,
    "lead": CompanyRole.PROSPECT, "постачальник": CompanyRole.SUPPLIER, "vendor": CompanyRole.SUPPLIER,
    "партнер": CompanyRole.PARTNER,
}  # fmt: skip


def _choice_table(choices: type[models.TextChoices], aliases: dict[str, str]) -> dict[str, str]:
    """Codes, English and Ukrainian labels (case-insensitive), label stems ("Lviv" for "Lviv Oblast"), aliases."""
    table: dict[str, str] = {}
    stems: dict[str, str] = {}
    for value, label in choices.choices:
        table[_norm_choice(value)] = value
        for language in ("en", "uk"):
            with translation.override(language):
                text = _norm_choice(str(label))
            table[text] = value
            stem = re.sub(r"\s*\b(oblast|city)\b", "", text).strip()
            stems.setdefault(stem, value)
    return {**stems, **table, **{_norm_choice(alias): value for alias, value in aliases.items()}}


class TextWidget(widgets.CharWidget):
    """Text with whitespace collapsed; an empty cell is None, so it never wipes a stored value."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str | None:
        return " ".join(cell_text(value).split()) or None


class EdrpouWidget(widgets.Widget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str | None:
        code = edrpou_text(value)
        if not code:
            return None
        try:
            validate_edrpou(code)
        except ValidationError as error:
            raise ValueError(error.messages[0]) from None
        return code


def edrpou_text(value: Any) -> str:
    """Spaces removed; leading zeros that a spreadsheet dropped (32945 → 00032945) put back."""
    code = re.sub(r"\s", "", cell_text(value))
    return code.zfill(8) if code.isdigit() and 5 <= len(code) < 8 else code


class TaxNumberWidget(widgets.Widget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str | None:
        number = re.sub(r"\s", "", cell_text(value))
        if not number:
            return None
        try:
            validate_tax_number(number)
        except ValidationError as error:
            raise ValueError(error.messages[0]) from None
        return number


class ChoiceWidget(widgets.Widget):
    def __init__(self, choices: type[models.TextChoices], aliases: dict[str, str]) -> None:
        super().__init__()
        self.choices = choices
        self.aliases = aliases

    def one(self, text: str) -> str:
        # Built on first use (translations are not ready when the module is imported) and per
        # resource: Resource.__init__ deep-copies its fields, so a new import sees a new catalogue.
        if not hasattr(self, "table"):
            self.table = _choice_table(self.choices, self.aliases)
        value = self.table.get(_norm_choice(text))
        if value is None:
            raise ValueError(
                _("Unknown value “%(value)s”: use one of %(choices)s.")
                % {"value": text, "choices": ", ".join(str(label) for label in self.choices.labels)}
            )
        return value

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str | None:
        text = cell_text(value)
        return self.one(text) if text else None


class ChoiceListWidget(ChoiceWidget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> list[str] | None:
        parts = [part.strip() for part in re.split(r"[,;/|]", cell_text(value)) if part.strip()]
        return [self.one(part) for part in parts] or None


class TagsWidget(widgets.Widget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> list[str] | None:
        return sorted({tag.strip().lower() for tag in re.split(r"[,;]", cell_text(value)) if tag.strip()}) or None


class WebsiteWidget(widgets.Widget):
    validator = URLValidator()

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str | None:
        url = cell_text(value)
        if not url:
            return None
        if not re.match(r"^[a-z][a-z0-9+.-]*://", url, re.IGNORECASE):
            url = f"https://{url}"
        try:
            self.validator(url)
        except ValidationError:
            raise ValueError(_("“%(value)s” is not a web address.") % {"value": cell_text(value)}) from None
        return url


class PointsWidget(widgets.Widget):
    """Phones or e-mails, several per cell separated by , or ; → [(kind, contact point values)]."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> list[tuple[str, dict[str, str]]] | None:
        text = cell_text(value)
        parts = re.split(r"[,;\n]" if self.kind == ContactPointKind.PHONE else r"[,;\s]", text)
        points: list[tuple[str, dict[str, str]]] = []
        for part in filter(None, (part.strip() for part in parts)):
            try:
                values = contact_point_values(self.kind, part)
            except ValidationError as error:
                message = error.message_dict.get("value", error.messages)[0]
                raise ValueError(f"“{part}”: {message}") from None
            if len(part) > 300:
                raise ValueError(_("“%(value)s…” is too long.") % {"value": part[:20]})
            kind = self.kind
            if kind == ContactPointKind.PHONE and _is_mobile(values["normalized"]):
                kind = ContactPointKind.MOBILE
            if all(values["normalized"] != point["normalized"] for _kind, point in points):
                points.append((kind, values))
        return points or None


def _is_mobile(e164: str) -> bool:
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE


def first_email(value: Any) -> str:
    """The e-mail a person is matched by: the first valid one in the cell, normalised; "" if none."""
    for part in re.split(r"[,;\s]", cell_text(value)):
        try:
            return contact_point_values(ContactPointKind.EMAIL, part)["normalized"]
        except ValidationError:
            continue
    return ""


class CellField(Field):
    """A field whose empty cell leaves the stored value alone."""

    def __init__(self, key: str, widget: widgets.Widget, attribute: str | None = None) -> None:
        super().__init__(attribute=attribute or key, column_name=key, widget=widget, saves_null_values=False)


class MergeListField(CellField):
    """Roles and tags: the file's values are added to the stored ones."""

    def save(self, instance: Any, row: dict[str, Any], is_m2m: bool = False, **kwargs: Any) -> None:
        cleaned = self.clean(row, **kwargs)
        if cleaned:
            current = getattr(instance, self.attribute) or []
            setattr(instance, self.attribute, sorted(set(current) | set(cleaned)))


class BirthdayField(CellField):
    """DD.MM or DD.MM.YYYY (also YYYY-MM-DD and spreadsheet dates) → birth_day / birth_month / birth_year."""

    def __init__(self) -> None:
        super().__init__("birthday", widgets.Widget(), attribute="birth_day")

    def save(self, instance: Any, row: dict[str, Any], is_m2m: bool = False, **kwargs: Any) -> None:
        parsed = parse_birthday(row.get(self.column_name))
        if parsed is None:
            return
        day, month, year = parsed
        if year is None and (day, month) == (instance.birth_day, instance.birth_month):
            year = instance.birth_year  # "12.05" does not erase a stored year of the same date
        instance.birth_day, instance.birth_month, instance.birth_year = day, month, year


def parse_birthday(value: Any) -> tuple[int, int, int | None] | None:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        day, month, year = value.day, value.month, value.year
    else:
        text = cell_text(value)
        if not text:
            return None
        if match := re.fullmatch(r"(\d{1,2})[./-](\d{1,2})(?:[./-](\d{4}))?\.?", text):
            day, month, year = int(match[1]), int(match[2]), int(match[3]) if match[3] else None
        elif match := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text):
            day, month, year = int(match[3]), int(match[2]), int(match[1])
        else:
            raise ValueError(_("Write the birthday as DD.MM or DD.MM.YYYY."))
    try:
        date(year or 2000, month, day)  # 2000 is a leap year: 29.02 without a year is fine
    except ValueError:
        raise ValueError(_("There is no such date.")) from None
    if year is not None and not 1900 <= year <= timezone.localdate().year:
        raise ValueError(_("The birth year must be between 1900 and this year."))
    return day, month, year


# --- Resources ---------------------------------------------------------------------------------


class _CompanyLoader(BaseInstanceLoader):
    """Per batch: the user's companies with the batch's EDRPOU codes, and which codes belong to others."""

    def __init__(self, resource: CompanyResource, dataset: tablib.Dataset) -> None:
        super().__init__(resource, dataset)
        codes = {code for code in map(edrpou_text, dataset["edrpou"]) if code}
        self.visible: dict[str, list[Company]] = defaultdict(list)
        self.taken: set[str] = set()
        if codes:
            # exclude(edrpou=""): lets PostgreSQL use the partial index contacts_company_edrpou_idx.
            matches = Company.objects.exclude(edrpou="").filter(edrpou__in=codes)
            for company in matches.visible_to(resource.user).order_by("pk"):
                self.visible[company.edrpou].append(company)
            self.taken = set(matches.exclude(edrpou__in=list(self.visible)).values_list("edrpou", flat=True))

    def get_instance(self, row: dict[str, Any]) -> Company | None:
        code = edrpou_text(row["edrpou"])
        found = self.visible.get(code, [])
        if len(found) > 1:
            raise ValidationError(
                {"edrpou": _("Several of your companies have this EDRPOU code: merge the duplicates first.")}
            )
        if not found and code in self.taken:
            raise ValidationError({"edrpou": _("A company with this EDRPOU code belongs to another owner.")})
        # A copy per row: a later row with the same code (an error) must not change the queued instance.
        return copy.copy(found[0]) if found else None


class _PersonLoader(BaseInstanceLoader):
    """Per batch: the user's people with the batch's e-mails, and the companies the rows refer to."""

    def __init__(self, resource: PersonResource, dataset: tablib.Dataset) -> None:
        super().__init__(resource, dataset)
        user = resource.user
        emails = {email for email in map(first_email, dataset["email"]) if email}
        self.by_email: dict[str, list[int]] = defaultdict(list)
        self.people: dict[int, Person] = {}
        if emails:
            points = ContactPoint.objects.filter(
                kind=ContactPointKind.EMAIL, normalized__in=emails, person__isnull=False
            ).values_list("normalized", "person_id")
            for email, person_id in points:
                self.by_email[email].append(person_id)
            ids = {person_id for ids in self.by_email.values() for person_id in ids}
            self.people = {person.pk: person for person in Person.objects.visible_to(user).filter(pk__in=ids)}
        codes = {code for code in map(edrpou_text, dataset["company_edrpou"]) if code}
        names = {" ".join(cell_text(name).split()).casefold() for name in dataset["company_name"]} - {""}
        self.companies_by_code: dict[str, list[Company]] = defaultdict(list)
        self.companies_by_name: dict[str, list[Company]] = defaultdict(list)
        lookups = [Q(edrpou__in=codes) & ~Q(edrpou="")] if codes else []
        lookups += [Q(name__iexact=name) for name in names]
        if lookups:
            companies = Company.objects.visible_to(user).filter(reduce(or_, lookups)).only("pk", "name", "edrpou")
            for company in companies.order_by("pk"):
                if company.edrpou in codes:
                    self.companies_by_code[company.edrpou].append(company)
                self.companies_by_name[company.name.casefold()].append(company)

    def get_instance(self, row: dict[str, Any]) -> Person | None:
        email = first_email(row["email"])
        ids = set(self.by_email.get(email, []))
        visible = [self.people[pk] for pk in sorted(ids) if pk in self.people]
        if len(visible) > 1:
            raise ValidationError({"import_emails": _("Several of your people have this e-mail: merge them first.")})
        if not visible and ids:
            raise ValidationError({"import_emails": _("A person with this e-mail belongs to another owner.")})
        return copy.copy(visible[0]) if visible else None


class _ContactsResource(resources.ModelResource):
    """Shared behaviour: owner and team, per-row validation, in-file duplicates, bulk writes with history."""

    holder_field = ""  # the ContactPoint foreign key: "company" or "person"
    key_attribute = ""  # the attribute the in-file duplicate check and the error for it use
    fields_catalogue: tuple[ImportField, ...] = ()
    # Import field key → model attributes it writes (bulk_update's field list).
    writes: dict[str, tuple[str, ...]] = {}

    def __init__(self, *, user: User, mapped: Iterable[str]) -> None:
        super().__init__()
        self.user = user
        self.mapped = set(mapped)
        self.seen: dict[str, int] = {}  # key (EDRPOU / e-mail) → first row it appeared in
        self.lines: list[int] = []  # spreadsheet row numbers of the current batch
        self.line = 0
        self.loader: BaseInstanceLoader | None = None
        self.labels = {self.fields[field.key].attribute: field.label for field in self.fields_catalogue}
        self.model_fields = [
            self._meta.model._meta.get_field(attribute)
            for key in self.mapped
            for attribute in self.writes.get(key, ())
            if attribute not in {"company", "birth_day", "birth_month", "birth_year"}
        ]

    # import-export hooks

    def before_import_row(self, row: dict[str, Any], **kwargs: Any) -> None:
        self.line = self.lines[kwargs["row_number"] - 1]

    def get_or_init_instance(self, instance_loader: BaseInstanceLoader, row: dict[str, Any]) -> tuple[Any, bool]:
        self.loader = instance_loader
        try:
            instance = instance_loader.get_instance(row)
        except ValidationError as error:
            instance = None
            lookup_errors = error.message_dict
        else:
            lookup_errors = {}
        if instance is not None:
            return instance, False
        instance = self._meta.model(owner=self.user, team_id=self.user.team_id)
        instance._import_errors = lookup_errors
        return instance, True

    def validate_instance(
        self, instance: Any, import_validation_errors: dict | None = None, validate_unique: bool = True
    ) -> None:
        errors: dict[str, list[Any]] = {key: list(value) for key, value in (import_validation_errors or {}).items()}
        for key, messages in getattr(instance, "_import_errors", {}).items():
            errors.setdefault(key, []).extend(messages)

        def add(key: str, message: str) -> None:
            errors.setdefault(key, []).append(message)

        for field in self.model_fields:
            if field.attname not in errors:
                try:
                    field.clean(getattr(instance, field.attname), instance)
                except ValidationError as error:
                    errors.setdefault(field.attname, []).extend(error.messages)
        self.check_row(instance, add)
        key = self.row_key(instance)
        if key and not errors:
            if key in self.seen:
                add(self.key_attribute, _("The same value is already in row %(row)s.") % {"row": self.seen[key]})
            else:
                self.seen[key] = self.line
        if errors:
            raise ValidationError(errors)

    def after_import(self, dataset: tablib.Dataset, result: Any, **kwargs: Any) -> None:
        """No sequence reset (ModelResource's default): we never supply ids, and a reset races other writers."""

    def bulk_create(
        self, using_transactions: bool, dry_run: bool, raise_errors: bool, batch_size: Any = None, result: Any = None
    ) -> None:
        try:
            if self.create_instances and not dry_run:
                created = bulk_create_with_history(
                    self.create_instances,
                    self._meta.model,
                    batch_size=INSERT_BATCH,
                    default_user=self.user,
                    default_change_reason=CHANGE_REASON,
                )
                self._add_points(created, existing=[])
        except Exception as error:
            self.handle_import_error(result, error, raise_errors)
        finally:
            self.create_instances.clear()

    def bulk_update(
        self, using_transactions: bool, dry_run: bool, raise_errors: bool, batch_size: Any = None, result: Any = None
    ) -> None:
        try:
            if self.update_instances and not dry_run:
                now = timezone.now()
                for instance in self.update_instances:
                    instance.updated_at = now
                fields = sorted({attribute for key in self.mapped for attribute in self.writes.get(key, ())})
                bulk_update_with_history(
                    self.update_instances,
                    self._meta.model,
                    [*fields, "updated_at"],
                    batch_size=INSERT_BATCH,
                    default_user=self.user,
                    default_change_reason=CHANGE_REASON,
                )
                holder_ids = [instance.pk for instance in self.update_instances]
                existing = ContactPoint.objects.filter(**{f"{self.holder_field}_id__in": holder_ids}).values_list(
                    f"{self.holder_field}_id", "kind", "normalized"
                )
                self._add_points(self.update_instances, existing=list(existing))
        except Exception as error:
            self.handle_import_error(result, error, raise_errors)
        finally:
            self.update_instances.clear()

    # our own hooks

    def check_row(self, instance: Any, add: Callable[[str, str], None]) -> None:
        raise NotImplementedError

    def row_key(self, instance: Any) -> str:
        raise NotImplementedError

    def _add_points(self, holders: list[Any], existing: list[tuple[int, str, str]]) -> None:
        """Phones and e-mails of the rows as contact points, skipping values the holder already has;
        the first point of a kind is primary (as in contact_point_add)."""
        values: dict[int, set[str]] = defaultdict(set)
        kinds: dict[int, set[str]] = defaultdict(set)
        for holder_id, kind, normalized in existing:
            values[holder_id].add(normalized)
            kinds[holder_id].add(kind)
        points = []
        for holder in holders:
            phones = getattr(holder, "import_phones", None) or []
            emails = getattr(holder, "import_emails", None) or []
            for kind, point in [*phones, *emails]:
                if point["normalized"] in values[holder.pk]:
                    continue
                values[holder.pk].add(point["normalized"])
                is_primary = kind not in kinds[holder.pk]
                points.append(ContactPoint(**{self.holder_field: holder}, kind=kind, is_primary=is_primary, **point))
                kinds[holder.pk].add(kind)
        if points:
            bulk_create_with_history(
                points,
                ContactPoint,
                batch_size=INSERT_BATCH,
                default_user=self.user,
                default_change_reason=CHANGE_REASON,
            )

    def row_messages(self, row_result: Any) -> list[str]:
        """Readable messages of a failed row: "EDRPOU code: wrong check digit"."""
        if row_result.validation_error is not None:
            messages = []
            for key, texts in row_result.validation_error.message_dict.items():
                label = self.labels.get(key)
                messages += [f"{label}: {text}" if label else text for text in texts]
            return messages
        return [_("Unexpected error: %(error)s") % {"error": error.error} for error in row_result.errors]


class CompanyResource(_ContactsResource):
    name = CellField("name", TextWidget())
    short_name = CellField("short_name", TextWidget())
    edrpou = CellField("edrpou", EdrpouWidget())
    tax_number = CellField("tax_number", TaxNumberWidget())
    roles = MergeListField("roles", ChoiceListWidget(CompanyRole, ROLE_ALIASES))
    status = CellField("status", ChoiceWidget(CompanyStatus, STATUS_ALIASES))
    region = CellField("region", ChoiceWidget(Region, REGION_ALIASES))
    city = CellField("city", TextWidget())
    legal_address = CellField("legal_address", TextWidget())
    delivery_address = CellField("delivery_address", TextWidget())
    website = CellField("website", WebsiteWidget())
    tags = MergeListField("tags", TagsWidget())
    phone = CellField("phone", PointsWidget(ContactPointKind.PHONE), attribute="import_phones")
    email = CellField("email", PointsWidget(ContactPointKind.EMAIL), attribute="import_emails")

    holder_field = "company"
    key_attribute = "edrpou"
    fields_catalogue = COMPANY_FIELDS
    writes = {
        key: (key,)
        for key in ("name", "short_name", "tax_number", "roles", "status", "region", "city", "legal_address",
                    "delivery_address", "website", "tags")
    }  # fmt: skip

    class Meta:
        model = Company
        fields = [field.key for field in COMPANY_FIELDS]
        import_id_fields = ["edrpou"]
        instance_loader_class = _CompanyLoader
        use_bulk = True
        batch_size = BATCH_ROWS
        skip_diff = True
        use_transactions = True

    def check_row(self, instance: Company, add: Callable[[str, str], None]) -> None:
        if not instance.pk and not instance.name:
            add("name", _("Enter the company name."))

    def row_key(self, instance: Company) -> str:
        return instance.edrpou


class PersonResource(_ContactsResource):
    last_name = CellField("last_name", TextWidget())
    first_name = CellField("first_name", TextWidget())
    patronymic = CellField("patronymic", TextWidget())
    position = CellField("position", TextWidget())
    company_edrpou = CellField("company_edrpou", EdrpouWidget(), attribute="import_company_edrpou")
    company_name = CellField("company_name", TextWidget(), attribute="import_company_name")
    birthday = BirthdayField()
    email = CellField("email", PointsWidget(ContactPointKind.EMAIL), attribute="import_emails")
    phone = CellField("phone", PointsWidget(ContactPointKind.PHONE), attribute="import_phones")

    holder_field = "person"
    key_attribute = "import_emails"
    fields_catalogue = PERSON_FIELDS
    writes = {
        "last_name": ("last_name",),
        "first_name": ("first_name",),
        "patronymic": ("patronymic",),
        "position": ("position",),
        "company_edrpou": ("company",),
        "company_name": ("company",),
        "birthday": ("birth_day", "birth_month", "birth_year"),
    }

    class Meta:
        model = Person
        fields = [field.key for field in PERSON_FIELDS]
        import_id_fields = ["email"]
        instance_loader_class = _PersonLoader
        use_bulk = True
        batch_size = BATCH_ROWS
        skip_diff = True
        use_transactions = True

    def check_row(self, instance: Person, add: Callable[[str, str], None]) -> None:
        if not instance.pk:
            if not instance.last_name:
                add("last_name", _("Enter the last name."))
            if not instance.first_name:
                add("first_name", _("Enter the first name."))
        loader = self.loader
        assert isinstance(loader, _PersonLoader)
        code = getattr(instance, "import_company_edrpou", None)
        name = getattr(instance, "import_company_name", None)
        if code:
            found = loader.companies_by_code.get(code, [])
            attribute, value = "import_company_edrpou", code
        elif name:
            found = loader.companies_by_name.get(name.casefold(), [])
            attribute, value = "import_company_name", name
        else:
            return
        if not found:
            add(attribute, _("None of the companies you can see matches “%(value)s”.") % {"value": value})
        elif len(found) > 1:
            add(attribute, _("Several companies match “%(value)s”: give the EDRPOU code.") % {"value": value})
        else:
            instance.company = found[0]

    def row_key(self, instance: Person) -> str:
        emails = getattr(instance, "import_emails", None)
        return emails[0][1]["normalized"] if emails else ""


RESOURCES: dict[str, type[_ContactsResource]] = {Target.COMPANY: CompanyResource, Target.PERSON: PersonResource}


# --- Services (called by the views) -------------------------------------------------------------


def import_upload(*, actor: User, target: str, file: Any) -> Job:
    """Check an uploaded file, store it and open an import job at the mapping stage.

    Raises ValidationError keyed by "file" for a file we cannot read (nothing is stored then) and
    PermissionDenied for a user who may not import.
    """
    _check_can_import(actor)
    if target not in Target.values:
        raise ValidationError({"target": _("Choose what the file holds.")})
    if file.size > MAX_UPLOAD_BYTES:
        raise ValidationError({"file": _("The file is larger than 20 MB: split it into smaller files.")})
    if not file.size:
        raise ValidationError({"file": _("The file is empty.")})
    file.seek(0)
    fmt = _detect_format(file.read(8), file.name)
    file.seek(0)
    params: dict[str, Any] = {"format": fmt, "encoding": "", "delimiter": ""}
    if fmt == "csv":
        text, params["encoding"] = _decode(file.read())
        params["delimiter"] = _sniff_delimiter(text)
        file.seek(0)
    params.update(_inspect(file, params, target))
    file.seek(0)
    path = default_storage.save(f"imports/{uuid.uuid4().hex}.{fmt}", file)
    params.update(target=target, path=path, file_name=PurePath(file.name).name[:200], stage=Stage.MAPPING)
    return job_start(owner=actor, kind=JOB_KIND, params=params, total=params["rows"] or 0)


@transaction.atomic
def import_check(*, actor: User, job: Job, mapping: list[str]) -> Job:
    """Save the column mapping and queue the dry run. Raises ValidationError for a bad mapping."""
    _check_can_import(actor)
    job = Job.objects.select_for_update().get(pk=job.pk, owner=actor, kind=JOB_KIND)
    params = job.params
    if not can_remap(job):
        raise ValidationError(_("This file is already being checked or imported."))
    mapping = (list(mapping) + [""] * len(params["headers"]))[: len(params["headers"])]
    validate_mapping(params["target"], mapping)
    if job.file:
        job.file.delete(save=False)
    job.params = {**params, "mapping": mapping, "stage": Stage.CHECKING, "preview": None}
    job.status, job.progress, job.total, job.message = JobStatus.PENDING, 0, params["rows"] or 0, ""
    job.save(update_fields=["params", "status", "progress", "total", "message", "file", "updated_at"])
    _queue(job)
    return job


@transaction.atomic
def import_confirm(*, actor: User, job: Job) -> Job:
    """Queue the import of a checked file; refuses twice-clicked or unimportable jobs (ValidationError)."""
    _check_can_import(actor)
    job = Job.objects.select_for_update().get(pk=job.pk, owner=actor, kind=JOB_KIND)
    if job.params.get("stage") != Stage.CHECKED:
        raise ValidationError(_("This import has already been started."))
    totals = (job.params.get("preview") or {}).get("totals", {})
    if not totals.get("new") and not totals.get("update"):
        raise ValidationError(_("No row of this file can be imported: fix the errors and upload it again."))
    job.params = {**job.params, "stage": Stage.IMPORTING, "result": None}
    job.status, job.progress, job.message = JobStatus.PENDING, 0, ""
    job.save(update_fields=["params", "status", "progress", "message", "updated_at"])
    _queue(job)
    return job


def can_remap(job: Job) -> bool:
    """The mapping can change before the import starts, unless a check is queued or running."""
    stage = job.params.get("stage")
    if stage == Stage.CHECKING:
        return job.status == JobStatus.FAILED
    return stage in {Stage.MAPPING, Stage.CHECKED} and job.status != JobStatus.RUNNING


def _queue(job: Job) -> None:
    from contacts.tasks_import import contacts_import_task

    contacts_import_task.delay_on_commit(job.pk)


def preview_context(job: Job) -> dict[str, Any]:
    """What the preview page shows: stage, totals, the listed rows and whether Import is offered."""
    params = job.params
    preview = params.get("preview") or {}
    totals = preview.get("totals", {})
    rows = preview.get("rows", [])
    return {
        "stage": params.get("stage"),
        "target_label": Target(params["target"]).label,
        "file_name": params.get("file_name", ""),
        "totals": {"new": totals.get("new", 0), "update": totals.get("update", 0), "error": totals.get("error", 0)},
        "rows": rows,
        "listed_all": preview.get("listed_all", True),
        "importable": bool(totals.get("new") or totals.get("update")),
        "checking": params.get("stage") == Stage.CHECKING and job.status in {JobStatus.PENDING, JobStatus.RUNNING},
        "failed": job.status == JobStatus.FAILED,
    }


# --- The Celery side ---------------------------------------------------------------------------


@contextmanager
def _job_lock(job_id: int) -> Iterator[bool]:
    """A session advisory lock per job: a redelivered task (acks_late) never runs beside the first one,
    and the lock goes away with the connection of a worker that died."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_NAMESPACE, job_id])
        locked = cursor.fetchone()[0]
    try:
        yield locked
    finally:
        if locked:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_NAMESPACE, job_id])


def import_run(*, job_id: int) -> None:
    """Run the stage the job is in — the dry run or the import. Safe to run twice: a second run
    waits for nothing and does nothing, and an import whose worker died resumes after the last
    committed batch (``job.progress`` is updated in the batch's transaction)."""
    with _job_lock(job_id) as locked:
        if not locked:
            return
        job = Job.objects.select_related("owner").filter(pk=job_id, kind=JOB_KIND).first()
        if job is None or job.status not in {JobStatus.PENDING, JobStatus.RUNNING}:
            return
        stage = job.params.get("stage")
        with translation.override(job.owner.language):
            try:
                if stage == Stage.CHECKING:
                    _check(job)
                elif stage == Stage.IMPORTING:
                    _import(job)
            except ImportStopped as stop:
                job_fail(job_id=job.pk, message=str(stop))
            except Exception:
                job_fail(job_id=job.pk, message=_("The import failed unexpectedly; nothing more was written."))
                raise


def _batches(job: Job, resource: _ContactsResource, skip: int = 0) -> Iterator[tuple[list, tablib.Dataset]]:
    """The file's data rows in batches of BATCH_ROWS, as import-export datasets with the field keys as
    headers (unmapped fields empty), beside the original (row number, cells)."""
    params = job.params
    columns = [(index, key) for index, key in enumerate(params["mapping"]) if key]
    keys = list(resource.fields)
    try:
        fh = default_storage.open(params["path"], "rb")
    except FileNotFoundError:
        raise ImportStopped(_("The uploaded file is gone: upload it again.")) from None
    with fh, _open_rows(fh, params) as (rows, _stated_rows):
        _headers, data = _split_header(rows)
        batch: list[tuple[int, list[Any]]] = []
        try:
            for position, row in enumerate(data):
                if position < skip:
                    continue
                batch.append(row)
                if len(batch) == BATCH_ROWS:
                    yield batch, _dataset(batch, columns, keys)
                    batch = []
        except csv.Error as error:
            raise ImportStopped(_("The CSV file is damaged: %(error)s") % {"error": error}) from None
        if batch:
            yield batch, _dataset(batch, columns, keys)


def _dataset(batch: list[tuple[int, list[Any]]], columns: list[tuple[int, str]], keys: list[str]) -> tablib.Dataset:
    dataset = tablib.Dataset(headers=keys)
    for _number, cells in batch:
        values = dict.fromkeys(keys)
        for index, key in columns:
            values[key] = cells[index]
        dataset.append([values[key] for key in keys])
    return dataset


def _resource(job: Job) -> _ContactsResource:
    params = job.params
    return RESOURCES[params["target"]](user=job.owner, mapped=filter(None, params["mapping"]))


def _row_label(job: Job, cells: list[Any]) -> str:
    mapping = job.params["mapping"]
    values = {key: cell_text(cells[index]) for index, key in enumerate(mapping) if key}
    if job.params["target"] == Target.COMPANY:
        parts = [values.get("name", ""), values.get("edrpou", "")]
    else:
        parts = [values.get("last_name", ""), values.get("first_name", ""), values.get("email", "")]
    return " · ".join(part for part in parts if part)[:200]


def _outcome(row_result: Any) -> str:
    return {"new": "new", "update": "update"}.get(row_result.import_type, "error")


def _check(job: Job) -> None:
    """The dry run: classify every row, keep what the preview lists, write the rows with errors to a CSV."""
    resource = _resource(job)
    totals: Counter[str] = Counter()
    listed: list[dict[str, Any]] = []
    error_lines: list[tuple[int, list[Any], list[str]]] = []
    processed = 0
    for batch, dataset in _batches(job, resource):
        resource.lines = [number for number, _cells in batch]
        result = resource.import_data(dataset, dry_run=True, use_transactions=True, raise_errors=False)
        if result.base_errors:
            raise ImportStopped(_("The file could not be checked: %(error)s") % {"error": result.base_errors[0].error})
        for (number, cells), row_result in zip(batch, result.rows, strict=True):
            outcome = _outcome(row_result)
            totals[outcome] += 1
            messages = resource.row_messages(row_result) if outcome == "error" else []
            if messages:
                error_lines.append((number, cells, messages))
            if processed < PREVIEW_ROWS or (messages and len(listed) < PREVIEW_ROWS + PREVIEW_ERRORS):
                listed.append({"line": number, "outcome": outcome, "label": _row_label(job, cells), "errors": messages})
            processed += 1
        job_progress(job_id=job.pk, progress=processed)
    if not processed:
        raise ImportStopped(_("The file has no rows."))
    preview = {"totals": dict(totals), "rows": listed, "listed_all": len(listed) == processed}
    params = {**job.params, "stage": Stage.CHECKED, "preview": preview, "rows": processed}
    Job.objects.filter(pk=job.pk).update(params=params, total=processed)
    message = ngettext(
        "Checked %(rows)s row: %(new)s new, %(update)s to update, %(error)s with errors.",
        "Checked %(rows)s rows: %(new)s new, %(update)s to update, %(error)s with errors.",
        processed,
    ) % {"rows": processed, "new": totals["new"], "update": totals["update"], "error": totals["error"]}
    if error_lines:
        report = _errors_csv(job.params["headers"], error_lines)
        job_finish(job_id=job.pk, message=message, file_name=f"import-errors-{job.pk}.csv", content=report)
    else:
        job_finish(job_id=job.pk, message=message)


def _errors_csv(headers: list[str], lines: list[tuple[int, list[Any], list[str]]]) -> bytes:
    """The rows with errors, as the user uploaded them, plus the reasons; formulas escaped."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow([_("Row"), *headers, _("Errors")])
    for number, cells, messages in lines:
        writer.writerow(
            [number, *(escape_formula(cell_text(cell)) for cell in cells), escape_formula("; ".join(messages))]
        )
    return out.getvalue().encode("utf-8-sig")


def _import(job: Job) -> None:
    """The import: batch by batch, each batch (rows, their history and contact points, the progress
    checkpoint) one transaction; rows with errors are skipped and named in the job's message."""
    resuming = job.status == JobStatus.RUNNING and job.progress > 0
    start = job.progress if resuming else 0
    state = (job.params.get("result") if resuming else None) or {"new": 0, "update": 0, "error": 0, "errors": []}
    resource = _resource(job)
    processed = start
    job_progress(job_id=job.pk, progress=processed, total=job.params["rows"])
    for batch, dataset in _batches(job, resource, skip=start):
        resource.lines = [number for number, _cells in batch]
        with transaction.atomic():
            result = resource.import_data(dataset, dry_run=False, use_transactions=True, raise_errors=False)
            if result.has_errors():
                raise ImportStopped(_stopped_message(result, batch, state))
            for (number, _cells), row_result in zip(batch, result.rows, strict=True):
                outcome = _outcome(row_result)
                state[outcome] += 1
                if outcome == "error" and len(state["errors"]) < REPORT_ERRORS:
                    messages = "; ".join(resource.row_messages(row_result))
                    state["errors"].append(_("Row %(row)s: %(errors)s") % {"row": number, "errors": messages})
            processed += len(batch)
            # The checkpoint (progress and counts so far) commits with the batch's rows: a rerun after a
            # crash resumes right after the last committed batch.
            job_progress(job_id=job.pk, progress=processed)
            merged = Func(
                F("params"),
                Cast(Value({"result": state}, JSONField()), JSONField()),
                template="%(expressions)s",
                arg_joiner=" || ",
                output_field=JSONField(),
            )
            Job.objects.filter(pk=job.pk).update(params=merged)
    params = {**Job.objects.get(pk=job.pk).params, "stage": Stage.IMPORTED}
    Job.objects.filter(pk=job.pk).update(params=params)
    default_storage.delete(job.params["path"])
    if not state["new"] and not state["update"]:
        raise ImportStopped(_("No row could be imported: every row has errors. Nothing was written."))
    message = ngettext(
        "Created %(new)s, updated %(update)s, skipped %(error)s row with errors.",
        "Created %(new)s, updated %(update)s, skipped %(error)s rows with errors.",
        state["error"],
    ) % {key: state[key] for key in ("new", "update", "error")}
    if state["errors"]:
        message += "\n" + "\n".join(state["errors"])
        if state["error"] > len(state["errors"]):
            message += "\n" + _("…and %(n)s more.") % {"n": state["error"] - len(state["errors"])}
    job_finish(job_id=job.pk, message=message)


def _stopped_message(result: Any, batch: list, state: dict[str, Any]) -> str:
    if result.base_errors:
        detail = str(result.base_errors[0].error)
        where = batch[0][0]
    else:
        number, errors = result.row_errors()[0]
        detail, where = str(errors[0].error), batch[number - 1][0]
    return _(
        "The import stopped at row %(row)s: %(error)s. The rows before it were imported "
        "(created %(new)s, updated %(update)s)."
    ) % {"row": where, "error": detail, "new": state["new"], "update": state["update"]}
