"""Hook specifications: the extension points third-party plugins implement.

Implement a hook by defining a function of the same name in a module decorated
with :data:`pymess.hookimpl`, and register the module through the
``pymess.plugins`` entry-point group or the ``PYMESS_PLUGINS`` setting. An
implementation may accept any subset of a hook's arguments.

Each implementation is called on its own: one that raises is logged with its
plugin's name and the others still run. For the same reason pluggy hook
wrappers (``wrapper=True``/``hookwrapper=True``) are refused when plugins load.
Only :class:`~pymess.exceptions.SendCancelled` from ``pymess_sms_pre_send``
changes what pymess does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from pymess.backend.sms.base import SMSBackend
    from pymess.models.sms import OutputSMSMessage

hookspec = pluggy.HookspecMarker("pymess")


@hookspec
def pymess_sms_pre_send(message: OutputSMSMessage, backend: SMSBackend) -> None:
    """Called just before the provider is asked to send ``message``.

    Runs on the thread that owns the database connection, so it may query the
    database. It is called once per attempt, retries included.

    :param message: the message about to be sent; its state is ``WAITING`` or
        ``ERROR_RETRY``. Changes to ``content`` are not sent (the content was
        validated and counted when the message was created).
    :param backend: the backend instance that will send it.
    :raises pymess.exceptions.SendCancelled: to stop the send. The message is
        stored as ``ERROR`` with the exception's reason in ``error`` and is not
        retried; ``pymess_sms_post_send`` still runs.

    Any other exception is logged and ignored: the send goes ahead.
    """


@hookspec
def pymess_sms_post_send(message: OutputSMSMessage, backend: SMSBackend) -> None:
    """Called after the provider call, whatever its outcome, once the outcome is stored.

    :param message: the message with its new ``state``, ``error`` and ``external_id``.
    :param backend: the backend instance that sent it.

    An exception is logged with the plugin's name; the stored outcome stays as it is.
    """


@hookspec
def pymess_sms_state_updated(message: OutputSMSMessage, old_state: str, new_state: str) -> None:
    """Called after every stored change of a message's state, from any source.

    Sends, the batch worker, state checks, webhooks and admin actions all fire it,
    once per change. Creating a message (``WAITING``) does not, and neither does a
    report of the state the message already has.

    :param message: the message, already saved with ``new_state``.
    :param old_state: the state before the change.
    :param new_state: the state now stored.

    An exception is logged with the plugin's name; the stored state stays as it is.
    """
