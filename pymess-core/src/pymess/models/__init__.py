from pymess.models.sms import (
    AbstractSMSTemplate,
    OutputSMSMessage,
    OutputSMSRelatedObject,
    SMSTemplate,
)

__all__ = ["AbstractSMSTemplate", "OutputSMSMessage", "OutputSMSRelatedObject", "SMSTemplate"]
