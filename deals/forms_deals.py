"""Forms of deals: create / edit (with the hidden version), lines, lose, move, board filters.

Forms only parse input; the rules (visibility, person of the company, stage of the pipeline, money)
live in deals/services_deals.py, whose ValidationErrors the views put next to these fields.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from contacts.forms import CompanyChoiceField
from contacts.models import Company, Person
from contacts.selectors import assignable_owners
from crm.lib.forms import lean_form
from crm.models import Team, User
from deals.models import Deal, DealLine, DealSource, LossReason, Pipeline, Product, Stage

PICKER_SIZE = 300  # options a person or owner <select> renders
PRODUCT_PICKER_SIZE = 50  # products a line's product <select> renders before the user searches
MONEY_ERRORS = {
    "max_decimal_places": _("Enter an amount with at most 2 decimal places."),
    "max_digits": _("The amount is too large."),
    "max_whole_digits": _("The amount is too large."),
    "invalid": _("Enter a number."),
}
DATE_WIDGET = {"attrs": {"type": "date"}, "format": "%Y-%m-%d"}


def _selected(form: forms.BaseForm, name: str) -> Any:
    """The chosen value of a field: the submitted one, else the initial one (an instance's pk)."""
    if form.is_bound:
        return form.data.get(form.add_prefix(name))
    value = form.initial.get(name)
    return getattr(value, "pk", value)


def _offer(field: forms.ModelChoiceField, parses: QuerySet, offered: QuerySet, selected: Any, size: int) -> None:
    """Validate against `parses` but render only the first rows of `offered` (plus the selected one)."""
    field.queryset = parses
    shown = list(offered[:size])
    if str(selected or "").isdigit() and all(str(o.pk) != str(selected) for o in shown):
        shown = [*parses.filter(pk=selected), *shown]
    field.widget.choices = [("", field.empty_label), *((o.pk, str(o)) for o in shown)]


def stage_choices(*, open_only: bool = True) -> list[tuple[str, list[tuple[int, str]]]]:
    """Stages grouped by pipeline (<optgroup>s), in board order."""
    groups: dict[int, tuple[str, list[tuple[int, str]]]] = {}
    stages = Stage.objects.select_related("pipeline").order_by("pipeline__order", "pipeline__name", "order", "pk")
    for stage in stages:
        if open_only and (stage.is_won or stage.is_lost):
            continue
        groups.setdefault(stage.pipeline_id, (stage.pipeline.name, []))[1].append((stage.pk, stage.name))
    return list(groups.values())


class DealForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=300, widget=forms.TextInput(attrs={"autofocus": True}))
    company = CompanyChoiceField(label=_("Company"), queryset=Company.objects.none())
    person = forms.ModelChoiceField(label=_("Contact person"), queryset=Person.objects.none(), required=False)
    stage = forms.ModelChoiceField(label=_("Pipeline and stage"), queryset=Stage.objects.none())
    owner = forms.ModelChoiceField(
        label=_("Owner"), queryset=User.objects.none(), required=False, help_text=_("Empty: you.")
    )
    amount = forms.DecimalField(
        label=_("Amount, UAH"),
        max_digits=14,
        decimal_places=2,
        min_value=0,
        required=False,
        error_messages={**MONEY_ERRORS, "min_value": _("The amount cannot be negative.")},
        help_text=_("Without lines the amount is entered by hand."),
    )
    probability = forms.IntegerField(
        label=_("Probability, %"), min_value=0, max_value=100, required=False, help_text=_("Empty: the stage's.")
    )
    expected_close_date = forms.DateField(
        label=_("Expected close"), required=False, widget=forms.DateInput(**DATE_WIDGET)
    )
    source = forms.ChoiceField(label=_("Source"), choices=[("", "—"), *DealSource.choices], required=False)
    competitor = forms.CharField(label=_("Competitor"), max_length=200, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, user: User, deal: Deal | None = None, **kwargs: Any) -> None:
        self.deal = deal
        if deal is not None:
            kwargs.setdefault("initial", self.initial_from(deal))
        super().__init__(*args, **kwargs)
        self.fields["company"].limit_to(Company.objects.visible_to(user), _selected(self, "company"))
        self.fields["company"].widget.attrs.update(
            {
                "hx-get": reverse("contacts:activity-person-options"),
                "hx-trigger": "change",
                "hx-target": "#id_person",
                "hx-swap": "innerHTML",
            }
        )
        company = _selected(self, "company")
        people = Person.objects.visible_to(user).order_by("last_name", "first_name", "id")
        offered = people.filter(company=company) if str(company or "").isdigit() else people.none()
        _offer(self.fields["person"], Person.objects.visible_to(user), offered, _selected(self, "person"), PICKER_SIZE)
        owners = assignable_owners(user)
        _offer(self.fields["owner"], User.objects.filter(is_active=True), owners, _selected(self, "owner"), PICKER_SIZE)
        open_only = deal is None or deal.status == "open"
        self.fields["stage"].queryset = (
            Stage.objects.filter(is_won=False, is_lost=False) if open_only else Stage.objects.all()
        )
        self.fields["stage"].widget.choices = [("", "---------"), *stage_choices(open_only=open_only)]
        if deal is None:
            del self.fields["version"]
        else:
            self.fields["owner"].required = True
            self.fields["owner"].help_text = ""
            self.fields["version"].required = True
            if deal.status != "open":
                self.fields["stage"].disabled = True
                self.fields["stage"].help_text = _("Reopen the deal to move it.")
            if deal.has_lines:
                self.fields["amount"].disabled = True
                self.fields["amount"].help_text = _("The sum of the lines.")

    @staticmethod
    def initial_from(deal: Deal) -> dict[str, Any]:
        return {
            "title": deal.title,
            "company": deal.company_id,
            "person": deal.person_id,
            "stage": deal.stage_id,
            "owner": deal.owner_id,
            "amount": deal.amount,
            "probability": deal.probability,
            "expected_close_date": deal.expected_close_date,
            "source": deal.source,
            "competitor": deal.competitor,
            "version": deal.version,
        }

    def service_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for deal_create / deal_update (the version travels separately)."""
        data = self.cleaned_data
        kwargs = {
            name: data.get(name)
            for name in ("title", "company", "person", "owner", "probability", "expected_close_date", "competitor")
        }
        kwargs["source"] = data.get("source") or ""
        kwargs["stage"] = data["stage"]
        kwargs["pipeline"] = data["stage"].pipeline
        if not self.fields["amount"].disabled:
            kwargs["amount"] = data.get("amount")
        if self.deal is not None and self.fields["stage"].disabled:
            kwargs.pop("stage")
            kwargs.pop("pipeline")
        if self.deal is None and kwargs["owner"] is None:
            kwargs.pop("owner")
        return kwargs


class ProductSelect(forms.Select):
    """A <select> of a few products plus a search box that refills it (HTMX) from `deals:product-options`."""

    template_name = "deals/includes/product_select_widget.html"

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["widget"]["options_url"] = reverse("deals:product-options")
        return context


class DealLineForm(forms.Form):
    product = forms.ModelChoiceField(label=_("Product"), queryset=Product.objects.none(), widget=ProductSelect)
    quantity = forms.DecimalField(
        label=_("Quantity"),
        max_digits=12,
        decimal_places=3,
        error_messages={
            "max_decimal_places": _("Enter a quantity with at most 3 decimal places."),
            "invalid": _("Enter a number."),
            "max_digits": _("The quantity is too large."),
            "max_whole_digits": _("The quantity is too large."),
        },
    )
    price = forms.DecimalField(
        label=_("Price, UAH"),
        max_digits=14,
        decimal_places=2,
        required=False,
        error_messages=MONEY_ERRORS,
        help_text=_("Empty: the catalogue price for this client."),
    )
    discount_percent = forms.DecimalField(
        label=_("Discount, %"),
        max_digits=5,
        decimal_places=2,
        required=False,
        error_messages={
            "max_decimal_places": _("Enter a discount with at most 2 decimal places."),
            "invalid": _("Enter a number."),
            "max_digits": _("A discount is between 0 and 100 %."),
            "max_whole_digits": _("A discount is between 0 and 100 %."),
        },
        help_text=_("Empty: the client's discount."),
    )

    def __init__(self, *args: Any, line: DealLine | None = None, **kwargs: Any) -> None:
        self.line = line
        if line is not None:
            kwargs.setdefault(
                "initial",
                {
                    "product": line.product_id,
                    "quantity": line.quantity.normalize(),
                    "price": line.price,
                    "discount_percent": line.discount_percent,
                },
            )
        super().__init__(*args, **kwargs)
        products = Product.objects.all() if line is not None else Product.objects.filter(is_active=True)
        offered = Product.objects.filter(is_active=True).order_by("name_uk", "pk")
        _offer(self.fields["product"], products, offered, _selected(self, "product"), PRODUCT_PICKER_SIZE)
        if line is not None:
            self.fields["price"].required = True
            self.fields["price"].help_text = ""
            self.fields["discount_percent"].help_text = ""
        # The services give the clearer message for these (quantity above zero, price not negative, …).
        for name in ("quantity", "price", "discount_percent"):
            self.fields[name].widget.attrs.update({"inputmode": "decimal", "step": "any"})

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "product": data["product"],
            "quantity": data["quantity"],
            "price": data.get("price"),
            "discount_percent": data.get("discount_percent"),
        }


class LoseForm(forms.Form):
    loss_reason = forms.ModelChoiceField(
        label=_("Why was it lost?"),
        queryset=LossReason.objects.none(),
        required=False,  # the service says "Choose why the deal was lost."
    )
    loss_comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    competitor = forms.CharField(label=_("Competitor"), max_length=200, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["loss_reason"].queryset = LossReason.objects.filter(is_active=True).order_by("name")
        lean_form(self)


class VersionForm(forms.Form):
    """Win and reopen: only the version the button was rendered with."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class MoveForm(forms.Form):
    """A kanban drop (or the card's stage picker): the target stage, the version, a loss reason when lost."""

    stage = forms.ModelChoiceField(
        queryset=Stage.objects.none(), error_messages={"invalid_choice": _("Choose a stage.")}
    )
    version = forms.IntegerField(required=False)
    loss_reason = forms.ModelChoiceField(queryset=LossReason.objects.none(), required=False)
    loss_comment = forms.CharField(required=False)
    competitor = forms.CharField(max_length=200, required=False)

    def __init__(self, *args: Any, pipeline: Pipeline, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["stage"].queryset = Stage.objects.filter(pipeline=pipeline)
        self.fields["loss_reason"].queryset = LossReason.objects.all()


class BoardFilterForm(forms.Form):
    """Filters of the kanban: owner, team, expected close range (rendered with components/field.html)."""

    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False)
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), required=False)
    close_from = forms.DateField(label=_("Expected close from"), required=False, widget=forms.DateInput(**DATE_WIDGET))
    close_to = forms.DateField(label=_("Expected close to"), required=False, widget=forms.DateInput(**DATE_WIDGET))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = assignable_owners(user)
        self.fields["team"].queryset = Team.objects.visible_to(user).order_by("name").only("id", "name")
        lean_form(self)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("close_from") and data.get("close_to") and data["close_from"] > data["close_to"]:
            self.add_error("close_to", _("The end date cannot be before the start date."))
        return data
