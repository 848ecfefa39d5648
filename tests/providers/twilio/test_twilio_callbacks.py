"""Twilio status callbacks: signed, routed by sid, forward-only, duplicate-tolerant."""

import pytest
from django.apps import apps
from django.test import Client

from pymess.backend.sms import send
from pymess.models.sms import OutputSMSMessage
from pymess_twilio.testing import callback_params, post_status_callback, sign, signed_callback
from tests.fixtures.fix_twilio import ACCOUNT_SID, AUTH_TOKEN, CALLBACK_URL, twilio_options

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.providers.twilio.urls")]

PATH = "/hooks/twilio/"
SID = "SM" + "a" * 32


@pytest.fixture
def message(twilio_settings):
    return OutputSMSMessage.objects.create(
        recipient="+420777123456",
        content="Hello",
        state="SENDING",
        external_id=SID,
        backend="pymess.backend.sms.twilio.TwilioSMSBackend",
        extra_sender_data={"status": "queued", "num_segments": 1},
    )


def state_changes(hooks):
    return [(kw["old_state"], kw["new_state"]) for n, kw in hooks.calls if "state" in n]


def assert_unchanged(message):
    before = (message.state, message.error, message.extra_sender_data, message.changed_at)
    message.refresh_from_db()
    assert (message.state, message.error, message.extra_sender_data, message.changed_at) == before


def test_the_plugin_is_not_an_installed_app():
    assert not apps.is_installed("pymess_twilio")


def test_valid_signed_callback_moves_the_state(client, message, hooks):
    response = post_status_callback(client, SID, "delivered")
    assert response.status_code == 204
    message.refresh_from_db()
    assert message.state == "DELIVERED"
    assert message.extra_sender_data == {"status": "delivered", "num_segments": 1}
    assert state_changes(hooks) == [("SENDING", "DELIVERED")]


def test_callback_is_csrf_exempt(message):
    response = post_status_callback(Client(enforce_csrf_checks=True), SID, "sent")
    assert response.status_code == 204
    message.refresh_from_db()
    assert message.state == "SENT"


def test_signature_is_checked_against_the_configured_url_not_the_request(client, message):
    # Behind a proxy Django sees http://testserver/...; Twilio signed the public https URL.
    data, headers = signed_callback(CALLBACK_URL, callback_params(SID, "sent"), AUTH_TOKEN)
    assert client.post(PATH, data, headers=headers, HTTP_HOST="internal:8000").status_code == 204
    message.refresh_from_db()
    assert message.state == "SENT"


def test_failed_callback_records_the_error_code(client, message, hooks):
    response = post_status_callback(client, SID, "undelivered", error_code=30003)
    assert response.status_code == 204
    message.refresh_from_db()
    assert message.state == "ERROR"
    assert "30003" in message.error
    assert state_changes(hooks) == [("SENDING", "ERROR")]


def test_late_sent_after_delivered_changes_nothing(client, message, hooks):
    assert post_status_callback(client, SID, "delivered").status_code == 204
    message.refresh_from_db()
    assert post_status_callback(client, SID, "sent").status_code == 204
    assert_unchanged(message)
    assert message.state == "DELIVERED"
    assert message.extra_sender_data["status"] == "delivered"
    assert state_changes(hooks) == [("SENDING", "DELIVERED")]


def test_out_of_order_callbacks_end_in_the_furthest_state(client, message, hooks):
    for status in ("delivered", "queued", "sending", "sent"):
        assert post_status_callback(client, SID, status).status_code == 204
    message.refresh_from_db()
    assert message.state == "DELIVERED"
    assert state_changes(hooks) == [("SENDING", "DELIVERED")]


def test_duplicate_callback_fires_the_hook_once(client, message, hooks):
    for _ in range(3):
        assert post_status_callback(client, SID, "sent").status_code == 204
    message.refresh_from_db()
    assert message.state == "SENT"
    assert state_changes(hooks) == [("SENDING", "SENT")]


def test_unknown_status_is_recorded_without_changing_the_state(client, message, hooks):
    assert post_status_callback(client, SID, "teleported").status_code == 204
    message.refresh_from_db()
    assert message.state == "SENDING"
    assert message.extra_sender_data["status"] == "teleported"
    assert state_changes(hooks) == []


@pytest.mark.parametrize(
    "forge",
    ["unsigned", "wrong-token", "wrong-url", "tampered", "garbage"],
)
def test_forged_callbacks_get_403_and_change_nothing(client, message, hooks, forge):
    params = callback_params(SID, "delivered", account_sid=ACCOUNT_SID)
    headers = {"X-Twilio-Signature": sign(CALLBACK_URL, params, AUTH_TOKEN)}
    if forge == "unsigned":
        headers = {}
    elif forge == "wrong-token":
        headers["X-Twilio-Signature"] = sign(CALLBACK_URL, params, "not-the-token")
    elif forge == "wrong-url":
        headers["X-Twilio-Signature"] = sign(
            "https://evil.example.com/hooks/twilio/", params, AUTH_TOKEN
        )
    elif forge == "tampered":
        params = {**params, "MessageStatus": "failed", "SmsStatus": "failed"}
    elif forge == "garbage":
        headers["X-Twilio-Signature"] = "bm90IGEgc2lnbmF0dXJl"
    response = client.post(PATH, params, headers=headers)
    assert response.status_code == 403
    assert_unchanged(message)
    assert state_changes(hooks) == []


def test_unknown_sid_gets_404_and_changes_nothing(client, message, hooks):
    response = post_status_callback(client, "SM" + "b" * 32, "delivered")
    assert response.status_code == 404
    assert_unchanged(message)
    assert state_changes(hooks) == []


def test_missing_fields_get_400(client, message):
    data, headers = signed_callback(CALLBACK_URL, {"AccountSid": ACCOUNT_SID}, AUTH_TOKEN)
    assert client.post(PATH, data, headers=headers).status_code == 400
    assert_unchanged(message)


def test_get_is_not_allowed(client, message):
    assert client.get(PATH).status_code == 405


def test_without_a_configured_callback_url_every_callback_is_refused(client, message, settings):
    settings.PYMESS_TWILIO_SMS_CONFIG = {
        **settings.PYMESS_TWILIO_SMS_CONFIG,
        "STATUS_CALLBACK_URL": "",
    }
    data, headers = signed_callback(CALLBACK_URL, callback_params(SID, "delivered"), AUTH_TOKEN)
    assert client.post(PATH, data, headers=headers).status_code == 403
    assert_unchanged(message)


def test_callbacks_are_routed_to_the_alias_whose_token_signed_them(client, fake_twilio, settings):
    other_url = "https://sms.example.com/hooks/twilio/?account=eu"
    settings.PYMESS_SMS_BACKENDS = {
        "default": {"BACKEND": "twilio", "OPTIONS": twilio_options(fake_twilio.url)},
        "eu": {
            "BACKEND": "pymess.backend.sms.twilio.TwilioSMSBackend",
            "OPTIONS": twilio_options(
                fake_twilio.url, AUTH_TOKEN="eu-token", STATUS_CALLBACK_URL=other_url
            ),
        },
    }
    default = OutputSMSMessage.objects.create(
        recipient="+420777123456", content="a", state="SENDING", external_id=SID
    )
    eu = OutputSMSMessage.objects.create(
        recipient="+420777123456",
        content="b",
        state="SENDING",
        external_id=SID,
        backend_alias="eu",
    )
    response = post_status_callback(client, SID, "delivered", alias="eu")
    assert response.status_code == 204
    default.refresh_from_db()
    eu.refresh_from_db()
    assert (default.state, eu.state) == ("SENDING", "DELIVERED")


def test_send_then_callbacks_end_to_end(
    client, twilio_settings, hooks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = send("+420777123456", "Your code is 1234")
    message.refresh_from_db()
    assert twilio_settings.requests[0]["StatusCallback"] == CALLBACK_URL
    for status in ("sent", "delivered"):
        assert post_status_callback(client, message.external_id, status).status_code == 204
    message.refresh_from_db()
    assert message.state == "DELIVERED"
    assert state_changes(hooks) == [
        ("WAITING", "SENDING"),
        ("SENDING", "SENT"),
        ("SENT", "DELIVERED"),
    ]
