"""Forms of the knowledge base: the search / filter bar and the article form (input parsing only; the
article service validates the model and writes)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.lib.forms import lean_form
from deals.forms_suppliers import ProductChoiceField
from deals.models import Product
from service.models import KnowledgeArticle, TicketCategory
from service.selectors_kb import QUERY_MAX_LENGTH

MAX_PRODUCTS = 50
_SKU_SEPARATORS = re.compile(r"[\s,;]+")


class KbSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=QUERY_MAX_LENGTH,
        widget=forms.TextInput(
            attrs={"type": "search", "autocomplete": "off", "placeholder": _("Problem, symptom, error text…")}
        ),
    )
    category = forms.ModelChoiceField(
        label=_("Category"), required=False, queryset=TicketCategory.objects.filter(is_active=True).order_by("name")
    )
    product = ProductChoiceField(label=_("Product"), required=False, queryset=Product.objects.none())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        lean_form(self)
        selected = self.data.get("product") if self.is_bound else None
        self.fields["product"].limit_to(Product.objects.all(), selected)  # type: ignore[attr-defined]

    def search_kwargs(self) -> dict[str, Any]:
        """The selector's arguments from the valid fields (an unknown category or product is ignored)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        category, product = data.get("category"), data.get("product")
        return {
            "query": data.get("q") or "",
            "category_id": category.pk if category else None,
            "product_id": product.pk if product else None,
        }


class ArticleForm(forms.ModelForm):
    products = forms.CharField(
        label=_("Products"),
        required=False,
        help_text=_("SKUs of the products the article is about, separated by commas or spaces."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    class Meta:
        model = KnowledgeArticle
        fields = [
            "title_uk",
            "title_en",
            "problem_uk",
            "problem_en",
            "symptoms_uk",
            "symptoms_en",
            "solution_uk",
            "solution_en",
            "category",
            "is_public",
            "is_published",
        ]
        widgets = {
            name: forms.Textarea(attrs={"rows": rows})
            for name, rows in (
                ("problem_uk", 3),
                ("problem_en", 3),
                ("symptoms_uk", 3),
                ("symptoms_en", 3),
                ("solution_uk", 8),
                ("solution_en", 8),
            )
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = TicketCategory.objects.order_by("name")  # type: ignore[attr-defined]
        if self.instance.pk and not self.is_bound:
            skus = self.instance.products.order_by("sku").values_list("sku", flat=True)
            self.initial["products"] = ", ".join(skus)
        lean_form(self)

    def _post_clean(self) -> None:
        """Model validation is the service's (its errors come back keyed by field)."""

    def clean_products(self) -> list[Product]:
        skus = list(dict.fromkeys(sku for sku in _SKU_SEPARATORS.split(self.cleaned_data["products"]) if sku))
        if len(skus) > MAX_PRODUCTS:
            raise forms.ValidationError(_("At most %(count)d products.") % {"count": MAX_PRODUCTS})
        products = list(Product.objects.filter(sku__in=skus))
        unknown = set(skus) - {product.sku for product in products}
        if unknown:
            raise forms.ValidationError(_("No product with the SKU %(skus)s.") % {"skus": ", ".join(sorted(unknown))})
        return products

    def service_kwargs(self) -> dict[str, Any]:
        return dict(self.cleaned_data)
