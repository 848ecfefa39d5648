"""The SNS backend against moto (through the fault-injecting proxy in fix_sns)."""

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
from pymess_sns.backend import SNSSMSBackend
from tests.fakes.threaded_http import closed_port_url
from tests.fixtures.fix_sns import (
    AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY,
    Fault,
    recorded_publish_params,
    sns_options,
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


def test_send_publishes_to_sns_and_stores_the_message_id(
    sns_settings, hooks, django_capture_on_commit_callbacks
):
    message = send_now(django_capture_on_commit_callbacks)

    assert message.state == "SENT"
    assert message.backend == "pymess.backend.sms.sns.SNSSMSBackend"
    assert message.sender == "PYMESS"
    [published] = sns_settings.sent()
    assert published["phone_number"] == RECIPIENT
    assert published["message"] == "Hello from pymess"
    assert message.external_id == published["message_id"]
    updates = [(kw["old_state"], kw["new_state"]) for name, kw in hooks.calls if "state" in name]
    assert updates == [("WAITING", "SENT")]


def test_sender_id_and_sms_type_go_as_message_attributes(sns_settings, settings):
    backend = get_backend()
    with recorded_publish_params(backend.client) as calls:
        backend.publish_message(unsaved())
    assert calls[0]["MessageAttributes"] == {
        "AWS.SNS.SMS.SenderID": {"DataType": "String", "StringValue": "PYMESS"},
        "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
    }

    settings.PYMESS_SNS_SMS_CONFIG = sns_options(
        sns_settings.url, SENDER_ID="", SMS_TYPE="Promotional"
    )
    backend = get_backend()
    with recorded_publish_params(backend.client) as calls:
        backend.publish_message(unsaved())
    assert calls[0]["MessageAttributes"] == {
        "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Promotional"},
    }
    assert len(sns_settings.sent()) == 2


@pytest.mark.parametrize(
    ("recipient", "content"),
    [("not-a-number", "Hello"), (RECIPIENT, "x" * 1700)],
    ids=["invalid-number", "over-1600-bytes"],
)
def test_invalid_parameter_from_moto_is_permanent(sns_settings, recipient, content):
    with pytest.raises(PermanentSendError) as info:
        get_backend().publish_message(unsaved(recipient, content))
    assert info.value.code == "InvalidParameter"
    assert sns_settings.sent() == []


@pytest.mark.parametrize(
    ("fault", "error", "retry_after"),
    [
        (
            Fault.error(400, "Throttling", "Rate exceeded", **{"Retry-After": "3"}),
            RateLimitedError,
            3,
        ),
        (Fault.error(400, "ThrottlingException", "Slow down"), RateLimitedError, None),
        (Fault.error(429, "TooManyRequestsException"), RateLimitedError, None),
        (Fault.error(500, "InternalError"), TemporarySendError, None),
        (Fault.error(503, "ServiceUnavailable"), TemporarySendError, None),
        (
            Fault(502, "<html>Bad gateway</html>", {"Content-Type": "text/html"}),
            TemporarySendError,
            None,
        ),
        (Fault.error(403, "AuthorizationError", "Not authorized"), PermanentSendError, None),
        (Fault.error(403, "InvalidClientTokenId"), PermanentSendError, None),
        (Fault.error(403, "SignatureDoesNotMatch"), PermanentSendError, None),
        (Fault.error(400, "OptedOut", "Phone number is opted out"), PermanentSendError, None),
        (Fault.error(400, "SomethingNewFromAWS"), PermanentSendError, None),
    ],
    ids=[
        "throttling-retry-after",
        "throttling-exception",
        "http-429",
        "http-500",
        "http-503",
        "http-502-html",
        "authorization",
        "invalid-token",
        "bad-signature",
        "opted-out",
        "unknown-4xx-code",
    ],
)
def test_error_responses_are_classified(sns_settings, fault, error, retry_after):
    sns_settings.fail_next(fault)
    with pytest.raises(error) as info:
        get_backend().publish_message(unsaved())
    assert type(info.value) is error
    if error is RateLimitedError:
        assert info.value.retry_after == retry_after
    assert sns_settings.sent() == []


def test_http_500_is_recorded_for_retry(sns_settings, django_capture_on_commit_callbacks):
    sns_settings.fail_next(Fault.error(500, "InternalError", "Internal failure"))
    message = send_now(django_capture_on_commit_callbacks)
    assert message.state == "ERROR_RETRY"
    assert "InternalError" in message.error
    assert message.next_attempt_at is not None


def test_timeout_is_transient_and_bounded(
    sns_settings, settings, django_capture_on_commit_callbacks
):
    settings.PYMESS_SNS_SMS_CONFIG = sns_options(sns_settings.url, TIMEOUT=0.5)
    sns_settings.fail_next(Fault(200, "", delay=3))
    started = time.monotonic()
    message = send_now(django_capture_on_commit_callbacks)
    assert time.monotonic() - started < 2.5
    assert message.state == "ERROR_RETRY"
    assert "TIMEOUT" in message.error


def test_refused_connection_is_transient(settings, django_capture_on_commit_callbacks):
    settings.PYMESS_SMS_SENDER_BACKEND = "sns"
    settings.PYMESS_SNS_SMS_CONFIG = sns_options(closed_port_url())
    message = send_now(django_capture_on_commit_callbacks)
    assert message.state == "ERROR_RETRY"
    assert "Cannot" in message.error


def test_malformed_success_body_is_unknown_and_never_resent(
    sns_settings, django_capture_on_commit_callbacks
):
    sns_settings.fail_next(Fault(200, "<PublishResponse><oops", {"Content-Type": "text/xml"}))
    message = send_now(django_capture_on_commit_callbacks)
    assert message.state == "UNKNOWN"
    assert "cannot parse" in message.error
    OutputSMSMessage.objects.filter(pk=message.pk).update(next_attempt_at=None)
    assert send_waiting().processed == 0
    assert sns_settings.requests == 1


def test_success_without_message_id_is_unknown(sns_settings):
    body = (
        '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult/>'
        "<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></PublishResponse>"
    )
    sns_settings.fail_next(Fault(200, body, {"Content-Type": "text/xml"}))
    message = unsaved()
    get_backend().publish_message(message)
    assert message.state == "UNKNOWN"


def test_one_client_per_backend_with_pool_sized_to_worker_threads(sns_settings, settings):
    settings.PYMESS_SMS_WORKER_THREADS = 13
    backend = get_backend()
    with ThreadPoolExecutor(8) as pool:
        clients = set(pool.map(lambda _: id(backend.client), range(32)))
    assert clients == {id(backend.client)}
    assert backend.client.meta.config.max_pool_connections == 13
    assert backend.client.meta.config.read_timeout == 5
    assert backend.client.meta.config.connect_timeout == 5
    assert get_backend() is backend


def test_batch_worker_sends_concurrently_and_fires_hooks_once(sns_settings, settings, hooks):
    settings.PYMESS_SMS_BATCH_SENDING = True
    settings.PYMESS_SMS_WORKER_THREADS = 8
    sns_settings.latency = 0.2
    pks = [send(RECIPIENT, f"Batch {i}").pk for i in range(16)]

    started = time.monotonic()
    result = send_waiting()
    elapsed = time.monotonic() - started

    assert result.sent == 16
    assert sns_settings.max_in_flight >= 4, sns_settings.max_in_flight
    assert elapsed < 16 * 0.2  # one at a time, the latency alone would take 3.2 s
    messages = OutputSMSMessage.objects.filter(pk__in=pks)
    assert {m.state for m in messages} == {"SENT"}
    assert {m.external_id for m in messages} == {s["message_id"] for s in sns_settings.sent()}
    updates = [kw["message"].pk for name, kw in hooks.calls if name == "pymess_sms_state_updated"]
    assert sorted(updates) == sorted(pks)


def test_credentials_are_never_logged(sns_settings, caplog, django_capture_on_commit_callbacks):
    caplog.set_level(logging.DEBUG)
    send_now(django_capture_on_commit_callbacks)
    sns_settings.fail_next(
        Fault.error(403, "InvalidClientTokenId", "The security token is invalid")
    )
    failed = send_now(django_capture_on_commit_callbacks)

    backend = get_backend()
    assert caplog.records, "botocore logs at DEBUG: the check must see something"
    for record in caplog.records:
        assert AWS_SECRET_ACCESS_KEY not in record.getMessage()
        if record.name.startswith("pymess"):
            assert AWS_ACCESS_KEY_ID not in record.getMessage()
    assert AWS_SECRET_ACCESS_KEY not in repr(backend)
    assert AWS_SECRET_ACCESS_KEY not in repr(backend.client)
    assert AWS_SECRET_ACCESS_KEY not in failed.error


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"AWS_REGION": None}, "AWS_REGION"),
        ({"AWS_SECRET_ACCESS_KEY": None}, "both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"),
        ({"SMS_TYPE": "Spam"}, "SMS_TYPE"),
        ({"SENDERID": "X"}, "unknown option(s) SENDERID"),
    ],
)
def test_manage_py_check_reports_bad_options(settings, options, expected):
    settings.PYMESS_SMS_SENDER_BACKEND = "sns"
    settings.PYMESS_SNS_SMS_CONFIG = {
        k: v for k, v in {**sns_options("http://127.0.0.1:9"), **options}.items() if v is not None
    }
    with pytest.raises(SystemCheckError) as info:
        call_command("check")
    assert "PYMESS_SNS_SMS_CONFIG" in str(info.value)
    assert expected in str(info.value)
    with pytest.raises(ImproperlyConfigured):
        send(RECIPIENT, "never stored")
    assert not OutputSMSMessage.objects.exists()


def test_default_credential_chain_when_no_keys_are_given(settings, monkeypatch, fake_sns):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAFROMENVIRONMENT0")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "from-environment")
    options = sns_options(fake_sns.url, AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None)
    backend = SNSSMSBackend("default", options)
    message = unsaved()
    backend.publish_message(message)
    assert message.state == "SENT"
    assert backend.client._request_signer._credentials.access_key == "AKIAFROMENVIRONMENT0"
