"""A tiny real-HTTP backend for the batch tests and benchmarks.

It POSTs ``{"id", "to", "text"}`` as JSON to ``URL + "/send"`` - the protocol
of ``tests/batch/fake_sms_server.py`` and ``benchmarks/fake_provider.py`` - over
one keep-alive connection per thread, and classifies failures the way a real
provider backend must.
"""

from __future__ import annotations

import http.client
import json
import threading
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pymess.backend.sms.base import SMSBackend, uniq_id
from pymess.exceptions import PermanentSendError, RateLimitedError, TemporarySendError

if TYPE_CHECKING:
    from pymess.models.sms import OutputSMSMessage


class HTTPTestBackend(SMSBackend):
    options_spec = {"URL": SMSBackend.REQUIRED, "TIMEOUT": 10, "UNIQ_PREFIX": ""}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        url = urlsplit(self.options["URL"])
        self._host, self._port = url.hostname or "127.0.0.1", url.port or 80
        self._path = url.path.rstrip("/") + "/send"
        self._local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=self.timeout())
            self._local.conn = conn
        return conn

    def _drop_connection(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def publish_message(self, message: OutputSMSMessage) -> None:
        ident = uniq_id(self.options["UNIQ_PREFIX"], message.pk)
        body = json.dumps({"id": ident, "to": message.recipient, "text": message.content})
        try:
            conn = self._connection()
            conn.request("POST", self._path, body, {"Content-Type": "application/json"})
            response = conn.getresponse()
            payload = response.read()
        except ConnectionRefusedError as exc:
            self._drop_connection()
            raise TemporarySendError(f"provider refused the connection: {exc}") from exc
        except TimeoutError as exc:
            self._drop_connection()
            raise TemporarySendError(f"provider timed out after {self.timeout()}s") from exc
        except (OSError, http.client.HTTPException) as exc:
            self._drop_connection()
            raise TemporarySendError(f"provider connection failed: {exc!r}") from exc
        status = response.status
        if status == 200:
            self.mark_sent(message, external_id=ident)
            return
        text = payload.decode(errors="replace")[:200]
        if status == 429:
            retry_after = response.getheader("Retry-After")
            raise RateLimitedError(
                text, code=status, retry_after=float(retry_after) if retry_after else None
            )
        if status >= 500:
            raise TemporarySendError(text, code=status)
        raise PermanentSendError(text, code=status)

    def close(self) -> None:
        self._drop_connection()
