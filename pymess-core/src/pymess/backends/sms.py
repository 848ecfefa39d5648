"""The documentation names both ``pymess.backend.sms`` and ``pymess.backends.sms``; same classes."""

from pymess.backend.sms.base import SMSBackend

__all__ = ["SMSBackend"]
