"""Finding backend classes (by entry-point name or dotted path) and building backend instances.

Backends are cached per alias and process, like Django's cache handlers, and
the cache is dropped whenever a ``PYMESS_*`` setting changes (see
:mod:`pymess.signals`) so ``override_settings`` works in tests.
"""

from __future__ import annotations

import threading
from functools import cache
from importlib.metadata import EntryPoint, entry_points

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from pymess import config
from pymess.backend.sms.base import SMSBackend

ENTRY_POINT_GROUP = "pymess.sms_backends"

#: Backends of pymess' own provider distributions, for a precise hint when one is missing.
PROVIDER_DISTRIBUTIONS = {
    "sns": "pymess-sns",
    "twilio": "pymess-twilio",
    "ats": "pymess-ats",
    "sms_operator": "pymess-smsoperator",
}

_backends: dict[str, SMSBackend] = {}
_lock = threading.Lock()


@cache
def available_backends() -> dict[str, EntryPoint]:
    """Installed backends by entry-point name."""
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def resolve_backend_class(
    name_or_path: str, *, setting: str = "PYMESS_SMS_SENDER_BACKEND"
) -> type[SMSBackend]:
    """The backend class for an entry-point name (``"twilio"``) or a dotted path."""
    installed = available_backends()
    if name_or_path in installed:
        ep = installed[name_or_path]
        try:
            backend_class = ep.load()
        except ImportError as exc:
            dist = ep.dist.name if ep.dist else "its distribution"
            raise ImproperlyConfigured(
                f"Backend {name_or_path!r} from {dist} cannot be imported: {exc}"
            ) from exc
    elif "." in name_or_path:
        try:
            backend_class = import_string(name_or_path)
        except ImportError as exc:
            raise ImproperlyConfigured(
                f"{setting}: cannot import backend {name_or_path!r}: {exc}"
            ) from exc
    elif name_or_path in PROVIDER_DISTRIBUTIONS:
        distribution = PROVIDER_DISTRIBUTIONS[name_or_path]
        raise ImproperlyConfigured(
            f"{setting}: SMS backend {name_or_path!r} comes with the {distribution} distribution, "
            f"which is not installed. Run: pip install {distribution}"
        )
    else:
        names = ", ".join(sorted(installed)) or "none"
        raise ImproperlyConfigured(
            f"{setting}: unknown SMS backend {name_or_path!r}. Installed backends: {names}. "
            "Install the provider's distribution (e.g. pip install pymess-twilio) "
            "or use a dotted path."
        )
    if not (isinstance(backend_class, type) and issubclass(backend_class, SMSBackend)):
        raise ImproperlyConfigured(
            f"{setting}: {name_or_path!r} is not a subclass of pymess.backend.sms.SMSBackend."
        )
    return backend_class


def backend_options(alias: str, backend_class: type[SMSBackend], options: dict) -> dict:
    """Options for ``alias``: the provider's config setting, overridden by ``OPTIONS``."""
    merged = (
        config.provider_config(backend_class.config_setting) if backend_class.config_setting else {}
    )
    merged.update(options)
    return merged


def create_backend(alias: str = config.DEFAULT_BACKEND_ALIAS) -> SMSBackend:
    """A new backend instance for ``alias`` (raises ``ImproperlyConfigured`` with the fix)."""
    definitions = config.sms_backends()
    if alias not in definitions:
        raise ImproperlyConfigured(
            f"Unknown SMS backend alias {alias!r}; PYMESS_SMS_BACKENDS defines: "
            f"{', '.join(sorted(definitions))}."
        )
    definition = definitions[alias]
    setting = (
        f'PYMESS_SMS_BACKENDS["{alias}"]["BACKEND"]'
        if config.uses_named_backends()
        else "PYMESS_SMS_SENDER_BACKEND"
    )
    backend_class = resolve_backend_class(str(definition["BACKEND"]), setting=setting)
    return backend_class(alias, backend_options(alias, backend_class, definition["OPTIONS"]))


def get_backend(alias: str = config.DEFAULT_BACKEND_ALIAS) -> SMSBackend:
    """The shared backend instance for ``alias`` in this process."""
    backend = _backends.get(alias)
    if backend is None:
        with _lock:
            backend = _backends.get(alias)
            if backend is None:
                backend = create_backend(alias)
                _backends[alias] = backend
    return backend


def reset_backends() -> None:
    """Drop cached backend instances (and re-read installed entry points)."""
    with _lock:
        for backend in _backends.values():
            close = getattr(backend, "close", None)
            if callable(close):
                close()
        _backends.clear()
    available_backends.cache_clear()
