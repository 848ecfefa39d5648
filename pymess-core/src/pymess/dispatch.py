"""How queued messages get picked up: cron (the batch command), Django Tasks, or Celery.

``PYMESS_SMS_DISPATCH``:

* ``"cron"`` (default) - nothing is enqueued; run ``send_messages_batch`` from
  cron or as a service (``--loop``).
* ``"tasks"`` - Django's Tasks framework (``django.tasks`` on Django 6, the
  ``django-tasks`` backport on 5.2), so any tasks backend: database, RQ, Celery.
* ``"celery"`` - a Celery task (``pymess.celery.send_sms_messages``).

Only primary keys travel through a queue, and only after the surrounding
transaction commits. The task runs the same claim → send → record code as the
batch command and claims exactly its own messages, so a task delivered twice
sends once. Messages scheduled with ``send_at`` and retries are enqueued with a
delay where the queue supports one. Keep ``send_messages_batch`` in cron as a
sweeper anyway (every few minutes): it also releases claims of dead workers,
and sends what a broker outage kept from being enqueued.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from django.db import transaction

from pymess import config

if TYPE_CHECKING:
    from pymess.models.sms import OutputSMSMessage

logger = logging.getLogger("pymess.dispatch")


def message_queued(message: OutputSMSMessage) -> None:
    """Called by ``send()`` when a message is stored for later (batch mode or ``send_at``)."""
    if config.dispatch() == "cron":
        return
    enqueue([message.pk], run_after=message.next_attempt_at)


def enqueue(pks: Sequence[int], *, run_after: datetime | None = None) -> None:
    """Hand ``pks`` to the configured task queue once the current transaction commits.

    A failure to enqueue (broker down) is logged, never raised: the messages
    stay ``WAITING`` for the ``send_messages_batch`` sweeper.
    """
    mode = config.dispatch()
    if mode == "cron" or not pks:
        return
    pks = list(pks)
    if mode == "tasks":
        from pymess.tasks import enqueue_now

        transaction.on_commit(partial(enqueue_now, pks, run_after), robust=True)
    else:
        from pymess.celery import enqueue_now as celery_enqueue_now

        # What Celery's delay_on_commit() does, but robust: a broker outage must not
        # break the caller's request (the sweeper sends the message later).
        transaction.on_commit(partial(celery_enqueue_now, pks, run_after), robust=True)


def requeue_retries(retries: Sequence[tuple[int, datetime]]) -> None:
    """Enqueue messages a task left in ``ERROR_RETRY``, to run at their next attempt."""
    for pk, when in retries:
        enqueue([pk], run_after=when)
