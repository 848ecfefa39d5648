"""The example plugin distribution (examples/pymess-example-plugin), installed, used by name.

It must be installed into the test environment (the nox sessions do it); the
test does not install it itself, so a broken package build shows up here.
"""

import json
from importlib.metadata import PackageNotFoundError, distribution

import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from pymess.backend.sms import send
from pymess.backend.sms.registry import available_backends, get_backend
from pymess.enums import OutputSMSMessageState as State
from pymess.plugins import get_plugins

pytestmark = pytest.mark.django_db(transaction=True)

INSTALL_HINT = (
    "The example plugin distribution is not installed in this environment. "
    "Run: pip install ./examples/pymess-example-plugin (the nox test sessions do this)."
)


@pytest.fixture(autouse=True)
def example_plugin():
    try:
        dist = distribution("pymess-example-plugin")
    except PackageNotFoundError:
        pytest.fail(INSTALL_HINT, pytrace=False)
    from pymess_example_plugin import hooks

    hooks.reset()
    yield dist
    hooks.reset()


@pytest.fixture
def log_path(tmp_path, settings):
    path = tmp_path / "sms.jsonl"
    settings.PYMESS_SMS_BACKENDS = {
        "default": {"BACKEND": "example_log", "OPTIONS": {"PATH": str(path)}}
    }
    return path


def test_distribution_declares_both_entry_points(example_plugin):
    declared = {(ep.group, ep.name) for ep in example_plugin.entry_points}
    assert declared == {("pymess.sms_backends", "example_log"), ("pymess.plugins", "example_hooks")}
    assert available_backends()["example_log"].dist.name == "pymess-example-plugin"


def test_backend_by_name_writes_the_message_and_records_its_id(log_path):
    message = send("+420777123456", "Příliš žluťoučký kůň")

    message.refresh_from_db()
    assert message.state == State.SENT
    assert message.external_id == f"example-{message.pk}"
    assert message.backend == "pymess_example_plugin.backend.LogSMSBackend"
    assert message.extra_sender_data == {"path": str(log_path)}
    lines = log_path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [
        {"id": f"example-{message.pk}", "to": "+420777123456", "text": "Příliš žluťoučký kůň"}
    ]


def test_hook_plugin_is_loaded_from_its_entry_point_and_sees_every_step(log_path):
    from pymess_example_plugin import hooks

    assert get_plugins().manager.get_plugin("example_hooks") is hooks

    message = send("+420777123456", "Hello")

    assert list(hooks.calls) == [
        ("pre_send", message.pk, "default"),
        ("state_updated", message.pk, "WAITING->SENT"),
        ("post_send", message.pk, "SENT"),
    ]


def test_hook_plugin_cancels_a_send_by_name(log_path):
    message = send("+420777123456", "Do not send", example_block="customer opted out")

    message.refresh_from_db()
    assert message.state == State.ERROR
    assert message.error == "blocked by pymess-example-plugin: customer opted out"
    assert not log_path.exists(), "a cancelled message must not reach the backend"


def test_unwritable_path_is_a_temporary_failure(tmp_path, settings):
    settings.PYMESS_SMS_BACKENDS = {
        "default": {"BACKEND": "example_log", "OPTIONS": {"PATH": str(tmp_path / "no" / "x")}}
    }
    message = send("+420777123456", "Hello")

    message.refresh_from_db()
    assert message.state == State.ERROR_RETRY
    assert "cannot write" in message.error


def test_missing_option_is_reported_by_check_and_on_use(settings):
    settings.PYMESS_SMS_BACKENDS = {"default": {"BACKEND": "example_log"}}

    errors = checks.run_checks(tags=["pymess"])
    assert any(e.id == "pymess.E002" and "PATH" in e.msg for e in errors), errors
    with pytest.raises(ImproperlyConfigured, match="PATH"):
        get_backend()


def test_batch_command_sends_through_the_named_backend(log_path, settings):
    settings.PYMESS_SMS_BATCH_SENDING = True
    messages = [send("+420777123456", f"Batch {i}") for i in range(3)]
    assert not log_path.exists()

    call_command("send_messages_batch", "--type=sms", verbosity=0)

    texts = [json.loads(line)["text"] for line in log_path.read_text().splitlines()]
    assert sorted(texts) == ["Batch 0", "Batch 1", "Batch 2"]
    for message in messages:
        message.refresh_from_db()
        assert message.state == State.SENT
