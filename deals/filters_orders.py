"""Filters of the order monitoring list and the contract list (django-filter), over `visible_to(user)`.

Served by the indexes of deals/models.py: status (status, -created_at, id), owner and team
(owner|team, -created_at, id), overdue (the partial deals_order_overdue_idx on expected_date, id),
company search by the trigram index on UPPER(company name) that `icontains` emits (3+ letters).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters.widgets import DateRangeWidget

from contacts.filters import FilterForm
from contacts.selectors import assignable_owners
from crm.models import Team, User
from deals.models import OPEN_ORDER_STATUSES, Contract, ContractStatus, Order, OrderStatus

NAME_MIN_LENGTH = 3
EXPIRY_DAYS = 30
# The partial index's predicate, spelt the same way so the planner can prove the query implies it.
OPEN_STATUSES = sorted(OPEN_ORDER_STATUSES)


class OrderFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=OrderStatus.choices)
    overdue = django_filters.BooleanFilter(label=_("Overdue only"), widget=forms.CheckboxInput, method="filter_overdue")
    owner = django_filters.ModelChoiceFilter(label=_("Owner"), queryset=User.objects.none())
    team = django_filters.ModelChoiceFilter(label=_("Team"), queryset=Team.objects.none())
    created = django_filters.DateFromToRangeFilter(
        label=_("Created (from – to)"), field_name="created_at", widget=DateRangeWidget(attrs={"type": "date"})
    )
    q = django_filters.CharFilter(
        label=_("Company name contains"), method="filter_company_name", min_length=NAME_MIN_LENGTH, max_length=100
    )
    company = django_filters.NumberFilter(field_name="company_id", widget=forms.HiddenInput)

    class Meta:
        model = Order
        fields: list[str] = []
        form = FilterForm

    def __init__(self, data: QueryDict | None = None, *, user: User, **kwargs: Any) -> None:
        super().__init__(data, queryset=Order.objects.visible_to(user), **kwargs)
        self.user = user
        self.filters["owner"].queryset = assignable_owners(user)
        self.filters["team"].queryset = Team.objects.visible_to(user).order_by("name").only("id", "name")

    @property
    def is_overdue(self) -> bool:
        return bool(self.is_bound and self.form.is_valid() and self.form.cleaned_data.get("overdue"))

    @property
    def period(self) -> tuple[date | None, date | None]:
        """The chosen creation period (Kyiv dates), for the per-status counts."""
        if not (self.is_bound and self.form.is_valid()) or not self.form.cleaned_data.get("created"):
            return None, None
        period = self.form.cleaned_data["created"]
        start = timezone.localdate(period.start) if period.start else None
        end = timezone.localdate(period.stop) if period.stop else None
        return start, end

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if not value:
            return queryset
        return queryset.filter(status__in=OPEN_STATUSES, expected_date__lt=timezone.localdate())

    def filter_company_name(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(company__name__icontains=value.strip())


class ContractFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=ContractStatus.choices)
    expiring = django_filters.BooleanFilter(
        label=_("Expiring within 30 days"), widget=forms.CheckboxInput, method="filter_expiring"
    )
    owner = django_filters.ModelChoiceFilter(label=_("Owner"), queryset=User.objects.none())
    q = django_filters.CharFilter(
        label=_("Company name contains"), method="filter_company_name", min_length=NAME_MIN_LENGTH, max_length=100
    )

    class Meta:
        model = Contract
        fields: list[str] = []
        form = FilterForm

    def __init__(self, data: QueryDict | None = None, *, user: User, **kwargs: Any) -> None:
        super().__init__(data, queryset=Contract.objects.visible_to(user), **kwargs)
        self.filters["owner"].queryset = assignable_owners(user)

    def filter_expiring(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if not value:
            return queryset
        today = timezone.localdate()
        return queryset.filter(
            status=ContractStatus.ACTIVE, ends_on__gte=today, ends_on__lte=today + timedelta(days=EXPIRY_DAYS)
        )

    def filter_company_name(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(company__name__icontains=value.strip())


def filter_query(filterset_class: type[django_filters.FilterSet], data: QueryDict) -> str:
    """The query string reduced to the filter's own parameters (no cursor, no empty values)."""
    names = set(filterset_class.base_filters)
    names |= {f"created_{suffix}" for suffix in DateRangeWidget.suffixes}
    kept = QueryDict(mutable=True)
    for key in data:
        if key in names:
            values = [value for value in data.getlist(key) if value.strip()]
            if values:
                kept.setlist(key, values)
    return kept.urlencode()
