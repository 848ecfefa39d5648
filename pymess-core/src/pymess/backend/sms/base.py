"""The base class every SMS backend extends.

A backend only talks to its provider. pymess owns the fixed sequence around it
(claiming the message, hooks, recording the outcome through
:mod:`pymess.states`, retry decisions), so a backend:

* sets the outcome on the message instance in :meth:`SMSBackend.publish_message`
  (``state``, ``sent_at``, ``error``, ``external_id``, ``extra_sender_data``,
  ``sender``) and never saves it - pymess may call it from worker threads;
* reports failure by raising :class:`~pymess.exceptions.TemporarySendError`,
  :class:`~pymess.exceptions.RateLimitedError` or
  :class:`~pymess.exceptions.PermanentSendError`.
"""

from __future__ import annotations

import datetime
import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from pymess import config
from pymess.enums import OutputSMSMessageState as State
from pymess.exceptions import PermanentSendError, SendError

if TYPE_CHECKING:
    from pymess.models.sms import OutputSMSMessage

logger = logging.getLogger("pymess.backend")

_REQUIRED = object()
T = TypeVar("T")


class SMSBackend:
    """Base class of SMS backends.

    Subclasses declare their options in :attr:`options_spec` (``{KEY: default}``,
    with :data:`SMSBackend.REQUIRED` for keys without a default) and the
    per-provider setting that configures the ``default`` alias in
    :attr:`config_setting`.
    """

    REQUIRED: ClassVar[Any] = _REQUIRED

    #: Setting holding this provider's options for the ``default`` alias,
    #: e.g. ``PYMESS_TWILIO_SMS_CONFIG``.
    config_setting: ClassVar[str | None] = None
    #: Accepted option keys and their defaults.
    options_spec: ClassVar[Mapping[str, Any]] = {}
    #: The dotted path users write in settings (recorded in ``OutputSMSMessage.backend``).
    import_path: ClassVar[str | None] = None

    #: :meth:`publish_messages` sends several messages in one provider request.
    supports_batch_request: ClassVar[bool] = False
    #: :meth:`check_sms_states` asks the provider for delivery states.
    supports_state_polling: ClassVar[bool] = False
    #: The provider pushes delivery reports to a view (webhook).
    supports_status_callbacks: ClassVar[bool] = False
    #: The provider lets us choose an alphanumeric sender id.
    supports_sender_id: ClassVar[bool] = False
    #: How many messages :meth:`publish_messages` sends per request, at most.
    max_batch_size: ClassVar[int] = 1

    def __init__(
        self, alias: str = config.DEFAULT_BACKEND_ALIAS, options: Mapping[str, Any] | None = None
    ):
        self.alias = alias
        options = dict(options or {})
        problems = self.option_problems(options)
        if problems:
            raise ImproperlyConfigured(f"{self.settings_hint()}: {' '.join(problems)}")
        self.options: dict[str, Any] = {
            key: options.get(key, default) for key, default in self.options_spec.items()
        }
        self._client: Any = None
        self._client_lock = threading.Lock()

    # -- configuration -------------------------------------------------------------------------

    @classmethod
    def dotted_path(cls) -> str:
        return cls.import_path or f"{cls.__module__}.{cls.__qualname__}"

    @classmethod
    def option_problems(cls, options: Mapping[str, Any]) -> list[str]:
        """Human-readable problems with ``options`` (unknown keys, missing required keys)."""
        problems = []
        unknown = sorted(set(options) - set(cls.options_spec))
        if unknown:
            allowed = ", ".join(sorted(cls.options_spec)) or "none"
            problems.append(f"unknown option(s) {', '.join(unknown)} (allowed: {allowed}).")
        missing = sorted(
            key
            for key, default in cls.options_spec.items()
            if default is _REQUIRED and options.get(key) in (None, "")
        )
        if missing:
            problems.append(f"missing required option(s) {', '.join(missing)}.")
        return problems

    def settings_hint(self) -> str:
        where = f'PYMESS_SMS_BACKENDS["{self.alias}"]["OPTIONS"]'
        if self.alias == config.DEFAULT_BACKEND_ALIAS and self.config_setting:
            where = f"{self.config_setting} (or {where})"
        return f"{type(self).__name__} is misconfigured in {where}"

    def check(self) -> list[checks.CheckMessage]:
        """Extra system checks for this backend; the options were validated on construction."""
        return []

    def timeout(self) -> float:
        return float(self.options.get("TIMEOUT") or 10)

    # -- the provider client --------------------------------------------------------------------

    def build_client(self) -> Any:
        """Build the provider client (an SDK client, an HTTP session); override to use one.

        Called once per backend instance, on first use, under a lock. Backends are
        cached per alias and process and their client is shared by the worker
        threads, so size its connection pool to ``pymess.config.worker_threads()``.
        """
        raise NotImplementedError(f"{type(self).__name__} has no provider client.")

    def get_client(self) -> Any:
        """The provider client shared by this backend's worker threads, built on first use."""
        client = self._client
        if client is None:
            with self._client_lock:
                if self._client is None:
                    self._client = self.build_client()
                client = self._client
        return client

    def close_client(self, client: Any) -> None:
        """Release ``client``'s connections; by default calls its ``close()`` when it has one."""
        close = getattr(client, "close", None)
        if callable(close):
            close()

    def close(self) -> None:
        """Drop the provider client (pymess calls this when it resets its cached backends)."""
        with self._client_lock:
            client, self._client = self._client, None
        if client is not None:
            self.close_client(client)

    # -- sending -------------------------------------------------------------------------------

    def publish_message(self, message: OutputSMSMessage) -> None:
        """Send ``message`` and set the outcome on it. Must be overridden.

        Raise a :class:`~pymess.exceptions.SendError` subclass on failure.
        Do not touch the database: this may run on a worker thread.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement publish_message().")

    def publish_messages(self, messages: Sequence[OutputSMSMessage]) -> None:
        """Send several messages; by default one by one with :meth:`publish_message`.

        Backends with a batch API override it (and set ``supports_batch_request``)
        and set each message's outcome - a per-message failure as state
        ``ERROR`` or ``ERROR_RETRY`` with ``error``. Raising fails the whole batch.
        """
        for message in messages:
            try:
                self.publish_message(message)
            except SendError as exc:
                self.mark_failed(message, exc)

    @staticmethod
    def mark_failed(message: OutputSMSMessage, exc: BaseException) -> None:
        """Set a failed outcome on ``message`` (used for per-message failures in a batch)."""
        retryable = not isinstance(exc, PermanentSendError)
        message.state = State.ERROR_RETRY if retryable else State.ERROR
        message.error = str(exc) or type(exc).__name__

    @staticmethod
    def mark_sent(
        message: OutputSMSMessage,
        state: str = State.SENT,
        *,
        external_id: str | None = None,
        **extra_sender_data: Any,
    ) -> None:
        """Set a successful outcome on ``message``: state, ``sent_at``, provider id, extra data."""
        message.state = state
        message.sent_at = timezone.now()
        message.error = ""
        if external_id is not None:
            message.external_id = str(external_id)
        if extra_sender_data:
            message.extra_sender_data = {**(message.extra_sender_data or {}), **extra_sender_data}

    # -- delivery reports ----------------------------------------------------------------------

    def check_sms_states(self, messages: Sequence[OutputSMSMessage]) -> None:
        """Ask the provider for the state of ``messages`` and set it on each (no database access).

        Only for backends with ``supports_state_polling``.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot poll message states.")

    def bulk_check_sms_states(self) -> int:
        """Update the state of this backend's in-flight messages; return how many changed.

        Polls in chunks of ``PYMESS_SMS_STATE_CHECK_CHUNK_SIZE``; a no-op returning 0
        for backends that cannot poll.
        """
        if not self.supports_state_polling:
            return 0
        from pymess.states import StateUpdate, apply_state_updates

        changed = 0
        for chunk in self.in_flight_messages():
            before = {m.pk: (m.state, m.error) for m in chunk}
            try:
                self.check_sms_states(chunk)
            except SendError as exc:
                logger.warning(
                    "State check failed for %d message(s) via %r: %s", len(chunk), self, exc
                )
                continue
            updates = [
                StateUpdate(
                    m,
                    m.state,
                    {"error": m.error} if m.error != before[m.pk][1] else {},
                    old_state=before[m.pk][0],
                )
                for m in chunk
                if (m.state, m.error) != before[m.pk]
            ]
            changed += len(apply_state_updates(updates))
        return changed

    def in_flight_messages(self) -> Iterator[list[OutputSMSMessage]]:
        """This alias' messages a provider may still report on, in bounded chunks by primary key."""
        from pymess.models.sms import OutputSMSMessage
        from pymess.states import IN_FLIGHT_STATES

        size = config.state_check_chunk_size()
        queryset = OutputSMSMessage.objects.filter(
            backend_alias=self.alias, state__in=IN_FLIGHT_STATES
        ).order_by("pk")
        last_pk = 0
        while True:
            chunk = list(queryset.filter(pk__gt=last_pk)[:size])
            if not chunk:
                return
            yield chunk
            last_pk = chunk[-1].pk

    def __repr__(self) -> str:
        return f"<{type(self).__name__} alias={self.alias!r}>"


def uniq_id(prefix: str | None, pk: int) -> str:
    """The id sent to providers that take ours: ``PREFIX-pk``, or just ``pk`` without a prefix."""
    return f"{prefix}-{pk}" if prefix else str(pk)


def pk_from_uniq_id(prefix: str | None, value: str) -> int | None:
    """Inverse of :func:`uniq_id`: removes the exact prefix; ``None`` when it is not ours."""
    value = value.strip()
    if prefix:
        head = f"{prefix}-"
        if not value.startswith(head):
            return None
        value = value[len(head) :]
    return int(value) if value.isdigit() else None


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date); ``None`` if unusable.

    Shared by every backend that reads the header, so they all honour it alike.
    """
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000": HTTP dates are GMT
        when = when.replace(tzinfo=datetime.UTC)
    return max(0.0, (when - timezone.now()).total_seconds())


def chunked(items: Sequence[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of at most ``size`` (at least one per list): provider batch requests."""
    items = list(items)
    step = max(1, size)
    for start in range(0, len(items), step):
        yield items[start : start + step]
