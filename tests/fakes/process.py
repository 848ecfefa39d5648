"""Run a provider fake in its own process, so a benchmark's client and fake don't share the GIL.

::

    with ProcessFake("ats", latency=0.05) as fake:
        ...  # point the backend's URL at fake.url
        print(fake.stats())  # {"request_count": ..., "max_in_flight": ...}

Or from a shell: ``python -m tests.fakes.process ats --latency 0.05`` prints the URL
and serves until its stdin closes (or ``--max-seconds`` pass).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from typing import Any

from tests.fakes.threaded_http import STATS_PATH

ROOT = Path(__file__).resolve().parents[2]


def _make(kind: str, latency: float) -> Any:
    if kind == "ats":
        from tests.fakes.ats import ATSFake

        return ATSFake(latency_s=latency)
    if kind == "sms_operator":
        from tests.fakes.sms_operator import SMSOperatorFake

        return SMSOperatorFake(latency_s=latency)
    raise SystemExit(f"unknown fake {kind!r}: use ats or sms_operator")


class ProcessFake:
    """A fake in a child process; credentials are the fake's defaults (see its class)."""

    def __init__(self, kind: str, *, latency: float = 0.0, max_seconds: float = 600) -> None:
        self.args = [
            sys.executable, "-m", "tests.fakes.process", kind,
            "--latency", str(latency), "--max-seconds", str(max_seconds),
        ]  # fmt: skip
        self.process: subprocess.Popen[str] | None = None
        self.url = ""

    def __enter__(self) -> ProcessFake:
        self.process = subprocess.Popen(
            self.args, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()
        if not self.url.startswith("http://127.0.0.1:"):
            self.__exit__()
            raise RuntimeError("the fake did not start")
        return self

    def stats(self) -> dict[str, int]:
        base = self.url.split("/", 3)[:3]
        with urllib.request.urlopen("/".join(base) + STATS_PATH, timeout=5) as response:
            return dict(json.load(response))

    def __exit__(self, *exc_info: object) -> None:
        if self.process is not None:
            if self.process.stdin:
                self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["ats", "sms_operator"])
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--max-seconds", type=float, default=600)
    args = parser.parse_args()
    fake = _make(args.kind, args.latency)
    with fake:
        print(fake.url, flush=True)
        done = threading.Event()
        threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
        done.wait(args.max_seconds)


if __name__ == "__main__":
    main()
