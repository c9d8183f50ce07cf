"""The lead list's filters (django-filter) over `Lead.objects.visible_to(user)`.

Each filter is served by an index of marketing/models.py: status, channel, source, campaign, region, owner and
team by their (column, -created_at, -id) indexes; the search box by the trigram GIN indexes on UPPER(company_name)
/ UPPER(last_name) that `icontains` emits, an e-mail by marketing_lead_email_idx (Lower(email)).
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from django_filters.widgets import DateRangeWidget

from contacts.filters import NAME_MIN_LENGTH, ActiveFilter, FilterForm, active_filters
from contacts.models import Region, Source
from contacts.selectors import assignable_owners
from crm.models import Team, User
from deals.forms_suppliers import CatalogueProductSelect
from deals.models import Product
from marketing.models import Campaign, Lead, LeadChannel, LeadStatus, WebForm

# Campaigns and products a picker renders (newest / by SKU; the product picker searches the rest by HTMX);
# each <option> costs ~0.05 ms to render.
PICKER_SIZE = 50


class LeadFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Name, company or e-mail"), method="filter_q", max_length=100)
    status = django_filters.ChoiceFilter(label=_("Status"), choices=LeadStatus.choices)
    channel = django_filters.ChoiceFilter(label=_("Channel"), choices=LeadChannel.choices)
    source = django_filters.ChoiceFilter(label=_("Source"), choices=Source.choices)
    campaign = django_filters.ModelChoiceFilter(label=_("Campaign"), queryset=Campaign.objects.none())
    web_form = django_filters.ModelChoiceFilter(label=_("Web form"), queryset=WebForm.objects.none())
    region = django_filters.ChoiceFilter(label=_("Region"), choices=Region.choices)
    owner = django_filters.ModelChoiceFilter(label=_("Owner"), queryset=User.objects.none())
    team = django_filters.ModelChoiceFilter(label=_("Team"), queryset=Team.objects.none())
    product = django_filters.ModelChoiceFilter(
        label=_("Product of interest"), queryset=Product.objects.none(), widget=CatalogueProductSelect
    )
    created = django_filters.DateFromToRangeFilter(
        label=_("Received (from – to)"), field_name="created_at", widget=DateRangeWidget(attrs={"type": "date"})
    )

    class Meta:
        model = Lead
        fields: list[str] = []
        form = FilterForm

    def __init__(self, data: QueryDict | None = None, *, user: User, **kwargs: Any) -> None:
        super().__init__(data, queryset=Lead.objects.visible_to(user), **kwargs)
        self.user = user
        self.filters["owner"].queryset = assignable_owners(user)
        self.filters["team"].queryset = Team.objects.visible_to(user).order_by("name")
        self.filters["campaign"].queryset = Campaign.objects.visible_to(user).only("name").order_by("-id")
        self.filters["web_form"].queryset = WebForm.objects.visible_to(user).only("name").order_by("name")
        self.filters["product"].queryset = Product.objects.filter(is_active=True).only("name_uk", "sku").order_by("sku")

    @property
    def form(self) -> Any:
        form = super().form
        # Bounded pickers: the choices render at most PICKER_SIZE rows (validation still uses the whole set).
        for name in ("campaign", "product"):
            field = form.fields[name]
            if not getattr(field, "_bounded", False):
                selected = self.data.get(name) if self.is_bound else None
                shown = list(field.queryset[:PICKER_SIZE])
                if selected and str(selected).isdigit() and all(str(o.pk) != str(selected) for o in shown):
                    shown = [*field.queryset.filter(pk=selected), *shown]
                field.widget.choices = [("", field.empty_label or "---------"), *((o.pk, str(o)) for o in shown)]
                field._bounded = True
        return form

    def active_filters(self) -> list[ActiveFilter]:
        """The filters in effect, shown as chips above the rows (the form itself loads when its panel opens)."""
        return active_filters(self)

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if "@" in value:
            # marketing_lead_email_idx: Lower(email) = the typed address.
            return queryset.annotate(email_lower=Lower("email")).filter(email_lower=value.lower())
        if len(value) < NAME_MIN_LENGTH:
            return queryset  # shorter patterns make the trigram index useless
        return queryset.filter(Q(company_name__icontains=value) | Q(last_name__icontains=value))


def filter_query(data: QueryDict) -> str:
    """The query string reduced to the filter's parameters (no cursor, no empty values)."""
    names = set(LeadFilter.base_filters) | {f"created_{suffix}" for suffix in DateRangeWidget.suffixes}
    kept = QueryDict(mutable=True)
    for key in data:
        if key in names:
            values = [value for value in data.getlist(key) if value.strip()]
            if values:
                kept.setlist(key, values)
    return kept.urlencode()
