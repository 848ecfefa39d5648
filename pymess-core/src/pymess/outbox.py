"""The message table as a queue: claim, send, record.

Every way a message leaves - ``send()`` sending at once, the
``send_messages_batch`` command, a task - runs the same three steps:

1. **Claim** rows in a short transaction, stamping a ``claim_token`` and a
   lease (``SELECT … FOR UPDATE SKIP LOCKED`` where the database has it, a
   single ``UPDATE … WHERE id IN (SELECT … LIMIT n)`` on SQLite).
2. **Start**: just before the provider call, stamp ``attempt_started_at``
   (guarded by the token). From here on a crash leaves the row ``UNKNOWN``,
   never silently re-sent.
3. **Record** the outcomes set-based through :mod:`pymess.states`, guarded by
   the token, clearing the claim. A stale worker's late write changes nothing.

No transaction or lock is held while a provider is called. Provider calls run
on a thread pool; the database is only touched from the calling thread.

:class:`BatchWorker` keeps that pool busy: it claims small chunks ahead of
need, starts messages only as threads free up, and records outcomes in sets as
they complete - it never waits for the slowest call of a chunk before sending
more. Memory stays bounded by the chunk size, whatever the queue length.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from pymess import config
from pymess.enums import OutputSMSMessageState as State
from pymess.exceptions import PermanentSendError, RateLimitedError, SendCancelled, SendError
from pymess.states import SENDABLE_STATES, StateUpdate, apply_state_updates

if TYPE_CHECKING:
    from pymess.backend.sms.base import SMSBackend
    from pymess.models.sms import OutputSMSMessage
    from pymess.ratelimit import RateLimiter

logger = logging.getLogger("pymess.outbox")

CLAIM_CLEARED = {"claim_token": None, "lease_expires_at": None, "attempt_started_at": None}
EXPIRED_ERROR = "Expired before it could be sent."
UNKNOWN_ERROR = "The worker stopped during the provider call; the outcome is unknown."
#: Rows handled per statement by lease recovery.
RECOVERY_CHUNK = 1000


@dataclass
class Claim:
    """Rows this worker owns until ``lease_expires_at``."""

    token: uuid.UUID
    messages: list[OutputSMSMessage]


@dataclass
class BatchResult:
    """What one run did, by outcome."""

    sent: int = 0
    failed: int = 0
    retried: int = 0
    cancelled: int = 0
    recovered: int = 0
    unknown: int = 0
    #: Outcomes a stale worker could not record (its lease had expired meanwhile).
    lost_claims: int = 0
    elapsed: float = 0.0
    states: dict[str, int] = field(default_factory=dict)
    #: Retried messages ``(pk, next_attempt_at)``, kept only with ``track_retries``
    #: (task dispatch re-enqueues them).
    retries: list[tuple[int, datetime]] = field(default_factory=list)
    track_retries: bool = False

    @property
    def processed(self) -> int:
        return self.sent + self.failed + self.retried

    def add(self, other: BatchResult) -> None:
        for name in (
            "sent",
            "failed",
            "retried",
            "cancelled",
            "recovered",
            "unknown",
            "lost_claims",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for state, count in other.states.items():
            self.states[state] = self.states.get(state, 0) + count
        self.retries.extend(other.retries)

    def summary(self) -> str:
        """One line for logs and non-interactive output."""
        text = (
            f"sent {self.sent} / failed {self.failed} / retried {self.retried} / "
            f"elapsed {self.elapsed:.1f}s"
        )
        extra = [
            f"{name} {getattr(self, name)}"
            for name in ("cancelled", "recovered", "unknown", "lost_claims")
            if getattr(self, name)
        ]
        return f"{text} ({', '.join(extra)})" if extra else text

    def as_dict(self) -> dict[str, object]:
        return {
            "sent": self.sent,
            "failed": self.failed,
            "retried": self.retried,
            "cancelled": self.cancelled,
            "recovered": self.recovered,
            "unknown": self.unknown,
            "lost_claims": self.lost_claims,
            "states": dict(self.states),
        }

    def _count(self, update: StateUpdate) -> None:
        state = update.message.state
        self.states[state] = self.states.get(state, 0) + 1
        if state == State.ERROR_RETRY:
            self.retried += 1
            if self.track_retries and update.message.next_attempt_at is not None:
                self.retries.append((update.message.pk, update.message.next_attempt_at))
        elif state == State.ERROR:
            self.failed += 1
        else:
            self.sent += 1


def new_claim_fields(now: datetime | None = None) -> dict[str, object]:
    """Fields that make a freshly created row claimed by its creator (``send()`` at once)."""
    now = now or timezone.now()
    return {
        "claim_token": uuid.uuid4(),
        "lease_expires_at": now + timedelta(seconds=config.lease_seconds()),
    }


def _claimable(now: datetime, alias: str | None, pks: Iterable[int] | None) -> Q:
    condition = (
        Q(state__in=SENDABLE_STATES, claim_token__isnull=True)
        & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))
    )
    if alias is not None:
        condition &= Q(backend_alias=alias)
    if pks is not None:
        condition &= Q(pk__in=list(pks))
    return condition


def count_claimable(*, alias: str | None = None, pks: Iterable[int] | None = None) -> int:
    """How many messages could be claimed right now (for progress reports)."""
    from pymess.models.sms import OutputSMSMessage

    return OutputSMSMessage.objects.filter(_claimable(timezone.now(), alias, pks)).count()


def claim(limit: int, *, alias: str | None = None, pks: Iterable[int] | None = None) -> Claim:
    """Claim up to ``limit`` sendable rows, highest priority first, then oldest.

    Two workers never get the same row: on PostgreSQL and MariaDB the rows are
    locked with ``SKIP LOCKED`` and their ids collected before the ``UPDATE``
    (a ``LIMIT`` inside the ``UPDATE``'s subquery may over-claim there); SQLite
    serialises writers, so one ``UPDATE … WHERE id IN (SELECT … LIMIT n)`` is atomic.
    """
    from pymess.models.sms import OutputSMSMessage

    now = timezone.now()
    token = uuid.uuid4()
    lease = now + timedelta(seconds=config.lease_seconds())
    candidates = OutputSMSMessage.objects.filter(_claimable(now, alias, pks)).order_by(
        "-priority", "pk"
    )
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            messages = list(candidates.select_for_update(skip_locked=True)[:limit])
            if messages:
                OutputSMSMessage.objects.filter(pk__in=[m.pk for m in messages]).update(
                    claim_token=token, lease_expires_at=lease
                )
        for message in messages:
            message.claim_token = token
            message.lease_expires_at = lease
    else:
        OutputSMSMessage.objects.filter(
            pk__in=candidates.values_list("pk", flat=True)[:limit]
        ).update(claim_token=token, lease_expires_at=lease)
        messages = list(
            OutputSMSMessage.objects.filter(claim_token=token).order_by("-priority", "pk")
        )
    return Claim(token, messages)


def release(messages: Iterable[OutputSMSMessage]) -> int:
    """Give back claimed messages that were never started; returns how many were released."""
    from pymess.models.sms import OutputSMSMessage

    released = 0
    for token, group in _by_token(messages).items():
        released += OutputSMSMessage.objects.filter(
            pk__in=[m.pk for m in group], claim_token=token, attempt_started_at__isnull=True
        ).update(claim_token=None, lease_expires_at=None)
    return released


def recover_expired_leases() -> BatchResult:
    """Release claims whose worker vanished, and fail messages past ``expires_at``.

    Rows never started go back to the queue; rows started but never recorded
    may have reached the provider, so they become ``UNKNOWN`` for a state check
    to resolve - never re-sent. Works in bounded chunks.
    """
    from pymess.models.sms import OutputSMSMessage

    now = timezone.now()
    result = BatchResult()
    expired = OutputSMSMessage.objects.filter(claim_token__isnull=False, lease_expires_at__lt=now)
    result.recovered = expired.filter(attempt_started_at__isnull=True).update(
        claim_token=None, lease_expires_at=None
    )
    last_pk = 0
    while True:
        lost = list(
            expired.filter(attempt_started_at__isnull=False, pk__gt=last_pk).order_by("pk")[
                :RECOVERY_CHUNK
            ]
        )
        if not lost:
            break
        last_pk = lost[-1].pk
        for token, group in _by_token(lost).items():
            updates = [
                StateUpdate(m, State.UNKNOWN, {"error": UNKNOWN_ERROR, **CLAIM_CLEARED})
                for m in group
            ]
            # Guarded by the dead worker's token: a row recorded meanwhile is left alone.
            result.unknown += len(apply_state_updates(updates, claim_token=token))
    stale = OutputSMSMessage.objects.filter(
        state__in=SENDABLE_STATES, claim_token__isnull=True, expires_at__lte=now
    ).order_by("pk")
    while True:
        chunk = list(stale[:RECOVERY_CHUNK])
        if not chunk:
            break
        updates = [StateUpdate(m, State.ERROR, {"error": EXPIRED_ERROR}) for m in chunk]
        applied = apply_state_updates(updates)
        result.failed += len(applied)
        if not applied:
            break  # someone else is changing them; leave the rest to the next run
    return result


def send_claim(claim: Claim, *, executor: ThreadPoolExecutor | None = None) -> BatchResult:
    """Send every message of ``claim`` now and record the outcomes (``send()`` uses this)."""
    started = time.monotonic()
    result = BatchResult()
    if not claim.messages:
        return result
    for message in claim.messages:
        message.claim_token = claim.token
    recorder = _Recorder(result)
    to_send = _prepare(claim.messages, recorder)
    to_send = _mark_started(to_send)
    claimed_state = {m.pk: m.state for m in to_send}
    errors = _publish_all(to_send, executor)
    now = timezone.now()
    for message in to_send:
        recorder.add(_outcome(message, errors.get(message.pk), now), claimed_state[message.pk])
    recorder.flush()
    result.elapsed = time.monotonic() - started
    return result


def _by_token(messages: Iterable[OutputSMSMessage]) -> dict[uuid.UUID, list[OutputSMSMessage]]:
    groups: dict[uuid.UUID, list[OutputSMSMessage]] = {}
    for message in messages:
        if message.claim_token is not None:
            groups.setdefault(message.claim_token, []).append(message)
    return groups


class _Recorder:
    """Collects outcomes and writes them set-based, one guarded statement per claim token."""

    def __init__(self, result: BatchResult) -> None:
        self.result = result
        self.pending: list[StateUpdate] = []
        self.oldest = 0.0

    def add(self, update: StateUpdate, old_state: str) -> None:
        if not self.pending:
            self.oldest = time.monotonic()
        update.old_state = old_state
        self.pending.append(update)

    def __len__(self) -> int:
        return len(self.pending)

    def flush(self) -> None:
        if not self.pending:
            return
        from pymess.backend.sms.registry import get_backend
        from pymess.plugins import get_plugins

        updates, self.pending = self.pending, []
        groups: dict[uuid.UUID | None, list[StateUpdate]] = {}
        for update in updates:
            groups.setdefault(update.message.claim_token, []).append(update)
        for token, group in groups.items():
            apply_state_updates(group, claim_token=token)
        plugins = get_plugins()
        for update in updates:
            if not update.applied:
                # Our lease expired and another worker recovered the row meanwhile.
                self.result.lost_claims += 1
                logger.warning(
                    "Could not record the outcome of SMS #%s: its claim expired meanwhile "
                    "(raise PYMESS_SMS_LEASE_SECONDS above the provider timeout).",
                    update.message.pk,
                )
                continue
            self.result._count(update)
            plugins.sms_post_send(update.message, get_backend(update.message.backend_alias))


def _prepare(messages: Sequence[OutputSMSMessage], recorder: _Recorder) -> list[OutputSMSMessage]:
    """Run pre-send hooks and drop expired messages; returns those still to send."""
    from pymess.backend.sms.registry import get_backend
    from pymess.plugins import get_plugins

    plugins = get_plugins()
    now = timezone.now()
    ready = []
    for message in messages:
        if message.expires_at is not None and message.expires_at <= now:
            recorder.add(
                StateUpdate(message, State.ERROR, {"error": EXPIRED_ERROR, **CLAIM_CLEARED}),
                message.state,
            )
            continue
        try:
            plugins.sms_pre_send(message, get_backend(message.backend_alias))
        except SendCancelled as exc:
            recorder.add(
                StateUpdate(message, State.ERROR, {"error": exc.reason, **CLAIM_CLEARED}),
                message.state,
            )
            recorder.result.cancelled += 1
            continue
        ready.append(message)
    return ready


def _mark_started(messages: list[OutputSMSMessage]) -> list[OutputSMSMessage]:
    """Stamp the attempt and renew the lease; returns the messages this worker still owns."""
    from pymess.models.sms import OutputSMSMessage

    if not messages:
        return messages
    now = timezone.now()
    lease = now + timedelta(seconds=config.lease_seconds())
    owned_pks: set[int] = set()
    for token, group in _by_token(messages).items():
        pks = [m.pk for m in group]
        owned = OutputSMSMessage.objects.filter(pk__in=pks, claim_token=token)
        count = owned.update(
            attempt_started_at=now,
            lease_expires_at=lease,
            number_of_send_attempts=F("number_of_send_attempts") + 1,
        )
        if count == len(pks):
            owned_pks.update(pks)
        else:
            owned_pks.update(owned.values_list("pk", flat=True))
    kept = []
    for message in messages:
        if message.pk not in owned_pks:
            logger.warning(
                "SMS #%s was taken from this worker (claim expired); not sent.", message.pk
            )
            continue
        message.attempt_started_at = now
        message.lease_expires_at = lease
        message.number_of_send_attempts += 1
        kept.append(message)
    return kept


def _jobs(messages: Sequence[OutputSMSMessage]) -> list[tuple[SMSBackend, list[OutputSMSMessage]]]:
    """Provider calls for ``messages``: one per message, or per chunk for batch-capable backends."""
    from pymess.backend.sms.base import chunked
    from pymess.backend.sms.registry import get_backend

    by_alias: dict[str, list[OutputSMSMessage]] = {}
    for message in messages:
        by_alias.setdefault(message.backend_alias, []).append(message)
    jobs: list[tuple[SMSBackend, list[OutputSMSMessage]]] = []
    for alias, group in by_alias.items():
        backend = get_backend(alias)
        size = max(1, backend.max_batch_size) if backend.supports_batch_request else 1
        jobs.extend((backend, chunk) for chunk in chunked(group, size))
    return jobs


def _call_provider(backend: SMSBackend, chunk: list[OutputSMSMessage]) -> BaseException | None:
    """One provider call (on a worker thread: no database). Returns the failure, if any."""
    try:
        if len(chunk) == 1 and not backend.supports_batch_request:
            backend.publish_message(chunk[0])
        else:
            backend.publish_messages(chunk)
    except Exception as exc:
        if isinstance(exc, SendError):
            logger.info("%r: send failed for %d message(s): %s", backend, len(chunk), exc)
        else:
            # Not classified by the backend: counted as temporary, logged in full.
            logger.exception("%r raised while sending %d message(s)", backend, len(chunk))
        return exc
    return None


def _publish_all(
    messages: Sequence[OutputSMSMessage], executor: ThreadPoolExecutor | None
) -> dict[int, BaseException]:
    """Call the providers (on the pool when given); returns the exception per failed message."""
    jobs = _jobs(messages)
    if executor is None or len(jobs) == 1:
        outcomes = [_call_provider(*job) for job in jobs]
    else:
        outcomes = list(executor.map(lambda job: _call_provider(*job), jobs))
    errors: dict[int, BaseException] = {}
    for (_backend, chunk), error in zip(jobs, outcomes, strict=True):
        if error is not None:
            for message in chunk:
                errors[message.pk] = error
    return errors


def _outcome(message: OutputSMSMessage, error: BaseException | None, now: datetime) -> StateUpdate:
    """The state update for one provider call, with the retry policy applied."""
    fields: dict[str, object] = dict(CLAIM_CLEARED)
    retry_after: float | None = None
    if error is None:
        state = message.state
        if state in SENDABLE_STATES and state != State.ERROR_RETRY:
            # The backend returned without setting an outcome: it accepted the message.
            state = State.SENT
            message.sent_at = message.sent_at or now
        fields.update(
            sent_at=message.sent_at,
            external_id=message.external_id,
            extra_sender_data=message.extra_sender_data,
            sender=message.sender,
            error=message.error,
        )
        if state != State.ERROR_RETRY:
            fields["next_attempt_at"] = None
            return StateUpdate(message, state, fields)
        error_text = message.error or "The provider reported a temporary failure."
        retryable = True
    else:
        error_text = str(error) or type(error).__name__
        retryable = not isinstance(error, PermanentSendError)
        if isinstance(error, RateLimitedError):
            retry_after = error.retry_after

    reason = _no_retry_reason(message, retryable, now)
    if reason:
        fields["error"] = f"{error_text} ({reason})" if retryable else error_text
        fields["next_attempt_at"] = None
        return StateUpdate(message, State.ERROR, fields)
    fields["error"] = error_text
    fields["next_attempt_at"] = now + timedelta(
        seconds=retry_delay(message.number_of_send_attempts, retry_after)
    )
    return StateUpdate(message, State.ERROR_RETRY, fields)


def _no_retry_reason(message: OutputSMSMessage, retryable: bool, now: datetime) -> str:
    if not retryable:
        return "permanent error"
    if not message.retry_sending:
        return "retry_sending is off"
    max_attempts = config.retry_max_attempts()
    if message.number_of_send_attempts >= max_attempts:
        return (
            f"gave up after {message.number_of_send_attempts} attempts "
            "(PYMESS_SMS_RETRY_MAX_ATTEMPTS)"
        )
    if message.created_at and (now - message.created_at).total_seconds() > config.retry_max_age():
        return "gave up: older than PYMESS_SMS_RETRY_MAX_AGE"
    return ""


def retry_delay(attempts: int, retry_after: float | None = None) -> float:
    """Seconds before the next try: the provider's ``retry_after`` when given, else
    exponential backoff (base x 2^(attempts-1), capped) with jitter in [50 %, 100 %]."""
    if retry_after is not None and retry_after > 0:
        return float(retry_after)
    ceiling = min(config.retry_max_delay(), config.retry_base_delay() * 2 ** max(0, attempts - 1))
    return ceiling * random.uniform(0.5, 1.0)


class BatchWorker:
    """Sends waiting messages through a pipeline that keeps every pool thread busy.

    The main thread claims chunks of ``PYMESS_SMS_BATCH_SIZE`` before the
    buffer runs dry, starts messages only as threads free up (respecting rate
    limits), and records finished calls in sets every few hundred milliseconds.
    All database work happens here, on the main thread; pool threads only call
    providers.

    :param limit: claim at most this many messages.
    :param alias: only this backend alias.
    :param pks: only these messages (tasks pass their primary keys).
    :param loop: keep polling for new messages until :attr:`stop` is set.
    :param progress: called with the running :class:`BatchResult` after each record.
    """

    #: Record at least this often while calls complete (seconds).
    flush_interval = 0.5

    def __init__(
        self,
        *,
        limit: int | None = None,
        alias: str | None = None,
        pks: Iterable[int] | None = None,
        loop: bool = False,
        threads: int | None = None,
        batch_size: int | None = None,
        progress: Callable[[BatchResult], None] | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.limit = limit
        self.alias = alias
        self.pks = list(pks) if pks is not None else None
        self.loop = loop
        self.threads = threads or config.worker_threads()
        self.batch_size = max(1, batch_size or config.batch_size())
        self.progress = progress
        self.stop = stop or threading.Event()
        self.result = BatchResult(track_retries=self.pks is not None)
        self._recorder = _Recorder(self.result)
        self._buffer: deque[OutputSMSMessage] = deque()
        self._inflight: dict[
            Future[BaseException | None], tuple[list[OutputSMSMessage], dict[int, str]]
        ] = {}
        self._claimed = 0
        self._limiters: dict[str, RateLimiter | None] = {}
        self._paused_until: dict[str, float] = {}

    # -- the loop -----------------------------------------------------------------------------

    def run(self) -> BatchResult:
        started = time.monotonic()
        self.result.add(recover_expired_leases())
        exhausted = False
        last_recovery = time.monotonic()
        recovery_interval = max(config.batch_poll_interval(), 30.0)
        pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="pymess-send")
        try:
            while True:
                stopping = self.stop.is_set()
                if self.loop and time.monotonic() - last_recovery > recovery_interval:
                    self.result.add(recover_expired_leases())
                    last_recovery = time.monotonic()
                if not stopping and not exhausted and len(self._buffer) < self._low_water():
                    exhausted = not self._claim_more()
                if stopping and not self._inflight:
                    break  # the claims still buffered are released below
                wait_hint = 0.0 if stopping else self._submit(pool)
                self._collect(wait_hint)
                idle = not self._buffer and not self._inflight
                if idle:
                    self._flush()
                    if (exhausted and not self.loop) or self._limit_reached():
                        break
                    if exhausted:
                        # --loop: nothing to do now; wait, then look again.
                        self.stop.wait(config.batch_poll_interval())
                        exhausted = False
                elif not self._inflight and wait_hint > 0:
                    # Claimed but throttled: sleep until the bucket has room (or we're stopped).
                    self._flush()
                    self.stop.wait(wait_hint)
        finally:
            # Finish calls already made, record them, and give back what never started.
            self._drain()
            pool.shutdown(wait=True)
            try:
                self._flush()
            except Exception:
                # The rows stay started: lease recovery will mark them UNKNOWN, never re-send.
                logger.exception("Could not record %d outcome(s)", len(self._recorder))
            if self._buffer:
                try:
                    release(self._buffer)
                except Exception:
                    logger.exception("Could not release %d unstarted claim(s)", len(self._buffer))
                self._buffer.clear()
            self.result.elapsed = time.monotonic() - started
        return self.result

    def _low_water(self) -> int:
        return max(self._capacity(), self.batch_size // 2)

    def _limit_reached(self) -> bool:
        return self.limit is not None and self._claimed >= self.limit

    def _claim_more(self) -> bool:
        """Claim the next chunk; ``False`` when the queue had nothing (or the limit is reached)."""
        size = self.batch_size
        if self.limit is not None:
            size = min(size, self.limit - self._claimed)
            if size <= 0:
                return False
        claimed = claim(size, alias=self.alias, pks=self.pks)
        self._claimed += len(claimed.messages)
        self._buffer.extend(claimed.messages)
        return bool(claimed.messages)

    def _capacity(self) -> int:
        """Calls kept submitted: every thread busy plus a small queue, so threads never wait
        while the main thread is busy with the database. (Queued calls are already marked
        started: after a crash they end ``UNKNOWN``, never re-sent.)"""
        return self.threads + max(1, self.threads // 2)

    def _refill_at(self) -> int:
        """Free threads worth a start: a quarter of the pool, so marking messages started
        costs one UPDATE per few calls rather than one per call."""
        return max(1, self.threads // 4)

    def _submit(self, pool: ThreadPoolExecutor) -> float:
        """Start as many buffered messages as there are free threads; returns a throttle wait."""
        free = self._capacity() - len(self._inflight)
        if not self._buffer or free <= 0 or (self._inflight and free < self._refill_at()):
            return 0.0
        batch, wait_hint = self._take(free)
        if not batch:
            return wait_hint
        ready = _mark_started(_prepare(batch, self._recorder))
        for backend, chunk in _jobs(ready):
            claimed_state = {m.pk: m.state for m in chunk}
            future = pool.submit(_call_provider, backend, chunk)
            self._inflight[future] = (chunk, claimed_state)
        return wait_hint

    def _take(self, free: int) -> tuple[list[OutputSMSMessage], float]:
        """Up to ``free`` provider calls' worth of messages the rate limits allow now."""
        from pymess.backend.sms.registry import get_backend

        taken: list[OutputSMSMessage] = []
        wait_hint = 0.0
        held: list[OutputSMSMessage] = []
        calls = 0
        now = time.monotonic()
        while self._buffer and calls < free:
            message = self._buffer.popleft()
            alias = message.backend_alias
            paused = self._paused_until.get(alias, 0.0) - now
            if paused > 0:
                held.append(message)
                wait_hint = paused if not wait_hint else min(wait_hint, paused)
                continue
            backend = get_backend(alias)
            size = max(1, backend.max_batch_size) if backend.supports_batch_request else 1
            group = [message]
            while len(group) < size and self._buffer and self._buffer[0].backend_alias == alias:
                group.append(self._buffer.popleft())
            limiter = self._limiter(alias)
            if limiter is not None:
                granted, wait_s = limiter.acquire(limiter.costs([m.segments for m in group]))
                if granted < len(group):
                    held.extend(group[granted:])
                    group = group[:granted]
                if not granted:
                    self._paused_until[alias] = now + wait_s
                    wait_hint = wait_s if not wait_hint else min(wait_hint, wait_s)
                    continue
            taken.extend(group)
            calls += 1
        self._buffer.extendleft(reversed(held))
        return taken, wait_hint

    def _limiter(self, alias: str) -> RateLimiter | None:
        if alias not in self._limiters:
            from pymess.ratelimit import limiter_for

            self._limiters[alias] = limiter_for(alias)
        return self._limiters[alias]

    def _collect(self, wait_hint: float) -> None:
        """Wait briefly for calls to finish and queue their outcomes; record when due."""
        if self._inflight:
            timeout = self.flush_interval
            if wait_hint:
                timeout = min(timeout, wait_hint)
            elif self._buffer and self._capacity() - len(self._inflight) >= self._refill_at():
                timeout = 0.0  # threads are free and nothing throttles: go back and start more
            done, _ = wait(self._inflight, timeout=timeout, return_when=FIRST_COMPLETED)
            self._queue_outcomes(done)
        due = self._recorder.pending and (
            len(self._recorder) >= self.batch_size
            or time.monotonic() - self._recorder.oldest >= self.flush_interval
        )
        if due:
            self._flush()

    def _queue_outcomes(self, done: Iterable[Future[BaseException | None]]) -> None:
        now = timezone.now()
        for future in done:
            chunk, claimed_state = self._inflight.pop(future)
            error = future.result()
            for message in chunk:
                if isinstance(error, RateLimitedError) and error.retry_after:
                    # The provider asked us to slow down: pause the alias in this worker too.
                    self._paused_until[message.backend_alias] = time.monotonic() + error.retry_after
                self._recorder.add(_outcome(message, error, now), claimed_state[message.pk])

    def _drain(self) -> None:
        if self._inflight:
            done, _ = wait(list(self._inflight))
            self._queue_outcomes(done)

    def _flush(self) -> None:
        if not self._recorder.pending:
            return
        self._recorder.flush()
        if self.progress is not None:
            self.progress(self.result)


def send_waiting(
    *,
    limit: int | None = None,
    alias: str | None = None,
    pks: Iterable[int] | None = None,
    loop: bool = False,
    progress: Callable[[BatchResult], None] | None = None,
    stop: threading.Event | None = None,
) -> BatchResult:
    """Claim and send waiting messages until none are left (or ``limit`` were claimed).

    ``pks`` restricts the run to those messages (a task sends exactly its own);
    ``loop`` keeps polling until ``stop`` is set.
    """
    worker = BatchWorker(limit=limit, alias=alias, pks=pks, loop=loop, progress=progress, stop=stop)
    return worker.run()
