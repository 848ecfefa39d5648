"""Alias of ``pymess.backend.sms.sms_operator.SMSOperatorBackend``.

The SMS operator backend lives in the ``pymess-smsoperator`` distribution.
"""

from typing import Any

from pymess.backend.sms._plugin_alias import load_plugin_attribute


def __getattr__(name: str) -> Any:
    if name == "SMSOperatorBackend":
        return load_plugin_attribute(
            "pymess_smsoperator",
            name,
            "pymess-smsoperator",
            "pymess.backend.sms.sms_operator.SMSOperatorBackend",
        )
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
