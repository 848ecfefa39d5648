"""Documented dotted paths of backends that live in separate distributions."""

from __future__ import annotations

import importlib
from typing import Any

from django.core.exceptions import ImproperlyConfigured


def load_plugin_attribute(module: str, attribute: str, distribution: str, documented: str) -> Any:
    """Import ``module.attribute`` or explain which distribution to install."""
    try:
        return getattr(importlib.import_module(module), attribute)
    except ModuleNotFoundError as exc:
        if exc.name != module and not module.startswith(f"{exc.name}."):
            raise
        raise ImproperlyConfigured(
            f"{documented} lives in the {distribution} distribution, which is not installed. "
            f"Run: pip install {distribution}"
        ) from exc
