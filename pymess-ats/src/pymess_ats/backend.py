"""The ATS backend: XML over HTTP POST, several messages per request, delivery by polling.

Outcomes recorded for a send request (see ``docs/backends/ats.rst``):

* a per-message ``<code uniq="…">`` sets the state from :mod:`pymess_ats.codes`;
  an unknown code gives ``ERROR_UPDATE`` with the code in ``error`` - never a
  crash and never a resend (a state check may still resolve it);
* a request-level ``<code>`` (no ``uniq``) that is an error fails the whole request:
  100 (authentication) is a :class:`~pymess.exceptions.PermanentSendError` logged
  as a configuration problem; 701/702/705 mean pymess sent XML ATS cannot read
  and are logged at ERROR level;
* a message the answer does not mention, and every message of an answer that
  cannot be read (malformed, over the size cap, or carrying a DTD/entities),
  becomes ``UNKNOWN`` with the reason in ``error``: ATS may have taken it, so it
  is not re-sent, and the next state check settles it.

ATS has no message id of its own: ``external_id`` is the ``uniq`` pymess sent
(``UNIQ_PREFIX-pk``), which is also what state requests ask about.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lxml import etree

from pymess.backend.sms.base import chunked, pk_from_uniq_id, uniq_id
from pymess.backend.sms.http import HTTPSMSBackend
from pymess.backend.sms.xml import UnreadableResponse, element_text, parse_response, serialize
from pymess.enums import OutputSMSMessageState as State
from pymess.exceptions import PermanentSendError, SendError, TemporarySendError
from pymess_ats import codes

if TYPE_CHECKING:
    from pymess.models.sms import OutputSMSMessage

logger = logging.getLogger("pymess.backend.ats")

DEFAULT_URL = "http://fik.atspraha.cz/gwfcgi/XMLServerWrapper.fcgi"

#: States of an accepted message: recorded with ``sent_at`` and the provider id.
_ACCEPTED = frozenset({State.SENDING, State.SENT, State.DELIVERED})


class ATSSMSBackend(HTTPSMSBackend):
    """Sends through the ATS XML gateway (https://www.atspraha.cz/)."""

    import_path = "pymess.backend.sms.ats_sms_operator.ATSSMSBackend"
    config_setting = "PYMESS_ATS_SMS_CONFIG"
    default_url = DEFAULT_URL
    provider_name = "ATS"
    options_spec = {
        "URL": DEFAULT_URL,
        "USERNAME": HTTPSMSBackend.REQUIRED,
        "PASSWORD": HTTPSMSBackend.REQUIRED,
        "UNIQ_PREFIX": "",
        "VALIDITY": 60,
        "TEXTID": None,
        "OPTID": "",
        "OUTPUT_SENDER_NUMBER": HTTPSMSBackend.REQUIRED,
        "PROJECT_KEYWORD": HTTPSMSBackend.REQUIRED,
        "TIMEOUT": 10,
    }

    supports_batch_request = True
    supports_state_polling = True
    supports_sender_id = True
    max_batch_size = 100

    # -- ids -----------------------------------------------------------------------------------

    def uniq(self, message: OutputSMSMessage) -> str:
        return uniq_id(self.options["UNIQ_PREFIX"], message.pk)

    def sender_label(self) -> str:
        """What the recipient sees as the sender: the text id when set, else the number."""
        return str(self.options["TEXTID"] or self.options["OUTPUT_SENDER_NUMBER"])[:20]

    # -- sending -------------------------------------------------------------------------------

    def publish_message(self, message: OutputSMSMessage) -> None:
        self.publish_messages([message])

    def publish_messages(self, messages: Sequence[OutputSMSMessage]) -> None:
        for chunk in chunked(messages, self.max_batch_size):
            self._send_chunk(chunk)

    def _send_chunk(self, chunk: list[OutputSMSMessage]) -> None:
        root = self._request_root()
        sendable = []
        for message in chunk:
            try:
                self._append_sms(root, message)
            except ValueError:
                self.mark_failed(
                    message,
                    PermanentSendError(
                        "The content contains characters XML cannot carry (control characters); "
                        "ATS cannot send it."
                    ),
                )
                continue
            sendable.append(message)
        if not sendable:
            return
        try:
            by_pk, request_codes = self._parse(self.post(serialize(root), purpose="send request"))
        except UnreadableResponse as exc:
            logger.warning("ATS send request for %d message(s): %s", len(sendable), exc)
            for message in sendable:
                self._record_unknown(
                    message, f"{exc} ATS may have accepted the message; a state check will tell."
                )
            return
        request_error, unknown_request_code = self._request_error(request_codes)
        if request_error is not None and not by_pk:
            raise request_error
        for message in sendable:
            code = by_pk.get(message.pk)
            if code is not None:
                self._apply_send_code(message, code)
            elif request_error is not None:
                self.mark_failed(message, request_error)
            elif unknown_request_code is not None:
                self._record_unknown(
                    message, codes.describe(unknown_request_code), State.ERROR_UPDATE
                )
            else:
                self._record_unknown(
                    message,
                    "ATS's answer has no status for this message; it may have been accepted, "
                    "a state check will tell.",
                )

    def _append_sms(self, root: Any, message: OutputSMSMessage) -> None:
        options = self.options
        attributes = {
            "type": "text",
            "uniq": self.uniq(message),
            "sender": str(options["OUTPUT_SENDER_NUMBER"]),
            "recipient": message.recipient,
            "opmid": str(options["OPTID"] or ""),
            "dlr": "1",
            "validity": str(int(options["VALIDITY"])),
            "kw": str(options["PROJECT_KEYWORD"]),
        }
        if options["TEXTID"]:
            attributes["textid"] = str(options["TEXTID"])
        # Build completely before attaching, so a bad message leaves no half element behind.
        sms = etree.Element("sms", attributes)
        body = etree.SubElement(sms, "body", {"order": "0", "billing": "0"})
        body.text = message.content
        root.append(sms)

    def _apply_send_code(self, message: OutputSMSMessage, code: int | str) -> None:
        info = codes.lookup(code) if isinstance(code, int) else None
        message.sender = self.sender_label()
        if info is None:
            logger.warning("ATS answered message %s with an unknown code %r.", message.pk, code)
            self._record_unknown(message, codes.describe(code), State.ERROR_UPDATE, code=code)
            return
        self._log_if_loud(info)
        if info.state in _ACCEPTED:
            self.mark_sent(message, info.state, external_id=self.uniq(message), ats_code=code)
        elif info.state in (State.UNKNOWN, State.ERROR_UPDATE):
            self._record_unknown(message, codes.describe(code), info.state, code=code)
        else:  # ERROR or ERROR_RETRY: the batch engine applies the retry policy
            message.state = info.state
            message.error = codes.describe(code)
            message.external_id = self.uniq(message)
            message.extra_sender_data = {**(message.extra_sender_data or {}), "ats_code": code}

    def _record_unknown(
        self,
        message: OutputSMSMessage,
        error: str,
        state: str = State.UNKNOWN,
        *,
        code: int | str | None = None,
    ) -> None:
        """The provider may have the message: keep its id so a state check can settle it."""
        extra = {"ats_code": code} if code is not None else {}
        self.mark_sent(message, state, external_id=self.uniq(message), **extra)
        message.error = error

    # -- state checks --------------------------------------------------------------------------

    def check_sms_states(self, messages: Sequence[OutputSMSMessage]) -> None:
        for chunk in chunked(messages, self.max_batch_size):
            self._check_chunk(chunk)

    def _check_chunk(self, chunk: list[OutputSMSMessage]) -> None:
        root = self._request_root()
        for message in chunk:
            uniq = self.uniq(message)
            etree.SubElement(root, "dlr", {"uniq": uniq}).text = uniq
        try:
            by_pk, request_codes = self._parse(self.post(serialize(root), purpose="state request"))
        except UnreadableResponse as exc:
            logger.warning("ATS state request for %d message(s): %s", len(chunk), exc)
            for message in chunk:
                message.state = State.ERROR_UPDATE
                message.error = str(exc)
            return
        request_error, unknown_request_code = self._request_error(request_codes)
        if request_error is not None and not by_pk:
            raise request_error
        for message in chunk:
            code = by_pk.get(message.pk)
            if code is None:
                message.state = State.ERROR_UPDATE
                message.error = (
                    codes.describe(unknown_request_code)
                    if unknown_request_code is not None
                    else "ATS's answer to the state request has no status for this message."
                )
                continue
            info = codes.lookup(code) if isinstance(code, int) else None
            if info is None:
                logger.warning("ATS reported an unknown code %r for message %s.", code, message.pk)
            message.state = info.check_state if info else State.ERROR_UPDATE
            message.error = "" if message.state in _ACCEPTED else codes.describe(code)

    # -- protocol ------------------------------------------------------------------------------

    def _request_root(self) -> Any:
        root = etree.Element("messages")
        auth = etree.SubElement(root, "auth")
        etree.SubElement(auth, "name").text = str(self.options["USERNAME"])
        etree.SubElement(auth, "password").text = str(self.options["PASSWORD"])
        return root

    def _parse(self, body: bytes) -> tuple[dict[int, int | str], list[int | str]]:
        """Per-message codes by primary key, and request-level codes, from an ATS answer."""
        root = parse_response(body, provider="ATS")
        by_pk: dict[int, int | str] = {}
        request_codes: list[int | str] = []
        prefix = self.options["UNIQ_PREFIX"]
        for element in root.iter("code"):
            code = _code_value(element_text(element))
            uniq = element.get("uniq")
            if uniq is None:
                request_codes.append(code)
                continue
            pk = pk_from_uniq_id(prefix, uniq)
            if pk is None:
                logger.warning(
                    "ATS answered about a message that is not ours (uniq %r).", uniq[:60]
                )
                continue
            by_pk[pk] = code
        return by_pk, request_codes

    def _request_error(
        self, request_codes: list[int | str]
    ) -> tuple[SendError | None, int | str | None]:
        """The error a request-level code means, and the first unknown request-level code."""
        unknown = None
        for code in request_codes:
            info = codes.lookup(code) if isinstance(code, int) else None
            if info is None:
                logger.warning("ATS answered the request with an unknown code %r.", code)
                unknown = unknown if unknown is not None else code
                continue
            self._log_if_loud(info)
            if info.state == State.ERROR:
                if info.code == codes.AUTH_FAILED:
                    return PermanentSendError(
                        f"ATS rejected the credentials: check USERNAME and PASSWORD in "
                        f"{self.settings_hint_setting()}.",
                        code=info.code,
                    ), unknown
                return PermanentSendError(codes.describe(info.code), code=info.code), unknown
            if info.state == State.ERROR_RETRY:
                return TemporarySendError(codes.describe(info.code), code=info.code), unknown
        return None, unknown

    def _log_if_loud(self, info: codes.ATSCode) -> None:
        if info.code == codes.AUTH_FAILED:
            logger.error(
                "ATS rejected the credentials (code 100): pymess cannot send until USERNAME and "
                "PASSWORD in %s are fixed.",
                self.settings_hint_setting(),
            )
        elif info.our_bug:
            logger.error(
                "ATS could not read the request pymess sent (%s). This is a bug in pymess-ats; "
                "please report it.",
                codes.describe(info.code),
            )


def _code_value(text: str) -> int | str:
    text = text.strip()
    return int(text) if text.isdigit() else text[:40]
