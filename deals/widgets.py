"""Widgets of the sales filter forms, which are on every board and list page.

`InlineSelect` writes its options in Python. Even with the options inline in the select template
(templates/django/forms/widgets/select.html), each option costs a loop over its attributes and two filters
in the template engine: the board's owner filter (every active user for a director, ~200) cost more than
the whole board of cards.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# What a user's option label (str(user): full name, else e-mail) reads: filter forms load only these columns.
OWNER_LABEL = ("id", "full_name", "email")


class InlineSelect(forms.Select):
    """A single select with Django's markup (attributes, `selected` on the first matching option), no optgroups."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        selected = set(self.format_value(value))
        parts = [f'<select name="{escape(name)}"{flatatt(self.build_attrs(self.attrs, attrs))}>']
        for option_value, label in self.choices:
            if isinstance(label, (list, tuple)):  # a group of options: Django's template handles it
                return super().render(name, value, attrs, renderer)
            option = "" if option_value is None else str(option_value)
            mark = ""
            if option in selected:
                mark = " selected"
                selected = set()  # only the first match, like Select.optgroups
            parts.append(f'<option value="{escape(option)}"{mark}>{escape(label)}</option>')
        return mark_safe("\n  ".join(parts) + "\n</select>")  # the name, values and labels are escaped above
