"""The Django Tasks task behind ``PYMESS_SMS_DISPATCH = "tasks"``.

Uses ``django.tasks`` on Django 6 and the ``django-tasks`` backport on 5.2
(``pip install pymess-core[tasks]``). Import it only in that mode.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured

try:
    from django.tasks import task  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # Django < 6
    try:
        from django_tasks import task  # type: ignore[no-redef,unused-ignore]
    except ImportError as exc:
        raise ImproperlyConfigured(
            'PYMESS_SMS_DISPATCH = "tasks" needs Django 6 or the django-tasks backport: '
            "pip install 'pymess-core[tasks]'."
        ) from exc

logger = logging.getLogger("pymess.dispatch")


@task()
def send_sms_messages(pks: list[int]) -> dict[str, Any]:
    """Send exactly these messages (those still waiting); a duplicate delivery sends nothing."""
    from pymess.dispatch import requeue_retries
    from pymess.outbox import send_waiting

    result = send_waiting(pks=pks)
    requeue_retries(result.retries)
    return result.as_dict()


def enqueue_now(pks: list[int], run_after: datetime | None = None) -> None:
    """Enqueue :func:`send_sms_messages` (deferred to ``run_after`` where the backend can)."""
    chosen = send_sms_messages
    if run_after is not None:
        if not chosen.get_backend().supports_defer:
            logger.info(
                "The tasks backend cannot defer; SMS %s wait for send_messages_batch (due %s).",
                pks,
                run_after.isoformat(),
            )
            return
        chosen = chosen.using(run_after=run_after)
    chosen.enqueue(pks=pks)
