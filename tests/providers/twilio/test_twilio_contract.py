"""The shared backend contract, run against the Twilio backend and its fake Messages API."""

import pytest

from pymess.testing.contract import FailingSMSBackendContract
from tests.fixtures.fix_twilio import Answer


class TestTwilioContract(FailingSMSBackendContract):
    backend_name = "twilio"
    dotted_path = "pymess.backend.sms.twilio.TwilioSMSBackend"
    success_states = frozenset({"SENDING"})
    rate_limit_retry_after = 11

    @pytest.fixture
    def backend_settings(self, twilio_settings):
        self.fake = twilio_settings

    def induce_failure(self, kind):
        answers = {
            "permanent": Answer.error(21211),
            "temporary": Answer.error(20500),
            "rate_limited": Answer.error(20429, **{"Retry-After": "11"}),
            "transport": Answer(drop=True),
        }
        self.fake.respond_next(answers[kind])
