"""The shared backend contract (pymess.testing.contract), run against the SMS operator fake."""

import pytest

from pymess.testing.contract import FailingSMSBackendContract
from tests.fakes.threaded_http import Reply


class TestSMSOperatorContract(FailingSMSBackendContract):
    backend_name = "sms_operator"
    dotted_path = "pymess.backend.sms.sms_operator.SMSOperatorBackend"
    success_states = frozenset({"SENDING"})
    rate_limit_retry_after = 30

    @pytest.fixture
    def backend_settings(self, operator_settings, operator_fake):
        self.fake = operator_fake

    def induce_failure(self, kind):
        if kind == "permanent":
            self.fake.default_send_status = 4  # invalid number
        elif kind == "temporary":
            self.fake.queue(Reply(status=500))
        elif kind == "rate_limited":
            self.fake.queue(Reply(status=429, headers={"Retry-After": "30"}))
        elif kind == "transport":
            self.fake.queue(Reply(drop=True))
        else:
            raise AssertionError(kind)
