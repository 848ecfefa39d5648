"""A backend that sends nothing: every message ends in ``DEBUG``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pymess.backend.sms.base import SMSBackend
from pymess.enums import OutputSMSMessageState as State

if TYPE_CHECKING:
    from pymess.models.sms import OutputSMSMessage


class DummySMSBackend(SMSBackend):
    """For development: the message is recorded in ``DEBUG`` state and never leaves the machine."""

    supports_batch_request = True
    max_batch_size = 1000

    def publish_message(self, message: OutputSMSMessage) -> None:
        self.mark_sent(message, State.DEBUG)
