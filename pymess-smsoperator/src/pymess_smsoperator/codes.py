"""SMS operator status codes and the state pymess records for each."""

from __future__ import annotations

from dataclasses import dataclass

from pymess.enums import OutputSMSMessageState as State


@dataclass(frozen=True)
class Status:
    code: int
    meaning: str
    #: The state recorded when the code answers a state request.
    state: str

    @property
    def send_state(self) -> str:
        """The state recorded when the code answers a send request.

        A send request cannot know about delivery yet, so ``0`` there means the
        operator accepted the message (``SENDING``; an inference - the operator
        documents one status table for both requests). Delivery is learned by polling.
        """
        return State.SENDING if self.state == State.DELIVERED else self.state


_PENDING = State.SENDING
# Non-delivery reported after acceptance: ERROR_UPDATE (may still resolve on a later check);
# invalid number and text too long can never succeed, so they are final ERROR.
STATUSES: dict[int, Status] = {
    s.code: s
    for s in [
        Status(0, "delivered", State.DELIVERED),
        Status(1, "not delivered", State.ERROR_UPDATE),
        Status(2, "number does not exist", State.ERROR_UPDATE),
        Status(3, "timed out", State.ERROR_UPDATE),
        Status(4, "invalid number", State.ERROR),
        Status(5, "other error", State.ERROR_UPDATE),
        Status(6, "event error", State.ERROR_UPDATE),
        Status(7, "text too long", State.ERROR),
        Status(10, "partly delivered", State.ERROR_UPDATE),
        Status(11, "pending", _PENDING),
        Status(12, "partly delivered, rest pending", _PENDING),
        Status(13, "partly not delivered, rest pending", _PENDING),
        Status(14, "partly delivered, partly not delivered, rest pending", _PENDING),
        Status(15, "not found", State.ERROR_UPDATE),
    ]
}


def lookup(code: int | str) -> Status | None:
    return STATUSES.get(code) if isinstance(code, int) else None


def describe(code: int | str) -> str:
    """``"SMS operator status 7: text too long"`` - the text recorded in ``error``."""
    known = lookup(code)
    return f"SMS operator status {code}: {known.meaning if known else 'unknown status'}"
