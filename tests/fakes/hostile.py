"""Hostile and broken XML bodies a provider fake can answer with."""

from __future__ import annotations


def xxe(root: str, inner: str, path: str = "/etc/passwd") -> bytes:
    """A document whose ``inner`` markup refers to ``&x;``, an external entity reading ``path``.

    ``inner`` is the answer's markup with ``&x;`` where the file content would land,
    e.g. ``<code uniq="p-1">&x;</code>``.
    """
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<!DOCTYPE {root} [<!ENTITY x SYSTEM "file://{path}">]>\n'
        f"<{root}>{inner}</{root}>"
    ).encode()


def billion_laughs(root: str, inner: str) -> bytes:
    """The classic entity-expansion bomb (10^9 "lol"s); ``inner`` uses ``&lol9;``."""
    entities = ['<!ENTITY lol "lol">']
    for level in range(1, 10):
        previous = "lol" if level == 1 else f"lol{level - 1}"
        entities.append(f'<!ENTITY lol{level} "{f"&{previous};" * 10}">')
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<!DOCTYPE {root} [{''.join(entities)}]>\n"
        f"<{root}>{inner}</{root}>"
    ).encode()


MALFORMED = b'<?xml version="1.0"?><messages><code uniq="x">0</cod'
NOT_XML = b"<html><body>502 Bad Gateway</body>"
EMPTY = b""
