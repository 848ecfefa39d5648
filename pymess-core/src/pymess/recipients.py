"""Phone number normalisation to E.164."""

from __future__ import annotations

import phonenumbers

from pymess import config
from pymess.exceptions import InvalidRecipient


def normalize_recipient(recipient: object) -> str:
    """Return ``recipient`` in E.164 form (``+420777123456``) or raise :class:`InvalidRecipient`.

    Numbers written without a country code are read in ``PYMESS_SMS_DEFAULT_REGION``;
    ``PYMESS_SMS_ALLOWED_REGIONS``, when set, limits the countries pymess sends to.
    """
    if not isinstance(recipient, str) or not recipient.strip():
        raise InvalidRecipient(f"Recipient must be a phone number string, got {recipient!r}.")
    region = config.default_region()
    try:
        number = phonenumbers.parse(recipient, region)
    except phonenumbers.NumberParseException as exc:
        hint = (
            ""
            if region or recipient.strip().startswith("+")
            else (" Write it with a country code (+420...) or set PYMESS_SMS_DEFAULT_REGION.")
        )
        raise InvalidRecipient(f"{recipient!r} is not a phone number: {exc}.{hint}") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidRecipient(f"{recipient!r} is not a valid phone number.")
    allowed = config.allowed_regions()
    number_region = phonenumbers.region_code_for_number(number)
    if allowed is not None and number_region not in allowed:
        raise InvalidRecipient(
            f"{recipient!r} is a number in {number_region}, which is not in "
            f"PYMESS_SMS_ALLOWED_REGIONS ({', '.join(sorted(allowed))})."
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
