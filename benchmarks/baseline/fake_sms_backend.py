"""django-pymess 0.7.6 SMS backend that posts to benchmarks/fake_provider.py.

Follows the contract of pymess.backend.sms.SMSBackend in 0.7.6: implement
publish_message(message) and record the outcome through the base class
helpers, which bump number_of_send_attempts and save the message:

* success -> _update_message_after_sending(state=SENT, sent_at=now)
* failure -> _update_message_after_sending_error(error=...), which picks
  ERROR_RETRY or ERROR from the retry settings.
"""

import os

import requests
from django.utils import timezone

from pymess.backend.sms import SMSBackend


class FakeProviderSMSBackend(SMSBackend):
    config = {
        "url": "http://127.0.0.1:8999",
        "timeout": 10,
    }

    _session = None

    def _get_session(self):
        # One keep-alive session per backend instance (pymess caches backend instances per controller).
        if self._session is None:
            self._session = requests.Session()
        return self._session

    def publish_message(self, message):
        payload = {"id": str(message.pk), "to": message.recipient, "text": message.content}
        try:
            response = self._get_session().post(
                self.config["url"].rstrip("/") + "/send",
                json=payload,
                timeout=self.config["timeout"],
            )
            response.raise_for_status()
            body = response.json()
        except (requests.RequestException, ValueError) as ex:
            # Only transport/provider errors are recorded on the message; database errors propagate to the
            # batch command, which logs them.
            self._update_message_after_sending_error(message, error=str(ex))
            return
        self._update_message_after_sending(
            message,
            state=message.State.SENT,
            sent_at=timezone.now(),
            extra_sender_data={
                "provider_status": body.get("status"),
                # lets the harness attribute sends to workers (set by run_baseline.py per worker)
                "bench_worker": os.environ.get("PYMESS_BENCH_WORKER"),
            },
        )
