"""The "Changes" tabs: django-simple-history records turned into who-changed-what-from-what entries.

Every app's changes selector reads its records with `latest_records`, names the foreign keys with
`load_names` (one query per foreign key) and builds entries with `history_entries`; the shared
partial contacts/includes/changes.html renders them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from crm.models import User

ACTIONS = {"+": _("created"), "~": _("changed"), "-": _("deleted")}
Names = dict[tuple[str, Any], str]


@dataclass
class FieldChange:
    label: str
    old: str
    new: str


@dataclass
class ChangeEntry:
    when: datetime
    who: User | None
    action: str
    subject: str  # "" for the record itself; e.g. "Contact point", "Deal line" for related rows
    changes: list[FieldChange]  # field diffs of the record
    summary: str = ""  # a related row's value


def latest_records(records: QuerySet, limit: int) -> list[Any]:
    """The newest `limit` history records, with who made them."""
    return list(records.select_related("history_user").order_by("-history_date", "-history_id")[:limit])


def load_names(records: list[Any], fk_models: dict[str, type[Model]]) -> Names:
    """Display names of the objects the records' foreign keys point to: one query per foreign key."""
    names: Names = {}
    for name, model in fk_models.items():
        ids = {getattr(record, f"{name}_id", None) for record in records} - {None}
        if ids:
            names.update({(name, obj.pk): str(obj) for obj in model._default_manager.filter(pk__in=ids)})
    return names


def display_value(model_field: Any, value: Any, names: Names) -> str:
    """A history value as a user reads it: related names, choice labels, yes/no, local dates, "—" for empty."""
    if value is None or value == "" or value == []:
        return "—"
    if model_field.is_relation:
        return names.get((model_field.name, value), f"#{value}")
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, list):  # an ArrayField, e.g. a company's roles: labels of its base field's choices
        labels = dict(getattr(model_field.base_field, "flatchoices", []))
        return ", ".join(str(labels.get(item, item)) for item in value)
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%d.%m.%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, timedelta):
        return f"{int(value.total_seconds() // 60)} min"
    return Truncator(strip_tags(str(value))).chars(200)


def record_changes(
    records: list[Any], *, limit: int, names: Names, hidden: set[str]
) -> list[tuple[Any, list[FieldChange]]]:
    """(record, its field diffs against the record before it) for one object's records, newest first.

    Read `limit + 1` records so the oldest shown one has its predecessor. A change of `hidden` fields only
    is skipped; a creation or deletion has no diffs.
    """
    shown: list[tuple[Any, list[FieldChange]]] = []
    for index, record in enumerate(records[:limit]):
        previous = records[index + 1] if index + 1 < len(records) else None
        changes: list[FieldChange] = []
        if record.history_type == "~" and previous is not None:
            for change in record.diff_against(previous).changes:
                if change.field in hidden:
                    continue
                model_field = record.instance_type._meta.get_field(change.field)
                label = str(model_field.verbose_name).capitalize()
                old, new = (display_value(model_field, value, names) for value in (change.old, change.new))
                changes.append(FieldChange(label, old, new))
            if not changes:
                continue
        shown.append((record, changes))
    return shown


def history_entries(
    records: list[Any], *, limit: int, names: Names, hidden: set[str], subject: str = ""
) -> list[ChangeEntry]:
    """Change entries of one object's history records (read with `latest_records(..., limit + 1)`)."""
    return [
        ChangeEntry(record.history_date, record.history_user, str(ACTIONS[record.history_type]), subject, changes)
        for record, changes in record_changes(records, limit=limit, names=names, hidden=hidden)
    ]


def related_entry(record: Any, summary: str) -> ChangeEntry:
    """A related row's change (a line, a contact point, a price): its kind and its new value."""
    subject = str(record.instance_type._meta.verbose_name).capitalize()
    return ChangeEntry(
        record.history_date, record.history_user, str(ACTIONS[record.history_type]), subject, [], summary
    )
