"""Likely duplicates and the merge screen (issue 4, item 10)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from contacts.merge import MergeRow, company_merge, duplicate_pairs, merge_pair_get, merge_rows, merge_value
from contacts.models import Company

RADIO = {"class": "form-check-input"}


class CompanyMergeForm(forms.Form):
    """Which record survives and, for each differing field, whose value it keeps."""

    survivor = forms.TypedChoiceField(label=gettext_lazy("Record to keep"), coerce=int, widget=forms.RadioSelect(RADIO))

    def __init__(self, *args: Any, first: Company, second: Company, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.first, self.second = first, second
        self.fields["survivor"].choices = [(first.pk, f"#{first.pk}"), (second.pk, f"#{second.pk}")]
        self.fields["survivor"].initial = min(first.pk, second.pk)  # the older record, by default
        self.rows: list[tuple[forms.BoundField, MergeRow]] = []
        for row in merge_rows(first, second):
            choices = [("first", row.first), ("second", row.second)]
            if row.combined is not None:
                choices.append(("combined", row.combined))
            self.fields[row.name] = forms.ChoiceField(
                label=row.label, choices=choices, initial=row.initial, widget=forms.RadioSelect(RADIO)
            )
            self.rows.append((self[row.name], row))

    def merge_args(self) -> dict[str, Any]:
        """Keyword arguments for company_merge (without the actor)."""
        keep_first = self.cleaned_data["survivor"] == self.first.pk
        values = {
            row.name: merge_value(self.first, self.second, row.name, self.cleaned_data[row.name])
            for _bound, row in self.rows
        }
        survivor, duplicate = (self.first, self.second) if keep_first else (self.second, self.first)
        return {"survivor": survivor, "duplicate": duplicate, "values": values}

    def add_service_error(self, error: ValidationError) -> None:
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for name, errors in error.error_dict.items():
            self.add_error(name if name in self.fields else None, errors)


def _int_param(request: HttpRequest, name: str) -> int | None:
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() and len(value) < 19 else None


@login_required
@require_http_methods(["GET"])
@vary_on_headers("HX-Request")
def duplicate_list(request: HttpRequest) -> HttpResponse:
    before = _int_param(request, "before")
    pairs, next_cursor = duplicate_pairs(user=request.user, before=before)
    template = "contacts/duplicate_list.html#duplicate-page" if request.htmx else "contacts/duplicate_list.html"
    return render(request, template, {"pairs": pairs, "next_cursor": next_cursor, "before": before})


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def company_merge_view(request: HttpRequest) -> HttpResponse:
    first_pk, second_pk = _int_param(request, "a"), _int_param(request, "b")
    if first_pk is None or second_pk is None:
        raise Http404
    if first_pk == second_pk:
        messages.error(request, _("A company cannot be merged with itself."))
        return redirect("contacts:duplicate-list")
    first, second = merge_pair_get(user=request.user, first_pk=first_pk, second_pk=second_pk)
    form = CompanyMergeForm(request.POST if request.method == "POST" else None, first=first, second=second)
    if form.is_bound and form.is_valid():
        try:
            survivor = company_merge(actor=request.user, **form.merge_args())
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, _("The companies were merged into %(name)s.") % {"name": survivor})
            url = reverse("contacts:company-detail", args=[survivor.pk])
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    template = "contacts/merge_form.html#merge-form" if request.htmx else "contacts/merge_form.html"
    return render(request, template, {"form": form, "first": first, "second": second})


urlpatterns = [
    path("duplicates/", duplicate_list, name="duplicate-list"),
    path("merge/", company_merge_view, name="company-merge"),
]
