"""A hook plugin that records every hook call: add ``"pymess.testing.hook_recorder"`` to
``PYMESS_PLUGINS`` and read :data:`calls`."""

from __future__ import annotations

import threading
from typing import Any

from pymess import hookimpl

#: ``(hook_name, {argument: value})`` in call order.
calls: list[tuple[str, dict[str, Any]]] = []
_lock = threading.Lock()


def reset() -> None:
    with _lock:
        calls.clear()


def names() -> list[str]:
    return [name for name, _ in calls]


def _record(name: str, **kwargs: Any) -> None:
    with _lock:
        calls.append((name, kwargs))


@hookimpl
def pymess_sms_pre_send(message: Any, backend: Any) -> None:
    _record("pymess_sms_pre_send", message=message, backend=backend)


@hookimpl
def pymess_sms_post_send(message: Any, backend: Any) -> None:
    _record("pymess_sms_post_send", message=message, backend=backend, state=message.state)


@hookimpl
def pymess_sms_state_updated(message: Any, old_state: str, new_state: str) -> None:
    _record("pymess_sms_state_updated", message=message, old_state=old_state, new_state=new_state)
