"""pymess-twilio: send pymess SMS through Twilio and receive its status callbacks.

Configure it with ``PYMESS_SMS_SENDER_BACKEND = "twilio"`` (or the documented
path ``pymess.backend.sms.twilio.TwilioSMSBackend``) and
``PYMESS_TWILIO_SMS_CONFIG``; mount the callbacks with
``path("sms/twilio/", include("pymess_twilio.urls"))``. The package need not be
in ``INSTALLED_APPS``.
"""

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["TwilioSMSBackend", "__version__"]

if TYPE_CHECKING:
    from pymess_twilio.backend import TwilioSMSBackend


def __getattr__(name: str) -> Any:
    # Lazy, so importing the package (e.g. for __version__) does not import twilio or Django.
    if name == "TwilioSMSBackend":
        from pymess_twilio.backend import TwilioSMSBackend

        return TwilioSMSBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
