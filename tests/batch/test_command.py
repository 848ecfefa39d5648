"""``send_messages_batch`` as an operator uses it."""

from __future__ import annotations

import signal
import time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from pymess.enums import OutputSMSMessageState as State
from pymess.management.commands.send_messages_batch import ProgressBar
from pymess.models import OutputSMSMessage
from pymess.outbox import BatchResult
from tests.fixtures.fix_batch import http_backends, make_waiting

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("send_messages_batch", *args, stdout=out)
    return out.getvalue()


def test_summary_line_when_not_a_terminal(sms_outbox):
    make_waiting(12)
    output = run("--type=sms")
    assert output.startswith("sent 12 / failed 0 / retried 0 / elapsed ")
    assert "\r" not in output


def test_unknown_type_is_a_command_error():
    with pytest.raises(CommandError, match="Unknown message type 'email'"):
        run("--type=email")


def test_unknown_backend_alias_is_a_command_error():
    with pytest.raises(CommandError, match="Unknown backend alias 'nope'"):
        run("--backend", "nope")


def test_limit_and_backend(sms_outbox, settings):
    settings.PYMESS_SMS_BACKENDS = {
        "default": {"BACKEND": "locmem"},
        "other": {"BACKEND": "locmem"},
    }
    make_waiting(5)
    make_waiting(5, backend_alias="other")
    assert run("--backend", "other", "--limit", "3").startswith("sent 3 /")
    assert OutputSMSMessage.objects.filter(backend_alias="other", state=State.SENT).count() == 3
    assert OutputSMSMessage.objects.filter(backend_alias="default", state=State.SENT).count() == 0
    with pytest.raises(CommandError, match="--limit"):
        run("--limit", "0")


def test_progress_bar_draws_in_place():
    class Tty(StringIO):
        def isatty(self):
            return True

    stream = Tty()
    bar = ProgressBar(stream, total=10)
    bar.update(BatchResult(sent=4, retried=1), force=True)
    bar.finish(BatchResult(sent=9, retried=1))
    text = stream.getvalue()
    assert text.startswith("\r[###############...............] 5/10  sent 4 failed 0 retried 1")
    assert "\r[##############################] 10/10  sent 9" in text
    assert text.endswith("\n")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_loop_stops_gracefully_on_sigterm(fake_provider, workers):
    """SIGTERM during --loop: in-flight calls finish and are recorded, unstarted claims go back."""
    provider = fake_provider(latency=0.2)
    make_waiting(300)
    config = {
        "PYMESS_SMS_BACKENDS": http_backends(provider.url),
        "PYMESS_SMS_WORKER_THREADS": 4,
        "PYMESS_SMS_BATCH_SIZE": 100,
        "PYMESS_SMS_BATCH_POLL_INTERVAL": 0.2,
    }
    process = workers.send_batch(config, "--loop")
    deadline = time.monotonic() + 30
    while not OutputSMSMessage.objects.filter(state=State.SENT).exists():
        assert time.monotonic() < deadline, workers.output(process)
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    output = workers.wait(process, timeout=20)

    sent = OutputSMSMessage.objects.filter(state=State.SENT).count()
    assert 0 < sent < 300
    assert f"sent {sent} /" in output
    # Nothing is left started or claimed: the rest is back in the queue for the next worker.
    assert not OutputSMSMessage.objects.filter(claim_token__isnull=False).exists()
    assert OutputSMSMessage.objects.filter(state=State.WAITING).count() == 300 - sent
    assert sorted(int(i) for i in provider.accepted_ids()) == sorted(
        OutputSMSMessage.objects.filter(state=State.SENT).values_list("pk", flat=True)
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_loop_picks_up_new_messages(fake_provider, workers):
    provider = fake_provider()
    config = {
        "PYMESS_SMS_BACKENDS": http_backends(provider.url),
        "PYMESS_SMS_BATCH_POLL_INTERVAL": 0.1,
    }
    process = workers.send_batch(config, "--loop")
    time.sleep(1.0)
    make_waiting(5)
    deadline = time.monotonic() + 20
    while OutputSMSMessage.objects.filter(state=State.SENT).count() < 5:
        assert time.monotonic() < deadline, workers.output(process)
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    assert "sent 5 /" in workers.wait(process, timeout=20)
