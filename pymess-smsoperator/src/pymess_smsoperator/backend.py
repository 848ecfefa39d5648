"""The SMS operator backend: XML over HTTP POST, several messages per request, polling.

Outcomes recorded (see ``docs/backends/sms_operator.rst``):

* each ``<DataItem>`` of the answer sets its message's state from
  :mod:`pymess_smsoperator.codes` (on a send, status 0 means accepted:
  ``SENDING``); an unknown status gives ``ERROR_UPDATE`` with the code in
  ``error`` - never a crash, never a resend;
* a message the answer does not mention, and every message of an answer that
  cannot be read (malformed, over the size cap, or carrying a DTD/entities),
  becomes ``UNKNOWN`` on a send (the operator may have it; a state check settles
  it) and ``ERROR_UPDATE`` on a state check.

The operator has no id of its own in the answer: ``external_id`` is the
``SmsId`` pymess sent (``UNIQ_PREFIX-pk``).
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
from pymess.exceptions import PermanentSendError
from pymess_smsoperator import codes

if TYPE_CHECKING:
    from pymess.models.sms import OutputSMSMessage

logger = logging.getLogger("pymess.backend.sms_operator")

DEFAULT_URL = "https://www.sms-operator.cz/webservices/webservice.aspx"

_ACCEPTED = frozenset({State.SENDING, State.SENT, State.DELIVERED})


class SMSOperatorBackend(HTTPSMSBackend):
    """Sends through the SMS operator web service (https://www.sms-operator.cz/)."""

    import_path = "pymess.backend.sms.sms_operator.SMSOperatorBackend"
    config_setting = "PYMESS_SMS_OPERATOR_CONFIG"
    default_url = DEFAULT_URL
    provider_name = "SMS operator"
    options_spec = {
        "URL": DEFAULT_URL,
        "USERNAME": HTTPSMSBackend.REQUIRED,
        "PASSWORD": HTTPSMSBackend.REQUIRED,
        "UNIQ_PREFIX": "",
        "TIMEOUT": 10,
    }

    supports_batch_request = True
    supports_state_polling = True
    max_batch_size = 100

    def sms_id(self, message: OutputSMSMessage) -> str:
        return uniq_id(self.options["UNIQ_PREFIX"], message.pk)

    # -- sending -------------------------------------------------------------------------------

    def publish_message(self, message: OutputSMSMessage) -> None:
        self.publish_messages([message])

    def publish_messages(self, messages: Sequence[OutputSMSMessage]) -> None:
        for chunk in chunked(messages, self.max_batch_size):
            self._send_chunk(chunk)

    def _send_chunk(self, chunk: list[OutputSMSMessage]) -> None:
        root, data_array = self._request_root("SMS")
        sendable = []
        for message in chunk:
            try:
                data_array.append(self._data_template(message))
            except ValueError:
                self.mark_failed(
                    message,
                    PermanentSendError(
                        "The content contains characters XML cannot carry (control characters); "
                        "the SMS operator cannot send it."
                    ),
                )
                continue
            sendable.append(message)
        if not sendable:
            return
        try:
            statuses = self._parse(self.post(serialize(root), purpose="send request"))
        except UnreadableResponse as exc:
            logger.warning("SMS operator send request for %d message(s): %s", len(sendable), exc)
            for message in sendable:
                self._record(
                    message,
                    State.UNKNOWN,
                    f"{exc} The operator may have accepted the message; a state check will tell.",
                )
            return
        for message in sendable:
            code = statuses.get(message.pk)
            if code is None:
                self._record(
                    message,
                    State.UNKNOWN,
                    "The SMS operator's answer has no status for this message; it may have been "
                    "accepted, a state check will tell.",
                )
                continue
            info = codes.lookup(code)
            if info is None:
                logger.warning(
                    "SMS operator answered message %s with an unknown status %r.", message.pk, code
                )
            state = info.send_state if info else State.ERROR_UPDATE
            self._record(message, state, "" if state in _ACCEPTED else codes.describe(code), code)

    def _data_template(self, message: OutputSMSMessage) -> Any:
        template = etree.Element("DataTemplate")
        item = etree.SubElement(template, "DataItem")
        etree.SubElement(item, "MobileTerminate").text = message.recipient
        etree.SubElement(item, "Text").text = message.content
        etree.SubElement(item, "SmsId").text = self.sms_id(message)
        return template

    def _record(
        self, message: OutputSMSMessage, state: str, error: str, code: int | str | None = None
    ) -> None:
        if state == State.ERROR:
            message.state = state
            message.external_id = self.sms_id(message)
            if code is not None:
                message.extra_sender_data = {**(message.extra_sender_data or {}), "status": code}
        else:
            extra = {"status": code} if code is not None else {}
            self.mark_sent(message, state, external_id=self.sms_id(message), **extra)
        message.error = error

    # -- state checks --------------------------------------------------------------------------

    def check_sms_states(self, messages: Sequence[OutputSMSMessage]) -> None:
        for chunk in chunked(messages, self.max_batch_size):
            self._check_chunk(chunk)

    def _check_chunk(self, chunk: list[OutputSMSMessage]) -> None:
        root, data_array = self._request_root("SMS-Status")
        for message in chunk:
            etree.SubElement(data_array, "SmsId").text = self.sms_id(message)
        try:
            statuses = self._parse(self.post(serialize(root), purpose="state request"))
        except UnreadableResponse as exc:
            logger.warning("SMS operator state request for %d message(s): %s", len(chunk), exc)
            for message in chunk:
                message.state = State.ERROR_UPDATE
                message.error = str(exc)
            return
        for message in chunk:
            code = statuses.get(message.pk)
            if code is None:
                message.state = State.ERROR_UPDATE
                message.error = (
                    "The SMS operator's answer to the state request has no status for this message."
                )
                continue
            info = codes.lookup(code)
            if info is None:
                logger.warning(
                    "SMS operator reported an unknown status %r for message %s.", code, message.pk
                )
            message.state = info.state if info else State.ERROR_UPDATE
            message.error = "" if message.state in _ACCEPTED else codes.describe(code)

    # -- protocol ------------------------------------------------------------------------------

    def _request_root(self, data_type: str) -> tuple[Any, Any]:
        root = etree.Element("SmsServices")
        header = etree.SubElement(root, "DataHeader")
        etree.SubElement(header, "DataType").text = data_type
        etree.SubElement(header, "UserName").text = str(self.options["USERNAME"])
        etree.SubElement(header, "Password").text = str(self.options["PASSWORD"])
        return root, etree.SubElement(root, "DataArray")

    def _parse(self, body: bytes) -> dict[int, int | str]:
        """Status codes by primary key from an answer's ``DataItem`` elements."""
        root = parse_response(body, provider="The SMS operator")
        prefix = self.options["UNIQ_PREFIX"]
        statuses: dict[int, int | str] = {}
        for item in root.iter("DataItem"):
            sms_id = element_text(item.find("SmsId"))
            pk = pk_from_uniq_id(prefix, sms_id)
            if pk is None:
                logger.warning(
                    "SMS operator answered about a message that is not ours (SmsId %r).",
                    sms_id[:60],
                )
                continue
            text = element_text(item.find("Status"))
            statuses[pk] = int(text) if text.isdigit() else text[:40]
        return statuses
