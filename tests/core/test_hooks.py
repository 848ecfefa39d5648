"""Hook plugins: discovery, isolation, cancellation, and the hooks each source fires."""

import logging
import sys
import textwrap

import pytest
from django.core.exceptions import ImproperlyConfigured

from pymess.backend.sms import send
from pymess.models.sms import OutputSMSMessage
from pymess.plugins import get_plugins, reset_plugins
from pymess.testing import hook_recorder

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(django_capture_on_commit_callbacks):
    def _send(*args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return send(*args, **kwargs)

    return _send


def test_pre_send_hook_can_cancel(settings, sent):
    settings.PYMESS_PLUGINS = ["tests.testapp.plugins.cancelling", "pymess.testing.hook_recorder"]
    hook_recorder.reset()
    message = sent("+420777000000", "Blocked")
    message.refresh_from_db()
    assert message.state == "ERROR"
    assert message.error == "+420777000000 is on the block list"
    assert message.number_of_send_attempts == 0  # the provider was never called
    assert "pymess_sms_post_send" in hook_recorder.names()
    assert sent("+420777123456", "Fine").state == "DEBUG"


def test_raising_hooks_are_logged_with_the_plugin_name_and_never_lose_state(settings, sent, caplog):
    settings.PYMESS_PLUGINS = ["tests.testapp.plugins.exploding", "pymess.testing.hook_recorder"]
    hook_recorder.reset()
    with caplog.at_level(logging.ERROR, logger="pymess.plugins"):
        message = sent("+420777123456", "Still sent")
    assert OutputSMSMessage.objects.get(pk=message.pk).state == "DEBUG"
    failures = [r for r in caplog.records if "tests.testapp.plugins.exploding" in r.getMessage()]
    assert {r.getMessage().rsplit(" ", 1)[-1] for r in failures} == {
        "pymess_sms_pre_send",
        "pymess_sms_post_send",
        "pymess_sms_state_updated",
    }
    # The other plugin still ran for each hook.
    assert hook_recorder.names() == [
        "pymess_sms_pre_send",
        "pymess_sms_state_updated",
        "pymess_sms_post_send",
    ]


def test_misspelled_hook_fails_loudly(settings):
    settings.PYMESS_PLUGINS = ["tests.testapp.plugins.misspelled"]
    with pytest.raises(ImproperlyConfigured, match="pymess_sms_pre_sned"):
        get_plugins()


def test_broken_plugin_is_isolated_unless_strict(settings, caplog):
    settings.PYMESS_PLUGINS = [
        "tests.testapp.plugins.does_not_exist",
        "pymess.testing.hook_recorder",
    ]
    plugins = get_plugins()
    assert [source for source, _ in plugins.failed] == [
        "PYMESS_PLUGINS entry 'tests.testapp.plugins.does_not_exist'"
    ]
    assert plugins.manager.has_plugin("pymess.testing.hook_recorder")
    assert "does_not_exist" in caplog.text
    settings.PYMESS_PLUGINS_STRICT = True
    with pytest.raises(ImproperlyConfigured, match="does_not_exist"):
        get_plugins()


def test_plugins_load_lazily_and_reset_on_setting_change(settings):
    first = get_plugins()
    assert get_plugins() is first
    settings.PYMESS_PLUGINS = ["pymess.testing.hook_recorder"]
    assert get_plugins() is not first
    assert get_plugins().manager.has_plugin("pymess.testing.hook_recorder")


@pytest.fixture
def fake_distribution(tmp_path, monkeypatch):
    """A tiny installed distribution with a pymess.plugins entry point (found via sys.path)."""
    package = tmp_path / "pymess_fake_plugin"
    package.mkdir()
    (package / "__init__.py").write_text(
        textwrap.dedent(
            """
            from pymess import hookimpl
            calls = []

            @hookimpl
            def pymess_sms_state_updated(new_state):
                calls.append(new_state)
            """
        )
    )
    dist_info = tmp_path / "pymess_fake_plugin-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: pymess-fake-plugin\nVersion: 1.0\n"
    )
    (dist_info / "entry_points.txt").write_text("[pymess.plugins]\nfake = pymess_fake_plugin\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    reset_plugins()
    yield
    sys.modules.pop("pymess_fake_plugin", None)
    reset_plugins()


def test_entry_point_plugins_are_discovered(fake_distribution, sent):
    import pymess_fake_plugin

    sent("+420777123456", "Hi")
    assert pymess_fake_plugin.calls == ["DEBUG"]


def test_broken_entry_point_names_its_distribution(tmp_path, monkeypatch, caplog):
    dist_info = tmp_path / "pymess_broken-2.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: pymess-broken\nVersion: 2.0\n"
    )
    (dist_info / "entry_points.txt").write_text(
        "[pymess.plugins]\nbroken = pymess_broken_missing_module\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    reset_plugins()
    plugins = get_plugins()
    assert any("pymess-broken" in source for source, _ in plugins.failed)
    assert "pymess-broken" in caplog.text


def test_batch_worker_fires_hooks_like_send(settings):
    from pymess.outbox import send_waiting

    settings.PYMESS_PLUGINS = ["pymess.testing.hook_recorder"]
    settings.PYMESS_SMS_BATCH_SENDING = True
    hook_recorder.reset()
    for i in range(3):
        send("+420777123456", f"m{i}")
    assert hook_recorder.calls == []  # creating a message fires nothing
    send_waiting()
    assert hook_recorder.names().count("pymess_sms_pre_send") == 3
    assert hook_recorder.names().count("pymess_sms_post_send") == 3
    assert hook_recorder.names().count("pymess_sms_state_updated") == 3


def test_hook_wrappers_are_refused_loudly(settings):
    settings.PYMESS_PLUGINS = ["tests.testapp.plugins.wrapper"]
    with pytest.raises(ImproperlyConfigured, match="does not support wrappers"):
        get_plugins()
