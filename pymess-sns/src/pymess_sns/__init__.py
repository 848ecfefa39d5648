"""pymess-sns: send pymess SMS through Amazon SNS.

Configure it with ``PYMESS_SMS_SENDER_BACKEND = "sns"`` (or the documented
path ``pymess.backend.sms.sns.SNSSMSBackend``) and ``PYMESS_SNS_SMS_CONFIG``.
"""

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["SNSSMSBackend", "__version__"]

if TYPE_CHECKING:
    from pymess_sns.backend import SNSSMSBackend


def __getattr__(name: str) -> Any:
    # Lazy, so importing the package (e.g. for __version__) does not import boto3 or Django.
    if name == "SNSSMSBackend":
        from pymess_sns.backend import SNSSMSBackend

        return SNSSMSBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
