"""The claim → start → record engine, in one process (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pymess.backend.sms import locmem
from pymess.enums import OutputSMSMessageState as State
from pymess.exceptions import SendCancelled
from pymess.models import OutputSMSMessage
from pymess.outbox import (
    BatchWorker,
    claim,
    count_claimable,
    recover_expired_leases,
    release,
    send_claim,
    send_waiting,
)
from tests.fixtures.fix_batch import make_waiting

pytestmark = pytest.mark.django_db


def test_claim_orders_by_priority_then_age_and_skips_the_not_yet_due():
    now = timezone.now()
    low = make_waiting(2)
    high = make_waiting(1, priority=5)
    make_waiting(1, next_attempt_at=now + timedelta(hours=1))  # scheduled for later
    make_waiting(1, expires_at=now - timedelta(seconds=1))  # too late
    make_waiting(1, state=State.SENT)
    due_retry = make_waiting(1, state=State.ERROR_RETRY, next_attempt_at=now - timedelta(seconds=1))

    assert count_claimable() == 4
    first = claim(3)
    assert [m.pk for m in first.messages] == [high[0].pk, low[0].pk, low[1].pk]
    assert all(m.claim_token == first.token for m in first.messages)
    second = claim(10)
    assert [m.pk for m in second.messages] == [due_retry[0].pk]
    assert claim(10).messages == []
    stored = OutputSMSMessage.objects.filter(claim_token=first.token)
    assert stored.count() == 3
    assert all(m.lease_expires_at > now for m in stored)


def test_claim_respects_alias_and_pks():
    a = make_waiting(2)
    make_waiting(2, backend_alias="other")
    assert {m.pk for m in claim(10, alias="default").messages} == {m.pk for m in a}
    other = make_waiting(1, backend_alias="other")
    assert [m.pk for m in claim(10, pks=[other[0].pk]).messages] == [other[0].pk]


def test_claim_is_one_statement_on_sqlite():
    """SQLite has no SKIP LOCKED: one UPDATE … WHERE id IN (SELECT … LIMIT n) claims atomically."""
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite claim path")
    make_waiting(5)
    with CaptureQueriesContext(connection) as queries:
        claim(3)
    update = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(update) == 1
    assert "IN (SELECT" in update[0]
    assert "LIMIT 3" in update[0]


def test_claim_locks_with_skip_locked_on_postgresql():
    if not connection.features.has_select_for_update_skip_locked:
        pytest.skip("databases with SKIP LOCKED")
    make_waiting(5)
    with CaptureQueriesContext(connection) as queries:
        claimed = claim(3)
    sqls = [q["sql"] for q in queries.captured_queries]
    assert any("FOR UPDATE SKIP LOCKED" in sql and "LIMIT 3" in sql for sql in sqls)
    update = next(sql for sql in sqls if sql.startswith("UPDATE"))
    assert "SELECT" not in update  # ids first, then the UPDATE: no over-claiming subquery
    assert len(claimed.messages) == 3


def test_send_waiting_sends_everything_and_clears_claims(sms_outbox):
    make_waiting(230)
    result = send_waiting()
    assert result.sent == 230
    assert len(sms_outbox) == 230
    assert not OutputSMSMessage.objects.exclude(state=State.SENT).exists()
    assert not OutputSMSMessage.objects.filter(claim_token__isnull=False).exists()
    assert set(OutputSMSMessage.objects.values_list("number_of_send_attempts", flat=True)) == {1}


def test_limit_caps_claims(sms_outbox):
    make_waiting(50)
    assert send_waiting(limit=7).sent == 7
    assert OutputSMSMessage.objects.filter(state=State.WAITING, claim_token=None).count() == 43


def test_records_are_set_based(sms_outbox, settings):
    """Starting and recording 100 messages take one UPDATE each, not one per message."""
    settings.PYMESS_SMS_BATCH_SIZE = 100
    make_waiting(100)
    with CaptureQueriesContext(connection) as queries:
        worker = BatchWorker(threads=100)
        worker.flush_interval = 60  # record only when a batch is full or the run ends
        worker.run()
    record_updates = [
        q
        for q in queries.captured_queries
        if q["sql"].startswith("UPDATE") and '"state"' in q["sql"].split("WHERE")[0]
    ]
    assert len(record_updates) == 1
    assert len(queries.captured_queries) < 15


def test_stale_worker_cannot_overwrite_or_send():
    """A worker whose claim was recovered neither starts nor records the row."""
    [message] = make_waiting(1)
    stale = claim(1)
    OutputSMSMessage.objects.update(claim_token=uuid.uuid4())  # someone else owns it now
    result = send_claim(stale)
    assert result.sent == 0
    assert OutputSMSMessage.objects.get().state == State.WAITING
    assert OutputSMSMessage.objects.get().number_of_send_attempts == 0
    assert locmem.outbox == []
    message.refresh_from_db()
    assert message.attempt_started_at is None


def test_late_record_after_recovery_changes_nothing(sms_outbox):
    from pymess.outbox import BatchResult, _mark_started, _outcome, _Recorder

    [_message] = make_waiting(1)
    claimed = claim(1)
    started = _mark_started(claimed.messages)
    OutputSMSMessage.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert recover_expired_leases().unknown == 1
    result = BatchResult()
    recorder = _Recorder(result)
    started[0].state = State.SENT
    recorder.add(_outcome(started[0], None, timezone.now()), State.WAITING)
    recorder.flush()
    assert result.lost_claims == 1
    assert result.sent == 0
    assert OutputSMSMessage.objects.get().state == State.UNKNOWN


def test_recovery_requeues_unstarted_and_marks_started_unknown():
    make_waiting(4)
    claimed = claim(4)
    from pymess.outbox import _mark_started

    _mark_started(claimed.messages[:1])
    OutputSMSMessage.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    result = recover_expired_leases()
    assert (result.recovered, result.unknown) == (3, 1)
    states = sorted(OutputSMSMessage.objects.values_list("state", flat=True))
    assert states == [State.UNKNOWN] + [State.WAITING] * 3
    unknown = OutputSMSMessage.objects.get(state=State.UNKNOWN)
    assert "outcome is unknown" in unknown.error
    assert unknown.claim_token is None


def test_recovery_leaves_live_leases_alone():
    make_waiting(2)
    claim(2)
    assert recover_expired_leases().recovered == 0
    assert OutputSMSMessage.objects.filter(claim_token__isnull=False).count() == 2


def test_expired_messages_fail_and_are_never_sent(sms_outbox):
    make_waiting(2, expires_at=timezone.now() - timedelta(seconds=1))
    result = send_waiting()
    assert result.failed == 2
    assert len(sms_outbox) == 0
    assert set(OutputSMSMessage.objects.values_list("error", flat=True)) == {
        "Expired before it could be sent."
    }


def test_release_gives_back_only_unstarted_claims():
    from pymess.outbox import _mark_started

    make_waiting(3)
    claimed = claim(3)
    _mark_started(claimed.messages[:1])
    assert release(claimed.messages) == 2
    assert OutputSMSMessage.objects.filter(claim_token__isnull=True).count() == 2


def test_pre_send_hook_cancels(sms_outbox, monkeypatch):
    from pymess.plugins import PymessPlugins

    def cancel(self, message, backend):
        if message.content == "no":
            raise SendCancelled("blocked by policy")

    monkeypatch.setattr(PymessPlugins, "sms_pre_send", cancel)
    make_waiting(1, content="no")
    make_waiting(1, content="yes")
    result = send_waiting()
    assert (result.sent, result.failed, result.cancelled) == (1, 1, 1)
    assert OutputSMSMessage.objects.get(content="no").error == "blocked by policy"


def test_post_send_and_state_hooks_fire_once_per_message(sms_outbox, monkeypatch):
    from pymess.plugins import PymessPlugins

    calls = {"post": 0, "state": 0}
    monkeypatch.setattr(
        PymessPlugins,
        "sms_post_send",
        lambda self, m, b: calls.__setitem__("post", calls["post"] + 1),
    )
    monkeypatch.setattr(
        PymessPlugins,
        "sms_state_updated",
        lambda self, m, o, n: calls.__setitem__("state", calls["state"] + 1),
    )
    make_waiting(120)
    send_waiting()
    assert calls == {"post": 120, "state": 120}


def test_batch_capable_backend_gets_chunks(settings, monkeypatch):
    from pymess.backend.sms.dummy import DummySMSBackend

    sizes = []
    original = DummySMSBackend.publish_messages

    def spy(self, messages):
        sizes.append(len(messages))
        original(self, messages)

    monkeypatch.setattr(DummySMSBackend, "publish_messages", spy)
    monkeypatch.setattr(DummySMSBackend, "max_batch_size", 40)
    settings.PYMESS_SMS_SENDER_BACKEND = "dummy"
    make_waiting(100)
    assert send_waiting().sent == 100
    assert max(sizes) <= 40
    assert sum(sizes) == 100
    assert set(OutputSMSMessage.objects.values_list("state", flat=True)) == {State.DEBUG}


def test_provider_429_pauses_the_alias_in_this_worker(sms_outbox, settings):
    from pymess.exceptions import RateLimitedError

    settings.PYMESS_SMS_WORKER_THREADS = 1
    make_waiting(3)
    locmem.fail_next(RateLimitedError("slow down", retry_after=0.3))
    result = send_waiting()
    assert (result.sent, result.retried) == (2, 1)
    assert result.elapsed >= 0.3
