"""The ticket queue's filters (django-filter) over `Ticket.objects.visible_to(user)`.

Served by the partial queue indexes of service/models.py: open tickets by (team | assignee, resolution due),
"breaching within 1 h" and "breached" on the same due column; closed tickets by (status, -id).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contacts.filters import FilterForm
from crm.models import User
from service.models import OPEN_STATUSES, Ticket, TicketCategory, TicketPriority, TicketStatus

SOON = timedelta(hours=1)


class Queue:
    MINE, TEAM, UNASSIGNED, ALL = "mine", "team", "unassigned", "all"
    CHOICES = [
        (MINE, _("Mine")),
        (TEAM, _("My team")),
        (UNASSIGNED, _("Unassigned")),
        (ALL, _("Everything I see")),
    ]


class Due:
    SOON, BREACHED = "soon", "breached"
    CHOICES = [(SOON, _("Breaching within 1 h")), (BREACHED, _("Breached"))]


class TicketFilter(django_filters.FilterSet):
    queue = django_filters.ChoiceFilter(
        label=_("Queue"), choices=Queue.CHOICES, method="filter_queue", empty_label=None
    )
    due = django_filters.ChoiceFilter(label=_("Deadline"), choices=Due.CHOICES, method="filter_due")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=TicketStatus.choices, method="filter_status")
    priority = django_filters.ChoiceFilter(label=_("Priority"), choices=TicketPriority.choices)
    category = django_filters.ModelChoiceFilter(label=_("Category"), queryset=TicketCategory.objects.none())
    company = django_filters.NumberFilter(field_name="company_id", widget=forms.HiddenInput)
    q = django_filters.CharFilter(label=_("Number or subject"), method="filter_q", max_length=100)

    class Meta:
        model = Ticket
        fields: list[str] = []
        form = FilterForm

    def __init__(self, data: QueryDict | None = None, *, user: User, **kwargs: Any) -> None:
        super().__init__(data, queryset=Ticket.objects.visible_to(user), **kwargs)
        self.user = user
        self.filters["category"].queryset = TicketCategory.objects.filter(is_active=True)

    @property
    def shows_open(self) -> bool:
        """Open tickets sort by time left; a done status lists newest first."""
        data = self.form.cleaned_data if self.is_bound and self.form.is_valid() else {}
        return data.get("status") in (None, "", *OPEN_STATUSES)

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("status"):
            queryset = queryset.filter(status__in=OPEN_STATUSES)
        return queryset

    def filter_queue(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == Queue.MINE:
            return queryset.filter(assignee=self.user)
        if value == Queue.TEAM:
            return queryset.filter(team__in=self.user.team_ids)
        if value == Queue.UNASSIGNED:
            return queryset.filter(assignee__isnull=True)
        return queryset

    def filter_due(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        now = timezone.now()
        if value == Due.SOON:
            return queryset.filter(resolution_due_at__gte=now, resolution_due_at__lt=now + SOON)
        if value == Due.BREACHED:
            return queryset.filter(
                Q(resolution_due_at__lt=now) | Q(first_response_breached=True) | Q(resolution_breached=True)
            )
        return queryset

    def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(status=value)

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if value.upper().startswith("S-"):
            return queryset.filter(number=value.upper())
        if len(value) < 3:
            return queryset
        return queryset.filter(subject__icontains=value)


def filter_query(data: QueryDict) -> str:
    """The query string reduced to the filter's own parameters (no cursor, no empty values)."""
    kept = QueryDict(mutable=True)
    for key in TicketFilter.base_filters:
        values = [value for value in data.getlist(key) if value.strip()]
        if values:
            kept.setlist(key, values)
    return kept.urlencode()
