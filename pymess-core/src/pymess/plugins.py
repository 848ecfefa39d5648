"""Loading hook plugins and calling them.

:class:`PymessPlugins` wraps pluggy's manager with one typed method per hook,
so the rest of pymess never calls hooks with loose keyword arguments. It is
built lazily on first use (never at import time: settings may not be ready)
and rebuilt when ``PYMESS_PLUGINS`` changes.
"""

from __future__ import annotations

import importlib
import logging
import threading
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

import pluggy
from django.core.exceptions import ImproperlyConfigured

from pymess import config, hookspecs
from pymess.exceptions import SendCancelled

if TYPE_CHECKING:
    from pymess.backend.sms.base import SMSBackend
    from pymess.models.sms import OutputSMSMessage

logger = logging.getLogger("pymess.plugins")

PROJECT_NAME = "pymess"
ENTRY_POINT_GROUP = "pymess.plugins"


class PymessPlugins:
    """The loaded hook plugins, with one method per hook."""

    def __init__(self) -> None:
        self.manager = pluggy.PluginManager(PROJECT_NAME)
        self.manager.add_hookspecs(hookspecs)
        #: Plugins that failed to load: ``(source, error)``.
        self.failed: list[tuple[str, BaseException]] = []

    def load(self) -> None:
        strict = config.plugins_strict()
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            dist = ep.dist.name if ep.dist else "unknown distribution"
            self._load_one(f"entry point {ep.name!r} of {dist}", ep.load, ep.name, strict)
        for path in config.plugins():
            self._load_one(
                f"PYMESS_PLUGINS entry {path!r}",
                lambda p=path: importlib.import_module(p),
                path,
                strict,
            )
        try:
            self.manager.check_pending()
        except pluggy.PluginValidationError as exc:
            raise ImproperlyConfigured(
                f"A pymess plugin implements an unknown hook: {exc}"
            ) from exc
        for hook_caller in self.manager.hook.__dict__.values():
            for impl in getattr(hook_caller, "get_hookimpls", list)():
                if impl.hookwrapper or impl.wrapper:
                    raise ImproperlyConfigured(
                        f"pymess plugin {impl.plugin_name!r} declares {hook_caller.name} as a "
                        "hook wrapper; pymess calls each implementation on its own (so one "
                        "failing plugin cannot silence the others) and does not support wrappers."
                    )

    def _load_one(self, source: str, loader: Any, name: str, strict: bool) -> None:
        try:
            plugin = loader()
            if self.manager.is_registered(plugin):
                return
            self.manager.register(plugin, name=name)
        except Exception as exc:
            if strict:
                raise ImproperlyConfigured(
                    f"Cannot load pymess plugin from {source}: {exc}"
                ) from exc
            logger.exception("Cannot load pymess plugin from %s; continuing without it.", source)
            self.failed.append((source, exc))

    def _call_each(
        self, hook_name: str, *, stop_on: type[BaseException] | None, **kwargs: Any
    ) -> None:
        hook = getattr(self.manager.hook, hook_name)
        # LIFO like pluggy, but each implementation on its own so one failure
        # does not silence the others.
        for impl in reversed(hook.get_hookimpls()):
            args = {name: kwargs[name] for name in impl.argnames}
            try:
                impl.function(**args)
            except Exception as exc:
                if stop_on is not None and isinstance(exc, stop_on):
                    raise
                logger.exception("pymess plugin %r failed in %s", impl.plugin_name, hook_name)

    def sms_pre_send(self, message: OutputSMSMessage, backend: SMSBackend) -> None:
        """Raises :class:`SendCancelled` if a plugin cancels the send."""
        self._call_each(
            "pymess_sms_pre_send", stop_on=SendCancelled, message=message, backend=backend
        )

    def sms_post_send(self, message: OutputSMSMessage, backend: SMSBackend) -> None:
        self._call_each("pymess_sms_post_send", stop_on=None, message=message, backend=backend)

    def sms_state_updated(self, message: OutputSMSMessage, old_state: str, new_state: str) -> None:
        self._call_each(
            "pymess_sms_state_updated",
            stop_on=None,
            message=message,
            old_state=old_state,
            new_state=new_state,
        )


_plugins: PymessPlugins | None = None
_lock = threading.Lock()


def get_plugins() -> PymessPlugins:
    """The process-wide plugin set, loaded on first use."""
    global _plugins
    plugins = _plugins
    if plugins is None:
        with _lock:
            if _plugins is None:
                loaded = PymessPlugins()
                loaded.load()
                _plugins = loaded
            plugins = _plugins
    return plugins


def reset_plugins() -> None:
    """Forget the loaded plugins; the next hook call loads them again."""
    global _plugins
    with _lock:
        _plugins = None
