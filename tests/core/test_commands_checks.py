"""Management commands (simple form) and Django system checks."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from pymess.backend.sms import send
from pymess.checks import check_plugins, check_sms_backends
from pymess.models.sms import OutputSMSMessage

pytestmark = pytest.mark.django_db


def test_send_messages_batch_sends_waiting_messages(settings):
    settings.PYMESS_SMS_BATCH_SENDING = True
    for i in range(3):
        send("+420777123456", f"m{i}")
    out = StringIO()
    call_command("send_messages_batch", "--type=sms", stdout=out)
    assert set(OutputSMSMessage.objects.values_list("state", flat=True)) == {"DEBUG"}
    assert "sent 3" in out.getvalue()


def test_send_messages_batch_rejects_other_types():
    with pytest.raises(CommandError, match="Unknown message type 'email'"):
        call_command("send_messages_batch", "--type=email")


def test_bulk_check_is_a_no_op_for_backends_that_cannot_poll():
    out = StringIO()
    call_command("bulk_check_sms_states", stdout=out, verbosity=1)
    assert "DummySMSBackend cannot poll states; skipped" in out.getvalue()
    quiet = StringIO()
    call_command("bulk_check_sms_states", stdout=quiet, verbosity=0)
    assert quiet.getvalue() == ""


def test_checks_pass_by_default():
    assert check_sms_backends() == []
    assert check_plugins() == []


def test_check_reports_missing_provider_keys(settings):
    settings.PYMESS_SMS_SENDER_BACKEND = "tests.testapp.backends.ConfiguredBackend"
    errors = check_sms_backends()
    assert [e.id for e in errors] == ["pymess.E002"]
    assert "API_KEY" in errors[0].msg
    assert "PYMESS_TESTAPP_SMS_CONFIG" in errors[0].msg


def test_check_reports_unknown_backend(settings):
    settings.PYMESS_SMS_SENDER_BACKEND = "nope"
    assert [e.id for e in check_sms_backends()] == ["pymess.E002"]


def test_check_reports_bad_dispatch(settings):
    settings.PYMESS_SMS_DISPATCH = "carrier-pigeon"
    assert [e.id for e in check_sms_backends()] == ["pymess.E001"]


def test_check_reports_broken_plugins(settings):
    settings.PYMESS_PLUGINS = ["tests.testapp.plugins.does_not_exist"]
    assert [w.id for w in check_plugins()] == ["pymess.W001"]
    settings.PYMESS_PLUGINS = ["tests.testapp.plugins.misspelled"]
    assert [e.id for e in check_plugins()] == ["pymess.E003"]


def test_manage_py_check_runs_pymess_checks(settings):
    settings.PYMESS_SMS_SENDER_BACKEND = "tests.testapp.backends.ConfiguredBackend"
    with pytest.raises(Exception, match="API_KEY"):
        call_command("check")
