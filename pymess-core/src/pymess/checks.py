"""Django system checks: ``manage.py check`` reports pymess configuration problems."""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from pymess import config


@checks.register("pymess")
def check_sms_backends(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Every configured backend resolves, and its options are complete."""
    from pymess.backend.sms.registry import create_backend

    errors: list[checks.CheckMessage] = []
    try:
        aliases = list(config.sms_backends())
        config.dispatch()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="pymess.E001")]
    for alias in aliases:
        try:
            backend = create_backend(alias)
        except ImproperlyConfigured as exc:
            errors.append(
                checks.Error(
                    str(exc),
                    hint="See the settings reference in the pymess documentation.",
                    obj=f"SMS backend {alias!r}",
                    id="pymess.E002",
                )
            )
            continue
        errors.extend(backend.check())
    return errors


@checks.register("pymess")
def check_plugins(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Hook plugins load and implement only known hooks."""
    from pymess.plugins import get_plugins

    try:
        plugins = get_plugins()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="pymess.E003")]
    return [
        checks.Warning(f"pymess plugin from {source} failed to load: {error}", id="pymess.W001")
        for source, error in plugins.failed
    ]
