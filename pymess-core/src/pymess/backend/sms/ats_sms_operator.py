"""Alias of ``pymess.backend.sms.ats_sms_operator.ATSSMSBackend``.

The ATS backend lives in the ``pymess-ats`` distribution.
"""

from typing import Any

from pymess.backend.sms._plugin_alias import load_plugin_attribute


def __getattr__(name: str) -> Any:
    if name == "ATSSMSBackend":
        return load_plugin_attribute(
            "pymess_ats", name, "pymess-ats", "pymess.backend.sms.ats_sms_operator.ATSSMSBackend"
        )
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
