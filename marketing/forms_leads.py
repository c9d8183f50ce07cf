"""Forms of the lead list and card: input parsing only; marketing.services_leads decides the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from contacts.forms import _selected, limit_choices
from contacts.selectors import assignable_owners
from crm.lib.forms import lean_form
from crm.models import User
from deals.models import Product
from marketing.models import ConsentChannel, DisqualifyReason, Lead, LeadChannel

PICKER_SIZE = 100


class LeadForm(forms.ModelForm):
    """An appeal typed in by staff (a call, an e-mail, a visit at an event), or a lead's data edited on its card."""

    class Meta:
        model = Lead
        fields = [
            "channel", "source", "first_name", "last_name", "position", "company_name", "edrpou", "email", "phone",
            "region", "city", "product", "message", "owner",
        ]  # fmt: skip
        widgets = {"message": forms.Textarea(attrs={"rows": 4})}

    consent = forms.BooleanField(label=_("Agreed to marketing e-mails"), required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A staff appeal is never a web form; those come through the public page.
        self.fields["channel"].choices = [c for c in LeadChannel.choices if c[0] != LeadChannel.WEB_FORM]
        self.fields["channel"].initial = LeadChannel.CALL
        # edrpou: the model allows 10 characters so a typo is kept (with a warning) rather than refused.
        self.fields["email"].widget = forms.TextInput(attrs={"inputmode": "email", "autocomplete": "off"})
        self.fields["phone"].widget = forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"})
        limit_choices(
            self.fields["product"],
            Product.objects.filter(is_active=True).order_by("sku"),
            _selected(self, "product"),
            PICKER_SIZE,
        )
        self.fields["owner"].queryset = assignable_owners(user)
        if self.instance.pk:
            self.fields["owner"].required = True  # a lead without an owner falls out of its team's sight
            del self.fields["consent"]  # consent changes are recorded in the consent log, not edited
        else:
            self.fields["owner"].help_text = _("Empty: the assignment rules choose.")
        lean_form(self)

    def _post_clean(self) -> None:
        """Model validation is the service's (it keeps doubtful phones and e-mails with a warning)."""

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if data.get("owner") is None:
            data.pop("owner", None)
        return data


class ConvertForm(forms.Form):
    create_deal = forms.BooleanField(label=_("Open a deal as well"), required=False, initial=True)
    deal_title = forms.CharField(label=_("Deal title"), max_length=200, required=False)
    deal_amount = forms.DecimalField(
        label=_("Deal amount, UAH"), max_digits=14, decimal_places=2, min_value=0, required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, auto_id="convert_%s", **kwargs)
        lean_form(self)


class DisqualifyForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=[("", "---------"), *DisqualifyReason.choices])
    note = forms.CharField(label=_("Note"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, auto_id="disqualify_%s", **kwargs)
        self.fields["reason"].error_messages["required"] = _("Say why the lead is disqualified.")
        lean_form(self)


class ConsentForm(forms.Form):
    """A consent or withdrawal staff record for the lead's person (e.g. said on the phone)."""

    channel = forms.ChoiceField(label=_("Channel"), choices=ConsentChannel.choices)
    is_granted = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[("1", _("Agrees")), ("0", _("Withdraws"))],
        coerce=lambda value: value == "1",
    )
    source = forms.CharField(label=_("How"), max_length=200, help_text=_("E.g. said on the phone on 12.03."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, auto_id="consent_%s", **kwargs)
        lean_form(self)
