"""Lean rendering for the small forms on every list page (filters, bulk actions, saved filters).

They are rendered field by field with templates/components/field.html instead of crispy-forms, whose
field template costs ~1 ms per field and made these forms the larger part of a list page.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django import forms
from django.forms.models import ModelChoiceIterator
from django.forms.renderers import TemplatesSetting
from django.forms.widgets import Input
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

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


# Django's templates of a plain <input> (text.html, date.html, ... each includes input.html).
INPUT_KINDS = ("input", "text", "number", "email", "url", "tel", "search", "password", "hidden", "checkbox", "date")
INPUT_TEMPLATES = frozenset(f"django/forms/widgets/{kind}.html" for kind in (*INPUT_KINDS, "datetime", "time", "color"))


def html_attrs(attrs: dict[str, Any]) -> str:
    """Attributes as django/forms/widgets/attrs.html writes them: in order, True bare, False left out."""
    return "".join(
        f" {name}" if value is True else f' {name}="{conditional_escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


class FastRenderer(TemplatesSetting):
    """The project's form renderer (settings.FORM_RENDERER): plain <input>s are written in Python.

    Rendering input.html through the template engine costs ~0.1 ms a field; the list filter forms have a
    dozen. Every other widget and form template renders as usual (project templates first).
    """

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        if template_name in INPUT_TEMPLATES:
            widget = context["widget"]
            value = "" if widget["value"] is None else f' value="{conditional_escape(widget["value"])}"'
            name = conditional_escape(widget["name"])
            return f'<input type="{widget["type"]}" name="{name}"{value}{html_attrs(widget["attrs"])}>'
        return super().render(template_name, context, request)


class FastSelect(forms.Select):
    """A <select> written in Python: Django's option dicts and template cost ~40 µs an option,
    3 ms for the 70 owners of a bulk-action form."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        final_attrs = self.build_attrs(self.attrs, attrs)
        if self.allow_multiple_selected:
            final_attrs["multiple"] = True
        selected = set(self.format_value(value))
        parts = [f'<select name="{conditional_escape(name)}"{html_attrs(final_attrs)}>']
        found = False

        def option(option_value: Any, label: Any) -> str:
            nonlocal found
            text = "" if option_value is None else str(option_value)
            is_selected = text in selected and (self.allow_multiple_selected or not found)
            found = found or is_selected
            mark = " selected" if is_selected else ""
            return f'<option value="{conditional_escape(text)}"{mark}>{conditional_escape(label)}</option>'

        for option_value, label in self.choices:
            if isinstance(label, (list, tuple)):
                parts.append(f'<optgroup label="{conditional_escape(option_value)}">')
                parts.extend(option(value_, label_) for value_, label_ in label)
                parts.append("</optgroup>")
            else:
                parts.append(option(option_value, label))
        parts.append("</select>")
        return mark_safe("".join(parts))


class FastSelectMultiple(FastSelect, forms.SelectMultiple):
    pass


def _fast_select(widget: forms.Select) -> FastSelect:
    fast = (FastSelectMultiple if isinstance(widget, forms.SelectMultiple) else FastSelect)(
        attrs=widget.attrs, choices=widget.choices
    )
    fast.is_required, fast.is_localized = widget.is_required, widget.is_localized
    return fast


def lean_form(form: forms.BaseForm) -> None:
    """Give every widget (and each part of a multi-widget) its Bootstrap class, plain selects the fast
    renderer; fetch model choices in one query."""
    for field in form.fields.values():
        if isinstance(field, forms.ModelChoiceField):
            field.iterator = ListChoiceIterator
            field.widget.choices = field.choices  # the widget kept an iterator of the default class
        if type(field.widget) in (forms.Select, forms.SelectMultiple):
            field.widget = _fast_select(field.widget)
        widgets = field.widget.widgets if isinstance(field.widget, forms.MultiWidget) else [field.widget]
        for widget in widgets:
            css = next((css for kind, css in CSS_BY_WIDGET if isinstance(widget, kind)), "")
            if css and css not in widget.attrs.get("class", ""):
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()
