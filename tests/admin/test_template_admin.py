"""The template admin: preview endpoint, counter rules served from Python, form behaviour."""

from __future__ import annotations

import json

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.urls import reverse

from pymess.admin import (
    SMSTemplateAdmin,
    encoding_rules,
    sample_context_for,
    uses_default_template_model,
)
from pymess.encoding import GSM7_BASIC, GSM7_EXTENSION
from pymess.models.sms import SMSTemplate

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("admin_urls")]

PREVIEW = "admin:pymess_smstemplate_preview"


def preview(client, body: str, context: object = None) -> dict:
    data = {"body": body, "sample_context": json.dumps(context if context is not None else {})}
    response = client.post(reverse(PREVIEW), data)
    assert response.status_code == 200
    return response.json()


def test_template_admin_is_registered_for_the_default_model(settings):
    assert isinstance(admin.site.get_model_admin(SMSTemplate), SMSTemplateAdmin)
    assert uses_default_template_model()
    settings.PYMESS_SMS_TEMPLATE_MODEL = "myapp.MyTemplate"
    assert not uses_default_template_model()


def test_change_page_serves_the_python_encoding_rules(admin_client):
    template = SMSTemplate.objects.create(
        slug="welcome", body="Hello {{ name }}, order {{ order.id }}"
    )
    response = admin_client.get(reverse("admin:pymess_smstemplate_change", args=[template.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    config = response.context["pymess_counter"]
    assert set(config["rules"]["gsm7Basic"]) == GSM7_BASIC
    assert set(config["rules"]["gsm7Extension"]) == GSM7_EXTENSION
    assert config["rules"]["limits"] == {"GSM-7": [160, 153], "UCS-2": [70, 67]}
    assert 'id="pymess-sms-counter-config"' in page
    assert "pymess/admin/sms_counter.js" in page
    assert 'id="pymess-sms-counter"' in page
    # The sample context starts from the template's variables.
    assert response.context["adminform"].form["sample_context"].value() == (
        '{"name": "name", "order": "order"}'
    )


def test_served_rules_round_trip_through_json(admin_client):
    rules = json.loads(json.dumps(encoding_rules()))
    assert set(rules["gsm7Basic"]) == GSM7_BASIC
    assert "\x1b" not in rules["gsm7Basic"]


def test_preview_renders_plain_text_and_measures_it(admin_client):
    data = preview(admin_client, "Hi {{ name }} & co, {{ total }} €", {"name": "Jana", "total": 5})
    assert data == {
        "ok": True,
        "text": "Hi Jana & co, 5 €",
        "encoding": "GSM-7",
        "segments": 1,
        "units": 18,  # € costs two septets
        "characters": 17,
        "max_segments": 10,
        "problem": "",
    }


def test_preview_detects_ucs2_and_multiple_segments(admin_client):
    data = preview(admin_client, "Dobrý den " * 8)
    assert (data["encoding"], data["characters"], data["segments"]) == ("UCS-2", 80, 2)


def test_preview_without_accents_measures_what_send_stores(admin_client, settings):
    settings.PYMESS_SMS_USE_ACCENT = False
    data = preview(admin_client, "Dobrý den")
    assert (data["text"], data["encoding"]) == ("Dobry den", "GSM-7")


def test_preview_reports_problems(admin_client, settings):
    settings.PYMESS_SMS_MAX_SEGMENTS = 1
    assert "over the limit of 1" in preview(admin_client, "x" * 161)["problem"]
    assert "empty" in preview(admin_client, "{{ nothing }}")["problem"]
    broken = preview(admin_client, "Hi {% if %}")
    assert not broken["ok"]
    assert broken["error"].startswith("Template syntax error")
    response = admin_client.post(reverse(PREVIEW), {"body": "x", "sample_context": "[1"})
    assert "not valid JSON" in response.json()["error"]
    response = admin_client.post(reverse(PREVIEW), {"body": "x", "sample_context": "[1]"})
    assert "JSON object" in response.json()["error"]


def test_preview_needs_post_and_permission(admin_client, client):
    assert admin_client.get(reverse(PREVIEW)).status_code == 405
    staff = User.objects.create_user("staff", password="pw", is_staff=True)
    client.force_login(staff)
    assert client.post(reverse(PREVIEW), {"body": "x"}).status_code == 403


def test_saving_normalises_line_breaks_and_ignores_the_sample_context(admin_client):
    response = admin_client.post(
        reverse("admin:pymess_smstemplate_add"),
        {
            "slug": "two-lines",
            "locale": "cs_CZ",
            "is_active": "on",
            "body": "Line one\r\nLine two",
            "sample_context": '{"a": 1}',
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    template = SMSTemplate.objects.get(slug="two-lines")
    assert (template.body, template.locale) == ("Line one\nLine two", "cs-cz")


def test_form_rejects_bad_sample_context_and_bad_syntax(admin_client):
    response = admin_client.post(
        reverse("admin:pymess_smstemplate_add"),
        {"slug": "bad", "body": "Hi {% if %}", "sample_context": "nope"},
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "Not valid JSON" in errors["sample_context"][0]
    assert "syntax error" in errors["body"][0]
    assert not SMSTemplate.objects.filter(slug="bad").exists()


def test_sample_context_for():
    assert sample_context_for("{{ a }} {{b.c}} {{ a|upper }} {% if x %}") == {"a": "a", "b": "b"}
