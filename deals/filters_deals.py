"""Filters of the deal list (django-filter) over `Deal.objects.visible_to(user)`.

Served by indexes: status by deals_deal_status_idx, owner / team by deals_deal_owner_idx / _team_idx,
expected close by deals_deal_close_idx, the title search by the trigram GIN index on UPPER(title) that
`icontains` emits (deals_deal_title_trgm_idx; 3 characters at least, PLATFORM.md).
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from django_filters.widgets import DateRangeWidget, RangeWidget

from contacts.selectors import assignable_owners
from crm.lib.forms import lean_form
from crm.models import Team, User
from deals.models import Deal, DealStatus, Pipeline, Stage

TITLE_MIN_LENGTH = 3


class DealFilterForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        lean_form(self)


class MoneyRangeField(django_filters.fields.RangeField):
    """From – to amounts: Decimals with at most 2 decimals (a message next to the field otherwise)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        errors = {
            "max_decimal_places": _("Enter an amount with at most 2 decimal places."),
            "invalid": _("Enter a number."),
            "max_digits": _("The amount is too large."),
            "max_whole_digits": _("The amount is too large."),
        }
        fields = (
            forms.DecimalField(max_digits=14, decimal_places=2, min_value=0, error_messages=errors),
            forms.DecimalField(max_digits=14, decimal_places=2, min_value=0, error_messages=errors),
        )
        super().__init__(fields, *args, **kwargs)


class MoneyRangeFilter(django_filters.RangeFilter):
    field_class = MoneyRangeField


class StageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Stage) -> str:
        return f"{obj.pipeline.name} — {obj.name}"


class StageFilter(django_filters.ModelChoiceFilter):
    field_class = StageChoiceField


class DealFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Title contains"), method="filter_title", min_length=TITLE_MIN_LENGTH, max_length=100
    )
    status = django_filters.ChoiceFilter(label=_("Status"), choices=DealStatus.choices)
    pipeline = django_filters.ModelChoiceFilter(
        label=_("Pipeline"), queryset=Pipeline.objects.order_by("order", "name")
    )
    stage = StageFilter(label=_("Stage"), queryset=Stage.objects.none())
    owner = django_filters.ModelChoiceFilter(label=_("Owner"), queryset=User.objects.none())
    team = django_filters.ModelChoiceFilter(label=_("Team"), queryset=Team.objects.none())
    close = django_filters.DateFromToRangeFilter(
        label=_("Expected close (from – to)"),
        field_name="expected_close_date",
        widget=DateRangeWidget(attrs={"type": "date"}),
    )
    amount = MoneyRangeFilter(
        label=_("Amount, UAH (from – to)"), field_name="amount", widget=RangeWidget(attrs={"inputmode": "decimal"})
    )

    class Meta:
        model = Deal
        fields: list[str] = []
        form = DealFilterForm

    def __init__(self, data: QueryDict | None = None, *, user: User, **kwargs: Any) -> None:
        super().__init__(data, queryset=Deal.objects.visible_to(user), **kwargs)
        self.filters["owner"].queryset = assignable_owners(user)
        self.filters["team"].queryset = Team.objects.visible_to(user).order_by("name").only("id", "name")
        self.filters["stage"].queryset = (
            Stage.objects.select_related("pipeline")
            .only("id", "name", "pipeline__name")
            .order_by("pipeline__order", "pipeline__name", "order")
        )

    def filter_title(self, queryset: QuerySet[Deal], name: str, value: str) -> QuerySet[Deal]:
        # UPPER(title) LIKE UPPER(%s): served by deals_deal_title_trgm_idx.
        return queryset.filter(title__icontains=value.strip())


LIST_PARAMS = (
    "q",
    "status",
    "pipeline",
    "stage",
    "owner",
    "team",
    "close_after",
    "close_before",
    "amount_min",
    "amount_max",
)


def deal_filter(*, user: User, data: QueryDict | None) -> DealFilter:
    """The list's FilterSet; unbound (no filter) when `data` holds no filter parameter."""
    bound = data is not None and any(data.get(name) for name in LIST_PARAMS)
    return DealFilter(data if bound else None, user=user)


def list_query(data: QueryDict) -> str:
    """The list's query string reduced to its filter parameters (no cursor, no empty values)."""
    kept = QueryDict(mutable=True)
    for name in LIST_PARAMS:
        value = data.get(name)
        if value:
            kept[name] = value
    return kept.urlencode()
