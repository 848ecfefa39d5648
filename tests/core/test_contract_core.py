"""The backend contract kit, run against the backends core ships."""

import pytest

from pymess.backend.sms import locmem
from pymess.exceptions import PermanentSendError, RateLimitedError, TemporarySendError
from pymess.testing.contract import FailingSMSBackendContract, SMSBackendContract


class TestDummyContract(SMSBackendContract):
    backend_name = "dummy"
    dotted_path = "pymess.backend.sms.dummy.DummySMSBackend"
    success_states = frozenset({"DEBUG"})
    stores_external_id = False

    @pytest.fixture
    def backend_settings(self, settings):
        settings.PYMESS_SMS_SENDER_BACKEND = "dummy"


class TestLocMemContract(FailingSMSBackendContract):
    backend_name = "locmem"
    dotted_path = "pymess.backend.sms.locmem.LocMemSMSBackend"
    success_states = frozenset({"SENT"})
    rate_limit_retry_after = 42

    @pytest.fixture
    def backend_settings(self, settings):
        settings.PYMESS_SMS_SENDER_BACKEND = "locmem"

    def induce_failure(self, kind):
        errors = {
            "permanent": PermanentSendError("invalid number", code=21211),
            "temporary": TemporarySendError("HTTP 500"),
            "rate_limited": RateLimitedError("slow down", retry_after=42),
            "transport": ConnectionRefusedError("connection refused"),
        }
        locmem.fail_next(errors[kind])
