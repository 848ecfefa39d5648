"""GSM-7 / UCS-2 detection and segment counting."""

import pytest

from pymess.encoding import GSM7_BASIC, GSM7_EXTENSION, analyse


@pytest.mark.parametrize(
    ("text", "encoding", "segments", "units"),
    [
        ("a", "GSM-7", 1, 1),
        ("a" * 160, "GSM-7", 1, 160),
        ("a" * 161, "GSM-7", 2, 161),
        ("a" * 306, "GSM-7", 2, 306),
        ("a" * 307, "GSM-7", 3, 307),
        ("{}" * 40, "GSM-7", 1, 160),  # extension characters cost two septets
        ("{" * 81, "GSM-7", 2, 162),
        ("ř" * 70, "UCS-2", 1, 70),
        ("ř" * 71, "UCS-2", 2, 71),
        ("ř" * 134, "UCS-2", 2, 134),
        ("ř" * 135, "UCS-2", 3, 135),
        ("😀" * 35, "UCS-2", 1, 70),  # surrogate pairs: two UTF-16 units each
        ("😀" * 36, "UCS-2", 2, 72),
        ("", "GSM-7", 0, 0),
    ],
)
def test_analyse(text, encoding, segments, units):
    info = analyse(text)
    assert (info.encoding, info.segments, info.units) == (encoding, segments, units)


def test_escape_pair_is_not_split_across_parts():
    # 152 basic septets then a two-septet '€': the pair cannot start at septet 153.
    assert analyse("a" * 152 + "€" + "a" * 152).segments == 3
    assert analyse("a" * 151 + "€" + "a" * 153).segments == 2


def test_surrogate_pair_is_not_split_across_parts():
    assert analyse("ř" * 66 + "😀" + "ř" * 66).segments == 3
    assert analyse("ř" * 65 + "😀" + "ř" * 67).segments == 2


def test_alphabet_sizes():
    assert len(GSM7_BASIC) == 127  # 128 code points less the escape
    assert len(GSM7_EXTENSION) == 10
