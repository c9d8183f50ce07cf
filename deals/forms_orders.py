"""Forms of orders and contracts: input parsing and field checks only; the services decide the rules."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from contacts.forms import CompanyChoiceField, _selected, limit_choices
from contacts.models import Company
from crm.lib.forms import lean_form
from crm.models import User
from deals.models import Contract, ContractStatus, FailureReason, Order, OrderStatus, PaymentStatus, Product
from deals.services_orders import check_discount, check_price, check_quantity

PRODUCT_PICKER_SIZE = 50
LINE_ROWS = 5  # blank rows of the order form; more lines are added on the card while the order is new


class ProductSelect(forms.Select):
    """A <select> of a few products plus a search box that refills it (HTMX) from `deals:order-product-options`."""

    template_name = "deals/includes/order_product_select.html"

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["widget"]["options_url"] = reverse("deals:order-product-options")
        return context


def product_options(*, query: str, limit: int = PRODUCT_PICKER_SIZE) -> QuerySet[Product]:
    """Active products by SKU or name (3+ letters: the trigram index on UPPER(name_uk)), else the first by SKU."""
    query = " ".join(query.split())
    qs = Product.objects.filter(is_active=True)
    if len(query) >= 3:
        qs = qs.filter(Q(sku__iexact=query) | Q(name_uk__icontains=query))
    elif query:
        qs = qs.filter(sku__iexact=query)
    return qs.order_by("sku")[:limit]


class ProductChoiceField(forms.ModelChoiceField):
    """Validates against every active product, renders only a bounded list (plus the selected one)."""

    widget = ProductSelect

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(queryset=Product.objects.none(), **kwargs)

    def limit_to(self, selected: Any, shown: list[Product] | None = None) -> None:
        """`shown`: the first products, fetched once for all the rows of a formset."""
        queryset = Product.objects.filter(is_active=True).order_by("sku")
        self.queryset = queryset
        shown = list(queryset[:PRODUCT_PICKER_SIZE]) if shown is None else shown
        if selected not in (None, "") and str(selected).isdigit() and all(str(p.pk) != str(selected) for p in shown):
            shown = [*queryset.filter(pk=selected), *shown]
        self.widget.choices = [("", self.empty_label), *((p.pk, str(p)) for p in shown)]


def _service_check(check: Any, value: Any) -> Any:
    """Run a services_orders check on a form value; its message becomes the field's."""
    try:
        return check(value)
    except ValidationError as error:
        raise ValidationError([m for ms in error.message_dict.values() for m in ms]) from None


class DecimalInput(forms.DecimalField):
    """A number typed the Ukrainian way too: "1 234,5" means 1234.5 (a comma is never a thousands separator here)."""

    def to_python(self, value: Any) -> Decimal | None:
        if isinstance(value, str):
            value = value.strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
        return super().to_python(value)


class LineFieldsMixin(forms.Form):
    quantity = DecimalInput(label=_("Quantity"), widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    price = DecimalInput(
        label=_("Price without VAT"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text=_("Empty: from the client's price list."),
    )
    discount_percent = DecimalInput(
        label=_("Discount, %"), required=False, widget=forms.TextInput(attrs={"inputmode": "decimal"})
    )

    def clean_quantity(self) -> Decimal:
        return _service_check(check_quantity, self.cleaned_data["quantity"])

    def clean_price(self) -> Decimal | None:
        value = self.cleaned_data.get("price")
        return None if value is None else _service_check(check_price, value)

    def clean_discount_percent(self) -> Decimal | None:
        value = self.cleaned_data.get("discount_percent")
        return None if value is None else _service_check(check_discount, value)


class OrderLineForm(LineFieldsMixin):
    product = ProductChoiceField(label=_("Product"))

    def __init__(
        self, *args: Any, company_id: int | None = None, shown: list[Product] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product"].limit_to(_selected(self, "product"), shown)
        # Picking a product (or refilling the picker by a search) asks for its price for the client.
        values = {"prefix": self.prefix or "", **({"company": company_id} if company_id else {})}
        self.fields["product"].widget.attrs.update(
            {
                "hx-get": reverse("deals:order-line-quote"),
                "hx-trigger": "change, htmx:afterSwap",
                "hx-target": f"#{self.prefix}-pricing",
                "hx-swap": "outerHTML",
                "hx-vals": json.dumps(values),
                **({} if company_id else {"hx-include": "#id_company"}),
            }
        )
        self.order_fields(["product", "quantity", "price", "discount_percent"])
        lean_form(self)


class LineEditForm(LineFieldsMixin):
    """Edit one line of a new order: the product stays."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["price"].required = True
        self.fields["price"].help_text = ""
        lean_form(self)


class BaseLineFormSet(forms.BaseFormSet):
    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        if not hasattr(self, "_shown"):
            self._shown = list(Product.objects.filter(is_active=True).order_by("sku")[:PRODUCT_PICKER_SIZE])
        return {**super().get_form_kwargs(index), "shown": self._shown}

    def clean(self) -> None:
        if any(self.errors):
            return
        if not self.lines():
            raise ValidationError(_("Add at least one product."))

    def lines(self) -> list[tuple[Product, Decimal, Decimal | None, Decimal | None]]:
        return [
            (f.cleaned_data["product"], f.cleaned_data["quantity"], f.cleaned_data.get("price"),
             f.cleaned_data.get("discount_percent"))
            for f in self.forms
            if f.cleaned_data and f.cleaned_data.get("product")
        ]  # fmt: skip


LineFormSet = forms.formset_factory(
    OrderLineForm, formset=BaseLineFormSet, extra=LINE_ROWS, max_num=50, absolute_max=50, validate_max=True
)


class OrderForm(forms.Form):
    company = CompanyChoiceField(label=_("Company"), queryset=Company.objects.none())
    expected_date = forms.DateField(
        label=_("Expected delivery"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["company"].limit_to(Company.objects.visible_to(user), _selected(self, "company"))
        lean_form(self)


class OrderEditForm(forms.ModelForm):
    class Meta:
        model = Order
        fields = ["person", "expected_date", "comment"]
        widgets = {
            "expected_date": forms.DateInput(attrs={"type": "date"}),
            "comment": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people = self.instance.company.people.order_by("last_name", "first_name", "id")
        limit_choices(self.fields["person"], people, _selected(self, "person"), 300)
        lean_form(self)


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=OrderStatus.choices, widget=forms.HiddenInput)
    reason = forms.ModelChoiceField(
        label=_("Reason"), queryset=FailureReason.objects.filter(is_active=True).order_by("name"), required=False
    )
    comment = forms.CharField(
        label=_("Comment"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        lean_form(self)


class PaymentForm(forms.Form):
    payment_status = forms.ChoiceField(label=_("Payment"), choices=PaymentStatus.choices)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        lean_form(self)


# --- contracts ----------------------------------------------------------------------------------------------


class ContractForm(forms.ModelForm):
    company = CompanyChoiceField(label=_("Company"), queryset=Company.objects.none())

    class Meta:
        model = Contract
        fields = ["company", "number", "starts_on", "ends_on", "amount", "status", "service_level", "signed_file"]
        widgets = {
            "starts_on": forms.DateInput(attrs={"type": "date"}),
            "ends_on": forms.DateInput(attrs={"type": "date"}),
            "amount": forms.TextInput(attrs={"inputmode": "decimal"}),
            "signed_file": forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
        }

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["company"].limit_to(Company.objects.visible_to(user), _selected(self, "company"))
        self.fields["status"].choices = ContractStatus.choices
        lean_form(self)

    def _post_clean(self) -> None:
        """Model validation is the service's (it reports unique numbers and dates by field)."""

    def service_kwargs(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        upload = data.pop("signed_file", None)
        if upload is False:  # "clear" ticked
            data["signed_file"] = None
        elif isinstance(upload, UploadedFile):
            data["signed_file"] = upload
        return data
