"""Every public name on the documentation page and in CONTRACT.md imports."""

import importlib

import pytest

NAMES = [
    "pymess.backend.sms.send",
    "pymess.backend.sms.send_template",
    "pymess.backend.sms.SMSBackend",
    "pymess.backends.sms.SMSBackend",
    "pymess.backend.sms.dummy.DummySMSBackend",
    "pymess.models.sms.OutputSMSMessage",
    "pymess.models.sms.OutputSMSRelatedObject",
    "pymess.models.sms.AbstractSMSTemplate",
    "pymess.models.sms.SMSTemplate",
    "pymess.enums.OutputSMSMessageState",
    "pymess.exceptions.InvalidRecipient",
    "pymess.exceptions.InvalidContent",
    "pymess.exceptions.TemplateNotFound",
    "pymess.exceptions.SendCancelled",
    "pymess.exceptions.TemporarySendError",
    "pymess.exceptions.RateLimitedError",
    "pymess.exceptions.PermanentSendError",
    "pymess.hookimpl",
    "pymess.hookspecs.pymess_sms_pre_send",
    "pymess.hookspecs.pymess_sms_post_send",
    "pymess.hookspecs.pymess_sms_state_updated",
]


@pytest.mark.parametrize("dotted", NAMES)
def test_public_name_imports(dotted):
    module, _, name = dotted.rpartition(".")
    assert getattr(importlib.import_module(module), name) is not None


def test_state_members_are_exactly_the_documented_ones():
    from pymess.enums import OutputSMSMessageState

    assert sorted(OutputSMSMessageState.names) == sorted(
        [
            "DEBUG",
            "DELIVERED",
            "ERROR",
            "ERROR_RETRY",
            "ERROR_UPDATE",
            "SENDING",
            "SENT",
            "UNKNOWN",
            "WAITING",
        ]
    )


def test_exception_bases():
    from pymess import exceptions

    assert issubclass(exceptions.InvalidRecipient, ValueError)
    assert issubclass(exceptions.InvalidContent, ValueError)
    assert issubclass(exceptions.TemplateNotFound, LookupError)


def test_hookimpl_marker_is_for_the_pymess_project():
    import pymess

    assert pymess.hookimpl.project_name == "pymess"


def test_documented_message_fields_exist():
    from pymess.models.sms import OutputSMSMessage, OutputSMSRelatedObject, SMSTemplate

    message_fields = {f.name for f in OutputSMSMessage._meta.get_fields()}
    assert {
        "created_at",
        "changed_at",
        "sent_at",
        "recipient",
        "sender",
        "content",
        "template_slug",
        "template",
        "state",
        "backend",
        "error",
        "extra_data",
        "extra_sender_data",
        "tag",
        "number_of_send_attempts",
        "retry_sending",
        "related_objects",
        "encoding",
        "segments",
        "external_id",
        "backend_alias",
    } <= message_fields
    assert {"created_at", "changed_at", "output_sms_message", "content_type", "object_id"} <= {
        f.name for f in OutputSMSRelatedObject._meta.get_fields()
    }
    assert {"created_at", "changed_at", "slug", "locale", "body", "is_active"} <= {
        f.name for f in SMSTemplate._meta.get_fields()
    }
    assert OutputSMSMessage._meta.get_field("retry_sending").default is True
    assert OutputSMSMessage._meta.get_field("external_id").db_index
