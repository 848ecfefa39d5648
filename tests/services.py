"""Local services some tests need (PostgreSQL, Redis, RabbitMQ, Chromium).

``require("redis")`` skips the test when the service is missing on a developer
machine, and FAILS it under CI (``CI`` set), where .ci/run starts every service:
a missing service must never pass as a skipped test in CI.
"""

from __future__ import annotations

import os
import shutil
import socket

import pytest

_PORTS = {"postgres": 5432, "redis": 6379, "rabbitmq": 5672}


def available(service: str) -> bool:
    if service == "chromium":
        return shutil.which("chromium") is not None or os.path.exists("/usr/bin/chromium")
    try:
        with socket.create_connection(("127.0.0.1", _PORTS[service]), timeout=1):
            return True
    except OSError:
        return False


def require(service: str) -> None:
    if available(service):
        return
    if os.environ.get("CI"):
        pytest.fail(f"{service} is required under CI but is not available", pytrace=False)
    pytest.skip(f"{service} is not available on this machine")


def on_postgres() -> bool:
    return os.environ.get("PYMESS_TEST_DB") == "postgres"
