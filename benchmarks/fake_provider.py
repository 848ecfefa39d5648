#!/usr/bin/env python3
"""Fake SMS provider used by the pymess benchmarks.

Standard library only, so the same file works from the baseline virtualenv
(Python 3.12 + old Django) and from the new implementation (Python 3.11+).

Endpoints
---------
``POST /send``
    Body is one JSON object ``{"id": ..., "to": ..., "text": ...}`` or a JSON
    list of such objects.  The handler sleeps ``latency`` seconds (simulating
    a slow remote API), records every id and answers
    ``200 {"ids": [...], "status": "accepted"}``.
``GET /stats``
    ``{"requests", "messages", "unique_messages", "duplicates",
    "max_in_flight", "in_flight", "errors"}``.
``POST /reset``
    Clears all counters and recorded ids.

Run as a process::

    python benchmarks/fake_provider.py --port 0 --latency 0.05 --port-file /tmp/port

or embed it in a test::

    provider = FakeProvider(latency=0.05).start()
    ... provider.url ...
    provider.stop()

The server binds to 127.0.0.1 by default and stops cleanly on SIGTERM/SIGINT.
"""

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY_BYTES = 10 * 1024 * 1024


class ProviderState:
    """Thread-safe counters shared by all request handler threads."""

    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self):
        with self._lock:
            self.requests = 0
            self.errors = 0
            self.in_flight = 0
            self.max_in_flight = 0
            self.id_counts = Counter()
            self.messages = 0

    def enter(self):
        with self._lock:
            self.requests += 1
            self.in_flight += 1
            if self.in_flight > self.max_in_flight:
                self.max_in_flight = self.in_flight

    def leave(self):
        with self._lock:
            self.in_flight -= 1

    def record(self, ids):
        with self._lock:
            self.messages += len(ids)
            self.id_counts.update(ids)

    def error(self):
        with self._lock:
            self.errors += 1

    def snapshot(self):
        with self._lock:
            unique = len(self.id_counts)
            return {
                "requests": self.requests,
                "messages": self.messages,
                "unique_messages": unique,
                "duplicates": self.messages - unique,
                "duplicated_ids": sum(1 for count in self.id_counts.values() if count > 1),
                "max_in_flight": self.max_in_flight,
                "in_flight": self.in_flight,
                "errors": self.errors,
            }


class ProviderHandler(BaseHTTPRequestHandler):
    # HTTP/1.1 so clients may keep connections alive; every response sets Content-Length.
    protocol_version = "HTTP/1.1"
    server_version = "FakeSMSProvider/1.0"
    # Buffer headers + body into one write (flushed by handle_one_request) and set TCP_NODELAY:
    # separate small writes would hit the Nagle / delayed-ACK stall (~40 ms per request).
    wbufsize = -1
    disable_nagle_algorithm = True

    def log_message(self, format, *args):
        if self.server.verbose:
            sys.stderr.write(f"fake_provider: {self.address_string()} - {format % args}\n")

    def _reply(self, status, payload):
        body = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > MAX_BODY_BYTES:
            raise ValueError("bad Content-Length")
        return self.rfile.read(length) if length else b""

    @staticmethod
    def _parse_messages(raw):
        data = json.loads(raw.decode("utf-8"))
        items = data if isinstance(data, list) else [data]
        if not items:
            raise ValueError("empty message list")
        ids = []
        for item in items:
            if not isinstance(item, dict) or "id" not in item:
                raise ValueError('every message needs an "id"')
            ids.append(str(item["id"]))
        return ids

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/stats":
            self._reply(200, self.server.state.snapshot())
        elif path == "/health":
            self._reply(200, {"status": "ok"})
        else:
            self._reply(404, {"error": "not found"})

    def do_POST(self):
        path = self.path.split("?", 1)[0]
        state = self.server.state
        try:
            raw = self._read_body()
        except (ValueError, OSError) as ex:
            state.error()
            self.close_connection = True
            self._reply(400, {"error": str(ex)})
            return

        if path == "/reset":
            state.reset()
            self._reply(200, {"status": "reset"})
            return
        if path != "/send":
            self._reply(404, {"error": "not found"})
            return

        state.enter()
        try:
            try:
                ids = self._parse_messages(raw)
            except (ValueError, UnicodeDecodeError) as ex:
                state.error()
                self._reply(400, {"error": str(ex)})
                return
            if self.server.latency > 0:
                time.sleep(self.server.latency)
            state.record(ids)
            self._reply(200, {"ids": ids, "status": "accepted"})
        finally:
            state.leave()


class ProviderServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address, latency=0.0, verbose=False):
        super().__init__(address, ProviderHandler)
        self.latency = latency
        self.verbose = verbose
        self.state = ProviderState()


class FakeProvider:
    """Run the fake provider on a background thread (for in-process use)."""

    def __init__(self, host="127.0.0.1", port=0, latency=0.0, verbose=False):
        self.server = ProviderServer((host, port), latency=latency, verbose=verbose)
        self._thread = None

    @property
    def port(self):
        return self.server.server_address[1]

    @property
    def url(self):
        return "http://%s:%d" % (self.server.server_address[0], self.port)

    def stats(self):
        return self.server.state.snapshot()

    def reset(self):
        self.server.state.reset()

    def start(self):
        self._thread = threading.Thread(
            target=self.server.serve_forever, name="fake-provider", daemon=True
        )
        self._thread.start()
        return self

    def stop(self):
        if self._thread is not None:
            self.server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


def _write_port_file(path, port):
    tmp_path = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp_path, "w") as handle:
        handle.write("%d\n" % port)
    os.replace(tmp_path, path)  # atomic: readers never see a half-written file


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Fake SMS provider for benchmarks (listens on loopback only)."
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port, 0 = pick a free one (default)")
    parser.add_argument(
        "--latency", type=float, default=0.05, help="seconds to sleep per /send request"
    )
    parser.add_argument("--port-file", help="write the chosen port to this file once listening")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)

    provider = FakeProvider(
        host=args.host, port=args.port, latency=args.latency, verbose=args.verbose
    )
    stop_event = threading.Event()

    def _on_signal(signum, frame):
        stop_event.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)

    provider.start()
    if args.port_file:
        _write_port_file(args.port_file, provider.port)
    sys.stderr.write(f"fake_provider: listening on {provider.url} (latency {args.latency:.3f}s)\n")
    sys.stderr.flush()

    while not stop_event.wait(0.5):
        pass

    provider.stop()
    sys.stderr.write(f"fake_provider: stopped, stats {json.dumps(provider.stats())}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
