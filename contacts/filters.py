"""Filters of the company and person lists (django-filter) and the small forms of those list pages.

Every filter is served by an index (contacts/models.py): roles and tags by GIN, names by the trigram GIN
index on UPPER(name) / UPPER(full_name) that `icontains` emits, dates and last contact by btree.
The list-page forms (bulk actions, saved filter) live here beside the FilterSets, not in forms.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters.widgets import DateRangeWidget

from contacts.models import Company, CompanyRole, CompanyStatus, Industry, Person, Region, SavedFilter
from contacts.selectors import assignable_owners
from crm.lib.forms import lean_form
from crm.models import Team, User

KYIV = ZoneInfo("Europe/Kyiv")
NAME_MIN_LENGTH = 3  # shorter patterns make the trigram index useless (PLATFORM.md)
MAX_BULK_IDS = 100  # a bulk action touches at most one page (and a little more) of rows
MAX_QUERY_LENGTH = 2000  # SavedFilter.query max_length

SORT_CHOICES = [
    ("name", _("Name (A–Z)")),
    ("-name", _("Name (Z–A)")),
    ("-last_contact", _("Last contact (newest first)")),
    ("last_contact", _("Last contact (oldest first)")),
    ("-created", _("Created (newest first)")),
    ("created", _("Created (oldest first)")),
]
DEFAULT_SORT = "name"


class DaysFilter(django_filters.Filter):
    field_class = forms.IntegerField


class FilterForm(forms.Form):
    """Rendered field by field by the list template (components/field.html), not by crispy: it is on every page."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        lean_form(self)


@dataclass(frozen=True)
class ActiveFilter:
    """A filter in effect, as the list shows it above the rows: "Region: Kyiv ×"."""

    label: str
    value: str  # "" for a flag ("Birthday this month")
    remove_query: str  # the list's query string without this filter


def _day(moment: datetime | None) -> str:
    return timezone.localtime(moment, KYIV).strftime("%d.%m.%Y") if moment else ""


def _filter_value(field: forms.Field, value: Any) -> str:
    if isinstance(value, slice):  # a date range; either end may be open
        start, stop = _day(value.start), _day(value.stop)
        return f"{start} – {stop}" if start and stop else (f"≥ {start}" if start else f"≤ {stop}")
    if value is True:
        return ""
    if isinstance(field, forms.ChoiceField) and not isinstance(field, forms.ModelChoiceField):
        return str(dict(field.choices).get(value, value))
    return str(value)


def active_filters(
    filterset: django_filters.FilterSet, skip: set[str] | frozenset[str] = frozenset()
) -> list[ActiveFilter]:
    """The valid filters of a bound filterset in effect (but those in `skip`), each with the query that removes it."""
    if not filterset.is_bound or not filterset.form.is_valid():
        return []
    active = []
    for name, field in filterset.form.fields.items():
        value = filterset.form.cleaned_data.get(name)
        empty = value.start is None and value.stop is None if isinstance(value, slice) else value in (None, "", False)
        if name in skip or empty:
            continue
        rest = filterset.data.copy()
        for key in (name, *(f"{name}_{suffix}" for suffix in DateRangeWidget.suffixes), "cursor"):
            rest.pop(key, None)
        active.append(ActiveFilter(str(field.label), _filter_value(field, value), rest.urlencode()))
    return active


class ListFilterSet(django_filters.FilterSet):
    """Shared filters; subclasses map the company fields (people filter by their company's)."""

    company_prefix = ""  # "company__" for people

    q = django_filters.CharFilter(
        label=_("Name contains"), method="filter_name", min_length=NAME_MIN_LENGTH, max_length=100
    )
    role = django_filters.ChoiceFilter(label=_("Role"), choices=CompanyRole.choices, method="filter_role")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=CompanyStatus.choices, method="filter_company")
    region = django_filters.ChoiceFilter(label=_("Region"), choices=Region.choices, method="filter_company")
    city = django_filters.CharFilter(label=_("City"), method="filter_city", max_length=100)
    owner = django_filters.ModelChoiceFilter(label=_("Owner"), queryset=User.objects.none())
    team = django_filters.ModelChoiceFilter(label=_("Team"), queryset=Team.objects.none())
    tag = django_filters.CharFilter(label=_("Tag"), method="filter_tag", max_length=50)
    industry = django_filters.ModelChoiceFilter(
        label=_("Industry"), queryset=Industry.objects.order_by("name"), method="filter_company"
    )
    created = django_filters.DateFromToRangeFilter(
        label=_("Created (from – to)"), field_name="created_at", widget=DateRangeWidget(attrs={"type": "date"})
    )
    last_contact = django_filters.DateFromToRangeFilter(
        label=_("Last contact (from – to)"),
        field_name="last_contact_at",
        widget=DateRangeWidget(attrs={"type": "date"}),
    )
    no_contact_days = DaysFilter(
        label=_("No contact for (days)"), method="filter_no_contact", min_value=1, max_value=36500
    )
    sort = django_filters.ChoiceFilter(
        label=_("Sort by"), choices=SORT_CHOICES, method="filter_nothing", empty_label=None
    )

    class Meta:
        fields: list[str] = []
        form = FilterForm

    def __init__(self, data: QueryDict | None = None, *, user: User, **kwargs: Any) -> None:
        super().__init__(data, queryset=self.base_queryset(user), **kwargs)
        self.user = user
        self.filters["owner"].queryset = assignable_owners(user)
        self.filters["team"].queryset = Team.objects.visible_to(user).order_by("name")

    @classmethod
    def base_queryset(cls, user: User) -> QuerySet:
        raise NotImplementedError

    @property
    def current_sort(self) -> str:
        if not self.is_bound:  # no query string: no form to build (it copies every field's choices)
            return DEFAULT_SORT
        if self.form.is_valid() and self.form.cleaned_data.get("sort"):
            return self.form.cleaned_data["sort"]
        return DEFAULT_SORT

    def active_filters(self) -> list[ActiveFilter]:
        """The valid filters in effect (not the sort), each with the query that removes it."""
        return active_filters(self, skip={"sort"})

    def filter_nothing(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        return queryset  # `sort` is applied by the keyset paginator

    def filter_company(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        return queryset.filter(**{f"{self.company_prefix}{name}": value})

    def filter_role(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(**{f"{self.company_prefix}roles__contains": [value]})

    def filter_city(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(**{f"{self.company_prefix}city__iexact": value.strip()})

    def filter_tag(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # Tags are stored lower-cased (CompanyForm.clean_tags, company_bulk_tags).
        return queryset.filter(**{f"{self.company_prefix}tags__contains": [value.strip().lower()]})

    def filter_no_contact(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        since = timezone.now() - timedelta(days=value)
        return queryset.filter(Q(last_contact_at__lt=since) | Q(last_contact_at__isnull=True))

    def filter_name(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        raise NotImplementedError


class CompanyFilter(ListFilterSet):
    class Meta(ListFilterSet.Meta):
        model = Company

    @classmethod
    def base_queryset(cls, user: User) -> QuerySet[Company]:
        return Company.objects.visible_to(user)

    def filter_name(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # UPPER(name) LIKE UPPER(%s): served by contacts_company_name_trgm_idx.
        return queryset.filter(name__icontains=value.strip())


class PersonFilter(ListFilterSet):
    company_prefix = "company__"

    birthday_this_month = django_filters.BooleanFilter(
        label=_("Birthday this month"), widget=forms.CheckboxInput, method="filter_birthday"
    )

    class Meta(ListFilterSet.Meta):
        model = Person

    COMPANY_LABELS = {
        "role": _("Company role"),
        "status": _("Company status"),
        "region": _("Company region"),
        "city": _("Company city"),
        "tag": _("Company tag"),
        "industry": _("Company industry"),
    }

    def __init__(self, data: QueryDict | None = None, *, user: User, **kwargs: Any) -> None:
        super().__init__(data, user=user, **kwargs)
        for name, label in self.COMPANY_LABELS.items():
            self.filters[name].label = label

    @classmethod
    def base_queryset(cls, user: User) -> QuerySet[Person]:
        return Person.objects.visible_to(user)

    def filter_name(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # UPPER(full_name) LIKE UPPER(%s): served by contacts_person_name_trgm_idx.
        return queryset.filter(full_name__icontains=value.strip())

    def filter_birthday(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        if not value:
            return queryset
        return queryset.filter(birth_month=timezone.localtime(timezone.now(), KYIV).month)


FILTERSETS: dict[str, type[ListFilterSet]] = {
    SavedFilter.Target.COMPANY: CompanyFilter,
    SavedFilter.Target.PERSON: PersonFilter,
}


def list_filter(*, target: str, user: User, data: QueryDict | None) -> ListFilterSet:
    """The list's FilterSet over `visible_to(user)`; unbound (no filter) when `data` is empty."""
    return FILTERSETS[target](data if data else None, user=user)


def list_query(*, target: str, data: QueryDict) -> str:
    """The list's query string reduced to its filter parameters (no cursor, no empty values)."""
    filterset = FILTERSETS[target]
    names = set(filterset.base_filters)
    names |= {f"{name}_{suffix}" for name in ("created", "last_contact") for suffix in DateRangeWidget.suffixes}
    kept = QueryDict(mutable=True)
    for key in data:
        if key in names:
            values = [value for value in data.getlist(key) if value.strip()]
            if values:
                kept.setlist(key, values)
    return kept.urlencode()


class IdsField(forms.Field):
    """The checked rows: a bounded list of integer ids from repeated `ids` parameters."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": _("Select at least one row."),
        "invalid": _("The selection is not valid."),
        "too_many": _("Select at most %(limit)s rows."),
    }

    def to_python(self, value: Any) -> list[int]:
        if not value:
            return []
        try:
            ids = sorted({int(item) for item in value})
        except (TypeError, ValueError):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        if len(ids) > MAX_BULK_IDS:
            raise forms.ValidationError(
                self.error_messages["too_many"], code="too_many", params={"limit": MAX_BULK_IDS}
            )
        return ids


class BulkForm(forms.Form):
    """Bulk actions on the checked rows of one list page."""

    OWNER, TAG_ADD, TAG_REMOVE, EXPORT_CSV, EXPORT_XLSX = "owner", "tag_add", "tag_remove", "export_csv", "export_xlsx"
    ACTIONS = [
        (OWNER, _("Change owner")),
        (TAG_ADD, _("Add tag")),
        (TAG_REMOVE, _("Remove tag")),
        (EXPORT_CSV, _("Export to CSV")),
        (EXPORT_XLSX, _("Export to Excel")),
    ]

    action = forms.ChoiceField(label=_("Action"))
    owner = forms.ModelChoiceField(label=_("New owner"), queryset=User.objects.none(), required=False)
    tag = forms.CharField(label=_("Tag"), max_length=50, required=False)
    ids = IdsField(label=_("Selected rows"))
    query = forms.CharField(widget=forms.HiddenInput, required=False, max_length=MAX_QUERY_LENGTH)

    def __init__(self, *args: Any, user: User, target: str, **kwargs: Any) -> None:
        # Own ids: the filter form on the same page has `owner` and `tag` fields too.
        super().__init__(*args, auto_id="bulk_%s", **kwargs)
        self.target = target
        self.fields["owner"].queryset = assignable_owners(user)
        if target == SavedFilter.Target.PERSON:
            # People have no tags of their own: the person list offers owner change and export.
            self.fields["action"].choices = [c for c in self.ACTIONS if c[0] not in (self.TAG_ADD, self.TAG_REMOVE)]
            del self.fields["tag"]
        else:
            self.fields["action"].choices = self.ACTIONS
        lean_form(self)

    @property
    def controls(self) -> list[forms.BoundField]:
        """The fields the page shows; the row checkboxes supply `ids`."""
        return [self[name] for name in ("action", "owner", "tag") if name in self.fields]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        action = data.get("action")
        if action == self.OWNER and not data.get("owner"):
            self.add_error("owner", _("Choose the new owner."))
        if action in (self.TAG_ADD, self.TAG_REMOVE) and not (data.get("tag") or "").strip():
            self.add_error("tag", _("Enter a tag."))
        return data


class SavedFilterForm(forms.Form):
    name = forms.CharField(label=_("Filter name"), max_length=100)
    is_shared = forms.BooleanField(label=_("Share with my team"), required=False)
    target = forms.ChoiceField(choices=SavedFilter.Target.choices, widget=forms.HiddenInput)
    query = forms.CharField(widget=forms.HiddenInput, required=False, max_length=MAX_QUERY_LENGTH)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, auto_id="saved_filter_%s", **kwargs)
        lean_form(self)
