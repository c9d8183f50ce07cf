"""The work plan form: parses input; the rules (Monday / 1st, amounts, who may set) live in services_plans."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from contacts.models import PlanPeriod
from contacts.selectors_plans import plan_settable_people
from crm.models import User


class WorkPlanForm(forms.Form):
    user = forms.ModelChoiceField(label=_("Employee"), queryset=User.objects.none())
    period = forms.ChoiceField(label=_("Period"), choices=PlanPeriod.choices)
    starts_on = forms.DateField(
        label=_("From"),
        help_text=_("Monday of the week or the 1st of the month."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    calls = forms.IntegerField(label=_("Calls"), initial=0)
    meetings = forms.IntegerField(label=_("Meetings"), initial=0)
    visits = forms.IntegerField(label=_("Visits"), initial=0)
    new_clients = forms.IntegerField(label=_("New clients"), initial=0)
    won_amount = forms.DecimalField(label=_("Won deals, UAH"), initial=0)
    hours = forms.DecimalField(label=_("Hours"), initial=0)

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = plan_settable_people(actor)
        self.fields["user"].label_from_instance = lambda u: f"{u} ({u.team})" if u.team_id else str(u)
