"""A hook plugin (``PYMESS_PLUGINS``) recording every state change the hook reports."""

from pymess import hookimpl

changes: list[tuple[int, str, str]] = []


@hookimpl
def pymess_sms_state_updated(message, old_state, new_state):
    changes.append((message.pk, old_state, new_state))
