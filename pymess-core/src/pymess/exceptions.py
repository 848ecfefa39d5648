"""Exceptions raised by pymess.

Two families never mix:

* **Input errors** (:class:`InvalidRecipient`, :class:`InvalidContent`,
  :class:`InvalidRelatedObject`, :class:`TemplateNotFound`) escape
  :func:`~pymess.backend.sms.send` before anything is stored. Configuration
  errors are Django's :class:`~django.core.exceptions.ImproperlyConfigured`.
* **Send errors** (:class:`SendError` and subclasses) are raised *by backends*
  to classify a failed provider call. pymess catches them, records the outcome
  on the message and decides whether to retry; they never escape ``send()``.
"""

from __future__ import annotations


class PymessError(Exception):
    """Base class of every pymess exception."""


class InvalidRecipient(PymessError, ValueError):
    """The recipient is not a valid phone number (or not one pymess may send to)."""


class InvalidContent(PymessError, ValueError):
    """The content is empty, too long, or the extra data is not JSON-serialisable."""


class InvalidRelatedObject(PymessError, ValueError):
    """A related object is not a saved model instance."""


class TemplateNotFound(PymessError, LookupError):
    """No SMS template matches the slug in any locale of the fallback chain."""


class SendCancelled(PymessError):
    """Raised by a ``pymess_sms_pre_send`` hook to stop a send.

    The message is stored as ``ERROR`` with ``reason`` in its ``error`` field.
    """

    def __init__(self, reason: str = "cancelled by a pre-send hook") -> None:
        super().__init__(reason)
        self.reason = reason


class SendError(PymessError):
    """A provider call failed. Backends raise a subclass to say what kind of failure."""

    #: Whether pymess may try the message again.
    retryable: bool = True

    def __init__(self, message: str = "", *, code: str | int | None = None) -> None:
        super().__init__(message)
        self.code = code

    def __str__(self) -> str:
        text = super().__str__()
        return f"[{self.code}] {text}" if self.code is not None else text


class TemporarySendError(SendError):
    """A transient failure (network error, HTTP 5xx, provider hiccup): retry later."""


class RateLimitedError(TemporarySendError):
    """The provider asked us to slow down; retry after ``retry_after`` seconds when given."""

    def __init__(
        self, message: str = "", *, code: str | int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class PermanentSendError(SendError):
    """The provider refused the message for good (invalid number, bad content, credentials)."""

    retryable = False
