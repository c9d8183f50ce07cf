"""CSV and Excel export of a target group's people: the list of potential clients (issue #12, item 4).

Up to settings.MARKETING_EXPORT_INLINE_LIMIT rows download at once (CSV streamed); a bigger group
becomes a crm.Job that segment_export_task fills with `segment_export_run`, shown with a progress bar
on the job page (crm:job-detail polls it). Every text cell passes through `escape_formula` (the
writers of contacts/exports.py), and the e-mail consent is a column and, on request, a filter.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from contacts.exports import CONTENT_TYPES, KYIV, _cell, write_xlsx
from contacts.models import Person, Region
from crm.models import Job
from crm.services import job_fail, job_finish, job_progress
from marketing.models import Segment
from marketing.selectors_segments import export_people

CHUNK_SIZE = 2000
PROGRESS_EVERY = 1000
__all__ = ["CONTENT_TYPES", "file_name", "inline_limit", "render_export", "segment_export_run", "stream_csv"]


def inline_limit() -> int:
    """Rows exported in the request; more go to Celery (10,000 unless the settings say otherwise)."""
    return settings.MARKETING_EXPORT_INLINE_LIMIT


def header() -> list[str]:
    return [
        _("Name"),
        _("Position"),
        _("Company"),
        _("EDRPOU code"),
        _("Region"),
        _("City"),
        _("E-mail"),
        _("Phone"),
        _("Consent to e-mails"),
    ]


REGIONS = dict(Region.choices)


def row(person: Person) -> list[Any]:
    company = person.company
    return [
        str(person),
        person.position,
        company.name if company else "",
        company.edrpou if company else "",
        str(REGIONS.get(company.region, company.region)) if company and company.region else "",
        company.city if company else "",
        person.primary_email,
        person.primary_phone,
        _("yes") if person.email_consent else _("no"),
    ]


def export_rows(qs: QuerySet, on_progress: Callable[[int], None] | None = None) -> Iterator[list[Any]]:
    """Header, then one escaped row per person, read in chunks; `on_progress(n)` every PROGRESS_EVERY rows."""
    yield [_cell(title) for title in header()]
    for done, person in enumerate(qs.iterator(chunk_size=CHUNK_SIZE), start=1):
        yield [_cell(value) for value in row(person)]
        if on_progress and done % PROGRESS_EVERY == 0:
            on_progress(done)


class _Echo:
    def write(self, value: str) -> str:
        return value


def stream_csv(rows: Iterable[list[Any]]) -> Iterator[bytes]:
    """CSV lines as they are made (UTF-8, a BOM first so Excel reads Cyrillic)."""
    writer = csv.writer(_Echo())
    yield "\ufeff".encode()
    for values in rows:
        yield writer.writerow(values).encode()


def write_csv(rows: Iterable[list[Any]]) -> bytes:
    buffer = io.BytesIO()
    for chunk in stream_csv(rows):
        buffer.write(chunk)
    return buffer.getvalue()


def file_name(segment: Segment, fmt: str) -> str:
    return f"target-group-{segment.pk}-{timezone.localtime(timezone.now(), KYIV):%Y%m%d-%H%M}.{fmt}"


def render_export(qs: QuerySet, *, fmt: str, on_progress: Callable[[int], None] | None = None) -> bytes:
    rows = export_rows(qs, on_progress)
    if fmt == "xlsx":
        return write_xlsx(rows, title=_("Potential clients"))
    return write_csv(rows)


def segment_export_run(*, job_id: int) -> bool:
    """Fill an export job with the file of its group's people, read with the job owner's access.

    Safe to run twice (acks_late): a finished job is left alone, an unfinished one is rebuilt from the start.
    Returns False when there was nothing to do (job finished or gone)."""
    job = Job.objects.select_related("owner").filter(pk=job_id).first()
    if job is None or job.status in (Job.Status.DONE, Job.Status.FAILED):
        return False
    fmt = job.params.get("format", "csv")
    with translation.override(job.owner.language):
        segment = Segment.objects.visible_to(job.owner).filter(pk=job.params.get("segment_id")).first()
        if segment is None:
            job_fail(job_id=job_id, message=_("The target group is gone or no longer yours to export."))
            return True
        try:
            qs = export_people(segment=segment, user=job.owner, consented_only=bool(job.params.get("consented_only")))
            job_progress(job_id=job_id, progress=0, total=qs.order_by().count())
            content = render_export(qs, fmt=fmt, on_progress=lambda done: job_progress(job_id=job_id, progress=done))
            job_finish(
                job_id=job_id, message=_("The export is ready."), file_name=file_name(segment, fmt), content=content
            )
        except Exception:
            job_fail(job_id=job_id, message=_("The export failed. Please try again."))
            raise
    return True
