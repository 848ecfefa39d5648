"""``python -m tests.batch.broken_worker send_messages_batch ...`` with a deliberately broken claim.

The negative control of the no-double-send test: the claim reads candidate rows
without locking them and stamps them without checking that nobody else did
meanwhile - the classic read-then-write race (a pause widens its window).
The duplicate check must catch what this worker does.
"""

import sys
import time
import uuid
from datetime import timedelta

import django


def broken_claim(limit, *, alias=None, pks=None):
    from django.utils import timezone

    from pymess import config, outbox
    from pymess.models import OutputSMSMessage

    now = timezone.now()
    token = uuid.uuid4()
    lease = now + timedelta(seconds=config.lease_seconds())
    candidates = OutputSMSMessage.objects.filter(outbox._claimable(now, alias, pks))
    messages = list(candidates.order_by("-priority", "pk")[:limit])  # no FOR UPDATE SKIP LOCKED
    time.sleep(0.05)
    OutputSMSMessage.objects.filter(pk__in=[m.pk for m in messages]).update(
        claim_token=token, lease_expires_at=lease
    )  # no "WHERE claim_token IS NULL" either
    for message in messages:
        message.claim_token = token
    return outbox.Claim(token, messages)


if __name__ == "__main__":
    django.setup()
    from django.core.management import execute_from_command_line

    from pymess import outbox

    outbox.claim = broken_claim
    execute_from_command_line(["manage.py", *sys.argv[1:]])
