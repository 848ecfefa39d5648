"""Alias of ``pymess.backend.sms.twilio.TwilioSMSBackend``.

The Twilio backend lives in the ``pymess-twilio`` distribution.
"""

from typing import Any

from pymess.backend.sms._plugin_alias import load_plugin_attribute


def __getattr__(name: str) -> Any:
    if name == "TwilioSMSBackend":
        return load_plugin_attribute(
            "pymess_twilio", name, "pymess-twilio", "pymess.backend.sms.twilio.TwilioSMSBackend"
        )
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
