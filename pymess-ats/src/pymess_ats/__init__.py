"""pymess-ats: the ATS (Czech SMS gateway) backend for pymess.

Select it with ``PYMESS_SMS_SENDER_BACKEND = "ats"`` (or the documented path
``pymess.backend.sms.ats_sms_operator.ATSSMSBackend``) and configure
``PYMESS_ATS_SMS_CONFIG``.
"""

from pymess_ats.backend import ATSSMSBackend

__version__ = "0.1.0"

__all__ = ["ATSSMSBackend", "__version__"]
