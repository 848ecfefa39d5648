"""The shared HTTP base and hardened XML parser in core (pymess.backend.sms.http / .xml)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from email.utils import format_datetime
from pathlib import Path

import pytest
from django.utils import timezone

from pymess.backend.sms.base import parse_retry_after
from pymess.backend.sms.xml import MAX_RESPONSE_BYTES, UnreadableResponse, parse_response
from tests.fakes import hostile


def test_plain_answer_parses():
    root = parse_response(b'<?xml version="1.0"?><messages><code uniq="a-1">0</code></messages>')
    assert [(c.get("uniq"), c.text) for c in root.iter("code")] == [("a-1", "0")]


@pytest.mark.parametrize(
    "body",
    [
        b'<!DOCTYPE messages><messages><code uniq="a-1">0</code></messages>',
        hostile.xxe("messages", '<code uniq="a-1">&x;</code>'),
        hostile.xxe("messages", "<code>&x;</code>", "http://127.0.0.1:9/evil.dtd"),
        hostile.billion_laughs("messages", "<code>&lol9;</code>"),
        hostile.billion_laughs("messages", "<code>&lol9;</code>").decode().encode("utf-16"),
    ],
    ids=["doctype", "xxe-file", "xxe-network", "billion-laughs", "billion-laughs-utf16"],
)
def test_documents_with_a_dtd_are_refused_fast(body):
    started = time.monotonic()
    with pytest.raises(UnreadableResponse) as info:
        parse_response(body, provider="ATS")
    assert time.monotonic() - started < 1
    assert str(info.value).startswith("ATS answered")
    assert "root:" not in str(info.value)


@pytest.mark.parametrize("body", [b"", b"   ", hostile.MALFORMED, b"not xml at all", b"\x00\x01"])
def test_broken_bodies_raise_a_clear_error(body):
    with pytest.raises(UnreadableResponse, match="The provider answered"):
        parse_response(body)


def test_size_cap():
    body = b"<messages>" + b" " * MAX_RESPONSE_BYTES + b"</messages>"
    with pytest.raises(UnreadableResponse, match="more than"):
        parse_response(body)


def test_retry_after_seconds_and_http_date():
    assert parse_retry_after("120") == 120
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-3") == 0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    when = timezone.now() + timezone.timedelta(seconds=300)
    assert 295 <= parse_retry_after(format_datetime(when, usegmt=True)) <= 301


def test_core_imports_the_http_and_xml_modules_without_requests_or_lxml():
    code = (
        "import sys; sys.modules['requests'] = None; sys.modules['lxml'] = None; "
        "import django; django.setup(); "
        "import pymess.backend.sms.http, pymess.backend.sms.xml; print('ok')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
        cwd=Path(__file__).resolve().parents[3],
    )
    assert result.stdout.strip() == "ok", result.stderr
