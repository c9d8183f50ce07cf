"""Writes of deals (issue #6, items 2, 3, 7): create, edit with optimistic locking, lines, stages, win / lose / reopen.

Every write checks `deals.change_deal` (or `deals.add_deal`) and the actor's row access
(`Deal.objects.visible_to`), runs in one transaction, records field history with the actor
(django-simple-history) and increments `Deal.version` exactly once.

Optimistic locking: a form carries the version it was rendered with; the write claims the row with
`UPDATE deals_deal SET version = version + 1 WHERE id = … AND version = …`. Zero rows means someone
else saved the deal in between: ValidationError, nothing saved. The claimed row stays locked until the
transaction ends, so a second writer with the same (now stale) version waits and then finds 0 rows.
Callers that do not hold a form (version=None) lock the row the same way without comparing versions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contacts.models import Company, Person
from contacts.selectors import assignable_owners
from crm.lib.cached import bump
from crm.models import User
from deals import aggregates
from deals.models import Deal, DealLine, DealSource, DealStageChange, DealStatus, LossReason, Pipeline, Product, Stage
from deals.pricing import PriceQuote, apply_discount, price_for

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
ZERO = Decimal("0.00")
MAX_MONEY = Decimal("999999999999.99")  # max_digits=14, decimal_places=2
MAX_QUANTITY = Decimal("999999999.999")  # max_digits=12, decimal_places=3

CONFLICT_MESSAGE = gettext_lazy("Someone else changed this deal while you were editing. Reload to see their changes.")
EDITABLE_FIELDS = frozenset(
    {
        "title",
        "company",
        "person",
        "owner",
        "pipeline",
        "stage",
        "amount",
        "probability",
        "expected_close_date",
        "source",
        "competitor",
    }
)
# Checked by the services themselves: full_clean() would fetch each related row once more.
_RELATIONS = ["company", "person", "owner", "team", "pipeline", "stage", "loss_reason"]


class DealConflict(ValidationError):
    """The deal changed since the form was rendered (a stale `version`)."""

    def __init__(self) -> None:
        super().__init__(CONFLICT_MESSAGE, code="conflict")


# --- money ---------------------------------------------------------------------------------------------


def money(value: Any, *, field: str, allow_negative: bool = False) -> Decimal:
    """A Decimal with at most 2 decimals (never a float); ValidationError keyed by `field` otherwise."""
    number = _decimal(value, field)
    if number.as_tuple().exponent < -2:  # type: ignore[operator]  # finite: checked by _decimal
        raise ValidationError({field: _("Enter an amount with at most 2 decimal places.")})
    if number < 0 and not allow_negative:
        raise ValidationError({field: _("The amount cannot be negative.")})
    if abs(number) > MAX_MONEY:
        raise ValidationError({field: _("The amount is too large.")})
    return number.quantize(CENT)


def _decimal(value: Any, field: str) -> Decimal:
    if isinstance(value, float):
        value = str(value)  # never arithmetic on floats; a float from code is read as its shortest text
    try:
        number = Decimal(str(value).strip().replace(",", ".")) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        raise ValidationError({field: _("Enter a number.")}) from None
    if not number.is_finite():
        raise ValidationError({field: _("Enter a number.")})
    return number


def line_total(*, quantity: Decimal, price: Decimal, discount_percent: Decimal) -> Decimal:
    """quantity × price × (1 − discount / 100), rounded half-up to kopecks."""
    return apply_discount(quantity * price, discount_percent)


# --- access --------------------------------------------------------------------------------------------


def can_change(*, deal: Deal, user: User) -> bool:
    """Whether `user` may change `deal` (the permission; the caller already sees the deal)."""
    return user.has_perm("deals.change_deal")


def _require_change(actor: User) -> None:
    if not actor.has_perm("deals.change_deal"):
        raise PermissionDenied(_("You may not change deals."))


def _claim(*, deal: Deal, actor: User, version: int | None) -> Deal:
    """Lock the deal's row and bump its version; the fresh row (locked until the transaction ends).

    Raises PermissionDenied when the actor may not change it, DealConflict when `version` is stale.
    """
    _require_change(actor)
    bump(aggregates.DEALS)  # the board's cached column totals (crm.lib.cached)
    visible = Deal.objects.visible_to(actor).filter(pk=deal.pk)
    claimed = visible if version is None else visible.filter(version=version)
    if not claimed.update(version=F("version") + 1):
        if not visible.exists():
            raise PermissionDenied(_("You may not change this deal."))
        raise DealConflict
    return Deal.objects.select_related("pipeline", "stage", "company").get(pk=deal.pk)


def _save(current: Deal, actor: User, caller: Deal | None = None) -> Deal:
    """Validate and save the claimed row with history by `actor`; the caller's instance follows it."""
    try:
        current.full_clean(exclude=_RELATIONS)
    except ValidationError as error:
        raise _readable(error) from None
    current._history_user = actor  # type: ignore[attr-defined]  # read by django-simple-history
    current.save()
    if caller is not None and caller is not current:
        for model_field in Deal._meta.concrete_fields:
            setattr(caller, model_field.attname, getattr(current, model_field.attname))
        caller._state.fields_cache = dict(current._state.fields_cache)
    return caller or current


def _readable(error: ValidationError) -> ValidationError:
    """Django's "Ensure that there are no more than 2 decimal places." → our wording for money fields."""
    if not hasattr(error, "error_dict"):
        return error
    fields = {}
    for name, errors in error.message_dict.items():
        if name == "amount" and any("decimal" in message for message in errors):
            errors = [_("Enter an amount with at most 2 decimal places.")]
        fields[name] = errors
    return ValidationError(fields)


def _record_stage(*, deal: Deal, from_stage: Stage | None, to_stage: Stage, actor: User, now: Any) -> None:
    DealStageChange.objects.create(
        deal=deal, from_stage=from_stage, to_stage=to_stage, changed_by=actor, changed_at=now
    )
    deal.stage = to_stage
    deal.stage_changed_at = now


def _open_stages(pipeline: Pipeline) -> list[Stage]:
    return [stage for stage in pipeline.stages.order_by("order", "pk") if not stage.is_won and not stage.is_lost]


def _closing_stage(pipeline_id: int, *, won: bool) -> Stage | None:
    flag = {"is_won": True} if won else {"is_lost": True}
    return Stage.objects.filter(pipeline_id=pipeline_id, **flag).order_by("order", "pk").first()


# --- create and edit -----------------------------------------------------------------------------------


def _check_company(actor: User, company: Company | None) -> None:
    if company is None:
        raise ValidationError({"company": _("Choose a company.")})
    if not Company.objects.visible_to(actor).filter(pk=company.pk).exists():
        raise ValidationError({"company": _("Choose a company from your list.")})


def _check_person(company: Company, person: Person | None) -> None:
    if person is not None and person.company_id != company.pk:
        raise ValidationError({"person": _("This person does not work for %(company)s.") % {"company": company}})


def _check_stage(pipeline: Pipeline, stage: Stage, *, open_only: bool = True) -> None:
    if stage.pipeline_id != pipeline.pk:
        raise ValidationError({"stage": _("Choose a stage of the pipeline “%(pipeline)s”.") % {"pipeline": pipeline}})
    if open_only and (stage.is_won or stage.is_lost):
        raise ValidationError({"stage": _("Use the Win or Lose buttons to close a deal.")})


def _check_owner(actor: User, owner: User, current_owner_id: int | None = None) -> None:
    if owner.pk == current_owner_id:
        return
    if not owner.is_active or not assignable_owners(actor).filter(pk=owner.pk).exists():
        raise ValidationError({"owner": _("Choose an active user of your team.")})


def _check_probability(value: Any) -> int:
    try:
        probability = int(value)
    except (TypeError, ValueError):
        raise ValidationError({"probability": _("Enter a whole number from 0 to 100.")}) from None
    if not 0 <= probability <= 100:
        raise ValidationError({"probability": _("Enter a whole number from 0 to 100.")})
    return probability


@transaction.atomic
def deal_create(
    *,
    actor: User,
    title: str,
    company: Company,
    person: Person | None = None,
    pipeline: Pipeline | None = None,
    stage: Stage | None = None,
    owner: User | None = None,
    amount: Any = ZERO,
    probability: int | None = None,
    expected_close_date: date | None = None,
    source: str = "",
    competitor: str = "",
) -> Deal:
    """Open a deal for a company the actor sees.

    Defaults: the default pipeline and its first open stage, the actor as owner (team = the owner's
    team), the stage's probability. Raises PermissionDenied without `deals.add_deal`; ValidationError
    keyed by company, person, stage, owner, amount, probability or title.
    """
    if not actor.has_perm("deals.add_deal"):
        raise PermissionDenied(_("You may not create deals."))
    _check_company(actor, company)
    _check_person(company, person)
    if pipeline is None:
        pipeline = stage.pipeline if stage is not None else default_pipeline()
    if pipeline is None:
        raise ValidationError({"stage": _("No pipeline is set up yet.")})
    if stage is None:
        stages = _open_stages(pipeline)
        if not stages:
            raise ValidationError(
                {"stage": _("The pipeline “%(pipeline)s” has no open stage.") % {"pipeline": pipeline}}
            )
        stage = stages[0]
    _check_stage(pipeline, stage)
    owner = owner or actor
    _check_owner(actor, owner, current_owner_id=actor.pk)
    now = timezone.now()
    deal = Deal(
        title=(title or "").strip(),
        company=company,
        person=person,
        owner=owner,
        team_id=owner.team_id,
        pipeline=pipeline,
        stage=stage,
        amount=money(amount if amount not in (None, "") else ZERO, field="amount"),
        probability=stage.probability if probability is None else _check_probability(probability),
        expected_close_date=expected_close_date,
        source=source or "",
        competitor=(competitor or "").strip(),
        status=DealStatus.OPEN,
        stage_changed_at=now,
        version=1,
    )
    if deal.source and deal.source not in DealSource.values:
        raise ValidationError({"source": _("Choose a source from the list.")})
    try:
        deal.full_clean(exclude=_RELATIONS)
    except ValidationError as error:
        raise _readable(error) from None
    deal._history_user = actor  # type: ignore[attr-defined]  # read by django-simple-history
    deal.save()
    bump(aggregates.DEALS)
    DealStageChange.objects.create(deal=deal, from_stage=None, to_stage=stage, changed_by=actor, changed_at=now)
    return deal


@transaction.atomic
def deal_update(*, deal: Deal, actor: User, version: int | None, **fields: Any) -> Deal:
    """Save the edited fields of a deal rendered at `version`.

    A new owner brings the owner's team; a new stage (open stages only: closing is win / lose) is
    recorded in the stage history and brings its probability unless one is given. The amount is
    manual only while the deal has no lines. Raises DealConflict (a ValidationError) for a stale
    version, ValidationError keyed by field, PermissionDenied.
    """
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"deal_update cannot change {sorted(unknown)}")
    current = _claim(deal=deal, actor=actor, version=version)
    company = fields.get("company", current.company)
    if "company" in fields and (company is None or company.pk != current.company_id):
        _check_company(actor, company)
    person = fields.get("person", current.person)
    _check_person(company, person)
    if "owner" in fields and fields["owner"] is not None:
        _check_owner(actor, fields["owner"], current_owner_id=current.owner_id)
        if fields["owner"].pk != current.owner_id:
            current.team_id = fields["owner"].team_id
    elif "owner" in fields:
        raise ValidationError({"owner": _("Choose an owner.")})
    stage = fields.get("stage") or current.stage
    pipeline = fields.get("pipeline") or (stage.pipeline if "stage" in fields else current.pipeline)
    stage_changed = stage.pk != current.stage_id
    if stage_changed or pipeline.pk != current.pipeline_id:
        _check_stage(pipeline, stage)
        if current.status != DealStatus.OPEN:
            raise ValidationError({"stage": _("Reopen the deal before moving it to another stage.")})
    if "amount" in fields:
        amount = money(fields["amount"] if fields["amount"] not in (None, "") else ZERO, field="amount")
        if current.has_lines and amount != current.amount:
            raise ValidationError({"amount": _("The amount is the sum of the lines: change the lines instead.")})
        fields["amount"] = amount
    if fields.get("probability") is not None:
        fields["probability"] = _check_probability(fields["probability"])
    if fields.get("source") and fields["source"] not in DealSource.values:
        raise ValidationError({"source": _("Choose a source from the list.")})
    for name in ("title", "competitor"):
        if name in fields:
            fields[name] = (fields[name] or "").strip()
    if "source" in fields:
        fields["source"] = fields["source"] or ""
    if stage_changed:
        _record_stage(deal=current, from_stage=current.stage, to_stage=stage, actor=actor, now=timezone.now())
        if fields.get("probability") is None or fields["probability"] == current.probability:
            fields["probability"] = stage.probability
    fields.pop("stage", None)
    fields["pipeline"] = pipeline
    if fields.get("probability") is None:
        fields.pop("probability", None)
    for name, value in fields.items():
        setattr(current, name, value)
    return _save(current, actor, deal)


# --- stages, win, lose, reopen -------------------------------------------------------------------------


@transaction.atomic
def deal_move_stage(
    *,
    deal: Deal,
    stage: Stage,
    actor: User,
    version: int | None = None,
    loss_reason: LossReason | None = None,
    loss_comment: str = "",
    competitor: str = "",
) -> Deal:
    """Move an open deal to another stage of its pipeline (the kanban drop).

    Writes a DealStageChange (from, to, actor, time), sets `stage_changed_at` and the stage's
    probability. A won stage wins the deal (deal_mark_won); a lost stage loses it and needs
    `loss_reason` (ValidationError on loss_reason otherwise). The same stage changes nothing.
    Raises DealConflict, ValidationError on stage, PermissionDenied.
    """
    if stage.is_won:
        return deal_mark_won(deal=deal, actor=actor, version=version, stage=stage)
    if stage.is_lost:
        return deal_mark_lost(
            deal=deal,
            actor=actor,
            reason=loss_reason,
            comment=loss_comment,
            competitor=competitor,
            version=version,
            stage=stage,
        )
    current = _claim(deal=deal, actor=actor, version=version)
    if current.status != DealStatus.OPEN:
        raise ValidationError({"stage": _("Reopen the deal before moving it to another stage.")})
    _check_stage(current.pipeline, stage)
    if stage.pk == current.stage_id:
        transaction.set_rollback(True)  # nothing to write: give the version back
        return deal
    _record_stage(deal=current, from_stage=current.stage, to_stage=stage, actor=actor, now=timezone.now())
    current.probability = stage.probability
    return _save(current, actor, deal)


@transaction.atomic
def deal_mark_won(*, deal: Deal, actor: User, version: int | None = None, stage: Stage | None = None) -> Deal:
    """Win an open deal: status won, closed now, moved to the pipeline's won stage (when it has one).

    Raises DealConflict, ValidationError (already closed, a stage that is not a won stage), PermissionDenied.
    """
    current = _claim(deal=deal, actor=actor, version=version)
    if current.status != DealStatus.OPEN:
        raise ValidationError(_("Only an open deal can be won; reopen it first."))
    target = stage or _closing_stage(current.pipeline_id, won=True)
    if target is not None:
        _check_stage(current.pipeline, target, open_only=False)
        if not target.is_won:
            raise ValidationError({"stage": _("Choose a won stage.")})
    now = timezone.now()
    if target is not None and target.pk != current.stage_id:
        _record_stage(deal=current, from_stage=current.stage, to_stage=target, actor=actor, now=now)
    current.status = DealStatus.WON
    current.closed_at = now
    current.probability = target.probability if target is not None else 100
    current.loss_reason = None
    current.loss_comment = ""
    return _save(current, actor, deal)


@transaction.atomic
def deal_mark_lost(
    *,
    deal: Deal,
    actor: User,
    reason: LossReason | None,
    comment: str = "",
    competitor: str = "",
    version: int | None = None,
    stage: Stage | None = None,
) -> Deal:
    """Lose an open deal with a reason from the active loss reasons, a comment and an optional competitor.

    Moves it to the pipeline's lost stage (when it has one). Raises ValidationError on loss_reason
    (missing or inactive), DealConflict, PermissionDenied.
    """
    current = _claim(deal=deal, actor=actor, version=version)
    if current.status != DealStatus.OPEN:
        raise ValidationError(_("Only an open deal can be lost; reopen it first."))
    if reason is None:
        raise ValidationError({"loss_reason": _("Choose why the deal was lost.")})
    if not LossReason.objects.filter(pk=reason.pk, is_active=True).exists():
        raise ValidationError({"loss_reason": _("This reason is no longer in use: choose another one.")})
    target = stage or _closing_stage(current.pipeline_id, won=False)
    if target is not None:
        _check_stage(current.pipeline, target, open_only=False)
        if not target.is_lost:
            raise ValidationError({"stage": _("Choose a lost stage.")})
    now = timezone.now()
    if target is not None and target.pk != current.stage_id:
        _record_stage(deal=current, from_stage=current.stage, to_stage=target, actor=actor, now=now)
    current.status = DealStatus.LOST
    current.closed_at = now
    current.probability = target.probability if target is not None else 0
    current.loss_reason = reason
    current.loss_comment = (comment or "").strip()
    if competitor:
        current.competitor = competitor.strip()
    return _save(current, actor, deal)


@transaction.atomic
def deal_reopen(*, deal: Deal, actor: User, version: int | None = None, stage: Stage | None = None) -> Deal:
    """Reopen a won or lost deal into `stage`, by default the open stage it was closed from.

    The loss reason and the close time are cleared (the field history keeps them). Raises
    ValidationError (already open, a closed stage), DealConflict, PermissionDenied.
    """
    current = _claim(deal=deal, actor=actor, version=version)
    if current.status == DealStatus.OPEN:
        raise ValidationError(_("The deal is already open."))
    if stage is None:
        stage = _stage_before_close(current)
    if stage is None:
        raise ValidationError(
            {"stage": _("The pipeline “%(pipeline)s” has no open stage.") % {"pipeline": current.pipeline}}
        )
    _check_stage(current.pipeline, stage)
    if stage.pk != current.stage_id:
        _record_stage(deal=current, from_stage=current.stage, to_stage=stage, actor=actor, now=timezone.now())
    current.status = DealStatus.OPEN
    current.closed_at = None
    current.probability = stage.probability
    current.loss_reason = None
    current.loss_comment = ""
    return _save(current, actor, deal)


def _stage_before_close(deal: Deal) -> Stage | None:
    """The open stage the deal was in before it was closed; else the pipeline's first open stage."""
    if not (deal.stage.is_won or deal.stage.is_lost):
        return deal.stage
    last = (
        DealStageChange.objects.filter(deal=deal, to_stage=deal.stage, from_stage__isnull=False)
        .select_related("from_stage")
        .order_by("-changed_at", "-pk")
        .first()
    )
    if last is not None and last.from_stage is not None:
        previous = last.from_stage
        if previous.pipeline_id == deal.pipeline_id and not (previous.is_won or previous.is_lost):
            return previous
    stages = _open_stages(deal.pipeline)
    return stages[0] if stages else None


def default_pipeline() -> Pipeline | None:
    return Pipeline.objects.order_by("-is_default", "order", "name").first()


# --- lines ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineValues:
    quantity: Decimal
    price: Decimal
    discount_percent: Decimal


def _line_values(*, quantity: Any, price: Any, discount_percent: Any) -> LineValues:
    qty = _decimal(quantity, "quantity")
    if qty <= 0:
        raise ValidationError({"quantity": _("The quantity must be above zero.")})
    if qty.as_tuple().exponent < -3:  # type: ignore[operator]
        raise ValidationError({"quantity": _("Enter a quantity with at most 3 decimal places.")})
    if qty > MAX_QUANTITY:
        raise ValidationError({"quantity": _("The quantity is too large.")})
    unit_price = money(price, field="price")
    discount = _decimal(discount_percent if discount_percent not in (None, "") else ZERO, "discount_percent")
    if not ZERO <= discount <= HUNDRED:
        raise ValidationError({"discount_percent": _("A discount is between 0 and 100 %.")})
    if discount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValidationError({"discount_percent": _("Enter a discount with at most 2 decimal places.")})
    return LineValues(qty, unit_price, discount.quantize(CENT))


def _editable_lines(current: Deal) -> None:
    if current.status != DealStatus.OPEN:
        raise ValidationError(_("Reopen the deal to change its lines."))


def _recount(current: Deal) -> None:
    """amount = Σ line totals (each rounded half-up to kopecks); without lines the amount turns manual."""
    totals = [
        line_total(quantity=q, price=p, discount_percent=d)
        for q, p, d in DealLine.objects.filter(deal=current).values_list("quantity", "price", "discount_percent")
    ]
    current.has_lines = bool(totals)
    current.amount = sum(totals, ZERO)
    if current.amount > MAX_MONEY:
        raise ValidationError(_("The lines add up to more than the largest amount a deal can hold."))


def quote_for(*, deal: Deal, product: Product, on: date | None = None) -> PriceQuote:
    """The catalogue's price of `product` for the deal's company (deals.pricing.price_for)."""
    return price_for(company=deal.company, product=product, on=on or timezone.localdate())


def _save_line(line: DealLine, actor: User) -> None:
    try:
        line.full_clean(exclude=["deal", "product"])
    except ValidationError as error:
        raise _readable(error) from None
    line._history_user = actor  # type: ignore[attr-defined]  # read by django-simple-history
    line.save()


@transaction.atomic
def deal_line_add(
    *,
    deal: Deal,
    actor: User,
    product: Product,
    quantity: Any,
    price: Any = None,
    discount_percent: Any = None,
    version: int | None = None,
) -> DealLine:
    """Add a product line; an empty price / discount comes from the catalogue (price lists, discounts).

    The deal's amount becomes the sum of its lines. Raises ValidationError keyed by product,
    quantity, price or discount_percent; DealConflict; PermissionDenied.
    """
    current = _claim(deal=deal, actor=actor, version=version)
    _editable_lines(current)
    if not product.is_active:
        raise ValidationError({"product": _("This product is no longer sold.")})
    if price in (None, "") or discount_percent in (None, ""):
        quote = quote_for(deal=current, product=product)
        price = quote.price if price in (None, "") else price
        discount_percent = quote.discount_percent if discount_percent in (None, "") else discount_percent
    values = _line_values(quantity=quantity, price=price, discount_percent=discount_percent)
    line = DealLine(
        deal=current,
        product=product,
        quantity=values.quantity,
        price=values.price,
        discount_percent=values.discount_percent,
    )
    _save_line(line, actor)
    _recount(current)
    _save(current, actor, deal)
    return line


@transaction.atomic
def deal_line_update(
    *,
    line: DealLine,
    actor: User,
    quantity: Any,
    price: Any,
    discount_percent: Any = ZERO,
    product: Product | None = None,
    version: int | None = None,
) -> DealLine:
    """Change a line's quantity, price, discount (or product); the deal's amount follows."""
    current = _claim(deal=line.deal, actor=actor, version=version)
    _editable_lines(current)
    if product is not None and product.pk != line.product_id and not product.is_active:
        raise ValidationError({"product": _("This product is no longer sold.")})
    values = _line_values(quantity=quantity, price=price, discount_percent=discount_percent)
    line.quantity, line.price, line.discount_percent = values.quantity, values.price, values.discount_percent
    if product is not None:
        line.product = product
    _save_line(line, actor)
    _recount(current)
    _save(current, actor, line.deal)
    return line


@transaction.atomic
def deal_line_remove(*, line: DealLine, actor: User, version: int | None = None) -> Deal:
    """Remove a line; the amount follows (no lines left: the amount turns manual). Returns the deal."""
    current = _claim(deal=line.deal, actor=actor, version=version)
    _editable_lines(current)
    line._history_user = actor  # type: ignore[attr-defined]
    line.delete()
    _recount(current)
    return _save(current, actor, line.deal)
