"""The SMS operator backend against a protocol-checking fake: statuses, failures, batches, polls."""

from __future__ import annotations

import io
import json
import logging
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.utils import timezone

from pymess.backend.sms import send
from pymess.backend.sms.registry import get_backend
from pymess.enums import OutputSMSMessageState as State
from pymess.models.sms import OutputSMSMessage
from pymess.outbox import send_waiting
from pymess.testing import hook_recorder
from pymess_smsoperator import SMSOperatorBackend, codes
from tests.fakes import hostile
from tests.fakes.threaded_http import Reply, closed_port_url
from tests.fixtures.fix_smsoperator import OPERATOR_PASSWORD, OPERATOR_PREFIX

pytestmark = pytest.mark.django_db

RECIPIENT = "+420777123456"
DOTTED_PATH = "pymess.backend.sms.sms_operator.SMSOperatorBackend"

# What PROVIDERS.md says each status gives on a state check (written out, not derived).
CHECK_STATES = {
    0: State.DELIVERED,
    **dict.fromkeys([1, 2, 3, 5, 6, 10, 15], State.ERROR_UPDATE),
    4: State.ERROR,  # invalid number: permanent
    7: State.ERROR,  # text too long: permanent
    **dict.fromkeys([11, 12, 13, 14], State.SENDING),
}
# On a send, status 0 can only mean "accepted" (documented inference).
SEND_STATES = {**CHECK_STATES, 0: State.SENDING}
UNKNOWN_STATUSES = [8, 99, "x"]
OK_STATES = {State.SENDING, State.DELIVERED}


def send_one(capture, content="Hello from pymess", **kwargs):
    with capture(execute=True):
        message = send(RECIPIENT, content, **kwargs)
    message.refresh_from_db()
    return message


def sms_id(message) -> str:
    return f"{OPERATOR_PREFIX}-{message.pk}"


def data_array(item_id: str, status: str) -> str:
    item = f"<DataItem><SmsId>{item_id}</SmsId><Status>{status}</Status></DataItem>"
    return f"<DataArray>{item}</DataArray>"


def queue_waiting(count=1):
    return [send(RECIPIENT, f"Queued message {i}") for i in range(count)]


def test_documented_table_covers_every_status_the_backend_knows():
    assert set(codes.STATUSES) == set(CHECK_STATES)


def test_send_posts_the_documented_xml_and_stores_the_sms_id(
    operator_settings, operator_fake, django_capture_on_commit_callbacks
):
    message = send_one(django_capture_on_commit_callbacks, content="Příliš žluťoučký <kůň> & co")
    assert message.state == State.SENDING
    assert message.error == ""
    assert message.external_id == sms_id(message)
    assert message.sent_at is not None
    assert message.backend == DOTTED_PATH
    assert message.extra_sender_data == {"status": 0}
    [item] = operator_fake.sent
    assert (item.sms_id, item.recipient, item.text) == (
        sms_id(message),
        RECIPIENT,
        "Příliš žluťoučký <kůň> & co",
    )


@pytest.mark.parametrize("status", [*SEND_STATES, *UNKNOWN_STATUSES])
def test_send_answer_status_gives_the_documented_state(
    status, operator_settings, operator_fake, django_capture_on_commit_callbacks
):
    operator_fake.default_send_status = status
    message = send_one(django_capture_on_commit_callbacks)
    expected = SEND_STATES.get(status, State.ERROR_UPDATE)
    assert message.state == expected
    assert message.external_id == sms_id(message)
    assert message.extra_sender_data["status"] == status
    if expected in OK_STATES:
        assert message.error == ""
    else:
        assert f"SMS operator status {status}" in message.error
    send_waiting()
    assert operator_fake.request_count == 1  # never re-sent


@pytest.mark.parametrize("status", [*CHECK_STATES, *UNKNOWN_STATUSES])
def test_state_answer_status_gives_the_documented_state(status, operator_config, operator_fake):
    backend = SMSOperatorBackend(options=operator_config)
    message = OutputSMSMessage(pk=41, recipient=RECIPIENT, content="x", state=State.SENT)
    operator_fake.state_statuses[f"{OPERATOR_PREFIX}-41"] = status
    backend.check_sms_states([message])
    expected = CHECK_STATES.get(status, State.ERROR_UPDATE)
    assert message.state == expected
    if expected in OK_STATES:
        assert message.error == ""
    else:
        assert f"SMS operator status {status}" in message.error
    assert operator_fake.state_requests == [[f"{OPERATOR_PREFIX}-41"]]


def test_wrong_credentials_are_permanent_and_logged(
    settings, operator_settings, operator_fake, django_capture_on_commit_callbacks, caplog
):
    settings.PYMESS_SMS_OPERATOR_CONFIG = {**operator_settings, "PASSWORD": "wrong-Pa55"}
    with caplog.at_level(logging.DEBUG, logger="pymess"):
        message = send_one(django_capture_on_commit_callbacks)
    assert message.state == State.ERROR
    assert "USERNAME and PASSWORD in PYMESS_SMS_OPERATOR_CONFIG" in message.error
    assert any(r.levelno >= logging.ERROR for r in caplog.records)
    assert "wrong-Pa55" not in caplog.text


def test_rate_limit_answer_is_retried_after_the_providers_delay(
    operator_settings, operator_fake, django_capture_on_commit_callbacks
):
    operator_fake.queue(Reply(status=429, headers={"Retry-After": "90"}))
    before = timezone.now()
    message = send_one(django_capture_on_commit_callbacks)
    assert message.state == State.ERROR_RETRY
    expected = before + timedelta(seconds=90)
    assert abs((message.next_attempt_at - expected).total_seconds()) < 5


def test_http_500_is_retried_and_then_sent(
    operator_settings, operator_fake, django_capture_on_commit_callbacks
):
    operator_fake.queue(Reply(status=500))
    message = send_one(django_capture_on_commit_callbacks)
    assert message.state == State.ERROR_RETRY
    assert "HTTP 500" in message.error
    OutputSMSMessage.objects.filter(pk=message.pk).update(next_attempt_at=None)
    send_waiting()
    message.refresh_from_db()
    assert message.state == State.SENDING
    assert message.number_of_send_attempts == 2


def test_a_hanging_provider_times_out(
    settings, operator_settings, operator_fake, django_capture_on_commit_callbacks
):
    settings.PYMESS_SMS_OPERATOR_CONFIG = {**operator_settings, "TIMEOUT": 0.3}
    operator_fake.queue(Reply(delay=10))
    started = time.monotonic()
    message = send_one(django_capture_on_commit_callbacks)
    assert time.monotonic() - started < 3
    assert message.state == State.ERROR_RETRY
    assert "did not answer" in message.error


def test_refused_connection_is_retried(
    settings, operator_settings, django_capture_on_commit_callbacks
):
    settings.PYMESS_SMS_OPERATOR_CONFIG = {
        **operator_settings,
        "URL": closed_port_url("/webservices/webservice.aspx"),
    }
    message = send_one(django_capture_on_commit_callbacks)
    assert message.state == State.ERROR_RETRY
    assert "Cannot connect to SMS operator" in message.error


@pytest.mark.parametrize("body", [hostile.MALFORMED, hostile.NOT_XML, hostile.EMPTY])
def test_malformed_answer_leaves_the_message_unknown_until_a_state_check(
    body, operator_settings, operator_fake, django_capture_on_commit_callbacks
):
    operator_fake.queue(Reply(body=body))
    message = send_one(django_capture_on_commit_callbacks)
    assert message.state == State.UNKNOWN
    assert message.external_id == sms_id(message)
    send_waiting()
    assert operator_fake.request_count == 1
    operator_fake.state_statuses[sms_id(message)] = 0
    assert get_backend().bulk_check_sms_states() == 1
    message.refresh_from_db()
    assert message.state == State.DELIVERED


@pytest.fixture
def secret_file(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text("TOPSECRET-XXE-MARKER\n")
    return path


def test_external_entity_answer_reads_no_file_and_leaks_nothing(
    settings, operator_settings, operator_fake, secret_file, caplog
):
    settings.PYMESS_SMS_BATCH_SENDING = True
    [message] = queue_waiting()
    inner = data_array(sms_id(message), "&x;")
    operator_fake.override = Reply(body=hostile.xxe("SmsServices", inner, str(secret_file)))
    with caplog.at_level(logging.DEBUG, logger="pymess"):
        send_waiting()
        message.refresh_from_db()
        assert message.state == State.UNKNOWN
        assert "DOCTYPE" in message.error
        assert get_backend().bulk_check_sms_states() == 1
    message.refresh_from_db()
    assert message.state == State.ERROR_UPDATE
    assert "TOPSECRET" not in message.error + json.dumps(message.extra_sender_data) + caplog.text


def test_entity_expansion_answer_is_refused_quickly(settings, operator_settings, operator_fake):
    settings.PYMESS_SMS_BATCH_SENDING = True
    [message] = queue_waiting()
    inner = data_array(sms_id(message), "&lol9;")
    operator_fake.override = Reply(body=hostile.billion_laughs("SmsServices", inner))
    started = time.monotonic()
    send_waiting()
    assert time.monotonic() - started < 2
    message.refresh_from_db()
    assert message.state == State.UNKNOWN


def test_batch_worker_sends_many_messages_in_one_request(
    settings, operator_settings, operator_fake
):
    settings.PYMESS_SMS_BATCH_SENDING = True
    messages = queue_waiting(6)
    operator_fake.send_statuses = {sms_id(messages[1]): 4, sms_id(messages[2]): 77}
    operator_fake.omit = {sms_id(messages[3])}
    send_waiting()
    assert operator_fake.request_count == 1
    assert sorted(i.sms_id for i in operator_fake.sent) == sorted(sms_id(m) for m in messages)
    states = dict(OutputSMSMessage.objects.values_list("pk", "state"))
    assert [states[m.pk] for m in messages] == [
        State.SENDING,
        State.ERROR,
        State.ERROR_UPDATE,
        State.UNKNOWN,
        State.SENDING,
        State.SENDING,
    ]


def test_batch_requests_run_concurrently(settings, operator_settings, operator_fake):
    settings.PYMESS_SMS_BATCH_SENDING = True
    settings.PYMESS_SMS_WORKER_THREADS = 4
    operator_fake.latency = 0.05
    queue_waiting(20)
    backend = get_backend()
    backend.max_batch_size = 5
    assert backend.session().get_adapter(operator_fake.url)._pool_maxsize == 4
    assert send_waiting().sent == 20
    assert operator_fake.request_count == 4
    assert operator_fake.max_in_flight > 1


def test_bulk_check_polls_in_chunks_and_fires_hooks_once_per_change(
    settings, operator_settings, operator_fake, django_capture_on_commit_callbacks
):
    settings.PYMESS_SMS_STATE_CHECK_CHUNK_SIZE = 2
    messages = [send_one(django_capture_on_commit_callbacks) for _ in range(4)]
    settings.PYMESS_PLUGINS = ["pymess.testing.hook_recorder"]
    hook_recorder.reset()
    operator_fake.state_statuses = {
        sms_id(messages[0]): 0,
        sms_id(messages[1]): 1,
        sms_id(messages[2]): 11,  # still pending: unchanged
    }
    operator_fake.omit = {sms_id(messages[3])}
    assert get_backend().bulk_check_sms_states() == 3
    assert [len(r) for r in operator_fake.state_requests] == [2, 2]
    fresh = {m.pk: m for m in OutputSMSMessage.objects.all()}
    assert [fresh[m.pk].state for m in messages] == [
        State.DELIVERED,
        State.ERROR_UPDATE,
        State.SENDING,
        State.ERROR_UPDATE,
    ]
    assert fresh[messages[1].pk].error == "SMS operator status 1: not delivered"
    transitions = sorted((kw["message"].pk, kw["new_state"]) for _, kw in hook_recorder.calls)
    assert transitions == sorted(
        [
            (messages[0].pk, State.DELIVERED),
            (messages[1].pk, State.ERROR_UPDATE),
            (messages[3].pk, State.ERROR_UPDATE),
        ]
    )
    # ERROR_UPDATE may still resolve: a later "delivered" is recorded, once.
    hook_recorder.reset()
    operator_fake.omit = set()
    operator_fake.state_statuses[sms_id(messages[1])] = 0
    # Message 3 now reports "pending": a move back from ERROR_UPDATE, refused.
    assert get_backend().bulk_check_sms_states() == 1
    assert [(kw["message"].pk, kw["new_state"]) for _, kw in hook_recorder.calls] == [
        (messages[1].pk, State.DELIVERED)
    ]
    hook_recorder.reset()


def test_command_checks_every_alias_even_when_one_fails(settings, operator_config, operator_fake):
    settings.PYMESS_SMS_BACKENDS = {
        "broken": {
            "BACKEND": "sms_operator",
            "OPTIONS": {**operator_config, "URL": closed_port_url("/webservices/webservice.aspx")},
        },
        "default": {"BACKEND": DOTTED_PATH, "OPTIONS": operator_config},
    }
    settings.PYMESS_SMS_OPERATOR_CONFIG = {}
    stuck = OutputSMSMessage.objects.create(
        recipient=RECIPIENT, content="x", state=State.SENT, backend_alias="broken"
    )
    good = OutputSMSMessage.objects.create(
        recipient=RECIPIENT, content="y", state=State.SENT, backend_alias="default"
    )
    operator_fake.state_statuses = {sms_id(good): 0, sms_id(stuck): 0}
    out = io.StringIO()
    call_command("bulk_check_sms_states", stdout=out, stderr=io.StringIO())
    stuck.refresh_from_db()
    good.refresh_from_db()
    assert (stuck.state, good.state) == (State.SENT, State.DELIVERED)
    assert "default: 1 message state(s) updated." in out.getvalue()


def test_manage_py_check_reports_a_missing_key(settings, operator_settings):
    settings.PYMESS_SMS_OPERATOR_CONFIG = {
        k: v for k, v in operator_settings.items() if k != "PASSWORD"
    }
    with pytest.raises(SystemCheckError, match="PASSWORD"):
        call_command("check", stdout=io.StringIO(), stderr=io.StringIO())


def test_default_endpoint(operator_config):
    backend = SMSOperatorBackend(options={k: v for k, v in operator_config.items() if k != "URL"})
    assert backend.url == "https://www.sms-operator.cz/webservices/webservice.aspx"


def test_credentials_never_reach_logs_or_errors(
    operator_settings, operator_fake, django_capture_on_commit_callbacks, caplog
):
    with caplog.at_level(logging.DEBUG):
        errors = []
        for reply in [
            Reply(status=500),
            Reply(status=401),
            Reply(body=hostile.MALFORMED),
            Reply(drop=True),
        ]:
            operator_fake.queue(reply)
            errors.append(send_one(django_capture_on_commit_callbacks).error)
    assert all(errors), errors
    assert OPERATOR_PASSWORD.encode() in operator_fake.requests[0].body
    assert OPERATOR_PASSWORD not in caplog.text
    assert all(OPERATOR_PASSWORD not in e for e in errors)
