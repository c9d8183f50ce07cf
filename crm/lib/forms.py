"""Bootstrap classes and one-query choices for the small forms on list pages (filters, bulk actions, saved
filters), which render field by field with templates/components/field.html."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django import forms
from django.forms.models import ModelChoiceIterator
from django.forms.widgets import Input

CSS_BY_WIDGET: tuple[tuple[type[forms.Widget], str], ...] = (
    (forms.CheckboxInput, "form-check-input"),
    (forms.Select, "form-select"),  # also SelectMultiple and NullBooleanSelect
    (Input, "form-control"),
    (forms.Textarea, "form-control"),
)


class ListChoiceIterator(ModelChoiceIterator):
    """Choices of a short reference list (owners, teams, industries) from one plain query.

    The default iterates a server-side cursor: DECLARE, FETCH and CLOSE, three round trips per field.
    """

    def __iter__(self) -> Iterator[Any]:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in list(self.queryset):
            yield self.choice(obj)


def lean_form(form: forms.BaseForm) -> None:
    """Give every widget (and each part of a multi-widget) its Bootstrap class; fetch model choices in one query."""
    for field in form.fields.values():
        if isinstance(field, forms.ModelChoiceField):
            field.iterator = ListChoiceIterator
            field.widget.choices = field.choices  # the widget kept an iterator of the default class
        widgets = field.widget.widgets if isinstance(field.widget, forms.MultiWidget) else [field.widget]
        for widget in widgets:
            css = next((css for kind, css in CSS_BY_WIDGET if isinstance(widget, kind)), "")
            if css and css not in widget.attrs.get("class", ""):
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()
