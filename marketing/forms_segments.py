"""Forms of the target groups: create (from a saved filter), edit, add / remove members, export options.

Input parsing only; the services in marketing/services_segments.py check the rules and write.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from contacts.models import SavedFilter
from crm.lib.forms import lean_form
from crm.models import Team, User
from marketing.models import Segment, SegmentKind, SegmentTarget
from marketing.selectors_segments import saved_filters_for

_ID_SEPARATORS = re.compile(r"[\s,;]+")


class SavedFilterChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: SavedFilter) -> str:
        return f"{obj.get_target_display()}: {obj.name}"


class SegmentCreateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=150)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )
    saved_filter = SavedFilterChoiceField(
        label=_("Saved filter"),
        required=False,
        queryset=SavedFilter.objects.none(),
        help_text=_("A filter saved on the company or people list; the group is the rows that list gives for it."),
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=SegmentKind.choices,
        initial=SegmentKind.DYNAMIC,
        help_text=_("Dynamic follows the filter as the data changes; static freezes today's rows into a list."),
    )
    target = forms.ChoiceField(
        label=_("List"),
        choices=SegmentTarget.choices,
        initial=SegmentTarget.PERSON,
        help_text=_("For a static list without a filter: companies or people."),
    )
    team = forms.ModelChoiceField(label=_("Team"), required=False, queryset=Team.objects.none())

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["saved_filter"].queryset = saved_filters_for(user=user)  # type: ignore[attr-defined]
        self.fields["team"].queryset = Team.objects.order_by("name")  # type: ignore[attr-defined]
        lean_form(self)

    def service_kwargs(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class SegmentUpdateForm(forms.ModelForm):
    class Meta:
        model = Segment
        fields = ["name", "description", "team"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.order_by("name")  # type: ignore[attr-defined]
        lean_form(self)

    def _post_clean(self) -> None:
        """Model validation is the service's (its errors come back keyed by field)."""

    def service_kwargs(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class SegmentFreezeForm(forms.Form):
    name = forms.CharField(label=_("Name of the static copy"), max_length=150, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, auto_id="freeze_%s", **kwargs)
        lean_form(self)


class SegmentMembersForm(forms.Form):
    ADD, REMOVE = "add", "remove"

    action = forms.ChoiceField(choices=[(ADD, _("Add")), (REMOVE, _("Remove"))], widget=forms.HiddenInput)
    ids = forms.CharField(
        label=_("Ids"),
        max_length=20_000,
        help_text=_("Ids of companies or people (as the group's list), separated by commas or spaces."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, auto_id="members_%s", **kwargs)
        lean_form(self)

    def clean_ids(self) -> list[int]:
        parts = [part for part in _ID_SEPARATORS.split(self.cleaned_data["ids"]) if part]
        if not parts or not all(part.isdigit() and len(part) <= 18 for part in parts):
            raise forms.ValidationError(_("Enter whole numbers separated by commas or spaces."))
        return [int(part) for part in parts]


class SegmentExportForm(forms.Form):
    format = forms.ChoiceField(label=_("Format"), choices=[("csv", "CSV"), ("xlsx", "Excel (XLSX)")], initial="csv")
    consented_only = forms.BooleanField(label=_("Only people who agreed to e-mails"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, auto_id="export_%s", **kwargs)
        lean_form(self)
