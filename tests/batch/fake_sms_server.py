"""A fake SMS provider in its own process that logs every request (for the batch tests).

``POST /send`` takes ``{"id", "to", "text"}``. The text picks the answer, so
one run can mix faults: ``fail:500``, ``fail:400`` (permanent), ``fail:429:<s>``
(Retry-After), ``fail:hang`` (never answers in time); anything else is accepted
after ``--latency`` seconds. ``GET /log`` returns every request as
``[id, status]`` pairs, in arrival order.

Run: ``python -m tests.batch.fake_sms_server --port-file PATH [--latency S]``.
It binds 127.0.0.1 on a free port, writes the port to ``--port-file`` and
exits on SIGTERM (or after ``--max-seconds``).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = -1
    disable_nagle_algorithm = True

    def log_message(self, format, *args):
        pass

    def _reply(self, status: int, payload: object, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        with self.server.lock:
            log = list(self.server.log)
        self._reply(200, log)

    def do_POST(self) -> None:
        expected = int(self.headers.get("Content-Length") or 0)
        try:
            raw = self.rfile.read(expected)
        except OSError:
            raw = b""
        if len(raw) < expected or not expected:
            # The client died mid-request (a SIGKILLed worker): like a real provider,
            # accept nothing from a truncated request.
            self.close_connection = True
            return
        body = json.loads(raw)
        text = str(body.get("text", ""))
        ident = str(body.get("id", ""))
        status, headers = 200, {}
        if text.startswith("fail:500"):
            status = 500
        elif text.startswith("fail:400"):
            status = 400
        elif text.startswith("fail:429"):
            status, headers = 429, {"Retry-After": text.split(":")[2]}
        elif text.startswith("fail:hang"):
            time.sleep(self.server.hang)
        if self.server.latency:
            time.sleep(self.server.latency)
        with self.server.lock:
            self.server.log.append([ident, status])
        self._reply(
            status, {"id": ident} if status == 200 else {"error": f"fake {status}"}, headers
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--hang", type=float, default=3.0)
    parser.add_argument("--max-seconds", type=float, default=300.0)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.request_queue_size = 256
    server.latency, server.hang = args.latency, args.hang
    server.log, server.lock = [], threading.Lock()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    tmp = f"{args.port_file}.tmp"
    with open(tmp, "w") as handle:
        handle.write(str(server.server_address[1]))
    os.replace(tmp, args.port_file)
    stop.wait(args.max_seconds)
    server.shutdown()


if __name__ == "__main__":
    main()
