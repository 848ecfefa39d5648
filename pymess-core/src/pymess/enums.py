"""Enumerations stored in the database."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OutputSMSMessageState(models.TextChoices):
    """Where an outgoing SMS is in its life.

    ``WAITING → SENDING → SENT → DELIVERED`` is the happy path. ``ERROR``,
    ``DELIVERED`` and ``DEBUG`` are final; see :mod:`pymess.states` for the order
    that keeps a state from moving backwards.
    """

    DEBUG = "DEBUG", _("debug")
    DELIVERED = "DELIVERED", _("delivered")
    ERROR = "ERROR", _("error")
    ERROR_RETRY = "ERROR_RETRY", _("error, will retry")
    ERROR_UPDATE = "ERROR_UPDATE", _("error updating state")
    SENDING = "SENDING", _("sending")
    SENT = "SENT", _("sent")
    UNKNOWN = "UNKNOWN", _("unknown")
    WAITING = "WAITING", _("waiting")


class SMSEncoding(models.TextChoices):
    """How the content travels over the air; decides the segment size."""

    GSM7 = "GSM-7", "GSM-7"
    UCS2 = "UCS-2", "UCS-2"
