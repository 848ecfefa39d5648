"""The one place where a message's state changes.

Every stored change of state - from a send, the batch worker, a state check or
a webhook - goes through :func:`apply_state_updates` (or its one-message form
:func:`change_state`). It refuses moves backwards, writes as a compare-and-set
on the state the caller saw (and on the claim token, for the batch worker), and
fires ``pymess_sms_state_updated`` once for each stored change.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils import timezone

from pymess.enums import OutputSMSMessageState as State

if TYPE_CHECKING:
    from pymess.models.sms import OutputSMSMessage

# How far along its life a state is. A message only moves to a higher rank;
# rank 10 is final. ERROR_UPDATE may still resolve to DELIVERED or ERROR.
STATE_RANK: dict[str, int] = {
    State.WAITING: 0,
    State.ERROR_RETRY: 1,
    State.UNKNOWN: 2,
    State.SENDING: 3,
    State.SENT: 4,
    State.ERROR_UPDATE: 5,
    State.DELIVERED: 10,
    State.ERROR: 10,
    State.DEBUG: 10,
}
FINAL_STATES = frozenset(s for s, rank in STATE_RANK.items() if rank == 10)
#: States a worker may claim a message in.
SENDABLE_STATES = (State.WAITING, State.ERROR_RETRY)
#: States in which a provider may still report progress (polled by state checks).
IN_FLIGHT_STATES = (State.SENDING, State.SENT, State.UNKNOWN, State.ERROR_UPDATE)


def is_final(state: str) -> bool:
    return state in FINAL_STATES


def can_transition(old: str, new: str) -> bool:
    """Whether ``old → new`` moves forward (a report of the current state is not a move)."""
    return STATE_RANK[new] > STATE_RANK[old]


@dataclass
class StateUpdate:
    """A requested change: ``message`` to ``state``, writing ``fields`` alongside."""

    message: OutputSMSMessage
    state: str
    fields: dict[str, Any] = field(default_factory=dict)
    #: The state the caller saw in the database; defaults to ``message.state``. Pass it
    #: when the instance was already changed in memory (a backend sets its outcome on it).
    old_state: str = ""
    #: Set by :func:`apply_state_updates`: whether the row was written.
    applied: bool = False

    @property
    def changed(self) -> bool:
        return self.applied and self.old_state != self.state


def apply_state_updates(
    updates: Sequence[StateUpdate],
    *,
    claim_token: uuid.UUID | None = None,
    force: bool = False,
) -> list[StateUpdate]:
    """Store ``updates``; return those whose state actually changed (hooks have fired for them).

    Each row is written only if it still has the state the caller's instance
    shows (and ``claim_token``, when given), so a concurrent writer wins cleanly
    instead of being overwritten. Updates that would move a state backwards are
    dropped whole, unless ``force`` (an operator re-queueing a message). The
    instances of applied updates are updated in place.
    """
    from pymess.models.sms import OutputSMSMessage

    now = timezone.now()
    by_old_state: dict[str, list[StateUpdate]] = defaultdict(list)
    for update in updates:
        update.old_state = update.old_state or update.message.state
        update.applied = False
        same = update.state == update.old_state
        if same and not update.fields:
            continue
        if not same and not force and not can_transition(update.old_state, update.state):
            continue
        by_old_state[update.old_state].append(update)

    guard: dict[str, Any] = {} if claim_token is None else {"claim_token": claim_token}
    for old_state, group in by_old_state.items():
        base = OutputSMSMessage.objects.filter(state=old_state, **guard)
        if len(group) == 1:
            update = group[0]
            values = {"state": update.state, "changed_at": now, **update.fields}
            update.applied = base.filter(pk=update.message.pk).update(**values) == 1
            continue
        written = base.filter(pk__in=[u.message.pk for u in group]).update(
            changed_at=now, **_per_row_values(group)
        )
        if written == len(group):
            for update in group:
                update.applied = True
        else:
            # Someone else changed some rows meanwhile. The rows this call wrote carry
            # its own changed_at stamp, which tells them apart.
            ours = set(
                OutputSMSMessage.objects.filter(
                    pk__in=[u.message.pk for u in group], changed_at=now
                ).values_list("pk", flat=True)
            )
            for update in group:
                update.applied = update.message.pk in ours

    changed = []
    for update in updates:
        if not update.applied and update.message.state != update.old_state:
            # Not stored (refused or lost to another writer): the instance must not pretend.
            update.message.state = update.old_state
    for group in by_old_state.values():
        for update in group:
            if not update.applied:
                continue
            message = update.message
            message.state = update.state
            message.changed_at = now
            for name, value in update.fields.items():
                setattr(message, name, value)
            if update.changed:
                changed.append(update)

    if changed:
        from pymess.plugins import get_plugins

        plugins = get_plugins()
        for update in changed:
            plugins.sms_state_updated(update.message, update.old_state, update.state)
    return changed


def _per_row_values(group: Sequence[StateUpdate]) -> dict[str, Any]:
    """Column values for a set-based UPDATE: a constant where all rows agree, else a CASE."""
    from pymess.models.sms import OutputSMSMessage

    rows = [{"state": u.state, **u.fields} for u in group]
    names = dict.fromkeys(name for row in rows for name in row)
    values: dict[str, Any] = {}
    for name in names:
        model_field = OutputSMSMessage._meta.get_field(name)
        assert isinstance(model_field, models.Field)
        column = [row.get(name, _MISSING) for row in rows]
        if _MISSING not in column and all(_same(v, column[0]) for v in column):
            values[name] = column[0]
            continue
        values[name] = _ValueByPk(
            [(u.message.pk, v) for u, v in zip(group, column, strict=True) if v is not _MISSING],
            model_field,
        )
    return values


class _ValueByPk(models.Expression):
    """``CASE id WHEN <pk> THEN <value> … ELSE <column> END``, compiled directly.

    The same SQL as ``Case(When(pk=…, then=Value(…)), …)`` but without building
    and resolving a ``Q`` and two expressions per row, which dominated the cost
    of recording a batch (Django spent ~1 ms of Python per row on them).
    """

    def __init__(self, pk_values: list[tuple[Any, Any]], output_field: models.Field) -> None:
        super().__init__(output_field=output_field)
        self.pk_values = pk_values

    def resolve_expression(self, *args: Any, **kwargs: Any) -> _ValueByPk:
        return self

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        field = self.output_field
        quote = connection.ops.quote_name
        placeholder = "%s"
        if connection.vendor == "postgresql":
            # Parameters arrive untyped; a CASE of untyped literals would be text.
            placeholder = f"CAST(%s AS {field.cast_db_type(connection)})"
        sql = [f"CASE {quote(field.model._meta.pk.column)}"]
        params: list[Any] = []
        for pk, value in self.pk_values:
            sql.append(f"WHEN %s THEN {placeholder}")
            params.extend((pk, field.get_db_prep_save(value, connection)))
        sql.append(f"ELSE {quote(field.column)} END")
        return " ".join(sql), params


_MISSING = object()


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def change_state(
    message: OutputSMSMessage, state: str, *, force: bool = False, **fields: Any
) -> bool:
    """Move one message to ``state`` (writing ``fields`` too); ``True`` if the state changed.

    Used by state checks, webhooks and the admin. If another writer changed the
    row first, the current state is re-read and the move re-judged, so a late
    ``SENT`` never overwrites a ``DELIVERED`` that arrived meanwhile.
    """
    from pymess.models.sms import OutputSMSMessage

    for _attempt in range(3):
        update = StateUpdate(message, state, dict(fields))
        if apply_state_updates([update], force=force):
            return True
        if update.applied:
            return False  # fields written, state unchanged
        fresh = (
            OutputSMSMessage.objects.filter(pk=message.pk).values_list("state", flat=True).first()
        )
        if fresh is None or fresh == message.state:
            return False  # our view was current: the move is refused or there is nothing to do
        message.state = fresh
    return False
