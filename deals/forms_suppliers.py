"""Forms of the supplier pages: profile, offer, purchase delivery and its receipt."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contacts.forms import limit_choices
from contacts.models import Region
from crm.lib.forms import lean_form
from deals.forms_catalogue import MONEY_ERRORS
from deals.models import Product, PurchaseDelivery, SupplierOffer, SupplierProfile

PRODUCT_PICKER_SIZE = 50
QUANTITY_ERRORS = {
    "max_decimal_places": _("Use at most 3 decimal places."),
    "max_digits": _("The quantity is too large."),
    "max_whole_digits": _("The quantity is too large."),
    "invalid": _("Enter a number such as 12.5."),
}


def date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CatalogueProductSelect(forms.Select):
    """A <select> of a few products plus a search box that refills it (HTMX) from `deals:catalogue-product-options`."""

    template_name = "deals/includes/catalogue_product_select.html"

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["widget"]["options_url"] = reverse("deals:catalogue-product-options")
        return context


class ProductChoiceField(forms.ModelChoiceField):
    """Validates against every product, but renders only a bounded list of options (5,000 products at L)."""

    widget = CatalogueProductSelect

    def limit_to(self, queryset: QuerySet[Product], selected: Any = None) -> None:
        limit_choices(self, queryset.order_by("name_uk", "pk"), selected, PRODUCT_PICKER_SIZE)


def _money(form: forms.BaseForm, *names: str) -> None:
    for name in names:
        form.fields[name].error_messages.update(MONEY_ERRORS)
        form.fields[name].widget.attrs.update({"step": "0.01", "min": "0", "inputmode": "decimal"})


def _quantity(form: forms.BaseForm, *names: str) -> None:
    for name in names:
        form.fields[name].error_messages.update(QUANTITY_ERRORS)
        form.fields[name].widget.attrs.update({"step": "any", "min": "0", "inputmode": "decimal"})


def _product_field(form: forms.BaseForm) -> None:
    field = form.fields["product"]
    assert isinstance(field, ProductChoiceField)
    selected = form.data.get(form.add_prefix("product")) if form.is_bound else form.initial.get("product")
    field.limit_to(Product.objects.all(), getattr(selected, "pk", selected))


class SupplierProfileForm(forms.ModelForm):
    delivery_regions = forms.MultipleChoiceField(
        label=_("Delivery regions"),
        choices=Region.choices,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )

    class Meta:
        model = SupplierProfile
        fields = ["delivery_terms", "payment_terms", "minimum_order", "delivery_regions", "promised_lead_days"]
        widgets = {
            "delivery_terms": forms.Textarea(attrs={"rows": 2}),
            "payment_terms": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        lean_form(self)
        _money(self, "minimum_order")


class _DatesOrdered:
    def clean(self) -> dict[str, Any]:
        data = super().clean()  # type: ignore[misc]
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end < start:
            self.add_error("valid_until", _("The end date cannot be before the start date."))  # type: ignore[attr-defined]
        return data


class SupplierOfferForm(_DatesOrdered, forms.ModelForm):
    product = ProductChoiceField(label=_("Product"), queryset=Product.objects.none())

    class Meta:
        model = SupplierOffer
        fields = ["product", "supplier_sku", "price", "currency", "lead_days", "valid_from", "valid_until"]
        widgets = {"valid_from": date_widget(), "valid_until": date_widget()}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        lean_form(self)
        if self.instance.pk:
            del self.fields["product"]  # an offer stays for its product: a new product is a new offer
        else:
            _product_field(self)
        _money(self, "price")
        self.fields["lead_days"].widget.attrs.update({"min": "0"})

    def clean_price(self) -> Any:
        price = self.cleaned_data.get("price")
        if price is not None and price < 0:
            raise ValidationError(_("The price cannot be negative."))
        return price


class PurchaseDeliveryForm(forms.ModelForm):
    product = ProductChoiceField(label=_("Product"), queryset=Product.objects.none())

    class Meta:
        model = PurchaseDelivery
        fields = ["product", "ordered_on", "promised_on", "quantity_ordered", "delivered_on", "quantity_received"]
        widgets = {"ordered_on": date_widget(), "promised_on": date_widget(), "delivered_on": date_widget()}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"ordered_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
        lean_form(self)
        _product_field(self)
        _quantity(self, "quantity_ordered", "quantity_received")
        self.fields["quantity_received"].required = False
        self.fields["quantity_received"].help_text = _("Leave empty until the goods arrive.")


class DeliveryReceiveForm(forms.Form):
    delivered_on = forms.DateField(label=_("Delivered"), widget=date_widget())
    quantity_received = forms.DecimalField(
        label=_("Quantity received"), max_digits=12, decimal_places=3, error_messages=QUANTITY_ERRORS
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        lean_form(self)
        self.fields["quantity_received"].widget.attrs.update({"step": "any", "min": "0", "inputmode": "decimal"})
