from __future__ import annotations

import calendar
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib.postgres.forms import SimpleArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import MONTHS
from django.utils.translation import gettext_lazy as _

from contacts.models import (
    Company,
    CompanyRole,
    Consent,
    ContactPointKind,
    Direction,
    Interaction,
    InteractionChannel,
    Person,
)
from contacts.selectors import assignable_owners
from contacts.services import (
    ATTACHMENT_MAX_BYTES,
    ATTACHMENT_MAX_FILES,
    ConsentInput,
    attachments_check,
)
from contacts.validators import validate_edrpou, validate_tax_number
from crm.models import User

# How many companies a company picker renders before the user types to search (a director sees 250k).
COMPANY_PICKER_SIZE = 50
PERSON_PICKER_SIZE = 300  # people of one company in the log form; a bigger company lists the first ones

# The direction an interaction has when the user leaves it empty.
CHANNEL_DIRECTION = {
    InteractionChannel.CALL_IN: Direction.INBOUND,
    InteractionChannel.EMAIL_IN: Direction.INBOUND,
    InteractionChannel.WEB_FORM: Direction.INBOUND,
    InteractionChannel.PORTAL: Direction.INBOUND,
    InteractionChannel.CALL_OUT: Direction.OUTBOUND,
    InteractionChannel.EMAIL_OUT: Direction.OUTBOUND,
}


def owner_choices(user: User | None, instance: Company | Person) -> QuerySet[User]:
    """Who a record can be handed to (see selectors.assignable_owners), plus its current owner."""
    users = assignable_owners(user) if user is not None else User.objects.filter(is_active=True)
    if instance.owner_id:
        users = users | User.objects.filter(pk=instance.owner_id)
    return users.order_by("full_name", "pk")


class CompanySelect(forms.Select):
    """A <select> of a few companies plus a search box that refills it (HTMX) from `contacts:company-options`."""

    template_name = "contacts/includes/company_select_widget.html"

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["widget"]["options_url"] = reverse("contacts:company-options")
        return context


def limit_choices(field: forms.ModelChoiceField, queryset: QuerySet, selected: Any, size: int) -> None:
    """Validate against the whole queryset but render only its first `size` rows (plus the selected one)."""
    field.queryset = queryset
    shown = list(queryset[:size])
    if selected not in (None, "") and str(selected).isdigit() and all(str(o.pk) != str(selected) for o in shown):
        shown = [*queryset.filter(pk=selected), *shown]
    field.widget.choices = [("", field.empty_label), *((o.pk, str(o)) for o in shown)]


class CompanyChoiceField(forms.ModelChoiceField):
    """Validates against every company the user sees, but renders only a bounded list of options."""

    widget = CompanySelect

    def limit_to(self, queryset: QuerySet[Company], selected: Any = None) -> None:
        limit_choices(self, queryset.order_by("name", "id"), selected, COMPANY_PICKER_SIZE)


def _selected(form: forms.BaseForm, name: str) -> Any:
    if form.is_bound:
        return form.data.get(form.add_prefix(name))
    value = form.initial.get(name)
    return getattr(value, "pk", value)


class CompanyForm(forms.ModelForm):
    roles = forms.MultipleChoiceField(
        label=_("Roles"), choices=CompanyRole.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    tags = SimpleArrayField(
        forms.CharField(max_length=50), label=_("Tags"), required=False, help_text=_("Comma-separated.")
    )
    interests = SimpleArrayField(
        forms.CharField(max_length=100), label=_("Product interests"), required=False, help_text=_("Comma-separated.")
    )
    website = forms.URLField(label=_("Website"), max_length=200, required=False, assume_scheme="https")

    class Meta:
        model = Company
        fields = [
            "name", "short_name", "legal_form", "edrpou", "tax_number", "roles", "status", "industry", "size",
            "region", "city", "legal_address", "delivery_address", "website", "source", "tags", "needs",
            "interests", "notes", "owner", "is_shared",
        ]  # fmt: skip
        widgets = {
            "legal_address": forms.Textarea(attrs={"rows": 2}),
            "delivery_address": forms.Textarea(attrs={"rows": 2}),
            "needs": forms.Textarea(attrs={"rows": 3}),
            "notes": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args: Any, user: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owner_choices(user, self.instance)
        if not self.instance.pk:
            self.fields["owner"].required = False
            self.fields["owner"].help_text = _("Empty: you.")

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())

    def clean_edrpou(self) -> str:
        code = self.cleaned_data["edrpou"].strip()
        if code:
            validate_edrpou(code)
        return code

    def clean_tax_number(self) -> str:
        value = self.cleaned_data["tax_number"].strip()
        if value:
            validate_tax_number(value)
        return value

    def clean_tags(self) -> list[str]:
        return sorted({tag.strip().lower() for tag in self.cleaned_data["tags"] if tag.strip()})

    def service_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for company_create / company_update."""
        data = dict(self.cleaned_data)
        if data.get("owner") is None:
            data.pop("owner", None)
        return data


CONSENT_STATES = [("", _("Not recorded")), ("granted", _("Given")), ("withdrawn", _("Withdrawn"))]


class PersonForm(forms.ModelForm):
    company = CompanyChoiceField(label=_("Company"), queryset=Company.objects.none(), required=False)
    birth_day = forms.IntegerField(label=_("Birthday: day"), min_value=1, max_value=31, required=False)
    birth_month = forms.TypedChoiceField(
        label=_("Birthday: month"),
        choices=[("", "—"), *MONTHS.items()],
        coerce=int,
        empty_value=None,
        required=False,
    )
    birth_year = forms.IntegerField(label=_("Birthday: year"), min_value=1900, required=False, help_text=_("Optional."))

    class Meta:
        model = Person
        fields = [
            "last_name", "first_name", "patronymic", "position", "company", "birth_day", "birth_month",
            "birth_year", "language", "preferred_channel", "notes", "owner", "is_shared",
        ]  # fmt: skip
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["company"].limit_to(Company.objects.visible_to(user), _selected(self, "company"))
        this_year = timezone.localdate().year
        self.fields["birth_year"].validators.append(MaxValueValidator(this_year))
        self.fields["birth_year"].widget.attrs["max"] = this_year
        self.fields["owner"].queryset = owner_choices(user, self.instance)
        if not self.instance.pk:
            self.fields["owner"].required = False
            self.fields["owner"].help_text = _("Empty: the company's owner.")
        existing = {c.channel: c for c in self.instance.consents.all()} if self.instance.pk else {}
        for channel, label in Consent.Channel.choices:
            consent = existing.get(channel)
            self.fields[f"consent_{channel}"] = forms.ChoiceField(
                label=_("Marketing consent: %(channel)s") % {"channel": label},
                choices=CONSENT_STATES,
                required=False,
                initial="" if consent is None else ("granted" if consent.is_granted else "withdrawn"),
            )
            self.fields[f"consent_{channel}_at"] = forms.DateTimeField(
                label=_("When (%(channel)s)") % {"channel": label},
                required=False,
                widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
                initial=timezone.localtime(consent.given_at) if consent else None,
                help_text=_("Empty: now."),
            )
            self.fields[f"consent_{channel}_source"] = forms.CharField(
                label=_("How (%(channel)s)") % {"channel": label},
                max_length=200,
                required=False,
                initial=consent.source if consent else "",
                help_text=_("E.g. signed form, web form, phone call."),
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        day, month, year = data.get("birth_day"), data.get("birth_month"), data.get("birth_year")
        if day is not None and month is None:
            self.add_error("birth_month", _("Enter the month as well, or leave the birthday empty."))
        elif month is not None and day is None:
            self.add_error("birth_day", _("Enter the day as well, or leave the birthday empty."))
        elif day is not None and month is not None:
            # Without a year, 29 February is a valid birthday (a leap year is assumed).
            last_day = calendar.monthrange(year or 2000, month)[1]
            if day > last_day:
                self.add_error(
                    "birth_day", _("%(month)s has only %(days)d days.") % {"month": MONTHS[month], "days": last_day}
                )
        if year is not None and month is None and "birth_month" not in self.errors:
            self.add_error("birth_year", _("A birth year needs the day and the month."))
        for channel in Consent.Channel.values:
            if data.get(f"consent_{channel}") and not data.get(f"consent_{channel}_source", "").strip():
                self.add_error(f"consent_{channel}_source", _("Say how the consent was given or withdrawn."))
        return data

    def consent_rows(self) -> list[tuple[forms.BoundField, forms.BoundField, forms.BoundField]]:
        """(state, when, how) bound fields per consent channel, for the template's grid."""
        return [
            (self[f"consent_{channel}"], self[f"consent_{channel}_at"], self[f"consent_{channel}_source"])
            for channel in Consent.Channel.values
        ]

    def consents(self) -> dict[str, ConsentInput | None]:
        result: dict[str, ConsentInput | None] = {}
        for channel in Consent.Channel.values:
            state = self.cleaned_data.get(f"consent_{channel}")
            result[channel] = (
                ConsentInput(
                    is_granted=state == "granted",
                    given_at=self.cleaned_data.get(f"consent_{channel}_at") or timezone.now(),
                    source=self.cleaned_data.get(f"consent_{channel}_source", ""),
                )
                if state
                else None
            )
        return result

    def service_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for person_create / person_update (model fields plus `consents`)."""
        data = {name: self.cleaned_data[name] for name in self._meta.fields if name in self.cleaned_data}
        if data.get("owner") is None:
            data.pop("owner", None)
        return {**data, "consents": self.consents()}


class EmploymentForm(forms.Form):
    company = CompanyChoiceField(label=_("Company"), queryset=Company.objects.none())
    position = forms.CharField(label=_("Position"), max_length=150, required=False)
    started_on = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    ended_on = forms.DateField(label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["company"].limit_to(Company.objects.visible_to(user), _selected(self, "company"))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        started, ended = data.get("started_on"), data.get("ended_on")
        if started and ended and ended < started:
            self.add_error("ended_on", _("The end date cannot be before the start date."))
        return data


class ContactPointForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), choices=ContactPointKind.choices)
    value = forms.CharField(label=_("Value"), max_length=300)
    label = forms.CharField(label=_("Label"), max_length=50, required=False)
    is_primary = forms.BooleanField(label=_("Primary"), required=False)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern); cleans to a list."""

    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        return [super(MultipleFileField, self).clean(item, initial) for item in files]


class InteractionForm(forms.ModelForm):
    channel = forms.ChoiceField(label=_("Channel"), choices=InteractionChannel.choices)
    direction = forms.ChoiceField(
        label=_("Direction"),
        choices=[("", _("From the channel")), (Direction.INBOUND, Direction.INBOUND.label),
                 (Direction.OUTBOUND, Direction.OUTBOUND.label)],
        required=False,
    )  # fmt: skip
    duration_minutes = forms.IntegerField(label=_("Duration, minutes"), min_value=0, max_value=24 * 60, required=False)
    attachments = MultipleFileField(label=_("Attachments"), required=False)

    class Meta:
        model = Interaction
        fields = ["channel", "person", "occurred_at", "subject", "body", "outcome"]
        widgets = {
            "occurred_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "body": forms.Textarea(attrs={"rows": 3}),
            "subject": forms.TextInput(attrs={"autofocus": True}),
        }

    def __init__(self, *args, company: Company, **kwargs):
        super().__init__(*args, **kwargs)
        self.company = company
        people = company.people.order_by("last_name", "first_name", "id")
        limit_choices(self.fields["person"], people, _selected(self, "person"), PERSON_PICKER_SIZE)
        self.fields["occurred_at"].required = False
        self.fields["occurred_at"].help_text = _("Empty: now.")
        self.fields["attachments"].help_text = _(
            "Up to %(count)d files of up to %(size)d MB: PDF, images, office documents, text, e-mails."
        ) % {"count": ATTACHMENT_MAX_FILES, "size": ATTACHMENT_MAX_BYTES // (1024 * 1024)}
        self.order_fields(["channel", "person", "subject", "occurred_at", "duration_minutes", "direction"])

    def clean_attachments(self) -> list[Any]:
        files = self.cleaned_data["attachments"]
        try:
            attachments_check(files)
        except ValidationError as error:
            raise ValidationError(error.message_dict["attachments"]) from None
        return files

    def service_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for interaction_log."""
        data = self.cleaned_data
        minutes = data.get("duration_minutes")
        return {
            "channel": data["channel"],
            "direction": data.get("direction") or CHANNEL_DIRECTION.get(data["channel"], Direction.NONE),
            "person": data.get("person"),
            "occurred_at": data.get("occurred_at"),
            "duration": timedelta(minutes=minutes) if minutes is not None else None,
            "subject": data["subject"],
            "body": data.get("body", ""),
            "outcome": data.get("outcome", ""),
            "attachments": data.get("attachments", []),
        }
