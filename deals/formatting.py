"""Display strings for rows rendered by the dozen (board cards, deal and order lists).

`{{ amount|floatformat:"2g" }}` looks the active language's separators up on every call and the template
engine resolves each variable through several lookups; a 50-row table of them cost more than the rest of
the page. Selectors format once with the separators read once per page (`Money()`), the templates print
plain attributes.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.utils import numberformat
from django.utils.formats import get_format

CENT = Decimal("0.01")


class Money:
    """Amounts as `|floatformat:"2g"` prints them in the active language ("1 234,50" in Ukrainian)."""

    def __init__(self) -> None:
        self.decimal_sep = get_format("DECIMAL_SEPARATOR")
        self.thousand_sep = get_format("THOUSAND_SEPARATOR")
        self.grouping = get_format("NUMBER_GROUPING")

    def __call__(self, value: Decimal | int | None) -> str:
        if value is None:
            return ""
        return numberformat.format(
            Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP),
            self.decimal_sep,
            decimal_pos=2,
            grouping=self.grouping,
            thousand_sep=self.thousand_sep,
            force_grouping=True,
            use_l10n=True,
        )


def day(value: date | None) -> str:
    """A date as `|date:"d.m.Y"` prints it; "" for none."""
    return value.strftime("%d.%m.%Y") if value else ""
