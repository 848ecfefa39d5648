"""Drop cached backends and plugins when a ``PYMESS_*`` setting changes (``override_settings``)."""

from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver


@receiver(setting_changed)
def reset_pymess_caches(*, setting: str, **kwargs: Any) -> None:
    if not setting.startswith("PYMESS_"):
        return
    from pymess.backend.sms.registry import reset_backends
    from pymess.plugins import reset_plugins

    reset_backends()
    reset_plugins()
