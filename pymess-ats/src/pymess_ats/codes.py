"""ATS result codes and the state pymess records for each.

The table follows the ATS XML interface; where ATS documents only a range
(332-338) the meanings are grouped as the interface groups them.
"""

from __future__ import annotations

from dataclasses import dataclass

from pymess.enums import OutputSMSMessageState as State


@dataclass(frozen=True)
class ATSCode:
    code: int
    meaning: str
    #: The state recorded when the code answers a send request.
    state: str
    #: ATS says our request was wrong - a bug in pymess, logged at ERROR level.
    our_bug: bool = False

    @property
    def check_state(self) -> str:
        """The state recorded when the code answers a state request.

        A transient failure of a *state request* says nothing about the message,
        and a message already handed over must never be sent again, so what would be
        ``ERROR_RETRY`` for a send is ``ERROR_UPDATE`` here.
        """
        return State.ERROR_UPDATE if self.state == State.ERROR_RETRY else self.state


_NOT_ALLOWED = "sending not allowed (premium-rate, geographic, Slovak or short-code restriction)"

CODES: dict[int, ATSCode] = {
    c.code: c
    for c in [
        ATSCode(0, "accepted", State.SENDING),
        ATSCode(1, "unspecified error", State.ERROR_RETRY),
        ATSCode(20, "message not found", State.ERROR_UPDATE),
        ATSCode(21, "not yet sent", State.SENDING),
        ATSCode(22, "sent to the network", State.SENT),
        ATSCode(23, "delivered", State.DELIVERED),
        ATSCode(24, "not delivered", State.ERROR),
        ATSCode(25, "state unknown", State.UNKNOWN),
        ATSCode(100, "authentication failed", State.ERROR),
        ATSCode(200, "provider database error", State.ERROR_RETRY),
        ATSCode(300, "batch id (uniq) not unique", State.ERROR),
        ATSCode(310, "message id (uniq) not unique", State.ERROR),
        ATSCode(320, "missing keyword (kw)", State.ERROR),
        ATSCode(321, "invalid keyword (kw)", State.ERROR),
        ATSCode(330, "missing sender", State.ERROR),
        ATSCode(331, "invalid sender", State.ERROR),
        ATSCode(332, _NOT_ALLOWED, State.ERROR),
        ATSCode(333, _NOT_ALLOWED, State.ERROR),
        ATSCode(334, "daily premium-rate limit reached", State.ERROR_RETRY),
        ATSCode(335, "total premium-rate limit reached", State.ERROR),
        ATSCode(336, _NOT_ALLOWED, State.ERROR),
        ATSCode(337, _NOT_ALLOWED, State.ERROR),
        ATSCode(338, _NOT_ALLOWED, State.ERROR),
        ATSCode(339, "unknown sender", State.ERROR),
        ATSCode(340, "unspecified SMS type", State.ERROR),
        ATSCode(341, "text too long", State.ERROR),
        ATSCode(342, "too many parts (at most 10)", State.ERROR),
        ATSCode(343, "sender and recipient may not be combined", State.ERROR),
        ATSCode(350, "no recipient or wrong recipient format", State.ERROR),
        ATSCode(360, "text id not allowed", State.ERROR),
        ATSCode(361, "wrong text id", State.ERROR),
        ATSCode(362, "text id not allowed for long SMS", State.ERROR),
        ATSCode(701, "XML missing in the request", State.ERROR, our_bug=True),
        ATSCode(702, "request XML unreadable", State.ERROR, our_bug=True),
        ATSCode(703, "wrong HTTP method", State.ERROR),
        ATSCode(705, "request XML invalid", State.ERROR, our_bug=True),
    ]
}

#: Code of a failed authentication (request-level): a configuration problem, never retried.
AUTH_FAILED = 100


def lookup(code: int) -> ATSCode | None:
    return CODES.get(code)


def describe(code: int | str) -> str:
    """``"ATS code 341: text too long"`` - the text recorded in ``error``."""
    known = CODES.get(code) if isinstance(code, int) else None
    return f"ATS code {code}: {known.meaning}" if known else f"ATS code {code}: unknown code"
