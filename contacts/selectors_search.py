"""Global search and caller lookup over companies, people and their contact points.

Every read starts from `visible_to(user)`; contact points are reached only through a visible
company or person. Each search kind uses one index (contacts/models.py):

- names: `contacts_company_name_trgm_idx`, `contacts_co_short_trgm_idx`, `contacts_person_name_trgm_idx`
  (GIN gin_trgm_ops on UPPER(...)), so the WHERE is on exactly UPPER(name);
- phones: `contacts_cp_digits_idx` (reversed digits, varchar_pattern_ops): "ends with" becomes a prefix LIKE;
- e-mails: `contacts_cp_normalized_idx`; EDRPOU: `contacts_company_edrpou_idx`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.search import TrigramSimilarity, TrigramWordSimilarity
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Greatest, Upper
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from contacts.models import Company, ContactPoint, Interaction, InteractionChannel, Person
from contacts.validators import normalize_phone, phone_digits
from crm import search
from crm.search import GROUP_LIMIT, SearchGroup, SearchResult

if TYPE_CHECKING:
    from crm.models import User

NAME_MIN_LENGTH = 3
PHONE_TAIL_MIN_DIGITS = 7
PHONE_MAX_DIGITS = 15  # E.164
# Name matches are ranked among at most this many candidates: a very common word ("ТОВ") matches
# most of the table, and ranking all of them is the slow tail (PLATFORM.md). The GIN bitmap still
# finds every match; only the heap rows fetched and ranked are bounded.
# 50: a common surname matches thousands of rows in the whole table, and each candidate in the user's
# scope is found by reading matches until enough pass the scope filter; 200 cost ~10 ms a group at L.
NAME_CANDIDATES = 50
# What a result shows (_company_result, _person_result).
COMPANY_RESULT_FIELDS = ("name", "edrpou", "city")
PERSON_RESULT_FIELDS = ("last_name", "first_name", "patronymic", "position", "company__name")
LOOKUP_LIMIT = 10
LAST_INTERACTIONS = 5

_PHONE_LIKE = re.compile(r"\+?[\d\s().\-/]+")
_EDRPOU = re.compile(r"\d{8}")


@dataclass(frozen=True)
class Query:
    """What one search box input can mean; several at once (8 digits: an EDRPOU code or a phone tail)."""

    text: str
    phone_digits: str = ""
    email: str = ""
    edrpou: str = ""

    @property
    def name(self) -> str:
        """The upper-cased text for a name search, or "" when the input is a phone, an e-mail or too short."""
        if self.email or self.phone_digits or len(self.text) < NAME_MIN_LENGTH:
            return ""
        return self.text.upper()


def parse_query(text: str) -> Query:
    text = search.clean_query(text)
    if "@" in text:
        return Query(text=text, email=text.lower())
    digits = phone_digits(text) if _PHONE_LIKE.fullmatch(text) else ""
    if not PHONE_TAIL_MIN_DIGITS <= len(digits) <= PHONE_MAX_DIGITS:
        digits = ""
    return Query(text=text, phone_digits=digits, edrpou=text if _EDRPOU.fullmatch(text) else "")


def _phone_points(digits: str) -> QuerySet[ContactPoint]:
    # The explicit `<> ''` lets the planner use the partial index contacts_cp_digits_idx.
    return ContactPoint.objects.exclude(digits_reversed="").filter(digits_reversed__startswith=digits[::-1])


def _matching_points(query: Query) -> QuerySet[ContactPoint] | None:
    if query.email:
        return ContactPoint.objects.filter(normalized=query.email)
    if query.phone_digits:
        return _phone_points(query.phone_digits)
    return None


def _with_matched_value(qs: QuerySet, points: QuerySet[ContactPoint], owner: str) -> QuerySet:
    """Annotate each row with the value of its matching contact point (one subquery per result row, <= limit)."""
    matched = points.filter(**{owner: OuterRef("pk")}).order_by("-is_primary", "pk").values("value")[:1]
    return qs.filter(pk__in=points.values(f"{owner}_id")).annotate(matched=Subquery(matched))


def _greatest(expressions: list) -> object:
    return expressions[0] if len(expressions) == 1 else Greatest(*expressions)


@contextmanager
def _trigram_index_only() -> Iterator[None]:
    """Read name matches from the trigram indexes, never by a sequential scan.

    With `LIMIT n` the planner costs a sequential scan as stopping after n matches spread evenly over the
    table; for a rare name among a million people (the usual search) it reads ~50k rows or the whole
    table (70-100 ms at size L) where the trigram index answers in a few milliseconds. The setting is
    local to this transaction.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        yield


def _ranked_by_name(qs: QuerySet, upper_query: str, fields: list[str], limit: int) -> QuerySet:
    """Rows whose UPPER(field) is word-similar to or contains the query, best first.

    Word similarity (`%>`) finds a typo inside one word of a longer name ("ШЕВЧЕКО" in "ШЕВЧЕНКО ТАРАС ...");
    LIKE '%...%' finds a fragment from the middle of a word; both are served by the GIN trigram indexes.
    Up to three queries: the candidate ids (bounded; fragments first), then their rank. The rank adds
    whole-string similarity, so an exact name comes before a longer name that contains it.
    """
    aliases = {f"u_{name}": Upper(name) for name in fields}
    contains, similar = Q(), Q()
    for alias in aliases:
        contains |= Q(**{f"{alias}__contains": upper_query})
        similar |= Q(**{f"{alias}__trigram_word_similar": upper_query})
    # Lists, not subqueries: `pk IN (SELECT ... LIMIT n)` lets the planner hash-join the whole table.
    named = qs.alias(**aliases)
    with _trigram_index_only():
        candidates = list(named.filter(contains).values_list("pk", flat=True)[:NAME_CANDIDATES])
        if len(candidates) < NAME_CANDIDATES:
            # Too few names contain the text as typed: add the typo-tolerant matches. Word similarity is the
            # slower index scan (~5 ms for a common surname at L), so a name typed right does not pay for it.
            fuzzy = named.filter(similar).exclude(pk__in=candidates).values_list("pk", flat=True)
            candidates += fuzzy[: NAME_CANDIDATES - len(candidates)]
    rank = _greatest([TrigramWordSimilarity(upper_query, Upper(name)) for name in fields]) + _greatest(
        [TrigramSimilarity(Upper(name), upper_query) for name in fields]
    )
    # The candidates were read through `qs` (visible_to), so their ids alone are enough here.
    return qs.model.objects.filter(pk__in=candidates).annotate(rank=rank).order_by("-rank", "pk")[:limit]


def company_search(*, user: User, query: Query, limit: int = GROUP_LIMIT) -> list[Company]:
    """Visible companies matching an EDRPOU code, a phone or e-mail of theirs, or their (short) name."""
    visible = Company.objects.visible_to(user)
    found: dict[int, Company] = {}
    if query.edrpou:
        found.update((c.pk, c) for c in visible.filter(edrpou=query.edrpou).order_by("pk")[:limit])
    points = _matching_points(query)
    if points is not None:
        rows = _with_matched_value(visible, points.filter(company__isnull=False), "company").order_by("name", "pk")
        found.update((c.pk, c) for c in rows[:limit])
    if query.name:
        ranked = _ranked_by_name(visible, query.name, ["name", "short_name"], limit).only(*COMPANY_RESULT_FIELDS)
        found.update((c.pk, c) for c in ranked)
    return list(found.values())[:limit]


def person_search(*, user: User, query: Query, limit: int = GROUP_LIMIT) -> list[Person]:
    """Visible people matching a phone or e-mail of theirs, or their full name; with their company."""
    visible = Person.objects.visible_to(user)
    points = _matching_points(query)
    if points is not None:
        rows = _with_matched_value(visible, points.filter(person__isnull=False), "person")
        return list(rows.select_related("company").order_by("last_name", "first_name", "pk")[:limit])
    if query.name:
        ranked = _ranked_by_name(visible, query.name, ["full_name"], limit)
        return list(ranked.select_related("company").only(*PERSON_RESULT_FIELDS))
    return []


def _company_result(company: Company) -> SearchResult:
    details = [
        getattr(company, "matched", None),
        company.edrpou and gettext("EDRPOU %s") % company.edrpou,
        company.city,
    ]
    return SearchResult(
        title=company.name,
        subtitle=" · ".join(part for part in details if part),
        url=reverse("contacts:company-detail", args=[company.pk]),
        icon="building",
    )


def _person_result(person: Person) -> SearchResult:
    details = [getattr(person, "matched", None), person.position, person.company and person.company.name]
    return SearchResult(
        title=str(person),
        subtitle=" · ".join(part for part in details if part),
        url=reverse("contacts:person-detail", args=[person.pk]),
        icon="person",
    )


def contacts_search(user: User, query: str) -> list[SearchGroup]:
    """The contacts app's global-search provider: a Companies group and a People group."""
    parsed = parse_query(query)
    if not (parsed.name or parsed.phone_digits or parsed.email or parsed.edrpou):
        return []
    companies = [_company_result(company) for company in company_search(user=user, query=parsed)]
    people = [_person_result(person) for person in person_search(user=user, query=parsed)]
    return [SearchGroup("companies", _("Companies"), companies, 10), SearchGroup("people", _("People"), people, 20)]


def register_search_provider() -> None:
    """Called from ContactsConfig.ready(); idempotent (the same key replaces the earlier registration)."""
    search.register(contacts_search, key="contacts")


# Caller lookup -----------------------------------------------------------------------------------


@dataclass
class LookupCard:
    kind: str  # "person" | "company"
    pk: int
    name: str
    url: str
    owner: User
    company: Company | None  # the person's company; None for a company card
    points: list[ContactPoint] = field(default_factory=list)
    interactions: list[Interaction] = field(default_factory=list)
    log_call_url: str = ""


@dataclass
class CallerLookup:
    phone: str  # E.164 when the input is a full number, else the digits typed (a tail)
    cards: list[LookupCard]


def lookup_phone(value: str) -> tuple[str, str]:
    """(normalised phone, digits to search) for a caller's number; raises ValidationError with a message."""
    value = value.strip()
    if not value:
        raise ValidationError(_("Enter the caller’s phone number."), code="required")
    digits = phone_digits(value) if _PHONE_LIKE.fullmatch(value) else ""
    if not PHONE_TAIL_MIN_DIGITS <= len(digits) <= PHONE_MAX_DIGITS:
        raise ValidationError(
            _("“%(value)s” is not a phone number: enter a number in any format or at least its last 7 digits."),
            code="phone",
            params={"value": value[:40]},
        )
    try:
        return normalize_phone(value), digits
    except ValidationError:
        return digits, digits


def _last_interaction_ids(qs: QuerySet[Interaction], holder: str) -> ArraySubquery:
    """ARRAY(the holder's newest interaction ids): per card an index scan of contacts_inter_company_idx /
    contacts_inter_person_idx that stops after five rows, however long the history (a sliced Prefetch
    would number every interaction of the holder with a window function instead)."""
    newest = qs.filter(**{holder: OuterRef("pk")}).order_by("-occurred_at", "-id").values("pk")
    return ArraySubquery(newest[:LAST_INTERACTIONS])


def _log_call_url(company_id: int | None, person_id: int | None, phone: str) -> str:
    if company_id is None:
        return ""  # an interaction belongs to a company; a person without one is logged from their card
    params = {"channel": InteractionChannel.CALL_IN, "subject": gettext("Incoming call from %s") % phone}
    if person_id is not None:
        params["person"] = str(person_id)
    return f"{reverse('contacts:interaction-create', args=[company_id])}?{urlencode(params)}"


def caller_lookup(*, user: User, phone: str) -> CallerLookup:
    """People, then companies, whose phone ends with the given number, each with the last five interactions.

    Raises ValidationError when `phone` is empty or not a phone number. A constant number of queries.
    """
    normalized, digits = lookup_phone(phone)
    points = _phone_points(digits)
    people = list(
        Person.objects.visible_to(user)
        .filter(pk__in=points.filter(person__isnull=False).values("person_id"))
        .select_related("company", "owner")
        # A person's history may include former companies: only interactions of visible companies.
        .annotate(last_ids=_last_interaction_ids(Interaction.objects.visible_to(user), "person"))
        .order_by("last_name", "first_name", "pk")[:LOOKUP_LIMIT]
    )
    companies = list(
        Company.objects.visible_to(user)
        .filter(pk__in=points.filter(company__isnull=False).values("company_id"))
        .select_related("owner")
        # The company is visible, so all of its interactions are (InteractionQuerySet.visible_to).
        .annotate(last_ids=_last_interaction_ids(Interaction.objects.all(), "company"))
        .order_by("name", "pk")[:LOOKUP_LIMIT]
    )
    # One query each for every card's primary contact points and last interactions (ids from the visible rows above).
    primary: dict[tuple[str, int], list[ContactPoint]] = {}
    holders = Q(person__in=[p.pk for p in people]) | Q(company__in=[c.pk for c in companies])
    if people or companies:
        for point in ContactPoint.objects.filter(holders, is_primary=True).order_by("kind", "pk"):
            key = ("person", point.person_id) if point.person_id else ("company", point.company_id)
            primary.setdefault(key, []).append(point)
    ids = [pk for row in [*people, *companies] for pk in row.last_ids]
    interactions = Interaction.objects.select_related("user").in_bulk(ids) if ids else {}
    cards = [
        LookupCard(
            kind="person",
            pk=p.pk,
            name=str(p),
            url=reverse("contacts:person-detail", args=[p.pk]),
            owner=p.owner,
            company=p.company,
            points=primary.get(("person", p.pk), []),
            interactions=[interactions[pk] for pk in p.last_ids if pk in interactions],
            log_call_url=_log_call_url(p.company_id, p.pk, normalized),
        )
        for p in people
    ]
    cards += [
        LookupCard(
            kind="company",
            pk=c.pk,
            name=c.name,
            url=reverse("contacts:company-detail", args=[c.pk]),
            owner=c.owner,
            company=None,
            points=primary.get(("company", c.pk), []),
            interactions=[interactions[pk] for pk in c.last_ids if pk in interactions],
            log_call_url=_log_call_url(c.pk, None, normalized),
        )
        for c in companies
    ]
    return CallerLookup(phone=normalized, cards=cards)


def caller_lookup_json(result: CallerLookup, *, absolute_url: Callable[[str], str]) -> dict:
    """The phone system's view of a lookup: plain JSON types, absolute card URLs."""
    return {
        "phone": result.phone,
        "matches": [
            {
                "type": card.kind,
                "id": card.pk,
                "name": card.name,
                "company": card.company.name if card.company else None,
                "owner": str(card.owner),
                "url": absolute_url(card.url),
                "last_interactions": [
                    {
                        "at": i.occurred_at.isoformat(),
                        "channel": i.channel,
                        "subject": i.subject,
                        "user": str(i.user) if i.user else None,
                    }
                    for i in card.interactions
                ],
            }
            for card in result.cards
        ],
    }
