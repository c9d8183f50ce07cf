"""Forms of the catalogue pages: list filters, the product form, the "price for a company" lookup."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contacts.forms import CompanyChoiceField
from contacts.models import Company
from crm.lib.forms import lean_form
from crm.models import User
from deals.models import Category, Product
from deals.selectors_catalogue import CategoryTree
from deals.services_catalogue import product_image_check

MONEY_ERRORS = {
    "max_decimal_places": _("Use at most 2 decimal places (kopecks)."),
    "max_digits": _("The amount is too large."),
    "max_whole_digits": _("The amount is too large."),
    "invalid": _("Enter an amount such as 1250.50."),
}
ACTIVE_CHOICES = [("", _("All")), ("1", _("Active")), ("0", _("Inactive"))]


class ProductFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Name or SKU"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("3+ letters of the name, or the exact SKU")}),
    )
    category = forms.TypedChoiceField(label=_("Category"), required=False, coerce=int, empty_value=None)
    active = forms.ChoiceField(label=_("Status"), choices=ACTIVE_CHOICES, required=False)

    def __init__(self, *args: Any, tree: CategoryTree, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("All categories")), *tree.choices()]
        lean_form(self)

    def active_value(self) -> bool | None:
        value = self.cleaned_data.get("active") if self.is_bound and self.is_valid() else ""
        return {"1": True, "0": False}.get(value or "")


class ProductImageInput(forms.ClearableFileInput):
    """A file input showing the current image through deals:product-image (media files are not served)."""

    template_name = "deals/includes/product_image_widget.html"
    image_url = ""

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["widget"]["image_url"] = self.image_url
        return context


class ProductForm(forms.ModelForm):
    # A plain FileField: the content check (Pillow, JPEG/PNG/WebP, 2 MB) gives our own clear message.
    image = forms.FileField(
        label=_("Image"),
        required=False,
        help_text=_("JPEG, PNG or WebP, up to 2 MB."),
        widget=ProductImageInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )

    class Meta:
        model = Product
        fields = [
            "sku", "name_uk", "name_en", "description_uk", "description_en", "category", "unit", "base_price",
            "vat_rate", "stock_quantity", "is_active", "image",
        ]  # fmt: skip
        widgets = {
            "description_uk": forms.Textarea(attrs={"rows": 4}),
            "description_en": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args: Any, tree: CategoryTree, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        lean_form(self)  # first: it resets choice widgets, and the category <select> gets the tree below
        category = self.fields["category"]
        assert isinstance(category, forms.ModelChoiceField)
        category.queryset = Category.objects.all()
        category.widget.choices = [("", "---------"), *tree.choices()]
        price = self.fields["base_price"]
        price.error_messages.update(MONEY_ERRORS)
        price.widget.attrs.update({"step": "0.01", "min": "0.01", "inputmode": "decimal"})
        self.fields["stock_quantity"].widget.attrs.update({"min": "0"})
        if self.instance.pk and self.instance.image:
            self.fields["image"].widget.image_url = reverse("deals:product-image", args=[self.instance.pk])

    def clean_base_price(self) -> Decimal:
        price = self.cleaned_data["base_price"]
        if price is not None and price <= 0:
            raise ValidationError(_("The price must be above zero."))
        return price

    def clean_stock_quantity(self) -> Decimal | None:
        stock = self.cleaned_data.get("stock_quantity")
        if stock is not None and stock < 0:
            raise ValidationError(_("The stock cannot be negative."))
        return stock

    def clean_image(self) -> Any:
        image = self.cleaned_data.get("image")
        if isinstance(image, UploadedFile):
            try:
                product_image_check(image)
            except ValidationError as error:
                raise ValidationError(error.message_dict["image"]) from None
        return image

    def service_kwargs(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        image = data.get("image")
        if not isinstance(image, UploadedFile) and image is not False:
            data.pop("image", None)  # nothing uploaded, nothing cleared: keep the current image
        return data


class PriceLookupForm(forms.Form):
    """The product card's "price for a company": a company the user sees and a date (today by default)."""

    company = CompanyChoiceField(label=_("Company"), queryset=Company.objects.none())
    on = forms.DateField(label=_("On"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"on": timezone.localdate()})
        super().__init__(*args, **kwargs)
        lean_form(self)  # first: limit_to then renders only a bounded list of companies
        selected = self.data.get("company") if self.is_bound else None
        self.fields["company"].limit_to(Company.objects.visible_to(user), selected)  # type: ignore[attr-defined]

    def clean_on(self) -> date:
        on = self.cleaned_data["on"]
        if on.year < 2000 or on.year > 2100:
            raise ValidationError(_("Choose a date between 2000 and 2100."))
        return on
