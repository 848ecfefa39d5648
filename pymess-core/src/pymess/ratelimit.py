"""Per-backend rate limits that hold across processes and machines.

``PYMESS_SMS_RATE_LIMITS = {"default": "20/s", "bulk": "100 segments/m"}``
caps how fast every worker together hands messages (or segments) of an alias
to its provider.

The shared state is one row per alias in :class:`~pymess.models.SMSRateLimitBucket`
holding a GCRA "theoretical arrival time" (TAT): the moment the bucket would be
empty again. Taking ``n`` units moves it ``n x interval`` forward; a request is
granted while the TAT stays within the burst allowance of now. Every change is
a compare-and-set ``UPDATE … WHERE tat = <what we read>``, so it is atomic on
PostgreSQL, MariaDB and SQLite alike, holds no lock and needs no extra service.

Why not a library: pyrate-limiter's shared buckets are Redis (a service many
pymess users don't run) or a PostgreSQL bucket that stores one row per permit
through its own psycopg connection pool, outside Django's database settings and
transactions. A single integer per alias changed by compare-and-set through
Django's own connection is smaller, works on every database Django supports,
and is easy to reason about. Machines share the clock of their NTP-synchronised
hosts; a skew of a few milliseconds is negligible at SMS rates.

The burst allowance is a tenth of a second's worth of units (at least one
message), so a limit is never exceeded by more than that in any window.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

from pymess import config

_PERIODS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
}
_RATE_RE = re.compile(
    r"^\s*(?P<amount>\d+(?:\.\d+)?)\s*(?P<unit>segments?|messages?|msgs?|sms)?\s*/\s*"
    r"(?P<period>[a-z]+)\s*$",
    re.IGNORECASE,
)
#: Burst allowance, in seconds' worth of the rate.
BURST_SECONDS = 0.1
_CAS_ATTEMPTS = 20


@dataclass(frozen=True)
class Rate:
    """A parsed limit: ``per_second`` units, counted in messages or segments."""

    per_second: float
    segments: bool = False

    @property
    def interval_us(self) -> int:
        """Microseconds per unit."""
        return max(1, round(1_000_000 / self.per_second))

    @property
    def burst(self) -> int:
        """Units that may go out at once when the bucket is full."""
        return max(1, math.floor(self.per_second * BURST_SECONDS))


def parse_rate(text: str, *, alias: str = "?") -> Rate:
    """Parse ``"20/s"``, ``"1200/m"``, ``"50 segments/s"``; else ``ImproperlyConfigured``."""
    match = _RATE_RE.match(text)
    period = _PERIODS.get(match["period"].lower()) if match else None
    if match is None or period is None or float(match["amount"]) <= 0:
        raise ImproperlyConfigured(
            f'PYMESS_SMS_RATE_LIMITS["{alias}"] = {text!r} is not a rate; write e.g. "20/s", '
            '"1200/m" or "50 segments/s".'
        )
    unit = (match["unit"] or "").lower()
    return Rate(float(match["amount"]) / period, segments=unit.startswith("segment"))


def get_rate(alias: str) -> Rate | None:
    """The configured rate for ``alias``, or ``None`` when it is unlimited."""
    text = config.rate_limits().get(alias)
    return parse_rate(text, alias=alias) if text else None


def _now_us() -> int:
    return time.time_ns() // 1000


class RateLimiter:
    """The shared bucket of one backend alias."""

    def __init__(self, alias: str, rate: Rate) -> None:
        self.alias = alias
        self.rate = rate
        self.key = f"sms:{alias}"
        self._created = False

    def costs(self, segments: Sequence[int]) -> list[int]:
        """Units each message costs: 1, or its segment count."""
        return [max(1, s) for s in segments] if self.rate.segments else [1] * len(segments)

    def acquire(self, costs: Sequence[int]) -> tuple[int, float]:
        """Take units for as many of ``costs`` (in order) as the bucket allows right now.

        Returns ``(granted, wait)``: how many of the messages may go now, and when
        none may, how many seconds until the first one can.
        """
        if not costs:
            return 0, 0.0
        from pymess.models.ratelimit import SMSRateLimitBucket

        buckets = SMSRateLimitBucket.objects
        if not self._created:
            buckets.bulk_create([SMSRateLimitBucket(key=self.key, tat=0)], ignore_conflicts=True)
            self._created = True
        interval = self.rate.interval_us
        allowance = self.rate.burst * interval
        for _attempt in range(_CAS_ATTEMPTS):
            tat = buckets.filter(key=self.key).values_list("tat", flat=True).first()
            if tat is None:
                self._created = False
                return self.acquire(costs)
            now = _now_us()
            start = max(tat, now)
            new_tat = start
            granted = 0
            for cost in costs:
                candidate = new_tat + cost * interval
                # A message costing more than the whole burst goes alone, from a full bucket.
                if candidate - now > allowance and not (granted == 0 and start == now):
                    break
                new_tat = candidate
                granted += 1
            if granted == 0:
                wait_us = start + costs[0] * interval - allowance - now
                return 0, max(wait_us, 1000) / 1_000_000
            if buckets.filter(key=self.key, tat=tat).update(tat=new_tat) == 1:
                return granted, 0.0
        # Heavy contention: let the caller come back shortly rather than spin.
        return 0, interval / 1_000_000


def limiter_for(alias: str) -> RateLimiter | None:
    """A limiter for ``alias`` when ``PYMESS_SMS_RATE_LIMITS`` limits it."""
    rate = get_rate(alias)
    return RateLimiter(alias, rate) if rate else None
