"""Pure checks and normalisation for Ukrainian company codes, phones and e-mails."""

from __future__ import annotations

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

DEFAULT_REGION = "UA"


def edrpou_is_valid(code: str) -> bool:
    """The EDRPOU check digit (State Statistics Service algorithm)."""
    if not re.fullmatch(r"[0-9]{8}", code):
        return False
    digits = [int(c) for c in code]
    weights = [1, 2, 3, 4, 5, 6, 7] if not 30_000_000 <= int(code) <= 60_000_000 else [7, 1, 2, 3, 4, 5, 6]
    check = sum(d * w for d, w in zip(digits, weights, strict=False)) % 11
    if check >= 10:
        check = sum(d * (w + 2) for d, w in zip(digits, weights, strict=False)) % 11
        if check >= 10:
            check = 0
    return check == digits[7]


def validate_edrpou(code: str) -> None:
    if not re.fullmatch(r"[0-9]{8}", code):
        raise ValidationError(_("The EDRPOU code has exactly 8 digits."), code="edrpou_format")
    if not edrpou_is_valid(code):
        raise ValidationError(_("This EDRPOU code has a wrong check digit: check it for a typo."), code="edrpou")


def validate_tax_number(value: str) -> None:
    if not re.fullmatch(r"[0-9]{10}|[0-9]{12}", value):
        raise ValidationError(_("A tax number has 10 digits (a person) or 12 digits (a VAT payer)."), code="tax")


def normalize_phone(value: str) -> str:
    """E.164 with Ukraine as the default region; raises ValidationError with a readable message."""
    try:
        number = phonenumbers.parse(value, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise ValidationError(_("This does not look like a phone number."), code="phone") from None
    if not phonenumbers.is_possible_number(number):
        raise ValidationError(_("This phone number has too few or too many digits."), code="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_digits(value: str) -> str:
    """Digits of what a user typed, for a search: a full number in any format, or its last digits.

    A national number ("067 123 45 67") becomes its international digits (380671234567), so it
    matches stored E.164 numbers; anything shorter than a full number stays as typed.
    """
    digits = re.sub(r"\D", "", value)
    if len(digits) >= 9:
        try:
            number = phonenumbers.parse(value, DEFAULT_REGION)
            if phonenumbers.is_possible_number(number):
                return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164).lstrip("+")
        except phonenumbers.NumberParseException:
            pass
    return digits


def normalize_email(value: str) -> str:
    value = value.strip().lower()
    validate_email(value)
    return value
