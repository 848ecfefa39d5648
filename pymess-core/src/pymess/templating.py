"""Plain-text rendering of SMS templates with Django's template language."""

from __future__ import annotations

import functools
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.template import Context, Engine, Template


@functools.cache
def _fallback_engine() -> Engine:
    return Engine(autoescape=False)


def _engine() -> Engine:
    # The project's DjangoTemplates engine keeps its custom tags and filters
    # available; a bare engine is the fallback for projects without one.
    try:
        return Engine.get_default()
    except ImproperlyConfigured:
        return _fallback_engine()


def compile_template(source: str) -> Template:
    """Compile ``source``; raises :class:`django.template.TemplateSyntaxError`."""
    return _engine().from_string(source)


def render_plain_text(source: str, context_data: dict[str, Any]) -> str:
    """Render without HTML escaping: ``&`` stays ``&`` in an SMS."""
    return compile_template(source).render(Context(context_data, autoescape=False))


def normalize_locale(locale: str | None) -> str:
    """``cs_CZ``, ``cs-CZ`` and ``cs-cz`` all become ``cs-cz``; ``None`` becomes ``""``."""
    return (locale or "").strip().replace("_", "-").lower()


def locale_fallbacks(locale: str | None, language_code: str) -> list[str]:
    """Locales to try in order: requested, its language, LANGUAGE_CODE, its language, ``""``."""
    chain: list[str] = []
    for candidate in (locale, language_code):
        normalized = normalize_locale(candidate)
        if normalized:
            chain.extend([normalized, normalized.split("-")[0]])
    chain.append("")
    return list(dict.fromkeys(chain))
