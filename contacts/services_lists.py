"""Writes of the company and person lists: saved filters, bulk owner and tag changes, background exports.

Bulk changes touch only rows the actor can see (`visible_to(actor).filter(pk__in=ids)`; other ids are
ignored) and save each row, so django-simple-history records the change (it does not see
`QuerySet.update()`); a bulk action is bounded to one page of ids (filters.MAX_BULK_IDS).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import QueryDict
from django.utils.translation import gettext as _

from contacts.filters import MAX_BULK_IDS, MAX_QUERY_LENGTH, list_query
from contacts.models import Company, Person, SavedFilter
from contacts.selectors import assignable_owners
from crm.models import Job, User
from crm.services import job_start

EXPORT_FORMATS = ("csv", "xlsx")


@transaction.atomic
def saved_filter_create(*, actor: User, target: str, name: str, query: str, is_shared: bool = False) -> SavedFilter:
    """Save the list's current filter under `name`; shared filters are visible to the actor's team.

    Raises ValidationError keyed by field (name, query, is_shared, target).
    """
    if target not in SavedFilter.Target.values:
        raise ValidationError({"target": _("Choose a list.")})
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": _("Enter a name for the filter.")})
    if len(name) > 100:
        raise ValidationError({"name": _("The name is too long (at most 100 characters).")})
    query = list_query(target=target, data=QueryDict(query))
    if len(query) > MAX_QUERY_LENGTH:
        raise ValidationError({"query": _("This filter is too long to save.")})
    if is_shared and actor.team_id is None:
        raise ValidationError({"is_shared": _("You are not in a team, so there is nobody to share the filter with.")})
    saved = SavedFilter(owner=actor, team=actor.team, name=name, target=target, query=query, is_shared=is_shared)
    saved.full_clean()
    saved.save()
    return saved


@transaction.atomic
def saved_filter_delete(*, actor: User, pk: int) -> SavedFilter:
    """Delete one of the actor's own saved filters; raises SavedFilter.DoesNotExist for anyone else's."""
    saved = SavedFilter.objects.select_for_update().get(owner=actor, pk=pk)
    saved.delete()
    return saved


def _bulk_save(*, actor: User, rows: QuerySet, ids: Sequence[int], change: Callable[[Model], list[str] | None]) -> int:
    """Lock the visible rows among `ids`, apply `change` (returns changed fields or None) and save each one."""
    if len(ids) > MAX_BULK_IDS:
        raise ValidationError({"ids": _("Select at most %(limit)s rows.") % {"limit": MAX_BULK_IDS}})
    changed = 0
    for row in rows.visible_to(actor).filter(pk__in=list(ids)).select_for_update(no_key=True).order_by("pk"):
        fields = change(row)
        if fields:
            row._history_user = actor  # simple-history: who made the change, also outside a request
            row.save(update_fields=[*fields, "updated_at"])
            changed += 1
    return changed


def _check_new_owner(*, actor: User, owner: User) -> None:
    if not owner.is_active or not assignable_owners(actor).filter(pk=owner.pk).exists():
        raise ValidationError({"owner": _("Choose an active user of your team.")})


def _change_owner(owner: User) -> Callable[[Model], list[str] | None]:
    def change(row: Model) -> list[str] | None:
        if row.owner_id == owner.pk and row.team_id == owner.team_id:
            return None
        row.owner, row.team_id = owner, owner.team_id
        return ["owner", "team"]

    return change


@transaction.atomic
def company_bulk_change_owner(*, actor: User, ids: Sequence[int], owner: User) -> int:
    """Hand the selected companies to `owner` (and the owner's team); returns how many changed.

    Raises ValidationError on `owner` when the new owner is inactive or outside the actor's teams.
    """
    _check_new_owner(actor=actor, owner=owner)
    return _bulk_save(actor=actor, rows=Company.objects.all(), ids=ids, change=_change_owner(owner))


@transaction.atomic
def person_bulk_change_owner(*, actor: User, ids: Sequence[int], owner: User) -> int:
    """Like company_bulk_change_owner, for people."""
    _check_new_owner(actor=actor, owner=owner)
    return _bulk_save(actor=actor, rows=Person.objects.all(), ids=ids, change=_change_owner(owner))


@transaction.atomic
def company_bulk_tags(*, actor: User, ids: Sequence[int], tag: str, remove: bool = False) -> int:
    """Add `tag` to (or remove it from) the selected companies; returns how many changed."""
    tag = tag.strip().lower()
    if not tag:
        raise ValidationError({"tag": _("Enter a tag.")})
    if len(tag) > 50:
        raise ValidationError({"tag": _("A tag has at most 50 characters.")})

    def change(company: Model) -> list[str] | None:
        if remove == (tag not in company.tags):
            return None
        company.tags = [t for t in company.tags if t != tag] if remove else sorted({*company.tags, tag})
        return ["tags"]

    return _bulk_save(actor=actor, rows=Company.objects.all(), ids=ids, change=change)


@transaction.atomic
def list_export_start(*, actor: User, target: str, query: str, fmt: str) -> Job:
    """Queue a background export of the filtered list; the task runs after commit with the actor's visibility."""
    if fmt not in EXPORT_FORMATS:
        raise ValidationError({"format": _("Choose CSV or Excel.")})
    from contacts.tasks import company_export_task, person_export_task

    query = list_query(target=target, data=QueryDict(query))
    job = job_start(owner=actor, kind=f"{target}_export", params={"query": query, "format": fmt})
    task = company_export_task if target == SavedFilter.Target.COMPANY else person_export_task
    task.delay_on_commit(job.pk)
    return job
