"""The filters of the conversion and needs pages: a period (Kyiv days), and the dimension / team / target group."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from contacts.filters import FilterForm
from crm.models import User
from deals.forms_suppliers import date_widget
from marketing import selectors_conversion
from marketing.models import Segment
from marketing.selectors_conversion import DIMENSIONS, MAX_DAYS, default_period

DATE_ERRORS = {"invalid": _("Enter a date such as 2026-03-31.")}


class PeriodFilterForm(FilterForm):
    """A GET filter with a period. Unbound (no query): the last DEFAULT_MONTHS months. A missing start or end
    is filled from the other or today; a reversed or longer than MAX_DAYS period is an error on the field."""

    start = forms.DateField(label=_("From"), required=False, widget=date_widget(), error_messages=DATE_ERRORS)
    end = forms.DateField(label=_("To"), required=False, widget=date_widget(), error_messages=DATE_ERRORS)

    def __init__(self, data: QueryDict | None = None, **kwargs: Any) -> None:
        start, end = default_period()
        super().__init__(data, initial={"start": start, "end": end, **kwargs.pop("initial", {})}, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if "start" in self.errors or "end" in self.errors:
            return data
        start: date | None = data.get("start")
        end: date | None = data.get("end")
        default_start, today = default_period()
        if start is None and end is None:
            start, end = default_start, today
        elif start is None:
            start = end - (today - default_start)
        elif end is None:
            end = max(today, start)
        if start > end:
            self.add_error("end", _("The end of the period must not be before its start."))
        elif (end - start).days + 1 > MAX_DAYS:
            self.add_error("end", _("Choose a period of at most three years."))
        data["start"], data["end"] = start, end
        return data

    def period(self) -> tuple[date, date] | None:
        """(start, end): the default when unbound, None when invalid."""
        if not self.is_bound:
            return default_period()
        if not self.is_valid():
            return None
        return self.cleaned_data["start"], self.cleaned_data["end"]


class ConversionFilterForm(PeriodFilterForm):
    """GET filter of /marketing/leads/conversion/. The team choices are those the user may pick, so a guessed
    id of another team is "not one of the available choices", never a 500."""

    by = forms.ChoiceField(label=_("Group by"), choices=list(DIMENSIONS.items()), required=False)
    team = forms.ModelChoiceField(label=_("Team"), queryset=None, required=False)

    field_order = ["by", "start", "end", "team"]

    def __init__(self, data: QueryDict | None = None, *, user: User, **kwargs: Any) -> None:
        super().__init__(data, initial={"by": "month"}, **kwargs)
        self.fields["team"].queryset = selectors_conversion.conversion_teams(user=user)

    def report_kwargs(self) -> dict[str, Any] | None:
        """Keyword arguments of `lead_conversion` (without user); None when the filter is invalid."""
        period = self.period()
        if period is None:
            return None
        data = self.cleaned_data if self.is_bound else {}
        team = data.get("team")
        return {"by": data.get("by") or "month", "start": period[0], "end": period[1],
                "team_id": team.pk if team else None}  # fmt: skip


class NeedsFilterForm(PeriodFilterForm):
    """GET filter of /marketing/needs/: the target group (one of the user's visible segments) and the period
    of the leads and orders compared."""

    segment = forms.ModelChoiceField(label=_("Target group"), queryset=None, required=False)

    field_order = ["segment", "start", "end"]

    def __init__(self, data: QueryDict | None = None, *, user: User, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.fields["segment"].queryset = Segment.objects.visible_to(user).order_by("name", "id")

    def report_kwargs(self) -> dict[str, Any] | None:
        """Keyword arguments of `needs_analysis`; None when invalid or no target group is chosen yet."""
        period = self.period()
        if period is None or not self.is_bound or self.cleaned_data.get("segment") is None:
            return None
        return {"segment": self.cleaned_data["segment"], "start": period[0], "end": period[1]}
