"""The admin in a real browser: log in, filter, open a message and its related object,
edit a template with its live preview and counter, re-queue failed messages."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth.models import User

from pymess.encoding import analyse
from pymess.enums import OutputSMSMessageState as State
from pymess.models.sms import OutputSMSMessage, SMSTemplate

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("admin_urls")]

PASSWORD = "browser-test-pw"


@pytest.fixture
def operator(transactional_db) -> User:
    return User.objects.create_superuser("operator", "op@example.com", PASSWORD)


def rows(page) -> dict[str, str]:
    """The changelist as {message id: state label}, once the page has loaded."""
    page.wait_for_load_state()
    result = {}
    for row in page.locator("#result_list tbody tr").all():
        result[row.locator("th.field-id").inner_text().strip()] = (
            row.locator("td.field-state").inner_text().strip()
        )
    return result


def test_operator_workflow(page, live_server, operator, make_message, customer):
    from playwright.sync_api import expect

    failed = make_message(state=State.ERROR, error="provider timeout", related=(customer,))
    unknown = make_message(state=State.UNKNOWN, error="worker died")
    delivered = make_message(state=State.DELIVERED)
    waiting = make_message(state=State.WAITING)
    template = SMSTemplate.objects.create(slug="welcome", body="Hello {{ name }}")
    admin = f"{live_server.url}/admin/"

    # Log in.
    page.goto(admin)
    page.fill("#id_username", "operator")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()

    # Filter by state: only the ERROR row is left.
    page.goto(f"{admin}pymess/outputsmsmessage/")
    ids = {str(m.pk) for m in (failed, unknown, delivered, waiting)}
    assert set(rows(page)) == ids
    page.locator("#changelist-filter").get_by_role("link", name="error", exact=True).click()
    expect(page).to_have_url(re.compile(r"state__exact=ERROR"))
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    assert rows(page) == {str(failed.pk): "error"}

    # Open the message and its related object.
    page.locator("#result_list th.field-id a").first.click()
    expect(page.locator("#content h2").first).to_be_visible()
    expect(page.locator("body")).to_contain_text("provider timeout")
    assert page.locator("input[name=_save]").count() == 0  # read-only
    page.get_by_role("link", name=customer.name).click()
    expect(page).to_have_url(re.compile(rf"/admin/testapp/customer/{customer.pk}/change/"))
    expect(page.locator("#id_name")).to_have_value(customer.name)

    # Edit a template: the counter follows each keystroke, the preview follows the server.
    page.goto(f"{admin}pymess/smstemplate/{template.pk}/change/")
    counter = page.locator("#pymess-sms-counter")
    preview = page.locator("#pymess-sms-preview-text")
    expect(counter).to_have_text(re.compile(r"^16 characters · GSM-7 · 1 segment"))
    page.fill("#id_sample_context", json.dumps({"name": "Jana"}))
    expect(preview).to_have_text("Hello Jana")
    body = "Dobrý den {{ name }}, vaše objednávka je na cestě."
    page.fill("#id_body", body)
    expect(counter).to_have_text(re.compile(r"UCS-2 · 1 segment"))
    expect(preview).to_have_text("Dobrý den Jana, vaše objednávka je na cestě.")
    expect(page.locator("#pymess-sms-preview-info")).to_have_attribute("data-encoding", "UCS-2")
    page.locator("#id_body").press_sequentially(" Díky!" * 4, delay=5)
    body += " Díky!" * 4  # 74 characters: over the 70 of one UCS-2 segment
    expect(counter).to_have_text(re.compile(rf"^{len(body)} characters · UCS-2 · 2 segments"))
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    template.refresh_from_db()
    assert template.body == body

    # The counter's JavaScript agrees with pymess.encoding on tricky input.
    page.goto(f"{admin}pymess/smstemplate/{template.pk}/change/")
    rules = json.loads(page.locator("#pymess-sms-counter-config").inner_text())["rules"]
    samples = [
        "",
        "a" * 160,
        "a" * 161,
        "{" * 80,
        "a" * 152 + "€",
        "ý" * 70,
        "ý" * 71,
        "😀" * 35,
        "a" * 66 + "😀",
        "line\nbreak\r",
        "Ωmega ~ ^ | \\",
    ]
    for text in samples:
        info = page.evaluate("([t, r]) => window.pymessSms.analyse(t, r)", [text, rules])
        expected = analyse(text)
        assert (info["encoding"], info["segments"], info["units"]) == (
            str(expected.encoding),
            expected.segments,
            expected.units,
        ), text

    # Re-queue the failed messages with the admin action.
    page.goto(f"{admin}pymess/outputsmsmessage/")
    for message in (failed, unknown, delivered):
        page.locator(f"input.action-select[value='{message.pk}']").check()
    page.select_option("select[name=action]", "requeue_failed")
    page.click("button[name=index]")
    expect(page.locator(".messagelist")).to_contain_text("Re-queued 2 messages.")
    expect(page.locator(".messagelist")).to_contain_text("Skipped 1 message not in")
    assert rows(page)[str(failed.pk)] == "waiting"
    assert rows(page)[str(unknown.pk)] == "waiting"
    assert rows(page)[str(delivered.pk)] == "delivered"
    failed.refresh_from_db()
    assert (failed.state, failed.error) == (State.WAITING, "")
    assert OutputSMSMessage.objects.filter(state=State.ERROR).count() == 0
