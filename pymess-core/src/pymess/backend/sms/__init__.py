"""Sending SMS: :func:`send`, :func:`send_template` and the backend base class."""

from pymess.backend.sms.base import SMSBackend
from pymess.backend.sms.registry import get_backend
from pymess.backend.sms.sending import send, send_rendered_template, send_template

__all__ = ["SMSBackend", "get_backend", "send", "send_rendered_template", "send_template"]
