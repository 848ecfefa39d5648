"""Every ``PYMESS_*`` setting, read at call time through one getter each.

Reading through these getters (never at import time) is what lets
``override_settings`` work in tests. Each getter documents its default; the
settings reference in the docs is checked against this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULT_BACKEND_ALIAS = "default"


def _get(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def sms_sender_backend() -> str:
    """``PYMESS_SMS_SENDER_BACKEND``: entry-point name or dotted path of the default backend."""
    return str(_get("PYMESS_SMS_SENDER_BACKEND", "dummy"))


def sms_backends() -> dict[str, dict[str, Any]]:
    """``PYMESS_SMS_BACKENDS``: named backends, ``{alias: {"BACKEND": ..., "OPTIONS": {...}}}``.

    Without it, ``PYMESS_SMS_SENDER_BACKEND`` is the ``"default"`` alias.
    """
    configured = _get("PYMESS_SMS_BACKENDS", None)
    if configured is None:
        return {DEFAULT_BACKEND_ALIAS: {"BACKEND": sms_sender_backend(), "OPTIONS": {}}}
    if not isinstance(configured, Mapping) or not configured:
        raise ImproperlyConfigured(
            "PYMESS_SMS_BACKENDS must be a non-empty dict of "
            '{alias: {"BACKEND": name_or_path, "OPTIONS": {...}}}.'
        )
    result: dict[str, dict[str, Any]] = {}
    for alias, entry in configured.items():
        if not isinstance(entry, Mapping) or "BACKEND" not in entry:
            raise ImproperlyConfigured(
                f'PYMESS_SMS_BACKENDS["{alias}"] must be a dict with a "BACKEND" key.'
            )
        unknown = set(entry) - {"BACKEND", "OPTIONS"}
        if unknown:
            raise ImproperlyConfigured(
                f'PYMESS_SMS_BACKENDS["{alias}"] has unknown keys {sorted(unknown)}; '
                'only "BACKEND" and "OPTIONS" are allowed.'
            )
        result[str(alias)] = {
            "BACKEND": entry["BACKEND"],
            "OPTIONS": dict(entry.get("OPTIONS") or {}),
        }
    if DEFAULT_BACKEND_ALIAS not in result:
        raise ImproperlyConfigured(
            f'PYMESS_SMS_BACKENDS must define a "{DEFAULT_BACKEND_ALIAS}" alias.'
        )
    return result


def uses_named_backends() -> bool:
    return _get("PYMESS_SMS_BACKENDS", None) is not None


def provider_config(setting_name: str) -> dict[str, Any]:
    """A per-provider config dict such as ``PYMESS_TWILIO_SMS_CONFIG`` (empty when unset)."""
    value = _get(setting_name, None)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ImproperlyConfigured(f"{setting_name} must be a dict, not {type(value).__name__}.")
    return dict(value)


def use_accent() -> bool:
    """``PYMESS_SMS_USE_ACCENT`` (default ``True``): keep non-ASCII characters."""
    return bool(_get("PYMESS_SMS_USE_ACCENT", True))


def default_region() -> str | None:
    """``PYMESS_SMS_DEFAULT_REGION`` (default ``None``): region for numbers without ``+``."""
    value = _get("PYMESS_SMS_DEFAULT_REGION", None)
    return str(value).upper() if value else None


def allowed_regions() -> frozenset[str] | None:
    """``PYMESS_SMS_ALLOWED_REGIONS`` (default ``None`` = any): regions pymess may send to."""
    value = _get("PYMESS_SMS_ALLOWED_REGIONS", None)
    return frozenset(str(r).upper() for r in value) if value else None


def max_segments() -> int:
    """``PYMESS_SMS_MAX_SEGMENTS`` (default 10): longest content accepted, in segments."""
    return int(_get("PYMESS_SMS_MAX_SEGMENTS", 10))


def batch_sending() -> bool:
    """``PYMESS_SMS_BATCH_SENDING`` (default ``False``): queue messages for the batch worker."""
    return bool(_get("PYMESS_SMS_BATCH_SENDING", False))


def template_model_label() -> str:
    """``PYMESS_SMS_TEMPLATE_MODEL`` (default ``"pymess.SMSTemplate"``)."""
    return str(_get("PYMESS_SMS_TEMPLATE_MODEL", "pymess.SMSTemplate"))


def plugins() -> list[str]:
    """``PYMESS_PLUGINS`` (default ``[]``): dotted module paths of hook plugins."""
    return list(_get("PYMESS_PLUGINS", []))


def plugins_strict() -> bool:
    """``PYMESS_PLUGINS_STRICT`` (default ``False``): a plugin that fails to load is fatal."""
    return bool(_get("PYMESS_PLUGINS_STRICT", False))


def dispatch() -> str:
    """``PYMESS_SMS_DISPATCH`` (default ``"cron"``): ``"cron"``, ``"tasks"`` or ``"celery"``."""
    value = str(_get("PYMESS_SMS_DISPATCH", "cron"))
    if value not in {"cron", "tasks", "celery"}:
        raise ImproperlyConfigured(
            f'PYMESS_SMS_DISPATCH must be "cron", "tasks" or "celery", not {value!r}.'
        )
    return value


def retry_max_attempts() -> int:
    """``PYMESS_SMS_RETRY_MAX_ATTEMPTS`` (default 5): provider calls per message, at most."""
    return int(_get("PYMESS_SMS_RETRY_MAX_ATTEMPTS", 5))


def retry_max_age() -> float:
    """``PYMESS_SMS_RETRY_MAX_AGE`` (default 86400 s): no retry once a message is this old."""
    return float(_get("PYMESS_SMS_RETRY_MAX_AGE", 24 * 3600))


def retry_base_delay() -> float:
    """``PYMESS_SMS_RETRY_BASE_DELAY`` (default 30 s): first retry delay, doubled each attempt."""
    return float(_get("PYMESS_SMS_RETRY_BASE_DELAY", 30))


def retry_max_delay() -> float:
    """``PYMESS_SMS_RETRY_MAX_DELAY`` (default 3600 s): cap on a single retry delay."""
    return float(_get("PYMESS_SMS_RETRY_MAX_DELAY", 3600))


def batch_size() -> int:
    """``PYMESS_SMS_BATCH_SIZE`` (default 100): rows claimed per round by a worker."""
    return int(_get("PYMESS_SMS_BATCH_SIZE", 100))


def lease_seconds() -> float:
    """``PYMESS_SMS_LEASE_SECONDS`` (default 300): how long a claim is held before recovery."""
    return float(_get("PYMESS_SMS_LEASE_SECONDS", 300))


def worker_threads() -> int:
    """``PYMESS_SMS_WORKER_THREADS`` (default 8): concurrent provider calls in one worker."""
    return max(1, int(_get("PYMESS_SMS_WORKER_THREADS", 8)))


def state_check_chunk_size() -> int:
    """``PYMESS_SMS_STATE_CHECK_CHUNK_SIZE`` (default 100): messages per state-check request."""
    return max(1, int(_get("PYMESS_SMS_STATE_CHECK_CHUNK_SIZE", 100)))


def rate_limits() -> dict[str, str]:
    """``PYMESS_SMS_RATE_LIMITS`` (default ``{}``): per backend alias, e.g. ``{"default": "20/s"}``.

    A limit is ``"N/s"``, ``"N/m"`` or ``"N/h"`` messages, or ``"N segments/s"``
    (also ``/m``, ``/h``); it holds across every worker sharing the database.
    """
    value = _get("PYMESS_SMS_RATE_LIMITS", None) or {}
    if not isinstance(value, Mapping):
        raise ImproperlyConfigured(
            'PYMESS_SMS_RATE_LIMITS must be a dict such as {"default": "20/s"}, '
            f"not {type(value).__name__}."
        )
    return {str(alias): str(limit) for alias, limit in value.items()}


def batch_poll_interval() -> float:
    """``PYMESS_SMS_BATCH_POLL_INTERVAL`` (default 5 s): idle wait of ``send_messages_batch
    --loop``."""
    return max(0.05, float(_get("PYMESS_SMS_BATCH_POLL_INTERVAL", 5)))
