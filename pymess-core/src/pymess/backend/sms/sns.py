"""Alias of ``pymess.backend.sms.sns.SNSSMSBackend``.

The Amazon SNS backend lives in the ``pymess-sns`` distribution.
"""

from typing import Any

from pymess.backend.sms._plugin_alias import load_plugin_attribute


def __getattr__(name: str) -> Any:
    if name == "SNSSMSBackend":
        return load_plugin_attribute(
            "pymess_sns", name, "pymess-sns", "pymess.backend.sms.sns.SNSSMSBackend"
        )
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
