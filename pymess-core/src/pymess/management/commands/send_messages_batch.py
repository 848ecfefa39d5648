"""``manage.py send_messages_batch --type=sms``: send waiting messages.

Safe to run from cron on many machines at once: every worker claims its own
rows. ``--loop`` keeps it running as a service; SIGTERM or SIGINT (Ctrl-C)
stop it gracefully - calls already made finish and are recorded, claimed
messages not yet started go back to the queue. A second signal stops at once
(lease recovery then takes care of the rows).
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pymess.management.commands._options import add_type_argument, check_type


class Command(BaseCommand):
    help = "Send messages waiting in the outbox (claiming them, so several workers can run)."

    def add_arguments(self, parser: CommandParser) -> None:
        add_type_argument(parser)
        parser.add_argument("--limit", type=int, default=None, help="Process at most N messages.")
        parser.add_argument(
            "--backend", dest="alias", default=None, help="Only this backend alias."
        )
        parser.add_argument(
            "--loop",
            action="store_true",
            help="Keep polling for new messages until SIGTERM/SIGINT "
            "(PYMESS_SMS_BATCH_POLL_INTERVAL seconds between polls when idle).",
        )
        parser.add_argument(
            "--no-progress",
            action="store_true",
            help="Never draw a progress bar, even on a terminal.",
        )

    def handle(
        self,
        *args: Any,
        message_type: str,
        limit: int | None,
        alias: str | None,
        loop: bool,
        no_progress: bool,
        **options: Any,
    ) -> None:
        check_type(message_type)
        if limit is not None and limit < 1:
            raise CommandError("--limit must be a positive number of messages.")
        if alias is not None:
            from pymess import config

            aliases = config.sms_backends()
            if alias not in aliases:
                raise CommandError(
                    f"Unknown backend alias {alias!r}; PYMESS_SMS_BACKENDS defines: "
                    f"{', '.join(sorted(aliases))}."
                )
        from pymess.outbox import count_claimable, send_waiting

        verbosity = options["verbosity"]
        stream: TextIO = getattr(self.stdout, "_out", sys.stdout)
        bar = None
        if verbosity >= 1 and not no_progress and stream.isatty():
            total = None if loop else count_claimable(alias=alias)
            if total is not None and limit is not None:
                total = min(total, limit)
            bar = ProgressBar(stream, total)

        stop = threading.Event()
        with _graceful_stop(stop):
            result = send_waiting(
                limit=limit,
                alias=alias,
                loop=loop,
                progress=bar.update if bar else None,
                stop=stop,
            )
        if bar is not None:
            bar.finish(result)
        if verbosity >= 1:
            self.stdout.write(result.summary())


@contextmanager
def _graceful_stop(stop: threading.Event) -> Iterator[None]:
    """SIGTERM/SIGINT set ``stop``; a second one restores the default and re-raises it."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signals can only be handled on the main thread (e.g. call_command in a thread)
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

    def handler(signum: int, frame: Any) -> None:
        if stop.is_set():
            signal.signal(signum, previous[signal.Signals(signum)])
            signal.raise_signal(signum)
            return
        stop.set()

    for sig in previous:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


class ProgressBar:
    """A one-line bar redrawn in place on a terminal (at most ten times a second)."""

    width = 30

    def __init__(self, stream: TextIO, total: int | None) -> None:
        self.stream = stream
        self.total = total
        self.started = time.monotonic()
        self.last_draw = 0.0

    def update(self, result: Any, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last_draw < 0.1:
            return
        self.last_draw = now
        done = result.processed
        elapsed = now - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        if self.total:
            filled = min(self.width, self.width * done // self.total)
            head = f"[{'#' * filled}{'.' * (self.width - filled)}] {done}/{self.total}"
        else:
            head = f"{done} processed"
        line = (
            f"{head}  sent {result.sent} failed {result.failed} retried {result.retried}  "
            f"{rate:.0f} msg/s  {elapsed:.1f}s"
        )
        self.stream.write(f"\r{line}\x1b[K")
        self.stream.flush()

    def finish(self, result: Any) -> None:
        self.update(result, force=True)
        self.stream.write("\n")
        self.stream.flush()
