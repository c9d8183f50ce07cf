"""Work plans: my plan, the team's plan vs actual, past periods, setting a plan (issue 5, item 9)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from contacts import selectors_plans, services_plans
from contacts.forms_plans import WorkPlanForm
from contacts.models import PlanPeriod
from contacts.selectors_plans import Period
from crm.htmx import HtmxHttpRequest, add_service_errors

VIEW_PLANS = "contacts.view_workplan"


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _period(request: HttpRequest, day_param: str = "date") -> Period:
    """?period=week|month (default month) and ?date= any day of it (default today)."""
    kind = request.GET.get("period", "")
    kind = kind if kind in PlanPeriod.values else PlanPeriod.MONTH
    try:
        day = date.fromisoformat(request.GET.get(day_param, ""))
    except ValueError:
        day = timezone.localdate()
    return Period.of(kind, day)


def _links(name: str, period: Period, **keep: Any) -> dict[str, str]:
    """Links of a plan page: previous / next / current period, and the week / month switch."""
    keep = {k: v for k, v in keep.items() if v}

    def url(p: Period) -> str:
        return f"{reverse(name)}?{urlencode({'period': p.kind, 'date': p.starts_on.isoformat(), **keep})}"

    around = selectors_plans.periods_around(period)
    # The switch keeps today when the shown period holds it (this month -> this week), else its start.
    today = timezone.localdate()
    day = today if period.starts_on <= today < period.ends_on else period.starts_on
    return {
        **{key: url(p) for key, p in around.items()},
        "week": url(Period.of(PlanPeriod.WEEK, day)),
        "month": url(Period.of(PlanPeriod.MONTH, day)),
    }


def _page(request: HtmxHttpRequest, template: str, partial: str, context: dict[str, Any]) -> HttpResponse:
    htmx = request.htmx and not request.htmx.history_restore_request
    return render(request, f"{template}#{partial}" if htmx else template, context)


@login_required
@permission_required(VIEW_PLANS, raise_exception=True)
@require_GET
@vary_on_headers("HX-Request")
def plan_mine(request: HtmxHttpRequest) -> HttpResponse:
    period = _period(request)
    progress = selectors_plans.my_plan(user=request.user, period=period.kind, starts_on=period.starts_on)
    context = {"progress": progress, "period": period, "links": _links("contacts:plan-mine", period)}
    return _page(request, "contacts/plan_mine.html", "plan-progress", context)


@login_required
@permission_required(VIEW_PLANS, raise_exception=True)
@require_GET
@vary_on_headers("HX-Request")
def plan_team(request: HtmxHttpRequest) -> HttpResponse:
    period, team = _period(request), _int(request.GET.get("team"))
    plans = selectors_plans.team_plans(viewer=request.user, period=period.kind, starts_on=period.starts_on, team=team)
    links = _links("contacts:plan-team", period, team=plans.team.pk if plans.team else None)
    return _page(request, "contacts/plan_team.html", "team-plans", {"plans": plans, "period": period, "links": links})


@login_required
@permission_required(VIEW_PLANS, raise_exception=True)
@require_GET
@vary_on_headers("HX-Request")
def plan_history(request: HtmxHttpRequest) -> HttpResponse:
    period, pk = _period(request), _int(request.GET.get("user"))
    person = request.user if pk is None else selectors_plans.plan_person_get(viewer=request.user, pk=pk)
    rows = selectors_plans.plan_history(user=person, period=period.kind)
    links = _links("contacts:plan-history", period, user=pk)
    context = {"rows": rows, "person": person, "period": period, "links": links}
    return _page(request, "contacts/plan_history.html", "plan-history", context)


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def plan_edit(request: HtmxHttpRequest) -> HttpResponse:
    initial = selectors_plans.plan_edit_initial(
        actor=request.user, user=_int(request.GET.get("user")), period=_period(request, "starts_on")
    )
    form = WorkPlanForm(request.POST or None, actor=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            plan = services_plans.workplan_save(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The plan for %(user)s is saved.") % {"user": plan.user})
            query = urlencode({"period": plan.period, "date": plan.starts_on.isoformat(), "team": plan.team_id or ""})
            return redirect(f"{reverse('contacts:plan-team')}?{query}")
    return _page(request, "contacts/plan_form.html", "plan-form", {"form": form})


urlpatterns = [
    path("plans/", plan_mine, name="plan-mine"),
    path("plans/team/", plan_team, name="plan-team"),
    path("plans/history/", plan_history, name="plan-history"),
    path("plans/edit/", plan_edit, name="plan-edit"),
]
