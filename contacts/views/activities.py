"""Activities (issue 5): plan and edit, detail with changes, complete / reschedule / snooze / cancel,
assignments and their answers, My day, the card's Activities tab, birthday congratulations.

Row actions work in place with HTMX: the form opens inside the row, and the answer replaces the row
(updated), or removes it when it left its My day section (then it is appended to the section it moved
to, when that section is on the page). Without JavaScript every action is a page and a redirect.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import reswap, retarget

from contacts import selectors, selectors_activities, services_activities
from contacts.forms_activities import (
    ActivityForm,
    AssignmentCompleteForm,
    CompleteForm,
    DeclineForm,
    RescheduleForm,
    SnoozeForm,
)
from contacts.models import Activity, AssignmentState
from contacts.selectors_activities import MY_DAY_SECTIONS
from contacts.services_activities import Snooze
from crm.htmx import HtmxHttpRequest, call_service

T = TypeVar("T")
ROW = "contacts/includes/activity_row.html"


# --- helpers -------------------------------------------------------------------------------------------


def _page(request: HtmxHttpRequest, page: str, partial: str, context: dict[str, Any]) -> HttpResponse:
    return render(request, partial if request.htmx else page, {"snooze_choices": Snooze.choices, **context})


def _next(request: HtmxHttpRequest) -> str:
    """A safe ?next= / POST next (the page to return to), or ""."""
    target = request.POST.get("next") or request.GET.get("next", "")
    allowed = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False)
    return target if allowed else ""


def _section(request: HtmxHttpRequest) -> str:
    return (request.POST.get("section") or request.GET.get("section", ""))[:20]


def _row_changed(request: HtmxHttpRequest, activity: Activity, message: str) -> HttpResponse:
    """After a row action: back to the page (no JS), or the row updated in place, moved or removed (HTMX)."""
    if message:
        messages.success(request, message)
    if not request.htmx:
        return redirect(_next(request) or reverse("contacts:activity-detail", args=[activity.pk]))
    section = _section(request)
    now_in = selectors_activities.section_of(activity, request.user)
    on_my_day = section in MY_DAY_SECTIONS
    context = {
        "row": selectors_activities.decorate([activity])[0],
        "section": now_in if on_my_day else section,
        "keep": not on_my_day or now_in == section,
        "move_to": now_in if on_my_day and now_in != section and now_in in MY_DAY_SECTIONS else "",
        "snooze_choices": Snooze.choices,
    }
    response = render(request, f"{ROW}#row-changed", context)
    return reswap(retarget(response, f"#activity-{activity.pk}"), "outerHTML")


def _form_action(
    request: HtmxHttpRequest,
    activity: Activity,
    form: forms.Form,
    run: Callable[[], Activity],
    title: str,
    done: str,
) -> HttpResponse:
    """An action with a small form (complete, reschedule, decline, …): the form, or the row changed."""
    if request.method == "POST" and form.is_valid():
        changed = call_service(form, run)
        if changed is not None:
            return _row_changed(request, changed, done)
    context = {
        "activity": activity,
        "form": form,
        "title": title,
        "action": request.path,
        "section": _section(request),
        "next": _next(request),
        "inline": bool(request.htmx),
    }
    return _page(request, "contacts/activity_action.html", "contacts/activity_action.html#action-form", context)


def _changeable(request: HtmxHttpRequest, pk: int) -> Activity:
    """The activity (404 when not visible), when the user may change it (403 otherwise)."""
    activity = selectors_activities.activity_get(user=request.user, pk=pk)
    if not services_activities.activity_can_change(activity=activity, user=request.user):
        raise PermissionDenied
    return activity


def _answerable(request: HtmxHttpRequest, pk: int) -> Activity:
    """An assignment given to the user (404 when not visible, 403 when it is someone else's)."""
    activity = selectors_activities.activity_get(user=request.user, pk=pk)
    if activity.assignee_id != request.user.pk or activity.kind != Activity.Kind.ASSIGNMENT:
        raise PermissionDenied
    return activity


# --- plan, edit, detail --------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def activity_create(request: HtmxHttpRequest) -> HttpResponse:
    """Plan an activity; ?company=&person=&kind= pre-fill the form (the card's "Plan activity").

    ?related=deals.deal:<pk> (a deal, order or ticket the user can see) links the activity to it.
    """
    if not request.user.has_perm("contacts.add_activity"):
        raise PermissionDenied
    params = {name: request.GET.get(name, "") for name in ("company", "person", "kind")}
    initial = selectors_activities.activity_prefill(user=request.user, **params)
    related = selectors_activities.related_object(user=request.user, value=request.GET.get("related", ""))
    form = ActivityForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        create = services_activities.activity_create
        activity = call_service(form, create, actor=request.user, content_object=related, **form.service_kwargs())
        if activity is not None:
            messages.success(request, _("The activity is planned."))
            return redirect(_next(request) or reverse("contacts:activity-detail", args=[activity.pk]))
    context = {"form": form, "title": _("Plan an activity"), "next": _next(request), "related": related}
    return _page(request, "contacts/activity_form.html", "contacts/activity_form.html#activity-form", context)


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def activity_update(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    activity = _changeable(request, pk)
    form = ActivityForm(request.POST or None, user=request.user, activity=activity)
    if request.method == "POST" and form.is_valid():
        update = services_activities.activity_update
        if call_service(form, update, activity=activity, actor=request.user, **form.service_kwargs()) is not None:
            messages.success(request, _("The activity is saved."))
            return redirect(_next(request) or reverse("contacts:activity-detail", args=[activity.pk]))
    context = {"form": form, "activity": activity, "title": _("Edit the activity"), "next": _next(request)}
    return _page(request, "contacts/activity_form.html", "contacts/activity_form.html#activity-form", context)


@login_required
@require_GET
def activity_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    activity = selectors_activities.activity_get(user=request.user, pk=pk)
    selectors_activities.decorate([activity])
    context = {
        "activity": activity,
        "can_change": services_activities.activity_can_change(activity=activity, user=request.user),
        "reminders": list(activity.reminders.order_by("offset")),
        "entries": selectors_activities.activity_changes(activity=activity),
        "snooze_choices": Snooze.choices,
    }
    return render(request, "contacts/activity_detail.html", context)


@login_required
@require_GET
def person_options(request: HtmxHttpRequest) -> HttpResponse:
    """<option>s of the person picker for the chosen company (the activity form refills it)."""
    people = selectors_activities.person_options(user=request.user, company=request.GET.get("company", ""))
    return render(request, f"{ROW}#person-options", {"people": people[:300]})


# --- row actions ---------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def activity_complete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    activity = _changeable(request, pk)
    form = CompleteForm(request.POST or None)

    def run() -> Activity:
        complete = services_activities.activity_complete
        return complete(activity=activity, actor=request.user, **form.service_kwargs())

    return _form_action(request, activity, form, run, _("Complete the activity"), _("The activity is done."))


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def activity_reschedule(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    activity = _changeable(request, pk)
    form = RescheduleForm(request.POST or None, initial={"starts_at": activity.starts_at})

    def run() -> Activity:
        starts_at = form.cleaned_data["starts_at"]
        return services_activities.activity_reschedule(activity=activity, actor=request.user, starts_at=starts_at)

    return _form_action(request, activity, form, run, _("Reschedule the activity"), _("The activity is moved."))


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def activity_snooze(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    activity = _changeable(request, pk)
    form = SnoozeForm(request.POST or None)

    def run() -> Activity:
        snooze = services_activities.activity_snooze
        return snooze(activity=activity, actor=request.user, by=form.cleaned_data["by"])

    return _form_action(request, activity, form, run, _("Put the activity off"), _("The activity is put off."))


@login_required
@require_POST
def activity_cancel(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    activity = _changeable(request, pk)
    try:
        activity = services_activities.activity_cancel(activity=activity, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The activity is cancelled."))
    return _row_changed(request, activity, "") if request.htmx else redirect(_next(request) or activity_url(activity))


def activity_url(activity: Activity) -> str:
    return reverse("contacts:activity-detail", args=[activity.pk])


# --- assignments ---------------------------------------------------------------------------------------


@login_required
@require_POST
def assignment_accept(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    activity = _answerable(request, pk)
    try:
        activity = services_activities.assignment_accept(activity=activity, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _row_changed(request, activity, "") if request.htmx else redirect(activity_url(activity))
    return _row_changed(request, activity, _("You accepted the assignment."))


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def assignment_decline(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    activity = _answerable(request, pk)
    form = DeclineForm(request.POST or None)

    def run() -> Activity:
        decline = services_activities.assignment_decline
        return decline(activity=activity, actor=request.user, reason=form.cleaned_data["reason"])

    return _form_action(request, activity, form, run, _("Decline the assignment"), _("You declined the assignment."))


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def assignment_complete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    activity = _answerable(request, pk)
    form = AssignmentCompleteForm(request.POST or None)

    def run() -> Activity:
        complete = services_activities.assignment_complete
        return complete(activity=activity, actor=request.user, **form.service_kwargs())

    return _form_action(request, activity, form, run, _("Complete the assignment"), _("The assignment is done."))


@login_required
@require_GET
@vary_on_headers("HX-Request")
def assignment_list(request: HtmxHttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    lists = selectors_activities.assignment_lists(user=request.user, state=state)
    context = {"lists": lists, "state": state, "states": AssignmentState.choices[1:]}
    return _page(request, "contacts/assignment_list.html", "contacts/assignment_list.html#assignments", context)


# --- My day, birthdays ---------------------------------------------------------------------------------


@login_required
@require_GET
@vary_on_headers("HX-Request")
def my_day(request: HtmxHttpRequest) -> HttpResponse:
    context = {"day": selectors_activities.my_day(user=request.user)}
    return _page(request, "contacts/my_day.html", "contacts/my_day.html#my-day", context)


@login_required
@require_POST
def person_congratulate(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Plan today's birthday call (or e-mail) with the person: on My day the row says so and joins "Today"."""
    person = selectors.person_get(user=request.user, pk=pk)
    try:
        activity = services_activities.birthday_congratulate(person=person, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        activity = None
    else:
        messages.success(request, _("A congratulation is planned for today."))
    if not request.htmx:
        return redirect(activity_url(activity) if activity else _next(request) or reverse("contacts:my-day"))
    context = {
        "person": selectors_activities.birthday_person(person, day=timezone.localdate()),
        "planned": activity,
        "row": selectors_activities.decorate([activity])[0] if activity else None,
        "section": "today",
        "snooze_choices": Snooze.choices,
    }
    response = render(request, "contacts/my_day.html#birthday-congratulated", context)
    return reswap(retarget(response, f"#birthday-{person.pk}"), "outerHTML")


# --- the card's Activities tab -------------------------------------------------------------------------


@login_required
@require_GET
@vary_on_headers("HX-Request")
def company_activities(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    company = selectors.company_get(user=request.user, pk=pk)
    return _tab(request, company=company, holder_url=reverse("contacts:company-detail", args=[pk]))


@login_required
@require_GET
@vary_on_headers("HX-Request")
def person_activities(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    person = selectors.person_get(user=request.user, pk=pk)
    return _tab(request, person=person, holder_url=reverse("contacts:person-detail", args=[pk]))


def _tab(request: HtmxHttpRequest, holder_url: str, **holder: Any) -> HttpResponse:
    """HTMX: the tab (or its next page with `before`); otherwise the card, which loads the tab itself."""
    if not request.htmx:
        return redirect(holder_url)
    before = request.GET.get("before", "")
    tab = selectors_activities.card_activities(user=request.user, before=before, **holder)
    plan = {key: value.pk for key, value in holder.items()}
    context = {
        "tab": tab,
        "tab_url": request.path,
        "plan_query": "&".join(f"{key}={pk}" for key, pk in plan.items()),
        "holder_url": holder_url,
        "section": "tab",
        "snooze_choices": Snooze.choices,
    }
    partial = "activity-page" if before else "activity-tab"
    return render(request, f"contacts/includes/activity_tab.html#{partial}", context)


urlpatterns = [
    path("activities/new/", activity_create, name="activity-create"),
    path("activities/person-options/", person_options, name="activity-person-options"),
    path("activities/<int:pk>/", activity_detail, name="activity-detail"),
    path("activities/<int:pk>/edit/", activity_update, name="activity-update"),
    path("activities/<int:pk>/complete/", activity_complete, name="activity-complete"),
    path("activities/<int:pk>/reschedule/", activity_reschedule, name="activity-reschedule"),
    path("activities/<int:pk>/snooze/", activity_snooze, name="activity-snooze"),
    path("activities/<int:pk>/cancel/", activity_cancel, name="activity-cancel"),
    path("assignments/", assignment_list, name="assignment-list"),
    path("assignments/<int:pk>/accept/", assignment_accept, name="assignment-accept"),
    path("assignments/<int:pk>/decline/", assignment_decline, name="assignment-decline"),
    path("assignments/<int:pk>/complete/", assignment_complete, name="assignment-complete"),
    path("my-day/", my_day, name="my-day"),
    path("people/<int:pk>/congratulate/", person_congratulate, name="person-congratulate"),
    path("companies/<int:pk>/activities/", company_activities, name="company-activities"),
    path("people/<int:pk>/activities/", person_activities, name="person-activities"),
]
