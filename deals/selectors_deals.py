"""Reads of deals: the kanban board, the list, the deal card, the company's Deals tab, the won-amount metric.

Every read starts from `Deal.objects.visible_to(user)`. No read runs a query per card or row:

- the board: one aggregate (count, sum, weighted sum GROUP BY stage) over the pipeline's open deals, cached
  per scope and filters until the next write of a deal (crm.lib.cached, deals.aggregates), and
  one UNION ALL of a LIMIT-ed backward index scan per stage for the first cards' ids (both served by the
  partial index deals_deal_board_idx on open deals), then one query for those cards by primary key;
- a column's next page: keyset on (expected close ascending, nulls last; id descending), which is the
  backward order of deals_deal_board_idx (pipeline, stage, expected_close_date DESC, id), read as two
  index-bounded segments (dated cards, then undated ones);
- the list: keyset on (created_at DESC, id), no COUNT(*).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Count, DecimalField, F, Q, QuerySet, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contacts.models import Activity, ActivityStatus, Company, Interaction, Person
from crm.history import ChangeEntry, history_entries, latest_records, load_names, related_entry
from crm.lib.cached import cached_aggregate, scope_key
from crm.models import Team, User
from crm.templatetags.crm_urls import pk_url
from deals import aggregates
from deals.formatting import Money, day
from deals.models import (
    Deal,
    DealLine,
    DealStageChange,
    DealStatus,
    LossReason,
    Pipeline,
    Product,
    Stage,
)
from deals.services_deals import line_total

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
COLUMN_SIZE = 15  # cards a board column shows before "Load more"
# As the contacts lists: a screenful; the next page is one keyset query away.
LIST_PAGE_SIZE = 25
COMPANY_TAB_SIZE = 20
CARD_ACTIVITIES = 10
CARD_INTERACTIONS = 20
CARD_STAGE_CHANGES = 100
CHANGES_LIMIT = 50


def require_view(user: User) -> None:
    """Deals pages need `deals.view_deal` (a user without a sales role gets 403)."""
    if not user.has_perm("deals.view_deal"):
        raise PermissionDenied


def weighted(amount_times_probability: Decimal | None) -> Decimal:
    """Σ (amount × probability) / 100, rounded half-up to kopecks."""
    return ((amount_times_probability or ZERO) / 100).quantize(CENT, rounding=ROUND_HALF_UP)


# --- the board -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BoardFilters:
    owner: int | None = None
    team: int | None = None
    close_from: date | None = None
    close_to: date | None = None

    def apply(self, qs: QuerySet[Deal]) -> QuerySet[Deal]:
        if self.owner:
            qs = qs.filter(owner_id=self.owner)
        if self.team:
            qs = qs.filter(team_id=self.team)
        if self.close_from:
            qs = qs.filter(expected_close_date__gte=self.close_from)
        if self.close_to:
            qs = qs.filter(expected_close_date__lte=self.close_to)
        return qs


@dataclass
class ColumnTotals:
    count: int = 0
    amount: Decimal = ZERO
    weighted: Decimal = ZERO


@dataclass
class Column:
    stage: Stage
    totals: ColumnTotals
    cards: list[BoardCard] = field(default_factory=list)
    next_cursor: str = ""


@dataclass
class Board:
    pipeline: Pipeline
    pipelines: list[Pipeline]
    columns: list[Column]
    loss_reasons: list[LossReason]

    @property
    def totals(self) -> ColumnTotals:
        return sum_totals(self.columns)


def sum_totals(columns: Sequence[Column]) -> ColumnTotals:
    """The whole board's count, sum and weighted sum."""
    return ColumnTotals(
        count=sum(c.totals.count for c in columns),
        amount=sum((c.totals.amount for c in columns), ZERO),
        weighted=sum((c.totals.weighted for c in columns), ZERO),
    )


def pipeline_get(*, pk: Any) -> Pipeline:
    """The pipeline `pk`, or the default one when `pk` is empty; Http404 for an unknown or malformed id."""
    if str(pk or "").isdigit():
        return get_object_or_404(Pipeline, pk=int(pk))
    pipeline = None if pk else Pipeline.objects.order_by("-is_default", "order", "name").first()
    if pipeline is None:
        raise Http404
    return pipeline


def pipeline_choice(*, pk: Any) -> tuple[Pipeline, list[Pipeline]]:
    """The pipeline `pk` (the default one when `pk` is empty) and every pipeline (the board's switcher), from
    one query; Http404 for an unknown or malformed id. As pipeline_get, for the board."""
    pipelines = list(Pipeline.objects.order_by("order", "name"))
    if str(pk or "").isdigit():
        chosen = next((pipeline for pipeline in pipelines if pipeline.pk == int(pk)), None)
    elif pk:
        chosen = None
    else:
        chosen = min(pipelines, key=lambda p: (not p.is_default, p.order, p.name), default=None)
    if chosen is None:
        raise Http404
    return chosen, pipelines


def _open_deals(user: User, pipeline_id: int, filters: BoardFilters) -> QuerySet[Deal]:
    return filters.apply(Deal.objects.visible_to(user).filter(pipeline_id=pipeline_id, status=DealStatus.OPEN))


def column_totals(
    *, user: User, pipeline_id: int, filters: BoardFilters, stage_ids: Iterable[int] | None = None
) -> dict[int, ColumnTotals]:
    """stage id → count, sum and weighted sum of the open deals the user sees: ONE grouped query.

    Cached (crm.lib.cached) per scope, pipeline and filters: the sums read every open deal of the pipeline
    (20k at size L, ~15 ms); every write of a deal invalidates them.
    """
    stages = None if stage_ids is None else sorted(stage_ids)
    parts = (scope_key(user), pipeline_id, filters, stages)
    compute = lambda: _column_totals(user=user, pipeline_id=pipeline_id, filters=filters, stages=stages)  # noqa: E731
    return cached_aggregate(aggregates.DEALS, parts, compute)


def _column_totals(
    *, user: User, pipeline_id: int, filters: BoardFilters, stages: list[int] | None
) -> dict[int, ColumnTotals]:
    qs = _open_deals(user, pipeline_id, filters)
    if stages is not None:
        qs = qs.filter(stage_id__in=stages)
    rows = (
        qs.order_by()
        .values("stage_id")
        .annotate(
            n=Count("id"),
            total=Sum("amount"),
            weighted_sum=Sum(
                F("amount") * F("probability"), output_field=DecimalField(max_digits=20, decimal_places=2)
            ),
        )
    )
    return {
        row["stage_id"]: ColumnTotals(row["n"], row["total"] or ZERO, weighted(row["weighted_sum"])) for row in rows
    }


def _card_order(qs: QuerySet[Deal]) -> QuerySet[Deal]:
    # The backward scan of deals_deal_board_idx: soonest expected close first, deals without a date last.
    return qs.order_by(F("expected_close_date").asc(nulls_last=True), F("id").desc())


def encode_cursor(deal: Deal | BoardCard) -> str:
    close = deal.expected_close_date.isoformat() if deal.expected_close_date else None
    raw = json.dumps([close, deal.pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[date | None, int] | None:
    """(expected close, id) of the last card shown, or None for a missing or malformed cursor."""
    if not cursor:
        return None
    try:
        close, pk = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(pk, int) or (close is not None and not isinstance(close, str)):
            return None
        return (date.fromisoformat(close) if close else None, pk)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        return None


@dataclass(frozen=True)
class BoardCard:
    """A kanban card, ready to print: every shown value is a string formatted once here.

    (The template engine localizes each number it prints, ~10 µs apiece: 80 cards × 6 numbers added up.)
    """

    pk: int
    expected_close_date: date | None
    ref: str  # the id, as printed in the card's element id and data attribute
    url: str
    move_url: str
    version: str
    title: str
    company_name: str
    amount: str
    probability: str
    close_label: str
    owner_name: str


_CARD_FIELDS = (
    "id",
    "version",
    "title",
    "company__name",
    "amount",
    "probability",
    "expected_close_date",
    "owner__full_name",
    "owner__email",
)


def _card(row: tuple, money: Money) -> BoardCard:
    pk, version, title, company_name, amount, probability, close, owner_name, owner_email = row
    url = pk_url("deals:deal-detail", pk)
    return BoardCard(
        pk=pk,
        expected_close_date=close,
        ref=str(pk),
        url=url,
        move_url=pk_url("deals:deal-move", pk),
        version=str(version),
        title=title,
        company_name=company_name,
        amount=money(amount),
        probability=str(probability),
        close_label=day(close),
        owner_name=owner_name or owner_email,
    )


def board_card(deal: Deal) -> BoardCard:
    """The card of one deal (after a move), from the instance with its company and owner."""
    row = (deal.pk, deal.version, deal.title, deal.company.name, deal.amount, deal.probability)
    row += (deal.expected_close_date, deal.owner.full_name, deal.owner.email)
    return _card(row, Money())


def _cards(ids: list[int]) -> dict[int, BoardCard]:
    """The cards of `ids` from one query of plain rows (no model instances: a board shows up to 20 per stage)."""
    money = Money()
    rows = Deal.objects.filter(pk__in=ids).values_list(*_CARD_FIELDS)
    return {row[0]: _card(row, money) for row in rows}


def board(
    *,
    user: User,
    pipeline: Pipeline,
    filters: BoardFilters,
    size: int | None = None,
    pipelines: list[Pipeline] | None = None,
) -> Board:
    """The kanban of one pipeline: every stage a column with its totals and first `size` cards.

    A constant number of queries whatever the number of deals or stages (see the module docstring).
    """
    size = size or COLUMN_SIZE
    stages = list(pipeline.stages.order_by("order", "pk"))
    totals = column_totals(user=user, pipeline_id=pipeline.pk, filters=filters)
    open_deals = _open_deals(user, pipeline.pk, filters)
    parts = [
        _card_order(open_deals.filter(stage_id=stage.pk)).values_list("id", "stage_id")[: size + 1]
        for stage in stages
        if totals.get(stage.pk)
    ]
    ids_by_stage: dict[int, list[int]] = defaultdict(list)
    if parts:
        combined = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
        for pk, stage_id in combined:
            ids_by_stage[stage_id].append(pk)
    cards = _cards([pk for ids in ids_by_stage.values() for pk in ids])
    columns = []
    for stage in stages:
        ids = ids_by_stage.get(stage.pk, [])
        # The union lost the order of each part: sort like the index does.
        rows = sorted((cards[pk] for pk in ids if pk in cards), key=_card_key)
        column = Column(stage=stage, totals=totals.get(stage.pk, ColumnTotals()), cards=rows[:size])
        if len(rows) > size:
            column.next_cursor = encode_cursor(rows[size - 1])
        columns.append(column)
    return Board(
        pipeline=pipeline,
        pipelines=pipelines if pipelines is not None else list(Pipeline.objects.order_by("order", "name")),
        columns=columns,
        loss_reasons=list(LossReason.objects.filter(is_active=True).order_by("name")),
    )


def _card_key(deal: BoardCard) -> tuple[int, date, int]:
    close = deal.expected_close_date
    return (1 if close is None else 0, close or date.min, -deal.pk)


def column_page(
    *, user: User, stage: Stage, filters: BoardFilters, cursor: str, size: int | None = None
) -> tuple[list[BoardCard], str]:
    """The next `size` cards of one column after `cursor`, and the cursor after them ("" at the end).

    Read in two segments so each has an index bound on deals_deal_board_idx: the dated cards after the
    cursor (expected close >= the cursor's, backward scan), then the undated ones by id. At most three
    queries, whatever the depth of the page.
    """
    size = size or COLUMN_SIZE
    column = _open_deals(user, stage.pipeline_id, filters).filter(stage_id=stage.pk)
    decoded = decode_cursor(cursor)
    ids: list[int] = []
    if decoded is None or decoded[0] is not None:
        dated = _card_order(column.filter(expected_close_date__isnull=False))
        if decoded is not None:
            close, pk = decoded
            after = Q(expected_close_date__gt=close) | Q(expected_close_date=close, id__lt=pk)
            dated = dated.filter(Q(expected_close_date__gte=close) & after)
        ids = list(dated.values_list("id", flat=True)[: size + 1])
    if len(ids) <= size:
        undated = column.filter(expected_close_date__isnull=True).order_by(F("id").desc())
        if decoded is not None and decoded[0] is None:
            undated = undated.filter(id__lt=decoded[1])
        ids += list(undated.values_list("id", flat=True)[: size + 1 - len(ids)])
    cards = _cards(ids)
    rows = [cards[pk] for pk in ids if pk in cards]
    next_cursor = encode_cursor(rows[size - 1]) if len(rows) > size else ""
    return rows[:size], next_cursor


def move_columns(*, user: User, deal: Deal, filters: BoardFilters) -> list[Column]:
    """After a drop: every column's header (totals only, no cards) from one grouped query.

    Both columns the deal left and entered change; the others are refreshed too, at no extra cost.
    """
    totals = column_totals(user=user, pipeline_id=deal.pipeline_id, filters=filters)
    stages = Stage.objects.filter(pipeline_id=deal.pipeline_id).order_by("order", "pk")
    return [Column(stage=stage, totals=totals.get(stage.pk, ColumnTotals())) for stage in stages]


def open_stages(*, pipeline: Pipeline) -> list[Stage]:
    """The stages a deal can be moved to by hand (closing is win / lose), in board order."""
    # .all() (sorted here) uses the stages deal_get preloaded.
    stages = sorted(pipeline.stages.all(), key=lambda stage: (stage.order, stage.pk))
    return [stage for stage in stages if not (stage.is_won or stage.is_lost)]


def stage_get(*, pk: int) -> Stage:
    return get_object_or_404(Stage.objects.select_related("pipeline"), pk=pk)


# --- the list ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DealRow:
    """A row of the deal list, ready to print (strings formatted once here, URL from one reverse)."""

    pk: int
    created_at: datetime
    url: str
    title: str
    company_name: str
    stage_name: str
    status: str
    status_label: str
    status_badge: str
    amount: str
    probability: str
    close_label: str
    owner_name: str


_STATUS_BADGES = {DealStatus.WON: "text-bg-success", DealStatus.LOST: "text-bg-danger"}


@dataclass
class ListPage:
    rows: list[DealRow]
    next_cursor: str
    is_first: bool


_ROW_FIELDS = (
    "id",
    "created_at",
    "title",
    "company__name",
    "stage__name",
    "status",
    "amount",
    "probability",
    "expected_close_date",
    "owner__full_name",
    "owner__email",
)


def _deal_rows(ids: list[int]) -> list[DealRow]:
    """The rows of `ids` in that order: one query by primary key, plain values, no model instances."""
    money = Money()
    labels = {status.value: str(status.label) for status in DealStatus}
    found = {}
    for (
        pk,
        created,
        title,
        company,
        stage,
        status,
        amount,
        probability,
        close,
        owner_name,
        owner_email,
    ) in Deal.objects.filter(pk__in=ids).values_list(*_ROW_FIELDS):
        found[pk] = DealRow(
            pk=pk,
            created_at=created,
            url=pk_url("deals:deal-detail", pk),
            title=title,
            company_name=company,
            stage_name=stage,
            status=status,
            status_label=labels.get(status, status),
            status_badge=_STATUS_BADGES.get(status, "text-bg-secondary"),
            amount=money(amount),
            probability=str(probability),
            close_label=day(close) or "—",
            owner_name=owner_name or owner_email,
        )
    return [found[pk] for pk in ids if pk in found]


def _encode_list_cursor(deal: DealRow) -> str:
    raw = json.dumps([deal.created_at.isoformat(), deal.pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_list_cursor(cursor: str) -> tuple[datetime, int] | None:
    if not cursor:
        return None
    try:
        created, pk = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(pk, int) or not isinstance(created, str):
            return None
        moment = datetime.fromisoformat(created)
        return (moment, pk) if moment.tzinfo is not None else None
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        return None


def deal_list_page(*, qs: QuerySet[Deal], cursor: str = "", size: int | None = None) -> ListPage:
    """Newest first, keyset by (created_at DESC, id): deals_deal_owner/team/status/stage_idx; never a COUNT.

    The page's ids first, without joins (the planner would join every match before the LIMIT), then
    their rows by primary key.
    """
    size = size or LIST_PAGE_SIZE
    decoded = _decode_list_cursor(cursor)
    qs = qs.order_by(F("created_at").desc(), F("id").asc())
    if decoded is not None:
        created, pk = decoded
        qs = qs.filter(Q(created_at__lte=created) & (Q(created_at__lt=created) | Q(created_at=created, id__gt=pk)))
    rows = _deal_rows(list(qs.values_list("id", flat=True)[: size + 1]))
    next_cursor = _encode_list_cursor(rows[size - 1]) if len(rows) > size else ""
    return ListPage(rows=rows[:size], next_cursor=next_cursor, is_first=decoded is None)


# --- the deal card -------------------------------------------------------------------------------------


def deal_get(*, user: User, pk: int) -> Deal:
    """A deal the user sees, with what its header shows; Http404 otherwise, 403 without deals.view_deal.

    Its stage and pipeline come from a second query: joining all seven related tables at once cost the
    planner ~5 ms per card at size L (exhaustive join search over 8 relations), more than two small queries.
    The loss reason loads on access (a lost deal's card only).
    """
    require_view(user)
    deal = get_object_or_404(
        Deal.objects.visible_to(user).select_related("company", "person", "owner", "team"),
        pk=pk,
    )
    # The pipeline's stages come along (the card's "move to" select lists them: open_stages reads them).
    stages = list(
        Stage.objects.select_related("pipeline").filter(Q(pipeline_id=deal.pipeline_id) | Q(pk=deal.stage_id))
    )
    stage = next(stage for stage in stages if stage.pk == deal.stage_id)
    deal.stage = stage
    if stage.pipeline_id == deal.pipeline_id:
        pipeline = deal.pipeline = stage.pipeline
        pipeline._prefetched_objects_cache = {"stages": [s for s in stages if s.pipeline_id == pipeline.pk]}
    return deal


def line_get(*, user: User, pk: int) -> DealLine:
    """A line of a deal the user sees; Http404 otherwise."""
    require_view(user)
    visible = Deal.objects.visible_to(user).values("pk")
    return get_object_or_404(DealLine.objects.select_related("deal", "product").filter(deal__in=visible), pk=pk)


@dataclass
class LineRow:
    line: DealLine
    total: Decimal


def deal_lines(*, deal: Deal) -> list[LineRow]:
    lines = DealLine.objects.filter(deal=deal).select_related("product").order_by("pk")
    return [
        LineRow(line, line_total(quantity=line.quantity, price=line.price, discount_percent=line.discount_percent))
        for line in lines
    ]


@dataclass
class StageVisit:
    stage: Stage
    entered_at: datetime
    left_at: datetime | None
    by: User | None
    from_stage: Stage | None

    @property
    def duration(self) -> timedelta | None:
        return (self.left_at - self.entered_at) if self.left_at else None

    @property
    def duration_label(self) -> str:
        return duration_label(self.duration) if self.duration is not None else ""


@dataclass
class StageTime:
    stage: Stage
    duration: timedelta
    is_current: bool = False

    @property
    def duration_label(self) -> str:
        return duration_label(self.duration)


def duration_label(value: timedelta) -> str:
    """A short human duration: "3 d 4 h", "5 h 10 min", "7 min" (less than a minute: "< 1 min")."""
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return str(_("%(days)d d %(hours)d h")) % {"days": days, "hours": hours}
    if hours:
        return str(_("%(hours)d h %(minutes)d min")) % {"hours": hours, "minutes": minutes}
    if minutes:
        return str(_("%(minutes)d min")) % {"minutes": minutes}
    return str(_("< 1 min"))


def stage_history(*, deal: Deal, limit: int = CARD_STAGE_CHANGES) -> list[StageVisit]:
    """Each stage the deal went through, oldest first, with how long it stayed.

    The current stage of an open deal counts until now; a closed deal's final (won / lost) stage has no
    duration.
    """
    changes = list(
        DealStageChange.objects.filter(deal=deal)
        .select_related("from_stage", "to_stage", "changed_by")
        .order_by("-changed_at", "-pk")[:limit]
    )
    changes.reverse()
    visits = []
    now = timezone.now()
    for index, change in enumerate(changes):
        if index + 1 < len(changes):
            left: datetime | None = changes[index + 1].changed_at
        else:
            left = now if deal.status == DealStatus.OPEN else None
        visits.append(StageVisit(change.to_stage, change.changed_at, left, change.changed_by, change.from_stage))
    return visits


def time_in_stages(visits: Sequence[StageVisit], *, current_stage_id: int | None = None) -> list[StageTime]:
    """Total time per stage (a deal may come back to a stage), in the order the stages were first entered."""
    totals: dict[int, StageTime] = {}
    for visit in visits:
        if visit.duration is None:
            continue
        entry = totals.setdefault(visit.stage.pk, StageTime(visit.stage, timedelta()))
        entry.duration += visit.duration
        entry.is_current = visit.stage.pk == current_stage_id
    return list(totals.values())


# What deals/includes/activity_list.html prints (is_overdue reads status, ends_at, starts_at), and only that:
# activities and interactions are wide rows (descriptions, bodies, durations) of other apps.
_ACTIVITY_COLUMNS = (
    "kind",
    "subject",
    "status",
    "starts_at",
    "ends_at",
    "assignee__full_name",
    "assignee__email",
    "person__last_name",
    "person__first_name",
    "person__patronymic",
)
INTERACTION_COLUMNS = (
    "subject",
    "occurred_at",
    "channel",
    "body",
    "outcome",
    "user__full_name",
    "user__email",
    "person__last_name",
    "person__first_name",
    "person__patronymic",
)


def deal_activities(*, user: User, deal: Deal, limit: int = CARD_ACTIVITIES) -> dict[str, list[Activity]]:
    """Activities linked to the deal (generic link) and the company's open ones, soonest first."""
    content_type = ContentType.objects.get_for_model(Deal)
    visible = Activity.objects.visible_to(user).select_related("assignee", "person").only(*_ACTIVITY_COLUMNS)
    linked = list(visible.filter(content_type=content_type, object_id=deal.pk).order_by("-starts_at", "-pk")[:limit])
    planned = list(
        visible.filter(company_id=deal.company_id, status=ActivityStatus.PLANNED)
        .exclude(content_type=content_type, object_id=deal.pk)
        .order_by("starts_at", "pk")[:limit]
    )
    return {"linked": linked, "planned": planned}


def deal_interactions(*, user: User, deal: Deal, limit: int = CARD_INTERACTIONS) -> list[Interaction]:
    """Interactions logged for the deal (contacts_inter_object_idx), newest first."""
    content_type = ContentType.objects.get_for_model(Deal)
    return list(
        Interaction.objects.visible_to(user)
        .filter(content_type=content_type, object_id=deal.pk)
        .select_related("person", "user")
        .only(*INTERACTION_COLUMNS)
        .order_by("-occurred_at", "-pk")[:limit]
    )


# --- field history -------------------------------------------------------------------------------------

_NOT_SHOWN = {"created_at", "updated_at", "id", "version", "has_lines", "stage_changed_at", "deal"}
_FK_MODELS: dict[str, type] = {
    "owner": User,
    "team": Team,
    "company": Company,
    "person": Person,
    "pipeline": Pipeline,
    "stage": Stage,
    "loss_reason": LossReason,
    "product": Product,
}


def deal_changes(*, deal: Deal, limit: int = CHANGES_LIMIT) -> list[ChangeEntry]:
    """The latest changes of the deal and of its lines, newest first (one query per related model)."""
    own = latest_records(deal.history.all(), limit + 1)
    lines = latest_records(DealLine.history.filter(deal_id=deal.pk), limit + 1)
    names = load_names([*own, *lines], _FK_MODELS)
    entries = history_entries(own, limit=limit, names=names, hidden=_NOT_SHOWN)
    for record in lines:
        summary = f"{names.get(('product', record.product_id), '')} × {record.quantity} · {record.price}"
        if record.discount_percent:
            summary += f" − {record.discount_percent} %"
        entries.append(related_entry(record, summary))
    entries.sort(key=lambda e: e.when, reverse=True)
    return entries[:limit]


# --- the company card's Deals tab ----------------------------------------------------------------------


def company_deals(*, user: User, company: Company, limit: int | None = None) -> tuple[list[Deal], bool]:
    """The company's deals the user sees, newest first (bounded), and whether there are more."""
    limit = limit or COMPANY_TAB_SIZE
    rows = list(
        Deal.objects.visible_to(user)
        .filter(company=company)
        .select_related("stage", "owner")
        .order_by("-created_at", "-pk")[: limit + 1]
    )
    return rows[:limit], len(rows) > limit


# --- products for lines --------------------------------------------------------------------------------

PRODUCT_OPTIONS = 50


def product_options(*, query: str) -> list[Product]:
    """Active products whose name contains `query` (3+ characters) or whose SKU is `query`, by name."""
    query = (query or "").strip()[:100]
    products = Product.objects.filter(is_active=True)
    if len(query) >= 3:
        # UPPER(name_uk) LIKE UPPER(%s): deals_product_name_trgm_idx; a SKU matches exactly (its unique index).
        products = products.filter(Q(name_uk__icontains=query) | Q(sku=query))
    return list(products.order_by("name_uk", "pk")[:PRODUCT_OPTIONS])


def product_for_line(*, pk: int) -> Product | None:
    return Product.objects.filter(pk=pk, is_active=True).first()


# --- work plans ----------------------------------------------------------------------------------------


# Written out: as an ORM aggregate over the ids of a 70-member team it cost ~1 ms of Python on the team plan page.
_WON_SQL = (
    "SELECT owner_id, SUM(amount) FROM {table} WHERE status = %s AND owner_id = ANY(%s)"
    " AND closed_at >= %s AND closed_at < %s GROUP BY owner_id"
)


def won_amount(users: Sequence[User], start: datetime, end: datetime) -> dict[int, Decimal]:
    """Plan metric "won_amount": Σ amount of deals won in [start, end) per owner.

    One index-only query (deals_deal_won_amount_idx: owner_id, closed_at INCLUDE amount WHERE status = 'won').
    """
    sql = _WON_SQL.format(table=connection.ops.quote_name(Deal._meta.db_table))
    with connection.cursor() as cursor:
        cursor.execute(sql, [DealStatus.WON.value, [user.pk for user in users], start, end])
        return {owner_id: total or ZERO for owner_id, total in cursor.fetchall()}
