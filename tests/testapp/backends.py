"""Backends used by core tests."""

from pymess.backend.sms.base import SMSBackend


class ConfiguredBackend(SMSBackend):
    """Needs an API key, like a real provider; sends nothing."""

    config_setting = "PYMESS_TESTAPP_SMS_CONFIG"
    options_spec = {"API_KEY": SMSBackend.REQUIRED, "TIMEOUT": 10}

    def publish_message(self, message):
        self.mark_sent(message, external_id=f"cfg-{message.pk}")
