"""The single state-change function: forward only, compare-and-set, one hook per change."""

import pytest

from pymess.enums import OutputSMSMessageState as State
from pymess.models.sms import OutputSMSMessage
from pymess.states import STATE_RANK, StateUpdate, apply_state_updates, can_transition, change_state
from pymess.testing import hook_recorder

pytestmark = pytest.mark.django_db


@pytest.fixture
def hooks(settings):
    settings.PYMESS_PLUGINS = ["pymess.testing.hook_recorder"]
    hook_recorder.reset()
    yield hook_recorder
    hook_recorder.reset()


def make(state="WAITING", **fields):
    return OutputSMSMessage.objects.create(
        recipient="+420777123456", content="x", state=state, **fields
    )


def state_changes(hooks):
    return [
        (kw["old_state"], kw["new_state"])
        for name, kw in hooks.calls
        if name == "pymess_sms_state_updated"
    ]


def test_every_state_has_a_rank():
    assert set(STATE_RANK) == set(State.values)


@pytest.mark.parametrize(
    ("old", "new", "allowed"),
    [
        ("WAITING", "SENDING", True),
        ("SENDING", "SENT", True),
        ("SENT", "DELIVERED", True),
        ("DELIVERED", "SENT", False),
        ("SENT", "SENDING", False),
        ("SENT", "SENT", False),
        ("ERROR", "SENT", False),
        ("UNKNOWN", "DELIVERED", True),
        ("ERROR_UPDATE", "DELIVERED", True),
        ("DELIVERED", "ERROR", False),
        ("ERROR_RETRY", "WAITING", False),
    ],
)
def test_can_transition(old, new, allowed):
    assert can_transition(old, new) is allowed


def test_late_sent_after_delivered_changes_nothing(hooks):
    message = make("SENT")
    assert change_state(message, "DELIVERED") is True
    assert change_state(message, "SENT") is False
    message.refresh_from_db()
    assert message.state == "DELIVERED"
    assert state_changes(hooks) == [("SENT", "DELIVERED")]


def test_report_of_the_current_state_fires_no_hook(hooks):
    message = make("SENT")
    assert change_state(message, "SENT") is False
    assert state_changes(hooks) == []


def test_stale_instance_is_re_read_before_judging(hooks):
    message = make("SENT")
    OutputSMSMessage.objects.filter(pk=message.pk).update(state="DELIVERED")
    # Our instance still says SENT; a late SENDING must not win.
    assert change_state(message, "SENDING") is False
    assert OutputSMSMessage.objects.get(pk=message.pk).state == "DELIVERED"
    # And a legitimate move from the fresh state still works.
    stale = OutputSMSMessage.objects.get(pk=message.pk)
    stale.state = "SENT"
    assert change_state(stale, "ERROR") is False  # DELIVERED is final
    assert state_changes(hooks) == []


def test_concurrent_forward_move_is_applied_from_the_fresh_state(hooks):
    message = make("SENDING")
    OutputSMSMessage.objects.filter(pk=message.pk).update(state="SENT")
    assert change_state(message, "DELIVERED") is True
    assert state_changes(hooks) == [("SENT", "DELIVERED")]


def test_force_allows_an_operator_requeue(hooks):
    message = make("ERROR", error="boom")
    assert change_state(message, "WAITING", force=True, error="") is True
    message.refresh_from_db()
    assert (message.state, message.error) == ("WAITING", "")
    assert state_changes(hooks) == [("ERROR", "WAITING")]


def test_bulk_update_writes_per_row_values_and_fires_once_each(hooks, django_assert_num_queries):
    messages = [make() for _ in range(5)]
    updates = [StateUpdate(m, "SENT", {"external_id": f"id-{m.pk}"}) for m in messages]
    with django_assert_num_queries(1):
        changed = apply_state_updates(updates)
    assert len(changed) == 5
    for m in messages:
        m.refresh_from_db()
        assert (m.state, m.external_id) == ("SENT", f"id-{m.pk}")
    assert state_changes(hooks) == [("WAITING", "SENT")] * 5


def test_bulk_update_is_guarded_by_the_claim_token(hooks):
    import uuid

    token, other = uuid.uuid4(), uuid.uuid4()
    mine = [make(claim_token=token) for _ in range(3)]
    stolen = make(claim_token=other)
    stolen.claim_token = token  # a stale worker thinks it still owns this row
    changed = apply_state_updates(
        [StateUpdate(m, "SENT") for m in [*mine, stolen]], claim_token=token
    )
    assert {u.message.pk for u in changed} == {m.pk for m in mine}
    assert OutputSMSMessage.objects.get(pk=stolen.pk).state == "WAITING"
    assert stolen.state == "WAITING"  # the instance does not pretend
    assert len(state_changes(hooks)) == 3


def test_failing_state_hook_does_not_lose_the_state(settings, caplog):
    settings.PYMESS_PLUGINS = ["tests.testapp.plugins.exploding"]
    message = make("SENT")
    assert change_state(message, "DELIVERED") is True
    assert OutputSMSMessage.objects.get(pk=message.pk).state == "DELIVERED"
    assert "tests.testapp.plugins.exploding" in caplog.text
