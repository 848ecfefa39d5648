"""SMS encoding detection and segment counting.

An SMS travels as GSM-7 when every character is in the GSM 03.38 alphabet
(extension characters such as ``€`` or ``{`` cost two septets), otherwise as
UCS-2 counted in UTF-16 code units. One segment holds 160 septets or 70 units;
a concatenated message loses room to its header: 153 septets or 67 units per
part. An escape pair or a surrogate pair is never split across parts.
"""

from __future__ import annotations

from dataclasses import dataclass

from pymess.enums import SMSEncoding

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
) - {"\x1b"}
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

_LIMITS = {
    # encoding: (single-part capacity, per-part capacity when concatenated)
    SMSEncoding.GSM7: (160, 153),
    SMSEncoding.UCS2: (70, 67),
}


@dataclass(frozen=True)
class SegmentInfo:
    encoding: SMSEncoding
    segments: int
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2


def _unit_costs(text: str) -> tuple[SMSEncoding, list[int]]:
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text):
        return SMSEncoding.GSM7, [2 if ch in GSM7_EXTENSION else 1 for ch in text]
    return SMSEncoding.UCS2, [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def analyse(text: str) -> SegmentInfo:
    """Return the encoding, the number of segments and the units the text needs."""
    encoding, costs = _unit_costs(text)
    units = sum(costs)
    single, per_part = _LIMITS[encoding]
    if units <= single:
        return SegmentInfo(encoding, 1 if units else 0, units)
    segments, used = 1, 0
    for cost in costs:
        if used + cost > per_part:
            segments += 1
            used = 0
        used += cost
    return SegmentInfo(encoding, segments, units)
