from pymess.models.ratelimit import SMSRateLimitBucket
from pymess.models.sms import (
    AbstractSMSTemplate,
    OutputSMSMessage,
    OutputSMSRelatedObject,
    SMSTemplate,
)

__all__ = [
    "AbstractSMSTemplate",
    "OutputSMSMessage",
    "OutputSMSRelatedObject",
    "SMSRateLimitBucket",
    "SMSTemplate",
]
