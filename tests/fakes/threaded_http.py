"""A threaded fake HTTP server on 127.0.0.1 (port 0), reusable by every provider fake.

Unlike a one-request-at-a-time test server it answers requests concurrently, can
add latency, and counts requests in flight, so a benchmark can show that a
backend's calls really overlapped. Subclasses implement :meth:`ThreadedFakeServer.handle`.

Tests steer it with :meth:`ThreadedFakeServer.queue` (one-shot replies, e.g. an
HTTP 500 or a hostile body) or :attr:`ThreadedFakeServer.override` (every reply).
A ``delay`` longer than the client's timeout simulates a hanging provider; the
sleep ends as soon as the server stops, so nothing outlives a test.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: GET this path for the fake's counters as JSON.
STATS_PATH = "/_fake/stats"


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    #: Seconds to wait before answering (longer than the client timeout = a hang).
    delay: float = 0.0
    content_type: str = "text/xml; charset=utf-8"
    #: Close the connection without answering (a transport error on the client side).
    drop: bool = False


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up (timeout and drop tests) is expected, not news


class ThreadedFakeServer:
    """Start with ``with FakeSubclass() as fake:``; ``fake.url`` is the endpoint."""

    path = "/"

    def __init__(self, *, latency: float = 0.0) -> None:
        #: Seconds added to every answer (the provider's own processing time).
        self.latency = latency
        #: Used for every answer while set (after queued replies).
        self.override: Reply | None = None
        self.requests: list[Request] = []
        #: Protocol violations found in what clients sent; tests assert it stays empty.
        self.violations: list[str] = []
        self.request_count = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self._queued: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> ThreadedFakeServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                fake._serve(self)

            def do_GET(self) -> None:
                fake._serve(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the fake first"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    # -- steering ------------------------------------------------------------------------------

    def queue(self, reply: Reply, times: int = 1) -> None:
        """Answer the next ``times`` requests with ``reply`` (before the protocol logic)."""
        with self._lock:
            self._queued.extend([reply] * times)

    def reset_counters(self) -> None:
        with self._lock:
            self.request_count = 0
            self.max_in_flight = 0
            self.requests.clear()

    def violation(self, text: str) -> None:
        with self._lock:
            self.violations.append(text)

    # -- serving -------------------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        raise NotImplementedError

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {
                "request_count": self.request_count,
                "in_flight": self.in_flight,
                "max_in_flight": self.max_in_flight,
                "violations": len(self.violations),
            }

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        if handler.command == "GET" and handler.path == STATS_PATH:
            # Counters for a fake running in another process (tests/fakes/process.py).
            body = json.dumps(self.stats()).encode()
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
            return
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        request = Request(handler.command, handler.path, dict(handler.headers.items()), body)
        with self._lock:
            self.request_count += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.requests.append(request)
            reply = self._queued.popleft() if self._queued else self.override
        try:
            if reply is None:
                reply = self.handle(request)
            wait = self.latency + reply.delay
            if wait:
                self._stopping.wait(wait)
            if reply.drop:
                handler.close_connection = True
                handler.connection.shutdown(socket.SHUT_RDWR)
                return
            handler.send_response(reply.status)
            handler.send_header("Content-Type", reply.content_type)
            handler.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(reply.body)
        except OSError:
            pass  # the client gave up (timeout test): nothing to answer
        finally:
            with self._lock:
                self.in_flight -= 1


def wait_until(predicate: Any, timeout: float = 5.0) -> bool:
    """Poll ``predicate`` until true or ``timeout`` seconds passed (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return bool(predicate())


def closed_port_url(path: str = "") -> str:
    """A URL on 127.0.0.1 where nothing listens, so connecting is refused.

    The port was free a moment ago; on a busy machine another process could take
    it, which would turn the refused connection into some other failure.
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"
