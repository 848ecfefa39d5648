"""``manage.py send_messages_batch --type=sms``: send waiting messages."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from pymess.management.commands._options import add_type_argument, check_type


class Command(BaseCommand):
    help = "Send messages waiting in the outbox (claiming them, so several workers can run)."

    def add_arguments(self, parser: CommandParser) -> None:
        add_type_argument(parser)
        parser.add_argument("--limit", type=int, default=None, help="Process at most N messages.")
        parser.add_argument("--backend", dest="alias", default=None, help="Only this backend alias.")

    def handle(self, *args: Any, message_type: str, limit: int | None, alias: str | None, **options: Any) -> None:
        check_type(message_type)
        from pymess.outbox import send_waiting

        result = send_waiting(limit=limit, alias=alias)
        if options["verbosity"] >= 1:
            self.stdout.write(
                f"sent {result.sent} / failed {result.failed} / retried {result.retried} / "
                f"recovered {result.recovered} / unknown {result.unknown} / "
                f"elapsed {result.elapsed:.1f}s"
            )
