"""``example_log``: a backend that "sends" by appending a JSON line to a file.

It shows the whole backend contract in a few lines: declare the options,
set the outcome on the message, raise a classified error on failure, and
never touch the database.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import TYPE_CHECKING

from pymess.backend.sms import SMSBackend
from pymess.backend.sms.base import uniq_id
from pymess.enums import OutputSMSMessageState
from pymess.exceptions import TemporarySendError

if TYPE_CHECKING:
    from pymess.models.sms import OutputSMSMessage

logger = logging.getLogger("pymess_example_plugin")


class LogSMSBackend(SMSBackend):
    """Writes each message to ``PATH`` (one JSON object per line) and to the log.

    Configure it as a named backend::

        PYMESS_SMS_BACKENDS = {
            "default": {"BACKEND": "example_log", "OPTIONS": {"PATH": "/tmp/sms.jsonl"}},
        }
    """

    import_path = "pymess_example_plugin.backend.LogSMSBackend"
    options_spec = {
        "PATH": SMSBackend.REQUIRED,  # missing → ImproperlyConfigured and a `manage.py check` error
        "UNIQ_PREFIX": "example",
    }

    # publish_message may run on several worker threads at once.
    _write_lock = threading.Lock()

    def publish_message(self, message: OutputSMSMessage) -> None:
        external_id = uniq_id(self.options["UNIQ_PREFIX"], message.pk)
        line = json.dumps(
            {"id": external_id, "to": message.recipient, "text": message.content},
            ensure_ascii=False,
        )
        try:
            with self._write_lock, open(self.options["PATH"], "a", encoding="utf-8") as file:
                file.write(line + "\n")
        except OSError as exc:
            # A full disk may clear up: let pymess retry later.
            raise TemporarySendError(f"cannot write {self.options['PATH']}: {exc}") from exc
        logger.info(
            "SMS %s to %s written to %s", external_id, message.recipient, self.options["PATH"]
        )
        self.mark_sent(
            message, OutputSMSMessageState.SENT, external_id=external_id, path=self.options["PATH"]
        )
