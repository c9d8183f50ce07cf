"""CSV and Excel export of the company and person lists.

Up to SYNC_EXPORT_LIMIT rows download at once; a bigger list becomes a crm.Job that a Celery task
(contacts.tasks) fills with `list_export_run`. Every text cell passes through `escape_formula`.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from contacts.filters import KYIV, list_filter
from contacts.models import Company, CompanyRole, CompanyStatus, Person, Region, SavedFilter
from contacts.selectors_lists import export_queryset
from crm.lib.spreadsheet import escape_formula
from crm.models import Job
from crm.services import job_fail, job_finish, job_progress

SYNC_EXPORT_LIMIT = 10_000  # more rows than this run in Celery (tests lower it)
CHUNK_SIZE = 2000
PROGRESS_EVERY = 1000
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value, KYIV).replace(tzinfo=None, microsecond=0)
    if isinstance(value, int | float):
        return value
    return escape_formula(str(value))


def _labels(choices: type, values: Iterable[str]) -> str:
    labels = dict(choices.choices)
    return ", ".join(str(labels.get(value, value)) for value in values)


def _label(choices: type, value: str) -> str:
    return str(dict(choices.choices).get(value, value)) if value else ""


def company_header() -> list[str]:
    return [
        _("Name"),
        _("EDRPOU code"),
        _("Roles"),
        _("Status"),
        _("Region"),
        _("City"),
        _("Owner"),
        _("Primary phone"),
        _("Primary e-mail"),
        _("Last contact"),
        _("Created"),
    ]


def company_row(company: Company) -> list[Any]:
    return [
        company.name,
        company.edrpou,
        _labels(CompanyRole, company.roles),
        _label(CompanyStatus, company.status),
        _label(Region, company.region),
        company.city,
        str(company.owner),
        company.primary_phone,
        company.primary_email,
        company.last_contact_at,
        company.created_at,
    ]


def person_header() -> list[str]:
    return [
        _("Name"),
        _("Position"),
        _("Company"),
        _("EDRPOU code"),
        _("Birthday"),
        _("Owner"),
        _("Primary phone"),
        _("Primary e-mail"),
        _("Last contact"),
        _("Created"),
    ]


def _birthday(person: Person) -> str:
    if not person.birth_month or not person.birth_day:
        return ""
    day = f"{person.birth_day:02d}.{person.birth_month:02d}"
    return f"{day}.{person.birth_year}" if person.birth_year else day


def person_row(person: Person) -> list[Any]:
    company = person.company
    return [
        str(person),
        person.position,
        company.name if company else "",
        company.edrpou if company else "",
        _birthday(person),
        str(person.owner),
        person.primary_phone,
        person.primary_email,
        person.last_contact_at,
        person.created_at,
    ]


SHEETS: dict[str, tuple[Callable[[], list[str]], Callable[[Any], list[Any]]]] = {
    SavedFilter.Target.COMPANY: (company_header, company_row),
    SavedFilter.Target.PERSON: (person_header, person_row),
}


def export_rows(qs: QuerySet, target: str, on_progress: Callable[[int], None] | None = None) -> Iterator[list[Any]]:
    """Header, then one escaped row per record, streamed in chunks; `on_progress(n)` every PROGRESS_EVERY rows."""
    header, row = SHEETS[target]
    yield [_cell(title) for title in header()]
    for done, record in enumerate(qs.iterator(chunk_size=CHUNK_SIZE), start=1):
        yield [_cell(value) for value in row(record)]
        if on_progress and done % PROGRESS_EVERY == 0:
            on_progress(done)


def write_csv(rows: Iterable[list[Any]]) -> bytes:
    """UTF-8 with a BOM, so Excel opens Cyrillic correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([value.strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else value for value in row])
    return codecs.BOM_UTF8 + buffer.getvalue().encode()


def write_xlsx(rows: Iterable[list[Any]], title: str) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    for row in rows:
        # openpyxl refuses control characters; the formula escape already ran.
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def file_name(target: str, fmt: str) -> str:
    stem = "companies" if target == SavedFilter.Target.COMPANY else "people"
    return f"{stem}-{timezone.localtime(timezone.now(), KYIV):%Y%m%d-%H%M}.{fmt}"


def render_export(qs: QuerySet, *, target: str, fmt: str, on_progress: Callable[[int], None] | None = None) -> bytes:
    rows = export_rows(qs, target, on_progress)
    if fmt == "xlsx":
        return write_xlsx(rows, title=str(SavedFilter.Target(target).label))
    return write_csv(rows)


def list_export_run(*, job_id: int) -> bool:
    """Fill an export job with the file of its filtered list, read with the job owner's visibility.

    Safe to run twice (acks_late): a finished job is left alone, an unfinished one is rebuilt from
    the start. Returns False when there was nothing to do.
    """
    job = Job.objects.select_related("owner").filter(pk=job_id).first()
    if job is None or job.status in (Job.Status.DONE, Job.Status.FAILED):
        return False
    target = job.kind.removesuffix("_export")
    fmt = job.params.get("format", "csv")
    with translation.override(job.owner.language):
        try:
            filterset = list_filter(target=target, user=job.owner, data=QueryDict(job.params.get("query", "")))
            job_progress(job_id=job_id, progress=0, total=filterset.qs.count())
            qs = export_queryset(filterset=filterset, target=target)
            content = render_export(
                qs, target=target, fmt=fmt, on_progress=lambda done: job_progress(job_id=job_id, progress=done)
            )
            job_finish(
                job_id=job_id, message=_("The export is ready."), file_name=file_name(target, fmt), content=content
            )
        except Exception:
            job_fail(job_id=job_id, message=_("The export failed. Please try again or narrow the filter."))
            raise
    return True
