"""Backend discovery by entry-point name or dotted path; plugin aliases; settings resets."""

import sys

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from pymess.backend.sms.dummy import DummySMSBackend
from pymess.backend.sms.locmem import LocMemSMSBackend
from pymess.backend.sms.registry import available_backends, get_backend, resolve_backend_class

PLUGIN_ALIASES = [
    ("pymess.backend.sms.sns", "SNSSMSBackend", "pymess_sns", "pymess-sns"),
    ("pymess.backend.sms.twilio", "TwilioSMSBackend", "pymess_twilio", "pymess-twilio"),
    ("pymess.backend.sms.ats_sms_operator", "ATSSMSBackend", "pymess_ats", "pymess-ats"),
    (
        "pymess.backend.sms.sms_operator",
        "SMSOperatorBackend",
        "pymess_smsoperator",
        "pymess-smsoperator",
    ),
]


def test_core_entry_points():
    assert {"dummy", "locmem"} <= set(available_backends())
    assert resolve_backend_class("dummy") is DummySMSBackend
    assert resolve_backend_class("locmem") is LocMemSMSBackend


def test_dotted_path():
    assert resolve_backend_class("pymess.backend.sms.dummy.DummySMSBackend") is DummySMSBackend


def test_unimportable_dotted_path():
    with pytest.raises(ImproperlyConfigured, match=r"cannot import backend 'no\.such\.Backend'"):
        resolve_backend_class("no.such.Backend")


def test_both_documented_base_class_paths_are_the_same_class():
    from pymess.backend.sms import SMSBackend as a
    from pymess.backends.sms import SMSBackend as b

    assert a is b


@pytest.mark.parametrize(("module", "name", "package", "distribution"), PLUGIN_ALIASES)
def test_plugin_alias_without_the_plugin_names_the_pip_install(
    monkeypatch, module, name, package, distribution
):
    monkeypatch.setitem(sys.modules, package, None)  # as if not installed
    with pytest.raises(ImproperlyConfigured, match=f"pip install {distribution}"):
        resolve_backend_class(f"{module}.{name}")
    alias_module = __import__(module, fromlist=[name])
    with pytest.raises(ImproperlyConfigured, match=f"pip install {distribution}"):
        getattr(alias_module, name)


def test_backends_are_cached_per_alias_and_reset_by_override_settings():
    first = get_backend()
    assert get_backend() is first
    with override_settings(PYMESS_SMS_SENDER_BACKEND="locmem"):
        assert isinstance(get_backend(), LocMemSMSBackend)
    assert isinstance(get_backend(), DummySMSBackend)


def test_named_backends_options_override_the_provider_setting(settings):
    settings.PYMESS_TESTAPP_SMS_CONFIG = {"API_KEY": "from-setting", "TIMEOUT": 3}
    settings.PYMESS_SMS_BACKENDS = {
        "default": {"BACKEND": "tests.testapp.backends.ConfiguredBackend"},
        "other": {
            "BACKEND": "tests.testapp.backends.ConfiguredBackend",
            "OPTIONS": {"API_KEY": "own"},
        },
    }
    assert get_backend().options == {"API_KEY": "from-setting", "TIMEOUT": 3}
    assert get_backend("other").options == {"API_KEY": "own", "TIMEOUT": 3}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({}, "non-empty dict"),
        ({"default": {"OPTIONS": {}}}, '"BACKEND" key'),
        ({"default": {"BACKEND": "dummy", "OPTONS": {}}}, "unknown keys"),
        ({"main": {"BACKEND": "dummy"}}, '"default" alias'),
    ],
)
def test_malformed_named_backends(settings, value, message):
    settings.PYMESS_SMS_BACKENDS = value
    with pytest.raises(ImproperlyConfigured, match=message):
        get_backend()


@pytest.mark.parametrize(
    ("name", "distribution"),
    [
        ("sns", "pymess-sns"),
        ("twilio", "pymess-twilio"),
        ("ats", "pymess-ats"),
        ("sms_operator", "pymess-smsoperator"),
    ],
)
def test_missing_provider_name_names_its_distribution(monkeypatch, name, distribution):
    from pymess.backend.sms import registry

    real = registry.available_backends

    def core_only():
        return {n: ep for n, ep in real().items() if n in ("dummy", "locmem")}

    core_only.cache_clear = real.cache_clear  # the autouse reset clears the cache
    monkeypatch.setattr(registry, "available_backends", core_only)
    with pytest.raises(ImproperlyConfigured, match=f"Run: pip install {distribution}$"):
        resolve_backend_class(name)
