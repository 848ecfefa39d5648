"""Provider faults over real HTTP: each message ends where CONTRACT.md says, nothing escapes.

The fake provider runs in its own process; the message text picks its answer.
"""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from pymess.backend.sms import locmem
from pymess.enums import OutputSMSMessageState as State
from pymess.models import OutputSMSMessage
from tests.fakes.threaded_http import closed_port_url
from tests.fixtures.fix_batch import http_backends, make_waiting

pytestmark = pytest.mark.django_db


_window: dict[str, object] = {}


def run_batch() -> str:
    out = StringIO()
    _window["before"] = timezone.now()
    call_command("send_messages_batch", "--type=sms", "--no-progress", stdout=out)
    _window["after"] = timezone.now()
    return out.getvalue()


def delay(message: OutputSMSMessage) -> tuple[float, float]:
    """The retry delay chosen in the last run, as (at least, at most) seconds."""
    message.refresh_from_db()
    return (
        (message.next_attempt_at - _window["after"]).total_seconds(),
        (message.next_attempt_at - _window["before"]).total_seconds(),
    )


def within(bounds: tuple[float, float], low: float, high: float) -> bool:
    return low <= bounds[1] and bounds[0] <= high


def make_due() -> None:
    """Pretend the retry delays have passed."""
    OutputSMSMessage.objects.filter(state=State.ERROR_RETRY).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


@pytest.fixture
def provider_settings(settings, fake_provider):
    provider = fake_provider(hang=2.0)
    backends = http_backends(provider.url, timeout=0.5)
    backends["refused"] = http_backends(closed_port_url(), timeout=0.5)["default"]
    settings.PYMESS_SMS_BACKENDS = backends
    settings.PYMESS_SMS_RETRY_BASE_DELAY = 10
    settings.PYMESS_SMS_RETRY_MAX_ATTEMPTS = 4
    return provider


def test_each_fault_ends_in_its_contract_state(provider_settings):
    [ok] = make_waiting(1, content="hello")
    [e500] = make_waiting(1, content="fail:500")
    [hang] = make_waiting(1, content="fail:hang")
    [refused] = make_waiting(1, content="hello", backend_alias="refused")
    [limited] = make_waiting(1, content="fail:429:7")
    [permanent] = make_waiting(1, content="fail:400")
    [no_retry] = make_waiting(1, content="fail:500", retry_sending=False)

    output = run_batch()

    assert "sent 1 / failed 2 / retried 4" in output
    states = dict(OutputSMSMessage.objects.values_list("pk", "state"))
    assert states[ok.pk] == State.SENT
    for transient in (e500, hang, refused, limited):
        assert states[transient.pk] == State.ERROR_RETRY
    assert states[permanent.pk] == State.ERROR
    assert states[no_retry.pk] == State.ERROR
    assert within(delay(e500), 5, 10)  # base 10 s x jitter [0.5, 1]
    assert within(delay(limited), 7, 7)  # the provider's Retry-After, honoured
    permanent.refresh_from_db()
    no_retry.refresh_from_db()
    assert "[400]" in permanent.error
    assert "permanent error" not in permanent.error
    assert "retry_sending is off" in no_retry.error
    hang.refresh_from_db()
    refused.refresh_from_db()
    assert "timed out" in hang.error
    assert "refused" in refused.error
    # Nothing holds a claim afterwards.
    assert not OutputSMSMessage.objects.filter(claim_token__isnull=False).exists()


def test_retry_delays_grow_until_max_attempts(provider_settings):
    [message] = make_waiting(1, content="fail:500")
    delays = []
    for _round in range(3):
        run_batch()
        delays.append(delay(message))
        make_due()
    # base x 2^(n-1) with jitter in [50 %, 100 %]: disjoint, growing ranges.
    assert within(delays[0], 5, 10)
    assert within(delays[1], 10, 20)
    assert within(delays[2], 20, 40)
    run_batch()  # the fourth attempt is the last (PYMESS_SMS_RETRY_MAX_ATTEMPTS = 4)
    message.refresh_from_db()
    assert message.state == State.ERROR
    assert message.number_of_send_attempts == 4
    assert "gave up after 4 attempts" in message.error
    run_batch()
    assert provider_settings.log() == [(str(message.pk), 500)] * 4


def test_max_age_stops_retries(provider_settings, settings):
    settings.PYMESS_SMS_RETRY_MAX_AGE = 60
    [message] = make_waiting(1, content="fail:500")
    OutputSMSMessage.objects.filter(pk=message.pk).update(
        created_at=timezone.now() - timedelta(minutes=5)
    )
    run_batch()
    message.refresh_from_db()
    assert message.state == State.ERROR
    assert "PYMESS_SMS_RETRY_MAX_AGE" in message.error


def test_unclassified_backend_exception_is_temporary_and_does_not_escape(sms_outbox):
    make_waiting(3)
    locmem.fail_next(ValueError("bug in a backend"), ZeroDivisionError())
    output = run_batch()
    assert "sent 1 / failed 0 / retried 2" in output
    errors = set(
        OutputSMSMessage.objects.filter(state=State.ERROR_RETRY).values_list("error", flat=True)
    )
    assert errors == {"bug in a backend", "ZeroDivisionError"}
