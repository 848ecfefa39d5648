"""The Twilio backend: the real twilio SDK against the fake Messages API in fix_twilio."""

import logging
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from pymess.backend.sms import send
from pymess.backend.sms.registry import get_backend
from pymess.exceptions import PermanentSendError, RateLimitedError, TemporarySendError
from pymess.models.sms import OutputSMSMessage
from pymess.outbox import send_waiting
from pymess_twilio.backend import STATUS_STATES
from tests.fakes.threaded_http import closed_port_url
from tests.fixtures.fix_twilio import (
    AUTH_TOKEN,
    CALLBACK_URL,
    SENDER,
    Answer,
    twilio_options,
)

RECIPIENT = "+420777123456"
pytestmark = pytest.mark.django_db


def send_now(capture, recipient=RECIPIENT, content="Hello from pymess"):
    with capture(execute=True):
        message = send(recipient, content)
    message.refresh_from_db()
    return message


def unsaved(recipient=RECIPIENT, content="Hello"):
    return OutputSMSMessage(recipient=recipient, content=content)


def test_send_creates_a_twilio_message_and_stores_its_sid(
    twilio_settings, hooks, django_capture_on_commit_callbacks
):
    message = send_now(django_capture_on_commit_callbacks)

    assert message.state == "SENDING"  # Twilio answers "queued"
    assert message.backend == "pymess.backend.sms.twilio.TwilioSMSBackend"
    assert message.external_id.startswith("SM")
    assert message.sender == SENDER
    assert message.extra_sender_data == {
        "status": "queued",
        "num_segments": 1,
        "price": None,
        "price_unit": "USD",
    }
    [request] = twilio_settings.requests
    assert request == {
        "To": RECIPIENT,
        "From": SENDER,
        "Body": "Hello from pymess",
        "StatusCallback": CALLBACK_URL,
    }
    updates = [(kw["old_state"], kw["new_state"]) for name, kw in hooks.calls if "state" in name]
    assert updates == [("WAITING", "SENDING")]


def test_messaging_service_instead_of_from_and_no_callback_unless_configured(
    twilio_settings, settings
):
    settings.PYMESS_TWILIO_SMS_CONFIG = twilio_options(
        twilio_settings.url, SENDER="", MESSAGING_SERVICE_SID="MG123", STATUS_CALLBACK_URL=""
    )
    get_backend().publish_message(unsaved())
    [request] = twilio_settings.requests
    assert request == {"To": RECIPIENT, "MessagingServiceSid": "MG123", "Body": "Hello"}


STATUS_CASES = [
    ("accepted", "SENDING"),
    ("queued", "SENDING"),
    ("scheduled", "SENDING"),
    ("sending", "SENT"),
    ("sent", "SENT"),
    ("delivered", "DELIVERED"),
    ("read", "DELIVERED"),
    ("undelivered", "ERROR"),
    ("failed", "ERROR"),
    ("canceled", "ERROR"),
]


def test_every_documented_status_is_mapped():
    assert dict(STATUS_CASES) == STATUS_STATES


@pytest.mark.parametrize(("status", "state"), STATUS_CASES)
def test_create_response_status_sets_the_state(twilio_settings, status, state):
    twilio_settings.status = status
    message = unsaved()
    get_backend().publish_message(message)
    assert message.state == state
    assert message.external_id.startswith("SM")
    assert message.extra_sender_data["status"] == status
    assert bool(message.error) == (state == "ERROR")


def test_failed_create_response_records_the_error_code(twilio_settings):
    answer = Answer(201)
    answer.body = {
        "sid": "SM" + "f" * 32,
        "status": "failed",
        "error_code": 30007,
        "error_message": "Message filtered",
        "num_segments": "2",
        "price": "-0.0075",
    }
    twilio_settings.respond_next(answer)
    message = unsaved()
    get_backend().publish_message(message)
    assert message.state == "ERROR"
    assert "30007" in message.error
    assert "filtered" in message.error
    assert message.extra_sender_data["num_segments"] == 2
    assert message.extra_sender_data["price"] == "-0.0075"


def test_unknown_status_is_recorded_never_a_crash_never_a_resend(
    twilio_settings, django_capture_on_commit_callbacks
):
    twilio_settings.status = "teleported"
    message = send_now(django_capture_on_commit_callbacks)
    assert message.state == "SENDING"
    assert message.extra_sender_data["status"] == "teleported"
    assert send_waiting().processed == 0
    assert len(twilio_settings.requests) == 1


@pytest.mark.parametrize(
    ("answer", "error", "code"),
    [
        (Answer.error(21211), PermanentSendError, 21211),
        (Answer.error(21610), PermanentSendError, 21610),
        (Answer.error(21614), PermanentSendError, 21614),
        (Answer.error(20003), PermanentSendError, 20003),
        (Answer.error(20429), RateLimitedError, 20429),
        (
            Answer(429, {"code": 20429, "message": "Too Many Requests", "status": 429}),
            RateLimitedError,
            20429,
        ),
        (Answer.error(20500), TemporarySendError, 20500),
        (Answer(503, "<html>Service Unavailable</html>"), TemporarySendError, 503),
        (
            Answer(400, {"code": 21999, "message": "Something new", "status": 400}),
            PermanentSendError,
            21999,
        ),
        (
            Answer(
                400,
                {
                    "type": "https://www.twilio.com/docs/errors/21211",
                    "title": "Invalid To",
                    "status": 400,
                    "code": 21211,
                },
            ),
            PermanentSendError,
            21211,
        ),
    ],
    ids=[
        "21211",
        "21610",
        "21614",
        "20003-401",
        "20429",
        "http-429",
        "http-500",
        "http-503-html",
        "unknown-4xx-code",
        "rfc9457-envelope",
    ],
)
def test_error_responses_are_classified(twilio_settings, answer, error, code):
    twilio_settings.respond_next(answer)
    with pytest.raises(error) as info:
        get_backend().publish_message(unsaved())
    assert type(info.value) is error
    assert info.value.code == code


@pytest.mark.parametrize(
    ("header", "expected"),
    [("17", 17.0), (None, None), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0), ("soon", None)],
)
def test_rate_limit_honours_retry_after(twilio_settings, header, expected):
    headers = {"Retry-After": header} if header else {}
    twilio_settings.respond_next(Answer.error(20429, **headers))
    with pytest.raises(RateLimitedError) as info:
        get_backend().publish_message(unsaved())
    assert info.value.retry_after == expected


def test_permanent_error_is_stored_and_not_retried(
    twilio_settings, django_capture_on_commit_callbacks
):
    twilio_settings.respond_next(Answer.error(21610))
    message = send_now(django_capture_on_commit_callbacks)
    assert message.state == "ERROR"
    assert "21610" in message.error
    assert message.external_id is None
    OutputSMSMessage.objects.filter(pk=message.pk).update(next_attempt_at=None)
    assert send_waiting().processed == 0


def test_http_500_is_recorded_for_retry(twilio_settings, django_capture_on_commit_callbacks):
    twilio_settings.respond_next(Answer.error(20500))
    message = send_now(django_capture_on_commit_callbacks)
    assert message.state == "ERROR_RETRY"
    assert "HTTP 500" in message.error


def test_timeout_is_transient_and_bounded(
    twilio_settings, settings, django_capture_on_commit_callbacks
):
    settings.PYMESS_TWILIO_SMS_CONFIG = twilio_options(twilio_settings.url, TIMEOUT=0.5)
    twilio_settings.respond_next(Answer(delay=3))
    started = time.monotonic()
    message = send_now(django_capture_on_commit_callbacks)
    assert time.monotonic() - started < 2.5
    assert message.state == "ERROR_RETRY"
    assert "TIMEOUT" in message.error


def test_refused_connection_is_transient(settings, fake_twilio, django_capture_on_commit_callbacks):
    settings.PYMESS_SMS_SENDER_BACKEND = "twilio"
    settings.PYMESS_TWILIO_SMS_CONFIG = twilio_options(closed_port_url())
    message = send_now(django_capture_on_commit_callbacks)
    assert message.state == "ERROR_RETRY"
    assert "Cannot reach Twilio" in message.error


def test_malformed_success_body_is_unknown_and_never_resent(
    twilio_settings, django_capture_on_commit_callbacks
):
    twilio_settings.respond_next(Answer(201, "{not json"))
    message = send_now(django_capture_on_commit_callbacks)
    assert message.state == "UNKNOWN"
    assert "not JSON" in message.error
    OutputSMSMessage.objects.filter(pk=message.pk).update(next_attempt_at=None)
    assert send_waiting().processed == 0
    assert len(twilio_settings.requests) == 1


def test_success_without_sid_is_unknown(twilio_settings):
    twilio_settings.respond_next(Answer(201, {"status": "queued"}))
    message = unsaved()
    get_backend().publish_message(message)
    assert message.state == "UNKNOWN"


def test_base_url_wins_over_twilio_edge_and_region(twilio_settings, monkeypatch):
    monkeypatch.setenv("TWILIO_EDGE", "sydney")
    monkeypatch.setenv("TWILIO_REGION", "au1")
    message = unsaved()
    get_backend().publish_message(message)
    assert message.state == "SENDING"
    assert len(twilio_settings.requests) == 1


def test_one_client_per_backend_with_pool_sized_to_worker_threads(twilio_settings, settings):
    settings.PYMESS_SMS_WORKER_THREADS = 13
    backend = get_backend()
    with ThreadPoolExecutor(8) as pool:
        clients = set(pool.map(lambda _: id(backend.client), range(32)))
    assert clients == {id(backend.client)}
    session = backend.http_client.session
    for scheme in ("http://", "https://"):
        adapter = session.get_adapter(f"{scheme}api.twilio.com")
        assert adapter._pool_maxsize == 13
        assert adapter.max_retries.total == 0
    assert backend.http_client.timeout == 5
    assert get_backend() is backend


def test_batch_worker_sends_concurrently_and_fires_hooks_once(twilio_settings, settings, hooks):
    settings.PYMESS_SMS_BATCH_SENDING = True
    settings.PYMESS_SMS_WORKER_THREADS = 8
    twilio_settings.latency = 0.2
    pks = [send(RECIPIENT, f"Batch {i}").pk for i in range(16)]

    started = time.monotonic()
    result = send_waiting()
    elapsed = time.monotonic() - started

    assert result.sent == 16
    assert twilio_settings.max_in_flight >= 4, twilio_settings.max_in_flight
    assert elapsed < 16 * 0.2  # one at a time, the latency alone would take 3.2 s
    messages = OutputSMSMessage.objects.filter(pk__in=pks)
    assert {m.state for m in messages} == {"SENDING"}
    assert len({m.external_id for m in messages}) == 16
    updates = [kw["message"].pk for name, kw in hooks.calls if name == "pymess_sms_state_updated"]
    assert sorted(updates) == sorted(pks)


def test_credentials_are_never_logged(twilio_settings, caplog, django_capture_on_commit_callbacks):
    caplog.set_level(logging.DEBUG)
    send_now(django_capture_on_commit_callbacks)
    twilio_settings.respond_next(Answer.error(20003))
    failed = send_now(django_capture_on_commit_callbacks)

    backend = get_backend()
    assert any(r.name == "twilio.http_client" for r in caplog.records)
    for record in caplog.records:
        assert AUTH_TOKEN not in record.getMessage()
    assert AUTH_TOKEN not in repr(backend)
    assert AUTH_TOKEN not in repr(backend.client)
    assert AUTH_TOKEN not in failed.error
    assert failed.state == "ERROR"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"AUTH_TOKEN": None}, "AUTH_TOKEN"),
        ({"ACCOUNT_SID": None}, "ACCOUNT_SID"),
        ({"SENDER": None}, "SENDER (the From number) or MESSAGING_SERVICE_SID"),
        ({"STATUS_CALLBACK_URL": "/hooks/twilio/"}, "STATUS_CALLBACK_URL must be an absolute"),
        ({"FROM": "+1"}, "unknown option(s) FROM"),
    ],
)
def test_manage_py_check_reports_bad_options(settings, options, expected):
    settings.PYMESS_SMS_SENDER_BACKEND = "twilio"
    settings.PYMESS_TWILIO_SMS_CONFIG = {
        k: v
        for k, v in {**twilio_options("http://127.0.0.1:9"), **options}.items()
        if v is not None
    }
    with pytest.raises(SystemCheckError) as info:
        call_command("check")
    assert "PYMESS_TWILIO_SMS_CONFIG" in str(info.value)
    assert expected in str(info.value)
    with pytest.raises(ImproperlyConfigured):
        send(RECIPIENT, "never stored")
    assert not OutputSMSMessage.objects.exists()
