"""SMS templates: locale fallback, plain-text rendering, can_send, swappable model."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pymess.backend.sms import send_template
from pymess.models.sms import OutputSMSMessage, SMSTemplate

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def templates():
    for locale, body in [
        ("", "Hello {{ name }}"),
        ("cs", "Ahoj {{ name }}"),
        ("cs-cz", "Čau {{ name }}"),
        ("en", "Hi {{ name }}"),
    ]:
        SMSTemplate.objects.create(slug="greeting", locale=locale, body=body)


@pytest.mark.parametrize(
    ("locale", "language_code", "expected"),
    [
        ("cs-cz", "en", "Čau Ann"),
        ("cs_CZ", "en", "Čau Ann"),  # accepted and normalised
        ("cs-sk", "en", "Ahoj Ann"),  # falls back to the language
        ("de-at", "en", "Hi Ann"),  # then LANGUAGE_CODE
        ("de", "en-us", "Hi Ann"),  # then LANGUAGE_CODE's language
        ("de", "fr", "Hello Ann"),  # then the template without a locale
        (None, "cs", "Ahoj Ann"),  # None starts at LANGUAGE_CODE
    ],
)
def test_locale_fallback(settings, templates, locale, language_code, expected):
    settings.LANGUAGE_CODE = language_code
    message = send_template("+420777123456", "greeting", {"name": "Ann"}, locale=locale)
    assert message.content == expected


def test_template_fields_are_recorded(templates):
    message = send_template(
        "+420777123456", "greeting", {"name": "Ann"}, locale="cs", tag="t", order=5
    )
    assert message.template.slug == "greeting"
    assert (message.template_slug, message.locale, message.tag) == ("greeting", "cs", "t")
    assert message.extra_data == {"order": 5}


def test_template_slug_survives_template_deletion(templates):
    message = send_template("+420777123456", "greeting", {"name": "Ann"}, locale="cs")
    SMSTemplate.objects.filter(locale="cs").delete()
    message.refresh_from_db()
    assert message.template is None
    assert message.template_slug == "greeting"


def test_rendering_is_plain_text():
    SMSTemplate.objects.create(slug="plain", body="{{ shop }} <b>{{ price }}</b>")
    message = send_template("+420777123456", "plain", {"shop": "Tom & Jerry's", "price": "<5 €>"})
    assert message.content == "Tom & Jerry's <b><5 €></b>"


def test_locale_is_normalised_on_save():
    template = SMSTemplate.objects.create(slug="x", locale="cs_CZ", body="b")
    assert template.locale == "cs-cz"


def test_template_methods():
    template = SMSTemplate(slug="m", body="Hi {{ name|upper }}")
    assert template.get_body() == "Hi {{ name|upper }}"
    assert template.render_body({"name": "ann"}) == "Hi ANN"
    assert template.can_send("+420777123456", {}) is True
    template.is_active = False
    assert template.can_send("+420777123456", {}) is False


def test_template_send_returns_message_or_none():
    template = SMSTemplate.objects.create(slug="direct", body="Hi {{ n }}")
    message = template.send("+420777123456", {"n": 1})
    assert isinstance(message, OutputSMSMessage)
    assert message.content == "Hi 1"
    template.is_active = False
    assert template.send("+420777123456", {"n": 1}) is None
    assert OutputSMSMessage.objects.count() == 1


def test_overridden_can_send_is_honoured(monkeypatch):
    SMSTemplate.objects.create(slug="night", body="Hi")
    monkeypatch.setattr(
        SMSTemplate, "can_send", lambda self, recipient, context: recipient.endswith("6")
    )
    assert send_template("+420777123456", "night", {}) is not None
    assert send_template("+420777123457", "night", {}) is None


def test_custom_template_model_migrates_cleanly(tmp_path):
    """A project with its own template model (PYMESS_SMS_TEMPLATE_MODEL) migrates from scratch."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.custom_template.settings",
        "PYMESS_TEST_DB": "sqlite",
        "PYMESS_CUSTOM_TEMPLATE_DB": str(tmp_path / "db.sqlite3"),
        "PYTHONPATH": str(ROOT),
    }
    script = (
        "import django; django.setup();"
        "from django.core.management import call_command;"
        "call_command('migrate', verbosity=0);"
        "call_command('makemigrations', '--check', '--dry-run', verbosity=0);"
        "from pymess.backend.sms import send_template;"
        "from tests.custom_template.models import BrandedTemplate;"
        "BrandedTemplate.objects.create(slug='hi', body='Hi from {{ brand }}', brand='ACME');"
        "m = send_template('+420777123456', 'hi', {'brand': 'ACME'});"
        "print(type(m.template).__name__, m.content)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "BrandedTemplate Hi from ACME"
