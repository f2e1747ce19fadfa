"""Phone numbers in E.164 form, as the SMS adapters take them."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from adapters.base import field_error

# E.164: "+", a country code that never starts with 0, at most 15 digits in
# all. Fewer than 8 digits is no mobile number anywhere.
E164 = re.compile(r"\+[1-9]\d{7,14}")
# Separators people paste along with a number; they carry no meaning.
_SEPARATORS = re.compile(r"[\s().-]")


def clean_phone_number(value: str, field: str) -> str:
    """Return `value` as an E.164 number ("+8613800138000"), or raise.

    Spaces, dots, dashes and parentheses are dropped; anything else that is
    not E.164 raises `ValidationError` keyed by `field`, saying what is wrong.
    """
    value = (value or "").strip()
    if "@" in value:
        raise field_error(
            field,
            _(
                "This is an email address; an SMS channel needs a phone number "
                "in E.164 form, such as +14155550100."
            ),
        )

    number = _SEPARATORS.sub("", value)
    if E164.fullmatch(number):
        return number
    if number.isdigit():
        raise field_error(
            field,
            _(
                "Start the number with + and its country code, such as "
                "+8613800138000 or +14155550100."
            ),
        )
    raise field_error(
        field, _("Expected one phone number in E.164 form: + and 8 to 15 digits.")
    )
