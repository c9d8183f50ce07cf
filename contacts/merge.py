"""Likely duplicate companies and their merge (issue 4, item 10).

`duplicate_pairs` finds pairs of companies that are probably the same counterparty; `company_merge`
folds one into the other in a single transaction. Higher apps move their own rows through
`contacts.registry.merge_handlers()`, so this module imports nothing above contacts.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.text import Truncator, capfirst
from django.utils.translation import gettext as _

from contacts import registry
from contacts.models import (
    PHONE_KINDS,
    Company,
    CompanyQuerySet,
    CompanyRole,
    ContactPoint,
    ContactPointKind,
    Employment,
    Interaction,
    Person,
)
from contacts.selectors import company_get
from contacts.services import sanitize_notes
from crm.models import User

# -- Likely duplicates -------------------------------------------------------------------------

# Companies examined per page: the user's most recently created visible companies (highest ids
# first), each compared with every visible company that has a lower id. Every pair is therefore
# reported once, on the page of its newer company, and "Check older companies" pages on by keyset
# (`before` = the lowest id of the previous window). A page costs the same whatever the size of the
# table. Measured on 250k companies (2 cores): a trigram self-join of the whole table takes
# minutes, and even one `%` (similarity) index search costs 15-50 ms per name because legal-form
# trigrams ("ТОВ", "ФОП") sit in most rows; hence the window of 100 and the name search below.
DUPLICATE_WINDOW = 100
PAIR_LIMIT = 100
NAME_SIMILARITY = 0.6
# At most this many similar names per company of the window (the most similar first) ...
NAME_MATCHES_PER_COMPANY = 5
# ... chosen among at most this many older companies whose name contains the same distinctive word.
NAME_CANDIDATES_PER_COMPANY = 50
# Words that say nothing about which company it is: legal forms and common trade words.
NAME_STOP_WORDS = frozenset({
    "ТОВ", "ТДВ", "ПП", "ФОП", "АТ", "ПАТ", "ПРАТ", "ВАТ", "ЗАТ", "ДП", "КП", "ГО", "ФГ", "СГ", "ПМП", "LLC",
    "LTD", "INC", "ЛТД", "ЛІМІТЕД", "ТОВАРИСТВО", "ОБМЕЖЕНОЮ", "ДОДАТКОВОЮ", "ВІДПОВІДАЛЬНІСТЮ", "ПРИВАТНЕ",
    "ПІДПРИЄМСТВО", "ФІЗИЧНА", "ОСОБА", "ПІДПРИЄМЕЦЬ", "АКЦІОНЕРНЕ", "ПУБЛІЧНЕ", "ДЕРЖАВНЕ", "КОМУНАЛЬНЕ",
    "КОМПАНІЯ", "ФІРМА", "ГРУП", "ГРУПА", "GROUP", "ТРЕЙД", "TRADE", "СЕРВІС", "SERVICE", "ПЛЮС", "PLUS",
    "УКРАЇНА", "UKRAINE",
})  # fmt: skip

# Guards against a shared switchboard number or a generic mailbox flooding the page.
MAX_CANDIDATE_ROWS = 5000
MAX_COMPANIES_PER_KEY = 20

EMAIL_KIND = ContactPointKind.EMAIL
MATCH_KINDS = sorted({*PHONE_KINDS, EMAIL_KIND})

# Score of one reason; the name similarity adds its own score (0.6–1.0).
REASON_WEIGHT = {"edrpou": 3.0, "phone": 2.0, "email": 2.0}


@dataclass(frozen=True)
class DuplicateReason:
    kind: str  # "edrpou", "phone", "email" or "name"
    value: str  # the shared code, number or address, or the similarity score

    @property
    def label(self) -> str:
        match self.kind:
            case "edrpou":
                return _("Same EDRPOU %(value)s") % {"value": self.value}
            case "phone":
                return _("Same phone %(value)s") % {"value": self.value}
            case "email":
                return _("Same e-mail %(value)s") % {"value": self.value}
        return _("Similar name (%(value)s)") % {"value": self.value}

    @property
    def icon(self) -> str:
        return {"edrpou": "upc", "phone": "telephone", "email": "envelope"}.get(self.kind, "type")


@dataclass
class DuplicatePair:
    newer: Company
    older: Company
    reasons: list[DuplicateReason] = field(default_factory=list)
    score: float = 0.0


@dataclass
class _Found:
    reasons: dict[tuple[int, int], list[DuplicateReason]] = field(default_factory=lambda: defaultdict(list))
    scores: dict[tuple[int, int], float] = field(default_factory=lambda: defaultdict(float))

    def add(self, newer: int, older: int, reason: DuplicateReason, score: float) -> None:
        key = (newer, older)
        if reason not in self.reasons[key]:
            self.reasons[key].append(reason)
            self.scores[key] += score


def duplicate_pairs(
    *, user: User, before: int | None = None, window: int = DUPLICATE_WINDOW, limit: int = PAIR_LIMIT
) -> tuple[list[DuplicatePair], int | None]:
    """Likely duplicates among the companies `user` may see, strongest first, and the next cursor.

    Both companies of every pair are visible to the user (a director or administrator sees the
    whole organisation, a manager the team's, a representative their own and shared ones). The
    page examines one window of companies (see DUPLICATE_WINDOW); the cursor is None after the
    oldest window. A constant number of queries, whatever the number of rows.
    """
    visible = Company.objects.visible_to(user).order_by()
    newest = visible.order_by("-pk")
    if before is not None:
        newest = newest.filter(pk__lt=before)
    batch = list(newest.values_list("pk", "name", "edrpou")[: window + 1])  # one more: is there a next page?
    if not batch:
        return [], None
    next_cursor = batch[window - 1][0] if len(batch) > window else None
    batch = batch[:window]
    ids = [pk for pk, _name, _edrpou in batch]
    found = _Found()
    _match_edrpou(found, visible, batch)
    _match_contact_points(found, ids)
    _match_names(found, visible, batch)
    if not found.scores:
        return [], next_cursor
    # visible_to() decides, once for all candidates, which pairs the user may see: a pair whose
    # other company is not visible is dropped before the ranking, so it takes no place on the page.
    candidates = {pk for pair in found.scores for pk in pair}
    allowed = set(visible.filter(pk__in=candidates).values_list("pk", flat=True))
    ranked = sorted(
        ((pair, score) for pair, score in found.scores.items() if allowed.issuperset(pair)),
        key=lambda item: (-item[1], -item[0][0], -item[0][1]),
    )[:limit]
    companies = visible.filter(pk__in={pk for pair, _score in ranked for pk in pair}).select_related("owner")
    loaded = companies.in_bulk()
    pairs = [
        DuplicatePair(newer=loaded[newer], older=loaded[older], reasons=found.reasons[(newer, older)], score=score)
        for (newer, older), score in ranked
        if newer in loaded and older in loaded
    ]
    return pairs, next_cursor


def _pair_groups(
    found: _Found, groups: dict[tuple[str, str], set[int]], window_ids: set[int], *, skip_crowded: bool
) -> None:
    """Pairs within each group of companies sharing a key: the newer one in the window, the older any.

    A phone or e-mail shared by many companies (a business centre's reception, a generic mailbox)
    says nothing about identity: with `skip_crowded` such keys are ignored. A shared EDRPOU always
    counts, paired with the nearest older companies only, so a large group stays bounded.
    """
    for (kind, value), members in groups.items():
        if len(members) < 2 or (skip_crowded and len(members) > MAX_COMPANIES_PER_KEY):
            continue
        for newer in members & window_ids:
            for older in sorted((pk for pk in members if pk < newer), reverse=True)[:MAX_COMPANIES_PER_KEY]:
                found.add(newer, older, DuplicateReason(kind, value), REASON_WEIGHT[kind])


def _match_edrpou(found: _Found, visible: CompanyQuerySet, batch: list[tuple[int, str, str]]) -> None:
    codes = {edrpou for _pk, _name, edrpou in batch if edrpou}
    if not codes:
        return
    groups: dict[tuple[str, str], set[int]] = defaultdict(set)
    # contacts_company_edrpou_idx (partial, non-empty codes).
    for pk, edrpou in visible.filter(edrpou__in=codes).values_list("pk", "edrpou")[:MAX_CANDIDATE_ROWS]:
        groups[("edrpou", edrpou)].add(pk)
    _pair_groups(found, groups, {pk for pk, _name, _edrpou in batch}, skip_crowded=False)


def _match_contact_points(found: _Found, ids: list[int]) -> None:
    """Same normalised phone (E.164) or e-mail of two companies; people's e-mails count for their company.

    Two indexed steps instead of one OR-ed join (which PostgreSQL answers with a scan of the
    whole table): the window's keys via contacts_cp_company_idx / contacts_cp_person_idx, then
    every point with those keys via contacts_cp_normalized_idx. Visibility is applied to all
    candidates at once by duplicate_pairs.
    """
    company_keys = ContactPoint.objects.filter(company_id__in=ids, kind__in=MATCH_KINDS).values_list("normalized")
    people_keys = ContactPoint.objects.filter(person__company_id__in=ids, kind=EMAIL_KIND).values_list("normalized")
    keys = [key for (key,) in company_keys.union(people_keys)[:MAX_CANDIDATE_ROWS]]
    if not keys:
        return
    rows = (
        ContactPoint.objects.filter(normalized__in=keys, kind__in=MATCH_KINDS)
        .filter(Q(company__isnull=False) | Q(kind=EMAIL_KIND))
        .annotate(holder=Coalesce("company_id", "person__company_id"))
        .filter(holder__isnull=False)
        .values_list("holder", "kind", "normalized")[:MAX_CANDIDATE_ROWS]
    )
    groups: dict[tuple[str, str], set[int]] = defaultdict(set)
    for holder, kind, normalized in rows:
        groups[("email" if kind == EMAIL_KIND else "phone", normalized)].add(holder)
    _pair_groups(found, groups, set(ids), skip_crowded=True)


def distinctive_word(name: str) -> str | None:
    """The longest word of a company name that is not a legal form or a common trade word (3+ letters)."""
    words = [word for word in re.findall(r"[^\W_]{3,}", name) if word.upper() not in NAME_STOP_WORDS]
    return max(words, key=len) if words else None


def _match_names(found: _Found, visible: CompanyQuerySet, batch: list[tuple[int, str, str]]) -> None:
    """Similar names (pg_trgm similarity of the upper-cased names above NAME_SIMILARITY).

    Candidates are older visible companies whose name contains the new name's distinctive word:
    `UPPER(name) LIKE '%WORD%'` needs every trigram of the word, so the GIN index
    contacts_company_name_trgm_idx (on UPPER(name), the expression used here) answers it from a
    few short posting lists, unlike `%`, which must read the huge lists of "ТОВ" and "-ЕНКО" too.
    The price: a typo in the distinctive word itself hides the pair ("ТОВ Ромашка" and
    "ТОВ Ромашка ЛТД" are found, "Ромашка" and "Ромашко" are not). `v.id + 0` keeps the planner
    from AND-ing the pk index (250k entries) into every search. The visible companies enter as a
    derived table built by visible_to(), which PostgreSQL flattens into the lateral join.
    """
    rows = [(pk, name, word) for pk, name, _edrpou in batch if (word := distinctive_word(name))]
    if not rows:
        return
    visible_sql, visible_params = visible.values_list("pk", "name").query.sql_with_params()
    sql = f"""
        SELECT w.id, m.id, m.score
        FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS w(id, name, word)
        CROSS JOIN LATERAL (
            SELECT c.id, similarity(UPPER(c.name), UPPER(w.name)) AS score
            FROM (
                SELECT v.id, v.name FROM ({visible_sql}) AS v(id, name)
                WHERE UPPER(v.name) LIKE '%%' || UPPER(w.word) || '%%' AND v.id + 0 < w.id
                LIMIT %s
            ) AS c
            WHERE similarity(UPPER(c.name), UPPER(w.name)) > %s
            ORDER BY score DESC, c.id DESC
            LIMIT %s
        ) AS m
    """  # visible_sql is compiled by the ORM; every value is a parameter
    params = [[r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], *visible_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, NAME_CANDIDATES_PER_COMPANY, NAME_SIMILARITY, NAME_MATCHES_PER_COMPANY])
        for newer, older, score in cursor.fetchall():
            found.add(newer, older, DuplicateReason("name", f"{score:.2f}"), float(score))


# -- Merge -------------------------------------------------------------------------------------

# Company fields whose surviving value the user picks on the merge screen, in display order.
MERGE_FIELDS = (
    "name", "short_name", "legal_form", "edrpou", "tax_number", "roles", "status", "industry", "size", "region",
    "city", "legal_address", "delivery_address", "website", "source", "tags", "needs", "interests", "notes",
    "owner", "team", "is_shared",
)  # fmt: skip
# List fields: the merge screen also offers the union of both.
UNION_FIELDS = frozenset({"roles", "tags", "interests"})
# Free-text fields: the merge screen also offers both texts, one after the other.
JOIN_FIELDS = frozenset({"needs", "notes"})


@dataclass(frozen=True)
class MergeRow:
    """One differing field on the merge screen: the two values as text and the combined choice."""

    name: str
    label: str
    first: str
    second: str
    combined: str | None  # the union / joined text, or None when the field offers no combination
    initial: str  # "first", "second" or "combined"


def merge_pair_get(*, user: User, first_pk: int, second_pk: int) -> tuple[Company, Company]:
    """Both companies for the merge screen; raises Http404 when either is not visible to `user`."""
    return company_get(user=user, pk=first_pk), company_get(user=user, pk=second_pk)


def merge_rows(first: Company, second: Company) -> list[MergeRow]:
    """The fields whose values differ between the two companies, with their display values."""
    rows = []
    for name in MERGE_FIELDS:
        a, b = merge_value(first, second, name, "first"), merge_value(first, second, name, "second")
        if _same(a, b):
            continue
        # By default nothing is lost: the filled-in value, or the union / both texts.
        combined, initial = None, "second" if _blank(a) else "first"
        if name in UNION_FIELDS | JOIN_FIELDS and not _blank(a) and not _blank(b):
            both = merge_value(first, second, name, "combined")
            if _same(both, b):  # ["vip"] and ["vip", "опт"]: the second is the union already
                initial = "second"
            elif not _same(both, a):
                combined, initial = _display(name, both), "combined"
        label = capfirst(str(Company._meta.get_field(name).verbose_name))
        rows.append(MergeRow(name, label, _display(name, a), _display(name, b), combined, initial))
    return rows


def merge_value(first: Company, second: Company, name: str, choice: str) -> Any:
    """The value of field `name` for a merge-screen choice: "first", "second" or "combined"."""
    a, b = getattr(first, name), getattr(second, name)
    if choice == "first":
        return a
    if choice == "second":
        return b
    if name in UNION_FIELDS:
        merged = list(dict.fromkeys([*a, *b]))
        if name == "roles":
            return [role for role in CompanyRole.values if role in merged]
        return sorted(merged) if name == "tags" else merged
    if name in JOIN_FIELDS:
        return "\n\n".join(text for text in (a, b) if text)
    raise ValueError(f"{name} offers no combined value")


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return sorted(a) == sorted(b)
    return a == b


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == []


def _display(name: str, value: Any) -> str:
    model_field = Company._meta.get_field(name)
    if _blank(value):
        return ""
    if name == "roles":
        return ", ".join(str(CompanyRole(role).label) for role in value if role in CompanyRole.values)
    if isinstance(value, list):
        return ", ".join(value)
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if name == "notes":
        return Truncator(strip_tags(value)).chars(300)
    return str(value)


def _change_reason(verb: str, company: Company) -> str:
    # History rows keep the reason in a 100-character column.
    return Truncator(f"{verb} #{company.pk} {company.name}").chars(100)


@transaction.atomic
def company_merge(*, actor: User, survivor: Company, duplicate: Company, values: dict[str, Any]) -> Company:
    """Fold `duplicate` into `survivor` and delete it; returns the updated survivor.

    `values` maps fields of MERGE_FIELDS to the surviving values (fields not given keep the
    survivor's). People, contact points (exact duplicates by kind and normalised value dropped),
    interactions and employments move to the survivor; each registered merge handler moves its
    app's rows in the same transaction. Raises ValidationError for a merge of a company with
    itself, an unknown field or an invalid value (keyed by field); PermissionDenied when the actor
    may not edit both companies. Any error rolls everything back.
    """
    if survivor.pk == duplicate.pk:
        raise ValidationError(_("A company cannot be merged with itself."))
    unknown = sorted(set(values) - set(MERGE_FIELDS))
    if unknown:
        raise ValidationError(_("These fields cannot be merged: %(fields)s.") % {"fields": ", ".join(unknown)})
    # Lock both rows in id order, so two merges of the same pair cannot deadlock; re-read them
    # under the lock so a concurrent edit is not overwritten with stale values.
    locked = Company.objects.visible_to(actor).select_for_update().filter(pk__in=[survivor.pk, duplicate.pk])
    rows = {company.pk: company for company in locked.order_by("pk")}
    if len(rows) != 2:
        raise PermissionDenied
    survivor, duplicate = rows[survivor.pk], rows[duplicate.pk]
    for name, value in values.items():
        setattr(survivor, name, value)
    survivor.notes = sanitize_notes(survivor.notes)
    survivor.full_clean()

    now = timezone.now()
    moved_reason = _change_reason(_("Merged from"), duplicate)
    _move_people(actor=actor, survivor=survivor, duplicate=duplicate, now=now, reason=moved_reason)
    _move_points(actor=actor, survivor=survivor, duplicate=duplicate, now=now, reason=moved_reason)
    _move_interactions(actor=actor, survivor=survivor, duplicate=duplicate, now=now, reason=moved_reason)
    Employment.objects.filter(company=duplicate).update(company=survivor, updated_at=now)
    for handler in registry.merge_handlers():
        handler(duplicate, survivor, actor)

    contacts = [moment for moment in (survivor.last_contact_at, duplicate.last_contact_at) if moment]
    survivor.last_contact_at = max(contacts, default=None)
    survivor._change_reason = _change_reason(_("Merged with"), duplicate)
    survivor._history_user = actor
    survivor.save()
    duplicate._change_reason = _change_reason(_("Merged into"), survivor)
    duplicate._history_user = actor
    duplicate.delete()
    return survivor


def _move_people(*, actor: User, survivor: Company, duplicate: Company, now: Any, reason: str) -> None:
    people = list(Person.objects.filter(company=duplicate).order_by("pk"))
    if not people:
        return
    # No new child rows can appear meanwhile: inserting one would need a key-share lock on the
    # duplicate, which company_merge holds FOR UPDATE.
    Person.objects.filter(company=duplicate).update(company=survivor, updated_at=now)
    for person in people:
        person.company, person.updated_at = survivor, now
    Person.history.bulk_history_create(
        people, batch_size=500, update=True, default_user=actor, default_change_reason=reason
    )


def _move_points(*, actor: User, survivor: Company, duplicate: Company, now: Any, reason: str) -> None:
    kept = {
        (kind, value): primary
        for kind, value, primary in survivor.points.values_list("kind", "normalized", "is_primary")
    }
    has_primary = {kind for (kind, _value), primary in kept.items() if primary}
    moving = []
    for point in duplicate.points.order_by("-is_primary", "pk"):
        if (point.kind, point.normalized) in kept:
            point._change_reason = reason
            point._history_user = actor
            point.delete()
            continue
        kept[(point.kind, point.normalized)] = point.is_primary
        # The survivor keeps its own primary phone / e-mail; a moved one becomes secondary.
        if point.is_primary and point.kind in has_primary:
            point.is_primary = False
        elif point.is_primary:
            has_primary.add(point.kind)
        point.company, point.updated_at = survivor, now
        moving.append(point)
    if moving:
        ContactPoint.objects.bulk_update(moving, ["company", "is_primary", "updated_at"], batch_size=500)
        ContactPoint.history.bulk_history_create(
            moving, batch_size=500, update=True, default_user=actor, default_change_reason=reason
        )


def _move_interactions(*, actor: User, survivor: Company, duplicate: Company, now: Any, reason: str) -> None:
    # One UPDATE for the rows (a long history can hold thousands), history rows in batches.
    interactions = list(Interaction.objects.filter(company=duplicate).order_by("pk"))
    if not interactions:
        return
    Interaction.objects.filter(company=duplicate).update(company=survivor, updated_at=now)
    for interaction in interactions:
        interaction.company, interaction.updated_at = survivor, now
    Interaction.history.bulk_history_create(
        interactions, batch_size=1000, update=True, default_user=actor, default_change_reason=reason
    )
