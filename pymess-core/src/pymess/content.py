"""Validation and preparation of SMS content and extra data."""

from __future__ import annotations

import json
from typing import Any

from unidecode import unidecode

from pymess import config
from pymess.encoding import SegmentInfo, analyse
from pymess.exceptions import InvalidContent


def to_ascii(text: str) -> str:
    """Replace every non-ASCII character by its closest ASCII spelling; ``?`` when there is none."""
    return "".join(ch if ch.isascii() else (unidecode(ch, errors="replace") or "?") for ch in text)


def prepare_content(content: object) -> tuple[str, SegmentInfo]:
    """Apply ``PYMESS_SMS_USE_ACCENT`` and the segment limit; raise :class:`InvalidContent`."""
    if not isinstance(content, str):
        raise InvalidContent(f"SMS content must be a string, got {type(content).__name__}.")
    if not content.strip():
        raise InvalidContent("SMS content is empty.")
    if not config.use_accent():
        content = to_ascii(content)
    info = analyse(content)
    limit = config.max_segments()
    if info.segments > limit:
        raise InvalidContent(
            f"SMS content needs {info.segments} {info.encoding} segments; the limit is {limit} "
            "(PYMESS_SMS_MAX_SEGMENTS)."
        )
    return content, info


def validate_extra_data(extra_data: dict[str, Any]) -> dict[str, Any]:
    """Extra data must be plain JSON (no NaN, sets or objects); raise :class:`InvalidContent`."""
    try:
        json.dumps(extra_data, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidContent(f"Extra data is not JSON-serialisable: {exc}.") from exc
    return extra_data
