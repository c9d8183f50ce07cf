"""The filter of the service report: period and the team / agent / category / product the user may pick."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from contacts.filters import FilterForm
from crm.models import Team, User
from deals.forms_suppliers import ProductChoiceField, date_widget
from deals.models import Product
from service import selectors_reports
from service.models import TicketCategory
from service.selectors_reports import DEFAULT_DAYS, MAX_DAYS, default_period

DATE_ERRORS = {"invalid": _("Enter a date such as 2026-03-31.")}


class AgentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.full_name or obj.email


class ReportFilterForm(FilterForm):
    """GET filter of /service/reports/ and its exports. Unbound (no query): the last DEFAULT_DAYS days.

    A missing start or end is filled from the other (DEFAULT_DAYS long) or today; a reversed or longer than
    MAX_DAYS period is an error on the field. Team and agent choices are limited to the user's report scope,
    so a guessed id of another team is "not one of the available choices", never a 500.
    """

    start = forms.DateField(label=_("From"), required=False, widget=date_widget(), error_messages=DATE_ERRORS)
    end = forms.DateField(label=_("To"), required=False, widget=date_widget(), error_messages=DATE_ERRORS)
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), required=False)
    agent = AgentChoiceField(label=_("Agent"), queryset=User.objects.none(), required=False)
    category = forms.ModelChoiceField(label=_("Category"), queryset=TicketCategory.objects.none(), required=False)
    product = ProductChoiceField(label=_("Product"), queryset=Product.objects.none(), required=False)

    def __init__(self, data: QueryDict | None = None, *, user: User, **kwargs: Any) -> None:
        start, end = default_period()
        super().__init__(data, initial={"start": start, "end": end}, **kwargs)
        self.fields["team"].queryset = selectors_reports.report_teams(user=user)
        self.fields["agent"].queryset = selectors_reports.report_agents(user=user)
        self.fields["category"].queryset = selectors_reports.report_categories()
        selected = self.data.get("product") if self.is_bound else None
        self.fields["product"].limit_to(selectors_reports.report_products(), selected)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if "start" in self.errors or "end" in self.errors:
            return data
        start: date | None = data.get("start")
        end: date | None = data.get("end")
        if start is None and end is None:
            start, end = default_period()
        elif start is None:
            start = end - timedelta(days=DEFAULT_DAYS - 1)
        elif end is None:
            end = max(default_period()[1], start)
        if start > end:
            self.add_error("end", _("The end of the period must not be before its start."))
        elif (end - start).days + 1 > MAX_DAYS:
            self.add_error("end", _("Choose a period of at most three years."))
        data["start"], data["end"] = start, end
        return data

    def report_kwargs(self) -> dict[str, Any] | None:
        """Keyword arguments of `service_report` (without user): the defaults when unbound, None when invalid."""
        if not self.is_bound:
            start, end = default_period()
            return {"start": start, "end": end}
        if not self.is_valid():
            return None
        data = self.cleaned_data
        return {
            "start": data["start"],
            "end": data["end"],
            **{f"{name}_id": data[name].pk for name in ("team", "agent", "category", "product") if data.get(name)},
        }

    def query_string(self) -> str:
        """The filter as a query string (for the export links), from the cleaned values only."""
        kwargs = self.report_kwargs() or {}
        params = {key.removesuffix("_id"): value for key, value in kwargs.items()}
        return urlencode(
            {key: value.isoformat() if isinstance(value, date) else value for key, value in params.items()}
        )

    def filter_labels(self) -> list[tuple[str, str]]:
        """The filters in effect besides the period, as (label, value) for the exported files."""
        if not (self.is_bound and self.is_valid()):
            return []
        return [
            (str(self.fields[name].label), self.fields[name].label_from_instance(value))
            for name in ("team", "agent", "category", "product")
            if (value := self.cleaned_data.get(name))
        ]
