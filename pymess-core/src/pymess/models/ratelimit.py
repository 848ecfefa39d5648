"""The shared state of per-backend rate limits (see :mod:`pymess.ratelimit`)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SMSRateLimitBucket(models.Model):
    """One row per rate-limited backend alias: its GCRA "theoretical arrival time".

    A single integer per alias, changed by compare-and-set, is all the state a
    rate limit shared by every worker process and machine needs.
    """

    key = models.CharField(_("key"), max_length=200, primary_key=True)
    #: Microseconds since the epoch at which the bucket is empty again.
    tat = models.BigIntegerField(_("theoretical arrival time"), default=0)

    class Meta:
        verbose_name = _("SMS rate-limit bucket")
        verbose_name_plural = _("SMS rate-limit buckets")

    def __str__(self) -> str:
        return self.key
