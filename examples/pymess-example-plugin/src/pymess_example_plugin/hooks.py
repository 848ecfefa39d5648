"""``example_hooks``: a hook plugin that records every hook call and can block a send.

Each function is a pluggy hook implementation; it may take any subset of the
hook's arguments. A message sent with ``send(..., example_block="why")`` is
cancelled by :func:`pymess_sms_pre_send`: it is stored as ``ERROR`` with the
reason, and never reaches the provider.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import pymess
from pymess.exceptions import SendCancelled

if TYPE_CHECKING:
    from pymess.backend.sms.base import SMSBackend
    from pymess.models.sms import OutputSMSMessage

#: ``(hook name, message pk, detail)`` of recent calls, newest last (bounded).
calls: deque[tuple[str, int, str]] = deque(maxlen=1000)


def reset() -> None:
    calls.clear()


@pymess.hookimpl
def pymess_sms_pre_send(message: OutputSMSMessage, backend: SMSBackend) -> None:
    calls.append(("pre_send", message.pk, backend.alias))
    reason = (message.extra_data or {}).get("example_block")
    if reason:
        raise SendCancelled(f"blocked by pymess-example-plugin: {reason}")


@pymess.hookimpl
def pymess_sms_post_send(message: OutputSMSMessage) -> None:
    calls.append(("post_send", message.pk, message.state))


@pymess.hookimpl
def pymess_sms_state_updated(message: OutputSMSMessage, old_state: str, new_state: str) -> None:
    calls.append(("state_updated", message.pk, f"{old_state}->{new_state}"))
