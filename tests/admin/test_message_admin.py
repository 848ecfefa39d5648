"""The outbox admin: list, filters, search, read-only detail, query budget, operator actions."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from pymess.admin import cancel_messages, requeue_messages
from pymess.enums import OutputSMSMessageState as State
from pymess.models.sms import OutputSMSMessage, SMSTemplate
from tests.admin import state_recorder

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("admin_urls")]

CHANGELIST = "admin:pymess_outputsmsmessage_changelist"


def change_url(message: OutputSMSMessage) -> str:
    return reverse("admin:pymess_outputsmsmessage_change", args=[message.pk])


def listed(client, **params) -> set[int]:
    response = client.get(reverse(CHANGELIST), params)
    assert response.status_code == 200
    return {m.pk for m in response.context["cl"].result_list}


@pytest.fixture
def recorder(settings):
    settings.PYMESS_PLUGINS = ["tests.admin.state_recorder"]
    state_recorder.changes.clear()
    yield state_recorder.changes
    state_recorder.changes.clear()


# -- list, filters, search ----------------------------------------------------------------------


def test_state_filter_shows_only_that_state(admin_client, make_message):
    failed = make_message(state=State.ERROR, error="boom")
    sent = make_message(state=State.SENT)
    assert listed(admin_client) == {failed.pk, sent.pk}
    assert listed(admin_client, state__exact="ERROR") == {failed.pk}
    assert listed(admin_client, state__exact="SENT") == {sent.pk}


def test_backend_alias_tag_and_backend_filters(admin_client, make_message):
    a = make_message(backend_alias="default", tag="otp")
    b = make_message(backend_alias="bulk", tag="news", backend="pymess_twilio.backend.Twilio")
    assert listed(admin_client, backend_alias="bulk") == {b.pk}
    assert listed(admin_client, tag="otp") == {a.pk}
    assert listed(admin_client, backend="pymess_twilio.backend.Twilio") == {b.pk}
    page = admin_client.get(reverse(CHANGELIST)).content.decode()
    for choice in ("By state", "By backend alias", "By tag", "By created at", "By backend"):
        assert choice in page


def test_created_date_filter(admin_client, make_message):
    old = make_message()
    OutputSMSMessage.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=40)
    )
    new = make_message()
    # What the filter's "Past 7 days" link sends.
    since = str(timezone.now() - timedelta(days=7))
    until = str(timezone.now() + timedelta(days=1))
    assert listed(admin_client, created_at__gte=since, created_at__lt=until) == {new.pk}


def test_search_by_recipient_tag_and_formatted_number(admin_client, make_message):
    jana = make_message(recipient="+420777123456", tag="welcome")
    petr = make_message(recipient="+420602000111", tag="reminder")
    assert listed(admin_client, q="777123") == {jana.pk}
    assert listed(admin_client, q="remind") == {petr.pk}
    # Written the way people write numbers: found through E.164 normalisation.
    assert listed(admin_client, q="777 123 456") == {jana.pk}
    assert listed(admin_client, q="+420 602-000-111") == {petr.pk}


def test_list_shows_template_and_related_objects(admin_client, make_message, customer, order):
    template = SMSTemplate.objects.create(slug="welcome", locale="cs", body="Ahoj")
    make_message(template=template, template_slug="welcome", locale="cs", related=(customer, order))
    page = admin_client.get(reverse(CHANGELIST)).content.decode()
    assert "welcome [cs]" in page
    assert f"testapp.customer #{customer.pk}, testapp.order #{order.pk}" in page


def test_changelist_query_count_does_not_grow_with_messages(
    admin_client, make_message, customer, order
):
    template = SMSTemplate.objects.create(slug="welcome", body="Hi")

    def make(n):
        for _ in range(n):
            make_message(template=template, template_slug="welcome", related=(customer, order))

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert admin_client.get(reverse(CHANGELIST)).status_code == 200
        return len(ctx.captured_queries)

    make(3)
    few = queries()
    make(40)
    assert queries() == few
    # And the budget itself stays small: session, user, counts, filters, rows, prefetch.
    assert few <= 12


# -- detail ---------------------------------------------------------------------------------------


def test_detail_is_read_only(admin_client, make_message):
    message = make_message(state=State.ERROR, error="provider said no", extra_data={"order": 7})
    response = admin_client.get(change_url(message))
    page = response.content.decode()
    assert response.status_code == 200
    assert "provider said no" in page
    assert "&quot;order&quot;: 7" in page
    assert 'name="_save"' not in page
    assert 'name="recipient"' not in page
    assert admin_client.post(change_url(message), {"recipient": "+420111"}).status_code == 403
    assert admin_client.get(reverse("admin:pymess_outputsmsmessage_add")).status_code == 403
    delete = reverse("admin:pymess_outputsmsmessage_delete", args=[message.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert OutputSMSMessage.objects.get(pk=message.pk).recipient == message.recipient


def test_detail_links_related_objects_to_their_admin_pages(
    admin_client, make_message, customer, order
):
    template = SMSTemplate.objects.create(slug="welcome", body="Hi")
    message = make_message(template=template, related=(customer, order))
    page = admin_client.get(change_url(message)).content.decode()
    customer_url = reverse("admin:testapp_customer_change", args=[customer.pk])
    assert f'<a href="{customer_url}">Jana Nováková</a>' in page
    # Order has no admin page: named, not linked.
    assert f"<p>{order.number}</p>" in page
    assert f'<a href="/admin/testapp/order/{order.pk}' not in page
    assert reverse("admin:pymess_smstemplate_change", args=[template.pk]) in page
    # Related rows are not editable.
    assert "related_objects-0-object_id" not in page


def test_detail_shows_a_deleted_related_object(admin_client, make_message, customer):
    message = make_message(related=(customer,))
    customer.delete()
    page = admin_client.get(change_url(message)).content.decode()
    assert "(deleted or unknown)" in page


def test_detail_query_count_does_not_grow_with_related_objects(admin_client, make_message):
    from tests.testapp.models import Customer

    def queries(n: int) -> int:
        customers = [Customer.objects.create(name=f"c{i}") for i in range(n)]
        message = make_message(related=tuple(customers))
        with CaptureQueriesContext(connection) as ctx:
            assert admin_client.get(change_url(message)).status_code == 200
        return len(ctx.captured_queries)

    queries(1)  # warms the content-type cache
    assert queries(2) == queries(15)


# -- operator actions ---------------------------------------------------------------------------


def run_action(client, action: str, messages) -> str:
    response = client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [m.pk for m in messages]},
        follow=True,
    )
    assert response.status_code == 200
    return " | ".join(str(m) for m in response.context["messages"])


def test_requeue_failed_messages(admin_client, make_message, recorder):
    error = make_message(state=State.ERROR, error="boom", number_of_send_attempts=5)
    retry = make_message(
        state=State.ERROR_RETRY,
        error="timeout",
        next_attempt_at=timezone.now() + timedelta(hours=1),
    )
    unknown = make_message(state=State.UNKNOWN, error="worker died")
    delivered = make_message(state=State.DELIVERED)

    text = run_action(admin_client, "requeue_failed", [error, retry, unknown, delivered])

    assert "Re-queued 3 messages." in text
    assert "Skipped 1 message not in ERROR, ERROR_RETRY, UNKNOWN." in text
    for message in (error, retry, unknown):
        message.refresh_from_db()
        assert message.state == State.WAITING
        assert message.error == ""
        assert message.next_attempt_at is None
        assert message.claim_token is None
    assert error.number_of_send_attempts == 5  # a record of real provider calls: kept
    delivered.refresh_from_db()
    assert delivered.state == State.DELIVERED
    # Through the single state-change function: the hook fired once per message.
    assert sorted(recorder) == sorted(
        [
            (error.pk, "ERROR", "WAITING"),
            (retry.pk, "ERROR_RETRY", "WAITING"),
            (unknown.pk, "UNKNOWN", "WAITING"),
        ]
    )
    assert LogEntry.objects.filter(
        object_id=str(error.pk), change_message__contains="Re-queued"
    ).exists()
    # And the batch worker sends them.
    call_command("send_messages_batch", "--type=sms", verbosity=0)
    assert set(
        OutputSMSMessage.objects.filter(pk__in=[error.pk, retry.pk, unknown.pk]).values_list(
            "state", flat=True
        )
    ) == {State.DEBUG}


def test_requeue_skips_rows_a_worker_holds(make_message):
    now = timezone.now()
    live = make_message(
        state=State.ERROR_RETRY,
        claim_token=uuid.uuid4(),
        lease_expires_at=now + timedelta(minutes=5),
    )
    started_then_died = make_message(
        state=State.ERROR_RETRY,
        claim_token=uuid.uuid4(),
        lease_expires_at=now - timedelta(minutes=1),
        attempt_started_at=now - timedelta(minutes=6),
    )
    abandoned = make_message(
        state=State.ERROR_RETRY,
        claim_token=uuid.uuid4(),
        lease_expires_at=now - timedelta(minutes=1),
    )
    result = requeue_messages([live.pk, started_then_died.pk, abandoned.pk])
    assert [m.pk for m in result.changed] == [abandoned.pk]
    assert result.held_by_worker == 2
    live.refresh_from_db()
    assert (live.state, live.claim_token is not None) == (State.ERROR_RETRY, True)
    abandoned.refresh_from_db()
    assert (abandoned.state, abandoned.claim_token) == (State.WAITING, None)


def test_cancel_waiting_messages(admin_client, make_message, recorder):
    waiting = make_message(state=State.WAITING)
    retry = make_message(state=State.ERROR_RETRY, error="timeout")
    claimed = make_message(
        state=State.WAITING,
        claim_token=uuid.uuid4(),
        lease_expires_at=timezone.now() + timedelta(minutes=5),
    )
    sent = make_message(state=State.SENT)

    text = run_action(admin_client, "cancel_waiting", [waiting, retry, claimed, sent])

    assert "Cancelled 2 messages." in text
    assert "Skipped 1 message not in WAITING, ERROR_RETRY." in text
    assert "Skipped 1 message a batch worker is sending right now." in text
    for message in (waiting, retry):
        message.refresh_from_db()
        assert (message.state, message.error) == (State.ERROR, "Cancelled by admin")
    claimed.refresh_from_db()
    sent.refresh_from_db()
    assert (claimed.state, sent.state) == (State.WAITING, State.SENT)
    assert sorted(recorder) == sorted(
        [(waiting.pk, "WAITING", "ERROR"), (retry.pk, "ERROR_RETRY", "ERROR")]
    )
    # A cancelled message is never sent.
    call_command("send_messages_batch", "--type=sms", verbosity=0)
    waiting.refresh_from_db()
    assert waiting.state == State.ERROR


def test_cancel_api_without_a_user(make_message):
    message = make_message()
    result = cancel_messages([message.pk], "")
    assert [m.error for m in result.changed] == ["Cancelled"]


def test_actions_need_change_permission(client, make_message):
    viewer = User.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_outputsmsmessage"))
    client.force_login(viewer)
    failed = make_message(state=State.ERROR)
    page = client.get(reverse(CHANGELIST)).content.decode()
    assert "requeue_failed" not in page
    assert client.get(change_url(failed)).status_code == 200
    client.post(reverse(CHANGELIST), {"action": "requeue_failed", "_selected_action": [failed.pk]})
    failed.refresh_from_db()
    assert failed.state == State.ERROR


def test_large_selection_is_processed_in_chunks(make_message, monkeypatch):
    monkeypatch.setattr("pymess.admin.ACTION_CHUNK_SIZE", 4)
    messages = [make_message(state=State.ERROR) for _ in range(10)]
    result = requeue_messages([m.pk for m in messages])
    assert len(result.changed) == 10
    assert OutputSMSMessage.objects.filter(state=State.WAITING).count() == 10
