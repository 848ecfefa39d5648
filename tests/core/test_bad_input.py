"""Bad input gets a documented exception and stores nothing (issue 2 acceptance)."""

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError

from pymess.backend.sms import send, send_template
from pymess.exceptions import (
    InvalidContent,
    InvalidRecipient,
    InvalidRelatedObject,
    TemplateNotFound,
)
from pymess.models.sms import OutputSMSMessage, OutputSMSRelatedObject, SMSTemplate
from tests.testapp.models import Customer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _nothing_stored():
    yield
    assert OutputSMSMessage.objects.count() == 0
    assert OutputSMSRelatedObject.objects.count() == 0


@pytest.mark.parametrize(
    "recipient",
    [
        "not a number",
        "abc123",
        "",
        "   ",
        "12",  # too short
        "+420 12",  # too short for CZ
        "+999 123 456 789",  # no such country code
        "+420 777 123 456 789 123",  # too long
        None,
        420777123456,  # not a string
    ],
)
def test_invalid_recipient(recipient):
    with pytest.raises(InvalidRecipient):
        send(recipient, "Hello")


def test_recipient_of_a_country_outside_allowed_regions(settings):
    settings.PYMESS_SMS_ALLOWED_REGIONS = ["CZ", "SK"]
    with pytest.raises(InvalidRecipient, match="PYMESS_SMS_ALLOWED_REGIONS"):
        send("+44 7911 123456", "Hello")


def test_national_number_without_default_region(settings):
    settings.PYMESS_SMS_DEFAULT_REGION = None
    with pytest.raises(InvalidRecipient, match="PYMESS_SMS_DEFAULT_REGION"):
        send("777 123 456", "Hello")


@pytest.mark.parametrize("content", ["", "   ", "\n\t ", None, 42])
def test_empty_or_non_string_content(content):
    with pytest.raises(InvalidContent):
        send("+420777123456", content)


def test_content_over_the_segment_limit(settings):
    settings.PYMESS_SMS_MAX_SEGMENTS = 2
    with pytest.raises(InvalidContent, match="3 GSM-7 segments; the limit is 2"):
        send("+420777123456", "x" * 307)


def test_default_segment_limit_is_ten():
    with pytest.raises(InvalidContent, match="limit is 10"):
        send("+420777123456", "ř" * (67 * 10 + 1))


@pytest.mark.parametrize("extra", [{"when": object()}, {"amount": float("nan")}, {"items": {1, 2}}])
def test_extra_data_that_is_not_json(extra):
    with pytest.raises(InvalidContent, match="JSON"):
        send("+420777123456", "Hello", **extra)


def test_unsaved_related_object():
    with pytest.raises(InvalidRelatedObject):
        send("+420777123456", "Hello", related_objects=[Customer(name="unsaved")])


def test_related_object_that_is_not_a_model():
    with pytest.raises(InvalidRelatedObject):
        send("+420777123456", "Hello", related_objects=["customer-1"])


def test_unknown_template_slug():
    with pytest.raises(TemplateNotFound, match="no-such-template"):
        send_template("+420777123456", "no-such-template", {})


def test_inactive_template_returns_none():
    SMSTemplate.objects.create(slug="inactive", body="Hi", is_active=False)
    assert send_template("+420777123456", "inactive", {}) is None


def test_template_with_a_syntax_error_is_rejected_on_save():
    with pytest.raises(ValidationError, match="syntax"):
        SMSTemplate.objects.create(slug="broken", body="Hi {% if %}")
    assert not SMSTemplate.objects.exists()


def test_template_rendering_to_empty_content():
    SMSTemplate.objects.create(slug="blank", body="{{ nothing }}")
    with pytest.raises(InvalidContent, match="empty"):
        send_template("+420777123456", "blank", {})


def test_unknown_backend_name_lists_installed_backends(settings):
    settings.PYMESS_SMS_SENDER_BACKEND = "carrier-pigeon"
    with pytest.raises(
        ImproperlyConfigured, match=r"unknown SMS backend 'carrier-pigeon'.*dummy.*locmem"
    ):
        send("+420777123456", "Hello")


def test_backend_path_that_is_not_a_backend(settings):
    settings.PYMESS_SMS_SENDER_BACKEND = "tests.testapp.models.Customer"
    with pytest.raises(ImproperlyConfigured, match="not a subclass"):
        send("+420777123456", "Hello")


def test_provider_config_with_a_key_missing(settings):
    settings.PYMESS_SMS_SENDER_BACKEND = "tests.testapp.backends.ConfiguredBackend"
    settings.PYMESS_TESTAPP_SMS_CONFIG = {"TIMEOUT": 5}
    with pytest.raises(
        ImproperlyConfigured, match=r"PYMESS_TESTAPP_SMS_CONFIG.*missing required option.*API_KEY"
    ):
        send("+420777123456", "Hello")


def test_provider_config_with_an_unknown_key(settings):
    settings.PYMESS_SMS_SENDER_BACKEND = "tests.testapp.backends.ConfiguredBackend"
    settings.PYMESS_TESTAPP_SMS_CONFIG = {"API_KEY": "k", "API_KYE": "typo"}
    with pytest.raises(ImproperlyConfigured, match=r"unknown option.*API_KYE"):
        send("+420777123456", "Hello")


def test_unknown_backend_alias():
    with pytest.raises(ImproperlyConfigured, match="alias 'marketing'"):
        send("+420777123456", "Hello", backend_alias="marketing")
