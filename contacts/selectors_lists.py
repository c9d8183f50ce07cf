"""Reads of the company and person lists: keyset pages, saved filters, rows for export.

Every read starts from `visible_to(user)` (the FilterSets in contacts/filters.py do that).
Pages are keyset-paginated: no COUNT(*), no OFFSET; the cursor carries the last row's sort value and id.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404
from django.utils import timezone

from contacts.filters import DEFAULT_SORT, ListFilterSet
from contacts.models import Company, CompanyRole, ContactPoint, ContactPointKind, Person, SavedFilter
from crm.models import User
from crm.templatetags.crm_urls import pk_url

# A screenful of clients, as in most CRMs; the next page is one keyset query away. Each row costs ~0.15 ms
# of template work, so 50 rows made the list twice the cost of the rest of the page.
PAGE_SIZE = 25
SAVED_FILTERS_SHOWN = 50


@dataclass(frozen=True)
class SortSpec:
    columns: tuple[str, ...]  # sort columns before the `id` tie-breaker
    nullable: bool = False  # a single nullable column: rows with a value first, then the empty ones (nulls last)
    is_datetime: bool = False


SORTS: dict[str, dict[str, SortSpec]] = {
    # Served by contacts_company_name_idx (name, id) / _co_owner_name_idx / _team_name_idx,
    # contacts_company_last_idx (last_contact_at, id), contacts_company_created_idx (created_at, id).
    SavedFilter.Target.COMPANY: {
        "name": SortSpec(("name",)),
        "last_contact": SortSpec(("last_contact_at",), nullable=True, is_datetime=True),
        "created": SortSpec(("created_at",), is_datetime=True),
    },
    # contacts_person_name_idx (last_name, first_name, id), _last_idx, _created_idx.
    SavedFilter.Target.PERSON: {
        "name": SortSpec(("last_name", "first_name")),
        "last_contact": SortSpec(("last_contact_at",), nullable=True, is_datetime=True),
        "created": SortSpec(("created_at",), is_datetime=True),
    },
}


@dataclass
class ListPage:
    rows: list[Any]
    next_cursor: str | None
    is_first: bool


def _encode_cursor(sort: str, values: list[Any], pk: int) -> str:
    raw = [value.isoformat() if isinstance(value, datetime) else value for value in values]
    data = json.dumps({"s": sort, "v": raw, "id": pk}, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str, spec: SortSpec) -> tuple[list[Any], int] | None:
    """The cursor's values and id, or None for a malformed or foreign cursor (the first page is shown)."""
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        values, pk = data["v"], data["id"]
        if data["s"] != sort or not isinstance(pk, int) or len(values) != len(spec.columns):
            return None
        if spec.is_datetime:
            values = [datetime.fromisoformat(value) if value is not None else None for value in values]
        elif not all(isinstance(value, str) for value in values):
            return None
        if not spec.nullable and None in values:
            return None
        return values, pk
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError):
        return None


def _after(pairs: list[tuple[str, Any]], op: str) -> Q:
    """(c1, c2, …) > (v1, v2, …) spelt out for the ORM: c1 > v1 OR (c1 = v1 AND (…))."""
    (column, value), rest = pairs[0], pairs[1:]
    condition = Q(**{f"{column}__{op}": value})
    if rest:
        condition |= Q(**{column: value}) & _after(rest, op)
    return condition


def _keyset_filter(qs: QuerySet, columns: tuple[str, ...], values: list[Any], pk: int, descending: bool) -> QuerySet:
    op = "lt" if descending else "gt"
    pairs = [*zip(columns, values, strict=True), ("id", pk)]
    # The leading `c1 >= v1` gives the planner an index bound; the OR alone would scan from the start.
    return qs.filter(Q(**{f"{columns[0]}__{op}e": values[0]}) & _after(pairs, op))


def _ordered(qs: QuerySet, columns: tuple[str, ...], descending: bool) -> QuerySet:
    order = [F(column).desc() if descending else F(column).asc() for column in (*columns, "id")]
    return qs.order_by(*order)


def keyset_page(qs: QuerySet, *, target: str, sort: str, cursor: str | None, limit: int | None = None) -> ListPage:
    """One page of `qs` in `sort` order after `cursor`; at most two queries, never a COUNT.

    A nullable sort column (last contact) is read in two segments so each uses the (column, id) index:
    rows with a value in order, then the rows without one by id (nulls last in both directions).
    """
    limit = limit or PAGE_SIZE
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    spec = SORTS[target].get(key) or SORTS[target][DEFAULT_SORT]
    decoded = _decode_cursor(cursor, sort, spec) if cursor else None
    rows: list[Any] = []
    if spec.nullable:
        column = spec.columns[0]
        in_null_segment = decoded is not None and decoded[0][0] is None
        if not in_null_segment:
            segment = _ordered(qs.filter(**{f"{column}__isnull": False}), spec.columns, descending)
            if decoded:
                segment = _keyset_filter(segment, spec.columns, decoded[0], decoded[1], descending)
            rows = list(segment[: limit + 1])
        if len(rows) <= limit:
            nulls = _ordered(qs.filter(**{f"{column}__isnull": True}), (), descending)
            if in_null_segment and decoded:
                nulls = nulls.filter(**{"id__lt" if descending else "id__gt": decoded[1]})
            rows += list(nulls[: limit + 1 - len(rows)])
    else:
        ordered = _ordered(qs, spec.columns, descending)
        if decoded:
            ordered = _keyset_filter(ordered, spec.columns, decoded[0], decoded[1], descending)
        rows = list(ordered[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = _encode_cursor(sort, [getattr(last, column) for column in spec.columns], last.pk)
    return ListPage(rows=rows[:limit], next_cursor=next_cursor, is_first=decoded is None)


ROLE_LABELS = dict(CompanyRole.choices)
OWNER_FIELDS = ("owner__full_name", "owner__email")
# What a row shows and the keyset cursor reads: not the notes, addresses and needs of each client.
ROW_FIELDS = {
    SavedFilter.Target.COMPANY: (
        *("name", "short_name", "roles", "tags", "status", "region", "city"),
        *("last_contact_at", "created_at", "owner", *OWNER_FIELDS),
    ),
    SavedFilter.Target.PERSON: (
        *("last_name", "first_name", "patronymic", "position", "birth_day", "birth_month", "birth_year"),
        *("last_contact_at", "created_at", "owner", *OWNER_FIELDS),
        *("company", "company__name", "company__short_name", "company__city", "company__roles"),
    ),
}


def list_page(*, filterset: ListFilterSet, target: str, cursor: str | None, limit: int | None = None) -> ListPage:
    """A render-ready page of the filtered list: owners (and people's companies) preloaded, role labels set."""
    qs = filterset.qs.select_related("owner").only(*ROW_FIELDS[target])
    if target == SavedFilter.Target.PERSON:
        qs = qs.select_related("company")
    page = keyset_page(qs, target=target, sort=filterset.current_sort, cursor=cursor, limit=limit)
    for row in page.rows:
        _decorate_row(row)
    return page


def _decorate_row(row: Company | Person) -> None:
    """Display strings of one row, made once here: each template lookup, filter and tag costs per row."""
    row.owner_name = str(row.owner)
    row.last_contact = timezone.localtime(row.last_contact_at).strftime("%d.%m.%Y") if row.last_contact_at else ""
    if isinstance(row, Company):
        row.url = pk_url("contacts:company-detail", row.pk)
        row.role_labels = [ROLE_LABELS.get(role, role) for role in row.roles]
        row.place = ", ".join(part for part in (row.get_region_display() if row.region else "", row.city) if part)
        return
    company = row.company
    row.url = pk_url("contacts:person-detail", row.pk)
    row.name = str(row)
    row.company_url = pk_url("contacts:company-detail", company.pk) if company else ""
    row.role_labels = [ROLE_LABELS.get(role, role) for role in company.roles] if company else []
    row.birthday = ""
    if row.birth_month:
        row.birthday = f"{row.birth_day:02d}.{row.birth_month:02d}" + (f".{row.birth_year}" if row.birth_year else "")


def saved_filter_list(*, user: User, target: str) -> list[SavedFilter]:
    """The user's own saved filters of one list and those shared with the user's teams."""
    return list(
        SavedFilter.objects.visible_to(user)
        .filter(target=target)
        .select_related("owner")
        .order_by("name", "pk")[:SAVED_FILTERS_SHOWN]
    )


def saved_filter_get(*, user: User, pk: int) -> SavedFilter:
    """A saved filter the user may apply; Http404 otherwise."""
    return get_object_or_404(SavedFilter.objects.visible_to(user), pk=pk)


def export_queryset(*, filterset: ListFilterSet, target: str) -> QuerySet:
    """The filtered list in its sort order with the primary phone and e-mail as subqueries (no N+1)."""
    holder = "company" if target == SavedFilter.Target.COMPANY else "person"
    points = ContactPoint.objects.filter(**{holder: OuterRef("pk")}, is_primary=True)
    phone_kinds = [ContactPointKind.PHONE, ContactPointKind.MOBILE]
    qs = filterset.qs.select_related("owner").annotate(
        # contacts_cp_company_idx / contacts_cp_person_idx (holder, kind); a landline before a mobile.
        primary_phone=Subquery(points.filter(kind__in=phone_kinds).order_by("-kind").values("normalized")[:1]),
        primary_email=Subquery(points.filter(kind=ContactPointKind.EMAIL).values("normalized")[:1]),
    )
    if target == SavedFilter.Target.PERSON:
        qs = qs.select_related("company")
    sort = filterset.current_sort
    spec = SORTS[target][sort.lstrip("-")]
    descending = sort.startswith("-")
    order = [
        F(column).desc(nulls_last=True) if descending else F(column).asc(nulls_last=True)
        for column in (*spec.columns, "id")
    ]
    return qs.order_by(*order)


def export_selected_queryset(*, user: User, target: str, ids: list[int]) -> QuerySet:
    """Rows checked on a list page that the user can see (the others are ignored)."""
    from contacts.filters import list_filter

    filterset = list_filter(target=target, user=user, data=None)
    return export_queryset(filterset=filterset, target=target).filter(pk__in=ids)


def count_up_to(qs: QuerySet, limit: int) -> int:
    """min(count, limit): a bounded count that stops reading after `limit` rows."""
    return qs.order_by()[:limit].count()
