"""Work plans: setting a user's targets for a week or a month (issue 5, item 9)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from contacts.models import PlanPeriod, WorkPlan
from contacts.selectors_plans import plan_can_set
from crm.models import User

COUNTS = ("calls", "meetings", "visits", "new_clients")
# Amount fields and their decimal places (the model's fields).
AMOUNTS = {"won_amount": 2, "hours": 1}


def _amount(value: object, places: int, errors: dict[str, str], name: str) -> Decimal | None:
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors[name] = _("Enter a number.")
        return None
    if not amount.is_finite():
        errors[name] = _("Enter a number.")
    elif amount < 0:
        errors[name] = _("The amount cannot be negative.")
    elif amount != amount.quantize(Decimal(1).scaleb(-places)):
        errors[name] = _("Use at most %(places)d decimal places.") % {"places": places}
    return amount


@transaction.atomic
def workplan_save(
    *,
    actor: User,
    user: User,
    period: str,
    starts_on: date,
    calls: int,
    meetings: int,
    visits: int,
    new_clients: int,
    won_amount: Decimal,
    hours: Decimal,
) -> WorkPlan:
    """Create or update `user`'s plan for the week or month starting on `starts_on` (one row per period).

    Raises PermissionDenied unless the actor is a manager of the user's team, a director or an
    administrator; ValidationError keyed by field for a start that is not a Monday (week) or the
    1st (month), a negative number or an amount with too many decimal places.
    """
    if not plan_can_set(actor=actor, user=user):
        raise PermissionDenied
    errors: dict[str, str] = {}
    if not user.is_active:
        errors["user"] = _("This employee is no longer active.")
    if period == PlanPeriod.WEEK and starts_on.weekday() != 0:
        errors["starts_on"] = _("A weekly plan starts on a Monday.")
    elif period == PlanPeriod.MONTH and starts_on.day != 1:
        errors["starts_on"] = _("A monthly plan starts on the 1st of the month.")
    elif period not in PlanPeriod.values:
        errors["period"] = _("Choose a week or a month.")
    values: dict[str, object] = {}
    for name, value in zip(COUNTS, (calls, meetings, visits, new_clients), strict=True):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            errors[name] = _("Enter a whole number of 0 or more.")
        values[name] = value
    for name, value in (("won_amount", won_amount), ("hours", hours)):
        values[name] = _amount(value, AMOUNTS[name], errors, name)
    if errors:
        raise ValidationError(errors)

    plan = WorkPlan(user=user, period=period, starts_on=starts_on, team_id=user.team_id, created_by=actor, **values)
    # Field limits (max digits) as readable messages; the unique period is handled by update_or_create.
    plan.full_clean(validate_unique=False, validate_constraints=False)
    plan, _created = WorkPlan.objects.update_or_create(
        user=user,
        period=period,
        starts_on=starts_on,
        defaults={"team_id": user.team_id, "created_by": actor, **values},
    )
    return plan
