"""A fake ATS XML gateway that checks requests against the protocol in PROVIDERS.md.

It parses what the backend sends, records each protocol violation in
``violations`` (and answers request-level 705, as ATS does for invalid XML),
and answers per message with the code a test asks for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from xml.sax.saxutils import quoteattr

from lxml import etree

from tests.fakes.threaded_http import Reply, Request, ThreadedFakeServer

SMS_ATTRIBUTES = {"type", "uniq", "sender", "recipient", "opmid", "dlr", "validity", "kw"}


@dataclass
class SentSMS:
    uniq: str
    attributes: dict[str, str]
    text: str


@dataclass
class ATSFake(ThreadedFakeServer):
    """Steer it through ``send_codes`` / ``state_codes`` (uniq → code), the defaults,
    ``request_code`` (a request-level ``<code>``), ``omit`` (uniq ids left out of
    answers) and the base class' ``queue``/``override``."""

    username: str = "ats-user"
    password: str = "ats-password"
    sender: str = "420777000111"
    keyword: str = "PYMESS"
    textid: str | None = None
    latency_s: float = 0.0
    send_codes: dict[str, int | str] = field(default_factory=dict)
    state_codes: dict[str, int | str] = field(default_factory=dict)
    default_send_code: int | str = 0
    default_state_code: int | str = 22
    request_code: int | str | None = None
    omit: set[str] = field(default_factory=set)
    sent: list[SentSMS] = field(default_factory=list)
    state_requests: list[list[str]] = field(default_factory=list)

    path = "/gwfcgi/XMLServerWrapper.fcgi"

    def __post_init__(self) -> None:
        super().__init__(latency=self.latency_s)

    # -- protocol ------------------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        if request.method != "POST":
            return self._request_level(703)
        if not request.headers.get("Content-Type", "").startswith("text/xml"):
            self.violation(f"Content-Type is {request.headers.get('Content-Type')!r}, not text/xml")
        try:
            root = etree.fromstring(
                request.body, etree.XMLParser(resolve_entities=False, no_network=True)
            )
        except etree.XMLSyntaxError as exc:
            self.violation(f"request is not XML: {exc}")
            return self._request_level(702)
        problems = self._check_envelope(root)
        if problems:
            for problem in problems:
                self.violation(problem)
            return self._request_level(705)
        auth = root[0]
        if (auth.findtext("name"), auth.findtext("password")) != (self.username, self.password):
            return self._request_level(100)
        if self.request_code is not None:
            return self._request_level(self.request_code)
        sms = root.findall("sms")
        if sms:
            return self._answer_send(sms)
        return self._answer_states(root.findall("dlr"))

    def _check_envelope(self, root: etree._Element) -> list[str]:
        problems = []
        if root.tag != "messages":
            return [f"root element is <{root.tag}>, not <messages>"]
        if len(root) == 0 or root[0].tag != "auth":
            return ["<auth> must be the first child of <messages>"]
        if [child.tag for child in root[0]] != ["name", "password"]:
            problems.append(f"<auth> holds {[c.tag for c in root[0]]}, not [name, password]")
        kinds = {child.tag for child in root[1:]}
        if not kinds or (not kinds <= {"sms"} and not kinds <= {"dlr"}):
            problems.append(
                f"<messages> must hold only <sms> or only <dlr> after <auth>, not {sorted(kinds)}"
            )
        uniqs = [child.get("uniq") for child in root[1:]]
        if len(set(uniqs)) != len(uniqs):
            problems.append("uniq ids repeat within one request")
        for child in root[1:]:
            problems.extend(
                self._check_sms(child) if child.tag == "sms" else self._check_dlr(child)
            )
        return problems

    def _check_sms(self, sms: etree._Element) -> list[str]:
        problems = []
        attrs = dict(sms.attrib)
        uniq = attrs.get("uniq", "")
        expected = set(SMS_ATTRIBUTES) | ({"textid"} if self.textid else set())
        if set(attrs) != expected:
            problems.append(
                f"<sms uniq={uniq!r}> attributes {sorted(attrs)}, expected {sorted(expected)}"
            )
        checks = {
            "type": attrs.get("type") == "text",
            "uniq": bool(uniq),
            "sender": attrs.get("sender") == self.sender,
            "recipient": bool(re.fullmatch(r"\+?\d{6,15}", attrs.get("recipient", ""))),
            "dlr": attrs.get("dlr") == "1",
            "validity": attrs.get("validity", "").isdigit(),
            "kw": attrs.get("kw") == self.keyword,
            "textid": attrs.get("textid") == self.textid if self.textid else "textid" not in attrs,
        }
        problems.extend(
            f"<sms uniq={uniq!r}> has a wrong {name}: {attrs.get(name)!r}"
            for name, ok in checks.items()
            if not ok
        )
        if len(sms) != 1 or sms[0].tag != "body":
            problems.append(f"<sms uniq={uniq!r}> must hold exactly one <body>")
        else:
            body = sms[0]
            if dict(body.attrib) != {"order": "0", "billing": "0"}:
                problems.append(
                    f"<body> attributes {dict(body.attrib)}, expected order=0 billing=0"
                )
            if not (body.text or "").strip():
                problems.append(f"<sms uniq={uniq!r}> has an empty body")
        if not problems:
            self.sent.append(SentSMS(uniq, attrs, sms[0].text or ""))
        return problems

    def _check_dlr(self, dlr: etree._Element) -> list[str]:
        uniq = dlr.get("uniq")
        if not uniq or dlr.text != uniq or dict(dlr.attrib) != {"uniq": uniq}:
            return [f"<dlr> must be <dlr uniq=ID>ID</dlr>, got {etree.tostring(dlr)!r}"]
        return []

    # -- answers -------------------------------------------------------------------------------

    def _answer_send(self, sms: list[etree._Element]) -> Reply:
        codes = [
            (s.get("uniq", ""), self.send_codes.get(s.get("uniq", ""), self.default_send_code))
            for s in sms
        ]
        return self._codes_reply(codes)

    def _answer_states(self, dlrs: list[etree._Element]) -> Reply:
        uniqs = [d.get("uniq", "") for d in dlrs]
        with self._lock:
            self.state_requests.append(uniqs)
        return self._codes_reply(
            [(u, self.state_codes.get(u, self.default_state_code)) for u in uniqs]
        )

    def _codes_reply(self, codes: list[tuple[str, int | str]]) -> Reply:
        items = "".join(
            f"<code uniq={quoteattr(uniq)}>{code}</code>"
            for uniq, code in codes
            if uniq not in self.omit
        )
        return Reply(
            body=f'<?xml version="1.0" encoding="UTF-8"?>\n<messages>{items}</messages>'.encode()
        )

    @staticmethod
    def _request_level(code: int | str) -> Reply:
        return Reply(
            body=f'<?xml version="1.0"?>\n<messages><code>{code}</code></messages>'.encode()
        )

    @staticmethod
    def codes_body(codes: dict[str, int | str]) -> bytes:
        """A raw answer body with these per-message codes (for queued replies)."""
        items = "".join(f"<code uniq={quoteattr(u)}>{c}</code>" for u, c in codes.items())
        return f"<messages>{items}</messages>".encode()
