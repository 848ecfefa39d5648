"""A backend for tests: messages are appended to :data:`outbox` instead of being sent.

The ``sms_outbox`` pytest fixture switches to it. Tell it to fail with
:func:`fail_next` to exercise your error handling::

    from pymess.backend.sms import locmem
    from pymess.exceptions import TemporarySendError

    locmem.fail_next(TemporarySendError("provider down"))
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from typing import TYPE_CHECKING

from pymess.backend.sms.base import SMSBackend
from pymess.enums import OutputSMSMessageState as State

if TYPE_CHECKING:
    from pymess.models.sms import OutputSMSMessage

#: Messages "sent" through this backend, oldest first.
outbox: list[OutputSMSMessage] = []
_failures: deque[BaseException] = deque()
_lock = threading.Lock()
_ids = itertools.count(1)


def fail_next(*errors: BaseException) -> None:
    """Make the next ``len(errors)`` sends raise these errors, in order."""
    with _lock:
        _failures.extend(errors)


def reset() -> None:
    """Empty the outbox and forget pending failures."""
    with _lock:
        outbox.clear()
        _failures.clear()


class LocMemSMSBackend(SMSBackend):
    """Records messages in memory and marks them ``SENT`` with a fake provider id."""

    options_spec = {"STATE": State.SENT, "SENDER": ""}

    def publish_message(self, message: OutputSMSMessage) -> None:
        with _lock:
            error = _failures.popleft() if _failures else None
            if error is None:
                outbox.append(message)
        if error is not None:
            raise error
        message.sender = self.options["SENDER"]
        self.mark_sent(message, self.options["STATE"], external_id=f"locmem-{next(_ids)}")
