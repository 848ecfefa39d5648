"""The Celery task behind ``PYMESS_SMS_DISPATCH = "celery"`` (``pip install pymess-core[celery]``).

Your Celery app must autodiscover it (``app.autodiscover_tasks(["pymess"],
related_name="celery")``) or import this module; the task name is
``pymess.send_sms_messages`` for routing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from celery import shared_task
from celery.contrib.django.task import DjangoTask


@shared_task(base=DjangoTask, name="pymess.send_sms_messages", ignore_result=True)
def send_sms_messages(pks: list[int]) -> dict[str, Any]:
    """Send exactly these messages (those still waiting); a duplicate delivery sends nothing."""
    from pymess.dispatch import requeue_retries
    from pymess.outbox import send_waiting

    result = send_waiting(pks=pks)
    requeue_retries(result.retries)
    return result.as_dict()


def enqueue_now(pks: list[int], run_after: datetime | None = None) -> None:
    """Publish the task now (``eta`` = ``run_after`` for scheduled messages and retries)."""
    if run_after is None:
        send_sms_messages.apply_async((pks,))
    else:
        send_sms_messages.apply_async((pks,), eta=run_after)
