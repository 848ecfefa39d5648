"""The shared GCRA bucket behind PYMESS_SMS_RATE_LIMITS."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from pymess import ratelimit
from pymess.ratelimit import Rate, RateLimiter, parse_rate

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "per_second", "segments"),
    [
        ("20/s", 20, False),
        ("1200/m", 20, False),
        ("3600 / hour", 1, False),
        ("50 segments/s", 50, True),
        ("10 messages/sec", 10, False),
    ],
)
def test_parse_rate(text, per_second, segments):
    assert parse_rate(text) == Rate(per_second, segments=segments)


@pytest.mark.parametrize("text", ["fast", "20", "0/s", "20/fortnight", "-1/s"])
def test_bad_rate_says_how_to_write_one(text):
    with pytest.raises(ImproperlyConfigured, match=r'write e.g. "20/s"'):
        parse_rate(text, alias="default")


def test_limiter_for_reads_the_setting(settings):
    settings.PYMESS_SMS_RATE_LIMITS = {"default": "5/s"}
    assert ratelimit.limiter_for("default").rate == Rate(5)
    assert ratelimit.limiter_for("other") is None


def test_bucket_grants_a_burst_then_one_per_interval(monkeypatch):
    clock = [1_000_000_000_000]
    monkeypatch.setattr(ratelimit, "_now_us", lambda: clock[0])
    limiter = RateLimiter("default", Rate(100))  # burst 10, one per 10 ms
    assert limiter.acquire([1] * 50) == (10, 0.0)
    granted, wait = limiter.acquire([1])
    assert granted == 0
    assert wait == pytest.approx(0.01)
    clock[0] += 35_000  # 35 ms later: three more
    assert limiter.acquire([1] * 50)[0] == 3


def test_two_limiters_share_one_bucket(monkeypatch):
    """Processes share the row, not Python objects: two instances see each other's takes."""
    clock = [1_000_000_000_000]
    monkeypatch.setattr(ratelimit, "_now_us", lambda: clock[0])
    a, b = RateLimiter("default", Rate(100)), RateLimiter("default", Rate(100))
    assert a.acquire([1] * 6)[0] == 6
    assert b.acquire([1] * 6)[0] == 4


def test_segments_are_counted_when_asked(monkeypatch):
    clock = [1_000_000_000_000]
    monkeypatch.setattr(ratelimit, "_now_us", lambda: clock[0])
    limiter = RateLimiter("default", Rate(100, segments=True))  # burst 10 segments
    costs = limiter.costs([3, 3, 3, 3])
    assert costs == [3, 3, 3, 3]
    assert limiter.acquire(costs)[0] == 3  # 9 segments fit, the 4th message waits
    # A message longer than the whole burst still goes, alone, from a full bucket.
    clock[0] += 10_000_000
    assert limiter.acquire([25, 1])[0] == 1


def test_worker_respects_the_limit_in_process(sms_outbox, settings):
    from pymess.outbox import send_waiting
    from tests.fixtures.fix_batch import make_waiting

    settings.PYMESS_SMS_RATE_LIMITS = {"default": "50/s"}
    make_waiting(30)
    result = send_waiting()
    assert result.sent == 30
    # 5 go at once (burst), the other 25 at 50/s: at least half a second.
    assert result.elapsed >= 0.45
