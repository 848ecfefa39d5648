"""Asserting on the SMS your code sends, in tests - the ``mail.outbox`` of pymess.

:func:`capture_sms` points every configured backend alias at the in-memory
backend (:mod:`pymess.backend.sms.locmem`) and yields an :class:`SMSOutbox`.
The ``sms_outbox`` pytest fixture is built on it; with Django's ``TestCase``
use it as a context manager::

    with capture_sms() as outbox:
        send("+420777123456", "Your code is 1234")
    outbox.assert_sent(to="+420777123456", contains="1234")

Tests that run inside a transaction (pytest-django's ``db``, Django's
``TestCase``) never commit, yet pymess hands messages to the provider only on
commit. So reading the outbox first runs the hand-overs pymess has registered
with ``transaction.on_commit`` so far, as if the test's transaction committed.
Messages of a block that was rolled back are never handed over.

Nothing here imports Django at module level: importing this module never
configures anything.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pymess.models.sms import OutputSMSMessage

logger = logging.getLogger("pymess.testing")

__all__ = ["SMSOutbox", "assert_no_sms_sent", "assert_sms_sent", "capture_sms"]


def _callback_module(callback: Callable[..., Any]) -> str:
    while hasattr(callback, "func"):  # functools.partial
        callback = callback.func
    return str(getattr(callback, "__module__", "") or "")


def run_pending_pymess_callbacks() -> int:
    """Run (and forget) pymess's pending ``on_commit`` callbacks; return how many ran.

    Only callbacks defined in pymess modules run; your own stay pending (use
    Django's ``captureOnCommitCallbacks(execute=True)`` for those).
    """
    from django.db import connections

    ran = 0
    for _round in range(100):  # a callback may register another; bounded all the same
        pending: list[Any] = []  # (savepoint ids, callback, robust) in Django 5.x
        for connection in connections.all(initialized_only=True):
            if not connection.in_atomic_block or not connection.run_on_commit:
                continue
            keep = []
            for entry in connection.run_on_commit:
                if _callback_module(entry[1]).split(".")[0] == "pymess":
                    pending.append(entry)
                else:
                    keep.append(entry)
            connection.run_on_commit[:] = keep
        if not pending:
            return ran
        for _savepoints, callback, robust in pending:
            ran += 1
            if not robust:
                callback()
                continue
            try:
                callback()
            except Exception:
                logger.exception("pymess on_commit callback %r failed", callback)
    return ran


def _normalize(number: str) -> str:
    from pymess.exceptions import InvalidRecipient
    from pymess.recipients import normalize_recipient

    try:
        return normalize_recipient(number)
    except InvalidRecipient:
        return number


def _describe(message: OutputSMSMessage) -> str:
    content = message.content if len(message.content) <= 60 else message.content[:57] + "..."
    extra = f", tag={message.tag!r}" if message.tag else ""
    return f"to {message.recipient}: {content!r} ({message.state}{extra})"


class SMSOutbox:
    """The messages handed to the in-memory backend, oldest first.

    Behaves as a read-only sequence of :class:`~pymess.models.sms.OutputSMSMessage`
    (``len(outbox)``, ``outbox[-1]``, iteration); reading it first runs pymess's
    pending on-commit hand-overs (see the module docstring).
    """

    def __init__(self) -> None:
        from pymess.backend.sms import locmem

        self._locmem = locmem

    @property
    def messages(self) -> list[OutputSMSMessage]:
        """A snapshot of the outbox, after pending hand-overs ran."""
        run_pending_pymess_callbacks()
        return list(self._locmem.outbox)

    def __len__(self) -> int:
        return len(self.messages)

    def __iter__(self) -> Iterator[OutputSMSMessage]:
        return iter(self.messages)

    def __getitem__(self, index: int) -> OutputSMSMessage:
        return self.messages[index]

    def __bool__(self) -> bool:
        return bool(self.messages)

    def __repr__(self) -> str:
        return f"<SMSOutbox: {len(self._locmem.outbox)} message(s)>"

    def clear(self) -> None:
        """Forget the messages recorded so far (and any failures queued with :meth:`fail_next`)."""
        run_pending_pymess_callbacks()
        self._locmem.reset()

    def fail_next(self, *errors: BaseException) -> None:
        """Make the next sends raise ``errors`` in order, e.g. ``TemporarySendError("down")``."""
        self._locmem.fail_next(*errors)

    def filter(
        self,
        to: str | None = None,
        contains: str | None = None,
        *,
        content: str | None = None,
        tag: str | None = None,
        template: str | None = None,
        alias: str | None = None,
        state: str | None = None,
        **extra_data: Any,
    ) -> list[OutputSMSMessage]:
        """The messages matching every given criterion.

        :param to: recipient, in any form pymess accepts (it is normalised to E.164).
        :param contains: a substring of the content.
        :param content: the exact content.
        :param tag: the ``tag`` passed to ``send()``.
        :param template: the slug of the template the message was rendered from.
        :param alias: the ``PYMESS_SMS_BACKENDS`` alias that sent it.
        :param state: the message's current state, e.g. ``"SENT"``.
        :param extra_data: items that must be in the message's ``extra_data``.
        """
        wanted_to = _normalize(to) if to is not None else None
        found = []
        for message in self.messages:
            if wanted_to is not None and message.recipient != wanted_to:
                continue
            if contains is not None and contains not in message.content:
                continue
            if content is not None and message.content != content:
                continue
            if tag is not None and message.tag != tag:
                continue
            if template is not None and message.template_slug != template:
                continue
            if alias is not None and message.backend_alias != alias:
                continue
            if state is not None and message.state != state:
                continue
            data = message.extra_data or {}
            if any(key not in data or data[key] != value for key, value in extra_data.items()):
                continue
            found.append(message)
        return found

    def assert_sent(
        self,
        to: str | None = None,
        contains: str | None = None,
        *,
        count: int | None = None,
        **criteria: Any,
    ) -> OutputSMSMessage | None:
        """Assert a matching SMS was sent (exactly ``count`` of them, when given); return the last.

        Takes the criteria of :meth:`filter`. The failure message lists the outbox.
        """
        found = self.filter(to, contains, **criteria)
        if (count is None and not found) or (count is not None and len(found) != count):
            wanted = _criteria_text(to=to, contains=contains, **criteria)
            expected = "at least one SMS" if count is None else f"{count} SMS"
            raise AssertionError(
                f"Expected {expected} {wanted}, found {len(found)}.\n{self._listing()}"
            )
        return found[-1] if found else None

    def assert_not_sent(
        self, to: str | None = None, contains: str | None = None, **criteria: Any
    ) -> None:
        """Assert no SMS matches (with no criteria: that nothing was sent at all)."""
        found = self.filter(to, contains, **criteria)
        if found:
            wanted = _criteria_text(to=to, contains=contains, **criteria) or "at all"
            raise AssertionError(
                f"Expected no SMS {wanted}, found {len(found)}.\n{self._listing()}"
            )

    def _listing(self) -> str:
        messages = list(self._locmem.outbox)
        if not messages:
            return "The SMS outbox is empty."
        lines = [f"The SMS outbox holds {len(messages)} message(s):"]
        lines += [f"  {i}. {_describe(m)}" for i, m in enumerate(messages, 1)]
        return "\n".join(lines)


def _criteria_text(**criteria: Any) -> str:
    parts = [f"to {criteria.pop('to')}"] if criteria.get("to") is not None else []
    parts += [f"{name}={value!r}" for name, value in criteria.items() if value is not None]
    return " ".join(parts)


@contextmanager
def capture_sms() -> Iterator[SMSOutbox]:
    """Send through the in-memory backend for the duration of the block.

    Every configured alias (``PYMESS_SMS_BACKENDS``, or the ``default`` alias of
    ``PYMESS_SMS_SENDER_BACKEND``) is redirected, so no provider is ever called.
    The outbox is emptied on entry and on exit.
    """
    from django.conf import settings
    from django.test import override_settings

    from pymess import config

    if not settings.configured:
        raise RuntimeError(
            "capture_sms() / sms_outbox needs configured Django settings: install "
            "pytest-django and set DJANGO_SETTINGS_MODULE (see 'Testing your code that sends SMS')."
        )
    aliases = list(config.sms_backends())
    redirected = {alias: {"BACKEND": "locmem", "OPTIONS": {}} for alias in aliases}
    outbox = SMSOutbox()
    outbox._locmem.reset()
    try:
        with override_settings(PYMESS_SMS_BACKENDS=redirected):
            yield outbox
    finally:
        outbox._locmem.reset()


def assert_sms_sent(
    to: str | None = None, contains: str | None = None, *, count: int | None = None, **criteria: Any
) -> OutputSMSMessage | None:
    """:meth:`SMSOutbox.assert_sent` as a function (with ``sms_outbox`` or :func:`capture_sms`)."""
    return SMSOutbox().assert_sent(to, contains, count=count, **criteria)


def assert_no_sms_sent(to: str | None = None, contains: str | None = None, **criteria: Any) -> None:
    """Module-level :meth:`SMSOutbox.assert_not_sent`."""
    SMSOutbox().assert_not_sent(to, contains, **criteria)
