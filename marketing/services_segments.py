"""Writes of target groups: create from a saved filter, edit, freeze into a static list, add / remove
members, count (the Celery task's work) and the export job.

Every service checks the actor's permission (marketing.add_segment / change_segment) and raises
ValidationError with a message keyed by field; nothing is half-saved (one transaction each).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.models import SavedFilter
from crm.models import Job, Team, User
from crm.services import job_start
from marketing import selectors_segments as sel
from marketing.models import Segment, SegmentKind, SegmentMember, SegmentTarget

ADD, CHANGE, VIEW = "marketing.add_segment", "marketing.change_segment", "marketing.view_segment"
EXPORT_FORMATS = ("csv", "xlsx")
EXPORT_JOB_KIND = "segment_export"
MAX_IDS = 1000  # one "add members" form at a time


def _require(actor: User, perm: str) -> None:
    if not actor.has_perm(perm):
        raise PermissionDenied


def _count_later(segment_id: int) -> None:
    from marketing.tasks_segments import segment_count_task

    transaction.on_commit(lambda: segment_count_task.delay(segment_id))


def _check_filter(*, target: str, query: str, owner: User, field: str = "saved_filter") -> None:
    errors = sel.filter_errors(target=target, query=query, owner=owner)
    if errors:
        raise ValidationError(
            {field: [_("This filter cannot make a target group: %(why)s") % {"why": "; ".join(errors)}]}
        )


def _freeze_into(segment: Segment, source: Segment) -> int:
    """INSERT … SELECT of `source`'s rows into `segment`'s members (set-based; a re-run adds nothing)."""
    column = "company_id" if source.target == SegmentTarget.COMPANY else "person_id"
    rows_sql, params = sel.segment_rows(segment=source).order_by().values("pk").query.sql_with_params()
    sql = (
        f"INSERT INTO marketing_segmentmember (segment_id, {column}) "  # column from a fixed pair
        f"SELECT %s, rows.member_id FROM ({rows_sql}) AS rows (member_id) ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [segment.pk, *params])
        return max(cursor.rowcount, 0)


@transaction.atomic
def segment_create(
    *,
    actor: User,
    name: str,
    kind: str,
    saved_filter: SavedFilter | None = None,
    target: str = SegmentTarget.PERSON,
    description: str = "",
    team: Team | None = None,
) -> Segment:
    """A new target group owned by the actor.

    Dynamic: copies the saved filter's list and query (the filter must be one the actor sees and valid).
    Static: with a saved filter, its current rows are frozen into the list; without one, an empty list
    of `target` to add members to. The member count is queued (segment_count_task) after commit.
    Raises PermissionDenied without marketing.add_segment, ValidationError for a bad choice."""
    _require(actor, ADD)
    if kind not in SegmentKind.values:
        raise ValidationError({"kind": _("Choose dynamic or static.")})
    if saved_filter is not None and not SavedFilter.objects.visible_to(actor).filter(pk=saved_filter.pk).exists():
        raise ValidationError({"saved_filter": _("Choose one of your saved filters.")})
    if kind == SegmentKind.DYNAMIC and saved_filter is None:
        raise ValidationError({"saved_filter": _("A dynamic target group is built from a saved filter: choose one.")})
    if saved_filter is not None:
        target, query = saved_filter.target, saved_filter.query
        _check_filter(target=target, query=query, owner=actor)
    else:
        query = ""
    if target not in SegmentTarget.values:
        raise ValidationError({"target": _("Choose companies or people.")})
    segment = Segment(
        name=name.strip(),
        description=description,
        kind=SegmentKind.DYNAMIC,
        target=target,
        saved_filter=saved_filter,
        query=query,
        owner=actor,
        team=team,
    )
    segment.full_clean()
    segment.save()
    if kind == SegmentKind.STATIC:
        if saved_filter is not None:
            _freeze_into(segment, segment)  # the rows of the filter as it is now
        segment.kind = SegmentKind.STATIC
        segment.save(update_fields=["kind", "updated_at"])
    _count_later(segment.pk)
    return segment


@transaction.atomic
def segment_update(
    *, segment: Segment, actor: User, name: str, description: str = "", team: Team | None = None
) -> Segment:
    """Rename or describe a group, or share it with a team. Raises PermissionDenied, ValidationError."""
    _require(actor, CHANGE)
    segment.name, segment.description, segment.team = name.strip(), description, team
    segment.full_clean()
    segment.save(update_fields=["name", "description", "team", "updated_at"])
    return segment


@transaction.atomic
def segment_freeze(*, segment: Segment, actor: User, name: str = "") -> Segment:
    """A static copy of a dynamic group: its rows as they are now, one INSERT … SELECT; the original stays.

    Raises PermissionDenied without marketing.add_segment, ValidationError for a static group."""
    _require(actor, ADD)
    if segment.kind != SegmentKind.DYNAMIC:
        raise ValidationError(_("Only a dynamic target group can be frozen; this one is a static list already."))
    day = timezone.localdate().strftime("%d.%m.%Y")
    copy = Segment(
        name=(name.strip() or _("%(name)s (frozen %(day)s)") % {"name": segment.name, "day": day})[:150],
        description=segment.description,
        kind=SegmentKind.STATIC,
        target=segment.target,
        saved_filter=segment.saved_filter,
        query=segment.query,
        owner=actor,
        team=segment.team,
    )
    copy.full_clean()
    copy.save()
    _freeze_into(copy, segment)
    _count_later(copy.pk)
    return copy


def _static(segment: Segment) -> None:
    if segment.kind != SegmentKind.STATIC:
        raise ValidationError(
            {"ids": _("Members are added to a static list; a dynamic group follows its filter. Freeze it first.")}
        )


def _checked_ids(ids: list[int]) -> list[int]:
    if not ids:
        raise ValidationError({"ids": _("Enter at least one id.")})
    if len(ids) > MAX_IDS:
        raise ValidationError({"ids": _("At most %(limit)d ids at a time.") % {"limit": MAX_IDS}})
    return sorted(set(ids))


@transaction.atomic
def segment_members_add(*, segment: Segment, actor: User, ids: list[int]) -> int:
    """Add companies or people (as the group's target) by id to a static group; returns how many were new.

    Every id must be a row the actor may target (their audience); a repeated id is no error.
    Raises PermissionDenied, ValidationError naming the unknown ids."""
    _require(actor, CHANGE)
    _static(segment)
    ids = _checked_ids(ids)
    is_company = segment.target == SegmentTarget.COMPANY
    audience = sel.audience_companies(actor) if is_company else sel.audience_people(actor)
    found = set(audience.filter(pk__in=ids).values_list("pk", flat=True))
    unknown = [pk for pk in ids if pk not in found]
    if unknown:
        listed = ", ".join(str(pk) for pk in unknown[:20])
        raise ValidationError({"ids": _("No company or person you can see has the id %(ids)s.") % {"ids": listed}})
    column = "company_id" if is_company else "person_id"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO marketing_segmentmember (segment_id, {column}) "  # column from a fixed pair
            "SELECT %s, unnest(%s::bigint[]) ON CONFLICT DO NOTHING",
            [segment.pk, ids],
        )
        added = max(cursor.rowcount, 0)
    _count_later(segment.pk)
    return added


@transaction.atomic
def segment_members_remove(*, segment: Segment, actor: User, ids: list[int]) -> int:
    """Remove members (by company / person id) from a static group; returns how many were removed."""
    _require(actor, CHANGE)
    _static(segment)
    ids = _checked_ids(ids)
    key = "company_id__in" if segment.target == SegmentTarget.COMPANY else "person_id__in"
    removed, _detail = SegmentMember.objects.filter(segment=segment, **{key: ids}).delete()
    _count_later(segment.pk)
    return removed


def segment_count_store(*, segment_id: int) -> int | None:
    """Count a group's rows and store member_count + counted_at (the task's work; safe to run twice).

    Returns the count, or None when the group is gone."""
    segment = Segment.objects.select_related("owner").filter(pk=segment_id).first()
    if segment is None:
        return None
    count = sel.segment_count(segment=segment)
    # A plain UPDATE: no history row for a computed number, no lost edit of the name meanwhile.
    Segment.objects.filter(pk=segment_id).update(member_count=count, counted_at=timezone.now())
    return count


def segment_recount(*, segment: Segment, actor: User) -> None:
    """Queue a recount of the group (the "Recount" button). Raises PermissionDenied without view access."""
    _require(actor, VIEW)
    _count_later(segment.pk)


def segment_export_start(*, segment: Segment, actor: User, fmt: str, consented_only: bool) -> Job:
    """Queue a background export of the group's people (a crm.Job run by segment_export_task after commit)."""
    from marketing.tasks_segments import segment_export_task

    _require(actor, VIEW)
    if fmt not in EXPORT_FORMATS:
        raise ValidationError({"format": _("Choose CSV or Excel.")})
    params: dict[str, Any] = {"segment_id": segment.pk, "format": fmt, "consented_only": consented_only}
    job = job_start(owner=actor, kind=EXPORT_JOB_KIND, params=params)
    segment_export_task.delay_on_commit(job.pk)
    return job
