"""pymess-smsoperator: the SMS operator (Czech SMS gateway) backend for pymess.

Select it with ``PYMESS_SMS_SENDER_BACKEND = "sms_operator"`` (or the documented
path ``pymess.backend.sms.sms_operator.SMSOperatorBackend``) and configure
``PYMESS_SMS_OPERATOR_CONFIG``.
"""

from pymess_smsoperator.backend import SMSOperatorBackend

__version__ = "0.1.0"

__all__ = ["SMSOperatorBackend", "__version__"]
