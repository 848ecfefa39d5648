"""``cleanup_sms_messages``: what it deletes, what it keeps, batches and dry runs."""

from __future__ import annotations

import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pymess.enums import OutputSMSMessageState as State
from pymess.models.sms import OutputSMSMessage, OutputSMSRelatedObject
from tests.fixtures.fix_admin import customer, make_message  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def aged(message: OutputSMSMessage, days: float) -> OutputSMSMessage:
    OutputSMSMessage.objects.filter(pk=message.pk).update(
        created_at=timezone.now() - timedelta(days=days)
    )
    return message


def cleanup(*args: str) -> str:
    out = StringIO()
    call_command("cleanup_sms_messages", *args, stdout=out)
    return out.getvalue()


def remaining() -> set[int]:
    return set(OutputSMSMessage.objects.values_list("pk", flat=True))


def test_deletes_old_final_messages_with_their_related_objects(make_message, customer):  # noqa: F811
    old = aged(make_message(state=State.DELIVERED, related=(customer,)), 40)
    old_error = aged(make_message(state=State.ERROR), 40)
    young = aged(make_message(state=State.DELIVERED, related=(customer,)), 5)
    queued = aged(make_message(state=State.WAITING), 40)
    retrying = aged(make_message(state=State.ERROR_RETRY), 40)

    out = cleanup("--older-than", "30")

    assert "Deleted 2 message(s) and 1 related object(s)" in out
    assert remaining() == {young.pk, queued.pk, retrying.pk}
    assert not OutputSMSRelatedObject.objects.filter(output_sms_message_id=old.pk).exists()
    assert OutputSMSRelatedObject.objects.filter(output_sms_message_id=young.pk).count() == 1
    assert old_error.pk not in remaining()
    # The related model itself is untouched.
    customer.refresh_from_db()


def test_state_option_limits_and_accepts_lists(make_message):  # noqa: F811
    delivered = aged(make_message(state=State.DELIVERED), 10)
    error = aged(make_message(state=State.ERROR), 10)
    debug = aged(make_message(state=State.DEBUG), 10)
    waiting = aged(make_message(state=State.WAITING), 10)

    assert "Deleted 1 message(s)" in cleanup("--older-than", "1", "--state", "ERROR")
    assert remaining() == {delivered.pk, debug.pk, waiting.pk}
    # Repeated or comma-separated, any case; an explicit WAITING is honoured.
    out = cleanup("--older-than", "1", "--state", "debug,WAITING", "--state", "DELIVERED")
    assert "Deleted 3 message(s)" in out
    assert remaining() == set()
    assert error.pk not in remaining()


def test_never_deletes_a_row_a_worker_holds(make_message):  # noqa: F811
    claimed = aged(
        make_message(
            state=State.WAITING,
            claim_token=uuid.uuid4(),
            lease_expires_at=timezone.now() + timedelta(minutes=5),
        ),
        10,
    )
    cleanup("--older-than", "1", "--state", "WAITING")
    assert remaining() == {claimed.pk}


def test_dry_run_counts_and_deletes_nothing(make_message, customer):  # noqa: F811
    for _ in range(3):
        aged(make_message(state=State.SENT, related=(customer,)), 100)
    out = cleanup("--older-than", "30", "--dry-run")
    assert "Dry run: would delete 3 message(s) and 3 related object(s)" in out
    assert len(remaining()) == 3


def test_deletes_in_batches(make_message, customer):  # noqa: F811
    for _ in range(7):
        aged(make_message(state=State.DEBUG, related=(customer,)), 2)
    with CaptureQueriesContext(connection) as ctx:
        out = cleanup("--older-than", "1", "--batch-size", "3", "--verbosity", "2")
    assert "in 3 batch(es)" in out
    assert "Deleted 7 message(s) and 7 related object(s)" in out
    assert remaining() == set()
    deletes = [q["sql"] for q in ctx.captured_queries if q["sql"].upper().startswith("DELETE")]
    # Per batch: one DELETE of related rows, one of messages - never one per message.
    assert len(deletes) == 6


def test_bad_arguments():
    with pytest.raises(CommandError, match="Unknown state"):
        cleanup("--older-than", "1", "--state", "LOST")
    with pytest.raises(CommandError, match="zero or more"):
        cleanup("--older-than", "-1")
    with pytest.raises(CommandError):
        cleanup()  # --older-than is required
