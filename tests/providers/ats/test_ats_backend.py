"""The ATS backend against a protocol-checking fake: every code, every failure, batches, polling."""

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
from pymess_ats import ATSSMSBackend, codes
from tests.fakes import hostile
from tests.fakes.threaded_http import Reply, closed_port_url
from tests.fixtures.fix_ats import ATS_PASSWORD, ATS_PREFIX

pytestmark = pytest.mark.django_db

RECIPIENT = "+420777123456"
DOTTED_PATH = "pymess.backend.sms.ats_sms_operator.ATSSMSBackend"

# What PROVIDERS.md says each code gives, written out here (not derived from the backend).
ACCEPTED = {0: State.SENDING, 21: State.SENDING, 22: State.SENT, 23: State.DELIVERED}
SEND_STATES = {
    **ACCEPTED,
    1: State.ERROR_RETRY,
    20: State.ERROR_UPDATE,
    24: State.ERROR,
    25: State.UNKNOWN,
    100: State.ERROR,
    200: State.ERROR_RETRY,
    **dict.fromkeys([300, 310, 320, 321, 330, 331, 339, 343], State.ERROR),
    **dict.fromkeys([332, 333, 335, 336, 337, 338], State.ERROR),
    334: State.ERROR_RETRY,
    **dict.fromkeys([340, 341, 342, 350, 360, 361, 362], State.ERROR),
    **dict.fromkeys([701, 702, 703, 705], State.ERROR),
}
# A state request's transient failure says nothing about the message: ERROR_UPDATE, no resend.
CHECK_STATES = {
    code: State.ERROR_UPDATE if state == State.ERROR_RETRY else state
    for code, state in SEND_STATES.items()
}
UNKNOWN_CODES = [999, 26, "abc"]


def send_one(capture, content="Hello from pymess", **kwargs):
    with capture(execute=True):
        message = send(RECIPIENT, content, **kwargs)
    message.refresh_from_db()
    return message


def uniq(message) -> str:
    return f"{ATS_PREFIX}-{message.pk}"


def queue_waiting(count=1, content="Queued message"):
    """Messages stored WAITING (batch mode), so their ids are known before the provider call."""
    return [send(RECIPIENT, f"{content} {i}") for i in range(count)]


def test_documented_table_covers_every_code_the_backend_knows():
    assert set(codes.CODES) == set(SEND_STATES)


# -- success -----------------------------------------------------------------------------------


def test_send_posts_the_documented_xml_and_stores_the_uniq_id(
    ats_settings, ats_fake, django_capture_on_commit_callbacks
):
    message = send_one(django_capture_on_commit_callbacks, content="Dobrý den, <b>&</b>")
    assert message.state == State.SENDING
    assert message.error == ""
    assert message.external_id == uniq(message)
    assert message.sent_at is not None
    assert message.backend == DOTTED_PATH
    assert message.sender == ats_fake.sender
    assert message.extra_sender_data == {"ats_code": 0}
    [sent] = ats_fake.sent
    assert sent.attributes == {
        "type": "text",
        "uniq": uniq(message),
        "sender": ats_fake.sender,
        "recipient": RECIPIENT,
        "opmid": "",
        "dlr": "1",
        "validity": "60",
        "kw": ats_fake.keyword,
    }
    assert sent.text == "Dobrý den, <b>&</b>"
    assert ats_fake.requests[0].headers["Content-Type"].startswith("text/xml")


def test_textid_optid_and_validity_reach_the_request(
    settings, ats_settings, ats_fake, django_capture_on_commit_callbacks
):
    ats_fake.textid = "PYMESS"
    settings.PYMESS_ATS_SMS_CONFIG = {
        **ats_settings,
        "TEXTID": "PYMESS",
        "OPTID": "7",
        "VALIDITY": 15,
    }
    message = send_one(django_capture_on_commit_callbacks)
    assert message.state == State.SENDING
    assert message.sender == "PYMESS"
    [sent] = ats_fake.sent
    assert (sent.attributes["textid"], sent.attributes["opmid"], sent.attributes["validity"]) == (
        "PYMESS",
        "7",
        "15",
    )


def test_empty_prefix_sends_the_bare_primary_key(
    settings, ats_settings, ats_fake, django_capture_on_commit_callbacks
):
    settings.PYMESS_ATS_SMS_CONFIG = {**ats_settings, "UNIQ_PREFIX": ""}
    message = send_one(django_capture_on_commit_callbacks)
    assert message.state == State.SENDING
    assert ats_fake.sent[0].uniq == message.external_id == str(message.pk)


# -- every code --------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [*SEND_STATES, *UNKNOWN_CODES])
def test_send_answer_code_gives_the_documented_state(
    code, ats_settings, ats_fake, django_capture_on_commit_callbacks
):
    ats_fake.default_send_code = code
    message = send_one(django_capture_on_commit_callbacks)
    expected = SEND_STATES.get(code, State.ERROR_UPDATE)
    assert message.state == expected
    assert message.external_id == uniq(message)
    assert message.extra_sender_data["ats_code"] == code
    if expected in ACCEPTED.values():
        assert message.error == ""
    else:
        assert f"ATS code {code}" in message.error
    if expected == State.ERROR_RETRY:
        assert message.next_attempt_at is not None
    # Never re-sent unless the state says so.
    OutputSMSMessage.objects.filter(pk=message.pk).update(next_attempt_at=None)
    send_waiting()
    assert ats_fake.request_count == (2 if expected == State.ERROR_RETRY else 1)


@pytest.mark.parametrize("code", [*CHECK_STATES, *UNKNOWN_CODES])
def test_state_answer_code_gives_the_documented_state(code, ats_config, ats_fake):
    backend = ATSSMSBackend(options=ats_config)
    message = OutputSMSMessage(pk=41, recipient=RECIPIENT, content="x", state=State.SENT)
    ats_fake.state_codes[f"{ATS_PREFIX}-41"] = code
    backend.check_sms_states([message])
    expected = CHECK_STATES.get(code, State.ERROR_UPDATE)
    assert message.state == expected
    if expected in ACCEPTED.values():
        assert message.error == ""
    else:
        assert f"ATS code {code}" in message.error
    assert ats_fake.state_requests == [[f"{ATS_PREFIX}-41"]]


# -- request-level errors ----------------------------------------------------------------------


def test_wrong_credentials_are_a_permanent_configuration_error_logged_loudly(
    settings, ats_settings, ats_fake, django_capture_on_commit_callbacks, caplog
):
    settings.PYMESS_ATS_SMS_CONFIG = {**ats_settings, "PASSWORD": "wrong-Pa55"}
    with caplog.at_level(logging.DEBUG, logger="pymess"):
        message = send_one(django_capture_on_commit_callbacks)
    assert message.state == State.ERROR
    assert message.next_attempt_at is None
    assert "[100]" in message.error
    assert "USERNAME and PASSWORD in PYMESS_ATS_SMS_CONFIG" in message.error
    loud = [
        r for r in caplog.records if r.levelno >= logging.ERROR and "code 100" in r.getMessage()
    ]
    assert loud, "a rejected login must be logged at ERROR level"
    assert all("wrong-Pa55" not in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("code", [701, 702, 705])
def test_request_xml_rejected_is_logged_as_a_pymess_bug(
    code, ats_settings, ats_fake, django_capture_on_commit_callbacks, caplog
):
    ats_fake.request_code = code
    with caplog.at_level(logging.ERROR, logger="pymess.backend.ats"):
        message = send_one(django_capture_on_commit_callbacks)
    assert message.state == State.ERROR
    assert f"ATS code {code}" in message.error
    assert any("bug in pymess-ats" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (1, State.ERROR_RETRY),
        (200, State.ERROR_RETRY),
        (703, State.ERROR),
        (777, State.ERROR_UPDATE),
    ],
)
def test_request_level_codes_apply_to_every_message_of_the_request(
    code, expected, settings, ats_settings, ats_fake
):
    settings.PYMESS_SMS_BATCH_SENDING = True
    messages = queue_waiting(3)
    ats_fake.request_code = code
    send_waiting()
    states = set(
        OutputSMSMessage.objects.filter(pk__in=[m.pk for m in messages]).values_list(
            "state", flat=True
        )
    )
    assert states == {expected}
    assert ats_fake.request_count == 1


# -- transport failures ------------------------------------------------------------------------


def test_rate_limit_answer_is_retried_after_the_providers_delay(
    ats_settings, ats_fake, django_capture_on_commit_callbacks
):
    ats_fake.queue(Reply(status=429, headers={"Retry-After": "120"}))
    before = timezone.now()
    message = send_one(django_capture_on_commit_callbacks)
    assert message.state == State.ERROR_RETRY
    assert "429" in message.error
    expected = before + timedelta(seconds=120)
    assert abs((message.next_attempt_at - expected).total_seconds()) < 5


def test_http_500_is_retried(ats_settings, ats_fake, django_capture_on_commit_callbacks):
    ats_fake.queue(Reply(status=500, body=b"Internal Server Error", content_type="text/plain"))
    message = send_one(django_capture_on_commit_callbacks)
    assert message.state == State.ERROR_RETRY
    assert "HTTP 500" in message.error
    OutputSMSMessage.objects.filter(pk=message.pk).update(next_attempt_at=None)
    send_waiting()
    message.refresh_from_db()
    assert message.state == State.SENDING
    assert message.number_of_send_attempts == 2


def test_a_hanging_provider_times_out_and_is_retried(
    settings, ats_settings, ats_fake, django_capture_on_commit_callbacks
):
    settings.PYMESS_ATS_SMS_CONFIG = {**ats_settings, "TIMEOUT": 0.3}
    ats_fake.queue(Reply(delay=10))
    started = time.monotonic()
    message = send_one(django_capture_on_commit_callbacks)
    assert time.monotonic() - started < 3
    assert message.state == State.ERROR_RETRY
    assert "did not answer" in message.error


def test_refused_connection_is_retried(settings, ats_settings, django_capture_on_commit_callbacks):
    settings.PYMESS_ATS_SMS_CONFIG = {
        **ats_settings,
        "URL": closed_port_url("/gwfcgi/XMLServerWrapper.fcgi"),
    }
    message = send_one(django_capture_on_commit_callbacks)
    assert message.state == State.ERROR_RETRY
    assert "Cannot connect to ATS" in message.error
    assert "refused" in message.error.lower()


def test_dropped_connection_is_retried(ats_settings, ats_fake, django_capture_on_commit_callbacks):
    ats_fake.queue(Reply(drop=True))
    message = send_one(django_capture_on_commit_callbacks)
    assert message.state == State.ERROR_RETRY


# -- unreadable and hostile answers ------------------------------------------------------------


@pytest.mark.parametrize(
    "body", [hostile.MALFORMED, hostile.NOT_XML, hostile.EMPTY, b"\xff\xfe\x00garbage"]
)
def test_malformed_answer_leaves_the_message_unknown_and_never_resends_it(
    body, ats_settings, ats_fake, django_capture_on_commit_callbacks
):
    ats_fake.queue(Reply(body=body))
    message = send_one(django_capture_on_commit_callbacks)
    assert message.state == State.UNKNOWN
    assert "ATS" in message.error
    assert message.external_id == uniq(message)
    send_waiting()
    assert ats_fake.request_count == 1
    # The next state check settles it.
    ats_fake.state_codes[uniq(message)] = 23
    assert get_backend().bulk_check_sms_states() == 1
    message.refresh_from_db()
    assert message.state == State.DELIVERED


@pytest.fixture
def secret_file(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text("TOPSECRET-XXE-MARKER\n")
    return path


def test_external_entity_answer_reads_no_file_and_leaks_nothing(
    settings, ats_settings, ats_fake, secret_file, caplog
):
    settings.PYMESS_SMS_BATCH_SENDING = True
    [message] = queue_waiting()
    ats_fake.override = Reply(
        body=hostile.xxe("messages", f'<code uniq="{uniq(message)}">&x;</code>', str(secret_file))
    )
    with caplog.at_level(logging.DEBUG, logger="pymess"):
        send_waiting()
        message.refresh_from_db()
        assert message.state == State.UNKNOWN
        assert "DOCTYPE" in message.error
        # State checks meet the same hostile answer: recorded, not raised.
        assert get_backend().bulk_check_sms_states() == 1
    message.refresh_from_db()
    assert message.state == State.ERROR_UPDATE
    everything = message.error + json.dumps(message.extra_sender_data) + caplog.text
    assert "TOPSECRET" not in everything


def test_entity_expansion_answer_is_refused_quickly(settings, ats_settings, ats_fake):
    settings.PYMESS_SMS_BATCH_SENDING = True
    [message] = queue_waiting()
    ats_fake.override = Reply(
        body=hostile.billion_laughs("messages", f'<code uniq="{uniq(message)}">&lol9;</code>')
    )
    started = time.monotonic()
    send_waiting()
    assert time.monotonic() - started < 2
    message.refresh_from_db()
    assert message.state == State.UNKNOWN
    assert "lol" not in message.error


def test_oversized_answer_is_discarded(ats_settings, ats_fake, django_capture_on_commit_callbacks):
    ats_fake.queue(Reply(body=b"<messages>" + b" " * (2 * 1024 * 1024) + b"</messages>"))
    message = send_one(django_capture_on_commit_callbacks)
    assert message.state == State.UNKNOWN
    assert "more than" in message.error


# -- batches -----------------------------------------------------------------------------------


def test_batch_worker_sends_many_messages_in_one_request_with_per_message_outcomes(
    settings, ats_settings, ats_fake
):
    settings.PYMESS_SMS_BATCH_SENDING = True
    messages = queue_waiting(7)
    ats_fake.send_codes = {uniq(messages[1]): 341, uniq(messages[2]): 1, uniq(messages[3]): 4242}
    ats_fake.omit = {uniq(messages[4])}
    result = send_waiting()
    assert ats_fake.request_count == 1
    assert sorted(s.uniq for s in ats_fake.sent) == sorted(uniq(m) for m in messages)
    states = dict(OutputSMSMessage.objects.values_list("pk", "state"))
    assert [states[m.pk] for m in messages] == [
        State.SENDING,
        State.ERROR,
        State.ERROR_RETRY,
        State.ERROR_UPDATE,
        State.UNKNOWN,
        State.SENDING,
        State.SENDING,
    ]
    assert result.processed == 7
    missing = OutputSMSMessage.objects.get(pk=messages[4].pk)
    assert "no status for this message" in missing.error


def test_publish_messages_splits_into_requests_of_max_batch_size(ats_config, ats_fake):
    backend = ATSSMSBackend(options=ats_config)
    messages = [OutputSMSMessage(pk=i, recipient=RECIPIENT, content=f"m{i}") for i in range(1, 251)]
    backend.publish_messages(messages)
    assert ats_fake.request_count == 3
    assert len(ats_fake.sent) == 250
    assert {m.state for m in messages} == {State.SENDING}


def test_batch_requests_run_concurrently_on_one_pooled_session(settings, ats_settings, ats_fake):
    """Figure: 40 messages, 10 requests of 4, 50 ms provider latency, 8 worker threads."""
    settings.PYMESS_SMS_BATCH_SENDING = True
    settings.PYMESS_SMS_WORKER_THREADS = 8
    ats_fake.latency = 0.05
    queue_waiting(40)
    backend = get_backend()
    backend.max_batch_size = 4
    session = backend.session()
    assert session.get_adapter(ats_fake.url)._pool_maxsize == 8
    started = time.monotonic()
    result = send_waiting()
    elapsed = time.monotonic() - started
    assert result.sent == 40
    assert ats_fake.request_count == 10
    assert ats_fake.max_in_flight > 1, "requests did not overlap"
    assert backend.session() is session
    print(f"ATS: 10 requests x 50 ms in {elapsed:.3f} s, max in flight {ats_fake.max_in_flight}")


# -- state checks ------------------------------------------------------------------------------


def test_bulk_check_polls_in_chunks_and_fires_hooks_once_per_change(
    settings, ats_settings, ats_fake, django_capture_on_commit_callbacks
):
    settings.PYMESS_SMS_STATE_CHECK_CHUNK_SIZE = 2
    messages = [send_one(django_capture_on_commit_callbacks) for _ in range(5)]
    settings.PYMESS_PLUGINS = ["pymess.testing.hook_recorder"]
    hook_recorder.reset()
    ats_fake.state_codes = {
        uniq(messages[0]): 23,
        uniq(messages[1]): 24,
        uniq(messages[2]): 22,
        uniq(messages[3]): 21,  # unchanged
        uniq(messages[4]): 25,  # UNKNOWN would move SENDING backwards: refused
    }
    assert get_backend().bulk_check_sms_states() == 3
    assert [len(r) for r in ats_fake.state_requests] == [2, 2, 1]
    states = dict(OutputSMSMessage.objects.values_list("pk", "state"))
    assert [states[m.pk] for m in messages] == [
        State.DELIVERED,
        State.ERROR,
        State.SENT,
        State.SENDING,
        State.SENDING,
    ]
    assert OutputSMSMessage.objects.get(pk=messages[1].pk).error == "ATS code 24: not delivered"
    updates = [
        (kw["message"].pk, kw["old_state"], kw["new_state"]) for name, kw in hook_recorder.calls
    ]
    assert sorted(updates) == sorted(
        [
            (messages[0].pk, State.SENDING, State.DELIVERED),
            (messages[1].pk, State.SENDING, State.ERROR),
            (messages[2].pk, State.SENDING, State.SENT),
        ]
    )
    # A second run reports the same states: nothing changes, no hook fires.
    hook_recorder.reset()
    assert get_backend().bulk_check_sms_states() == 0
    assert hook_recorder.calls == []
    hook_recorder.reset()


def test_state_check_missing_answer_and_transport_failure(
    settings, ats_settings, ats_fake, django_capture_on_commit_callbacks
):
    first, second = (send_one(django_capture_on_commit_callbacks) for _ in range(2))
    ats_fake.queue(Reply(status=503))
    assert get_backend().bulk_check_sms_states() == 0  # logged, retried next run
    ats_fake.omit = {uniq(second)}
    ats_fake.state_codes = {uniq(first): 23}
    assert get_backend().bulk_check_sms_states() == 2
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.state == State.DELIVERED
    assert second.state == State.ERROR_UPDATE
    assert "no status for this message" in second.error


def test_command_checks_every_alias_even_when_one_fails(settings, ats_config, ats_fake):
    settings.PYMESS_SMS_BACKENDS = {
        "broken": {
            "BACKEND": "ats",
            "OPTIONS": {**ats_config, "URL": closed_port_url("/gwfcgi/XMLServerWrapper.fcgi")},
        },
        "default": {"BACKEND": DOTTED_PATH, "OPTIONS": ats_config},
    }
    settings.PYMESS_ATS_SMS_CONFIG = {}
    stuck = OutputSMSMessage.objects.create(
        recipient=RECIPIENT, content="x", state=State.SENT, backend_alias="broken"
    )
    good = OutputSMSMessage.objects.create(
        recipient=RECIPIENT, content="y", state=State.SENT, backend_alias="default"
    )
    ats_fake.state_codes = {uniq(good): 23, uniq(stuck): 23}
    out = io.StringIO()
    call_command("bulk_check_sms_states", stdout=out, stderr=io.StringIO())
    stuck.refresh_from_db()
    good.refresh_from_db()
    assert (stuck.state, good.state) == (State.SENT, State.DELIVERED)
    assert "default: 1 message state(s) updated." in out.getvalue()
    assert ats_fake.state_requests == [[uniq(good)]]


# -- configuration -----------------------------------------------------------------------------


def test_manage_py_check_reports_a_missing_key(settings, ats_settings):
    settings.PYMESS_ATS_SMS_CONFIG = {
        k: v for k, v in ats_settings.items() if k != "PROJECT_KEYWORD"
    }
    with pytest.raises(SystemCheckError, match="PROJECT_KEYWORD"):
        call_command("check", stdout=io.StringIO(), stderr=io.StringIO())


def test_default_endpoint_and_timeout(ats_config):
    options = {k: v for k, v in ats_config.items() if k not in {"URL", "TIMEOUT"}}
    backend = ATSSMSBackend(options=options)
    assert backend.url == "http://fik.atspraha.cz/gwfcgi/XMLServerWrapper.fcgi"
    assert backend.timeout() == 10


def test_credentials_never_reach_logs_or_errors(
    settings, ats_settings, ats_fake, django_capture_on_commit_callbacks, caplog
):
    replies = [
        Reply(status=500),
        Reply(status=429),
        Reply(status=403),
        Reply(body=hostile.MALFORMED),
        Reply(drop=True),
    ]
    with caplog.at_level(logging.DEBUG):
        errors = []
        for reply in replies:
            ats_fake.queue(reply)
            errors.append(send_one(django_capture_on_commit_callbacks).error)
        settings.PYMESS_ATS_SMS_CONFIG = {
            **ats_settings,
            "URL": closed_port_url("/gwfcgi/XMLServerWrapper.fcgi"),
        }
        errors.append(send_one(django_capture_on_commit_callbacks).error)
    assert all(errors), errors
    assert ATS_PASSWORD.encode() in ats_fake.requests[0].body  # it was sent, as the protocol wants
    assert ATS_PASSWORD not in caplog.text
    assert all(ATS_PASSWORD not in e for e in errors)


def test_fake_runs_in_its_own_process_for_benchmarks(settings, ats_settings):
    """The same backend against an out-of-process fake: requests overlap there too."""
    from tests.fakes.process import ProcessFake

    settings.PYMESS_SMS_BATCH_SENDING = True
    settings.PYMESS_SMS_WORKER_THREADS = 4
    with ProcessFake("ats", latency=0.05) as fake:
        settings.PYMESS_ATS_SMS_CONFIG = {
            **ats_settings,
            "URL": fake.url,
            "PASSWORD": "ats-password",  # the fake's default credentials
        }
        queue_waiting(16)
        get_backend().max_batch_size = 4
        assert send_waiting().states == {State.SENDING: 16}
        stats = fake.stats()
    assert stats["request_count"] == 4
    assert stats["max_in_flight"] > 1
    assert stats["violations"] == 0
