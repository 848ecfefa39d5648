"""Hardened parsing of XML answers from SMS providers (ATS, SMS operator).

A provider's response is untrusted input. :func:`parse_response` parses it with
lxml with entity resolution, DTD loading and network access off, refuses any
document that declares a DTD (no provider of ours sends one; it is how external
entities and entity bombs arrive), caps the size, and turns every problem into
:class:`UnreadableResponse` - a clear exception a backend records as a state,
never a crash, a hang or a file read.

Needs lxml (``pip install "pymess-core[http]"``); it is imported on first use,
so core itself works without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lxml.etree import _Element

#: Largest response body pymess parses, in bytes (1 MiB: a 100-message answer is a few kB).
MAX_RESPONSE_BYTES = 1024 * 1024


class UnreadableResponse(ValueError):
    """A provider response that is not safe, well-formed XML of an acceptable size.

    The message never contains the response body, so nothing a hostile server
    sends (or makes the parser read) ends up in ``error`` or in logs.
    """


def _etree() -> Any:
    try:
        from lxml import etree
    except ImportError as exc:  # pragma: no cover - exercised by the partial-install runs
        raise ImportError(
            "Parsing provider XML needs lxml. Run: pip install 'pymess-core[http]'"
        ) from exc
    return etree


def parse_response(body: bytes, *, provider: str = "The provider") -> _Element:
    """Parse ``body`` and return its root element, or raise :class:`UnreadableResponse`."""
    etree = _etree()
    if len(body) > MAX_RESPONSE_BYTES:
        raise UnreadableResponse(
            f"{provider} answered with {len(body)} bytes, more than the "
            f"{MAX_RESPONSE_BYTES} pymess parses; the response was discarded."
        )
    if not body.strip():
        raise UnreadableResponse(f"{provider} answered with an empty body.")
    # A fresh parser per call: parser objects must not be shared between worker threads.
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        # libxml2's message names the problem and a position, never the document's text.
        raise UnreadableResponse(
            f"{provider} answered with XML pymess cannot read: {_short(exc)}"
        ) from None
    except (ValueError, TypeError) as exc:
        raise UnreadableResponse(
            f"{provider} answered with a body that is not XML: {type(exc).__name__}"
        ) from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise UnreadableResponse(
            f"{provider} answered with a document type declaration (<!DOCTYPE>); pymess refuses "
            "DTDs and entities in provider responses. Check that URL points at the provider."
        )
    return root


def _short(exc: Exception, limit: int = 200) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def element_text(element: _Element | None) -> str:
    """The plain text of ``element`` (``""`` for none); entity references are not expanded."""
    if element is None:
        return ""
    return "".join(t for t in element.itertext() if isinstance(t, str)).strip()


def serialize(root: _Element) -> bytes:
    """A request document as UTF-8 bytes with its XML declaration."""
    result: bytes = _etree().tostring(root, xml_declaration=True, encoding="UTF-8")
    return result
