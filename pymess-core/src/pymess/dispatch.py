"""How queued messages get picked up: cron (the batch command), Django Tasks, or Celery.

Only primary keys travel through a task queue; the task runs the same claim →
send → record code as the batch command, so a task delivered twice sends once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pymess import config

if TYPE_CHECKING:
    from pymess.models.sms import OutputSMSMessage


def message_queued(message: OutputSMSMessage) -> None:
    """Called after a message is stored for later sending (batch mode or ``send_at``).

    With ``PYMESS_SMS_DISPATCH = "cron"`` nothing happens here: the
    ``send_messages_batch`` command picks the message up.
    """
    mode = config.dispatch()
    if mode == "cron" or message.next_attempt_at is not None:
        return
    raise NotImplementedError(f"PYMESS_SMS_DISPATCH = {mode!r} is not implemented yet.")
