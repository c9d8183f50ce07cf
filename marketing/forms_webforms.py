"""Forms of web-to-lead: the staff form that configures a web form, and the public form a visitor fills in."""

from __future__ import annotations

import hmac
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from contacts.forms import _selected, limit_choices
from contacts.models import Region
from crm.lib.forms import lean_form
from crm.models import Team, User
from deals.models import Product
from marketing.models import Campaign, FormField, Lead, WebForm

HONEYPOT = "website"  # a field people never see (hidden by CSS) and bots fill in
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
PRODUCTS_SHOWN = 100


class WebFormForm(forms.ModelForm):
    fields = forms.MultipleChoiceField(
        label=_("Fields"), choices=FormField.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    required_fields = forms.MultipleChoiceField(
        label=_("Required fields"), choices=FormField.choices, widget=forms.CheckboxSelectMultiple, required=False
    )

    class Meta:
        model = WebForm
        fields = [
            "name", "slug", "title", "intro", "fields", "required_fields", "consent_text", "thank_you_text",
            "team", "campaign", "source", "is_published",
        ]  # fmt: skip
        widgets = {
            "intro": forms.Textarea(attrs={"rows": 3}),
            "consent_text": forms.Textarea(attrs={"rows": 3}),
            "thank_you_text": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.order_by("name")
        limit_choices(
            self.fields["campaign"], Campaign.objects.visible_to(user).order_by("-id"), _selected(self, "campaign"), 200
        )
        self.fields["slug"].help_text = _("The form's address: /marketing/forms/<address>/ (letters, digits, dashes).")
        self.fields["consent_text"].help_text = _("Changing the text starts a new version: the consent log names it.")
        lean_form(self)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        chosen, required = set(data.get("fields") or []), set(data.get("required_fields") or [])
        if required - chosen:
            self.add_error("required_fields", _("A required field must be one of the form's fields."))
        if not chosen & {FormField.EMAIL, FormField.PHONE}:
            self.add_error("fields", _("Ask for an e-mail or a phone, or the lead cannot be answered."))
        return data

    def _post_clean(self) -> None:
        """Model validation is the service's."""

    def service_kwargs(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class PublicLeadForm(forms.Form):
    """The hosted / embedded form: the web form's fields, its consent box, the token, a honeypot, UTM tags."""

    token = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)
    referrer = forms.CharField(widget=forms.HiddenInput, max_length=2000, required=False)

    def __init__(self, *args: Any, web_form: WebForm, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.web_form = web_form
        for name in web_form.fields:
            field = self._field(name)
            if field is None:
                continue
            field.required = name in web_form.required_fields
            self.fields[name] = field
        if web_form.consent_text:
            self.fields["consent"] = forms.BooleanField(label=web_form.consent_text, required=False)
        for key in UTM_KEYS:
            self.fields[key] = forms.CharField(widget=forms.HiddenInput, max_length=100, required=False)
        self.fields[HONEYPOT] = forms.CharField(
            label=_("Leave this field empty"), required=False, max_length=500,
            widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
        )  # fmt: skip
        lean_form(self)

    @staticmethod
    def _field(name: str) -> forms.Field | None:
        if name == FormField.EMAIL:
            return forms.CharField(label=_("E-mail"), max_length=254, widget=forms.EmailInput)
        if name == FormField.PHONE:
            return forms.CharField(label=_("Phone"), max_length=32, widget=forms.TextInput(attrs={"type": "tel"}))
        if name == FormField.REGION:
            return forms.ChoiceField(label=_("Region"), choices=[("", "---------"), *Region.choices])
        if name == FormField.PRODUCT:
            field = forms.ModelChoiceField(
                label=_("Product of interest"), queryset=Product.objects.filter(is_active=True).order_by("name_uk")
            )
            field.widget.choices = [("", "---------"), *((p.pk, p.name_uk) for p in field.queryset[:PRODUCTS_SHOWN])]
            return field
        if name == FormField.MESSAGE:
            return forms.CharField(label=_("Message"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4}))
        if name in FormField.values:
            model_field = Lead._meta.get_field(name)
            return forms.CharField(label=FormField(name).label, max_length=model_field.max_length)
        return None

    @property
    def is_bot(self) -> bool:
        """The honeypot was filled in (read before is_valid: a bot's post may be invalid in other ways too)."""
        return bool(str(self.data.get(HONEYPOT, "")).strip())

    @property
    def token_ok(self) -> bool:
        return hmac.compare_digest(str(self.data.get("token", "")), self.web_form.token)

    @property
    def visible_fields_list(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name not in (HONEYPOT, "consent") and not self[name].is_hidden]

    def lead_data(self) -> dict[str, Any]:
        data = {name: self.cleaned_data.get(name) for name in self.web_form.fields if name in self.fields}
        data = {name: value for name, value in data.items() if value not in (None, "")}
        data["consent"] = bool(self.cleaned_data.get("consent"))
        data["referrer"] = self.cleaned_data.get("referrer", "")
        return data

    def utm(self) -> dict[str, str]:
        return {key: self.cleaned_data.get(key, "") for key in UTM_KEYS}
