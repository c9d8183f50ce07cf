"""Forms of activities (issue 5): plan / edit, complete, reschedule, snooze, and the answers to an assignment.

Forms only parse; the rules (end after start, reminders before the start, the 5-year series,
who may be assigned) live in contacts.services_activities and come back as field errors.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from contacts.forms import CompanyChoiceField, _selected
from contacts.models import Activity, ActivityKind, Company, Person, Priority, Recurrence
from contacts.selectors import assignable_owners
from contacts.selectors_activities import person_options
from contacts.services_activities import Snooze
from crm.models import User

PICKER_SIZE = 300  # options a person or assignee <select> renders
REMINDER_CHOICES = [
    ("10", _("10 minutes before")),
    ("30", _("30 minutes before")),
    ("60", _("1 hour before")),
    ("1440", _("1 day before")),
]
DATETIME_WIDGET = {"attrs": {"type": "datetime-local"}, "format": "%Y-%m-%dT%H:%M"}


def _minutes(value: int | None) -> timedelta | None:
    return timedelta(minutes=value) if value is not None else None


def _offer(field: forms.ModelChoiceField, parses: QuerySet, offered: QuerySet, selected: Any) -> None:
    """Validate against `parses` but render only the first rows of `offered` (plus the selected one)."""
    field.queryset = parses
    shown = list(offered[:PICKER_SIZE])
    if str(selected or "").isdigit() and all(str(o.pk) != str(selected) for o in shown):
        shown = [*parses.filter(pk=selected), *shown]
    field.widget.choices = [("", field.empty_label), *((o.pk, str(o)) for o in shown)]


class ActivityForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), choices=ActivityKind.choices)
    subject = forms.CharField(label=_("Subject"), max_length=300, widget=forms.TextInput(attrs={"autofocus": True}))
    starts_at = forms.DateTimeField(label=_("Start / due"), widget=forms.DateTimeInput(**DATETIME_WIDGET))
    ends_at = forms.DateTimeField(label=_("End"), required=False, widget=forms.DateTimeInput(**DATETIME_WIDGET))
    is_all_day = forms.BooleanField(label=_("All day"), required=False)
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices, initial=Priority.NORMAL)
    planned_minutes = forms.IntegerField(
        label=_("Planned duration, minutes"), min_value=0, max_value=7 * 24 * 60, required=False
    )
    company = CompanyChoiceField(label=_("Company"), queryset=Company.objects.none(), required=False)
    person = forms.ModelChoiceField(label=_("Person"), queryset=Person.objects.none(), required=False)
    assignee = forms.ModelChoiceField(
        label=_("Assignee"), queryset=User.objects.none(), required=False, help_text=_("Empty: you.")
    )
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    reminders = forms.MultipleChoiceField(
        label=_("Reminders"), choices=REMINDER_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )
    recurrence = forms.ChoiceField(label=_("Repeats"), choices=Recurrence.choices, required=False)
    recurrence_until = forms.DateField(
        label=_("Repeat until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("At most 5 years ahead."),
    )

    def __init__(self, *args: Any, user: User, activity: Activity | None = None, **kwargs: Any) -> None:
        self.activity = activity
        if activity is not None:
            kwargs.setdefault("initial", self.initial_from(activity))
        super().__init__(*args, **kwargs)
        self.fields["company"].limit_to(Company.objects.visible_to(user), _selected(self, "company"))
        self.fields["company"].widget.attrs.update(
            {
                "hx-get": reverse("contacts:activity-person-options"),
                "hx-trigger": "change",
                "hx-target": "#id_person",
                "hx-swap": "innerHTML",
            }
        )
        # Any visible person parses (the service checks the company); the list offers the company's people.
        people = person_options(user=user, company=_selected(self, "company"))
        _offer(self.fields["person"], Person.objects.visible_to(user), people, _selected(self, "person"))
        # Any user parses (the service says why one cannot be assigned); the list offers the actor's team.
        _offer(self.fields["assignee"], User.objects.all(), assignable_owners(user), _selected(self, "assignee"))
        if activity is not None:
            del self.fields["recurrence"], self.fields["recurrence_until"]
            self.fields["assignee"].required = True
            self.fields["assignee"].help_text = ""

    @staticmethod
    def initial_from(activity: Activity) -> dict[str, Any]:
        return {
            "kind": activity.kind,
            "subject": activity.subject,
            "starts_at": activity.starts_at,
            "ends_at": activity.ends_at,
            "is_all_day": activity.is_all_day,
            "priority": activity.priority,
            "planned_minutes": int(activity.planned_duration.total_seconds() // 60)
            if activity.planned_duration
            else None,
            "company": activity.company_id,
            "person": activity.person_id,
            "assignee": activity.assignee_id,
            "description": activity.description,
            "reminders": [str(int(r.offset.total_seconds() // 60)) for r in activity.reminders.all()],
        }

    def service_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for activity_create (or activity_update when editing)."""
        data = self.cleaned_data
        kwargs: dict[str, Any] = {
            "kind": data["kind"],
            "subject": data["subject"],
            "starts_at": data["starts_at"],
            "ends_at": data.get("ends_at"),
            "is_all_day": data.get("is_all_day", False),
            "priority": data["priority"],
            "planned_duration": _minutes(data.get("planned_minutes")),
            "company": data.get("company"),
            "person": data.get("person"),
            "assignee": data.get("assignee"),
            "description": data.get("description", ""),
            "reminder_offsets": [timedelta(minutes=int(value)) for value in data.get("reminders", [])],
        }
        if self.activity is None:
            kwargs["recurrence"] = data.get("recurrence", "")
            kwargs["recurrence_until"] = data.get("recurrence_until")
        return kwargs


class CompleteForm(forms.Form):
    result = forms.CharField(
        label=_("Result"), required=False, widget=forms.Textarea(attrs={"rows": 2, "autofocus": True})
    )
    actual_minutes = forms.IntegerField(label=_("Took, minutes"), min_value=0, max_value=7 * 24 * 60, required=False)

    def service_kwargs(self) -> dict[str, Any]:
        return {"result": self.cleaned_data["result"], "actual_duration": _minutes(self.cleaned_data["actual_minutes"])}


class RescheduleForm(forms.Form):
    starts_at = forms.DateTimeField(label=_("New start / due"), widget=forms.DateTimeInput(**DATETIME_WIDGET))


class SnoozeForm(forms.Form):
    by = forms.ChoiceField(label=_("Put off by"), choices=Snooze.choices)


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Why do you decline?"),
        widget=forms.Textarea(attrs={"rows": 2, "autofocus": True}),
        error_messages={"required": _("Say why you decline the assignment.")},
    )


class AssignmentCompleteForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2, "autofocus": True})
    )
    actual_minutes = forms.IntegerField(label=_("Took, minutes"), min_value=0, max_value=7 * 24 * 60, required=False)

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"comment": data["comment"], "actual_duration": _minutes(data["actual_minutes"])}
