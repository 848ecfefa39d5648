"""A contract test suite every SMS backend runs, so the same promises are checked the same way.

Subclass :class:`SMSBackendContract` (backends that cannot fail, like the dummy)
or :class:`FailingSMSBackendContract` in a pytest module, and provide the
``backend_settings`` fixture that points pymess at your backend and its local
fake::

    class TestTwilioContract(FailingSMSBackendContract):
        backend_name = "twilio"
        dotted_path = "pymess.backend.sms.twilio.TwilioSMSBackend"

        @pytest.fixture
        def backend_settings(self, settings, fake_twilio):
            settings.PYMESS_SMS_SENDER_BACKEND = "twilio"
            settings.PYMESS_TWILIO_SMS_CONFIG = {...}

        def induce_failure(self, kind):
            ...  # make the next provider call fail in the way ``kind`` names

Requires pytest-django.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

import pytest

#: Failure kinds :meth:`FailingSMSBackendContract.induce_failure` must support.
FAILURE_KINDS = ("permanent", "temporary", "rate_limited", "transport")
RECIPIENT = "+420777123456"


@pytest.mark.django_db
class SMSBackendContract:
    """Promises every backend keeps."""

    #: Entry-point name in ``pymess.sms_backends``.
    backend_name: ClassVar[str]
    #: The dotted path users may write instead of the name.
    dotted_path: ClassVar[str]
    #: States a successful send may end in.
    success_states: ClassVar[frozenset[str]] = frozenset({"SENDING", "SENT", "DELIVERED", "DEBUG"})
    #: Whether a successful send stores the provider's message id.
    stores_external_id: ClassVar[bool] = True

    @pytest.fixture
    def backend_settings(self) -> None:
        raise NotImplementedError("Provide a backend_settings fixture configuring the backend.")

    @pytest.fixture
    def hooks(self, settings: Any, backend_settings: None) -> Any:
        from pymess.testing import hook_recorder

        settings.PYMESS_PLUGINS = [*getattr(settings, "PYMESS_PLUGINS", []), hook_recorder.__name__]
        hook_recorder.reset()
        yield hook_recorder
        hook_recorder.reset()

    def send_one(self, capture_on_commit: Any, **kwargs: Any) -> Any:
        from pymess.backend.sms import send

        with capture_on_commit(execute=True):
            message = send(RECIPIENT, kwargs.pop("content", "Contract test message"), **kwargs)
        message.refresh_from_db()
        return message

    # -- resolution ----------------------------------------------------------------------------

    def test_entry_point_and_dotted_path_resolve_to_the_same_class(self) -> None:
        from django.utils.module_loading import import_string

        from pymess.backend.sms.registry import resolve_backend_class

        by_name = resolve_backend_class(self.backend_name)
        assert by_name is import_string(self.dotted_path)
        assert by_name.dotted_path() == self.dotted_path

    def test_backend_configured_by_dotted_path_sends(
        self, settings: Any, backend_settings: None, django_capture_on_commit_callbacks: Any
    ) -> None:
        if getattr(settings, "PYMESS_SMS_BACKENDS", None):
            settings.PYMESS_SMS_BACKENDS = {
                alias: {**entry, "BACKEND": self.dotted_path}
                for alias, entry in settings.PYMESS_SMS_BACKENDS.items()
            }
        else:
            settings.PYMESS_SMS_SENDER_BACKEND = self.dotted_path
        message = self.send_one(django_capture_on_commit_callbacks)
        assert message.state in self.success_states
        assert message.backend == self.dotted_path

    def test_system_checks_pass_when_configured(self, backend_settings: None) -> None:
        from pymess.checks import check_sms_backends

        assert check_sms_backends() == []

    def test_system_checks_report_each_missing_required_option(
        self, settings: Any, backend_settings: None
    ) -> None:
        from pymess.backend.sms.base import SMSBackend
        from pymess.backend.sms.registry import create_backend, resolve_backend_class
        from pymess.checks import check_sms_backends

        backend_class = resolve_backend_class(self.backend_name)
        required = [k for k, v in backend_class.options_spec.items() if v is SMSBackend.REQUIRED]
        options = create_backend().options
        for key in required:
            crippled = {k: v for k, v in options.items() if k != key}
            settings.PYMESS_SMS_BACKENDS = {
                "default": {"BACKEND": self.backend_name, "OPTIONS": crippled}
            }
            if backend_class.config_setting:
                setattr(settings, backend_class.config_setting, {})
            errors = check_sms_backends()
            assert [e.id for e in errors] == ["pymess.E002"], key
            assert key in errors[0].msg

    # -- sending -------------------------------------------------------------------------------

    def test_send_succeeds_and_records_the_outcome(
        self, backend_settings: None, django_capture_on_commit_callbacks: Any
    ) -> None:
        message = self.send_one(django_capture_on_commit_callbacks)
        assert message.state in self.success_states, message.error
        assert message.error == ""
        assert message.sent_at is not None
        assert message.number_of_send_attempts == 1
        assert message.claim_token is None
        if self.stores_external_id:
            assert message.external_id

    def test_hooks_fire_once_per_send(
        self, hooks: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        message = self.send_one(django_capture_on_commit_callbacks)
        assert hooks.names().count("pymess_sms_pre_send") == 1
        assert hooks.names().count("pymess_sms_post_send") == 1
        updates = [kw for name, kw in hooks.calls if name == "pymess_sms_state_updated"]
        assert [(u["old_state"], u["new_state"]) for u in updates] == [("WAITING", message.state)]

    def test_batch_worker_sends_every_waiting_message(
        self, settings: Any, backend_settings: None
    ) -> None:
        from pymess.backend.sms import send
        from pymess.models.sms import OutputSMSMessage
        from pymess.outbox import send_waiting

        settings.PYMESS_SMS_BATCH_SENDING = True
        pks = [send(RECIPIENT, f"Batch message {i}").pk for i in range(5)]
        assert set(OutputSMSMessage.objects.filter(pk__in=pks).values_list("state", flat=True)) == {
            "WAITING"
        }
        result = send_waiting()
        assert result.sent == 5
        states = OutputSMSMessage.objects.filter(pk__in=pks).values_list("state", flat=True)
        assert set(states) <= self.success_states


class FailingSMSBackendContract(SMSBackendContract):
    """Promises about failures, for backends whose provider can fail."""

    #: Seconds the fake asks to wait on ``rate_limited``; ``None`` if it gives no hint.
    rate_limit_retry_after: ClassVar[float | None] = None

    def induce_failure(self, kind: str) -> None:
        """Make the next provider call fail as ``kind`` (one of :data:`FAILURE_KINDS`)."""
        raise NotImplementedError

    @pytest.mark.parametrize("kind", FAILURE_KINDS)
    def test_failure_is_recorded_and_classified(
        self, kind: str, hooks: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        from django.utils import timezone

        self.induce_failure(kind)
        before = timezone.now()
        message = self.send_one(django_capture_on_commit_callbacks)
        assert message.error, "a failure must say what went wrong"
        assert message.claim_token is None
        assert message.number_of_send_attempts == 1
        if kind == "permanent":
            assert message.state == "ERROR"
            assert message.next_attempt_at is None
        else:
            assert message.state == "ERROR_RETRY"
            assert message.next_attempt_at is not None
            assert message.next_attempt_at > before
            if kind == "rate_limited" and self.rate_limit_retry_after is not None:
                expected = before + timedelta(seconds=self.rate_limit_retry_after)
                assert abs((message.next_attempt_at - expected).total_seconds()) < 5
        assert hooks.names().count("pymess_sms_post_send") == 1

    def test_failed_message_is_retried_by_the_batch_worker(
        self, backend_settings: None, django_capture_on_commit_callbacks: Any
    ) -> None:
        from pymess.models.sms import OutputSMSMessage
        from pymess.outbox import send_waiting

        self.induce_failure("temporary")
        message = self.send_one(django_capture_on_commit_callbacks)
        assert message.state == "ERROR_RETRY"
        OutputSMSMessage.objects.filter(pk=message.pk).update(next_attempt_at=None)
        assert send_waiting(pks=[message.pk]).sent == 1
        message.refresh_from_db()
        assert message.state in self.success_states
        assert message.number_of_send_attempts == 2
