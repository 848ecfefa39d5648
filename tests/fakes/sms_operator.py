"""A fake SMS operator web service that checks requests against the protocol in PROVIDERS.md.

Protocol violations are recorded in ``violations`` (and answered with HTTP 400).
Wrong credentials get HTTP 403 - an assumption: the operator's real answer to
bad credentials is not documented.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from lxml import etree

from tests.fakes.threaded_http import Reply, Request, ThreadedFakeServer


@dataclass
class SentItem:
    sms_id: str
    recipient: str
    text: str


@dataclass
class SMSOperatorFake(ThreadedFakeServer):
    """Steer it through ``send_statuses`` / ``state_statuses`` (SmsId → status), the
    defaults, ``omit`` (SmsIds left out of answers) and the base class' ``queue``/``override``."""

    username: str = "operator-user"
    password: str = "operator-password"
    latency_s: float = 0.0
    send_statuses: dict[str, int | str] = field(default_factory=dict)
    state_statuses: dict[str, int | str] = field(default_factory=dict)
    default_send_status: int | str = 0
    default_state_status: int | str = 11
    omit: set[str] = field(default_factory=set)
    sent: list[SentItem] = field(default_factory=list)
    state_requests: list[list[str]] = field(default_factory=list)

    path = "/webservices/webservice.aspx"

    def __post_init__(self) -> None:
        super().__init__(latency=self.latency_s)

    def handle(self, request: Request) -> Reply:
        if request.method != "POST":
            return Reply(status=405)
        if not request.headers.get("Content-Type", "").startswith("text/xml"):
            self.violation(f"Content-Type is {request.headers.get('Content-Type')!r}, not text/xml")
        try:
            root = etree.fromstring(
                request.body, etree.XMLParser(resolve_entities=False, no_network=True)
            )
        except etree.XMLSyntaxError as exc:
            return self._bad(f"request is not XML: {exc}")
        if root.tag != "SmsServices" or [c.tag for c in root] != ["DataHeader", "DataArray"]:
            return self._bad(f"expected <SmsServices><DataHeader/><DataArray/>, got <{root.tag}>")
        header, data_array = root
        if [c.tag for c in header] != ["DataType", "UserName", "Password"]:
            return self._bad(f"<DataHeader> holds {[c.tag for c in header]}")
        if (header.findtext("UserName"), header.findtext("Password")) != (
            self.username,
            self.password,
        ):
            return Reply(status=403, body=b"", content_type="text/plain")
        data_type = header.findtext("DataType")
        if data_type == "SMS":
            return self._answer_send(data_array)
        if data_type == "SMS-Status":
            return self._answer_states(data_array)
        return self._bad(f"unknown DataType {data_type!r}")

    def _answer_send(self, data_array: etree._Element) -> Reply:
        items: list[SentItem] = []
        for template in data_array:
            if template.tag != "DataTemplate" or len(template) == 0:
                return self._bad(
                    f"<DataArray> of an SMS request must hold <DataTemplate>s, got <{template.tag}>"
                )
            for item in template:
                if item.tag != "DataItem" or [c.tag for c in item] != [
                    "MobileTerminate",
                    "Text",
                    "SmsId",
                ]:
                    return self._bad(
                        f"<DataItem> must hold MobileTerminate, Text, SmsId; got <{item.tag}>"
                    )
                recipient, text, sms_id = (c.text or "" for c in item)
                if not re.fullmatch(r"\+?\d{6,15}", recipient) or not text.strip() or not sms_id:
                    return self._bad(
                        f"<DataItem> with a bad recipient, empty text or empty SmsId ({sms_id!r})"
                    )
                items.append(SentItem(sms_id, recipient, text))
        ids = [i.sms_id for i in items]
        if not ids or len(set(ids)) != len(ids):
            return self._bad("an SMS request needs at least one item and unique SmsIds")
        self.sent.extend(items)
        return self._statuses_reply(
            [(i, self.send_statuses.get(i, self.default_send_status)) for i in ids]
        )

    def _answer_states(self, data_array: etree._Element) -> Reply:
        if len(data_array) == 0 or any(c.tag != "SmsId" or not c.text for c in data_array):
            return self._bad("<DataArray> of an SMS-Status request must hold non-empty <SmsId>s")
        ids = [c.text or "" for c in data_array]
        with self._lock:
            self.state_requests.append(ids)
        return self._statuses_reply(
            [(i, self.state_statuses.get(i, self.default_state_status)) for i in ids]
        )

    def _statuses_reply(self, statuses: list[tuple[str, int | str]]) -> Reply:
        return Reply(body=self.statuses_body({i: s for i, s in statuses if i not in self.omit}))

    @staticmethod
    def statuses_body(statuses: dict[str, int | str]) -> bytes:
        """A raw answer body with these per-message statuses (for queued replies)."""
        items = "".join(
            f"<DataItem><SmsId>{escape(i)}</SmsId><Status>{escape(str(s))}</Status></DataItem>"
            for i, s in statuses.items()
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            f"<SmsServices><DataArray>{items}</DataArray></SmsServices>"
        ).encode()

    def _bad(self, problem: str) -> Reply:
        self.violation(problem)
        return Reply(status=400, body=problem.encode(), content_type="text/plain")
