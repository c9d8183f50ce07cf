"""One client's dossier as PDF (WeasyPrint) and XLSX (openpyxl), and a person's vCard (RFC 6350)."""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import gettext as _

from contacts.models import ContactPoint, ContactPointKind, Person
from contacts.selectors_card import Dossier
from crm.lib.spreadsheet import escape_formula

# Cells starting with these are read as formulas (or DDE) by spreadsheet programs.

PDF_CSS = """
@page { size: A4; margin: 16mm 14mm; @bottom-right { content: counter(page) " / " counter(pages); font-size: 8pt; } }
body { font-family: "DejaVu Sans", sans-serif; font-size: 9pt; color: #222; }
h1 { font-size: 16pt; margin: 0 0 4pt; }
h2 { font-size: 11pt; margin: 14pt 0 4pt; border-bottom: 1px solid #999; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; vertical-align: top; padding: 2pt 4pt; border-bottom: 0.5pt solid #ddd; }
th { background: #eee; }
dl.card { display: grid; grid-template-columns: 30% 70%; margin: 0; }
dl.card dt { font-weight: bold; }
dl.card dd { margin: 0 0 2pt; }
.muted { color: #666; }
"""


# --- PDF ---------------------------------------------------------------------------------------------


def dossier_html(dossier: Dossier) -> str:
    return render_to_string("contacts/dossier.html", {"dossier": dossier, "company": dossier.company})


def dossier_pdf(dossier: Dossier) -> bytes:
    from weasyprint import CSS, HTML  # heavy import: only when a PDF is asked for
    from weasyprint.urls import URLFetcher

    # The dossier embeds client data: WeasyPrint must never fetch a URL it names (no SSRF, no tracking).
    no_fetch = URLFetcher(allowed_protocols=())
    html = HTML(string=dossier_html(dossier), url_fetcher=no_fetch)
    return html.write_pdf(stylesheets=[CSS(string=PDF_CSS, url_fetcher=no_fetch)])


# --- XLSX --------------------------------------------------------------------------------------------


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        # Spreadsheets have no time zones: write Kyiv wall-clock time.
        return timezone.localtime(value).replace(tzinfo=None)
    if value is None:
        return ""
    if not isinstance(value, int | float | str):
        value = str(value)
    return escape_formula(value)


def _points_text(points: Iterable[ContactPoint], kinds: set[str] | None = None) -> str:
    return ", ".join(p.value for p in points if kinds is None or p.kind in kinds)


def dossier_xlsx(dossier: Dossier) -> bytes:
    from openpyxl import Workbook

    company = dossier.company
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Company"))
    rows: list[tuple[str, Any]] = [
        (_("Name"), company.name),
        (_("Short name"), company.short_name),
        (_("Legal form"), company.get_legal_form_display()),
        (_("EDRPOU code"), company.edrpou),
        (_("Tax number"), company.tax_number),
        (_("Roles"), ", ".join(dossier.role_labels)),
        (_("Status"), company.get_status_display()),
        (_("Industry"), company.industry),
        (_("Size"), company.get_size_display()),
        (_("Region"), company.get_region_display()),
        (_("City"), company.city),
        (_("Legal address"), company.legal_address),
        (_("Delivery address"), company.delivery_address),
        (_("Website"), company.website),
        (_("Source"), company.get_source_display()),
        (_("Tags"), ", ".join(company.tags)),
        (_("Needs and interests"), company.needs),
        (_("Product interests"), ", ".join(company.interests)),
        (_("Notes"), strip_tags(company.notes)),
        (_("Owner"), company.owner),
        (_("Team"), company.team),
        (_("Last contact"), company.last_contact_at),
        (_("Created"), company.created_at),
    ]
    rows += [(f"{p.get_kind_display()}{f' ({p.label})' if p.label else ''}", p.value) for p in dossier.points]
    for label, value in rows:
        sheet.append([_cell(str(label)), _cell(value)])

    sheet = workbook.create_sheet(_("People"))
    sheet.append([_cell(h) for h in (_("Name"), _("Position"), _("Phones"), _("E-mails"), _("Other"), _("Birthday"))])
    phones = {str(k) for k in (ContactPointKind.PHONE, ContactPointKind.MOBILE, ContactPointKind.FAX)}
    for person in dossier.people:
        points = person.point_list  # type: ignore[attr-defined]
        others = {str(k) for k in ContactPointKind.values} - phones - {ContactPointKind.EMAIL}
        sheet.append(
            [
                _cell(str(person)),
                _cell(person.position),
                _cell(_points_text(points, phones)),
                _cell(_points_text(points, {ContactPointKind.EMAIL})),
                _cell(_points_text(points, others)),
                _cell(birthday_text(person)),
            ]
        )

    sheet = workbook.create_sheet(_("History"))
    headers = (_("When"), _("Channel"), _("Direction"), _("Minutes"), _("Subject"), _("Outcome"), _("Person"),
               _("By"), _("Text"))  # fmt: skip
    sheet.append([_cell(h) for h in headers])
    for row in dossier.interactions:
        sheet.append(
            [
                _cell(row.occurred_at),
                _cell(row.get_channel_display()),
                _cell(row.get_direction_display() if row.direction else ""),
                _cell(row.duration_minutes),  # type: ignore[attr-defined]
                _cell(row.subject),
                _cell(row.outcome),
                _cell(row.person or ""),
                _cell(row.user or ""),
                _cell(row.body),
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def birthday_text(person: Person) -> str:
    if not (person.birth_day and person.birth_month):
        return ""
    if person.birth_year:
        return f"{person.birth_day:02d}.{person.birth_month:02d}.{person.birth_year}"
    return f"{person.birth_day:02d}.{person.birth_month:02d}"


# --- vCard -------------------------------------------------------------------------------------------


def vcard_escape(value: str) -> str:
    """Text value escaping of RFC 6350 §3.4: backslash, comma, semicolon and newlines."""
    value = value.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")
    return value.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def _fold(line: str) -> str:
    """Lines longer than 75 octets are folded (RFC 6350 §3.2), never inside a UTF-8 character."""
    parts: list[str] = []
    current, size, limit = "", 0, 75
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            parts.append(current)
            current, size, limit = "", 0, 74  # continuation lines start with a space
        current += char
        size += width
    parts.append(current)
    return "\r\n ".join(parts)


_VCARD_TEL_TYPES = {
    ContactPointKind.PHONE: "voice",
    ContactPointKind.MOBILE: "cell",
    ContactPointKind.FAX: "fax",
    ContactPointKind.VIBER: "cell",
    ContactPointKind.WHATSAPP: "cell",
}


def person_vcard(person: Person, points: Iterable[ContactPoint]) -> str:
    """vCard 4.0 of one person: name, organisation, title, birthday, phones, e-mails, web sites."""
    e = vcard_escape
    lines = [
        "BEGIN:VCARD",
        "VERSION:4.0",
        f"FN:{e(' '.join(p for p in (person.first_name, person.patronymic, person.last_name) if p))}",
        f"N:{e(person.last_name)};{e(person.first_name)};{e(person.patronymic)};;",
    ]
    if person.company_id:
        lines.append(f"ORG:{e(str(person.company.name))}")
    if person.position:
        lines.append(f"TITLE:{e(person.position)}")
    if person.birth_day and person.birth_month:
        year = f"{person.birth_year:04d}" if person.birth_year else "--"
        lines.append(f"BDAY:{year}{person.birth_month:02d}{person.birth_day:02d}")
    if person.language:
        lines.append(f"LANG:{e(person.language)}")
    for point in points:
        pref = ";PREF=1" if point.is_primary else ""
        if point.kind in _VCARD_TEL_TYPES:
            lines.append(f"TEL;VALUE=uri;TYPE={_VCARD_TEL_TYPES[point.kind]}{pref}:tel:{point.normalized}")
        elif point.kind == ContactPointKind.EMAIL:
            lines.append(f"EMAIL{pref}:{e(point.normalized)}")
        elif point.kind == ContactPointKind.WEBSITE:
            lines.append(f"URL:{e(point.normalized)}")
        elif point.kind == ContactPointKind.ADDRESS:
            lines.append(f"ADR:;;{e(point.value)};;;;")
        elif point.kind == ContactPointKind.TELEGRAM and point.href:
            lines.append(f"IMPP:{point.href}")
    lines.append(f"REV:{timezone.now().strftime('%Y%m%dT%H%M%SZ')}")
    lines.append("END:VCARD")
    return "".join(_fold(line) + "\r\n" for line in lines)
