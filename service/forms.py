"""Forms of the ticket queue and card: input parsing only; the services decide the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from contacts.forms import CompanyChoiceField, _selected, limit_choices
from contacts.models import Company, Person
from crm.lib.forms import lean_form
from crm.models import Role, User
from deals.models import Contract, Order, Product
from service.models import Ticket, TicketCategory, TicketStatus
from service.services import TRANSITIONS

PICKER_SIZE = 50


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; the service checks type and size (contacts.services.attachments_check)."""

    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


class TicketForm(forms.ModelForm):
    """A ticket typed in by an agent (during a call) or its details edited on the card."""

    company = CompanyChoiceField(label=_("Company"), queryset=Company.objects.none(), required=False)

    class Meta:
        model = Ticket
        fields = [
            "company", "person", "channel", "category", "priority", "subject", "description",
            "contract", "order", "product",
        ]  # fmt: skip
        widgets = {"description": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A service agent answers any client who calls, not only the companies they own.
        agent = user.has_role(Role.SERVICE_AGENT)
        companies = Company.objects.all() if agent else Company.objects.visible_to(user)
        people = Person.objects.all() if agent else Person.objects.visible_to(user)
        self.fields["company"].limit_to(companies, _selected(self, "company"))
        company = _selected(self, "company")
        company_id = int(company) if str(company or "").isdigit() else None
        # The person, contract and order pickers list the chosen company's rows (the service checks them).
        limit_choices(
            self.fields["person"],
            people.filter(company_id=company_id).order_by("last_name", "first_name", "id")
            if company_id
            else people.order_by("last_name", "id"),
            _selected(self, "person"),
            PICKER_SIZE,
        )
        limit_choices(
            self.fields["contract"],
            Contract.objects.filter(company_id=company_id).order_by("-starts_on", "-id"),
            _selected(self, "contract"),
            PICKER_SIZE,
        )
        limit_choices(
            self.fields["order"],
            Order.objects.visible_to(user).filter(company_id=company_id).order_by("-created_at"),
            _selected(self, "order"),
            PICKER_SIZE,
        )
        limit_choices(
            self.fields["product"],
            Product.objects.filter(is_active=True).order_by("sku"),
            _selected(self, "product"),
            PICKER_SIZE,
        )
        self.fields["category"].queryset = TicketCategory.objects.filter(is_active=True)
        lean_form(self)

    def _post_clean(self) -> None:
        """Model validation is the service's (it reports links to other companies by field)."""

    def service_kwargs(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class MessageForm(forms.Form):
    """A public reply or an internal note on the card."""

    body = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 6}), max_length=50_000)
    is_note = forms.BooleanField(label=_("Internal note (the client does not see it)"), required=False)
    then_status = forms.ChoiceField(
        label=_("Then"),
        choices=[
            (TicketStatus.WAITING, _("wait for the client")),
            (TicketStatus.OPEN, _("keep it open")),
            (TicketStatus.RESOLVED, _("mark it resolved")),
        ],
        initial=TicketStatus.WAITING,
        required=False,
    )
    attachments = MultipleFileField(label=_("Attachments"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        lean_form(self)


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=TicketStatus.choices)
    comment = forms.CharField(label=_("Comment"), max_length=300, required=False)

    def __init__(self, *args: Any, ticket: Ticket, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        allowed = TRANSITIONS.get(ticket.status, set())
        self.fields["status"].choices = [(value, label) for value, label in TicketStatus.choices if value in allowed]
        lean_form(self)


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("Assignee"), queryset=User.objects.none(), required=False, empty_label=_("— team queue —")
    )

    def __init__(self, *args: Any, agents: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = agents
        lean_form(self)


class BulkAssignForm(AssignForm):
    tickets = forms.ModelMultipleChoiceField(queryset=Ticket.objects.none(), widget=forms.MultipleHiddenInput)

    def __init__(self, *args: Any, agents: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, agents=agents, **kwargs)
        self.fields["tickets"].queryset = Ticket.objects.visible_to(user)


class RatingForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("Your rating"),
        choices=[(n, str(n)) for n in range(5, 0, -1)],
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(label=_("Comment (optional)"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
