"""The shared backend contract, run against the SNS backend and its moto-based fake."""

import pytest

from pymess.testing.contract import FailingSMSBackendContract
from tests.fixtures.fix_sns import Fault


class TestSNSContract(FailingSMSBackendContract):
    backend_name = "sns"
    dotted_path = "pymess.backend.sms.sns.SNSSMSBackend"
    success_states = frozenset({"SENT"})
    rate_limit_retry_after = 7

    @pytest.fixture
    def backend_settings(self, sns_settings):
        self.fake = sns_settings

    def induce_failure(self, kind):
        faults = {
            "permanent": Fault.error(400, "InvalidParameter", "Invalid parameter: PhoneNumber"),
            "temporary": Fault.error(500, "InternalError", "Internal failure"),
            "rate_limited": Fault.error(400, "Throttling", "Rate exceeded", **{"Retry-After": "7"}),
            "transport": Fault(drop=True),
        }
        self.fake.fail_next(faults[kind])
