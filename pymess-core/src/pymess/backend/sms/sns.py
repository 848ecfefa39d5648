"""``pymess.backend.sms.sns.SNSSMSBackend``: the Amazon SNS backend, from the ``pymess-sns`` distribution."""

from typing import Any

from pymess.backend.sms._plugin_alias import load_plugin_attribute

__all__ = ["SNSSMSBackend"]


def __getattr__(name: str) -> Any:
    if name == "SNSSMSBackend":
        return load_plugin_attribute(
            "pymess_sns", name, "pymess-sns", "pymess.backend.sms.sns.SNSSMSBackend"
        )
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
