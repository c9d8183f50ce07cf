"""Campaign forms and the campaign list's filters: input parsing only; services_campaigns decides the rules."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from django_filters.widgets import DateRangeWidget

from contacts.filters import FilterForm
from contacts.forms import _selected, limit_choices
from contacts.models import Region
from crm.lib.forms import lean_form
from crm.models import Role, Scope, Team, User
from deals.models import Product
from marketing.models import Campaign, CampaignChannel, CampaignStatus, MemberStatus, Segment, sees_all_marketing
from marketing.personalise import PLACEHOLDERS

PICKER_SIZE = 100
SEARCH_MIN = 3


def staff_users() -> QuerySet[User]:
    return User.objects.filter(is_active=True).order_by("full_name", "id")


class CampaignFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Name"), method="filter_q", max_length=100)
    status = django_filters.ChoiceFilter(label=_("Status"), choices=CampaignStatus.choices)
    channel = django_filters.ChoiceFilter(label=_("Channel"), choices=CampaignChannel.choices)
    owner = django_filters.ModelChoiceFilter(label=_("Responsible"), queryset=User.objects.none())
    period = django_filters.DateFromToRangeFilter(
        label=_("Runs within (from – to)"), method="filter_period", widget=DateRangeWidget(attrs={"type": "date"})
    )

    class Meta:
        model = Campaign
        fields: list[str] = []
        form = FilterForm

    def __init__(self, data: QueryDict | None = None, *, user: User, **kwargs: Any) -> None:
        super().__init__(data, queryset=Campaign.objects.visible_to(user), **kwargs)
        self.filters["owner"].queryset = staff_users()
        self.form.fields["owner"].queryset = staff_users()
        lean_form(self.form)

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if len(value) < SEARCH_MIN:  # shorter words cannot use the trigram index (marketing_camp_name_trgm_idx)
            return queryset
        return queryset.filter(name__icontains=value)

    def filter_period(self, queryset: QuerySet, name: str, value: slice | None) -> QuerySet:
        """Campaigns whose period overlaps [from, to] (an open end of a campaign counts as open)."""
        if not value:
            return queryset
        if value.start:
            queryset = queryset.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=value.start))
        if value.stop:
            queryset = queryset.filter(starts_on__lte=value.stop)
        return queryset


def filter_query(data: QueryDict) -> str:
    """The query string reduced to the filter's own parameters (no cursor, no empty values)."""
    names = set(CampaignFilter.base_filters) | {f"period_{suffix}" for suffix in DateRangeWidget.suffixes}
    kept = QueryDict(mutable=True)
    for key in sorted(names):
        values = [value for value in data.getlist(key) if value.strip()]
        if values:
            kept.setlist(key, values)
    return kept.urlencode()


class CampaignForm(forms.ModelForm):
    regions = forms.MultipleChoiceField(
        label=_("Regions"),
        choices=Region.choices,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_("Only members whose company is in one of these regions. None: every region."),
    )

    class Meta:
        model = Campaign
        fields = [
            "name", "goal", "channel", "status", "starts_on", "ends_on", "budget", "segments", "products",
            "regions", "owner", "team", "utm_campaign", "email_subject", "email_body", "email_product", "send_rate",
        ]  # fmt: skip
        widgets = {
            "goal": forms.Textarea(attrs={"rows": 3}),
            "email_body": forms.Textarea(attrs={"rows": 10}),
            "starts_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "ends_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "segments": forms.SelectMultiple(attrs={"size": 6}),
            "products": forms.SelectMultiple(attrs={"size": 6}),
        }

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["segments"].queryset = Segment.objects.visible_to(user).order_by("name", "id")
        products = Product.objects.filter(is_active=True).order_by("sku")
        self.fields["products"].queryset = products
        limit_choices(self.fields["email_product"], products, _selected(self, "email_product"), PICKER_SIZE)
        self.fields["owner"].queryset = staff_users()
        self.fields["owner"].required = False
        self.fields["owner"].help_text = _("You, when left empty.")
        self.fields["team"].queryset = Team.objects.visible_to(user).order_by("name")
        known = ", ".join(f"{{{{ {name} }}}}" for name in PLACEHOLDERS)
        self.fields["email_body"].help_text = _("Placeholders: %(known)s.") % {"known": known}
        lean_form(self)

    def _post_clean(self) -> None:
        """Model validation (dates, budget, placeholders) is the service's: its errors come back by field."""

    def service_kwargs(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if not data.get("owner"):
            data.pop("owner", None)
        data["segments"] = list(data.get("segments") or [])
        data["products"] = list(data.get("products") or [])
        return data


class CostForm(forms.Form):
    spent_on = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    amount = forms.DecimalField(label=_("Amount, UAH"), max_digits=14, decimal_places=2)
    note = forms.CharField(label=_("What for"), max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        lean_form(self)


class MemberFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=[("", _("Any")), *MemberStatus.choices], required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        lean_form(self)


class TestSendForm(forms.Form):
    email = forms.EmailField(label=_("Send a test to"))
    member = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        lean_form(self)


def callers(user: User) -> QuerySet[User]:
    """Who a call list can go to: active sales staff (of the user's teams unless they see everything)."""
    qs = User.objects.filter(is_active=True, groups__name__in=[Role.SALES_REP, Role.SALES_MANAGER])
    if not (sees_all_marketing(user) or user.scope == Scope.ALL):
        qs = qs.filter(team__in=user.team_ids)
    return qs.order_by("full_name", "id").distinct()


class CallListForm(forms.Form):
    assignees = forms.ModelMultipleChoiceField(
        label=_("Callers"),
        queryset=User.objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_("The calls are shared out in turn."),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignees"].queryset = callers(user)
        lean_form(self)
