"""The shared backend contract (pymess.testing.contract), run against ATS and its fake."""

import pytest

from pymess.testing.contract import FailingSMSBackendContract
from tests.fakes.threaded_http import Reply


class TestATSContract(FailingSMSBackendContract):
    backend_name = "ats"
    dotted_path = "pymess.backend.sms.ats_sms_operator.ATSSMSBackend"
    success_states = frozenset({"SENDING"})
    rate_limit_retry_after = 30

    @pytest.fixture
    def backend_settings(self, ats_settings, ats_fake):
        self.fake = ats_fake

    def induce_failure(self, kind):
        if kind == "permanent":
            self.fake.queue(Reply(body=b"<messages><code>350</code></messages>"))
        elif kind == "temporary":
            self.fake.queue(Reply(status=500))
        elif kind == "rate_limited":
            self.fake.queue(Reply(status=429, headers={"Retry-After": "30"}))
        elif kind == "transport":
            self.fake.queue(Reply(drop=True))
        else:
            raise AssertionError(kind)
