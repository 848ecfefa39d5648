"""Helpers for testing code that receives Twilio status callbacks.

Build a validly signed callback, the way Twilio would send it, and post it
with Django's test client::

    from pymess_twilio.testing import post_status_callback

    response = post_status_callback(client, message.external_id, "delivered")
    assert response.status_code == 204
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from twilio.request_validator import RequestValidator

from pymess_twilio.views import SIGNATURE_HEADER


def callback_params(
    message_sid: str,
    status: str,
    *,
    account_sid: str = "",
    error_code: str | int | None = None,
    to: str = "",
    from_: str = "",
) -> dict[str, str]:
    """The form fields of a Twilio message status callback."""
    params = {
        "MessageSid": message_sid,
        "SmsSid": message_sid,
        "MessageStatus": status,
        "SmsStatus": status,
        "AccountSid": account_sid,
        "To": to,
        "From": from_,
        "ApiVersion": "2010-04-01",
    }
    if error_code is not None:
        params["ErrorCode"] = str(error_code)
    return params


def sign(url: str, params: dict[str, str], auth_token: str) -> str:
    """The ``X-Twilio-Signature`` Twilio would send for a POST of ``params`` to ``url``."""
    return str(RequestValidator(auth_token).compute_signature(url, params))


def signed_callback(
    url: str, params: dict[str, str], auth_token: str
) -> tuple[dict[str, str], dict[str, str]]:
    """``(data, headers)`` for a callback POST.

    Pass them on as ``client.post(path, data, headers=headers)``.
    """
    return params, {SIGNATURE_HEADER: sign(url, params, auth_token)}


def post_status_callback(
    client: Any,
    message_sid: str,
    status: str,
    *,
    alias: str = "default",
    path: str | None = None,
    url: str | None = None,
    auth_token: str | None = None,
    **fields: Any,
) -> Any:
    """POST a validly signed status callback with Django's test ``client``; returns the response.

    The signature uses the ``STATUS_CALLBACK_URL`` and ``AUTH_TOKEN`` of the
    Twilio backend ``alias`` unless ``url`` / ``auth_token`` are given (pass
    other values to build forged requests). The request goes to ``path``,
    by default the path of the signed URL.
    """
    from pymess.backend.sms.registry import get_backend

    backend = get_backend(alias)
    url = url or backend.options["STATUS_CALLBACK_URL"]
    auth_token = auth_token or backend.options["AUTH_TOKEN"]
    if not url:
        raise ValueError(f"SMS backend {alias!r} has no STATUS_CALLBACK_URL; pass url=...")
    fields.setdefault("account_sid", backend.options.get("ACCOUNT_SID", ""))
    data, headers = signed_callback(url, callback_params(message_sid, status, **fields), auth_token)
    return client.post(path or urlsplit(url).path, data, headers=headers)
