"""The send API as the documentation page and CONTRACT.md describe it."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from pymess.backend.sms import locmem, send
from pymess.models.sms import OutputSMSMessage
from tests.testapp.models import Customer, Order

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(settings, django_capture_on_commit_callbacks):
    """send() with the in-memory backend, running on-commit callbacks."""
    settings.PYMESS_SMS_SENDER_BACKEND = "locmem"

    def _send(*args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            message = send(*args, **kwargs)
        return message

    return _send


def test_send_returns_the_stored_message(sent):
    message = sent("+420 777 123 456", "Hello", tag="welcome")
    stored = OutputSMSMessage.objects.get()
    assert stored == message
    assert stored.recipient == "+420777123456"
    assert stored.content == "Hello"
    assert stored.tag == "welcome"
    assert stored.state == "SENT"
    assert stored.backend == "pymess.backend.sms.locmem.LocMemSMSBackend"
    assert stored.backend_alias == "default"
    assert stored.external_id.startswith("locmem-")
    assert locmem.outbox == [message]


@pytest.mark.parametrize(
    ("written", "e164"),
    [
        ("777123456", "+420777123456"),  # PYMESS_SMS_DEFAULT_REGION = "CZ" in test settings
        ("+420 777 123 456", "+420777123456"),
        ("00420777123456", "+420777123456"),
        ("+44 7911 123456", "+447911123456"),
        ("+1 (202) 555-0143", "+12025550143"),
    ],
)
def test_recipient_is_normalised_to_e164(sent, written, e164):
    assert sent(written, "Hi").recipient == e164


def test_default_region_setting(settings, sent):
    settings.PYMESS_SMS_DEFAULT_REGION = "SK"
    assert sent("0905 123 456", "Hi").recipient == "+421905123456"


def test_kwargs_land_in_extra_data(sent):
    message = sent("+420777123456", "Hi", order_id=7, nested={"a": [1, 2]})
    message.refresh_from_db()
    assert message.extra_data == {"order_id": 7, "nested": {"a": [1, 2]}}


def test_related_objects_are_stored_with_a_generic_relation(sent):
    customer = Customer.objects.create(name="Ann")
    order = Order.objects.create(customer=customer, number="A1")
    message = sent("+420777123456", "Hi", related_objects=[customer, order])
    related = list(message.related_objects.all())
    assert [r.content_object for r in related] == [customer, order]
    assert related[0].content_type == ContentType.objects.get_for_model(Customer)
    assert related[1].object_id == str(order.pk)


@pytest.mark.parametrize(
    ("content", "encoding", "segments"),
    [
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("€" * 80, "GSM-7", 1),
        ("€" * 81, "GSM-7", 2),
        ("Příliš žluťoučký kůň", "UCS-2", 1),
        ("ř" * 70, "UCS-2", 1),
        ("ř" * 71, "UCS-2", 2),
    ],
)
def test_encoding_and_segments_are_recorded(sent, content, encoding, segments):
    message = sent("+420777123456", content)
    message.refresh_from_db()
    assert (message.encoding, message.segments) == (encoding, segments)


def test_accents_are_kept_by_default(sent):
    assert sent("+420777123456", "Žluťoučký kůň").content == "Žluťoučký kůň"


def test_accents_replaced_when_use_accent_is_off(settings, sent):
    settings.PYMESS_SMS_USE_ACCENT = False
    message = sent("+420777123456", "Žluťoučký kůň 😀 €5")
    assert message.content == "Zlutoucky kun ? EUR5"
    assert message.encoding == "GSM-7"


def test_accent_replacement_happens_before_segment_counting(settings, sent):
    settings.PYMESS_SMS_USE_ACCENT = False
    message = sent("+420777123456", "ř" * 160)
    assert (message.encoding, message.segments) == ("GSM-7", 1)


@pytest.mark.django_db(transaction=True)
def test_rolled_back_transaction_never_sends(settings):
    settings.PYMESS_SMS_SENDER_BACKEND = "locmem"

    def send_then_fail():
        with transaction.atomic():
            send("+420777123456", "Never")
            raise RuntimeError("rollback")

    with pytest.raises(RuntimeError):
        send_then_fail()
    assert locmem.outbox == []
    assert not OutputSMSMessage.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_provider_is_called_only_after_commit(settings):
    settings.PYMESS_SMS_SENDER_BACKEND = "locmem"
    with transaction.atomic():
        message = send("+420777123456", "After commit")
        assert locmem.outbox == []
        assert message.state == "WAITING"
    assert locmem.outbox == [message]
    message.refresh_from_db()
    assert message.state == "SENT"


@pytest.mark.django_db(transaction=True)
def test_without_a_transaction_send_returns_the_sent_message(settings):
    settings.PYMESS_SMS_SENDER_BACKEND = "locmem"
    message = send("+420777123456", "Now")
    assert message.state == "SENT"
    assert OutputSMSMessage.objects.get().state == "SENT"


def test_batch_mode_leaves_messages_waiting(settings, sent):
    settings.PYMESS_SMS_BATCH_SENDING = True
    message = sent("+420777123456", "Later")
    assert message.state == "WAITING"
    assert message.claim_token is None
    assert locmem.outbox == []


def test_send_immediately_bypasses_batch_mode(settings, sent):
    settings.PYMESS_SMS_BATCH_SENDING = True
    assert sent("+420777123456", "Now", send_immediately=True).state == "SENT"


def test_send_at_schedules_for_the_batch_worker(sent):
    later = timezone.now() + timezone.timedelta(hours=1)
    message = sent("+420777123456", "Later", send_at=later)
    assert message.state == "WAITING"
    assert message.next_attempt_at == later
    assert locmem.outbox == []


def test_provider_failure_never_escapes_send(sent):
    locmem.fail_next(RuntimeError("provider exploded"))
    message = sent("+420777123456", "Hi")
    assert message.state == "ERROR_RETRY"
    assert "provider exploded" in message.error


def test_retry_sending_false_makes_a_failure_final(sent):
    locmem.fail_next(ConnectionError("down"))
    message = sent("+420777123456", "Hi", retry_sending=False)
    assert message.state == "ERROR"
    assert "retry_sending is off" in message.error


def test_named_backends_record_the_alias(settings, django_capture_on_commit_callbacks):
    settings.PYMESS_SMS_BACKENDS = {
        "default": {"BACKEND": "dummy"},
        "marketing": {"BACKEND": "locmem", "OPTIONS": {"SENDER": "ACME"}},
    }
    with django_capture_on_commit_callbacks(execute=True):
        plain = send("+420777123456", "Default")
        promo = send("+420777123456", "Promo", backend_alias="marketing")
    assert (plain.state, plain.backend_alias) == ("DEBUG", "default")
    assert (promo.state, promo.backend_alias, promo.sender) == ("SENT", "marketing", "ACME")
    assert promo.backend == "pymess.backend.sms.locmem.LocMemSMSBackend"


def test_dummy_backend_is_the_default(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = send("+420777123456", "Hi")
    assert message.state == "DEBUG"
    assert message.backend == "pymess.backend.sms.dummy.DummySMSBackend"
