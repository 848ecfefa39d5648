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
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
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

logger = logging.getLogger("pymess.outbox")

CLAIM_CLEARED = {"claim_token": None, "lease_expires_at": None, "attempt_started_at": None}


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
    elapsed: float = 0.0
    states: dict[str, int] = field(default_factory=dict)

    @property
    def processed(self) -> int:
        return self.sent + self.failed + self.retried

    def add(self, other: BatchResult) -> None:
        for name in ("sent", "failed", "retried", "cancelled", "recovered", "unknown"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for state, count in other.states.items():
            self.states[state] = self.states.get(state, 0) + count


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


def claim(limit: int, *, alias: str | None = None, pks: Iterable[int] | None = None) -> Claim:
    """Claim up to ``limit`` sendable rows, highest priority first, then oldest."""
    from pymess.models.sms import OutputSMSMessage

    now = timezone.now()
    token = uuid.uuid4()
    lease = now + timedelta(seconds=config.lease_seconds())
    candidates = (
        OutputSMSMessage.objects.filter(_claimable(now, alias, pks))
        .order_by("-priority", "pk")
        .values_list("pk", flat=True)
    )
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            # Ids first: a LIMIT inside the UPDATE's subquery could over-claim here.
            ids = list(candidates.select_for_update(skip_locked=True)[:limit])
            if ids:
                OutputSMSMessage.objects.filter(pk__in=ids).update(
                    claim_token=token, lease_expires_at=lease
                )
    else:
        # One statement: SQLite serialises writers, so no two workers get the same row.
        OutputSMSMessage.objects.filter(pk__in=candidates[:limit]).update(
            claim_token=token, lease_expires_at=lease
        )
    messages = list(OutputSMSMessage.objects.filter(claim_token=token).order_by("-priority", "pk"))
    return Claim(token, messages)


def recover_expired_leases() -> BatchResult:
    """Release claims whose worker vanished, and expire messages past ``expires_at``.

    Rows never started go back to the queue; rows started but never recorded
    may have reached the provider, so they become ``UNKNOWN`` for a state check
    to resolve - never re-sent.
    """
    from pymess.models.sms import OutputSMSMessage

    now = timezone.now()
    result = BatchResult()
    expired = OutputSMSMessage.objects.filter(claim_token__isnull=False, lease_expires_at__lt=now)
    result.recovered = expired.filter(attempt_started_at__isnull=True).update(**CLAIM_CLEARED)
    lost = list(expired.filter(attempt_started_at__isnull=False))
    if lost:
        updates = [
            StateUpdate(
                m, State.UNKNOWN,
                {"error": "The worker stopped during the provider call; the outcome is unknown.",
                 **CLAIM_CLEARED},
            )
            for m in lost
        ]
        # Guarded per token: each lost row keeps the token of the worker that died.
        for token in {m.claim_token for m in lost}:
            group = [u for u in updates if u.message.claim_token == token]
            result.unknown += len(apply_state_updates(group, claim_token=token))
    stale = list(
        OutputSMSMessage.objects.filter(
            state__in=SENDABLE_STATES, claim_token__isnull=True, expires_at__lte=now
        )[:1000]
    )
    if stale:
        updates = [
            StateUpdate(m, State.ERROR, {"error": "Expired before it could be sent."}) for m in stale
        ]
        result.failed += len(apply_state_updates(updates))
    return result


def send_claim(claim: Claim, *, executor: ThreadPoolExecutor | None = None) -> BatchResult:
    """Send every message of ``claim`` and record the outcomes."""
    from pymess.backend.sms.registry import get_backend
    from pymess.plugins import get_plugins

    started = time.monotonic()
    result = BatchResult()
    if not claim.messages:
        return result
    plugins = get_plugins()
    updates: list[StateUpdate] = []
    to_send: list[OutputSMSMessage] = []
    for message in claim.messages:
        backend = get_backend(message.backend_alias)
        try:
            plugins.sms_pre_send(message, backend)
        except SendCancelled as exc:
            updates.append(StateUpdate(message, State.ERROR, {"error": exc.reason, **CLAIM_CLEARED}))
            result.cancelled += 1
            continue
        to_send.append(message)

    to_send = _mark_started(claim.token, to_send)
    claimed_state = {m.pk: m.state for m in to_send}
    errors = _publish(to_send, executor)
    now = timezone.now()
    for message in to_send:
        update = _outcome(message, errors.get(message.pk), now)
        update.old_state = claimed_state[message.pk]
        updates.append(update)

    apply_state_updates(updates, claim_token=claim.token)
    for update in updates:
        state = update.message.state
        result.states[state] = result.states.get(state, 0) + 1
        if state == State.ERROR_RETRY:
            result.retried += 1
        elif state == State.ERROR:
            result.failed += 1
        else:
            result.sent += 1
        plugins.sms_post_send(update.message, get_backend(update.message.backend_alias))
    result.elapsed = time.monotonic() - started
    return result


def _mark_started(token: uuid.UUID, messages: list[OutputSMSMessage]) -> list[OutputSMSMessage]:
    """Stamp the attempt; returns the messages this worker still owns."""
    from pymess.models.sms import OutputSMSMessage

    if not messages:
        return messages
    now = timezone.now()
    pks = [m.pk for m in messages]
    owned = OutputSMSMessage.objects.filter(pk__in=pks, claim_token=token)
    count = owned.update(attempt_started_at=now, number_of_send_attempts=F("number_of_send_attempts") + 1)
    if count != len(messages):
        still_owned = set(owned.values_list("pk", flat=True))
        messages = [m for m in messages if m.pk in still_owned]
    for message in messages:
        message.attempt_started_at = now
        message.number_of_send_attempts += 1
    return messages


def _publish(
    messages: Sequence[OutputSMSMessage], executor: ThreadPoolExecutor | None
) -> dict[int, BaseException]:
    """Call the providers (on the pool when given); returns the exception per failed message."""
    from pymess.backend.sms.registry import get_backend

    jobs: list[tuple[SMSBackend, list[OutputSMSMessage]]] = []
    by_alias: dict[str, list[OutputSMSMessage]] = {}
    for message in messages:
        by_alias.setdefault(message.backend_alias, []).append(message)
    for alias, group in by_alias.items():
        backend = get_backend(alias)
        size = backend.max_batch_size if backend.supports_batch_request else 1
        jobs.extend((backend, group[i : i + size]) for i in range(0, len(group), size))

    def run(job: tuple[SMSBackend, list[OutputSMSMessage]]) -> BaseException | None:
        backend, chunk = job
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

    if executor is None or len(jobs) == 1:
        outcomes = [run(job) for job in jobs]
    else:
        outcomes = list(executor.map(run, jobs))
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
    fields["next_attempt_at"] = now + timedelta(seconds=retry_delay(message.number_of_send_attempts, retry_after))
    return StateUpdate(message, State.ERROR_RETRY, fields)


def _no_retry_reason(message: OutputSMSMessage, retryable: bool, now: datetime) -> str:
    if not retryable:
        return "permanent error"
    if not message.retry_sending:
        return "retry_sending is off"
    max_attempts = config.retry_max_attempts()
    if message.number_of_send_attempts >= max_attempts:
        return f"gave up after {message.number_of_send_attempts} attempts (PYMESS_SMS_RETRY_MAX_ATTEMPTS)"
    if message.created_at and (now - message.created_at).total_seconds() > config.retry_max_age():
        return "gave up: older than PYMESS_SMS_RETRY_MAX_AGE"
    return ""


def retry_delay(attempts: int, retry_after: float | None = None) -> float:
    """Seconds before the next try: the provider's ``retry_after`` when given, else
    exponential backoff (base × 2^(attempts-1), capped) with jitter in [50 %, 100 %]."""
    if retry_after is not None and retry_after > 0:
        return float(retry_after)
    ceiling = min(config.retry_max_delay(), config.retry_base_delay() * 2 ** max(0, attempts - 1))
    return ceiling * random.uniform(0.5, 1.0)


def send_waiting(
    *,
    limit: int | None = None,
    alias: str | None = None,
    pks: Iterable[int] | None = None,
) -> BatchResult:
    """Claim and send waiting messages until none are left (or ``limit`` were processed)."""
    total = recover_expired_leases()
    batch = config.batch_size()
    pk_list = list(pks) if pks is not None else None
    remaining = limit
    with ThreadPoolExecutor(max_workers=config.worker_threads(), thread_name_prefix="pymess-send") as pool:
        while remaining is None or remaining > 0:
            size = batch if remaining is None else min(batch, remaining)
            current = claim(size, alias=alias, pks=pk_list)
            if not current.messages:
                break
            total.add(send_claim(current, executor=pool))
            if remaining is not None:
                remaining -= len(current.messages)
    return total
