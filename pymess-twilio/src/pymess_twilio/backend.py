"""The Twilio backend: ``client.messages.create`` per message, states from status callbacks.

Status mapping (Twilio ``status`` → pymess state), for the create response and
for status callbacks alike:

==============================  ================  =============================================
Twilio status                   pymess state      why
==============================  ================  =============================================
``accepted``, ``queued``,       ``SENDING``       Twilio has the message but has not handed it
``scheduled``                                     to a carrier yet
``sending``, ``sent``           ``SENT``          handed to the carrier
``delivered``, ``read``         ``DELIVERED``     the handset (or the app) confirmed it
``undelivered``, ``failed``     ``ERROR``         final in Twilio: nothing more will come, so
                                                  ``ERROR`` (not ``ERROR_UPDATE``, which would
                                                  wait for a report that never arrives)
``canceled``                    ``ERROR``         a scheduled message was cancelled
anything else                   (unchanged)       recorded in ``extra_sender_data["status"]``
                                                  and logged; never a crash, never a resend
==============================  ================  =============================================

pymess owns retries; the SDK's HTTP client is built without retries, with one
connection pool per backend instance sized to ``PYMESS_SMS_WORKER_THREADS``.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from requests.adapters import HTTPAdapter
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from pymess import config
from pymess.backend.sms.base import SMSBackend, parse_retry_after
from pymess.enums import OutputSMSMessageState as State
from pymess.exceptions import PermanentSendError, RateLimitedError, TemporarySendError

if TYPE_CHECKING:
    from pymess.models.sms import OutputSMSMessage

logger = logging.getLogger("pymess.backend.twilio")

#: Twilio message status → pymess state (see the module docstring).
STATUS_STATES: dict[str, str] = {
    "accepted": State.SENDING,
    "queued": State.SENDING,
    "scheduled": State.SENDING,
    "sending": State.SENT,
    "sent": State.SENT,
    "delivered": State.DELIVERED,
    "read": State.DELIVERED,
    "undelivered": State.ERROR,
    "failed": State.ERROR,
    "canceled": State.ERROR,
}

#: Error codes that will fail the same way however often the message is retried.
PERMANENT_CODES = frozenset(
    {
        20003,  # authentication failed (wrong ACCOUNT_SID / AUTH_TOKEN)
        20404,  # resource not found (wrong account or messaging service)
        21211,  # invalid 'To' number
        21408,  # no permission to send to this region
        21606,  # the 'From' number cannot send SMS
        21610,  # the recipient opted out (replied STOP)
        21612,  # cannot route to this number
        21614,  # 'To' is not a mobile number
        21617,  # body too long
    }
)
RATE_LIMIT_CODES = frozenset({20429, 14107})


class PooledTwilioHttpClient(TwilioHttpClient):
    """The SDK's HTTP client with a connection pool of ``pool_size`` and no retries.

    It also remembers each thread's last response, so a 429 can be retried
    after the ``Retry-After`` the SDK's exception does not carry.
    """

    def __init__(self, *, pool_size: int, timeout: float) -> None:
        super().__init__(pool_connections=True, timeout=timeout)
        adapter = HTTPAdapter(pool_maxsize=pool_size, max_retries=0)
        assert self.session is not None
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.pool_size = pool_size
        self._local = threading.local()

    def request(self, *args: Any, **kwargs: Any) -> Response:
        self._local.response = None
        response = super().request(*args, **kwargs)
        self._local.response = response
        return response

    def last_response(self) -> Response | None:
        """The response this thread received last (``None`` after a transport error)."""
        return getattr(self._local, "response", None)


class TwilioSMSBackend(SMSBackend):
    """Sends SMS with the official twilio SDK; receives states via :mod:`pymess_twilio.views`.

    Options (``PYMESS_TWILIO_SMS_CONFIG``): ``ACCOUNT_SID``, ``AUTH_TOKEN``
    (required), ``SENDER`` (the ``From`` number or alphanumeric id) and/or
    ``MESSAGING_SERVICE_SID`` (at least one), ``STATUS_CALLBACK_URL`` (the public
    URL of the callback view; callbacks are requested and verified only when
    set), ``BASE_URL`` (send to a proxy or a local fake instead of
    ``https://api.twilio.com``), ``TIMEOUT`` (seconds).
    """

    import_path = "pymess.backend.sms.twilio.TwilioSMSBackend"
    config_setting = "PYMESS_TWILIO_SMS_CONFIG"
    options_spec = {
        "ACCOUNT_SID": SMSBackend.REQUIRED,
        "AUTH_TOKEN": SMSBackend.REQUIRED,
        "SENDER": "",
        "MESSAGING_SERVICE_SID": "",
        "STATUS_CALLBACK_URL": "",
        "BASE_URL": "",
        "TIMEOUT": 10,
    }
    supports_status_callbacks = True
    supports_sender_id = True

    @classmethod
    def option_problems(cls, options: Mapping[str, Any]) -> list[str]:
        problems = super().option_problems(options)
        if not options.get("SENDER") and not options.get("MESSAGING_SERVICE_SID"):
            problems.append("set SENDER (the From number) or MESSAGING_SERVICE_SID.")
        for key in ("STATUS_CALLBACK_URL", "BASE_URL"):
            value = options.get(key)
            if value and urlsplit(str(value)).scheme not in ("http", "https"):
                problems.append(f"{key} must be an absolute http(s) URL, not {value!r}.")
        return problems

    # -- the client ----------------------------------------------------------------------------

    @property
    def client(self) -> Client:
        """The twilio client, built once per backend instance and shared by worker threads."""
        client: Client = self.get_client()
        return client

    def build_client(self) -> Client:
        http_client = PooledTwilioHttpClient(
            pool_size=config.worker_threads(), timeout=self.timeout()
        )
        sid = self.options["ACCOUNT_SID"]
        client = Client(sid, self.options["AUTH_TOKEN"], account_sid=sid, http_client=http_client)
        base_url = self.options["BASE_URL"]
        if base_url:
            # Edge/region only rewrite *.twilio.com hosts; with BASE_URL they must not apply.
            client.edge = None
            client.region = None
            client.api.base_url = str(base_url).rstrip("/")
        # Build the SDK's lazy attributes now, under the lock, not racily on worker threads.
        _ = client.messages
        return client

    @property
    def http_client(self) -> PooledTwilioHttpClient:
        http_client = self.client.http_client
        assert isinstance(http_client, PooledTwilioHttpClient)
        return http_client

    def close_client(self, client: Client) -> None:
        """Release the pooled HTTP session of the SDK's client."""
        session = getattr(client.http_client, "session", None)
        if session is not None:
            session.close()

    # -- sending -------------------------------------------------------------------------------

    def create_params(self, message: OutputSMSMessage) -> dict[str, Any]:
        params: dict[str, Any] = {"to": message.recipient, "body": message.content}
        if self.options["SENDER"]:
            params["from_"] = self.options["SENDER"]
        if self.options["MESSAGING_SERVICE_SID"]:
            params["messaging_service_sid"] = self.options["MESSAGING_SERVICE_SID"]
        if self.options["STATUS_CALLBACK_URL"]:
            params["status_callback"] = self.options["STATUS_CALLBACK_URL"]
        return params

    def publish_message(self, message: OutputSMSMessage) -> None:
        client = self.client
        try:
            resource = client.messages.create(**self.create_params(message))
        except TwilioRestException as exc:
            raise self.classify_error(exc.status, exc.code, exc.msg) from exc
        except TwilioServiceException as exc:
            raise self.classify_error(exc.status, exc.code, exc.detail or exc.title) from exc
        except TwilioException as exc:
            raise TemporarySendError(f"Twilio SDK error: {type(exc).__name__}") from exc
        except requests.Timeout as exc:
            raise TemporarySendError(
                f"Twilio did not answer within {self.timeout():g} s (TIMEOUT)."
            ) from exc
        except requests.RequestException as exc:
            raise TemporarySendError(f"Cannot reach Twilio: {type(exc).__name__}: {exc}") from exc
        except json.JSONDecodeError as exc:
            # Twilio said yes (2xx) with a body we cannot read: it has probably taken the
            # message, so resending could deliver it twice.
            mark_unknown(message, f"Twilio accepted the request but its answer is not JSON: {exc}")
            return

        if not resource.sid:
            mark_unknown(message, "Twilio accepted the request but returned no message sid.")
            return
        status = str(resource.status or "")
        state = STATUS_STATES.get(status)
        if state is None:
            logger.warning(
                "Twilio returned unknown status %r for message %s (sid %s); recorded as SENDING.",
                status,
                message.pk,
                resource.sid,
            )
            state = State.SENDING
        message.sender = str(self.options["SENDER"] or "")
        self.mark_sent(
            message,
            state,
            external_id=resource.sid,
            status=status,
            num_segments=_int_or_none(resource.num_segments),
            price=resource.price,
            price_unit=resource.price_unit,
        )
        if state == State.ERROR:
            message.error = status_error(status, resource.error_code, resource.error_message)

    def classify_error(self, status: int | None, code: int | None, text: str | None) -> Exception:
        """The pymess send error for a Twilio error response."""
        status = int(status or 0)
        detail = f"Twilio error {code} (HTTP {status}): {text or 'no message'}"
        if status == 429 or code in RATE_LIMIT_CODES:
            response = self.http_client.last_response()
            header = response.headers.get("Retry-After") if response is not None else None
            return RateLimitedError(detail, code=code, retry_after=parse_retry_after(header))
        if code in PERMANENT_CODES:
            return PermanentSendError(detail, code=code)
        if status >= 500 or status == 0:
            return TemporarySendError(detail, code=code)
        # Any other 4xx: the request itself is wrong and would fail the same way again.
        return PermanentSendError(detail, code=code)

    # -- status callbacks ----------------------------------------------------------------------

    def is_valid_callback(self, url_params: Any, signature: str) -> bool:
        """Whether ``signature`` signs ``url_params`` for our configured ``STATUS_CALLBACK_URL``.

        The public URL from the settings is used, not the one Django sees, so TLS
        terminators and proxies in front of the site do not break validation.
        """
        url = self.options["STATUS_CALLBACK_URL"]
        if not url or not signature:
            return False
        return bool(
            RequestValidator(self.options["AUTH_TOKEN"]).validate(url, url_params, signature)
        )

    def record_status(self, message: OutputSMSMessage, status: str, error_code: str = "") -> bool:
        """Store a status Twilio reported for ``message``; ``True`` if its state changed.

        Goes through :func:`pymess.states.change_state`, so a state never moves
        backwards (a late ``sent`` after ``delivered`` changes nothing) and a repeated
        report fires no hook.
        """
        from pymess.states import change_state

        state = STATUS_STATES.get(status)
        if state is None:
            logger.warning(
                "Twilio reported unknown status %r for message %s; state left as %s.",
                status,
                message.pk,
                message.state,
            )
            state = message.state
        fields: dict[str, Any] = {
            "extra_sender_data": {**(message.extra_sender_data or {}), "status": status}
        }
        if state == State.ERROR:
            fields["error"] = status_error(status, error_code or None, None)
        return change_state(message, state, **fields)


def status_error(status: str, code: Any, text: str | None) -> str:
    described = f"Twilio reported the message {status}"
    if code:
        described += f" (error {code}"
        described += f": {text})" if text else ")"
    return described + "."


def mark_unknown(message: OutputSMSMessage, reason: str) -> None:
    """The provider may or may not have taken the message: record ``UNKNOWN``, never resend."""
    logger.warning("Twilio: outcome of message %s unknown: %s", message.pk, reason)
    message.state = State.UNKNOWN
    message.sent_at = timezone.now()
    message.error = reason


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def configured_backends() -> list[TwilioSMSBackend]:
    """The Twilio backends of every configured alias (for routing status callbacks)."""
    from pymess.backend.sms.registry import get_backend, resolve_backend_class

    backends = []
    for alias, definition in config.sms_backends().items():
        try:
            backend_class = resolve_backend_class(str(definition["BACKEND"]))
            if not issubclass(backend_class, TwilioSMSBackend):
                continue
            backend = get_backend(alias)
        except ImproperlyConfigured as exc:
            logger.warning("SMS backend %r is unusable for Twilio callbacks: %s", alias, exc)
            continue
        assert isinstance(backend, TwilioSMSBackend)
        backends.append(backend)
    return backends
